/// One background thread for requests that may block: fsync'd file writes and
/// compiling scripts in a scratch VM. The network thread must never wait on
/// those, and running them one at a time also serialises read-modify-write of
/// the files they touch (registrations, groups, tokens, scripts).
public final class WorkQueue: @unchecked Sendable {
    private let lock = Lock()
    private let cond = Condition()
    private var jobs = FIFO<() -> Void>()
    private var stopping = false
    private var running = true

    public init(name: String) {
        spawnThread(name: name) { [self] in loop() }
    }

    public func async(_ job: @escaping () -> Void) {
        lock.withLock {
            jobs.push(job)
            cond.signal()
        }
    }

    /// Runs what is queued, then ends the thread.
    public func stop() {
        lock.withLock {
            stopping = true
            cond.broadcast()
            while running { cond.wait(lock) }
        }
    }

    private func loop() {
        while true {
            let job: (() -> Void)? = lock.withLock {
                while jobs.isEmpty && !stopping { cond.wait(lock) }
                return jobs.pop()
            }
            guard let job else { break }
            job()
        }
        lock.withLock {
            running = false
            cond.broadcast()
        }
    }
}
