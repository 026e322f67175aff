import AutoHomeSupport

/// How an incoming JSON value becomes a stored value (SPEC §1's table).
/// Wrong kinds are rejected naming the property; dials clamp, never reject.
public enum Coercion {
    static let onWords: Set<String> = ["on", "up", "open", "yes", "true"]
    static let offWords: Set<String> = ["off", "down", "closed", "close", "no", "false"]
    public static let maxTextBytes = 1024

    public static func coerce(_ value: JSON, to def: PropertyDefinition) -> Result<PropertyValue, ModelError> {
        switch def.type {
        case .switch, .button:
            switch value {
            case .bool(let b): return .success(.flag(b, label: b ? "true" : "false"))
            case .string(let s):
                let w = s.lowercased()
                if onWords.contains(w) { return .success(.flag(true, label: w)) }
                if offWords.contains(w) { return .success(.flag(false, label: w)) }
                return .failure(ModelError(
                    "\(def.type.rawValue) '\(def.name)' does not accept \"\(s)\" (use true/false, on/off, up/down, open/closed, yes/no)",
                    field: def.name))
            default:
                return .failure(ModelError("\(def.type.rawValue) '\(def.name)' does not accept a \(value.kindName)", field: def.name))
            }
        case .dial:
            let number: Double
            switch value {
            case .number(let d): number = d
            case .string(let s):
                guard Coercion.isPlainDecimal(s), let d = Double(s), d.isFinite else {
                    return .failure(ModelError("dial '\(def.name)' does not accept \"\(s)\" (not a number)", field: def.name))
                }
                number = d
            default:
                return .failure(ModelError("dial '\(def.name)' does not accept a \(value.kindName)", field: def.name))
            }
            return .success(.number(min(max(number, def.min), def.max)))
        case .text:
            guard case .string(let s) = value else {
                return .failure(ModelError("text '\(def.name)' does not accept a \(value.kindName)", field: def.name))
            }
            guard s.utf8.count <= maxTextBytes else {
                return .failure(ModelError("text '\(def.name)' is \(s.utf8.count) bytes, more than \(maxTextBytes)", field: def.name))
            }
            return .success(.text(s))
        }
    }

    /// A plain decimal numeral: optional "-", digits with an optional
    /// fraction, an optional exponent ("21.5", "-3", "1e3"). Not "0x10",
    /// " 5 ", "+5", "inf" or "nan", which Double() would take (SPEC §1).
    static func isPlainDecimal(_ s: String) -> Bool {
        let u = Array(s.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < u.count, u[i] >= 0x30, u[i] <= 0x39 { i += 1 }
            return i - start
        }
        if i < u.count, u[i] == UInt8(ascii: "-") { i += 1 }
        var n = digits()
        if i < u.count, u[i] == UInt8(ascii: ".") { i += 1; n += digits() }
        guard n > 0 else { return false }
        if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            i += 1
            if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == u.count
    }
}
