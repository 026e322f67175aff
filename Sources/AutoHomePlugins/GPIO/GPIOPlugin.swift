#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// The built-in `gpio` plugin (SPEC §8): input lines become events through
/// the normal pipeline, output lines follow their switch property whoever
/// writes it, and scripts get `plugin.gpio.get` / `plugin.gpio.pulse`.
///
/// Threads: edges arrive on the plugins' one I/O thread (`FDPoller`);
/// outputs are driven on the VM thread that committed the value
/// (`valuesCommitted`); chip retries and pulse ends run on the timer service.
/// One lock guards every chip and line.
public final class GPIOPlugin: Plugin, EngineObserver, @unchecked Sendable {
    public let name = "gpio"
    public var methods: [String] { ["get", "pulse"] }
    public static let consumer = "autohomed"
    public static let longestPulseMs = 600_000

    private final class Line {
        let cfg: GPIOLineConfig
        var input: GPIOInputLine?
        var output: GPIOOutputLine?
        var token: FDPoller.Token?
        /// Bumped by each pulse (and each write): a pulse's end only applies
        /// if nothing newer touched the line.
        var writeGen = 0
        init(_ cfg: GPIOLineConfig) { self.cfg = cfg }
        var held: Bool { input != nil || output != nil }
    }

    private final class Chip {
        let spec: String
        let lines: [Line]
        var chip: GPIOChip?
        var retry: TimerService.ID?
        var lastProblem: String?
        init(spec: String, lines: [Line]) { self.spec = spec; self.lines = lines }
    }

    private let lock = PluginLock()
    private let chips: [Chip]
    private let byProperty: [String: Line]
    private let driver: GPIODriver
    private let poller: FDPoller
    private let timers: TimerService
    private let retryMs: Int64
    private let source: String
    private weak var engine: EventManager?
    private var stopped = false

    public init(lines: [GPIOLineConfig], driver: GPIODriver, poller: FDPoller, timers: TimerService,
                retryMs: Int64 = 5000, source: String = "config") {
        var chips: [Chip] = []
        var byProperty: [String: Line] = [:]
        var order: [String] = []
        var grouped: [String: [Line]] = [:]
        for cfg in lines {
            let l = Line(cfg)
            byProperty[cfg.key] = l
            if grouped[cfg.chip] == nil { order.append(cfg.chip) }
            grouped[cfg.chip, default: []].append(l)
        }
        for spec in order { chips.append(Chip(spec: spec, lines: grouped[spec]!)) }
        self.chips = chips
        self.byProperty = byProperty
        self.driver = driver
        self.poller = poller
        self.timers = timers
        self.retryMs = retryMs
        self.source = source
    }

    private var every: String { retryMs % 1000 == 0 ? "\(retryMs / 1000) s" : "\(retryMs) ms" }

    // MARK: life cycle

    /// Requests every line of every chip that is there; a chip that is
    /// missing is retried every `retryMs`. A mistake (unknown line, line in
    /// use, not a chip) throws, naming the key and the line, and releases
    /// whatever was taken. Call after `engine.start()`.
    public func start(engine: EventManager) throws(ConfigError) {
        try open(engine: engine)
        announce()
    }

    /// What `announce` still has to tell the engine (initial values).
    private var announcements: [() -> Void] = []

