import AutoHomeSupport

// The storage seams: what the engine and the server persist, as protocols.
// The server keeps the policy (hashing tokens and registration ids, owning
// registrations, which group set wins); an implementation only keeps records.
// The daemon's implementation is `SQLiteStore` (AutoHomeStore), which
// implements every protocol here; `JSONFileStore` reads the JSON files of the
// first release, once, to import them.
//
// Thread contract: a front door calls the throwing saves from its work thread,
// one change at a time (the server's WorkQueue); they return once the change
// is durable. The non-throwing saves (values, pending actions, timers) may be
// called from any thread and are batched (`flushIntervalMs`). `loadX` is only
// called before serving starts.

/// A storage failure, with a message a user can act on (the file, the reason).
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public init(_ e: FileError) { message = e.description }
    public var description: String { message }
}

/// A bearer token as stored: only its SHA-256 (hex), never the token.
public struct StoredToken: Sendable, Equatable {
    public var hash: String
    /// "admin", "read" or "device".
    public var scope: String
    /// Unix ms.
    public var created: Int64
    public init(hash: String, scope: String, created: Int64) {
        self.hash = hash
        self.scope = scope
        self.created = created
    }
}

public protocol TokenStorage: AnyObject, Sendable {
    /// In creation order.
    func loadTokens() throws(StorageError) -> [StoredToken]
    func insertToken(_ token: StoredToken) throws(StorageError)
    func deleteToken(hash: String) throws(StorageError)
}

/// A device registered over the API. The credential itself is not kept:
/// `idHash` (SHA-256 of the registration id) finds the device for an event,
/// and `sealed` holds the id encrypted under the data folder's key, so the
/// owner re-registering gets the same id back (SPEC §5) while a copy of the
/// store alone gives no access. `owner` is the hash of the token that
/// registered it, or "admin" once that token is deleted.
public struct StoredRegistration: Sendable, Equatable {
    public var idHash: String
    public var sealed: String
    public var device: String
    public var owner: String
    public init(idHash: String, sealed: String, device: String, owner: String) {
        self.idHash = idHash
        self.sealed = sealed
        self.device = device
        self.owner = owner
    }
}

public protocol RegistrationStorage: AnyObject, Sendable {
    /// In registration order, each with the definition it was registered with.
    func loadRegistrations() throws(StorageError) -> [(registration: StoredRegistration, definition: DeviceDefinition)]
    /// Inserts or replaces the registration of `registration.device` and its definition.
    func saveRegistration(_ registration: StoredRegistration, definition: DeviceDefinition) throws(StorageError)
    /// Deletes a device: its registration and definition, and with them its
    /// current values, pending actions and durable history, in one change.
    func deleteRegistration(device: String) throws(StorageError)
}

public protocol GroupStorage: AnyObject, Sendable {
    /// The saved group set, or nil when the API never changed groups (the
    /// config's groups apply then).
    func loadGroups() throws(StorageError) -> [GroupDefinition]?
    /// Replaces the whole saved set.
    func saveGroups(_ groups: [GroupDefinition]) throws(StorageError)
}

/// A device's value as last committed (a button's press is history only).
public struct StoredValue: Sendable, Equatable {
    public var device: String
    public var property: String
    public var value: PropertyValue
    /// Unix ms.
    public var time: Int64
    public init(device: String, property: String, value: PropertyValue, time: Int64) {
        self.device = device
        self.property = property
        self.value = value
        self.time = time
    }
}

/// Current values and durable history. Values are recorded from the engine's
/// fan-out (`EngineObserver.valuesCommitted`), so an implementation batches
/// them on its own writer thread and never blocks a VM for long.
public protocol ValueStorage: EngineObserver {
    func loadValues() throws(StorageError) -> [StoredValue]
    /// Waits until every value handed over so far is durable.
    func flush()
}

public protocol HistoryStorage: AnyObject, Sendable {
    /// Newest first; `since`/`until` inclusive Unix ms. The points are the
    /// same `HistoryPoint`s as the in-memory rings hold.
    func history(device: String, property: String, since: Int64?, until: Int64?, limit: Int) throws(StorageError) -> [HistoryPoint]
}

/// Actions not yet delivered: the latest value per property of each device.
public protocol PendingActionStorage: AnyObject, Sendable {
    func loadPendingActions() throws(StorageError) -> [(device: String, properties: [(name: String, value: JSON)])]
    /// Replaces the device's pending set (empty: delivered, remove it).
    func savePendingActions(device: String, properties: [(name: String, value: JSON)])
}

/// A string-form countdown (`home.countdown(name, s, "fnName", arg)`).
public struct StoredTimer: Sendable, Equatable {
    public var name: String
    /// Absolute deadline, Unix ms: one that passed while the daemon was down
    /// fires once, right after start-up.
    public var due: Int64
    public var function: String
    public var argumentJSON: String
    public init(name: String, due: Int64, function: String, argumentJSON: String) {
        self.name = name
        self.due = due
        self.function = function
        self.argumentJSON = argumentJSON
    }
}

public protocol TimerStorage: AnyObject, Sendable {
    func loadTimers() throws(StorageError) -> [StoredTimer]
    func saveTimer(_ timer: StoredTimer)
    func deleteTimer(name: String)
}

/// The script generation keeps counting across restarts.
public protocol ScriptGenerationStorage: AnyObject, Sendable {
    func loadScriptGeneration() throws(StorageError) -> Int?
    func saveScriptGeneration(_ generation: Int) throws(StorageError)
}

/// A consistent copy of the whole store, taken while the daemon runs
/// (`GET /v1/backup`).
public protocol BackupStorage: AnyObject, Sendable {
    /// Writes the copy to `path` (which must not exist).
    func backup(to path: String) throws(StorageError)
}
