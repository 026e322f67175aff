import AutoHomeSupport

/// One QUIC connection to a daemon, used from ordinary (blocking) code:
/// `request` waits for a whole response, `stream` hands over a long
/// response line by line. Any number of threads may use one connection at
/// once; each request is its own HTTP/3 stream.
public final class Connection: H3Delegate, @unchecked Sendable {
    /// Per request: what has arrived so far, and who waits for it.
    private final class Exchange {
        var status = 0
        var contentType: String?
        var retryAfter: String?
        var body: [UInt8] = []
        var end: RequestEnd?
        /// Streaming requests: bytes go here instead of `body` (network thread).
        var onData: ((UnsafeRawBufferPointer) -> Void)?
        var onHead: ((Int) -> Void)?
    }

    public let server: ServerAddress
    public let token: String?
    /// The server certificate's fingerprint, "sha256:<hex>".
    public private(set) var fingerprint = ""
    public var peer: String { core?.peer ?? server.description }

    private var core: H3Core?
    private var handle: UInt64 = 0
    private let lock = Lock()
    private let changed = Condition()
    private var exchanges: [UInt64: Exchange] = [:]
    private var nextId: UInt64 = 1
    private var state: State = .connecting
    private enum State { case connecting, open, closed(CloseReason, String, String) }

    /// Connects and completes the handshake (or throws). `pin` nil: any
    /// certificate (see `fingerprint`); else the SHA-256 it must have.
    public init(server: ServerAddress, token: String?, pin: String?, idleTimeoutMs: UInt32 = 30_000,
                handshakeTimeoutMs: UInt32 = 5_000) throws(ClientError) {
        self.server = server
        self.token = token
        let core = try H3Core(server: server, delegate: self, idleTimeoutMs: idleTimeoutMs,
                              handshakeTimeoutMs: handshakeTimeoutMs)
        self.core = core
        core.start()
        handle = core.connect(pin: pin)
        if handle == 0 {
            core.stop()
            throw .usage("malformed pin '\(pin ?? "")': expected sha256: and 64 hex digits")
        }
        lock.lock()
        defer { lock.unlock() }
        while case .connecting = state { changed.wait(lock) }
        if case let .closed(reason, fp, message) = state {
            lock.unlock()
            core.stop()
            lock.lock()
            if reason == .pinMismatch {
                throw .certificateChanged(server: server.description, pinned: pin.flatMap(normalizePin) ?? "?",
                                          seen: "sha256:" + fp, howToAccept: "")
            }
            throw .unreachable("cannot reach \(server) (\(core.peer)): \(message)")
        }
    }

    deinit { core?.stop() }

    /// Closes the connection cleanly (CONNECTION_CLOSE) and stops its thread.
    public func close() {
        guard let core else { return }
        core.close(conn: handle)
        core.stop()
    }

    /// Whether the connection still stands (false after the server left).
    public var isOpen: Bool { lock.withLock { if case .open = state { return true } else { return false } } }

    // MARK: requests

    private func start(_ method: String, _ path: String, body: [UInt8], contentType: String?, ex: Exchange)
        throws(ClientError) -> UInt64 {
        let id: UInt64 = lock.withLock {
            let id = nextId
            nextId += 1
            exchanges[id] = ex
            return id
        }
        let auth = token.map { "Bearer " + $0 }
        let rc = body.withUnsafeBytes {
            core!.request(conn: handle, id: id, method: method, path: path, authorization: auth,
                          contentType: contentType, body: $0)
        }
        if rc != 0 {
            _ = lock.withLock { exchanges.removeValue(forKey: id) }
            throw rc == -5 ? .usage("invalid request \(method) \(path)") : .unreachable("the connection to \(server) is closed")
        }
        return id
    }

    private func lostMessage() -> String {
        if case let .closed(_, _, m) = state { return "connection to \(server) lost: \(m)" }
        return "connection to \(server) lost"
    }

