import XCTest
@testable import AutoHome
@testable import AutoHomeStore
@testable import AutoHomeSupport

/// The JSON files of the first release behind the storage protocols: what
/// is written comes back after a reopen, and a damaged file is an error that
/// names it (never silently an empty set).
final class JSONFileStoreTests: XCTestCase {
    private func tempDir() throws -> String { try Files.makeTemporaryDirectory(prefix: "ah-jsonstore") }

    func testEveryKindRoundTripsThroughTheFiles() throws {
        let dir = try tempDir()
        let s = try JSONFileStore(dataDir: dir)
        try s.insertToken(StoredToken(hash: String(repeating: "a", count: 64), scope: "admin", created: 1))
        try s.insertToken(StoredToken(hash: String(repeating: "b", count: 64), scope: "read", created: 2))
        try s.deleteToken(hash: String(repeating: "a", count: 64))
        let def = DeviceDefinition(id: "lamp", name: "Lamp", properties: [PropertyDefinition(name: "on", type: .switch)])
        try s.saveRegistration(StoredRegistration(id: "r1", device: "lamp", owner: "o"), definition: def)
        try s.saveGroups([GroupDefinition(id: "g", devices: ["lamp"])])

        let again = try JSONFileStore(dataDir: dir)
        XCTAssertEqual(try again.loadTokens().map(\.scope), ["read"])
        let regs = try again.loadRegistrations()
        XCTAssertEqual(regs.map(\.registration), [StoredRegistration(id: "r1", device: "lamp", owner: "o")])
        XCTAssertEqual(regs.first?.definition.id, "lamp")
        XCTAssertEqual(try again.loadGroups()?.map(\.id), ["g"])
        try again.deleteRegistration(device: "lamp")
        XCTAssertEqual(try JSONFileStore(dataDir: dir).loadRegistrations().count, 0)
    }

    func testNoGroupFileMeansTheConfigsGroups() throws {
        XCTAssertNil(try JSONFileStore(dataDir: try tempDir()).loadGroups())
    }

    func testADamagedFileIsAnErrorNamingIt() throws {
        let dir = try tempDir()
        try Files.writeAtomically(dir + "/groups.json", Array(#"{"groups": [{"id": "g", "dev"#.utf8))
        XCTAssertThrowsError(try JSONFileStore(dataDir: dir).loadGroups()) { e in
            XCTAssertTrue("\(e)".contains("groups.json"), "\(e)")
        }
    }
}
