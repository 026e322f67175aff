#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeServer
import AutoHomeStore
import AutoHomeSupport

/// The daemon's side of the store: open it (or, with `--recover`, move a
/// damaged one aside), import an earlier version's JSON files once, and put
/// everything back where it was before the server opens.
enum DaemonStore {
    static func open(config: Config, recover: Bool) throws(FileError) -> SQLiteStore {
        var options = SQLiteStore.Options()
        options.flushIntervalMs = config.flushIntervalMs
        options.historyDays = config.historyDays
        let path = config.dataDir + "/" + SQLiteStore.fileName
        let store: SQLiteStore
        do throws(StorageError) {
            store = try SQLiteStore(dataDir: config.dataDir, options: options)
            if recover { Log.info("--recover: \(path) is not damaged; nothing was moved") }
        } catch {
            guard recover, Files.exists(path) else { throw FileError(error.message) }
            let aside = path + ".damaged-\(wallClockMillis() / 1000)"
            for suffix in ["", "-wal", "-shm"] where Files.exists(path + suffix) {
                guard rename(path + suffix, aside + suffix) == 0 else {
                    throw FileError("--recover: cannot move \(path + suffix) aside: \(String(cString: strerror(errno)))")
                }
            }
            Log.warn("--recover: moved the damaged store to \(aside); starting with an empty store (\(error.message.split(separator: "\n").first ?? ""))")
            do throws(StorageError) { store = try SQLiteStore(dataDir: config.dataDir, options: options) } catch {
                throw FileError(error.message)
            }
            // The damaged store had the JSON files imported already: do not
            // import them a second time over an empty store.
        }
        // A copy for GET /v1/backup that a crash left half-written.
        if let names = try? Files.list(config.dataDir) {
            for n in names where n.hasPrefix(".backup-") && n.hasSuffix(".db") { _ = unlink(config.dataDir + "/" + n) }
        }
        if ProcessInfoFlags.benchNoStore {
            // `make bench` only: the same daemon without value writes, to
            // measure what the store costs per event.
            store.recordsValues = false
            Log.warn("AUTOHOMED_BENCH_NO_STORE is set: values and history are not stored")
        }
        return store
    }

    /// Tokens, registrations (imported from JSON once), groups, pending actions.
    static func serverStores(_ store: SQLiteStore, dataDir: String) throws(FileError) -> ServerStores {
        do throws(StorageError) {
            let seal = try RegistrationSeal.load(path: dataDir + "/registration.key")
            try importJSON(store, dataDir: dataDir, seal: seal)
            return try ServerStores(tokens: store, registrations: store, groups: store, seal: seal,
                                    adminTokenPath: dataDir + "/admin.token", pending: store, history: store, generations: store, backup: store)
        } catch { throw FileError(error.message) }
    }

    /// An earlier version's `dataDir` (JSON files): imported in one
    /// transaction, then the files are renamed `*.imported`. A file that does
    /// not read stops the start-up, naming it; nothing is skipped.
    static func importJSON(_ store: SQLiteStore, dataDir: String, seal: RegistrationSeal) throws(StorageError) {
        let legacy = JSONFileStore(dataDir: dataDir)
        let files = legacy.presentFiles
        guard !files.isEmpty else { return }
        guard store.isFresh else {
            // Imported before (the rename did not happen, or they were put back).
            Log.warn("store: \(files.joined(separator: ", ")) in \(dataDir) were imported before; renaming them to *.imported")
            try legacy.markImported()
            return
        }
        let records: JSONFileStore.Records
        do throws(StorageError) { records = try legacy.read() } catch {
            throw StorageError("\(error.message)\nThe JSON files of an earlier version could not be imported; nothing was changed. "
                               + "Fix or remove the file named above (a copy of it is wise), then start again.")
        }
        let regs = records.registrations.map { r in
            (registration: StoredRegistration(idHash: Crypto.sha256Hex(r.id), sealed: seal.seal(r.id, device: r.device),
                                              device: r.device, owner: r.owner), definition: r.definition)
        }
        try store.importRecords(tokens: records.tokens, registrations: regs, groups: records.groups, source: files.joined(separator: ","))
        try legacy.markImported()
        Log.info("store: imported \(records.tokens.count) tokens, \(regs.count) registrations and "
                 + "\(records.groups.map { "\($0.count) groups" } ?? "no groups") from \(files.joined(separator: ", ")) (kept as *.imported)")
    }

    /// The generation keeps counting across restarts (SPEC §6).
    static func scriptGeneration(_ store: SQLiteStore) throws(FileError) -> Int {
        do throws(StorageError) { return try store.loadScriptGeneration() ?? 1 } catch { throw FileError(error.message) }
    }

    /// Current values, each with the newest points of its durable history
    /// refilling the property's in-memory ring (`prop.history(n)`).
    static func restoreValues(_ store: SQLiteStore, into state: HomeState) throws(StorageError) {
        var restored = 0
        for v in try store.loadValues() {
            guard let live = state.live(v.device), live.schema.propertyIndex(v.property) != nil else { continue }
            let capacity = live.definition.history ?? state.defaultHistory
            let recent = try store.recentHistory(device: v.device, property: v.property, limit: capacity)
            if state.restore(v.device, property: v.property, value: v.value, time: v.time, history: recent) { restored += 1 }
        }
        // A button has no current value (it never changes), only presses.
        for live in state.allLive() {
            let capacity = live.definition.history ?? state.defaultHistory
            for p in live.definition.properties where p.type == .button {
                let recent = try store.recentHistory(device: live.id, property: p.name, limit: capacity)
                if !recent.isEmpty { _ = state.restore(live.id, property: p.name, value: p.initial, time: 0, history: recent) }
            }
        }
        if restored > 0 { Log.info("store: restored \(restored) property values") }
    }
}

enum ProcessInfoFlags {
    static var benchNoStore: Bool { getenv("AUTOHOMED_BENCH_NO_STORE").map { String(cString: $0) == "1" } ?? false }
}
