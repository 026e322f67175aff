#if canImport(Glibc)
import Glibc
#endif

/// Waits for termination signals synchronously: the signals are blocked in
/// every thread (threads inherit the mask) and collected with sigwait.
public final class SignalWaiter {
    private var set = sigset_t()

    /// Create before starting other threads so they inherit the blocked mask.
    public init(_ signals: [Int32]) {
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    public func wait() -> Int32 {
        var sig: Int32 = 0
        sigwait(&set, &sig)
        return sig
    }
}
