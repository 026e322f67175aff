import CSQLite
import AutoHome
import AutoHomeSupport

/// How a `PropertyValue` sits in a (value, label) column pair: a switch or
/// button is INTEGER 0/1 with its word in `label`, a dial REAL, a text TEXT.
/// The columns have no declared type, so SQLite keeps each value's own kind
/// and it reads back as what was written.
enum ValueColumns {
    static func bind(_ v: PropertyValue) -> (Any?, Any?) {
        switch v {
        case .flag(let b, let label): return (Int64(b ? 1 : 0), label)
        case .number(let d): return (d, nil)
        case .text(let s): return (s, nil)
        }
    }

    /// nil for a NULL or a kind we never write (a hand-edited row).
    static func read(_ s: Statement, value: Int32, label: Int32) -> PropertyValue? {
        switch s.type(value) {
        case SQLITE_INTEGER:
            let b = s.int(value) != 0
            return .flag(b, label: s.text(label) ?? (b ? "on" : "off"))
        case SQLITE_FLOAT: return .number(s.double(value))
        case SQLITE_TEXT: return .text(s.text(value) ?? "")
        default: return nil
        }
    }
}
