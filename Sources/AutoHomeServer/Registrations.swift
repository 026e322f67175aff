import AutoHome
import AutoHomeSupport

/// Device registrations (SPEC §5 `POST /v1/devices`): an unguessable id per
/// registered device, which the device then uses as its credential for events
/// and its action stream. Each registration remembers the hash of the token
/// that made it (its owner), so another token cannot take the device over.
///
/// The id itself is never stored: the store keeps its SHA-256 (to find the
/// device for an event) and the id sealed under the data folder's key
/// (`RegistrationSeal`), so the owner re-registering gets the same id back.
///
/// Ownership rule: a device belongs to the token that registered it. When that
/// token is deleted, the device keeps working and its owner becomes "admin":
/// any admin token may then update it (`POST /v1/devices`), rotate its
/// registration or delete it. Rotation and deletion are also open to admin
/// tokens for devices that still have their token.
///
/// Policy lives here; the records go through `RegistrationStorage`.
public typealias Registration = StoredRegistration

public final class Registrations: @unchecked Sendable {
    public static let idBytes = 16  // 128 bits, as hex
    /// The owner of a device whose token was deleted.
    public static let adminOwner = "admin"

    private let lock = Lock()
    private let writeLock = Lock()
    private var byHash: [String: Registration] = [:]
    private var byDevice: [String: String] = [:]
    private var definitions: [String: DeviceDefinition] = [:]
    private var order: [String] = []  // device ids, registration order
    private let storage: RegistrationStorage
    private let seal: RegistrationSeal

    /// `knownOwner`: whether a stored owner hash is still a token; a device
    /// whose token is gone (also one deleted just before a crash) is admin's.
    public init(storage: RegistrationStorage, seal: RegistrationSeal, knownOwner: (String) -> Bool = { _ in true }) throws(StorageError) {
        self.storage = storage
        self.seal = seal
        for (r, def) in try storage.loadRegistrations() {
            var r = r
            if r.owner != Registrations.adminOwner && !knownOwner(r.owner) { r.owner = Registrations.adminOwner }
            if definitions[def.id] == nil { order.append(def.id) }
            definitions[def.id] = def
            byHash[r.idHash] = r
            byDevice[r.device] = r.idHash
        }
    }

    /// The registered definitions to define at start-up, in registration order.
    public var storedDevices: [DeviceDefinition] { lock.withLock { order.compactMap { definitions[$0] } } }

    /// The device a registration id (from a URL) stands for.
    public func lookup(_ registration: String) -> Registration? {
        guard registration.utf8.count == Registrations.idBytes * 2 else { return nil }
        let hash = Crypto.sha256Hex(registration)
        return lock.withLock { byHash[hash] }
    }

    public func registration(ofDevice id: String) -> Registration? { lock.withLock { byDevice[id].flatMap { byHash[$0] } } }
    public func isRegistered(_ device: String) -> Bool { lock.withLock { byDevice[device] != nil } }

    /// Whether `token` may update the device (`POST /v1/devices`).
    static func mayUpdate(_ r: Registration, _ token: TokenInfo) -> Bool {
        Crypto.constantTimeEqual(r.owner, token.hash) || (r.owner == adminOwner && token.scope == .admin)
    }

    /// Whether `token` may rotate or delete the device: its owner or any admin.
    public static func mayManage(_ r: Registration, _ token: TokenInfo) -> Bool {
        token.scope == .admin || Crypto.constantTimeEqual(r.owner, token.hash)
    }

    public enum Outcome: Equatable {
        case created(String)
        case updated(String)
        /// The device belongs to another token.
        case conflict
    }

    /// Registers or updates `def` for `token`. The record is stored before
    /// `apply` defines the device in the engine, so what a client was told is
    /// what a restart brings back. The outcome carries the registration id.
    public func register(_ def: DeviceDefinition, token: TokenInfo, apply: (DeviceDefinition) -> Void) throws(StorageError) -> Outcome {
        // One change at a time; lookups (events, on the network thread) only
        // wait for the short map swaps, never for the storage write.
        writeLock.lock()
        defer { writeLock.unlock() }
        let existing = lock.withLock { byDevice[def.id].flatMap { byHash[$0] } }
        let outcome: Outcome
        let record: Registration
        if let existing {
            guard Registrations.mayUpdate(existing, token) else { return .conflict }
            // The hash proves the unsealed id (another box's key gives noise).
            guard let id = seal.open(existing.sealed, device: def.id), Crypto.sha256Hex(id) == existing.idHash else {
                throw StorageError("the registration of \"\(def.id)\" was sealed with another data folder's key; "
                                   + "rotate it (POST /v1/devices/\(def.id)/registration) to get a new one")
            }
            record = existing
            outcome = .updated(id)
        } else {
            let id = newId()
            record = Registration(idHash: Crypto.sha256Hex(id), sealed: seal.seal(id, device: def.id), device: def.id, owner: token.hash)
            outcome = .created(id)
        }
        try storage.saveRegistration(record, definition: def)
        lock.withLock {
            if definitions[def.id] == nil { order.append(def.id) }
            definitions[def.id] = def
            byHash[record.idHash] = record
            byDevice[def.id] = record.idHash
        }
        apply(def)
        return outcome
    }

