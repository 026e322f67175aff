#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import AutoHome
@testable import AutoHomeServer
import AutoHomeStore
@testable import AutoHomeSupport

final class AuthTests: XCTestCase {
    private func tempDir() -> String { TestDirs.make("auth") }

    /// A fresh SQLite store in a temp folder (closed and removed at the end).
    private func store() throws -> SQLiteStore {
        let dir = tempDir()
        let s = try SQLiteStore(dataDir: dir)
        addTeardownBlock { s.close(); _ = system("rm -rf '\(dir)'") }
        return s
    }

    func testAdminTokenCreatedOnceKeptAsHash() throws {
        let dir = tempDir()
        defer { _ = system("rm -rf '\(dir)'") }
        let db = try SQLiteStore(dataDir: dir)
        let store = try TokenStore(storage: db, adminTokenPath: dir + "/admin.token")
        let token = try XCTUnwrap(try store.ensureAdminToken())
        XCTAssertEqual(token.utf8.count, 64)
        XCTAssertEqual(try Files.readText(dir + "/admin.token"), token + "\n")
        var st = stat()
        XCTAssertEqual(stat(dir + "/admin.token", &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        db.close()
        let saved = try Files.read(dir + "/" + SQLiteStore.fileName)
        XCTAssertNil(saved.firstRange(of: Array(token.utf8)))
        XCTAssertNotNil(saved.firstRange(of: Array(Crypto.sha256Hex(token).utf8)))
        // a restart loads the hash and makes no new token
        let db2 = try SQLiteStore(dataDir: dir)
        defer { db2.close() }
        let again = try TokenStore(storage: db2, adminTokenPath: dir + "/admin.token")
        XCTAssertNil(try again.ensureAdminToken())
        XCTAssertEqual(again.lookup(authorization: "Bearer " + token)?.scope, .admin)
    }

    func testScopes() throws {
        let store = try TokenStore(storage: store(), adminTokenPath: nil)
        let admin = try store.ensureAdminToken()!
        let read = try store.create(scope: .read).token
        let device = try store.create(scope: .device).token
        func status(_ tok: String?, _ access: Access) -> Int {
            do { _ = try store.authorize(tok.map { "Bearer " + $0 }, for: access); return 200 } catch { return error.status }
        }
        XCTAssertEqual(status(nil, .open), 200)
        XCTAssertEqual(status(nil, .registration), 200)
        XCTAssertEqual(status(nil, .scope(.read)), 401)
        XCTAssertEqual(status("nope", .scope(.read)), 401)
        XCTAssertEqual(status(read, .scope(.read)), 200)
        XCTAssertEqual(status(read, .scope(.admin)), 403)
        XCTAssertEqual(status(read, .scope(.device)), 403)
        XCTAssertEqual(status(device, .scope(.device)), 200)
        XCTAssertEqual(status(device, .scope(.read)), 403)
        for a in [Access.scope(.read), .scope(.device), .scope(.admin)] { XCTAssertEqual(status(admin, a), 200) }
    }

    func testBearerParsing() {
        XCTAssertEqual(TokenStore.bearerToken("Bearer abc"), "abc")
        XCTAssertEqual(TokenStore.bearerToken("bearer  abc "), "abc")
        XCTAssertNil(TokenStore.bearerToken("Basic abc"))
        XCTAssertNil(TokenStore.bearerToken("Bearer"))
        XCTAssertNil(TokenStore.bearerToken(nil))
    }

    func testRevokeKeepsLastAdmin() throws {
        let store = try TokenStore(storage: store(), adminTokenPath: nil)
        let admin = try store.ensureAdminToken()!
        let adminId = store.lookup(authorization: "Bearer " + admin)!.id
        XCTAssertEqual(try store.revoke(id: adminId), .lastAdmin)
        let read = try store.create(scope: .read)
        XCTAssertEqual(try store.revoke(id: read.info.id), .revoked)
        XCTAssertNil(store.lookup(authorization: "Bearer " + read.token))
        XCTAssertEqual(try store.revoke(id: "0123456789abcdef"), .unknown)
        XCTAssertEqual(try store.revoke(id: String(adminId.prefix(4))), .unknown)
    }

    func testRegistrationsPersistAndRefuseTakeover() throws {
        let dir = tempDir()
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
        let db3 = try SQLiteStore(dataDir: TestDirs.make("auth"))
        defer { db3.close() }
        let r3 = try Registrations(storage: db3, seal: seal)
        _ = try r3.register(def, token: b, apply: { _ in })
        let again = try Registrations(storage: db3, seal: seal, knownOwner: { _ in false })
        XCTAssertEqual(again.registration(ofDevice: "d1")?.owner, Registrations.adminOwner)
    }
}

enum TestDirs {
    static func make(_ tag: String) -> String {
        var template = Array("/tmp/ah-\(tag)-XXXXXX".utf8CString)
        return String(cString: mkdtemp(&template)!)
    }
}
