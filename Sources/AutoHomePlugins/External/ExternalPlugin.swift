#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// One external plugin (SPEC §8): a program the daemon starts, speaking
/// newline-delimited JSON over the Unix socket named in
/// `AUTOHOME_PLUGIN_SOCKET` (protocol in docs/plugins.md).
///
/// It is supervised: a plugin that exits, closes its socket, breaks the
/// protocol, says no hello within `helloTimeoutMs`, or leaves a call
/// unanswered past its timeout (it hangs) is killed and started again after
/// a back-off of 1 s, doubling to 60 s; the back-off starts over once a
/// plugin has stayed up `stableMs`. Nothing here ever waits for a plugin:
/// start-up goes on while it starts, and a call to a plugin that is down
/// throws at once.
///
/// Threads: `call` runs on VM threads and blocks at most `timeoutMs`; the
/// socket is read on the plugins' I/O thread; restarts, hello deadlines and
/// reaping run on the timer service.
public final class ExternalPlugin: Plugin, @unchecked Sendable {
    public let name: String
    public let command: [String]
    public let socketPath: String

    public static let firstBackoffMs: Int64 = 1000
    public static let maxBackoffMs: Int64 = 60_000
    public static let maxLineBytes = 1 << 20

    private let poller: FDPoller
    private let timers: TimerService
    private let helloTimeoutMs: Int64
    private let stableMs: Int64
    private let lock = PluginLock()
    private let answered = Condition()
    /// Serialises writes to the socket (a call's line is never interleaved).
    private let writeLock = Lock()

    private var listenFd: Int32 = -1
    private var listenToken: FDPoller.Token?
    private var child: ChildProcess?
    /// Children that are done for but not yet reaped, with the time after
    /// which they get SIGKILL (0: already sent).
    private var zombies: [(child: ChildProcess, killAt: UInt64)] = []
    /// One that closed its socket may still be exiting on its own.
    static let exitGraceMs: UInt64 = 1000
    private var connFd: Int32 = -1
    private var connToken: FDPoller.Token?
    private var inbox: [UInt8] = []
    private var ready = false
    private var knownMethods: [String] = []
    private var upSince: UInt64 = 0
    private var backoffMs: Int64 = ExternalPlugin.firstBackoffMs
    private var restartAt: UInt64 = 0
    private var restartTimer: TimerService.ID?
    private var helloTimer: TimerService.ID?
    private var reaper: TimerService.ID?
    private var stopped = true
    private var generation = 0
    private var nextCallId = 0
    private var pending: [Int: Result<JSON, PluginError>?] = [:]
    /// Counted for tests and logs.
    public private(set) var starts = 0

    /// Set by the daemon: a hello changed the methods (VMs rebuild `plugin`).
    public var onMethodsChanged: (() -> Void)?
    /// Set by the daemon: an event line (`engine.pluginEvent`).
    public var onEvent: ((String, JSON) -> Void)?

    public init(config: ExternalPluginConfig, socketDirectory: String, poller: FDPoller, timers: TimerService,
                helloTimeoutMs: Int64 = 10_000, stableMs: Int64 = 10_000) {
        name = config.name
        command = config.command
        socketPath = socketDirectory + "/" + config.name + ".sock"
        self.poller = poller
        self.timers = timers
        self.helloTimeoutMs = helloTimeoutMs
        self.stableMs = stableMs
    }

    public var methods: [String] { lock.withLock { knownMethods } }
    /// Connected and said hello.
    public var isUp: Bool { lock.withLock { ready } }

    // MARK: life cycle

    /// Opens the socket and starts the program; returns at once.
    public func start() throws(PluginSetupError) {
        let fd: Int32
        switch UnixSocket.listen(path: socketPath) {
        case .success(let f): fd = f
        case .failure(let e): throw e
        }
        lock.withLock {
            listenFd = fd
            stopped = false
            listenToken = poller.add(fd: fd) { [weak self] _ in self?.acceptConnection() }
            reaper = timers.schedule(afterMillis: 500, repeating: true) { [weak self] in self?.reap() }
            launch()
        }
    }