    /// Sends a request, waits for the whole response. Error statuses are
    /// returned, not thrown (see `Response.checked`).
    public func request(_ method: String, _ path: String, body: [UInt8] = [], contentType: String? = nil)
        throws(ClientError) -> Response {
        let ex = Exchange()
        let id = try start(method, path, body: body, contentType: contentType ?? (body.isEmpty ? nil : "application/json"), ex: ex)
        lock.lock()
        defer { lock.unlock() }
        while ex.end == nil { changed.wait(lock) }
        exchanges[id] = nil
        guard ex.end == .ok, ex.status > 0 else { throw .unreachable(lostMessage()) }
        return Response(status: ex.status, contentType: ex.contentType, retryAfter: ex.retryAfter, body: ex.body)
    }

    /// `request` with a JSON body.
    public func request(_ method: String, _ path: String, json: JSON) throws(ClientError) -> Response {
        var b: [UInt8] = []
        json.write(to: &b)
        return try request(method, path, body: b, contentType: "application/json")
    }

    /// A long response: the status first (`onHead`; an error response comes
    /// back whole), then each body piece to `onData`, on the network thread
    /// (keep it short). Returns when the response ends, the connection is
    /// lost (throws), or `stop()` on the returned handle ends it.
    public func stream(_ method: String, _ path: String, onHead: @escaping (Int) -> Void,
                       onData: @escaping (UnsafeRawBufferPointer) -> Void) throws(ClientError) -> StreamHandle {
        let ex = Exchange()
        ex.onHead = onHead
        ex.onData = onData
        let id = try start(method, path, body: [], contentType: nil, ex: ex)
        return StreamHandle(connection: self, id: id)
    }

    /// Handle of a streaming request.
    public struct StreamHandle: Sendable {
        let connection: Connection
        let id: UInt64
        /// Waits until the stream ends: its status and, for an error status,
        /// the body.
        public func wait() throws(ClientError) -> Response { try connection.finish(id) }
        /// Cancels it (wait() then returns).
        public func cancel() { connection.core?.cancel(conn: connection.handle, id: id) }
    }

    fileprivate func finish(_ id: UInt64) throws(ClientError) -> Response {
        lock.lock()
        defer { lock.unlock() }
        guard let ex = exchanges[id] else { throw .failed("unknown stream") }
        while ex.end == nil { changed.wait(lock) }
        exchanges[id] = nil
        if ex.end == .cancelled { return Response(status: ex.status, contentType: ex.contentType, body: ex.body) }
        guard ex.end == .ok, ex.status > 0 else { throw .unreachable(lostMessage()) }
        return Response(status: ex.status, contentType: ex.contentType, retryAfter: ex.retryAfter, body: ex.body)
    }

    // MARK: H3Delegate (network thread)

    public func connected(_ conn: UInt64, fingerprint: String) {
        lock.withLock {
            self.fingerprint = "sha256:" + fingerprint
            state = .open
        }
        changed.broadcast()
    }

    public func closed(_ conn: UInt64, reason: CloseReason, fingerprint: String, message: String) {
        lock.withLock { state = .closed(reason, fingerprint, message) }
        changed.broadcast()
    }

    public func headers(_ req: UInt64, status: Int, contentType: String?, retryAfter: String?) {
        let ex: Exchange? = lock.withLock {
            guard let ex = exchanges[req] else { return nil }
            ex.status = status
            ex.contentType = contentType
            ex.retryAfter = retryAfter
            return ex
        }
        ex?.onHead?(status)
    }

    public func data(_ req: UInt64, _ bytes: UnsafeRawBufferPointer) {
        lock.lock()
        guard let ex = exchanges[req] else { lock.unlock(); return }
        if let onData = ex.onData, ex.status < 400 {
            lock.unlock()
            onData(bytes)
            return
        }
        ex.body.append(contentsOf: bytes)
        lock.unlock()
    }

    public func done(_ req: UInt64, _ end: RequestEnd) {
        lock.withLock { exchanges[req]?.end = end }
        changed.broadcast()
    }
}
