#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import AutoHome
@testable import AutoHomeServer
import AutoHomeStore
@testable import AutoHomeSupport

/// Tokens: the admin token once, only hashes kept, scopes, revoking (SPEC §5 Tokens).
final class TokenStoreTests: XCTestCase {
    private func tempDir() throws -> String { try Files.makeTemporaryDirectory(prefix: "ah-auth") }

    /// A fresh SQLite store in a temp folder (closed and removed at the end).
    private func store() throws -> SQLiteStore {
        let dir = try tempDir()
        let s = try SQLiteStore(dataDir: dir)
        addTeardownBlock { s.close(); _ = system("rm -rf '\(dir)'") }
        return s
    }

    func testAdminTokenCreatedOnceKeptAsHash() throws {
        let dir = try tempDir()
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
}
