import AutoHomeSupport

/// Something in a script set that loads but will never run (SPEC §5 upload
/// `warnings`): a `set()` key for a device, group or plugin that does not
/// exist, a handler for a property the device does not have, a misspelt
/// handler name, a second `set()` for a key that silently replaces the first.
public struct ScriptWarning: Sendable, Equatable, CustomStringConvertible {
    public var script: String
    public var line: Int?
    public var message: String

    public init(script: String, line: Int?, message: String) {
        self.script = script
        self.line = line
        self.message = message
    }

    /// `{"script", "line"?, "message"}`
    public var json: JSON {
        var o = JSONObjectBuilder()
        o.add("script", script)
        if let line { o.add("line", line) }
        o.add("message", message)
        return o.json
    }

    /// `file.js:LINE: message`, like an error.
    public var description: String { line.map { "\(script):\($0): \(message)" } ?? "\(script): \(message)" }
}

/// One `set(key, handlers)` call seen while a scratch VM loaded a set.
struct Registration {
    var key: String
    var script: String
    var functions: [String]
}

/// Finds the warnings of a script set from the `set()` calls its scratch VM
/// saw, against the devices, groups and plugins the engine has now.
struct ScriptLinter {
    /// Device id → property names.
    var devices: [String: [String]]
    var deviceOrder: [String]
    var groups: [String]
    var plugins: [String]
    var files: [ScriptFile]

    func warnings(_ registrations: [Registration]) -> [ScriptWarning] {
        var out: [ScriptWarning] = []
        var seen: [String: Registration] = [:]
        for r in registrations {
            let source = files.first { $0.name == r.script }?.source ?? ""
            let keyLine = SourceLines.line(ofQuoted: r.key, in: source)
            func warn(_ message: String, line: Int? = nil) {
                out.append(ScriptWarning(script: r.script, line: line ?? keyLine, message: message))
            }
            if let earlier = seen[r.key] {
                let where_ = earlier.script == r.script ? "earlier in this file" : "in \(earlier.script)"
                warn("set(\"\(r.key)\") replaces the handlers set for it \(where_): only the last set() of a key counts")
            }
            seen[r.key] = r
            let handlerLine = { (fn: String) in SourceLines.line(ofMember: fn, in: source, after: keyLine) }

            if r.key == "homeserver" {
                for fn in r.functions where fn != "onstart" && looksLikeHandler(fn, ["onstart"]) {
                    warn("homeserver.\(fn) never runs: homeserver has only onstart\(Suggest.hint(fn, ["onstart"]))", line: handlerLine(fn))
                }
            } else if r.key.hasPrefix("group/") {
                let id = String(r.key.dropFirst(6))
                guard groups.contains(id) else {
                    warn("set(\"\(r.key)\") never runs: there is no group \"\(id)\"\(Suggest.hint(id, groups, quoted: true))")
                    continue
                }
                for fn in r.functions where fn != "onchange" && looksLikeHandler(fn, ["onchange"]) {
                    warn("\(r.key).\(fn) never runs: a group handler is onchange\(Suggest.hint(fn, ["onchange"]))", line: handlerLine(fn))
                }
            } else if r.key.hasPrefix("plugin/") {
                let name = String(r.key.dropFirst(7))
                if !plugins.contains(name) {
                    let known = plugins.isEmpty ? " (no plugins are configured)" : Suggest.hint(name, plugins, quoted: true)
                    warn("set(\"\(r.key)\") never runs: there is no plugin \"\(name)\"\(known)")
                }
            } else if let props = devices[r.key] {
                let handlers = props.flatMap { [$0 + "_ontrigger", $0 + "_onchange"] }
                for fn in r.functions where !handlers.contains(fn) {
                    if let prop = Self.property(ofHandler: fn) {
                        let suffix = String(fn.dropFirst(prop.count))
                        let sameKind = props.map { $0 + suffix }
                        warn("\(r.key).\(fn) never runs: device \"\(r.key)\" has no property \"\(prop)\"\(Suggest.hint(fn, sameKind.isEmpty ? handlers : sameKind))",
                             line: handlerLine(fn))
                    } else if looksLikeHandler(fn, handlers) {
                        warn("\(r.key).\(fn) never runs: device handlers are <property>_ontrigger and <property>_onchange\(Suggest.hint(fn, handlers))",
                             line: handlerLine(fn))
                    }
                }
            } else {
                warn("set(\"\(r.key)\") never runs: there is no device \"\(r.key)\"\(Suggest.hint(r.key, deviceOrder, quoted: true))")
            }
        }
        return out
    }

