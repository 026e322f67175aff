/// A JSON value. Objects keep their key order so what we print reads like what
/// we were given (and like the docs). Foundation-free on purpose: the daemon is
/// linked statically and every megabyte counts on the appliance.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSON? {
        if case .object(let members) = self {
            for (k, v) in members where k == key { return v }
        }
        return nil
    }

    public var objectMembers: [(String, JSON)]? {
        if case .object(let m) = self { return m }
        return nil
    }
    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    public var numberValue: Double? {
        if case .number(let n) = self { return n }
        return nil
    }
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The JSON kind, as error messages name it.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// Builds objects without the tuple noise: `JSON.obj(["a": 1])` loses order, so
/// call sites use this small builder instead.
public struct JSONObjectBuilder {
    public private(set) var members: [(String, JSON)] = []
    public init() {}
    public mutating func add(_ key: String, _ value: JSON) { members.append((key, value)) }
    public mutating func add(_ key: String, _ value: String) { members.append((key, .string(value))) }
    public mutating func add(_ key: String, _ value: Double) { members.append((key, .number(value))) }
    public mutating func add(_ key: String, _ value: Int) { members.append((key, .number(Double(value)))) }
    public mutating func add(_ key: String, _ value: Int64) { members.append((key, .number(Double(value)))) }
    public mutating func add(_ key: String, _ value: Bool) { members.append((key, .bool(value))) }
    public mutating func addIfPresent(_ key: String, _ value: String?) {
        if let value { members.append((key, .string(value))) }
    }
    public var json: JSON { .object(members) }
}
