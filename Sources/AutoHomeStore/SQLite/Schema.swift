import AutoHome
import AutoHomeSupport

/// The store's schema as numbered steps. `PRAGMA user_version` says how many
/// steps a database has had; opening one runs the missing steps, each in its
/// own transaction, after a backup copy of the file (`SQLiteStore.open`).
/// A step is never edited once released: a change is a new step.
enum Schema {
    static let steps: [String] = [
        // 1: what the JSON files of the first release held.
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
        CREATE TABLE tokens(hash TEXT PRIMARY KEY, scope TEXT NOT NULL, created INTEGER NOT NULL);
        CREATE TABLE devices(id TEXT PRIMARY KEY, definition TEXT NOT NULL, position INTEGER NOT NULL);
        CREATE TABLE registrations(device TEXT PRIMARY KEY, id_hash TEXT NOT NULL UNIQUE, sealed TEXT NOT NULL,
                                   owner TEXT NOT NULL);
        CREATE TABLE groups(position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, definition TEXT NOT NULL);
        """,
        // 2: current values and durable history. `series` names a (device,
        // property) pair once, so a history row is four numbers and a value.
        """
        CREATE TABLE current_values(device TEXT NOT NULL, property TEXT NOT NULL, value, label TEXT,
                                    time INTEGER NOT NULL, PRIMARY KEY(device, property)) WITHOUT ROWID;
        CREATE TABLE series(id INTEGER PRIMARY KEY, device TEXT NOT NULL, property TEXT NOT NULL, UNIQUE(device, property));
        CREATE TABLE history(id INTEGER PRIMARY KEY, series INTEGER NOT NULL, time INTEGER NOT NULL, value, label TEXT);
        CREATE INDEX history_by_series ON history(series, time);
        """,
        // 3: actions not yet delivered, string-form countdowns.
        """
        CREATE TABLE pending_actions(device TEXT NOT NULL, position INTEGER NOT NULL, property TEXT NOT NULL,
                                     value TEXT NOT NULL, PRIMARY KEY(device, position)) WITHOUT ROWID;
        CREATE TABLE timers(name TEXT PRIMARY KEY, due INTEGER NOT NULL, function TEXT NOT NULL,
                            argument TEXT NOT NULL) WITHOUT ROWID;
        """,
    ]

    static var version: Int { steps.count }

    /// Runs the steps after `from` (each with its user_version bump, in one
    /// transaction).
    static func migrate(_ db: SQLiteDatabase, from: Int, to: Int = Schema.version) throws(StorageError) {
        guard from < to else { return }
        for v in from..<to {
            try db.exec("BEGIN IMMEDIATE")
            do throws(StorageError) {
                try db.exec(steps[v])
                try db.exec("PRAGMA user_version = \(v + 1)")
                try db.exec("COMMIT")
            } catch {
                try? db.exec("ROLLBACK")
                throw StorageError("\(db.path): schema step \(v + 1) failed: \(error.message)")
            }
        }
    }
}
