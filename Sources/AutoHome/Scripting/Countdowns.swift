import AutoHomeSupport

/// `home.countdown` timers. A countdown's function lives in the VM that set it,
/// so the timer remembers that VM (and its script generation); nothing holds a
/// VM while waiting. The same name restarts the timer; 0 cancels it.
///
/// On the daemon's clock each entry is armed in the shared `TimerService`; in
/// replay (virtual clock) nothing is armed and the driver takes what is due.
final class Countdowns: @unchecked Sendable {
    struct Entry: Equatable {
        var name: String
        var due: Int64
        var vm: Int
        var generation: Int
    }

    private let lock = Lock()
    private var entries: [String: Entry] = [:]
    private var armed: [String: TimerService.ID] = [:]
    private var timers: TimerService?
    private var clock: EngineClock?
    private var fire: ((Entry) -> Void)?

    func schedule(name: String, seconds: Double, now: Int64, vm: Int, generation: Int) {
        lock.withLock {
            disarm(name)
            if seconds > 0 {
                let due = now + Int64((seconds * 1000).rounded())
                entries[name] = Entry(name: name, due: due, vm: vm, generation: generation)
                arm(name, due: due, now: now)
            } else {
                entries[name] = nil
            }
        }
    }

    /// Removes and returns the timers due at `now`, earliest first.
    func takeDue(now: Int64) -> [Entry] {
        lock.withLock {
            let due = entries.values.filter { $0.due <= now }.sorted { ($0.due, $0.name) < ($1.due, $1.name) }
            for e in due { entries[e.name] = nil; disarm(e.name) }
            return due
        }
    }

    var nextDue: Int64? { lock.withLock { entries.values.map(\.due).min() } }

    /// The live daemon: from now on every entry is armed in `timers`, and a
    /// due entry is handed to `fire` (on the timer thread; it must not block).
    func attach(timers: TimerService, clock: EngineClock, fire: @escaping (Entry) -> Void) {
        lock.withLock {
            self.timers = timers
            self.clock = clock
            self.fire = fire
            let now = clock.nowMillis()
            for e in entries.values { arm(e.name, due: e.due, now: now) }
        }
    }

    /// Disarms everything; entries stay (nothing fires after this).
    func stop() {
        lock.withLock {
            for name in Array(armed.keys) { disarm(name) }
            timers = nil
            fire = nil
        }
    }

    // Caller holds the lock.
    private func arm(_ name: String, due: Int64, now: Int64) {
        guard let timers else { return }
        armed[name] = timers.schedule(afterMillis: due - now) { [weak self] in self?.fireIfDue(name, due: due) }
    }

    // Caller holds the lock.
    private func disarm(_ name: String) {
        if let id = armed.removeValue(forKey: name) { timers?.cancel(id) }
    }

    /// Timer thread: fires the entry unless it was restarted or cancelled since.
    private func fireIfDue(_ name: String, due: Int64) {
        let hit: (Entry, (Entry) -> Void)? = lock.withLock {
            guard let e = entries[name], e.due == due, let fire else { return nil }
            entries[name] = nil
            armed[name] = nil
            return (e, fire)
        }
        if let (e, fire) = hit { fire(e) }
    }
}
