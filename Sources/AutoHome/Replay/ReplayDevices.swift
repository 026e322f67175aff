import AutoHomeSupport

/// `replay --devices FILE` and `--groups FILE`: the devices and groups of a
/// live appliance, as `GET /v1/devices` and `GET /v1/groups` answer them, so
/// rules can be tried offline against what the box really has.
public enum ReplayDevices {
    /// Reads `{"devices": [...]}` (or a bare array, or one device) and adds the
    /// devices to `config`, their current values as initial values. A device
    /// the config defines too keeps the config's definition and takes the
    /// file's values where a property of the same name and type exists.
    public static func merge(devicesJSON json: JSON, into config: inout Config, source: String) throws(ModelError) {
        let list: [JSON]
        if let devices = json["devices"]?.arrayValue { list = devices }
        else if let a = json.arrayValue { list = a }
        else if json["id"] != nil { list = [json] }
        else { throw ModelError("\(source): expected the output of GET /v1/devices ({\"devices\": [...]})") }
        for (i, item) in list.enumerated() {
            let def: DeviceDefinition
            do throws(ModelError) { def = try DeviceDefinition.decode(item, path: "devices[\(i)]") } catch {
                throw ModelError("\(source): \(error.field.map { "\($0): " } ?? "")\(error.message)")
            }
            if let k = config.devices.firstIndex(where: { $0.id == def.id }) {
                for (p, prop) in config.devices[k].properties.enumerated() {
                    if let live = def.properties.first(where: { $0.name == prop.name && $0.type == prop.type }), prop.type != .button {
                        config.devices[k].properties[p].initial = live.initial
                    }
                }
            } else {
                config.devices.append(def)
            }
        }
    }

    /// Reads `{"groups": [...]}` (or a bare array): the whole group set, as on
    /// the appliance (API groups replace the config's).
    public static func groups(_ json: JSON, source: String) throws(ModelError) -> [GroupDefinition] {
        guard let list = json["groups"]?.arrayValue ?? json.arrayValue else {
            throw ModelError("\(source): expected the output of GET /v1/groups ({\"groups\": [...]})")
        }
        var out: [GroupDefinition] = []
        for (i, item) in list.enumerated() {
            do throws(ModelError) { out.append(try GroupDefinition.decode(item, path: "groups[\(i)]")) } catch {
                throw ModelError("\(source): \(error.field.map { "\($0): " } ?? "")\(error.message)")
            }
        }
        return out
    }
}
