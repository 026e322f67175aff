import XCTest
@testable import AutoHome
@testable import AutoHomeServer
import AutoHomeStore
@testable import AutoHomeSupport

/// Registrations persist and cannot be taken over by another token.
final class RegistrationsTests: XCTestCase {
    private func tempDir() throws -> String { try Files.makeTemporaryDirectory(prefix: "ah-auth") }

    func testRegistrationsPersistAndRefuseTakeover() throws {
        let dir = try tempDir()
        defer { _ = system("rm -rf '\(dir)'") }
        let regs = try Registrations(storage: JSONFileStore(dataDir: dir))
        let def = try DeviceDefinition.decode(JSON.parse(#"{"id": "d1", "properties": [{"name": "on", "type": "switch", "value": "open"}]}"#))
        var applied = 0
        guard case .created(let r) = try regs.register(def, owner: "a", apply: { _ in applied += 1 }) else { return XCTFail() }
        XCTAssertEqual(r.id.utf8.count, 32)
        XCTAssertEqual(try regs.register(def, owner: "a", apply: { _ in applied += 1 }), .updated(r))
        XCTAssertEqual(try regs.register(def, owner: "b", apply: { _ in applied += 1 }), .conflict)
        XCTAssertEqual(applied, 2)
        let reloaded = try Registrations(storage: JSONFileStore(dataDir: dir))
        XCTAssertEqual(reloaded.lookup(r.id), r)
        XCTAssertEqual(reloaded.storedDevices, [def])
        XCTAssertEqual(reloaded.storedDevices[0].properties[0].initial, .flag(true, label: "open"))
    }
}
