import AutoHomeSupport

/// Keeps idle action streams alive: a blank line every 10 s, well inside the
/// 30 s QUIC idle timeout. A repeating entry in the daemon's timer service.
public final class Heartbeat: @unchecked Sendable {
    private let timers: TimerService
    private let id: TimerService.ID

    public init(hub: ActionHub, timers: TimerService, intervalMs: Int64 = 10_000) {
        self.timers = timers
        id = timers.schedule(afterMillis: intervalMs, repeating: true) { [weak hub] in hub?.heartbeat() }
    }

    /// Any other stream's keep-alive (watch streams).
    public init(timers: TimerService, intervalMs: Int64 = 10_000, beat: @escaping @Sendable () -> Void) {
        self.timers = timers
        id = timers.schedule(afterMillis: intervalMs, repeating: true, beat)
    }

    public func stop() { timers.cancel(id) }
}
