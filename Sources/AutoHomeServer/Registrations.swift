import AutoHome
import AutoHomeSupport

/// Device registrations (SPEC §5 `POST /v1/devices`): an unguessable id per
/// registered device, which the device then uses as its credential for events
/// and its action stream. Each registration remembers the hash of the token
/// that made it, so another token cannot take the device over.
///
/// Policy lives here; the records go through `RegistrationStorage`.
public typealias Registration = StoredRegistration

public final class Registrations: @unchecked Sendable {
    public static let idBytes = 16  // 128 bits, as hex

    private let lock = Lock()
    private let writeLock = Lock()
    private var byId: [String: Registration] = [:]
    private var byDevice: [String: String] = [:]
    private var definitions: [String: DeviceDefinition] = [:]
    private var order: [String] = []  // device ids, registration order
    private let storage: RegistrationStorage

    public init(storage: RegistrationStorage) throws(StorageError) {
        self.storage = storage
        for (r, def) in try storage.loadRegistrations() {
            if definitions[def.id] == nil { order.append(def.id) }
            definitions[def.id] = def
            byId[r.id] = r
            byDevice[r.device] = r.id
        }
    }

    /// The registered definitions to define at start-up, in registration order.
    public var storedDevices: [DeviceDefinition] { lock.withLock { order.compactMap { definitions[$0] } } }

    public func lookup(_ registration: String) -> Registration? { lock.withLock { byId[registration] } }
    public func registration(ofDevice id: String) -> Registration? { lock.withLock { byDevice[id].flatMap { byId[$0] } } }

    public enum Outcome: Equatable {
        case created(Registration)
        case updated(Registration)
        /// The device belongs to another token.
        case conflict
    }

    /// Registers or updates `def` for the token `owner`. The record is stored
    /// before `apply` defines the device in the engine, so what a client was
    /// told is what a restart brings back.
    public func register(_ def: DeviceDefinition, owner: String, apply: (DeviceDefinition) -> Void) throws(StorageError) -> Outcome {
        // One registration at a time; lookups (events, on the network thread)
        // only wait for the short map swaps, never for the storage write.
        writeLock.lock()
        defer { writeLock.unlock() }
        let existing = lock.withLock { byDevice[def.id].flatMap { byId[$0] } }
        let outcome: Outcome
        let record: Registration
        if let existing {
            guard Crypto.constantTimeEqual(existing.owner, owner) else { return .conflict }
            record = existing
            outcome = .updated(existing)
        } else {
            var id = Crypto.randomHex(bytes: Registrations.idBytes)
            while lookup(id) != nil { id = Crypto.randomHex(bytes: Registrations.idBytes) }
            record = Registration(id: id, device: def.id, owner: owner)
            outcome = .created(record)
        }
        try storage.saveRegistration(record, definition: def)
        lock.withLock {
            if definitions[def.id] == nil { order.append(def.id) }
            definitions[def.id] = def
            byId[record.id] = record
            byDevice[def.id] = record.id
        }
        apply(def)
        return outcome
    }
}
