import AutoHome
import AutoHomeSupport

/// The built-in `sun` plugin (SPEC §8): `plugin.sun.isDark()`, `sunrise()`,
/// `sunset()` (Unix ms of today's events in the local time zone; null on a
/// polar day or night), and the `onsunrise` / `onsunset` events of
/// `set("plugin/sun", …)`, shifted by `sunriseOffsetMinutes` /
/// `sunsetOffsetMinutes`.
///
/// Events are kept on the wall clock, not on one long timer: the plugin looks
/// again at least every 30 s, so a clock that NTP sets at boot (a Raspberry
/// Pi has no RTC), a DST change or a restart all land on the right minute.
/// An event whose minute passed more than `lateLimitMs` ago (the daemon was
/// down, the clock jumped forward) is skipped, not fired late.
public final class SunPlugin: Plugin, @unchecked Sendable {
    public let name = "sun"
    public var methods: [String] { ["isDark", "sunrise", "sunset"] }
    public static let lateLimitMs: Int64 = 10 * 60_000
    public static let tickMs: Int64 = 30_000

    public enum Kind: String, CaseIterable, Sendable { case sunrise, sunset }

    public let config: SunConfig
    private let timers: TimerService
    private let now: () -> Int64
    private let localDayOf: (Int64) -> Int
    private let lock = Lock()
    private var timer: TimerService.ID?
    private var fire: ((Kind, JSON) -> Void)?
    /// The due time of the last event fired, per kind: never fired twice,
    /// even when the clock steps back.
    private var lastFired: [Kind: Int64] = [:]
    private var stopped = false

    public init(config: SunConfig, timers: TimerService, now: @escaping () -> Int64 = wallClockMillis,
                localDayOf: @escaping (Int64) -> Int = LocalTime.day(ofMillis:)) {
        self.config = config
        self.timers = timers
        self.now = now
        self.localDayOf = localDayOf
    }

    // MARK: calculations

    public func event(_ kind: Kind, localDay day: Int) -> SolarCalculator.Event {
        SolarCalculator.event(rise: kind == .sunrise, localDay: day, latitude: config.latitude, longitude: config.longitude,
                              localDayOf: localDayOf)
    }

    public func offsetMs(_ kind: Kind) -> Int64 {
        Int64(kind == .sunrise ? config.sunriseOffsetMinutes : config.sunsetOffsetMinutes) * 60_000
    }

    public func isDark(at t: Int64) -> Bool {
        SolarCalculator.elevation(atMillis: t, latitude: config.latitude, longitude: config.longitude) < 90 - SolarCalculator.horizonZenith
    }

    /// The next due time (event + offset) of `kind` after `t`, looking a
    /// few days ahead (polar days have none).
    public func nextDue(_ kind: Kind, after t: Int64) -> (due: Int64, event: Int64)? {
        let today = localDayOf(t)
        for day in (today - 1)...(today + 3) {
            if let e = event(kind, localDay: day).millis, e + offsetMs(kind) > t { return (e + offsetMs(kind), e) }
        }
        return nil
    }

    // MARK: Plugin

    public func call(method: String, arguments: [JSON], timeoutMs: Int) -> Result<JSON, PluginError> {
        let t = now()
        switch method {
        case "isDark": return .success(.bool(isDark(at: t)))
        case "sunrise", "sunset":
            let e = event(method == "sunrise" ? .sunrise : .sunset, localDay: localDayOf(t))
            return .success(e.millis.map { .number(Double($0)) } ?? .null)
        default: return .failure(PluginError(.unknown, "plugin \"sun\" has no method \"\(method)\""))
        }
    }

    // MARK: events

    /// Arms the events; `fire` runs on the timer thread (hand it to the engine).
    public func start(fire: @escaping (Kind, JSON) -> Void) {
        let t = now()
        lock.withLock {
            self.fire = fire
            stopped = false
            // Whatever was due before now is not fired again after a restart.
            for k in Kind.allCases { lastFired[k] = t }
        }
        for k in Kind.allCases {
            if let n = nextDue(k, after: t) { Log.info("sun: next \(k.rawValue) event at \(LocalTime.describe(n.due))") }
        }
        tick()
    }

    public func stop() {
        lock.withLock {
            stopped = true
            if let id = timer { timers.cancel(id) }
            timer = nil
        }
    }

    /// Fires what is due, then sleeps until the next due time or `tickMs`.
    func tick() {
        let t = now()
        var toFire: [(Kind, JSON)] = []
        var wait = SunPlugin.tickMs
        lock.withLock {
            guard !stopped else { return }
            for k in Kind.allCases {
                let floor = lastFired[k] ?? t
                guard let n = nextDue(k, after: floor) else { continue }
                if n.due <= t {
                    lastFired[k] = n.due
                    if t - n.due <= SunPlugin.lateLimitMs {
                        toFire.append((k, .object([("time", .number(Double(n.due))), (k.rawValue, .number(Double(n.event))),
                                                   ("offsetMinutes", .number(Double(offsetMs(k) / 60_000)))])))
                    } else {
                        Log.warn("sun: \(k.rawValue) event of \(LocalTime.describe(n.due)) skipped: the clock is \((t - n.due) / 60_000) min past it")
                    }
                    if let again = nextDue(k, after: max(t, n.due)) { wait = min(wait, again.due - t) }
                } else {
                    wait = min(wait, n.due - t)
                }
            }
            timer = timers.schedule(afterMillis: max(wait, 10)) { [weak self] in self?.tick() }
        }
        for (k, data) in toFire {
            Log.info("sun: \(k.rawValue) event")
            fire?(k, data)
        }
    }
}
