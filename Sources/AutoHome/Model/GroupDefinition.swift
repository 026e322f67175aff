import AutoHomeSupport

/// A group (SPEC §3): devices and child groups; a group may have several parents.
public struct GroupDefinition: Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
    public var devices: [String]
    public var groups: [String]
    public var repeatWindowMs: Int64?

    public init(id: String, name: String? = nil, description: String? = nil, devices: [String] = [],
                groups: [String] = [], repeatWindowMs: Int64? = nil) {
        self.id = id
        self.name = name ?? id
        self.description = description
        self.devices = devices
        self.groups = groups
        self.repeatWindowMs = repeatWindowMs
    }

    public static func decode(_ json: JSON, path: String = "", id fixedId: String? = nil) throws(ModelError) -> GroupDefinition {
        let r = try FieldReader(json, path: path, what: "a group definition")
        let id: String
        if let fixedId {
            id = fixedId
            if let given = try r.string("id", maxBytes: 64), given != fixedId {
                throw ModelError("\"\(given)\" differs from the id in the path", field: r.field("id"))
            }
        } else {
            id = try r.string("id", required: true, maxBytes: 64) ?? ""
        }
        guard Identifiers.isValidId(id) else { throw ModelError(Identifiers.idRule, field: r.field("id")) }
        return GroupDefinition(id: id, name: try r.string("name", maxBytes: 128), description: try r.string("description", maxBytes: 1024),
                               devices: try r.stringArray("devices"), groups: try r.stringArray("groups"),
                               repeatWindowMs: try r.integer("repeatWindowMs", min: 0, max: 86_400_000))
    }

    public var json: JSON {
        var o = JSONObjectBuilder()
        o.add("id", id)
        o.add("name", name)
        o.addIfPresent("description", description)
        o.add("devices", .array(devices.map { .string($0) }))
        o.add("groups", .array(groups.map { .string($0) }))
        if let w = repeatWindowMs { o.add("repeatWindowMs", w) }
        return o.json
    }
}
