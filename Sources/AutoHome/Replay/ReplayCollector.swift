import AutoHomeSupport

/// Collects what the engine emits outside an event's run while replay
/// processes one line: `homeserver.onstart`, countdowns that fell due, work
/// `thread()` started, load errors. What a run's own handlers did is in the
/// run's `EventResult` (tagged with its `seq`), so it is skipped here.
final class ReplayCollector: EngineObserver, @unchecked Sendable {
    private let lock = Lock()
    private var logs: [ScriptLog] = []
    private var actions: [DeviceAction] = []
    private var errors: [ScriptError] = []

    func scriptLogged(_ log: ScriptLog) { if log.seq == nil { lock.withLock { logs.append(log) } } }
    func scriptFailed(_ error: ScriptError) { if error.seq == nil { lock.withLock { errors.append(error) } } }
    func actionSent(_ action: DeviceAction) { if action.seq == nil { lock.withLock { actions.append(action) } } }

    /// Everything since the last drain.
    func drain() -> (logs: [ScriptLog], actions: [DeviceAction], errors: [ScriptError]) {
        lock.withLock {
            defer { logs = []; actions = []; errors = [] }
            return (logs, actions, errors)
        }
    }
}
