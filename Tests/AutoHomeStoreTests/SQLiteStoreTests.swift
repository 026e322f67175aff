#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import AutoHomeStore
@testable import AutoHome
import AutoHomeSupport

/// The SQLite store alone: records round-trip, batching and backpressure,
/// retention, schema steps from every older version, a damaged file.
final class SQLiteStoreTests: XCTestCase {
    private func tempDir() -> String {
        var template = Array("/tmp/ah-store-XXXXXX".utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        addTeardownBlock { _ = system("rm -rf '\(dir)'") }
        return dir
    }

    private let lampDef = try! DeviceDefinition.decode(JSON.parse(
        #"{"id": "lamp", "properties": [{"name": "power", "type": "switch"}, {"name": "level", "type": "dial"}, {"name": "press", "type": "button"}, {"name": "note", "type": "text"}]}"#))

    private func version(_ def: DeviceDefinition) -> DeviceVersion {
        let state = HomeState(defaultHistory: 4, defaultRepeatWindowMs: 0)
        state.define(def, now: 0)
        return state.live(def.id)!
    }

    func testValuesHistoryAndButtonPresses() throws {
        let dir = tempDir()
        var opts = SQLiteStore.Options()
        opts.flushIntervalMs = 50
        let store = try SQLiteStore(dataDir: dir, options: opts)
        let v = version(lampDef)
        // recent times: a query runs the writer, and its retention purge
        // (historyDays) would take points from 1970
        let t0 = wallClockMillis()
        store.valuesCommitted(device: v, changes: [("power", .flag(true, label: "open"))], time: t0 + 0)
        store.valuesCommitted(device: v, changes: [("level", .number(42.5))], time: t0 + 1)
        store.valuesCommitted(device: v, changes: [("note", .text("hé 'quoted'"))], time: t0 + 2)
        store.valuesCommitted(device: v, changes: [("press", .flag(true, label: "on"))], time: t0 + 3)
        store.valuesCommitted(device: v, changes: [("power", .flag(false, label: "off"))], time: t0 + 4)
        store.close()

        let again = try SQLiteStore(dataDir: dir, options: opts)
        defer { again.close() }
        let values = try again.loadValues().sorted { $0.property < $1.property }
        XCTAssertEqual(values, [
            StoredValue(device: "lamp", property: "level", value: .number(42.5), time: t0 + 1),
            StoredValue(device: "lamp", property: "note", value: .text("hé 'quoted'"), time: t0 + 2),
            StoredValue(device: "lamp", property: "power", value: .flag(false, label: "off"), time: t0 + 4),
        ], "a button press is history only, never a current value")
        XCTAssertEqual(try again.history(device: "lamp", property: "power", since: nil, until: nil, limit: 10),
                       [HistoryPoint(value: .flag(false, label: "off"), time: t0 + 4), HistoryPoint(value: .flag(true, label: "open"), time: t0 + 0)])
        XCTAssertEqual(try again.history(device: "lamp", property: "power", since: t0 + 1, until: t0 + 4, limit: 10).count, 1)
        XCTAssertEqual(try again.history(device: "lamp", property: "power", since: nil, until: t0 + 0, limit: 10).count, 1)
        XCTAssertEqual(try again.history(device: "lamp", property: "press", since: nil, until: nil, limit: 10),
                       [HistoryPoint(value: .flag(true, label: "on"), time: t0 + 3)])
        XCTAssertEqual(try again.recentHistory(device: "lamp", property: "power", limit: 1).map(\.time), [t0 + 4])
    }

    func testFullQueueSlowsProducersAndDropsNothing() throws {
        let dir = tempDir()
        var opts = SQLiteStore.Options()
        opts.flushIntervalMs = 20
        opts.queueCapacity = 8
        opts.maxBatch = 16
        let store = try SQLiteStore(dataDir: dir, options: opts)
        let v = version(lampDef)
        // recent times: retention (historyDays) would purge points from 1970
        let base = wallClockMillis()
        let n = 3000
        let threads = 3
        let done = Condition(), lock = Lock()
        var finished = 0
        for t in 0..<threads {
            spawnThread(name: "producer\(t)") {
                for i in 0..<n {
                    store.valuesCommitted(device: v, changes: [("level", .number(Double(t * n + i)))], time: base + Int64(t * n + i))
                }
                lock.withLock { finished += 1; done.broadcast() }
            }
        }
        lock.withLock { while finished < threads { done.wait(lock) } }
        store.flush()
        let points = try store.history(device: "lamp", property: "level", since: nil, until: nil, limit: 100_000)
        XCTAssertEqual(points.count, n * threads)
        XCTAssertEqual(Set(points.map(\.time)).count, n * threads)
        XCTAssertGreaterThan(store.figures.batches, 1)
        store.close()
    }

    func testPendingActionsTimersTokensGroupsGeneration() throws {
        let dir = tempDir()
        let store = try SQLiteStore(dataDir: dir)
        store.savePendingActions(device: "lamp", properties: [("power", .bool(true)), ("level", .number(3))])
        store.savePendingActions(device: "lamp", properties: [("level", .number(4))])  // the latest set wins
        store.savePendingActions(device: "fan", properties: [("on", .bool(true))])
        store.savePendingActions(device: "fan", properties: [])  // delivered
        store.saveTimer(StoredTimer(name: "a", due: 5000, function: "f", argumentJSON: #"{"x":1}"#))
        store.saveTimer(StoredTimer(name: "b", due: 6000, function: "g", argumentJSON: "null"))
        store.deleteTimer(name: "b")
        try store.insertToken(StoredToken(hash: String(repeating: "a", count: 64), scope: "admin", created: 1))
        try store.insertToken(StoredToken(hash: String(repeating: "b", count: 64), scope: "read", created: 2))
        try store.deleteToken(hash: String(repeating: "b", count: 64))
        XCTAssertNil(try store.loadGroups(), "no saved set until the API changes groups")
        try store.saveGroups([GroupDefinition(id: "g", devices: ["lamp"])])
        try store.saveScriptGeneration(7)
        store.close()

        let again = try SQLiteStore(dataDir: dir)
        defer { again.close() }
        let pending = try again.loadPendingActions()
        XCTAssertEqual(pending.count, 1)
        XCTAssertEqual(pending.first?.device, "lamp")
        XCTAssertEqual(pending.first?.properties.map(\.name), ["level"])
        XCTAssertEqual(pending.first?.properties.first?.value, .number(4))
        XCTAssertEqual(try again.loadTimers(), [StoredTimer(name: "a", due: 5000, function: "f", argumentJSON: #"{"x":1}"#)])
        XCTAssertEqual(try again.loadTokens().map(\.scope), ["admin"])
        XCTAssertEqual(try again.loadGroups()?.map(\.id), ["g"])
        XCTAssertEqual(try again.loadScriptGeneration(), 7)
    }

    func testRetentionPurgesOldHistoryInSteps() throws {
        let dir = tempDir()
        let store = try SQLiteStore(dataDir: dir)
        let v = version(lampDef)
        let old = wallClockMillis() - 40 * 86_400_000
        let rows = StoreWriter.purgeStepRows * 3 + 7
        for i in 0..<rows { store.valuesCommitted(device: v, changes: [("level", .number(Double(i)))], time: old + Int64(i)) }
        store.valuesCommitted(device: v, changes: [("level", .number(-1))], time: wallClockMillis())
        store.close()
        var opts = SQLiteStore.Options()
        opts.historyDays = 30
        let again = try SQLiteStore(dataDir: dir, options: opts)
        defer { again.close() }
        let deadline = monotonicNanos() + 20_000_000_000
        while again.figures.purged < rows && monotonicNanos() < deadline { sleepMillis(20) }
        XCTAssertEqual(again.figures.purged, rows)
        XCTAssertEqual(try again.history(device: "lamp", property: "level", since: nil, until: nil, limit: 10).map(\.value), [.number(-1)])
        XCTAssertEqual(try again.loadValues().first { $0.property == "level" }?.value, .number(-1), "current values stay")
    }

    func testSchemaStepsFromEveryOlderVersionKeepRows() throws {
        for older in 0..<Schema.version {
            let dir = tempDir()
            let path = dir + "/" + SQLiteStore.fileName
            let db = try SQLiteDatabase(path: path)
            try Schema.migrate(db, from: 0, to: older)
            if older >= 1 {
                try db.exec("INSERT INTO tokens(hash, scope, created) VALUES('\(String(repeating: "c", count: 64))', 'admin', 3)")
            }
            db.close()
            let store = try SQLiteStore(dataDir: dir)
            XCTAssertEqual(try store.db.scalarInt("PRAGMA user_version"), Int64(Schema.version), "from \(older)")
            XCTAssertEqual(try store.loadTokens().count, older >= 1 ? 1 : 0, "from \(older)")
            XCTAssertEqual(try store.loadTimers(), [])
            XCTAssertEqual(Files.exists(path + ".before-v\(Schema.version)"), older >= 1, "a backup before migrating a used store")
            store.close()
        }
    }

    func testNewerOrDamagedStoreRefusesToOpen() throws {
        let dir = tempDir()
        let path = dir + "/" + SQLiteStore.fileName
        let s = try SQLiteStore(dataDir: dir)
        try s.db.exec("PRAGMA user_version = 99")
        s.close()
        XCTAssertThrowsError(try SQLiteStore(dataDir: dir)) { e in
            XCTAssertTrue("\(e)".contains("newer autohomed"), "\(e)")
        }
        _ = system("rm -f '\(path)'*")
        try Files.writeAtomically(path, Array(repeating: 0x41, count: 8192))
        XCTAssertThrowsError(try SQLiteStore(dataDir: dir)) { e in
            XCTAssertTrue("\(e)".contains(path) && "\(e)".contains("--recover"), "\(e)")
        }
        XCTAssertEqual(try Files.read(path), Array(repeating: 0x41, count: 8192), "a damaged file is left as it was")
    }
}
