import XCTest
@testable import AutoHome
@testable import AutoHomeStore
@testable import AutoHomeSupport

/// The first release's JSON files as the import source: what they hold comes
/// back as records, a damaged file is an error that names it (never silently
/// an empty set), and imported files are kept as `*.imported`.
final class JSONFileStoreTests: XCTestCase {
    private func write(_ dir: String, _ name: String, _ text: String) throws {
        try Files.writeAtomically(dir + "/" + name, Array(text.utf8))
    }

    func testTheFirstReleasesFilesReadBackAsRecords() throws {
        let dir = try Files.makeTemporaryDirectory(prefix: "ah-jsonstore")
        let hash = String(repeating: "b", count: 64)
        try write(dir, "tokens.json", #"{"tokens": [{"hash": "\#(hash)", "scope": "read", "created": 2}]}"#)
        try write(dir, "devices.json", #"{"devices": [{"id": "lamp", "name": "Lamp", "properties": [{"name": "on", "type": "switch"}]}]}"#)
        try write(dir, "registrations.json", #"{"registrations": [{"registration": "r1", "device": "lamp", "owner": "o"}, {"registration": "r2", "device": "gone", "owner": "o"}]}"#)
        try write(dir, "groups.json", #"{"groups": [{"id": "g", "devices": ["lamp"]}]}"#)
        let files = JSONFileStore(dataDir: dir)
        XCTAssertEqual(Set(files.presentFiles), Set(JSONFileStore.fileNames))
        let r = try files.read()
        XCTAssertEqual(r.tokens, [StoredToken(hash: hash, scope: "read", created: 2)])
        // a registration without its definition is of no use: not imported
        XCTAssertEqual(r.registrations.map(\.id), ["r1"])
        XCTAssertEqual(r.registrations.first?.definition.id, "lamp")
        XCTAssertEqual(r.groups?.map(\.id), ["g"])
        try files.markImported()
        XCTAssertEqual(files.presentFiles, [])
        XCTAssertTrue(Files.exists(dir + "/tokens.json.imported"))
    }

    func testNoGroupFileMeansTheConfigsGroups() throws {
        XCTAssertNil(try JSONFileStore(dataDir: try Files.makeTemporaryDirectory(prefix: "ah-jsonstore")).read().groups)
    }

    func testADamagedFileIsAnErrorNamingIt() throws {
        let dir = try Files.makeTemporaryDirectory(prefix: "ah-jsonstore")
        try write(dir, "groups.json", #"{"groups": [{"id": "g", "dev"#)
        XCTAssertThrowsError(try JSONFileStore(dataDir: dir).read()) { e in
            XCTAssertTrue("\(e)".contains("groups.json"), "\(e)")
        }
    }
}
