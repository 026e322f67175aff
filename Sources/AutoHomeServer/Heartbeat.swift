import AutoHome
import AutoHomeSupport

/// Keeps idle action streams alive: a blank line every 10 s, well inside the
/// 30 s QUIC idle timeout.
public final class Heartbeat: @unchecked Sendable {
    private let lock = Lock()
    private let cond = Condition()
    private var stopping = false

    public init(hub: ActionHub, intervalMs: UInt64 = 10_000) {
        spawnThread(name: "heartbeat") { [self] in
            lock.lock()
            defer { lock.unlock() }
            while !stopping {
                let deadline = monotonicNanos() + intervalMs * 1_000_000
                while !stopping && monotonicNanos() < deadline { cond.wait(lock, untilMonotonicNanos: deadline) }
                if stopping { break }
                lock.unlock()
                hub.heartbeat()
                lock.lock()
            }
        }
    }

    public func stop() {
        lock.withLock { stopping = true; cond.broadcast() }
    }
}
