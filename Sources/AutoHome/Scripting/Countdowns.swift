import AutoHomeSupport

/// `home.countdown` timers (SPEC §4). Two kinds:
///  - a closure: the function lives in the VM that set it, so the entry
///    remembers that VM and its epoch. A script upload does not lose it: the
///    old VM state is kept (retired, see `ScriptVM`) until its last closure
///    countdown fired or was cancelled, and the countdown fires there, on the
///    generation that created it. A closure cannot outlive the process or a VM
///    stopped as a runaway (a stopped VM is never touched again): those are
///    logged by name.
///  - a string (`home.countdown(name, s, "fnName", arg)`): a global function
///    name and a JSON argument. It fires on any free VM, on the current
///    generation, and is stored with its absolute deadline (`TimerStorage`):
///    it survives a restart, and one that fell due while the daemon was down
///    fires once, right after start-up.
/// The same name restarts the timer (whatever the kind); 0 cancels it.
/// Nothing holds a VM while waiting.
///
/// On the daemon's clock each entry is armed in the shared `TimerService`; in
/// replay (virtual clock) nothing is armed and the driver takes what is due.
final class Countdowns: @unchecked Sendable {
    enum Kind: Equatable {
        case closure(vm: Int, epoch: Int)
        case named(function: String, argumentJSON: String)
    }

    struct Entry: Equatable {
        var name: String
        /// Unix ms on the engine clock.
        var due: Int64
        var kind: Kind

        /// The VM a closure must fire on; nil: any VM.
        var vm: Int? {
            if case .closure(let vm, _) = kind { return vm }
            return nil
        }
    }

    private let lock = Lock()
    private var entries: [String: Entry] = [:]
    private var armed: [String: TimerService.ID] = [:]
    private var timers: TimerService?
    private var clock: EngineClock?
    private var fire: ((Entry) -> Void)?
    /// Where string-form countdowns are kept (and closures, by name only, so
    /// the next start can say which were lost); nil: memory only.
    var storage: TimerStorage?

    /// The closure marker in `StoredTimer.function`: such a row is only a name.
    static let closureMarker = ""

    func schedule(name: String, seconds: Double, now: Int64, kind: Kind) {
        lock.withLock {
            disarm(name)
            if seconds > 0 {
                let due = now + Int64((seconds * 1000).rounded())
                entries[name] = Entry(name: name, due: due, kind: kind)
                arm(name, due: due, now: now)
                switch kind {
                case .named(let fn, let arg): storage?.saveTimer(StoredTimer(name: name, due: due, function: fn, argumentJSON: arg))
                case .closure: storage?.saveTimer(StoredTimer(name: name, due: due, function: Countdowns.closureMarker, argumentJSON: "null"))
                }
            } else {
                entries[name] = nil
                storage?.deleteTimer(name: name)
            }
        }
    }

    /// Start-up: the stored string-form countdowns come back with their
    /// deadlines; the closure rows are the names lost with the last process.
    /// Returns those names (and forgets them).
    func restore(_ stored: [StoredTimer]) -> [String] {
        lock.withLock {
            var lost: [String] = []
            for t in stored {
                if t.function == Countdowns.closureMarker {
                    lost.append(t.name)
                    storage?.deleteTimer(name: t.name)
                } else {
                    entries[t.name] = Entry(name: t.name, due: t.due, kind: .named(function: t.function, argumentJSON: t.argumentJSON))
                }
            }
            return lost
        }
    }

    /// A fired entry's run is over: its stored row goes, unless the run set
    /// the same name again.
    func finished(_ e: Entry) {
        lock.withLock { if entries[e.name] == nil { storage?.deleteTimer(name: e.name) } }
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

    /// `home.countdowns()`: every pending one, soonest first.
    func list(now: Int64) -> [(name: String, dueInSeconds: Double)] {
        lock.withLock {
            entries.values.sorted { ($0.due, $0.name) < ($1.due, $1.name) }
                .map { ($0.name, Double(max($0.due - now, 0)) / 1000) }
        }
    }

    /// Whether a closure countdown still needs the VM state `(vm, epoch)`.
    func holdsClosures(vm: Int, epoch: Int) -> Bool {
        lock.withLock { entries.values.contains { $0.kind == .closure(vm: vm, epoch: epoch) } }
    }

    /// That VM state is gone: its closure countdowns can never fire. Returns
    /// their names (for the log).
    func dropClosures(vm: Int, epoch: Int) -> [String] {
        lock.withLock {
            let gone = entries.values.filter { $0.kind == .closure(vm: vm, epoch: epoch) }.map(\.name).sorted()
            for n in gone { entries[n] = nil; disarm(n); storage?.deleteTimer(name: n) }
            return gone
        }
    }

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
