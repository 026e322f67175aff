import AutoHome
import AutoHomeSupport

/// Live-changes streams (`GET /v1/watch`, an extension to SPEC §5 for
/// `autohome watch`; docs/http-api.md): every value committed to a live
/// device (step 3, `device.set`, commands) goes to each open stream as one
/// NDJSON line per property, `{"time", "device", "property", "value",
/// "label"?}`. An engine observer on the fan-out, like the action hub.
///
/// Nothing is kept for absent watchers, and a watcher that reads too slowly
/// loses lines rather than slowing the engine (its stream's buffer is
/// bounded by CQuic; a full write drops the line).
public final class WatchHub: EngineObserver, @unchecked Sendable {
    private let lock = Lock()
    /// Open streams and the devices each wants (empty: all).
    private var streams: [ExchangeID: Set<String>] = [:]
    public var sink: ResponseSink? {
        get { lock.withLock { _sink } }
        set { lock.withLock { _sink = newValue } }
    }
    private var _sink: ResponseSink?

    public init() {}

    public func valuesCommitted(device: DeviceVersion, changes: [(name: String, value: PropertyValue)], time: Int64) {
        lock.lock()
        defer { lock.unlock() }
        guard !streams.isEmpty, let sink = _sink else { return }
        let id = device.schema.id
        var bytes: [UInt8] = []
        for c in changes {
            var o: [(String, JSON)] = [("time", .number(Double(time))), ("device", .string(id)),
                                       ("property", .string(c.name)), ("value", c.value.json)]
            if let l = c.value.label { o.append(("label", .string(l))) }
            JSON.object(o).write(to: &bytes)
            bytes.append(0x0A)
        }
        for (ex, only) in streams where only.isEmpty || only.contains(id) {
            if sink.write(ex, bytes).isFinal { streams[ex] = nil }
        }
    }

    /// Opens a stream: 200, NDJSON, left open.
    public func open(exchange: ExchangeID, devices: Set<String>, sink: ResponseSink) {
        lock.withLock {
            let head = Response(status: 200, contentType: "application/x-ndjson", body: [])
            guard sink.respond(exchange, head, endStream: false) == .ok else { return }
            streams[exchange] = devices
        }
    }

    public func closed(_ exchange: ExchangeID) { _ = lock.withLock { streams.removeValue(forKey: exchange) } }

    /// A blank line on every stream so idle ones are not timed out.
    public func heartbeat() {
        lock.withLock {
            guard let sink = _sink else { return }
            for ex in streams.keys where sink.write(ex, [0x0A]).isFinal { streams[ex] = nil }
        }
    }

    public func endAll() {
        lock.withLock {
            if let sink = _sink { for ex in streams.keys { sink.end(ex) } }
            streams.removeAll()
        }
    }

    public var openStreams: Int { lock.withLock { streams.count } }
}

/// `GET /v1/watch[?device=a,b]` (read scope).
enum WatchRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/watch", access: .scope(.read)) { c throws(HTTPError) in
            var only = Set<String>()
            if let d = c.request.query["device"] {
                only = Set(d.split(separator: ",").map(String.init).filter { !$0.isEmpty })
            }
            ctx.stores.watch.open(exchange: c.request.exchange, devices: only, sink: c.sink)
            return nil
        })
    }
}
