import AutoHome
import AutoHomeSupport

/// Device registrations (SPEC §5 `POST /v1/devices`): an unguessable id per
/// registered device, which the device then uses as its credential for events
/// and its action stream. Each registration remembers the hash of the token
/// that made it, so another token cannot take the device over.
///
/// Until the SQLite store lands, registrations live in
/// `<dataDir>/registrations.json` and the registered definitions in
/// `<dataDir>/devices.json`, both written atomically on every change.
public struct Registration: Sendable, Equatable {
    public var id: String
    public var device: String
    /// SHA-256 of the token that registered the device.
    public var owner: String
}

public final class Registrations: @unchecked Sendable {
    public static let idBytes = 16  // 128 bits, as hex

    private let lock = Lock()
    private let writeLock = Lock()
    private var byId: [String: Registration] = [:]
    private var byDevice: [String: String] = [:]
    private var definitions: [String: DeviceDefinition] = [:]
    private var order: [String] = []  // device ids, registration order
    public let dataDir: String?

    /// nil `dataDir`: memory only (unit tests).
    public init(dataDir: String?) throws(FileError) {
        self.dataDir = dataDir
        guard let dataDir else { return }
        let regPath = dataDir + "/registrations.json", devPath = dataDir + "/devices.json"
        if Files.exists(devPath) {
            for (i, d) in try Registrations.readList(devPath, key: "devices").enumerated() {
                do throws(ModelError) {
                    let def = try DeviceDefinition.decode(d, path: "devices[\(i)]")
                    if definitions[def.id] == nil { order.append(def.id) }
                    definitions[def.id] = def
                } catch { throw FileError("\(devPath): \(error.description)") }
            }
        }
        if Files.exists(regPath) {
            for r in try Registrations.readList(regPath, key: "registrations") {
                guard let id = r["registration"]?.stringValue, let device = r["device"]?.stringValue,
                      let owner = r["owner"]?.stringValue else {
                    throw FileError("\(regPath): an entry needs \"registration\", \"device\" and \"owner\"")
                }
                // A registration without its definition is useless: skip it.
                guard definitions[device] != nil else { continue }
                byId[id] = Registration(id: id, device: device, owner: owner)
                byDevice[device] = id
            }
        }
        // Definitions nobody can use any more (no registration) are dropped.
        order.removeAll { byDevice[$0] == nil }
    }

    private static func readList(_ path: String, key: String) throws(FileError) -> [JSON] {
        let json: JSON
        do { json = try JSON.parse(bytes: try Files.read(path)) } catch let e as FileError { throw e } catch {
            throw FileError("\(path): \(error)")
        }
        guard let list = json[key]?.arrayValue else { throw FileError("\(path): needs an array \"\(key)\"") }
        return list
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

    /// Registers or updates `def` for the token `owner`. The files are written
    /// before `apply` defines the device in the engine, so what a client was
    /// told is what a restart brings back.
    public func register(_ def: DeviceDefinition, owner: String, apply: (DeviceDefinition) -> Void) throws(FileError) -> Outcome {
        // One registration at a time; lookups (events, on the network thread)
        // only wait for the short map swaps, never for the fsyncs.
        writeLock.lock()
        defer { writeLock.unlock() }
        var (ids, devices, defs, order) = lock.withLock { (byId, byDevice, definitions, self.order) }
        let outcome: Outcome
        if let existing = devices[def.id].flatMap({ ids[$0] }) {
            guard Crypto.constantTimeEqual(existing.owner, owner) else { return .conflict }
            outcome = .updated(existing)
        } else {
            var id = Crypto.randomHex(bytes: Registrations.idBytes)
            while ids[id] != nil { id = Crypto.randomHex(bytes: Registrations.idBytes) }
            let r = Registration(id: id, device: def.id, owner: owner)
            ids[r.id] = r
            devices[r.device] = r.id
            order.append(r.device)
            outcome = .created(r)
        }
        defs[def.id] = def
        try save(ids: ids, devices: devices, definitions: defs, order: order)
        lock.withLock { (byId, byDevice, definitions, self.order) = (ids, devices, defs, order) }
        apply(def)
        return outcome
    }

    private func save(ids: [String: Registration], devices: [String: String], definitions: [String: DeviceDefinition],
                      order: [String]) throws(FileError) {
        guard let dataDir else { return }
        let devJSON = JSON.object([("devices", .array(order.compactMap { definitions[$0]?.definitionJSON }))])
        let regJSON = JSON.object([("registrations", .array(order.compactMap { devices[$0].flatMap { ids[$0] } }.map {
            .object([("registration", .string($0.id)), ("device", .string($0.device)), ("owner", .string($0.owner))])
        }))])
        try Files.makeDirectories(dataDir)
        try Files.writeAtomically(dataDir + "/devices.json", Array((devJSON.text + "\n").utf8))
        // Registration ids are credentials: owner-only file.
        try Files.writeAtomically(dataDir + "/registrations.json", Array((regJSON.text + "\n").utf8), mode: 0o600)
    }
}

extension DeviceDefinition {
    /// The definition as a device would POST it (initial values, no live
    /// state): what devices.json keeps. Switch values keep their word.
    public var definitionJSON: JSON {
        var o = JSONObjectBuilder()
        o.add("id", id)
        o.add("name", name)
        o.addIfPresent("description", description)
        o.addIfPresent("help", help)
        if let h = history { o.add("history", h) }
        o.add("properties", .array(properties.map { p in
            var po = JSONObjectBuilder()
            po.add("name", p.name)
            po.add("type", p.type.rawValue)
            po.add("value", p.initial.label.map { JSON.string($0) } ?? p.initial.json)
            po.add("mode", p.mode.rawValue)
            if p.type == .dial { po.add("min", p.min); po.add("max", p.max) }
            po.addIfPresent("description", p.description)
            if let w = p.repeatWindowMs { po.add("repeatWindowMs", w) }
            return po.json
        }))
        return o.json
    }
}