    /// The first half of `start`, for the daemon: takes the lines (and
    /// subscribes to the engine's values) before `engine.start()`, so a
    /// mistake stops start-up before any script runs.
    public func open(engine: EventManager) throws(ConfigError) {
        self.engine = engine
        engine.events.subscribe(self)
        var followUps: [() -> Void] = []
        do throws(ConfigError) {
            lock.lock()
            defer { lock.unlock() }  // runs before the catch below
            for c in chips {
                switch driver.open(c.spec) {
                case .opened(let chip):
                    // On failure acquire releases what it took (and the chip).
                    followUps += try acquire(c, chip, atStart: true)
                case .missing(let why):
                    Log.warn("gpio: \(why); \(c.lines.map(\.cfg.label).joined(separator: ", ")) wait for it (tried again every \(every))")
                    c.lastProblem = why
                    scheduleRetry(c)
                case .invalid(let why):
                    throw ConfigError("\(source): \"gpio.lines[\(c.lines[0].cfg.index)].chip\" (chip \"\(c.spec)\" \(c.lines[0].cfg.line)): \(why)")
                }
            }
        } catch {
            stop()
            throw error
        }
        lock.withLock { announcements += followUps }
    }

    /// The second half, after `engine.start()`: outputs whose property held
    /// another value take `initial` (as a command), input switches the line's level.
    public func announce() {
        let work = lock.withLock { () -> [() -> Void] in defer { announcements = [] }; return announcements }
        for f in work { f() }
    }

    /// Releases every line and closes the chips. Idempotent.
    public func stop() {
        engine?.events.unsubscribe(self)
        lock.withLock {
            stopped = true
            for c in chips {
                if let r = c.retry { timers.cancel(r) }
                c.retry = nil
                releaseLines(c)
            }
        }
    }

    /// Under the lock: requests the chip's lines. At start a failure throws;
    /// later (the chip came back) it is logged and the chip tried again.
    /// Returns what to do once the lock is dropped (initial events).
    private func acquire(_ c: Chip, _ chip: GPIOChip, atStart: Bool) throws(ConfigError) -> [() -> Void] {
        var followUps: [() -> Void] = []
        c.chip = chip
        do throws(ConfigError) {
            for l in c.lines {
                let offset = try resolve(l.cfg, on: chip)
                followUps += try request(l, offset: offset, on: chip, atStart: atStart)
            }
        } catch {
            releaseLines(c)
            throw error
        }
        Log.info("gpio: chip \"\(c.spec)\" (\(chip.name), \"\(chip.label)\", \(chip.lineCount) lines): "
                 + c.lines.map { "\($0.cfg.line) \($0.cfg.direction.rawValue) \($0.cfg.key)" }.joined(separator: ", "))
        return followUps
    }

    private func resolve(_ cfg: GPIOLineConfig, on chip: GPIOChip) throws(ConfigError) -> Int {
        switch cfg.line {
        case .offset(let o):
            guard o < chip.lineCount else {
                throw ConfigError("\(source): \"gpio.lines[\(cfg.index)].line\" (chip \"\(cfg.chip)\" \(cfg.line)): \(chip.name) has \(chip.lineCount) lines (0 to \(chip.lineCount - 1))")
            }
            return o
        case .name(let n):
            guard let o = chip.offset(ofLine: n) else {
                throw ConfigError("\(source): \"gpio.lines[\(cfg.index)].line\" (chip \"\(cfg.chip)\" \(cfg.line)): \(chip.name) has no line named \"\(n)\" (gpioinfo \(chip.name) lists them)")
            }
            return o
        }
    }

    private func request(_ l: Line, offset: Int, on chip: GPIOChip, atStart: Bool) throws(ConfigError) -> [() -> Void] {
        let cfg = l.cfg
        do throws(GPIOFailure) {
            switch cfg.direction {
            case .output:
                // At start the line takes `initial`; a chip that came later
                // takes what the property holds by then.
                let live = atStart ? cfg.initial : (liveValue(cfg) ?? cfg.initial)
                l.output = try chip.requestOutput(offset: offset, consumer: GPIOPlugin.consumer, activeLow: cfg.activeLow, initial: live)
                guard atStart, liveValue(cfg) != cfg.initial else { return [] }
                return [{ [weak self] in self?.submit(cfg, cfg.initial, origin: .command) }]
            case .input:
                let settings = GPIOInputSettings(activeLow: cfg.activeLow, bias: cfg.bias, edge: cfg.edge, debounceMs: cfg.debounceMs)
                let input = try chip.requestInput(offset: offset, consumer: GPIOPlugin.consumer, settings: settings)
                l.input = input
                l.token = poller.add(fd: input.fd) { [weak self, weak l] revents in
                    guard let self, let l else { return }
                    self.ready(l, revents)
                }
                // A switch starts as the line is (a door open at boot is open).
                guard !cfg.isButton, let now = try? input.value() else { return [] }
                return [{ [weak self] in self?.submit(cfg, now, origin: .device) }]
            }
        } catch {
            throw ConfigError("\(source): \(cfg.keyLabel): \(error.description)")
        }
    }

