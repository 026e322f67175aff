#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import AutoHome
import AutoHomeSupport

/// The store's one writer thread ("ah-store").
///
/// Changes queue up in a bounded FIFO; the thread opens a transaction at the
/// first change and commits it `flushIntervalMs` later (or at `maxBatch`
/// changes, or at once when a caller waits for it), so a second of events is
/// one WAL append and one sync. A full queue makes the producer wait: a VM
/// thread slows down, a committed value is never dropped. Pending actions and
/// timers are coalesced instead (latest per device / per name), so saving them
/// never waits and their memory is bounded by devices and timer names.
///
/// Retention purges old history in small steps between batches, so it never
/// holds the writer (and with it the pipeline's backpressure) for long.
final class StoreWriter: @unchecked Sendable {
    enum Change {
        case value(device: String, property: String, value: PropertyValue, time: Int64, current: Bool)
        case token(StoredToken)
        case deleteToken(String)
        case registration(StoredRegistration, DeviceDefinition)
        case deleteDevice(String)
        case groups([GroupDefinition])
        case meta(String, String)
        /// Nothing to write: a caller waits for everything before it.
        case barrier
    }

    private struct Item {
        var change: Change
        /// > 0: a caller waits for this ticket's commit.
        var ticket: UInt64
    }

    /// What the writer needs of the store (not the store itself, so a store
    /// dropped without `close` is still freed, and its deinit stops us).
    private struct Target {
        let db: SQLiteDatabase
        let dbLock: Lock
        let options: SQLiteStore.Options
        let path: String
    }
    private let store: Target
    private let lock = Lock()
    /// Producers and ticket waiters wait here (room in the queue, a commit).
    private let cond = Condition()
    /// The writer waits here. Producers wake it only when it must act: it is
    /// idle, a caller waits, or the queue holds a full batch; otherwise it
    /// sleeps until its deadline, so an event costs no thread wake-up.
    private let work = Condition()
    private var collecting = false
    private var queue = FIFO<Item>()
    private var pending: [String: [(name: String, value: JSON)]] = [:]
    private var timers: [String: StoredTimer?] = [:]
    private var nextTicket: UInt64 = 0
    private var committedTicket: UInt64 = 0
    private var failures: [UInt64: StorageError] = [:]
    private var stopping = false
    private var running = true
    private var changeCount = 0, batchCount = 0, purgedCount = 0
    private let sql: Statements
    private struct SeriesKey: Hashable {
        let device: String
        let property: String
    }
    private var seriesIds: [SeriesKey: Int64] = [:]
    /// The batch's latest current value per property: one upsert per property
    /// per batch, however many events changed it.
    private var latest: [SeriesKey: (value: Any?, label: Any?, time: Int64)] = [:]
    private var nextPurgeCheck: UInt64 = 0
    private var devicePositions: Int64 = 0

    init(store: SQLiteStore) throws(StorageError) {
        self.store = Target(db: store.db, dbLock: store.dbLock, options: store.options, path: store.path)
        sql = try Statements(store.db)
        devicePositions = try store.db.scalarInt("SELECT coalesce(max(position), 0) FROM devices") ?? 0
        spawnThread(name: "ah-store") { [self] in loop() }
    }

    var figures: (changes: Int, batches: Int, purged: Int) { lock.withLock { (changeCount, batchCount, purgedCount) } }

    // MARK: producers

    /// Queues a change; with `wait` the returned ticket can be waited for.
    /// Blocks while the queue is full (backpressure), unless stopping.
    @discardableResult
    func enqueue(_ change: Change, wait: Bool) -> UInt64 {
        lock.withLock {
            while queue.count >= store.options.queueCapacity && !stopping {
                work.signal()
                cond.wait(lock)
            }
            var ticket: UInt64 = 0
            if wait { nextTicket += 1; ticket = nextTicket }
            queue.push(Item(change: change, ticket: ticket))
            if !collecting || wait || queue.count >= store.options.maxBatch { work.signal() }
            return ticket
        }
    }

    /// Queues `changes` and returns once they are committed (or failed).
    func apply(_ changes: [Change]) throws(StorageError) {
        var ticket: UInt64 = 0
        for (i, c) in changes.enumerated() { ticket = enqueue(c, wait: i == changes.count - 1) }
        if let e = waitCommitted(ticket) { throw e }
    }

    @discardableResult
    func waitCommitted(_ ticket: UInt64) -> StorageError? {
        lock.withLock {
            while committedTicket < ticket && running { cond.wait(lock) }
            if committedTicket < ticket { return StorageError("\(store.path): the store was closed before the change was written") }
            return failures.removeValue(forKey: ticket)
        }
    }

    func coalesce(pending device: String, _ properties: [(name: String, value: JSON)]) {
        lock.withLock {
            pending[device] = properties
            if !collecting { work.signal() }
        }
    }

    func coalesce(timer name: String, _ timer: StoredTimer?) {
        lock.withLock {
            timers[name] = .some(timer)
            if !collecting { work.signal() }
        }
    }

