#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// `autohomed replay --config FILE [--scripts DIR] EVENTS.ndjson` (SPEC §10).
enum ReplayCommand {
    static func main(_ args: [String]) -> Int32 {
        var configPath: String?
        var scriptsDir: String?
        var eventsPath: String?
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--config", "--scripts":
                guard i + 1 < args.count else { return usageError("\(args[i]) needs a value") }
                if args[i] == "--config" { configPath = args[i + 1] } else { scriptsDir = args[i + 1] }
                i += 1
            default:
                if eventsPath != nil || args[i].hasPrefix("--") { return usageError("unexpected argument \(args[i])") }
                eventsPath = args[i]
            }
            i += 1
        }
        guard let configPath, let eventsPath else { return usageError("replay needs --config FILE and EVENTS.ndjson") }
        do {
            let config = try Config.load(path: configPath)
            Log.level = config.logLevel
            let scripts = try ScriptSet.load(directory: scriptsDir ?? config.effectiveScriptsDir, generation: 1)
            let text = eventsPath == "-" ? readStandardInput() : try Files.readText(eventsPath)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            try Replay(config: config, scripts: scripts).run(lines: lines) { line in
                print(line)
                fflush(stdout)
            }
            return 0
        } catch let e as ConfigError {
            fputs("autohomed: \(e.description)\n", stderr)
        } catch {
            fputs("autohomed: \(error)\n", stderr)
        }
        return 1
    }

    static func usageError(_ m: String) -> Int32 {
        fputs("autohomed replay: \(m)\nusage: autohomed replay --config FILE [--scripts DIR] EVENTS.ndjson\n", stderr)
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
