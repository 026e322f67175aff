#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A pthread mutex. Engine state shared between threads is guarded in exactly
/// one place each (see ARCHITECTURE.md); this is that place's lock.
public final class Lock: @unchecked Sendable {
    @usableFromInline let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() { pthread_mutex_init(m, nil) }
    deinit { pthread_mutex_destroy(m); m.deallocate() }

    public func lock() { pthread_mutex_lock(m) }
    public func unlock() { pthread_mutex_unlock(m) }

    @inlinable
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }

    fileprivate var raw: UnsafeMutablePointer<pthread_mutex_t> { m }
}

/// A condition variable bound to a `Lock`; waits use the monotonic clock.
public final class Condition: @unchecked Sendable {
    private let c = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(c, &attr)
        pthread_condattr_destroy(&attr)
    }
    deinit { pthread_cond_destroy(c); c.deallocate() }

    /// Caller holds `lock`.
    public func wait(_ lock: Lock) { pthread_cond_wait(c, lock.raw) }

    /// Caller holds `lock`. Returns false on timeout.
    @discardableResult
    public func wait(_ lock: Lock, untilMonotonicNanos deadline: UInt64) -> Bool {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(c, lock.raw, &ts) == 0
    }

    public func signal() { pthread_cond_signal(c) }
    public func broadcast() { pthread_cond_broadcast(c) }
}
