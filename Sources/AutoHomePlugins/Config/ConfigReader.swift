import AutoHome
import AutoHomeSupport

/// Reads one object of the `gpio`/`plugins` sections with errors that name
/// the key (`gpio.lines[2].edge`) and, through `context`, the line.
struct ConfigReader {
    let members: [(String, JSON)]
    let path: String
    /// Added after the key in messages, e.g. ` (chip "gpiochip0" line 17)`.
    var context = ""
    let source: String

    init(_ json: JSON, path: String, source: String, what: String) throws(ConfigError) {
        guard case .object(let m) = json else {
            throw ConfigError("\(source): \"\(path)\" must be \(what) (an object), not \(json.kindName)")
        }
        members = m
        self.path = path
        self.source = source
    }

    func fail(_ key: String?, _ message: String) -> ConfigError {
        let k = key.map { "\(path).\($0)" } ?? path
        return ConfigError("\(source): \"\(k)\"\(context) \(message)")
    }

    func only(_ known: [String]) throws(ConfigError) {
        for (k, _) in members where !known.contains(k) {
            throw fail(k, "is not a known key (\(known.joined(separator: ", ")))")
        }
    }

    func value(_ key: String) -> JSON? { members.first { $0.0 == key }?.1 }

    func string(_ key: String, required: Bool = false) throws(ConfigError) -> String? {
        guard let v = value(key) else {
            if required { throw fail(key, "is required") }
            return nil
        }
        guard case .string(let s) = v, !s.isEmpty else { throw fail(key, "must be a non-empty string, not \(v.kindName)") }
        return s
    }

    func bool(_ key: String, default d: Bool) throws(ConfigError) -> Bool {
        guard let v = value(key) else { return d }
        guard case .bool(let b) = v else { throw fail(key, "must be true or false, not \(v.kindName)") }
        return b
    }

    func number(_ key: String, _ lo: Double, _ hi: Double, required: Bool = false) throws(ConfigError) -> Double? {
        guard let v = value(key) else {
            if required { throw fail(key, "is required") }
            return nil
        }
        guard case .number(let d) = v else { throw fail(key, "must be a number, not \(v.kindName)") }
        guard d >= lo, d <= hi else { throw fail(key, "must be from \(ConfigReader.show(lo)) to \(ConfigReader.show(hi))") }
        return d
    }

    func int(_ key: String, _ lo: Int, _ hi: Int, default d: Int) throws(ConfigError) -> Int {
        guard let n = try number(key, Double(lo), Double(hi)) else { return d }
        guard n == n.rounded() else { throw fail(key, "must be a whole number from \(lo) to \(hi)") }
        return Int(n)
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default d: T) throws(ConfigError) -> T where T.RawValue == String {
        guard let s = try string(key) else { return d }
        guard let v = T(rawValue: s) else {
            throw fail(key, "must be one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), not \"\(s)\"")
        }
        return v
    }

    static func show(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
}
