#if canImport(Glibc)
import Glibc
#endif
import AutoHome

/// The long-running daemon: engine plus (once it lands) the HTTP/3 server.
enum Daemon {
    static func run(config: Config) -> Int32 {
        Log.level = config.logLevel
        let scripts: ScriptSet
        do { scripts = try ScriptSet.load(directory: config.effectiveScriptsDir, generation: 1) } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            return 1
        }
        let engine = EventManager(config: config, scripts: scripts, clock: SystemClock(), observer: LogObserver())
        do { try engine.start() } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            return 1
        }
        Log.info("started: \(config.devices.count) devices, \(scripts.files.count) scripts, \(config.vms) VMs")
        let signal = SignalWaiter([SIGTERM, SIGINT])
        let sig = signal.wait()
        Log.info("signal \(sig): stopping")
        engine.stop()
        return 0
    }
}

/// Script output and actions go to the daemon log until the server exists.
final class LogObserver: EngineObserver, @unchecked Sendable {
    func scriptLogged(_ log: ScriptLog) { Log.write(log.level, "\(log.script): \(log.message)") }
    func scriptFailed(_ error: ScriptError) { Log.warn("script error: \(error.description)") }
    func actionSent(_ action: DeviceAction) { Log.debug("action: \(action.json.text)") }
    func valuesCommitted(device: DeviceVersion, changes: [(name: String, value: PropertyValue)], time: Int64) {}
}