    /// Ends the program (SIGTERM, then SIGKILL after `graceMs`), fails what
    /// is pending, closes and removes the socket.
    public func stop(graceMs: Int = 2000) {
        var toEnd: [ChildProcess] = []
        lock.withLock {
            guard !stopped else { return }
            stopped = true
            for id in [restartTimer, helloTimer, reaper].compactMap({ $0 }) { timers.cancel(id) }
            restartTimer = nil; helloTimer = nil; reaper = nil
            dropConnection("the daemon is stopping")
            let token = listenToken, fd = listenFd
            lock.afterUnlock { [poller] in
                if let token { poller.remove(token) }
                if fd >= 0 { close(fd) }
            }
            listenToken = nil
            listenFd = -1
            unlink(socketPath)
            if let c = child { toEnd.append(c) }
            child = nil
            toEnd += zombies.map(\.child)
            zombies = []
        }
        for c in toEnd { c.signal(SIGTERM) }
        let deadline = monotonicNanos() + UInt64(graceMs) * 1_000_000
        var left = toEnd.filter { $0.reap() == nil }
        while !left.isEmpty && monotonicNanos() < deadline {
            sleepMillis(20)
            left = left.filter { $0.reap() == nil }
        }
        for c in left {
            c.signal(SIGKILL)
            var status: Int32 = 0
            _ = waitpid(c.pid, &status, 0)
        }
    }

    /// Under the lock: starts the program.
    private func launch() {
        guard !stopped, child == nil else { return }
        restartTimer = nil
        generation += 1
        starts += 1
        switch ChildProcess.spawn(command, extraEnvironment: ["AUTOHOME_PLUGIN_SOCKET": socketPath, "AUTOHOME_PLUGIN_NAME": name]) {
        case .success(let c):
            child = c
            Log.info("plugin \(name): started \(command[0]) (pid \(c.pid))")
            let gen = generation
            helloTimer = timers.schedule(afterMillis: helloTimeoutMs) { [weak self] in
                guard let self else { return }
                self.lock.withLock {
                    guard self.generation == gen, !self.ready, self.child != nil else { return }
                    self.down("said no hello within \(self.helloTimeoutMs / 1000) s")
                }
            }
        case .failure(let e):
            Log.error("plugin \(name): \(e.description); starting it again in \(ExternalPlugin.seconds(backoffMs))")
            scheduleRestart()
        }
    }

    /// Under the lock: the plugin is gone or must go. Kills it, fails every
    /// pending call at once, and schedules the restart.
    private func down(_ reason: String, kill: Bool = true) {
        guard !stopped else { return }
        dropConnection("plugin \"\(name)\" went down (\(reason))")
        if let h = helloTimer { timers.cancel(h) }
        helloTimer = nil
        if let c = child {
            if let how = c.reap() {
                Log.info("plugin \(name): pid \(c.pid) \(how)")
            } else if kill {
                c.signal(SIGKILL)
                zombies.append((c, 0))
            } else {
                zombies.append((c, monotonicNanos() + ExternalPlugin.exitGraceMs * 1_000_000))
            }
            child = nil
        }
        if upSince != 0 && monotonicNanos() - upSince >= UInt64(stableMs) * 1_000_000 { backoffMs = ExternalPlugin.firstBackoffMs }
        upSince = 0
        Log.warn("plugin \(name): \(reason); starting it again in \(ExternalPlugin.seconds(backoffMs))")
        scheduleRestart()
    }

    /// Under the lock.
    private func scheduleRestart() {
        guard !stopped, restartTimer == nil else { return }
        let wait = backoffMs
        backoffMs = min(backoffMs * 2, ExternalPlugin.maxBackoffMs)
        restartAt = monotonicNanos() + UInt64(wait) * 1_000_000
        restartTimer = timers.schedule(afterMillis: wait) { [weak self] in
            guard let self else { return }
            self.lock.withLock { self.restartTimer = nil; self.launch() }
        }
    }

