#if canImport(Glibc)
import Glibc
#endif
import CQuic
import AutoHome
import AutoHomeSupport

/// The Swift side of CQuic: runs `cq_server_run` on its own thread (the
/// network thread), turns each `cq_request` into a `Request` for the router,
/// and sends `Response`s back. CQuic's response calls are thread-safe, so a
/// handler may answer later from an engine worker (`?wait=1`) or keep writing
/// to an open stream (actions) without ever blocking the network thread.
public final class HTTP3Server: ResponseSink, @unchecked Sendable {
    public struct Options: Sendable {
        public var host: String
        public var port: UInt16
        public var certFile: String
        public var keyFile: String
        /// The transport cap: the largest body any route accepts. Routes check
        /// their own, smaller caps.
        public var maxBody: Int
        public init(host: String, port: UInt16, certFile: String, keyFile: String, maxBody: Int) {
            self.host = host
            self.port = port
            self.certFile = certFile
            self.keyFile = keyFile
            self.maxBody = maxBody
        }
    }

    public let router: Router
    /// Called on the network thread when a delivered request's stream is gone.
    public var onStreamClosed: ((ExchangeID) -> Void)?
    public private(set) var port: UInt16 = 0

    /// Guards `handle` against use after `cq_free` by late responders.
    private let lock = Lock()
    private let done = Condition()
    private var handle: OpaquePointer?
    private var running = false

    public init(options: Options, router: Router) throws(FileError) {
        self.router = router
        var cfg = cq_config()
        cfg.port = options.port
        cfg.max_body = options.maxBody
        cfg.on_request = { user, req in
            guard let user, let req else { return }
            Unmanaged<HTTP3Server>.fromOpaque(user).takeUnretainedValue().deliver(req.pointee)
        }
        cfg.on_stream_closed = { user, conn, stream in
            guard let user else { return }
            Unmanaged<HTTP3Server>.fromOpaque(user).takeUnretainedValue().onStreamClosed?(ExchangeID(conn: conn, stream: stream))
        }
        cfg.on_log = { _, level, msg in
            guard let msg else { return }
            let text = "quic: " + String(cString: msg)
            switch level {
            case 0: Log.error(text)
            case 1: Log.warn(text)
            case 2: Log.info(text)
            default: Log.debug(text)
            }
        }
        // The server outlives the C object: stop() frees it before we go.
        cfg.user = Unmanaged.passUnretained(self).toOpaque()
        var err = [CChar](repeating: 0, count: 256)
        let h: OpaquePointer? = options.host.withCString { host in
            options.certFile.withCString { cert in
                options.keyFile.withCString { key in
                    cfg.host = host
                    cfg.cert_file = cert
                    cfg.key_file = key
                    return cq_server_new(&cfg, &err, err.count)
                }
            }
        }
        guard let h else { throw FileError("cannot listen on \(options.host):\(options.port): \(String(cString: err))") }
        handle = h
        port = cq_server_port(h)
    }

    deinit { stop() }

    /// Starts the network thread.
    public func start() {
        guard let h = lock.withLock({ () -> OpaquePointer? in
            guard !running, let h = handle else { return nil }
            running = true
            return h
        }) else { return }
        spawnThread(name: "quic") { [self] in
            let rc = cq_server_run(h)
            if rc != 0 { Log.error("the HTTP/3 server stopped on an error") }
            lock.withLock {
                running = false
                done.broadcast()
            }
        }
    }

    /// Stops the network thread (every connection gets CONNECTION_CLOSE),
    /// waits for it, and frees the C server. Idempotent.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard let h = handle else { return }
        cq_server_stop(h)
        while running { done.wait(lock) }
        handle = nil
        cq_free(h)
    }

    private func deliver(_ r: cq_request) {
        var body: [UInt8] = []
        if let b = r.body, r.body_len > 0 { body = Array(UnsafeBufferPointer(start: b, count: r.body_len)) }
        let request = Request(method: String(cString: r.method), target: String(cString: r.path),
                              authorization: r.authorization.map { String(cString: $0) },
                              contentType: r.content_type.map { String(cString: $0) },
                              body: body, bodyTooLarge: r.body_too_large != 0,
                              peer: r.peer.map { String(cString: $0) } ?? "",
                              exchange: ExchangeID(conn: r.conn_id, stream: r.stream_id))
        router.handle(request, sink: self)
    }

    // MARK: ResponseSink (any thread)

    @discardableResult
    public func respond(_ ex: ExchangeID, _ r: Response, endStream: Bool) -> SendResult {
        lock.withLock {
            guard let h = handle else { return .stopped }
            return SendResult(cq: r.body.withUnsafeBytes { b in
                withOptionalCString(r.contentType) { ct in
                    withOptionalCString(r.header?.name) { hn in
                        withOptionalCString(r.header?.value) { hv in
                            cq_respond(h, ex.conn, ex.stream, Int32(r.status), ct, b.baseAddress, b.count, hn, hv, endStream ? 1 : 0)
                        }
                    }
                }
            })
        }
    }

    @discardableResult
    public func write(_ ex: ExchangeID, _ bytes: [UInt8]) -> SendResult {
        lock.withLock {
            guard let h = handle else { return .stopped }
            return SendResult(cq: bytes.withUnsafeBytes { cq_stream_write(h, ex.conn, ex.stream, $0.baseAddress, $0.count) })
        }
    }

    @discardableResult
    public func end(_ ex: ExchangeID) -> SendResult {
        lock.withLock {
            guard let h = handle else { return .stopped }
            return SendResult(cq: cq_stream_end(h, ex.conn, ex.stream))
        }
    }
}

private func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}

extension SendResult {
    /// The one place CQuic's return codes become Swift values.
    init(cq rc: Int32) {
        switch rc {
        case Int32(CQ_OK): self = .ok
        case Int32(CQ_ERR_GONE): self = .gone
        case Int32(CQ_ERR_STATE): self = .badState
        case Int32(CQ_ERR_FULL): self = .full
        case Int32(CQ_ERR_NOMEM): self = .outOfMemory
        case Int32(CQ_ERR_STOPPED): self = .stopped
        default: self = .badArgument
        }
    }
}