    public enum ManageOutcome: Equatable {
        case done(String)
        case unknown
        case forbidden
    }

    /// A new registration id for the device; the old one stops working as
    /// soon as this returns (it is gone from memory and from the store).
    public func rotate(device: String, token: TokenInfo) throws(StorageError) -> ManageOutcome {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard let (old, def) = lock.withLock({ () -> (Registration, DeviceDefinition)? in
            guard let h = byDevice[device], let r = byHash[h], let d = definitions[device] else { return nil }
            return (r, d)
        }) else { return .unknown }
        guard Registrations.mayManage(old, token) else { return .forbidden }
        let id = newId()
        var record = old
        record.idHash = Crypto.sha256Hex(id)
        record.sealed = seal.seal(id, device: device)
        // Memory first: no event gets through on the old id from here on, even
        // while the store writes.
        lock.withLock {
            byHash[old.idHash] = nil
            byHash[record.idHash] = record
            byDevice[device] = record.idHash
        }
        // Not saved (disk full): the caller answers 500; the new id works until
        // a restart, which would bring the old one back.
        try storage.saveRegistration(record, definition: def)
        return .done(id)
    }

    /// Forgets a deleted device (memory first, then the store, which removes
    /// its values, pending actions and history with it).
    public func remove(device: String) throws(StorageError) {
        writeLock.lock()
        defer { writeLock.unlock() }
        lock.withLock {
            if let h = byDevice.removeValue(forKey: device) { byHash[h] = nil }
            definitions[device] = nil
            order.removeAll { $0 == device }
        }
        try storage.deleteRegistration(device: device)
    }

    /// A token was deleted: the devices it registered become admin's.
    public func adopt(owner hash: String) throws(StorageError) {
        writeLock.lock()
        defer { writeLock.unlock() }
        let owned: [(Registration, DeviceDefinition)] = lock.withLock {
            byHash.values.filter { $0.owner == hash }.compactMap { r in definitions[r.device].map { (r, $0) } }
        }
        for (r, def) in owned {
            var adopted = r
            adopted.owner = Registrations.adminOwner
            try storage.saveRegistration(adopted, definition: def)
            lock.withLock { byHash[adopted.idHash] = adopted }
        }
    }

    private func newId() -> String {
        while true {
            let id = Crypto.randomHex(bytes: Registrations.idBytes)
            let hash = Crypto.sha256Hex(id)
            if lock.withLock({ byHash[hash] == nil }) { return id }
        }
    }
}

/// Seals registration ids under a key kept in its own file
/// (`<dataDir>/registration.key`, 0600), beside the store but not in it: a
/// copy of the store (a backup) holds no usable credential. The seal is the
/// id XOR SHA-256(key, salt, device), with a fresh random salt each time.
public struct RegistrationSeal: Sendable {
    let key: String

    public init(key: String) { self.key = key }

    /// Reads the key file, creating it on first start.
    public static func load(path: String) throws(StorageError) -> RegistrationSeal {
        if Files.exists(path) {
            do throws(FileError) {
                let text = try Files.readText(path).trimmingSpaces()
                guard text.utf8.count == 64 else { throw FileError("\(path) does not hold a 64-digit key") }
                return RegistrationSeal(key: text)
            } catch { throw StorageError(error) }
        }
        let key = Crypto.randomHex(bytes: 32)
        do throws(FileError) { try Files.writeAtomically(path, Array((key + "\n").utf8), mode: 0o600) } catch { throw StorageError(error) }
        return RegistrationSeal(key: key)
    }

    private func pad(salt: String, device: String) -> [UInt8] {
        Hex.bytes(Crypto.sha256Hex(key + ":" + salt + ":" + device))
    }

    public func seal(_ id: String, device: String) -> String {
        let salt = Crypto.randomHex(bytes: 16)
        let p = pad(salt: salt, device: device)
        let bytes = Hex.bytes(id)
        return salt + ":" + Hex.string(bytes.enumerated().map { $0.element ^ p[$0.offset % p.count] })
    }

    public func open(_ sealed: String, device: String) -> String? {
        let parts = sealed.split(separator: ":")
        guard parts.count == 2 else { return nil }
        let p = pad(salt: String(parts[0]), device: device)
        let bytes = Hex.bytes(String(parts[1]))
        guard bytes.count == Registrations.idBytes else { return nil }
        return Hex.string(bytes.enumerated().map { $0.element ^ p[$0.offset % p.count] })
    }
}

enum Hex {
    static func bytes(_ s: String) -> [UInt8] {
        let u = Array(s.utf8)
        func v(_ c: UInt8) -> UInt8 {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return 0
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i + 1 < u.count { out.append(v(u[i]) << 4 | v(u[i + 1])); i += 2 }
        return out
    }

    static func string(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for x in b { out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
