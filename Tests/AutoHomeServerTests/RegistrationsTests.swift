#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import AutoHome
@testable import AutoHomeServer
import AutoHomeStore
@testable import AutoHomeSupport

/// Registrations persist (only as hash + seal), cannot be taken over, rotate,
/// and pass to admin when their owner's token goes.
final class RegistrationsTests: XCTestCase {
    private func tempDir() throws -> String { try Files.makeTemporaryDirectory(prefix: "ah-auth") }

    func testRegistrationsPersistAndRefuseTakeover() throws {
        let dir = try tempDir()
        defer { _ = system("rm -rf '\(dir)'") }
        let seal = RegistrationSeal(key: Crypto.randomHex(bytes: 32))
        let a = TokenInfo(hash: Crypto.sha256Hex("a"), scope: .device, created: 0)
        let b = TokenInfo(hash: Crypto.sha256Hex("b"), scope: .device, created: 0)
        let admin = TokenInfo(hash: Crypto.sha256Hex("admin"), scope: .admin, created: 0)
        let db = try SQLiteStore(dataDir: dir)
        let regs = try Registrations(storage: db, seal: seal)
        let def = try DeviceDefinition.decode(JSON.parse(#"{"id": "d1", "properties": [{"name": "on", "type": "switch", "value": "open"}]}"#))
        var applied = 0
        guard case .created(let id) = try regs.register(def, token: a, apply: { _ in applied += 1 }) else { return XCTFail() }
        XCTAssertEqual(id.utf8.count, 32)
        XCTAssertEqual(try regs.register(def, token: a, apply: { _ in applied += 1 }), .updated(id))
        XCTAssertEqual(try regs.register(def, token: b, apply: { _ in applied += 1 }), .conflict)
        XCTAssertEqual(try regs.register(def, token: admin, apply: { _ in applied += 1 }), .conflict)
        XCTAssertEqual(applied, 2)
        db.close()
        // the store keeps only the hash of the id, never the id
        XCTAssertNil(try Files.read(dir + "/" + SQLiteStore.fileName).firstRange(of: Array(id.utf8)))
        let db2 = try SQLiteStore(dataDir: dir)
        defer { db2.close() }
        let reloaded = try Registrations(storage: db2, seal: seal)
        XCTAssertEqual(reloaded.lookup(id)?.device, "d1")
        XCTAssertEqual(reloaded.storedDevices, [def])
        XCTAssertEqual(reloaded.storedDevices[0].properties[0].initial, .flag(true, label: "open"))
        // same token after a restart: the same id back
        XCTAssertEqual(try reloaded.register(def, token: a, apply: { _ in }), .updated(id))
        // rotation: a new id, the old one stops at once; another device token may not
        XCTAssertEqual(try reloaded.rotate(device: "d1", token: b), .forbidden)
        guard case .done(let fresh) = try reloaded.rotate(device: "d1", token: a) else { return XCTFail() }
        XCTAssertNil(reloaded.lookup(id))
        XCTAssertEqual(reloaded.lookup(fresh)?.device, "d1")
        // the owner's token deleted: admin owns it and may update it
        try reloaded.adopt(owner: a.hash)
        XCTAssertEqual(try reloaded.register(def, token: a, apply: { _ in }), .conflict)
        XCTAssertEqual(try reloaded.register(def, token: admin, apply: { _ in }), .updated(fresh))
        // a stored owner that is no longer a token is admin's at load
        let db3 = try SQLiteStore(dataDir: Files.makeTemporaryDirectory(prefix: "ah-auth"))
        defer { db3.close() }
        let r3 = try Registrations(storage: db3, seal: seal)
        _ = try r3.register(def, token: b, apply: { _ in })
        let again = try Registrations(storage: db3, seal: seal, knownOwner: { _ in false })
        XCTAssertEqual(again.registration(ofDevice: "d1")?.owner, Registrations.adminOwner)
    }
}
