import AutoHome
import AutoHomeSupport

/// One line of `/v1/logs`: a daemon line, a script's log, or a script error
/// (with script and line; runaway stops are errors too).
public struct LogLine: Sendable {
    public var id: UInt64
    public var time: Int64
    public var level: LogLevel
    /// "daemon", or the script's file name.
    public var source: String
    public var message: String
    public var script: String?
    public var line: Int?
    /// The event whose run produced it (the `seq` of `?wait=1` and replay).
    public var seq: UInt64?

    /// `{"time","level","source","message"}`, plus `script`/`line`/`seq` when known.
    public var json: JSON {
        var o = JSONObjectBuilder()
        o.add("time", .number(Double(time)))
        o.add("level", level.name)
        o.add("source", source)
        o.add("message", message)
        o.addIfPresent("script", script)
        if let line { o.add("line", line) }
        if let seq { o.add("seq", .number(Double(seq))) }
        return o.json
    }
}

/// The daemon's recent log lines (SPEC §5 `GET /v1/logs`) in a ring of fixed
/// size allocated at start: daemon lines (through `Log.sink`), script logs and
/// script errors (from the engine's fan-out). Memory stays bounded: at most
/// `capacity` lines of at most `maxMessageBytes` each.
///
/// `?follow=1` readers each keep a cursor into the ring; one thread of the
/// ring's own writes what is new to every reader, so a logging thread never
/// waits for a network write. A reader that falls more than `capacity` lines
/// behind (it reads too slowly, or its stream buffer is full) loses the lines
/// the ring overwrote and is told how many.
public final class LogRing: EngineObserver, @unchecked Sendable {
    public let capacity: Int
    public static let maxMessageBytes = 1024
    private let lock = Lock()
    private let wake = Condition()
    private var slots: [LogLine?]
    /// Id of the next line; ids start at 1.
    private var nextId: UInt64 = 1
    private let clock: () -> Int64

    private struct Follower {
        var sink: ResponseSink
        var level: LogLevel
        /// Id of the next line to send.
        var cursor: UInt64
        var lastWrite: UInt64
    }
    private var followers: [ExchangeID: Follower] = [:]
    private var writerRunning = false
    private var stopping = false
    /// A blank line after this long without a write keeps a quiet stream alive.
    static let keepAliveNanos: UInt64 = 10_000_000_000

    public init(capacity: Int = 1000, clock: @escaping () -> Int64 = wallClockMillis) {
        self.capacity = max(1, capacity)
        self.clock = clock
        slots = [LogLine?](repeating: nil, count: self.capacity)
    }

    // MARK: input

    /// A daemon line (`Log.sink`).
    public func daemonLine(_ level: LogLevel, _ message: String) {
        append(level: level, source: "daemon", message: message)
    }

    public func scriptLogged(_ log: ScriptLog) {
        append(level: log.level, source: log.script, message: log.message, seq: log.seq)
    }

    public func scriptFailed(_ error: ScriptError) {
        append(level: .error, source: error.script ?? "scripts", message: error.description, script: error.script,
               line: error.line, seq: error.seq)
    }

    public func append(level: LogLevel, source: String, message: String, script: String? = nil, line: Int? = nil,
                       seq: UInt64? = nil) {
        let text = message.utf8.count <= LogRing.maxMessageBytes ? message : LogRing.truncate(message)
        let time = clock()
        lock.withLock {
            let l = LogLine(id: nextId, time: time, level: level, source: source, message: text, script: script, line: line, seq: seq)
            slots[Int(nextId % UInt64(capacity))] = l
            nextId += 1
            if !followers.isEmpty { wake.signal() }
        }
    }

