import AutoHomeSupport

/// A stored property value. Switches and buttons keep the word that set them
/// ("on", "open", …) beside the boolean, as the seed design asks.
public enum PropertyValue: Equatable, Sendable {
    case flag(Bool, label: String)
    case number(Double)
    case text(String)

    /// The JSON `value` field: booleans for switch/button, numbers, strings.
    public var json: JSON {
        switch self {
        case .flag(let b, _): return .bool(b)
        case .number(let d): return .number(d)
        case .text(let s): return .string(s)
        }
    }

    public var label: String? {
        if case .flag(_, let l) = self { return l }
        return nil
    }

    /// Whether a new value counts as a change against the old one. A switch
    /// changes when its state flips, not when only the word differs.
    public func sameState(as other: PropertyValue) -> Bool {
        switch (self, other) {
        case let (.flag(a, _), .flag(b, _)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.text(a), .text(b)): return a == b
        default: return false
        }
    }
}
