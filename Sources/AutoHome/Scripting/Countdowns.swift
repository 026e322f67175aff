import AutoHomeSupport

/// `home.countdown` timers. A countdown's function lives in the VM that set it,
/// so the timer remembers that VM (and its script generation); nothing holds a
/// VM while waiting. The same name restarts the timer; 0 cancels it.
final class Countdowns: @unchecked Sendable {
    struct Entry: Equatable {
        var name: String
        var due: Int64
        var vm: Int
        var generation: Int
    }

    private let lock = Lock()
    private let changed = Condition()
    private var entries: [String: Entry] = [:]
    private var stopping = false

    func schedule(name: String, seconds: Double, now: Int64, vm: Int, generation: Int) {
        lock.withLock {
            if seconds > 0 {
                let due = now + Int64((seconds * 1000).rounded())
                entries[name] = Entry(name: name, due: due, vm: vm, generation: generation)
            } else {
                entries[name] = nil
            }
            changed.signal()
        }
    }

    /// Removes and returns the timers due at `now`, earliest first.
    func takeDue(now: Int64) -> [Entry] {
        lock.withLock {
            let due = entries.values.filter { $0.due <= now }.sorted { ($0.due, $0.name) < ($1.due, $1.name) }
            for e in due { entries[e.name] = nil }
            return due
        }
    }

    var nextDue: Int64? { lock.withLock { entries.values.map(\.due).min() } }

    /// The timer thread of the live daemon: sleeps until the next due timer
    /// (or a change), then hands what is due to `fire`.
    func runTimerThread(clock: EngineClock, fire: @escaping (Entry) -> Void) {
        spawnThread(name: "ah-timers") { [self] in
            while true {
                lock.lock()
                if stopping { lock.unlock(); return }
                let now = clock.nowMillis()
                if let next = entries.values.map(\.due).min() {
                    if next > now {
                        changed.wait(lock, untilMonotonicNanos: monotonicNanos() + UInt64(next - now) * 1_000_000)
                    }
                } else {
                    changed.wait(lock)
                }
                lock.unlock()
                for e in takeDue(now: clock.nowMillis()) { fire(e) }
            }
        }
    }

    func stop() { lock.withLock { stopping = true; changed.signal() } }
}