    /// Commits everything queued, then ends the thread.
    func stop() {
        lock.withLock {
            stopping = true
            work.signal()
            cond.broadcast()
            while running { cond.wait(lock) }
        }
    }

    // MARK: the thread

    private var hasWork: Bool { !queue.isEmpty || !pending.isEmpty || !timers.isEmpty }

    private func loop() {
        let interval = UInt64(max(store.options.flushIntervalMs, 0)) * 1_000_000
        lock.lock()
        while true {
            while !hasWork && !stopping {
                // Idle: a purge step when one is due, else sleep until the next check.
                lock.unlock()
                let didPurge = purgeStepIfDue()
                lock.lock()
                if didPurge || hasWork || stopping { continue }
                _ = work.wait(lock, untilMonotonicNanos: nextPurgeCheck)
            }
            if !hasWork && stopping { break }
            let deadline = monotonicNanos() + interval
            collecting = true
            var batch: [Item] = []
            var ticket: UInt64 = 0
            var urgent = false
            // Collect until the deadline, a waiting caller, a full batch or stop.
            while true {
                while let item = queue.pop() {
                    batch.append(item)
                    if item.ticket > 0 { ticket = max(ticket, item.ticket); urgent = true }
                    if batch.count >= store.options.maxBatch { break }
                }
                cond.broadcast()  // room in the queue
                if urgent || stopping || batch.count >= store.options.maxBatch || monotonicNanos() >= deadline { break }
                _ = work.wait(lock, untilMonotonicNanos: deadline)
            }
            collecting = false
            let pendingNow = pending, timersNow = timers
            pending = [:]
            timers = [:]
            lock.unlock()

            let error = commit(batch, pendingNow, timersNow)

            lock.lock()
            if let error {
                Log.error("store: a batch of \(batch.count) changes could not be written: \(error.message)")
                for item in batch where item.ticket > 0 { failures[item.ticket] = error }
            } else {
                changeCount += batch.count + pendingNow.count + timersNow.count
                batchCount += 1
            }
            if ticket > committedTicket { committedTicket = ticket }
            cond.broadcast()
        }
        running = false
        cond.broadcast()
        lock.unlock()
    }

    /// One transaction: the FIFO changes in order, then the coalesced ones.
    private func commit(_ batch: [Item], _ pending: [String: [(name: String, value: JSON)]],
                        _ timers: [String: StoredTimer?]) -> StorageError? {
        store.dbLock.withLock { () -> StorageError? in
            do throws(StorageError) {
                try store.db.exec("BEGIN IMMEDIATE")
                latest.removeAll(keepingCapacity: true)
                for item in batch { try write(item.change) }
                for (k, v) in latest { try sql.upsertValue.run(k.device, k.property, v.value, v.label, v.time) }
                for (device, props) in pending {
                    try sql.deletePending.run(device)
                    for (i, p) in props.enumerated() { try sql.insertPending.run(device, Int64(i), p.name, p.value.text) }
                }
                for (name, timer) in timers {
                    if let t = timer { try sql.upsertTimer.run(name, t.due, t.function, t.argumentJSON) } else { try sql.deleteTimer.run(name) }
                }
                try store.db.exec("COMMIT")
                return nil
            } catch {
                try? store.db.exec("ROLLBACK")
                return error
            }
        }
    }

    private func write(_ change: Change) throws(StorageError) {
        switch change {
        case .value(let device, let property, let value, let time, let current):
            let (v, label) = ValueColumns.bind(value)
            let key = SeriesKey(device: device, property: property)
            if current { latest[key] = (v, label, time) }
            if store.options.historyDays > 0 {
                try sql.insertHistory.run(try series(key), time, v, label)
            }
        case .token(let t):
            try sql.upsertToken.run(t.hash, t.scope, t.created)
        case .deleteToken(let hash):
            try sql.deleteToken.run(hash)
        case .registration(let r, let def):
            if try sql.devicePosition.bind(def.id).first({ $0.int(0) }) != nil {
                try sql.updateDevice.run(def.definitionJSON.text, def.id)
            } else {
                devicePositions += 1
                try sql.insertDevice.run(def.id, def.definitionJSON.text, devicePositions)
            }
            try sql.upsertRegistration.run(r.device, r.idHash, r.sealed, r.owner)
        case .deleteDevice(let id):
            for s in [sql.deleteRegistration, sql.deleteDeviceRow, sql.deleteValues, sql.deletePending,
                      sql.deleteDeviceHistory, sql.deleteSeries] { try s.run(id) }
            seriesIds = seriesIds.filter { $0.key.device != id }
            latest = latest.filter { $0.key.device != id }
        case .groups(let groups):
            try store.db.exec("DELETE FROM groups")
            for (i, g) in groups.enumerated() { try sql.insertGroup.run(Int64(i), g.id, g.json.text) }
            try sql.upsertMeta.run("groupsSaved", "1")
        case .meta(let key, let value):
            try sql.upsertMeta.run(key, value)
        case .barrier:
            break
        }
    }

