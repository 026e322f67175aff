#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// The first release's JSON files in `dataDir` (tokens, registrations with
/// their device definitions, API-made groups), now only the source of a
/// one-time import into the SQLite store (SPEC §6): `read` takes everything or
/// fails naming the file (a half-written file stops the start-up; it is never
/// skipped), and `markImported` renames the files to `*.imported` once the
/// store has committed them.
public struct JSONFileStore: Sendable {
    public let dataDir: String
    public static let fileNames = ["tokens.json", "registrations.json", "devices.json", "groups.json"]

    public init(dataDir: String) { self.dataDir = dataDir }

    /// What the files held. Registration ids are as the first release kept
    /// them (plain); the importer hashes and seals them.
    public struct Records: Sendable {
        public var tokens: [StoredToken] = []
        public var registrations: [(id: String, device: String, owner: String, definition: DeviceDefinition)] = []
        public var groups: [GroupDefinition]?
    }

    /// The files present (not yet imported).
    public var presentFiles: [String] { JSONFileStore.fileNames.filter { Files.exists(dataDir + "/" + $0) } }

    public func read() throws(StorageError) -> Records {
        var r = Records()
        let tokens = dataDir + "/tokens.json"
        if Files.exists(tokens) { r.tokens = try TokenFile.read(tokens) }
        r.registrations = try RegistrationFiles.read(dataDir: dataDir)
        r.groups = try GroupFile.read(dataDir + "/groups.json")
        return r
    }

    /// Renames each file to `<name>.imported` (kept for the owner, not read again).
    public func markImported() throws(StorageError) {
        for name in presentFiles {
            let from = dataDir + "/" + name
            guard rename(from, from + ".imported") == 0 else {
                throw StorageError("cannot rename \(from) to \(from).imported: \(String(cString: strerror(errno)))")
            }
        }
        Files.syncDirectory(of: dataDir + "/x")
    }
}
