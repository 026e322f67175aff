import AutoHomeSupport

/// Reads typed fields out of a JSON object with the path of each field in the
/// error, so "properties[2].min: must be a number" tells the user where to look.
struct FieldReader {
    let members: [(String, JSON)]
    let path: String

    init(_ json: JSON, path: String, what: String) throws(ModelError) {
        guard case .object(let m) = json else {
            throw ModelError("\(what) must be a JSON object, not \(json.kindName)", field: path.isEmpty ? nil : path)
        }
        members = m
        self.path = path
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) -> JSON? {
        for (k, v) in members where k == key { return v }
        return nil
    }

    func string(_ key: String, required: Bool = false, maxBytes: Int = 128) throws(ModelError) -> String? {
        guard let v = value(key), v != .null else {
            if required { throw ModelError("is required", field: field(key)) }
            return nil
        }
        guard case .string(let s) = v else { throw ModelError("must be a string, not \(v.kindName)", field: field(key)) }
        if s.utf8.count > maxBytes { throw ModelError("is longer than \(maxBytes) bytes", field: field(key)) }
        return s
    }

    func number(_ key: String) throws(ModelError) -> Double? {
        guard let v = value(key), v != .null else { return nil }
        guard case .number(let d) = v else { throw ModelError("must be a number, not \(v.kindName)", field: field(key)) }
        return d
    }

    func integer(_ key: String, min lo: Int64, max hi: Int64) throws(ModelError) -> Int64? {
        guard let d = try number(key) else { return nil }
        guard d == d.rounded(), d >= Double(lo), d <= Double(hi) else {
            throw ModelError("must be a whole number from \(lo) to \(hi)", field: field(key))
        }
        return Int64(d)
    }

    func array(_ key: String, required: Bool = false) throws(ModelError) -> [JSON]? {
        guard let v = value(key), v != .null else {
            if required { throw ModelError("is required", field: field(key)) }
            return nil
        }
        guard case .array(let a) = v else { throw ModelError("must be an array, not \(v.kindName)", field: field(key)) }
        return a
    }

    func stringArray(_ key: String) throws(ModelError) -> [String] {
        guard let items = try array(key) else { return [] }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw ModelError("must be a string", field: "\(field(key))[\(i)]") }
            out.append(s)
        }
        return out
    }
}
