import AutoHome
import AutoHomeSupport

/// `<dataDir>/devices.json` (the registered definitions, as a device would
/// POST them) and `<dataDir>/registrations.json` (registration id, device,
/// owner's token hash; 0600: the ids are credentials).
enum RegistrationFiles {
    static func read(dataDir: String) throws(StorageError) -> [(registration: StoredRegistration, definition: DeviceDefinition)] {
        let devPath = dataDir + "/devices.json", regPath = dataDir + "/registrations.json"
        var definitions: [String: DeviceDefinition] = [:]
        if Files.exists(devPath) {
            let json = try JSONDocument.read(devPath)
            for (i, d) in try JSONDocument.list(json, "devices", in: devPath).enumerated() {
                do throws(ModelError) {
                    let def = try DeviceDefinition.decode(d, path: "devices[\(i)]")
                    definitions[def.id] = def
                } catch { throw StorageError("\(devPath): \(error.description)") }
            }
        }
        var out: [(registration: StoredRegistration, definition: DeviceDefinition)] = []
        guard Files.exists(regPath) else { return out }
        let json = try JSONDocument.read(regPath)
        for r in try JSONDocument.list(json, "registrations", in: regPath) {
            guard let id = r["registration"]?.stringValue, let device = r["device"]?.stringValue,
                  let owner = r["owner"]?.stringValue else {
                throw StorageError("\(regPath): an entry needs \"registration\", \"device\" and \"owner\"")
            }
            // A registration without its definition is useless: skip it.
            guard let def = definitions[device] else { continue }
            out.removeAll { $0.registration.device == device }
            out.append((StoredRegistration(id: id, device: device, owner: owner), def))
        }
        return out
    }

    static func write(dataDir: String, _ list: [(registration: StoredRegistration, definition: DeviceDefinition)]) throws(StorageError) {
        let devJSON = JSON.object([("devices", .array(list.map { $0.definition.definitionJSON }))])
        let regJSON = JSON.object([("registrations", .array(list.map {
            .object([("registration", .string($0.registration.id)), ("device", .string($0.registration.device)),
                     ("owner", .string($0.registration.owner))])
        }))])
        try JSONDocument.write(dataDir + "/devices.json", devJSON)
        try JSONDocument.write(dataDir + "/registrations.json", regJSON, mode: 0o600)
    }
}
