import AutoHomeSupport

/// Collects what the engine emits while one replay line is processed.
final class ReplayCollector: EngineObserver, @unchecked Sendable {
    private let lock = Lock()
    private var logs: [JSON] = []
    private var actions: [JSON] = []
    private var errors: [JSON] = []

    func scriptLogged(_ log: ScriptLog) { lock.withLock { logs.append(.string(log.message)) } }
    func scriptFailed(_ error: ScriptError) { lock.withLock { errors.append(.string(error.description)) } }
    func actionSent(_ action: DeviceAction) { lock.withLock { actions.append(action.json) } }

    func addError(_ message: String) { lock.withLock { errors.append(.string(message)) } }

    /// Everything since the last drain.
    func drain() -> (logs: JSON, actions: JSON, errors: JSON) {
        lock.withLock {
            defer { logs = []; actions = []; errors = [] }
            return (.array(logs), .array(actions), .array(errors))
        }
    }
}
