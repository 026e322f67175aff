import AutoHome
import AutoHomeSupport

/// Writes what scripts log and throw to the daemon log, with the script's
/// name; actions at debug level, by device id (never a registration).
public final class EngineLog: EngineObserver, @unchecked Sendable {
    public init() {}
    public func scriptLogged(_ log: ScriptLog) { Log.write(log.level, "\(log.script): \(log.message)") }
    public func scriptFailed(_ error: ScriptError) { Log.warn("script error: \(error.description)") }
    public func actionSent(_ action: DeviceAction) { Log.debug("action: \(action.json.text)") }
}