    /// Under the lock: the chip's lines are detached now (handlers find
    /// nothing), and released once the lock is free and the I/O thread has
    /// let go of their descriptors (see `PluginLock`).
    private func releaseLines(_ c: Chip) {
        let tokens = c.lines.compactMap(\.token)
        let inputs = c.lines.compactMap(\.input)
        let outputs = c.lines.compactMap(\.output)
        let chip = c.chip
        for l in c.lines {
            l.token = nil
            l.input = nil
            l.output = nil
        }
        c.chip = nil
        lock.afterUnlock { [poller] in
            for t in tokens { poller.remove(t) }
            for i in inputs { i.release() }
            for o in outputs { o.release() }
            chip?.close()
        }
    }

    /// Under the lock.
    private func scheduleRetry(_ c: Chip) {
        guard c.retry == nil, !stopped else { return }
        c.retry = timers.schedule(afterMillis: retryMs, repeating: true) { [weak self, weak c] in
            guard let self, let c else { return }
            self.retry(c)
        }
    }

    private func retry(_ c: Chip) {
        var followUps: [() -> Void] = []
        lock.withLock {
            guard !stopped, c.chip == nil else { return }
            var problem: String
            switch driver.open(c.spec) {
            case .opened(let chip):
                do throws(ConfigError) {
                    followUps = try acquire(c, chip, atStart: false)
                    if let r = c.retry { timers.cancel(r) }
                    c.retry = nil
                    c.lastProblem = nil
                    return
                } catch {
                    problem = error.description
                }
            case .missing(let why), .invalid(let why):
                problem = why
            }
            // Say it once, not every 5 s.
            if problem != c.lastProblem { Log.warn("gpio: \(problem) (trying again every \(every))") }
            c.lastProblem = problem
        }
        for f in followUps { f() }
    }

    // MARK: inputs

    /// On the I/O thread: the line's descriptor is readable (or failed).
    private func ready(_ l: Line, _ revents: Int16) {
        var edges: [GPIOEdge] = []
        let lost: String? = lock.withLock {
            guard let input = l.input else { return nil }
            if revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { return "the line's descriptor failed" }
            do throws(GPIOFailure) { edges = try input.readEdges() } catch { return error.description }
            return nil
        }
        if let lost { chipLost(containing: l, lost); return }
        for e in edges { submit(l.cfg, l.cfg.isButton ? true : e.rising, origin: .device) }
    }

    /// A chip went away under us (a USB expander unplugged): release it and
    /// wait for it to come back.
    private func chipLost(containing l: Line, _ why: String) {
        lock.withLock {
            guard let c = chips.first(where: { $0.lines.contains { $0 === l } }), c.chip != nil, !stopped else { return }
            Log.error("gpio: chip \"\(c.spec)\" lost (\(why)); its lines are released and it is tried again every \(every)")
            releaseLines(c)
            c.lastProblem = why
            scheduleRetry(c)
        }
    }

    private func submit(_ cfg: GPIOLineConfig, _ value: Bool, origin: EventOrigin) {
        guard let engine else { return }
        if case .failure(let e) = engine.submit(deviceId: cfg.device, properties: [(cfg.property, .bool(value))], origin: origin) {
            // Never silently: a full ring loses this edge, and the log says so.
            Log.warn("gpio: \(cfg.label) \(value ? "active" : "inactive") for \(cfg.key) not accepted: \(e.description)")
        }
    }

