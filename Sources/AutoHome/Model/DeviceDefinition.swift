import AutoHomeSupport

/// A device definition (SPEC §1): what a device registers or the config declares.
public struct DeviceDefinition: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
    public var help: String?
    public var properties: [PropertyDefinition]
    /// Value-history ring length for each property; nil: config `propertyHistory`.
    public var history: Int?

    public static let maxProperties = 256
    public static let maxHistory = 10_000

    public init(id: String, name: String, description: String? = nil, help: String? = nil,
                properties: [PropertyDefinition], history: Int? = nil) {
        self.id = id
        self.name = name
        self.description = description
        self.help = help
        self.properties = properties
        self.history = history
    }

    public func propertyIndex(_ name: String) -> Int? {
        properties.firstIndex { $0.name == name }
    }

    public static func decode(_ json: JSON, path: String = "") throws(ModelError) -> DeviceDefinition {
        let r = try FieldReader(json, path: path, what: "a device definition")
        guard let id = try r.string("id", required: true, maxBytes: 64), Identifiers.isValidId(id) else {
            throw ModelError(Identifiers.idRule, field: r.field("id"))
        }
        let name = try r.string("name", maxBytes: 128) ?? id
        guard let list = try r.array("properties", required: true) else { throw ModelError("is required", field: r.field("properties")) }
        if list.count > maxProperties { throw ModelError("more than \(maxProperties) properties", field: r.field("properties")) }
        var props: [PropertyDefinition] = []
        var seen = Set<String>()
        for (i, p) in list.enumerated() {
            let def = try PropertyDefinition.decode(p, path: "\(r.field("properties"))[\(i)]")
            if !seen.insert(def.name).inserted {
                throw ModelError("property name \"\(def.name)\" is used twice", field: "\(r.field("properties"))[\(i)].name")
            }
            props.append(def)
        }
        let history = try r.integer("history", min: 1, max: Int64(maxHistory)).map { Int($0) }
        return DeviceDefinition(id: id, name: name, description: try r.string("description", maxBytes: 1024),
                                help: try r.string("help", maxBytes: 4096), properties: props, history: history)
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
