import AutoHomeSupport

/// The JSON view of devices shared by the API, `replay`'s final state and the
/// scripts' `home.getDevice` (SPEC §1: switch shows `"value": true, "label": "on"`).
extension PropertyDefinition {
    public func viewJSON(value: PropertyValue) -> JSON {
        var o = JSONObjectBuilder()
        o.add("name", name)
        o.add("type", type.rawValue)
        o.add("value", value.json)
        if let l = value.label { o.add("label", l) }
        o.add("mode", mode.rawValue)
        if type == .dial {
            o.add("min", min)
            o.add("max", max)
        }
        o.addIfPresent("description", description)
        if let w = repeatWindowMs { o.add("repeatWindowMs", w) }
        return o.json
    }
}

extension DeviceVersion {
    public func viewJSON() -> JSON {
        let def = definition
        var o = JSONObjectBuilder()
        o.add("id", def.id)
        o.add("name", def.name)
        o.addIfPresent("description", def.description)
        o.addIfPresent("help", def.help)
        if let h = def.history { o.add("history", h) }
        o.add("properties", .array(def.properties.enumerated().map { i, p in p.viewJSON(value: values[i]) }))
        return o.json
    }
}

extension HistoryPoint {
    public var json: JSON { .object([("value", value.json), ("time", .number(Double(time)))]) }
}