    private static func truncate(_ s: String) -> String {
        var bytes = Array(s.utf8.prefix(maxMessageBytes))
        // Do not cut a UTF-8 sequence in half.
        while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }
        if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self) + "…"
    }

    // MARK: reading

    /// Lines at `level` or above, at or after `since` (Unix ms), newest first,
    /// at most `limit`.
    public func lines(since: Int64? = nil, limit: Int = 100, level: LogLevel = .debug) -> [LogLine] {
        lock.withLock {
            var out: [LogLine] = []
            var id = nextId
            let oldest = nextId > UInt64(capacity) ? nextId - UInt64(capacity) : 1
            while id > oldest, out.count < limit {
                id -= 1
                guard let l = slots[Int(id % UInt64(capacity))] else { break }
                if let since, l.time < since { break }
                if l.level >= level { out.append(l) }
            }
            return out
        }
    }

    // MARK: follow

    /// Opens a `?follow=1` stream: 200 NDJSON, then `backlog` (oldest first),
    /// then every new line at `level` or above. False when the client is gone.
    @discardableResult
    public func follow(exchange: ExchangeID, sink: ResponseSink, level: LogLevel, backlog: [LogLine]) -> Bool {
        let head = Response(status: 200, contentType: "application/x-ndjson", body: [])
        guard sink.respond(exchange, head, endStream: false) == .ok else { return false }
        var bytes: [UInt8] = []
        for l in backlog.reversed() { bytes += LogRing.bytes(l.json) }
        if !bytes.isEmpty, sink.write(exchange, bytes).isFinal { return false }
        lock.withLock {
            followers[exchange] = Follower(sink: sink, level: level, cursor: nextId, lastWrite: monotonicNanos())
            if !writerRunning {
                writerRunning = true
                spawnThread(name: "log-follow") { [self] in writerLoop() }
            }
        }
        return true
    }

    /// CQuic's on_stream_closed: forget the reader.
    public func closed(_ exchange: ExchangeID) { lock.withLock { _ = followers.removeValue(forKey: exchange) } }

    public var followerCount: Int { lock.withLock { followers.count } }

    /// Ends every open stream and the writer thread (shutdown).
    public func stop() {
        let ended: [(ExchangeID, ResponseSink)] = lock.withLock {
            stopping = true
            wake.broadcast()
            while writerRunning { wake.wait(lock) }
            defer { followers = [:] }
            return followers.map { ($0.key, $0.value.sink) }
        }
        for (ex, sink) in ended { sink.end(ex) }
    }

    private func writerLoop() {
        while true {
            // What each reader is owed, taken under the lock; written without it.
            let work: [(ExchangeID, Follower, [LogLine], UInt64, UInt64)]? = lock.withLock {
                while !stopping && !followers.contains(where: { $0.value.cursor < nextId }) {
                    let due = followers.values.map(\.lastWrite).min().map { $0 + LogRing.keepAliveNanos } ?? monotonicNanos() + 60_000_000_000
                    if !wake.wait(lock, untilMonotonicNanos: min(due, monotonicNanos() + 1_000_000_000)) { break }
                }
                if stopping {
                    writerRunning = false
                    wake.broadcast()
                    return nil
                }
                let oldest = nextId > UInt64(capacity) ? nextId - UInt64(capacity) : 1
                return followers.map { ex, f in
                    let from = max(f.cursor, oldest)
                    var lines: [LogLine] = []
                    var id = from
                    while id < nextId, lines.count < 256 {
                        if let l = slots[Int(id % UInt64(capacity))], l.level >= f.level { lines.append(l) }
                        id += 1
                    }
                    return (ex, f, lines, id, from - f.cursor)
                }
            }
            guard let work else { return }
            for (ex, f, lines, upTo, dropped) in work { deliver(ex, f, lines, upTo: upTo, dropped: dropped) }
        }
    }

    /// Writes one reader's new lines, preceded by a note when the ring
    /// overwrote lines it had not read yet.
    private func deliver(_ ex: ExchangeID, _ f: Follower, _ lines: [LogLine], upTo: UInt64, dropped: UInt64) {
        var bytes: [UInt8] = []
        if dropped > 0 {
            var note = JSONObjectBuilder()
            note.add("time", .number(Double(clock())))
            note.add("level", "warn")
            note.add("source", "logs")
            note.add("message", "\(dropped) log lines dropped: this reader fell behind")
            note.add("dropped", .number(Double(dropped)))
            bytes += LogRing.bytes(note.json)
        }
        for l in lines { bytes += LogRing.bytes(l.json) }
        let now = monotonicNanos()
        if bytes.isEmpty {
            guard now >= f.lastWrite + LogRing.keepAliveNanos else {
                lock.withLock { if followers[ex] != nil { followers[ex]!.cursor = upTo } }
                return
            }
            bytes = [0x0A]
        }
        let r = f.sink.write(ex, bytes)
        lock.withLock {
            guard followers[ex] != nil else { return }
            if r.isFinal { followers[ex] = nil; return }
            // full: the reader lags; the cursor stays, so what the ring still
            // holds is sent later and what it overwrites is counted as dropped.
            if r == .ok { followers[ex]!.cursor = upTo; followers[ex]!.lastWrite = now }
            else { followers[ex]!.lastWrite = now }
        }
        if r != .ok && !r.isFinal { sleepMillis(50) }
    }

    static func bytes(_ json: JSON) -> [UInt8] { Array((json.text + "\n").utf8) }
}
