import AutoHomeSupport

/// One property of a device definition (SPEC §1).
public struct PropertyDefinition: Sendable, Equatable {
    public var name: String
    public var type: PropertyType
    public var mode: PropertyMode
    /// Dial bounds; 0 and 100 when a dial leaves them out.
    public var min: Double
    public var max: Double
    public var description: String?
    /// nil: the config's default `repeatWindowMs` applies.
    public var repeatWindowMs: Int64?
    /// The value the property starts with.
    public var initial: PropertyValue

    public static let defaultDialMin = 0.0
    public static let defaultDialMax = 100.0

    public init(name: String, type: PropertyType, mode: PropertyMode = .readWrite, min: Double = defaultDialMin,
                max: Double = defaultDialMax, description: String? = nil, repeatWindowMs: Int64? = nil,
                initial: PropertyValue? = nil) {
        self.name = name
        self.type = type
        self.mode = mode
        self.min = min
        self.max = max
        self.description = description
        self.repeatWindowMs = repeatWindowMs
        self.initial = initial ?? PropertyDefinition.defaultValue(type: type, min: min, max: max)
    }

    /// Switch and button start off, a dial at its minimum, text empty.
    public static func defaultValue(type: PropertyType, min: Double, max: Double) -> PropertyValue {
        switch type {
        case .switch, .button: return .flag(false, label: "off")
        case .dial: return .number(min)
        case .text: return .text("")
        }
    }

    static func decode(_ json: JSON, path: String) throws(ModelError) -> PropertyDefinition {
        let r = try FieldReader(json, path: path, what: "a property")
        guard let name = try r.string("name", required: true, maxBytes: 64), Identifiers.isValidPropertyName(name) else {
            throw ModelError("must match [A-Za-z0-9_]{1,64}", field: r.field("name"))
        }
        guard let typeName = try r.string("type", required: true) else { throw ModelError("is required", field: r.field("type")) }
        guard let type = PropertyType(rawValue: typeName) else {
            throw ModelError("unknown type \"\(typeName)\" (switch, dial, button or text)", field: r.field("type"))
        }
        var mode = PropertyMode.readWrite
        if let m = try r.string("mode") {
            guard let pm = PropertyMode(rawValue: m) else { throw ModelError("must be RO, RW or WO", field: r.field("mode")) }
            mode = pm
        }
        var lo = defaultDialMin, hi = defaultDialMax
        if type == .dial {
            lo = try r.number("min") ?? defaultDialMin
            hi = try r.number("max") ?? defaultDialMax
            if lo > hi { throw ModelError("min (\(JSON.number(lo).text)) is greater than max (\(JSON.number(hi).text))", field: r.field("min")) }
        }
        let window = try r.integer("repeatWindowMs", min: 0, max: 86_400_000)
        var def = PropertyDefinition(name: name, type: type, mode: mode, min: lo, max: hi,
                                     description: try r.string("description", maxBytes: 1024), repeatWindowMs: window)
        if var v = r.value("value"), v != .null {
            // A device view posted back (or replay --devices) shows a switch
            // as {"value": false, "label": "off"}: keep its word.
            if case .bool = v, type.isFlag, case .string(let word)? = r.value("label"),
               case .success(let labelled) = Coercion.coerce(.string(word), to: def),
               case .success(let plain) = Coercion.coerce(v, to: def), labelled.sameState(as: plain) {
                v = .string(word)
            }
            switch Coercion.coerce(v, to: def) {
            case .success(let value): def.initial = value
            case .failure(let e): throw ModelError(e.message, field: r.field("value"))
            }
        }
        return def
    }
}
