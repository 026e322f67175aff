import AutoHomeClient

/// A small hand-written parser (not swift-argument-parser: the appliance's
/// cross build resolves no packages, and this keeps the binary small).
/// Options may come anywhere after the program name: `--name value`,
/// `--name=value`, or `--flag`; `--` ends them.
struct OptionSpec {
    let name: String
    /// nil: a flag; else the placeholder shown in help ("N", "SECONDS").
    let value: String?
    let help: String
}

struct ParsedArgs {
    var positionals: [String] = []
    var values: [String: String] = [:]
    var flags: Set<String> = []

    func value(_ name: String) -> String? { values[name] }
    func has(_ name: String) -> Bool { flags.contains(name) || values[name] != nil }

    func int(_ name: String, min: Int = 0) throws(ClientError) -> Int? {
        guard let v = values[name] else { return nil }
        guard let n = Int(v), n >= min else { throw .usage("--\(name) '\(v)': expected a whole number ≥ \(min)") }
        return n
    }

    func double(_ name: String) throws(ClientError) -> Double? {
        guard let v = values[name] else { return nil }
        guard let n = Double(v), n > 0, n.isFinite else { throw .usage("--\(name) '\(v)': expected a positive number") }
        return n
    }
}

enum ArgumentParser {
    /// Splits args by the option table (global options + the command's).
    static func parse(_ args: [String], options: [OptionSpec]) throws(ClientError) -> ParsedArgs {
        var out = ParsedArgs()
        var i = 0
        var ended = false
        while i < args.count {
            let a = args[i]
            i += 1
            if ended || !a.hasPrefix("-") || a == "-" {
                out.positionals.append(a)
                continue
            }
            if a == "--" { ended = true; continue }
            if a == "-h" { out.flags.insert("help"); continue }
            guard a.hasPrefix("--") else {
                // "-5" as a value (set lamp level -5) stays a positional
                if Double(a) != nil { out.positionals.append(a); continue }
                throw .usage("unknown option '\(a)'")
            }
            var name = String(a.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let spec = options.first(where: { $0.name == name }) else {
                throw .usage("unknown option '--\(name)'")
            }
            if spec.value == nil {
                if inline != nil { throw .usage("--\(name) takes no value") }
                out.flags.insert(name)
            } else if let v = inline {
                out.values[name] = v
            } else {
                guard i < args.count else { throw .usage("--\(name) needs a value (\(spec.value!))") }
                out.values[name] = args[i]
                i += 1
            }
        }
        return out
    }
}