    private func series(_ key: SeriesKey) throws(StorageError) -> Int64 {
        if let id = seriesIds[key] { return id }
        try sql.insertSeries.run(key.device, key.property)
        guard let id = try sql.findSeries.bind(key.device, key.property).first({ $0.int(0) }) else {
            throw StorageError("\(store.path): cannot create a history series")
        }
        seriesIds[key] = id
        return id
    }

    // MARK: retention

    static let purgeStepRows = 500
    static let purgeCheckNanos: UInt64 = 60_000_000_000

    /// One small delete of history older than `historyDays`, in its own
    /// transaction: the oldest rows by insertion order (rowid), at most
    /// `purgeStepRows`. True when it deleted something (more may follow).
    private func purgeStepIfDue() -> Bool {
        guard monotonicNanos() >= nextPurgeCheck else { return false }
        guard store.options.historyDays > 0 else {
            nextPurgeCheck = monotonicNanos() + StoreWriter.purgeCheckNanos
            return false
        }
        let cutoff = wallClockMillis() - Int64(store.options.historyDays) * 86_400_000
        let deleted: Int = store.dbLock.withLock {
            do throws(StorageError) {
                try sql.purge.run(cutoff, Int64(StoreWriter.purgeStepRows))
                return store.db.changes
            } catch {
                Log.warn("store: history purge failed: \(error.message)")
                return 0
            }
        }
        if deleted > 0 {
            lock.withLock { purgedCount += deleted }
            return true
        }
        nextPurgeCheck = monotonicNanos() + StoreWriter.purgeCheckNanos
        return false
    }

    /// The writer's prepared statements.
    private struct Statements {
        let upsertValue, insertHistory, insertSeries, findSeries: Statement
        let upsertToken, deleteToken: Statement
        let devicePosition, insertDevice, updateDevice, upsertRegistration: Statement
        let deleteRegistration, deleteDeviceRow, deleteValues, deletePending, deleteDeviceHistory, deleteSeries: Statement
        let insertPending, upsertTimer, deleteTimer, insertGroup, upsertMeta, purge: Statement

        init(_ db: SQLiteDatabase) throws(StorageError) {
            upsertValue = try db.prepare("""
                INSERT INTO current_values(device, property, value, label, time) VALUES(?1, ?2, ?3, ?4, ?5)
                ON CONFLICT(device, property) DO UPDATE SET value = ?3, label = ?4, time = ?5
                """)
            insertHistory = try db.prepare("INSERT INTO history(series, time, value, label) VALUES(?, ?, ?, ?)")
            insertSeries = try db.prepare("INSERT OR IGNORE INTO series(device, property) VALUES(?, ?)")
            findSeries = try db.prepare("SELECT id FROM series WHERE device = ? AND property = ?")
            upsertToken = try db.prepare("INSERT OR REPLACE INTO tokens(hash, scope, created) VALUES(?, ?, ?)")
            deleteToken = try db.prepare("DELETE FROM tokens WHERE hash = ?")
            devicePosition = try db.prepare("SELECT position FROM devices WHERE id = ?")
            insertDevice = try db.prepare("INSERT INTO devices(id, definition, position) VALUES(?, ?, ?)")
            updateDevice = try db.prepare("UPDATE devices SET definition = ? WHERE id = ?")
            upsertRegistration = try db.prepare("""
                INSERT INTO registrations(device, id_hash, sealed, owner) VALUES(?1, ?2, ?3, ?4)
                ON CONFLICT(device) DO UPDATE SET id_hash = ?2, sealed = ?3, owner = ?4
                """)
            deleteRegistration = try db.prepare("DELETE FROM registrations WHERE device = ?")
            deleteDeviceRow = try db.prepare("DELETE FROM devices WHERE id = ?")
            deleteValues = try db.prepare("DELETE FROM current_values WHERE device = ?")
            deletePending = try db.prepare("DELETE FROM pending_actions WHERE device = ?")
            deleteDeviceHistory = try db.prepare("DELETE FROM history WHERE series IN (SELECT id FROM series WHERE device = ?)")
            deleteSeries = try db.prepare("DELETE FROM series WHERE device = ?")
            insertPending = try db.prepare("INSERT INTO pending_actions(device, position, property, value) VALUES(?, ?, ?, ?)")
            upsertTimer = try db.prepare("INSERT OR REPLACE INTO timers(name, due, function, argument) VALUES(?, ?, ?, ?)")
            deleteTimer = try db.prepare("DELETE FROM timers WHERE name = ?")
            insertGroup = try db.prepare("INSERT INTO groups(position, id, definition) VALUES(?, ?, ?)")
            upsertMeta = try db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)")
            // The oldest rows by rowid (insertion order, so roughly by time):
            // a bounded window, never a scan of the whole table.
            purge = try db.prepare("""
                DELETE FROM history WHERE id <= (SELECT min(id) FROM history) + ?2 AND time < ?1
                """)
        }
    }
}
