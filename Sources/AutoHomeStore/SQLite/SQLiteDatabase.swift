#if canImport(Glibc)
import Glibc
#endif
import CSQLite
import AutoHome
import AutoHomeSupport

/// One SQLite connection: open, run SQL, prepared statements. Thin on
/// purpose: the policy (schema, batching) lives in `SQLiteStore`.
///
/// Thread contract: a connection is used by one thread at a time (the store
/// holds one for its writer thread and one, under a lock, for reads).
final class SQLiteDatabase {
    let path: String
    private(set) var handle: OpaquePointer?

    /// `readOnly`: a reader beside the writer (WAL lets it read while the
    /// writer writes).
    init(path: String, readOnly: Bool = false) throws(StorageError) {
        self.path = path
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close(db)
            throw StorageError("cannot open \(path): \(msg)")
        }
        handle = db
        // A busy reader/writer waits a little instead of failing at once.
        sqlite3_busy_timeout(db, 5000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    func close() {
        if let h = handle { sqlite3_close_v2(h) }
        handle = nil
    }

    var message: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed" }

    func fail(_ what: String) -> StorageError { StorageError("\(path): \(what): \(message)") }

    /// Runs one or more statements without results.
    func exec(_ sql: String) throws(StorageError) {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        defer { sqlite3_free(err) }
        guard rc == SQLITE_OK else {
            let text = err.map { String(cString: $0) } ?? message
            throw StorageError("\(path): \(text) (in: \(sql.prefix(80)))")
        }
    }

    func prepare(_ sql: String) throws(StorageError) -> Statement {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil) == SQLITE_OK, let stmt else {
            throw fail("cannot prepare \(sql.prefix(80))")
        }
        return Statement(db: self, stmt: stmt)
    }

    /// The first column of the first row, as an integer (PRAGMAs, counts).
    func scalarInt(_ sql: String) throws(StorageError) -> Int64? {
        let s = try prepare(sql)
        guard try s.step() else { return nil }
        return s.isNull(0) ? nil : s.int(0)
    }

    func scalarText(_ sql: String) throws(StorageError) -> String? {
        let s = try prepare(sql)
        guard try s.step() else { return nil }
        return s.text(0)
    }

    var changes: Int { Int(sqlite3_changes(handle)) }
}

/// A prepared statement; reset before each use.
final class Statement {
    unowned let db: SQLiteDatabase
    let stmt: OpaquePointer

    init(db: SQLiteDatabase, stmt: OpaquePointer) {
        self.db = db
        self.stmt = stmt
    }

    deinit { sqlite3_finalize(stmt) }

    /// Resets and binds; values are Int64, Double, String, [UInt8], Bool or nil.
    @discardableResult
    func bind(_ values: Any?...) throws(StorageError) -> Statement {
        try bindAll(values)
        return self
    }

    func bindAll(_ values: [Any?]) throws(StorageError) {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
        for (i, v) in values.enumerated() {
            let n = Int32(i + 1)
            let rc: Int32
            switch v {
            case nil: rc = sqlite3_bind_null(stmt, n)
            case let x as Int64: rc = sqlite3_bind_int64(stmt, n, x)
            case let x as Int: rc = sqlite3_bind_int64(stmt, n, Int64(x))
            case let x as Bool: rc = sqlite3_bind_int64(stmt, n, x ? 1 : 0)
            case let x as Double: rc = sqlite3_bind_double(stmt, n, x)
            case let x as String: rc = sqlite3_bind_text(stmt, n, x, -1, csqlite_transient())
            case let x as [UInt8]: rc = x.withUnsafeBytes { sqlite3_bind_blob(stmt, n, $0.baseAddress, Int32($0.count), csqlite_transient()) }
            default: throw StorageError("\(db.path): cannot bind a \(Swift.type(of: v!))")
            }
            guard rc == SQLITE_OK else { throw db.fail("bind") }
        }
    }

    /// True when a row is ready; false when done.
    func step() throws(StorageError) -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let e = db.fail("step")
        sqlite3_reset(stmt)
        throw e
    }

    /// The first row read by `read`, then reset: a statement left on a row
    /// keeps a read snapshot open, which stops checkpoints from ever
    /// emptying the WAL.
    func first<T>(_ read: (Statement) -> T) throws(StorageError) -> T? {
        defer { sqlite3_reset(stmt) }
        return try step() ? read(self) : nil
    }

    func reset() { sqlite3_reset(stmt) }

    /// Runs a statement without rows.
    func run(_ values: Any?...) throws(StorageError) {
        try bindAll(values)
        while try step() {}
        sqlite3_reset(stmt)
    }

    func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
    func type(_ i: Int32) -> Int32 { sqlite3_column_type(stmt, i) }
    func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
    func double(_ i: Int32) -> Double { sqlite3_column_double(stmt, i) }
    func text(_ i: Int32) -> String? {
        guard let p = sqlite3_column_text(stmt, i) else { return nil }
        return String(cString: p)
    }
}
