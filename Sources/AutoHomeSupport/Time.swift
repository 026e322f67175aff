#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock milliseconds since the Unix epoch: what users see in history.
public func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Monotonic nanoseconds: for deadlines and measurements, immune to clock steps.
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time this process has used, in nanoseconds (all threads).
public func processCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// The engine's notion of "now". The daemon uses the wall clock; `replay`
/// drives a virtual one from the events' `at` so its output is deterministic.
public protocol EngineClock: AnyObject, Sendable {
    func nowMillis() -> Int64
    /// True when time only moves when the replay driver says so.
    var isVirtual: Bool { get }
}

public final class SystemClock: EngineClock, @unchecked Sendable {
    public init() {}
    public func nowMillis() -> Int64 { wallClockMillis() }
    public var isVirtual: Bool { false }
}

public final class VirtualClock: EngineClock, @unchecked Sendable {
    private let lock = Lock()
    private var now: Int64
    public init(start: Int64 = 0) { now = start }
    public func nowMillis() -> Int64 { lock.withLock { now } }
    public var isVirtual: Bool { true }
    /// Moves forward only; an earlier time leaves the clock where it is.
    public func advance(to t: Int64) { lock.withLock { if t > now { now = t } } }
}
