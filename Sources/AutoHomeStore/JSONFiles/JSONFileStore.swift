import AutoHome
import AutoHomeSupport

/// The first release's persistence, behind the storage protocols: tokens,
/// registrations (+ their device definitions) and API-made groups as JSON
/// files in `dataDir`, each rewritten atomically (write-temp-fsync-rename) on
/// every change. Current values, pending actions and timers are not kept by
/// it: that is what the SQLite store adds.
///
/// nil `dataDir`: memory only (unit tests).
public final class JSONFileStore: TokenStorage, RegistrationStorage, GroupStorage, @unchecked Sendable {
    public let dataDir: String?
    private let lock = Lock()
    private var tokens: [StoredToken] = []
    private var registrations: [(registration: StoredRegistration, definition: DeviceDefinition)] = []
    private var tokensLoaded = false
    private var registrationsLoaded = false

    public init(dataDir: String?) throws(StorageError) {
        self.dataDir = dataDir
        if let dataDir {
            do throws(FileError) { try Files.makeDirectories(dataDir, mode: 0o750) } catch { throw StorageError(error) }
        }
    }

    private func path(_ name: String) -> String? { dataDir.map { $0 + "/" + name } }

    // MARK: tokens (tokens.json, 0600)

    public func loadTokens() throws(StorageError) -> [StoredToken] {
        lock.lock()
        defer { lock.unlock() }
        if !tokensLoaded, let p = path("tokens.json"), Files.exists(p) { tokens = try TokenFile.read(p) }
        tokensLoaded = true
        return tokens
    }

    public func insertToken(_ token: StoredToken) throws(StorageError) {
        try change { () throws(StorageError) in
            var next = tokens
            next.removeAll { $0.hash == token.hash }
            next.append(token)
            if let p = path("tokens.json") { try TokenFile.write(p, next) }
            tokens = next
        }
    }

    public func deleteToken(hash: String) throws(StorageError) {
        try change { () throws(StorageError) in
            let next = tokens.filter { $0.hash != hash }
            if let p = path("tokens.json") { try TokenFile.write(p, next) }
            tokens = next
        }
    }

    // MARK: registrations (registrations.json 0600 + devices.json)

    public func loadRegistrations() throws(StorageError) -> [(registration: StoredRegistration, definition: DeviceDefinition)] {
        lock.lock()
        defer { lock.unlock() }
        if !registrationsLoaded, let dataDir { registrations = try RegistrationFiles.read(dataDir: dataDir) }
        registrationsLoaded = true
        return registrations
    }

    public func saveRegistration(_ registration: StoredRegistration, definition: DeviceDefinition) throws(StorageError) {
        try change { () throws(StorageError) in
            var next = registrations
            if let i = next.firstIndex(where: { $0.registration.device == registration.device }) {
                next[i] = (registration, definition)
            } else {
                next.append((registration, definition))
            }
            if let dataDir { try RegistrationFiles.write(dataDir: dataDir, next) }
            registrations = next
        }
    }

    public func deleteRegistration(device: String) throws(StorageError) {
        try change { () throws(StorageError) in
            let next = registrations.filter { $0.registration.device != device }
            if let dataDir { try RegistrationFiles.write(dataDir: dataDir, next) }
            registrations = next
        }
    }

    // MARK: groups (groups.json)

    public func loadGroups() throws(StorageError) -> [GroupDefinition]? {
        guard let p = path("groups.json") else { return lock.withLock { memoryGroups } }
        return try GroupFile.read(p)
    }

    public func saveGroups(_ groups: [GroupDefinition]) throws(StorageError) {
        guard let p = path("groups.json") else { lock.withLock { memoryGroups = groups }; return }
        try GroupFile.write(p, groups)
    }

    private var memoryGroups: [GroupDefinition]?

    /// Runs a read-modify-write under the lock, after loading what it changes.
    private func change(_ body: () throws(StorageError) -> Void) throws(StorageError) {
        _ = try loadTokens()
        _ = try loadRegistrations()
        lock.lock()
        defer { lock.unlock() }
        try body()
    }
}
