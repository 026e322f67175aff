import AutoHomeSupport

// The storage seams: what the engine and the server persist, as protocols.
// The server keeps the policy (hashing tokens, owning registrations, which
// group set wins); an implementation only keeps records. Today's
// implementation is `JSONFileStore` (AutoHomeStore): the JSON files of the
// first release for tokens, registrations and groups. The SQLite store
// implements every protocol here, durable values, history and timers included.
//
// Thread contract: a front door calls these from its work thread, one change
// at a time (the server's WorkQueue), and reads at start-up; an
// implementation must be safe for calls from any one thread at a time, and
// `loadX` is only called before serving starts.

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

/// A device registered over the API: its credential, and the hash of the
/// token that registered it (its owner).
public struct StoredRegistration: Sendable, Equatable {
    public var id: String
    public var device: String
    public var owner: String
    public init(id: String, device: String, owner: String) {
        self.id = id
        self.device = device
        self.owner = owner
    }
}

public protocol RegistrationStorage: AnyObject, Sendable {
    /// In registration order, each with the definition it was registered with.
    func loadRegistrations() throws(StorageError) -> [(registration: StoredRegistration, definition: DeviceDefinition)]
    /// Inserts or replaces the registration of `registration.device` and its definition.
    func saveRegistration(_ registration: StoredRegistration, definition: DeviceDefinition) throws(StorageError)
    /// Removes the device's registration and definition (deleting a device).
    func deleteRegistration(device: String) throws(StorageError)
}

public protocol GroupStorage: AnyObject, Sendable {
    /// The saved group set, or nil when the API never changed groups (the
    /// config's groups apply then).
    func loadGroups() throws(StorageError) -> [GroupDefinition]?
    /// Replaces the whole saved set.
    func saveGroups(_ groups: [GroupDefinition]) throws(StorageError)
}

/// A device's value as last committed.
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