    private func liveValue(_ cfg: GPIOLineConfig) -> Bool? {
        if case .flag(let b, _)? = engine?.state.live(cfg.device)?.value(cfg.property) { return b }
        return nil
    }

    // MARK: outputs

    /// Every value written to a live device: outputs follow their property.
    public func valuesCommitted(device: DeviceVersion, changes: [(name: String, value: PropertyValue)], time: Int64) {
        for ch in changes {
            guard let l = byProperty[device.id + "." + ch.name], l.cfg.direction == .output,
                  case .flag(let on, _) = ch.value else { continue }
            drive(l, on)
        }
    }

    private func drive(_ l: Line, _ on: Bool) {
        lock.withLock {
            l.writeGen += 1
            guard let out = l.output else { return }
            do throws(GPIOFailure) { try out.set(on) } catch {
                Log.error("gpio: \(l.cfg.label) for \(l.cfg.key): \(error.description)")
            }
        }
    }

    // MARK: plugin.gpio.get / pulse

    public func call(method: String, arguments: [JSON], timeoutMs: Int) -> Result<JSON, PluginError> {
        guard arguments.count >= 2, case .string(let dev) = arguments[0], case .string(let prop) = arguments[1] else {
            return .failure(PluginError(.failed, "\(method)(device, property\(method == "pulse" ? ", ms" : "")): device and property must be strings"))
        }
        guard let l = byProperty[dev + "." + prop] else {
            return .failure(PluginError(.failed, "no GPIO line is configured for \"\(dev)\".\"\(prop)\""))
        }
        switch method {
        case "get": return get(l)
        case "pulse":
            guard arguments.count >= 3, case .number(let ms) = arguments[2], ms >= 1, ms <= Double(GPIOPlugin.longestPulseMs) else {
                return .failure(PluginError(.failed, "pulse(device, property, ms): ms must be a number from 1 to \(GPIOPlugin.longestPulseMs)"))
            }
            return pulse(l, Int64(ms.rounded()))
        default:
            return .failure(PluginError(.unknown, "plugin \"gpio\" has no method \"\(method)\""))
        }
    }

    private func get(_ l: Line) -> Result<JSON, PluginError> {
        lock.withLock {
            do throws(GPIOFailure) {
                if let i = l.input { return .success(.bool(try i.value())) }
                if let o = l.output { return .success(.bool(try o.value())) }
            } catch {
                return .failure(PluginError(.failed, "\(l.cfg.label): \(error.description)"))
            }
            return .failure(PluginError(.unavailable, "\(l.cfg.label): the chip is not there (yet)"))
        }
    }

    /// Drives the line active for `ms`, then back to what its property holds.
    /// Returns at once; the property itself is not changed.
    private func pulse(_ l: Line, _ ms: Int64) -> Result<JSON, PluginError> {
        guard l.cfg.direction == .output else {
            return .failure(PluginError(.failed, "\(l.cfg.label) is an input line; only outputs pulse"))
        }
        return lock.withLock {
            guard let out = l.output else {
                return .failure(PluginError(.unavailable, "\(l.cfg.label): the chip is not there (yet)"))
            }
            do throws(GPIOFailure) { try out.set(true) } catch {
                return .failure(PluginError(.failed, "\(l.cfg.label): \(error.description)"))
            }
            l.writeGen += 1
            let gen = l.writeGen
            timers.schedule(afterMillis: ms) { [weak self, weak l] in
                guard let self, let l else { return }
                let back = self.liveValue(l.cfg) ?? false
                self.lock.withLock {
                    guard l.writeGen == gen, let out = l.output else { return }
                    try? out.set(back)
                }
            }
            return .success(.null)
        }
    }
}
