import AutoHomeSupport

/// `replay --expect FILE`: compares replay's output lines with expected ones,
/// as a test of the owner's rules. The matching is a subset match (the same
/// as `scripts/run-scenarios.py` and docs/javascript.md describe):
/// - object: every key written in the expectation must exist and match;
///   other keys are ignored;
/// - array: same length, element by element;
/// - number: numerically (within 1e-9), never equal to a boolean;
///   string, boolean, null: equal;
/// - special one-key objects: `{"$contains": "s" | ["s", …]}` (a string
///   holding each, case-insensitive), `{"$any": true}`, `{"$unordered": […]}`
///   (same length, some order), `{"$has": […]}` (each item matches a distinct
///   element), `{"$lacks": […]}` (no element matches any item).
public enum ReplayExpectation {
    /// nil when `actual` matches `expected`, else where and why not.
    public static func mismatch(_ expected: JSON, _ actual: JSON, path: String = "$") -> String? {
        if case .object(let m) = expected, m.count == 1, m[0].0.hasPrefix("$") {
            let (kind, arg) = m[0]
            switch kind {
            case "$any": return nil
            case "$contains":
                guard case .string(let s) = actual else { return "\(path): expected a string containing \(short(arg)), got \(short(actual))" }
                let needles = arg.arrayValue ?? [arg]
                for n in needles {
                    let needle = n.stringValue ?? n.text
                    if !s.lowercased().contains(needle.lowercased()) { return "\(path): \(short(actual)) does not contain \(short(.string(needle)))" }
                }
                return nil
            case "$unordered", "$has", "$lacks":
                guard case .array(let acts) = actual else { return "\(path): expected an array, got \(short(actual))" }
                let exps = arg.arrayValue ?? [arg]
                if kind == "$lacks" {
                    for (i, a) in acts.enumerated() where exps.contains(where: { mismatch($0, a) == nil }) {
                        return "\(path)[\(i)]: \(short(a)) must not be present"
                    }
                    return nil
                }
                if kind == "$unordered" && exps.count != acts.count {
                    return "\(path): expected \(exps.count) elements (any order), got \(acts.count): \(short(actual))"
                }
                var used = Set<Int>()
                if !assign(exps, acts, 0, &used) {
                    let how = kind == "$unordered" ? "in any order" : "among the elements"
                    return "\(path): could not match \(short(arg)) \(how) of \(short(actual))"
                }
                return nil
            default: break   // an ordinary key that happens to start with "$"
            }
        }
        switch expected {
        case .object(let members):
            guard case .object = actual else { return "\(path): expected an object, got \(short(actual))" }
            for (k, v) in members {
                guard let a = actual[k] else { return "\(path): missing key \"\(k)\"" }
                if let m = mismatch(v, a, path: "\(path).\(k)") { return m }
            }
            return nil
        case .array(let exps):
            guard case .array(let acts) = actual else { return "\(path): expected an array, got \(short(actual))" }
            if exps.count != acts.count { return "\(path): expected \(exps.count) elements, got \(acts.count): \(short(actual))" }
            for (i, (e, a)) in zip(exps, acts).enumerated() {
                if let m = mismatch(e, a, path: "\(path)[\(i)]") { return m }
            }
            return nil
        case .number(let x):
            guard case .number(let y) = actual, abs(x - y) <= 1e-9 else { return "\(path): expected \(expected.text), got \(short(actual))" }
            return nil
        default:
            return expected == actual ? nil : "\(path): expected \(short(expected)), got \(short(actual))"
        }
    }

    private static func assign(_ exps: [JSON], _ acts: [JSON], _ i: Int, _ used: inout Set<Int>) -> Bool {
        if i == exps.count { return true }
        for (j, a) in acts.enumerated() where !used.contains(j) && mismatch(exps[i], a) == nil {
            used.insert(j)
            if assign(exps, acts, i + 1, &used) { return true }
            used.remove(j)
        }
        return false
    }

    static func short(_ v: JSON, limit: Int = 300) -> String {
        let s = v.text
        return s.utf8.count <= limit ? s : String(decoding: Array(s.utf8.prefix(limit)), as: UTF8.self) + "…"
    }

    /// Compares every output line with the expected line of the same number.
    /// The failures, one message per line that differs (empty: all match).
    public static func compare(expected: [JSON], actual: [String]) -> [String] {
        var fails: [String] = []
        let acts: [JSON?] = actual.map { try? JSON.parse($0) }
        for i in 0..<max(expected.count, acts.count) {
            let n = i + 1
            guard i < expected.count else { fails.append("output line \(n) is extra:\n    actual:   \(actual[i])"); continue }
            guard i < acts.count else { fails.append("output line \(n) is missing:\n    expected: \(expected[i].text)"); continue }
            guard let a = acts[i] else { fails.append("output line \(n) is not JSON: \(actual[i])"); continue }
            if let m = mismatch(expected[i], a) {
                fails.append("output line \(n): \(m)\n    expected: \(short(expected[i], limit: 2000))\n    actual:   \(short(a, limit: 2000))")
            }
        }
        return fails
    }
}
