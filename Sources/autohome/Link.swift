import AutoHomeClient
import AutoHomeSupport

/// A connection that comes back: `get()` returns the current one, or makes a
/// new one when the daemon went away (a restart, a network hiccup), with
/// back-off between failed attempts (1 s doubling to 30 s). Shared by the
/// threads of `device` and `bench`.
final class Link: @unchecked Sendable {
    private let settings: Settings
    private let lock = Lock()
    private var conn: Connection?
    private var backoffMs = 0
    private var nextTry: UInt64 = 0
    let idleTimeoutMs: UInt32

    init(_ settings: Settings, idleTimeoutMs: UInt32 = 20_000) {
        self.settings = settings
        self.idleTimeoutMs = idleTimeoutMs
    }

    /// Blocks until connected, or throws what cannot get better by waiting
    /// (a certificate refused, a bad pin).
    func get() throws(ClientError) -> Connection {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if let c = conn, c.isOpen { return c }
            conn?.close()
            conn = nil
            let now = monotonicNanos()
            if now < nextTry {
                lock.unlock()
                sleepMillis(Int((nextTry - now) / 1_000_000) + 1)
                lock.lock()
                continue
            }
            do throws(ClientError) {
                let c = try settings.connect(idleTimeoutMs: idleTimeoutMs)
                conn = c
                backoffMs = 0
                return c
            } catch {
                guard case .unreachable = error else { throw error }
                backoffMs = backoffMs == 0 ? 1000 : min(backoffMs * 2, 30_000)
                nextTry = monotonicNanos() + UInt64(backoffMs) * 1_000_000
                Output.notice("\(error.description); retrying in \(backoffMs / 1000) s")
            }
        }
    }

    func close() { lock.withLock { conn?.close(); conn = nil } }
}
