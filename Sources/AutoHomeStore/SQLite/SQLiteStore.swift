#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import AutoHome
import AutoHomeSupport

/// The daemon's store (SPEC §6): `<dataDir>/auto-home.db`, SQLite in WAL mode,
/// behind every storage protocol.
///
/// Writes go to one writer thread (`StoreWriter`) that commits one transaction
/// per `flushIntervalMs` (or per `maxBatch` changes), so a burst of events costs
/// one WAL append and one sync, not one per event. Values, history, pending
/// actions and timers are handed over without waiting; tokens, registrations,
/// groups and the script generation wait for their commit, so what an API
/// client was told survives a power cut. Nothing here is read on the hot path:
/// the engine and the server keep what they serve in memory and read the store
/// only at start-up; `/v1/history` reads through a second, read-only
/// connection (WAL lets it read while the writer writes).
///
/// Both connections keep a small page cache (`cacheKiB` each) and no memory
/// map, so the store adds little to the daemon's RSS however large it grows.
public final class SQLiteStore: TokenStorage, RegistrationStorage, GroupStorage, ValueStorage, HistoryStorage,
    PendingActionStorage, TimerStorage, ScriptGenerationStorage, BackupStorage, @unchecked Sendable {
    public struct Options: Sendable {
        public var flushIntervalMs = 1000
        /// A batch commits early once it holds this many changes.
        public var maxBatch = 4000
        /// Changes waiting for the writer; a full queue makes producers wait.
        public var queueCapacity = 8192
        /// Durable history retention (0: no durable history is kept).
        public var historyDays = 30
        public var cacheKiB = 256
        public init() {}
    }

    public static let fileName = "auto-home.db"
    public let path: String
    public let options: Options
    let db: SQLiteDatabase
    /// Held by whoever uses `db`: the writer during a batch, loads at start-up.
    let dbLock = Lock()
    private let reader: SQLiteDatabase
    private let readLock = Lock()
    private var historyQuery: Statement?
    var writer: StoreWriter!
    /// What `open` did, for the start-up log.
    public private(set) var notes: [String] = []

    /// Opens (creating, checking and migrating) the store in `dataDir`. A
    /// damaged file is never opened over: `StoreDamaged` says how to recover.
    public init(dataDir: String, options: Options = Options()) throws(StorageError) {
        self.options = options
        do throws(FileError) { try Files.makeDirectories(dataDir, mode: 0o750) } catch { throw StorageError(error) }
        path = dataDir + "/" + SQLiteStore.fileName
        let existed = Files.exists(path)
        let db: SQLiteDatabase
        do throws(StorageError) {
            db = try SQLiteDatabase(path: path)
            // WAL: readers never block the writer, a crash leaves the last
            // committed batch. FULL syncs the WAL once per commit, i.e. once
            // per batch, which is what makes "at most flushIntervalMs lost" true
            // for a power cut as well as for kill -9 (NORMAL would leave the
            // syncing to the next checkpoint).
            guard try db.scalarText("PRAGMA journal_mode=WAL")?.lowercased() == "wal" else {
                throw StorageError("\(path): cannot switch to WAL mode")
            }
            try db.exec("PRAGMA synchronous=FULL; PRAGMA cache_size=-\(options.cacheKiB); PRAGMA mmap_size=0; PRAGMA temp_store=MEMORY")
            let check = try db.scalarText("PRAGMA integrity_check") ?? "no answer"
            guard check == "ok" else {
                let lines = check.split(separator: "\n")
                let shown = lines.prefix(3).joined(separator: "; ") + (lines.count > 3 ? "; … (\(lines.count) problems)" : "")
                throw StorageError("\(path): integrity check failed: \(shown)")
            }
        } catch {
            throw StoreDamaged.message(path: path, reason: error.message)
        }
        self.db = db
        let version = try Int(db.scalarInt("PRAGMA user_version") ?? 0)
        if version > Schema.version {
            throw StorageError("\(path) was written by a newer autohomed (schema \(version), this one knows \(Schema.version)); "
                               + "install that version again, or restore a backup")
        }
        if version < Schema.version {
            if existed && version > 0 {
                // A copy before each migration: a failed or regretted upgrade
                // can go back to it.
                let backup = path + ".before-v\(Schema.version)"
                if Files.exists(backup) { _ = unlink(backup) }
                try db.exec("VACUUM INTO '\(backup.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''"))'")
                notes.append("backed up \(path) to \(backup) before migrating it from schema \(version) to \(Schema.version)")
            }
            try Schema.migrate(db, from: version)
            if version > 0 { notes.append("migrated \(path) from schema \(version) to \(Schema.version)") }
        }
        reader = try SQLiteDatabase(path: path, readOnly: true)
        try reader.exec("PRAGMA cache_size=-\(options.cacheKiB); PRAGMA mmap_size=0; PRAGMA query_only=1")
        writer = try StoreWriter(store: self)
    }

    deinit { close() }

    private var closed = false

    /// Commits what is queued and ends the writer (a clean stop). Idempotent.
    public func close() {
        guard !dbLock.withLock({ let was = closed; closed = true; return was }) else { return }
        writer?.stop()
        writer = nil  // finalizes its statements, so the connection really closes
        readLock.withLock {
            historyQuery = nil
            reader.close()
        }
        dbLock.withLock {
            // Leaves a small WAL behind for the next start; TRUNCATE resets it.
            try? db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
            db.close()
        }
    }

    /// Waits until everything handed over so far is committed.
    public func flush() {
        guard let w = writer else { return }
        w.waitCommitted(w.enqueue(.barrier, wait: true))
    }

    /// Runs `body` holding the writer connection (start-up loads).
    private func withDB<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        dbLock.lock()
        defer { dbLock.unlock() }
        return try body()
    }

    private func withReader<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        readLock.lock()
        defer { readLock.unlock() }
        return try body()
    }

    // MARK: one-time import, meta

    /// True when nothing was ever stored (no import, no token): the JSON files
    /// of an earlier version may be imported.
    public var isFresh: Bool {
        dbLock.withLock {
            ((try? db.scalarInt("SELECT count(*) FROM tokens")) ?? 0) == 0
                && ((try? db.scalarInt("SELECT count(*) FROM meta WHERE key = 'imported'")) ?? 0) == 0
        }
    }

    func meta(_ key: String) throws(StorageError) -> String? {
        try db.prepare("SELECT value FROM meta WHERE key = ?").bind(key).first { $0.text(0) } ?? nil
    }

    /// Everything of an earlier version's JSON files, in one transaction.
    public func importRecords(tokens: [StoredToken], registrations: [(registration: StoredRegistration, definition: DeviceDefinition)],
                              groups: [GroupDefinition]?, source: String) throws(StorageError) {
        var changes: [StoreWriter.Change] = tokens.map { .token($0) }
        changes += registrations.map { .registration($0.registration, $0.definition) }
        if let groups { changes.append(.groups(groups)) }
        changes.append(.meta("imported", source))
        try writer.apply(changes)
    }

    // MARK: TokenStorage

    public func loadTokens() throws(StorageError) -> [StoredToken] {
        try withDB { () throws(StorageError) -> [StoredToken] in
            let s = try db.prepare("SELECT hash, scope, created FROM tokens ORDER BY created, rowid")
            var out: [StoredToken] = []
            while try s.step() { out.append(StoredToken(hash: s.text(0) ?? "", scope: s.text(1) ?? "", created: s.int(2))) }
            return out
        }
    }

    public func insertToken(_ token: StoredToken) throws(StorageError) { try writer.apply([.token(token)]) }
    public func deleteToken(hash: String) throws(StorageError) { try writer.apply([.deleteToken(hash)]) }

    // MARK: RegistrationStorage

    public func loadRegistrations() throws(StorageError) -> [(registration: StoredRegistration, definition: DeviceDefinition)] {
        try withDB { () throws(StorageError) -> [(registration: StoredRegistration, definition: DeviceDefinition)] in
            let s = try db.prepare("""
                SELECT r.id_hash, r.sealed, r.device, r.owner, d.definition FROM registrations r
                JOIN devices d ON d.id = r.device ORDER BY d.position
                """)
            var out: [(registration: StoredRegistration, definition: DeviceDefinition)] = []
            while try s.step() {
                let device = s.text(2) ?? ""
                let def: DeviceDefinition
                do {
                    def = try DeviceDefinition.decode(try JSON.parse(s.text(4) ?? ""), path: "devices[\(device)]")
                } catch {
                    throw StorageError("\(path): the stored definition of device \"\(device)\" is unreadable: \(error)")
                }
                out.append((StoredRegistration(idHash: s.text(0) ?? "", sealed: s.text(1) ?? "", device: device, owner: s.text(3) ?? ""), def))
            }
            return out
        }
    }

    public func saveRegistration(_ registration: StoredRegistration, definition: DeviceDefinition) throws(StorageError) {
        try writer.apply([.registration(registration, definition)])
    }

    public func deleteRegistration(device: String) throws(StorageError) { try writer.apply([.deleteDevice(device)]) }

    // MARK: GroupStorage

    public func loadGroups() throws(StorageError) -> [GroupDefinition]? {
        try withDB { () throws(StorageError) -> [GroupDefinition]? in
            guard try meta("groupsSaved") != nil else { return nil }
            let s = try db.prepare("SELECT id, definition FROM groups ORDER BY position")
            var out: [GroupDefinition] = []
            while try s.step() {
                let id = s.text(0) ?? ""
                do { out.append(try GroupDefinition.decode(try JSON.parse(s.text(1) ?? ""), path: "groups[\(id)]")) } catch {
                    throw StorageError("\(path): the stored group \"\(id)\" is unreadable: \(error)")
                }
            }
            return out
        }
    }

    public func saveGroups(_ groups: [GroupDefinition]) throws(StorageError) { try writer.apply([.groups(groups)]) }

    // MARK: ValueStorage (the engine's fan-out)

    public func loadValues() throws(StorageError) -> [StoredValue] {
        try withDB { () throws(StorageError) -> [StoredValue] in
            let s = try db.prepare("SELECT device, property, value, label, time FROM current_values")
            var out: [StoredValue] = []
            while try s.step() {
                guard let v = ValueColumns.read(s, value: 2, label: 3) else { continue }
                out.append(StoredValue(device: s.text(0) ?? "", property: s.text(1) ?? "", value: v, time: s.int(4)))
            }
            return out
        }
    }

    /// Set by a benchmark to measure the daemon without value writes.
    public var recordsValues = true

    public func valuesCommitted(device: DeviceVersion, changes: [(name: String, value: PropertyValue)], time: Int64) {
        guard recordsValues else { return }
        for c in changes {
            let isButton = device.schema.propertyIndex(c.name).map { device.schema.property($0).type == .button } ?? false
            _ = writer.enqueue(.value(device: device.id, property: c.name, value: c.value, time: time, current: !isButton), wait: false)
        }
    }

    // MARK: HistoryStorage

    public func history(device: String, property: String, since: Int64?, until: Int64?, limit: Int) throws(StorageError) -> [HistoryPoint] {
        // What is still queued goes in first, so a query shows every value
        // written so far (a user asked: one extra commit, not one per event).
        flush()
        return try withReader { () throws(StorageError) -> [HistoryPoint] in
            if historyQuery == nil {
                historyQuery = try reader.prepare("""
                    SELECT h.time, h.value, h.label FROM history h JOIN series s ON s.id = h.series
                    WHERE s.device = ?1 AND s.property = ?2 AND h.time BETWEEN ?3 AND ?4
                    ORDER BY h.time DESC, h.id DESC LIMIT ?5
                    """)
            }
            let q = historyQuery!
            try q.bind(device, property, since ?? Int64.min, until ?? Int64.max, Int64(limit))
            var out: [HistoryPoint] = []
            while try q.step() {
                if let v = ValueColumns.read(q, value: 1, label: 2) { out.append(HistoryPoint(value: v, time: q.int(0))) }
            }
            q.reset()
            return out
        }
    }

    /// The newest `limit` points of one property, from the writer's connection
    /// (start-up: the value-history rings are filled from here).
    public func recentHistory(device: String, property: String, limit: Int) throws(StorageError) -> [HistoryPoint] {
        try withDB { () throws(StorageError) -> [HistoryPoint] in
            let q = try db.prepare("""
                SELECT h.time, h.value, h.label FROM history h WHERE h.series =
                (SELECT id FROM series WHERE device = ?1 AND property = ?2) ORDER BY h.time DESC, h.id DESC LIMIT ?3
                """)
            try q.bind(device, property, Int64(limit))
            var out: [HistoryPoint] = []
            while try q.step() {
                if let v = ValueColumns.read(q, value: 1, label: 2) { out.append(HistoryPoint(value: v, time: q.int(0))) }
            }
            return out
        }
    }

    // MARK: PendingActionStorage

    public func loadPendingActions() throws(StorageError) -> [(device: String, properties: [(name: String, value: JSON)])] {
        try withDB { () throws(StorageError) -> [(device: String, properties: [(name: String, value: JSON)])] in
            let s = try db.prepare("SELECT device, property, value FROM pending_actions ORDER BY device, position")
            var out: [(device: String, properties: [(name: String, value: JSON)])] = []
            while try s.step() {
                let device = s.text(0) ?? "", name = s.text(1) ?? ""
                guard let value = try? JSON.parse(s.text(2) ?? "") else { continue }
                if out.last?.device == device { out[out.count - 1].properties.append((name, value)) } else { out.append((device, [(name, value)])) }
            }
            return out
        }
    }

    public func savePendingActions(device: String, properties: [(name: String, value: JSON)]) {
        writer.coalesce(pending: device, properties)
    }

    // MARK: TimerStorage

    public func loadTimers() throws(StorageError) -> [StoredTimer] {
        try withDB { () throws(StorageError) -> [StoredTimer] in
            let s = try db.prepare("SELECT name, due, function, argument FROM timers ORDER BY due, name")
            var out: [StoredTimer] = []
            while try s.step() {
                out.append(StoredTimer(name: s.text(0) ?? "", due: s.int(1), function: s.text(2) ?? "", argumentJSON: s.text(3) ?? "null"))
            }
            return out
        }
    }

    public func saveTimer(_ timer: StoredTimer) { writer.coalesce(timer: timer.name, timer) }
    public func deleteTimer(name: String) { writer.coalesce(timer: name, nil) }

    // MARK: ScriptGenerationStorage

    public func loadScriptGeneration() throws(StorageError) -> Int? {
        try withDB { () throws(StorageError) -> Int? in try meta("scriptGeneration").flatMap { Int($0) } }
    }

    public func saveScriptGeneration(_ generation: Int) throws(StorageError) {
        try writer.apply([.meta("scriptGeneration", String(generation))])
    }

    // MARK: BackupStorage

    /// `VACUUM INTO` on a connection of its own (the read-only one may not
    /// run it): a compact, consistent copy of the last committed state, while
    /// the writer goes on writing. It only reads the store.
    public func backup(to path: String) throws(StorageError) {
        let quoted = path.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''")
        let conn = try SQLiteDatabase(path: self.path)
        defer { conn.close() }
        try conn.exec("PRAGMA cache_size=-\(options.cacheKiB); PRAGMA mmap_size=0")
        try conn.exec("VACUUM INTO '\(quoted)'")
    }

    // MARK: figures

    /// Changes committed, batches committed, history rows purged (bench, tests).
    public var figures: (changes: Int, batches: Int, purged: Int) { writer.figures }
}

/// The store file cannot be used as it is. The message names the file and
/// the ways back; nothing was changed.
public enum StoreDamaged {
    public static func message(path: String, reason: String) -> StorageError {
        StorageError("""
            \(reason)
            The store \(path) looks damaged; autohomed did not change it and will not start over it.
            To recover: stop autohomed, copy \(path) (and any \(path)-wal) somewhere safe, then either
              - put back a backup (\(path).before-v\(Schema.version) from before the last upgrade, or your own copy), or
              - run autohomed --recover once: it moves the damaged file aside to \(path).damaged-<time> and starts with an empty store.
            """)
    }
}
