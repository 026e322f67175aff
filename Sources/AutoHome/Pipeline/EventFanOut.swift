import AutoHomeSupport

/// What leaves the engine: script logs, script errors, actions for devices and
/// committed values. Any number of observers subscribe (the action hub, the
/// log ring, the store writer, GPIO outputs, `watch` streams, replay's
/// collector); each implements only what it needs.
///
/// Thread contract: the engine calls these on its VM worker threads, in the
/// order things happen for one device. An observer must not block: it does a
/// short in-memory step (queue bytes, append to a ring) or hands the work to a
/// thread of its own (`QueuedObserver`).
public protocol EngineObserver: AnyObject, Sendable {
    func scriptLogged(_ log: ScriptLog)
    func scriptFailed(_ error: ScriptError)
    func actionSent(_ action: DeviceAction)
    /// Values written to a live device (step 3 or `device.set`).
    func valuesCommitted(device: DeviceVersion, changes: [(name: String, value: PropertyValue)], time: Int64)
}

extension EngineObserver {
    public func scriptLogged(_ log: ScriptLog) {}
    public func scriptFailed(_ error: ScriptError) {}
    public func actionSent(_ action: DeviceAction) {}
    public func valuesCommitted(device: DeviceVersion, changes: [(name: String, value: PropertyValue)], time: Int64) {}
}

/// The engine's one outlet: forwards everything to every subscriber, in
/// subscription order. Subscribing is rare (start-up, a `watch` stream); the
/// list is swapped whole, so a notification only copies a reference.
public final class EventFanOut: EngineObserver, @unchecked Sendable {
    private let lock = Lock()
    private var observers: [EngineObserver] = []

    public init(_ initial: [EngineObserver] = []) { observers = initial }

    public func subscribe(_ o: EngineObserver) { lock.withLock { observers.append(o) } }

    public func unsubscribe(_ o: EngineObserver) { lock.withLock { observers.removeAll { $0 === o } } }

    private var current: [EngineObserver] { lock.withLock { observers } }

    public func scriptLogged(_ log: ScriptLog) { for o in current { o.scriptLogged(log) } }
    public func scriptFailed(_ error: ScriptError) { for o in current { o.scriptFailed(error) } }
    public func actionSent(_ action: DeviceAction) { for o in current { o.actionSent(action) } }
    public func valuesCommitted(device: DeviceVersion, changes: [(name: String, value: PropertyValue)], time: Int64) {
        for o in current { o.valuesCommitted(device: device, changes: changes, time: time) }
    }
}

/// Runs a slow observer (one that writes to disk, say) on a thread of its own,
/// behind a bounded queue. A full queue makes the notifying VM thread wait for
/// room: it slows the producers down and never drops a committed value.
public final class QueuedObserver: EngineObserver, @unchecked Sendable {
    private enum Note {
        case log(ScriptLog)
        case error(ScriptError)
        case action(DeviceAction)
        case values(DeviceVersion, [(name: String, value: PropertyValue)], Int64)
    }

    private let target: EngineObserver
    private let capacity: Int
    private let lock = Lock()
    private let cond = Condition()
    private var queue = FIFO<Note>()
    private var stopping = false
    private var running = true
    private var inFlight = false

    public init(_ target: EngineObserver, capacity: Int = 4096, threadName: String) {
        self.target = target
        self.capacity = max(1, capacity)
        spawnThread(name: threadName) { [self] in loop() }
    }

    public func scriptLogged(_ log: ScriptLog) { put(.log(log)) }
    public func scriptFailed(_ error: ScriptError) { put(.error(error)) }
    public func actionSent(_ action: DeviceAction) { put(.action(action)) }
    public func valuesCommitted(device: DeviceVersion, changes: [(name: String, value: PropertyValue)], time: Int64) {
        put(.values(device, changes, time))
    }

    /// Blocks until everything queued so far has been handed to the target.
    public func drain() {
        lock.withLock { while !queue.isEmpty || inFlight { cond.wait(lock) } }
    }

    /// Delivers what is queued, then ends the thread.
    public func stop() {
        lock.withLock {
            stopping = true
            cond.broadcast()
            while running { cond.wait(lock) }
        }
    }

    private func put(_ n: Note) {
        lock.withLock {
            while queue.count >= capacity && !stopping { cond.wait(lock) }
            queue.push(n)
            cond.broadcast()
        }
    }

    private func loop() {
        while true {
            let note: Note? = lock.withLock {
                while queue.isEmpty && !stopping { cond.wait(lock) }
                let n = queue.pop()
                inFlight = n != nil
                cond.broadcast()
                return n
            }
            guard let note else { break }
            switch note {
            case .log(let l): target.scriptLogged(l)
            case .error(let e): target.scriptFailed(e)
            case .action(let a): target.actionSent(a)
            case .values(let d, let c, let t): target.valuesCommitted(device: d, changes: c, time: t)
            }
            lock.withLock { inFlight = false; cond.broadcast() }
        }
        lock.withLock { running = false; cond.broadcast() }
    }
}
