import AutoHomeSupport
import CQuic

/// Why a connection ended (CQC_* of cquic_client.h).
public enum CloseReason: Int32, Sendable {
    case closed = 0, unreachable, pinMismatch, handshake, peerClosed, idle, error
}

/// How a request ended (CQC_REQ_* of cquic_client.h).
public enum RequestEnd: Int32, Sendable {
    case ok = 0, reset, connection, cancelled, noMemory
}

/// Receives what the network thread reports. Every method is called on that
/// thread: keep them short, never block (hand work to another thread).
public protocol H3Delegate: AnyObject {
    func connected(_ conn: UInt64, fingerprint: String)
    func closed(_ conn: UInt64, reason: CloseReason, fingerprint: String, message: String)
    func headers(_ req: UInt64, status: Int, contentType: String?, retryAfter: String?)
    func data(_ req: UInt64, _ bytes: UnsafeRawBufferPointer)
    func done(_ req: UInt64, _ end: RequestEnd)
}

/// The Swift side of CQuic's client role: one `cq_client` (one server, any
/// number of connections and requests) and its network thread. Methods other
/// than `init` may be called from any thread, callbacks included.
public final class H3Core: @unchecked Sendable {
    private var client: OpaquePointer?
    // unowned: the delegate owns this core and stops it before it goes away.
    private unowned let delegate: H3Delegate
    private let lock = Lock()
    private let stopped = Condition()
    private var running = false
    /// Where the C core's log lines go (level 0 error ... 3 debug); nil: nowhere.
    /// Set once at start-up, before any client exists.
    nonisolated(unsafe) public static var logSink: ((Int32, String) -> Void)?
    nonisolated(unsafe) public static var logLevel: Int32 = 1

    /// The address the server's name resolved to ("1.2.3.4:4242").
    public let peer: String
    public let server: ServerAddress

    public init(server: ServerAddress, delegate: H3Delegate, idleTimeoutMs: UInt32 = 30_000,
                handshakeTimeoutMs: UInt32 = 5_000) throws(ClientError) {
        self.delegate = delegate
        self.server = server
        var err = [CChar](repeating: 0, count: 256)
        var made: OpaquePointer?
        server.host.withCString { host in
            var cfg = cq_client_config()
            cfg.host = host
            cfg.port = server.port
            cfg.idle_timeout_ms = idleTimeoutMs
            cfg.handshake_timeout_ms = handshakeTimeoutMs
            cfg.on_connected = { user, conn, fp in
                H3Core.of(user).delegate.connected(conn, fingerprint: fp.map { String(cString: $0) } ?? "")
            }
            cfg.on_closed = { user, conn, reason, fp, msg in
                H3Core.of(user).delegate.closed(conn, reason: CloseReason(rawValue: reason) ?? .error,
                                                fingerprint: fp.map { String(cString: $0) } ?? "",
                                                message: msg.map { String(cString: $0) } ?? "")
            }
            cfg.on_headers = { user, req, status, ctype, retry in
                H3Core.of(user).delegate.headers(req, status: Int(status), contentType: ctype.map { String(cString: $0) },
                                                 retryAfter: retry.map { String(cString: $0) })
            }
            cfg.on_data = { user, req, data, len in
                H3Core.of(user).delegate.data(req, UnsafeRawBufferPointer(start: data, count: len))
            }
            cfg.on_done = { user, req, result in
                H3Core.of(user).delegate.done(req, RequestEnd(rawValue: result) ?? .reset)
            }
            cfg.on_log = { _, level, msg in
                guard let msg, let sink = H3Core.logSink, level <= H3Core.logLevel else { return }
                sink(level, String(cString: msg))
            }
            cfg.user = nil
            made = cq_client_new(&cfg, &err, err.count)
        }
        guard let made else { throw .unreachable("\(server): \(String(cString: err))") }
        client = made
        peer = String(cString: cq_client_peer(made))
        // The callbacks find us through user; set it now that self exists.
        cq_client_set_user(made, Unmanaged.passUnretained(self).toOpaque())
    }

    private static func of(_ user: UnsafeMutableRawPointer?) -> H3Core {
        Unmanaged<H3Core>.fromOpaque(user!).takeUnretainedValue()
    }

    /// Starts the network thread.
    public func start() {
        lock.withLock { running = true }
        spawnThread(name: "h3-client") { [self] in
            _ = cq_client_run(client)
            lock.withLock { running = false }
            stopped.broadcast()
        }
    }

    /// Stops the loop (open connections are closed cleanly), waits for it.
    public func stop() {
        cq_client_stop(client)
        lock.withLock { while running { stopped.wait(lock) } }
    }

    deinit {
        stop()
        cq_client_free(client)
    }

    /// A new connection's handle, 0 when the pin is malformed or stopping.
    public func connect(pin: String?) -> UInt64 { cq_client_connect(client, pin) }

    /// CQ_OK (0) or a CQ_ERR_* code.
    @discardableResult
    public func request(conn: UInt64, id: UInt64, method: String, path: String, authorization: String?,
                        contentType: String?, body: UnsafeRawBufferPointer) -> Int32 {
        cq_client_request(client, conn, id, method, path, nil, authorization, contentType, body.baseAddress, body.count)
    }

    @discardableResult
    public func cancel(conn: UInt64, id: UInt64) -> Int32 { cq_client_cancel(client, conn, id) }

    @discardableResult
    public func close(conn: UInt64) -> Int32 { cq_client_close(client, conn) }
}

/// "sha256:<64 hex>" for any accepted spelling, nil if it is none.
public func normalizePin(_ text: String) -> String? {
    var out = [CChar](repeating: 0, count: 65)
    guard cq_pin_normalize(text, &out) == 0 else { return nil }
    return "sha256:" + String(cString: out)
}