    /// "motion_onchange" → "motion"; nil when the name has neither suffix.
    static func property(ofHandler fn: String) -> String? {
        for suffix in ["_ontrigger", "_onchange"] where fn.hasSuffix(suffix) && fn.count > suffix.count {
            return String(fn.dropLast(suffix.count))
        }
        return nil
    }

    /// A member that is meant as a handler (not a helper function kept in the
    /// handler object): it says "on", or is a near miss of a real handler.
    private func looksLikeHandler(_ fn: String, _ handlers: [String]) -> Bool {
        let lower = fn.lowercased()
        if lower.hasPrefix("on") || lower.contains("_on") { return true }
        return Suggest.closest(fn, handlers) != nil
    }
}

/// "did you mean …?" by edit distance.
enum Suggest {
    /// The candidate nearest to `word`, if it is near enough to be a typo.
    static func closest(_ word: String, _ candidates: [String]) -> String? {
        let w = Array(word.lowercased().utf8)
        var best: (String, Int)?
        for c in candidates {
            let d = distance(w, Array(c.lowercased().utf8))
            if best == nil || d < best!.1 { best = (c, d) }
        }
        guard let (name, d) = best else { return nil }
        let limit = max(2, min(w.count, name.utf8.count) / 3)
        return d <= limit ? name : nil
    }

    static func hint(_ word: String, _ candidates: [String], quoted: Bool = false) -> String {
        guard let c = closest(word, candidates) else { return "" }
        return quoted ? " (did you mean \"\(c)\"?)" : " (did you mean \(c)?)"
    }

    /// Levenshtein distance, with a swap of two neighbours counting as one.
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev2 = [Int](repeating: 0, count: b.count + 1)
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { cur[j] = min(cur[j], prev2[j - 2] + 1) }
            }
            (prev2, prev, cur) = (prev, cur, prev2)
        }
        return prev[b.count]
    }
}

/// Line numbers for warnings, found in the source text: good enough to point
/// at the place, and nil when the text is built at run time.
enum SourceLines {
    /// The first line holding `set(` and `'key'` or `"key"` (also as
    /// `device/key`); else the first line holding the quoted key at all.
    static func line(ofQuoted key: String, in source: String) -> Int? {
        let needles = ["'\(key)'", "\"\(key)\"", "'device/\(key)'", "\"device/\(key)\""]
        let quoted = { (l: String) in needles.contains { l.contains($0) } }
        return firstLine(in: source, from: 1) { l in quoted(l) && l.contains("set") }
            ?? firstLine(in: source, from: 1, quoted)
    }

    /// The first line at or after `after` where `name` is written as a member
    /// (`name:` or `"name":`).
    static func line(ofMember name: String, in source: String, after: Int?) -> Int? {
        let start = after ?? 1
        return firstLine(in: source, from: start) { l in
            var rest = Substring(l)
            while let r = rest.firstRange(of: name) {
                let before = rest[..<r.lowerBound].last
                let after = rest[r.upperBound...].drop { $0 == " " || $0 == "\t" || $0 == "'" || $0 == "\"" }
                let isStart = before.map { !($0.isLetter || $0.isNumber || $0 == "_") } ?? true
                if isStart && after.first == ":" { return true }
                rest = rest[r.upperBound...]
            }
            return false
        } ?? (start > 1 ? line(ofMember: name, in: source, after: nil) : nil)
    }

    private static func firstLine(in source: String, from: Int, _ pred: (String) -> Bool) -> Int? {
        var n = 0
        for l in source.split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            if n >= from && pred(String(l)) { return n }
        }
        return nil
    }
}