    /// Under the lock: closes the connection and fails what waits on it.
    private func dropConnection(_ why: String) {
        let token = connToken, fd = connFd
        if token != nil || fd >= 0 {
            lock.afterUnlock { [poller] in
                if let token { poller.remove(token) }
                if fd >= 0 { close(fd) }
            }
        }
        connToken = nil
        connFd = -1
        inbox = []
        ready = false
        for id in pending.keys where pending[id]! == nil { pending[id] = .failure(PluginError(.unavailable, why)) }
        answered.broadcast()
    }

    /// Timer thread: reaps children that ended.
    private func reap() {
        lock.withLock {
            let now = monotonicNanos()
            zombies = zombies.compactMap { z in
                if let how = z.child.reap() {
                    Log.info("plugin \(name): pid \(z.child.pid) \(how)")
                    return nil
                }
                guard z.killAt != 0, now >= z.killAt else { return z }
                z.child.signal(SIGKILL)
                return (z.child, 0)
            }
            guard let c = child, let how = c.reap() else { return }
            child = nil
            down(how)
        }
    }

    private static func seconds(_ ms: Int64) -> String { ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s" }

    // MARK: socket (I/O thread)

    private func acceptConnection() {
        lock.withLock {
            guard listenFd >= 0, let fd = UnixSocket.accept(listenFd) else { return }
            guard connFd < 0, child != nil else {
                // One connection per running program; a stray one is refused.
                close(fd)
                return
            }
            connFd = fd
            connToken = poller.add(fd: fd) { [weak self] _ in self?.readable() }
        }
    }

    private func readable() {
        var lines: [[UInt8]] = []
        lock.withLock {
            guard connFd >= 0 else { return }
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(connFd, &buf, buf.count)
                if n > 0 { inbox.append(contentsOf: buf[0..<n]); continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
                if n < 0 && errno == EINTR { continue }
                // EOF or error; the lines before it still count.
                lines = ExternalPlugin.split(&inbox)
                lines.append([])
                return
            }
            lines = ExternalPlugin.split(&inbox)
            if inbox.count > ExternalPlugin.maxLineBytes { down("sent a line longer than \(ExternalPlugin.maxLineBytes) bytes") }
        }
        for line in lines {
            if line.isEmpty {
                lock.withLock { if connFd >= 0 { down("closed its socket", kill: false) } }
                return
            }
            handle(line)
        }
    }

    /// Takes the complete lines off the front of `buf` (blank ones dropped,
    /// so an empty array in the result means EOF only where added above).
    private static func split(_ buf: inout [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var start = 0
        for i in buf.indices where buf[i] == 0x0A {
            let line = Array(buf[start..<i])
            if line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) { out.append(line) }
            start = i + 1
        }
        if start > 0 { buf.removeFirst(start) }
        return out
    }

    private func handle(_ line: [UInt8]) {
        let msg: JSON
        do { msg = try JSON.parse(String(decoding: line, as: UTF8.self)) } catch {
            lock.withLock { down("sent a line that is not JSON (\(error.description))") }
            return
        }
        switch msg["type"]?.stringValue {
        case "hello"?: hello(msg)
        case "result"?, "error"?:
            guard let idNum = msg["id"]?.numberValue, idNum >= 0, idNum < 1e15, idNum == idNum.rounded() else {
                Log.warn("plugin \(name): a \(msg["type"]!.stringValue!) without the id of a call")
                return
            }
            let id = Int(idNum)
            let result: Result<JSON, PluginError>
            if msg["type"]?.stringValue == "result" {
                result = .success(msg["result"] ?? .null)
            } else {
                result = .failure(PluginError(.failed, msg["message"]?.stringValue ?? "the plugin reported an error"))
            }
            lock.withLock {
                // A late answer to a call that already timed out is dropped.
                guard pending[id] != nil else { return }
                pending[id] = result
                answered.broadcast()
            }
        case "event"?:
            guard case .string(let ev)? = msg["event"], ExternalPluginConfig.isValidName(ev) else {
                Log.warn("plugin \(name): an event needs \"event\": a name like \"message\"")
                return
            }
            guard isUp else { return }
            onEvent?(ev, msg["data"] ?? .null)
        default:
            Log.warn("plugin \(name): unknown message type \(msg["type"].map { $0.text } ?? "(none)")")
        }
    }

    private func hello(_ msg: JSON) {
        var methods: [String] = []
        for m in msg["methods"]?.arrayValue ?? [] {
            guard case .string(let s) = m, ExternalPluginConfig.isValidName(s) else {
                Log.warn("plugin \(name): hello lists a method that is not a name: \(m.text)")
                continue
            }
            if !methods.contains(s) { methods.append(s) }
        }
        if let said = msg["name"]?.stringValue, said != name {
            Log.warn("plugin \(name): says its name is \"\(said)\"; it stays \"\(name)\" (the config's name)")
        }
        let changed: Bool = lock.withLock {
            if let h = helloTimer { timers.cancel(h) }
            helloTimer = nil
            ready = true
            upSince = monotonicNanos()
            let changed = methods != knownMethods
            knownMethods = methods
            return changed
        }
        Log.info("plugin \(name): ready, methods: \(methods.isEmpty ? "(none)" : methods.joined(separator: ", "))")
        if changed { onMethodsChanged?() }
    }

    // MARK: calls (VM threads)

    public func call(method: String, arguments: [JSON], timeoutMs: Int) -> Result<JSON, PluginError> {
        let deadline = monotonicNanos() + UInt64(max(timeoutMs, 1)) * 1_000_000
        let (id, fd): (Int, Int32)
        switch lock.withLock({ () -> Result<(Int, Int32), PluginError> in
            guard ready, connFd >= 0 else { return .failure(PluginError(.unavailable, downMessage())) }
            nextCallId += 1
            pending[nextCallId] = .some(nil)
            return .success((nextCallId, connFd))
        }) {
        case .success(let v): (id, fd) = v
        case .failure(let e): return .failure(e)
        }
        let line = JSON.object([("type", .string("call")), ("id", .number(Double(id))), ("method", .string(method)),
                                ("args", .array(arguments))]).text + "\n"
        let sent = writeLock.withLock { UnixSocket.writeAll(fd, Array(line.utf8), deadline: deadline) }
        return lock.withLock {
            if !sent, pending[id]! == nil {
                pending[id] = nil
                if connFd == fd { down("stopped reading its socket") }
                return .failure(PluginError(.unavailable, "plugin \"\(name)\" did not take the call; it is being restarted"))
            }
            while pending[id]! == nil && monotonicNanos() < deadline {
                _ = answered.wait(lock.raw, untilMonotonicNanos: deadline)
            }
            let outcome = pending.removeValue(forKey: id)!
            if let outcome { return outcome }
            // It hangs: the call throws now, and the plugin is restarted.
            if connFd == fd { down("left call \"\(method)\" unanswered for \(timeoutMs) ms") }
            return .failure(PluginError(.timeout, "plugin \"\(name)\": \(method) did not answer within \(timeoutMs) ms"))
        }
    }

    /// Under the lock.
    private func downMessage() -> String {
        if stopped { return "plugin \"\(name)\" is stopped" }
        if child != nil { return "plugin \"\(name)\" is starting (no hello yet)" }
        let left = restartAt > monotonicNanos() ? Int64((restartAt - monotonicNanos()) / 1_000_000) : 0
        return "plugin \"\(name)\" is down; it is started again in \(ExternalPlugin.seconds(max(left, 0) / 100 * 100))"
    }
}
