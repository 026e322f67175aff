import AutoHome
import AutoHomeSupport

/// `<dataDir>/devices.json` (the registered definitions, as a device would
/// POST them) and `<dataDir>/registrations.json` (registration id, device,
/// owner's token hash; 0600: the ids are credentials).
enum RegistrationFiles {
    static func read(dataDir: String) throws(StorageError) -> [(id: String, device: String, owner: String, definition: DeviceDefinition)] {
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
        var out: [(id: String, device: String, owner: String, definition: DeviceDefinition)] = []
        guard Files.exists(regPath) else { return out }
        let json = try JSONDocument.read(regPath)
        for r in try JSONDocument.list(json, "registrations", in: regPath) {
            guard let id = r["registration"]?.stringValue, let device = r["device"]?.stringValue,
                  let owner = r["owner"]?.stringValue else {
                throw StorageError("\(regPath): an entry needs \"registration\", \"device\" and \"owner\"")
            }
            // A registration without its definition cannot be defined: say so.
            guard let def = definitions[device] else {
                Log.warn("\(regPath): the registration of \"\(device)\" has no definition in \(devPath); it is not imported")
                continue
            }
            out.removeAll { $0.device == device }
            out.append((id, device, owner, def))
        }
        return out
    }
}
