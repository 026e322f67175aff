#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomePlugins
import AutoHomeSupport

/// autohomed: config → engine (→ server); `replay` runs the engine offline.
let usage = """
usage: autohomed [--config FILE] [--recover] run the daemon (--recover: move a damaged store aside, start empty)
       autohomed --check-config [--config FILE]
       autohomed replay [--config FILE] [--scripts DIR] [--devices FILE] [--groups FILE]
                        [--expect FILE] EVENTS.ndjson
       autohomed --version
"""

func fail(_ message: String, code: Int32 = 1) -> Never {
    fputs("autohomed: \(message)\n", stderr)
    exit(code)
}

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "replay" {
    args.removeFirst()
    exit(ReplayCommand.main(args))
}

var configPath = "/etc/auto-home/config.json"
var checkOnly = false
var recover = false
var i = 0
while i < args.count {
    switch args[i] {
    case "--config":
        guard i + 1 < args.count else { fail("--config needs a path\n\(usage)", code: 2) }
        configPath = args[i + 1]
        i += 1
    case "--check-config": checkOnly = true
    case "--recover": recover = true
    case "--version": print("autohomed \(AutoHomeVersion.string)"); exit(0)
    case "-h", "--help": print(usage); exit(0)
    default: fail("unknown argument \(args[i])\n\(usage)", code: 2)
    }
    i += 1
}

let config: Config
do { config = try Config.load(path: configPath) } catch { fail(error.description) }
if checkOnly {
    // The gpio and plugins sections too (their device references, types and keys).
    do throws(ConfigError) { _ = try PluginSetupConfig.validate(config, source: configPath) } catch { fail(error.description) }
    print("\(configPath): ok")
    exit(0)
}
exit(Daemon.run(config: config, source: configPath, recover: recover))
