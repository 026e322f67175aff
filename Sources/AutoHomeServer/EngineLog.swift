import AutoHome
import AutoHomeSupport

/// Writes what scripts log and throw to the daemon log, with the script's
/// name; actions at debug level, by device id (never a registration). The
/// `/v1/logs` ring takes script logs and errors from the engine itself, with
/// script and line, so these lines are not handed to the log sink again.
public final class EngineLog: EngineObserver, @unchecked Sendable {
    public init() {}
    public func scriptLogged(_ log: ScriptLog) { Log.write(log.level, "\(log.script): \(log.message)", toSink: false) }
    public func scriptFailed(_ error: ScriptError) { Log.write(.warn, "script error: \(error.description)", toSink: false) }
    public func actionSent(_ action: DeviceAction) { Log.debug("action: \(action.json.text)") }
}
