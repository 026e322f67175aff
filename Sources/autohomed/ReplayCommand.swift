#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// `autohomed replay [--config FILE] [--scripts DIR] [--devices FILE]
/// [--groups FILE] [--expect FILE] EVENTS.ndjson` (SPEC §10).
///
/// Exit status: 0 when no output line has `errors`, 1 otherwise (a script
/// that does not compile is an error on line 1). With `--expect`, the output
/// is compared with the expected lines instead of printed: 0 when every line
/// matches, 1 otherwise, with what differs. 2: usage.
enum ReplayCommand {
    static let synopsis = "autohomed replay [--config FILE] [--scripts DIR] [--devices FILE] [--groups FILE] [--expect FILE] EVENTS.ndjson"

    static func main(_ args: [String]) -> Int32 {
        var options: [String: String] = [:]
        var eventsPath: String?
        var i = 0
        let valued = ["--config", "--scripts", "--devices", "--groups", "--expect"]
        while i < args.count {
            if valued.contains(args[i]) {
                guard i + 1 < args.count else { return usageError("\(args[i]) needs a value") }
                options[args[i]] = args[i + 1]
                i += 2
                continue
            }
            if args[i] == "-h" || args[i] == "--help" { print("usage: \(synopsis)"); return 0 }
            if eventsPath != nil || (args[i].hasPrefix("--") && args[i] != "-") { return usageError("unexpected argument \(args[i])") }
            eventsPath = args[i]
            i += 1
        }
        guard let eventsPath else { return usageError("replay needs EVENTS.ndjson (or - for standard input)") }
        guard options["--config"] != nil || options["--scripts"] != nil else {
            return usageError("replay needs --config FILE or --scripts DIR")
        }
        do {
            var config = Config()
            if let path = options["--config"] { config = try Config.load(path: path) }
            Log.level = config.logLevel
            if let path = options["--devices"] {
                try ReplayDevices.merge(devicesJSON: try readJSON(path), into: &config, source: path)
            }
            if let path = options["--groups"] { config.groups = try ReplayDevices.groups(try readJSON(path), source: path) }
            let scripts = try ScriptSet.load(directory: options["--scripts"] ?? config.effectiveScriptsDir, generation: 1)
            let text = eventsPath == "-" ? readStandardInput() : try Files.readText(eventsPath)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let expected = try options["--expect"].map { path throws in try readExpected(path) }

            var output: [String] = []
            let summary = try Replay(config: config, scripts: scripts).run(lines: lines) { line in
                if expected == nil {
                    print(line)
                    fflush(stdout)
                } else {
                    output.append(line)
                }
            }
            if let expected, let path = options["--expect"] {
                let fails = ReplayExpectation.compare(expected: expected, actual: output)
                for f in fails { print(f) }
                print(fails.isEmpty ? "ok: \(output.count) lines match \(path)"
                                    : "FAIL: \(fails.count) of \(max(output.count, expected.count)) lines differ from \(path)")
                return fails.isEmpty ? 0 : 1
            }
            if summary.linesWithErrors > 0 {
                fputs("autohomed replay: \(summary.linesWithErrors) output line(s) have errors\n", stderr)
                return 1
            }
            return 0
        } catch let e as ConfigError {
            fputs("autohomed: \(e.description)\n", stderr)
        } catch {
            fputs("autohomed: \(error)\n", stderr)
        }
        return 1
    }

    static func readJSON(_ path: String) throws -> JSON {
        let text = try Files.readText(path)
        // `do throws(...)` rather than `catch let e as JSONParseError`: Swift
        // 6.0.3 (the cross build's compiler) crashes on the latter here.
        do throws(JSONParseError) { return try JSON.parse(text) } catch { throw ModelError("\(path): \(error.description)") }
    }

    /// One JSON value per non-blank line.
    static func readExpected(_ path: String) throws -> [JSON] {
        var out: [JSON] = []
        var n = 0
        for line in try Files.readText(path).split(separator: "\n", omittingEmptySubsequences: false) {
            n += 1
            let t = String(line).trimmingSpaces()
            if t.isEmpty { continue }
            do throws(JSONParseError) { out.append(try JSON.parse(t)) } catch { throw ModelError("\(path):\(n): \(error.description)") }
        }
        return out
    }

    static func usageError(_ m: String) -> Int32 {
        fputs("autohomed replay: \(m)\nusage: \(synopsis)\n", stderr)
        return 2
    }

    static func readStandardInput() -> String {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
