#if canImport(Glibc)
import Glibc
#endif
import AutoHomeSupport

/// The plugins' one I/O thread ("ah-plugin-io"): every GPIO edge descriptor
/// and every external plugin's socket is watched by a single `poll()` here,
/// so a board with twenty lines and three helpers still has one thread, and
/// nothing polls values on a timer.
///
/// Thread contract: `add` and `remove` may be called from any thread, also
/// from inside a handler. Handlers run on the I/O thread, one at a time; they
/// must be short (read what is ready, hand work to the engine). After `remove`
/// returns, the handler is not running and will not run again, so the caller
/// may close the descriptor.
public final class FDPoller: @unchecked Sendable {
    public struct Token: Hashable, Sendable { fileprivate let raw: UInt64 }

    private struct Watch {
        var fd: Int32
        var events: Int16
        var handler: (Int16) -> Void
    }

    private let lock = Lock()
    private let changed = Condition()
    private var watches: [UInt64: Watch] = [:]
    private var nextId: UInt64 = 0
    /// Bumped by every add/remove; the loop reports the generation it polls.
    private var generation: UInt64 = 0
    private var polledGeneration: UInt64 = 0
    private var inHandler = false
    private var running = false
    private var stopping = false
    private var ioThread: pthread_t?
    /// Wakes the poll when the set changes: a pipe, its read end always watched.
    private let wakeFd: Int32
    private let wakeWriteFd: Int32
    public let name: String

    public init(name: String = "ah-plugin-io") {
        self.name = name
        var p: [Int32] = [-1, -1]
        let rc = pipe(&p)
        precondition(rc == 0, "pipe failed: errno \(errno)")
        for fd in p { FDPoller.setNonBlocking(fd) }
        wakeFd = p[0]
        wakeWriteFd = p[1]
    }

    deinit { close(wakeFd); close(wakeWriteFd) }

    /// Watches `fd` for `events` (POLLIN by default); `handler` gets revents.
    @discardableResult
    public func add(fd: Int32, events: Int16 = Int16(POLLIN), _ handler: @escaping (Int16) -> Void) -> Token {
        lock.withLock {
            nextId += 1
            watches[nextId] = Watch(fd: fd, events: events, handler: handler)
            generation += 1
            if !running && !stopping {
                running = true
                spawnThread(name: name) { [self] in loop() }
            }
            wake()
            return Token(raw: nextId)
        }
    }

    /// Stops watching; waits until the I/O thread no longer polls the fd
    /// (unless called on the I/O thread itself, where that is already true).
    public func remove(_ token: Token) {
        lock.withLock {
            guard watches.removeValue(forKey: token.raw) != nil else { return }
            generation += 1
            let target = generation
            wake()
            if onIOThread { return }
            while running && !stopping && (polledGeneration < target || inHandler) { changed.wait(lock) }
        }
    }

    /// How many descriptors are watched (tests).
    public var count: Int { lock.withLock { watches.count } }

    /// Ends the thread; handlers no longer run. Idempotent.
    public func stop() {
        lock.withLock {
            stopping = true
            wake()
            if onIOThread { return }
            while running { changed.wait(lock) }
        }
    }

    /// O_NONBLOCK and FD_CLOEXEC (plugin children must not inherit our fds).
    public static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
    }

    private var onIOThread: Bool {
        guard let t = ioThread else { return false }
        return pthread_equal(t, pthread_self()) != 0
    }

    private func wake() {
        var one: UInt8 = 1
        _ = write(wakeWriteFd, &one, 1)
    }

    private func loop() {
        lock.withLock { ioThread = pthread_self() }
        var fds: [pollfd] = []
        var ids: [UInt64] = []
        while true {
            let stop: Bool = lock.withLock {
                if stopping { return true }
                fds = [pollfd(fd: wakeFd, events: Int16(POLLIN), revents: 0)]
                ids = [0]
                for (id, w) in watches {
                    fds.append(pollfd(fd: w.fd, events: w.events, revents: 0))
                    ids.append(id)
                }
                polledGeneration = generation
                changed.broadcast()
                return false
            }
            if stop { break }
            let n = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), -1) }
            if n < 0 {
                if errno == EINTR { continue }
                Log.error("\(name): poll failed: errno \(errno)")
                sleepMillis(100)
                continue
            }
            if fds[0].revents != 0 {
                var buf = [UInt8](repeating: 0, count: 64)
                while read(wakeFd, &buf, buf.count) > 0 {}
            }
            for k in 1..<fds.count where fds[k].revents != 0 {
                let handler: ((Int16) -> Void)? = lock.withLock {
                    // Removed since this poll started: skip it.
                    guard !stopping, let w = watches[ids[k]] else { return nil }
                    inHandler = true
                    return w.handler
                }
                guard let handler else { continue }
                handler(fds[k].revents)
                lock.withLock { inHandler = false; changed.broadcast() }
            }
        }
        lock.withLock {
            running = false
            ioThread = nil
            changed.broadcast()
        }
    }
}
