import AutoHomeSupport

/// A lock whose holder can leave work for right after the unlock.
///
/// Why: `FDPoller.remove` waits until the I/O thread is done with a
/// descriptor, and the I/O thread's handlers take the plugin's lock. Removing
/// a descriptor while holding that lock could wait forever for a handler that
/// waits for the lock. So code under the lock retires descriptors with
/// `afterUnlock { poller.remove(t); close(fd) }` and the work runs once the
/// lock is free.
final class PluginLock: @unchecked Sendable {
    let raw = Lock()
    private var later: [() -> Void] = []

    func withLock<T>(_ body: () -> T) -> T {
        raw.lock()
        let r = body()
        let work = later
        later = []
        raw.unlock()
        for w in work { w() }
        return r
    }

    /// Only while holding the lock.
    func afterUnlock(_ work: @escaping () -> Void) { later.append(work) }

    /// For a body that throws: lock, and `unlock()` when done.
    func lock() { raw.lock() }
    func unlock() {
        let work = later
        later = []
        raw.unlock()
        for w in work { w() }
    }
}
