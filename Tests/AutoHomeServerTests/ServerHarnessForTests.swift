#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import AutoHome
@testable import AutoHomeServer
import AutoHomeStore
@testable import AutoHomeSupport

/// Records what the router answers, so routing, auth and validation can be
/// tested without QUIC. Thread-safe: `?wait=1` answers from engine workers.
final class RecordingSink: ResponseSink, @unchecked Sendable {
    struct Entry { var exchange: ExchangeID; var response: Response; var endStream: Bool }
    private let lock = Lock()
    private let cond = Condition()
    private var _entries: [Entry] = []
    private var _writes: [(ExchangeID, String)] = []
    private var _writeResult: SendResult = .ok
    // Read and set from test threads while engine and log threads write:
    // every access goes through the lock (TSan found the bare ones).
    var entries: [Entry] { lock.withLock { _entries } }
    var writes: [(ExchangeID, String)] { lock.withLock { _writes } }
    var writeResult: SendResult {
        get { lock.withLock { _writeResult } }
        set { lock.withLock { _writeResult = newValue } }
    }

    func respond(_ exchange: ExchangeID, _ response: Response, endStream: Bool) -> SendResult {
        lock.withLock {
            _entries.append(Entry(exchange: exchange, response: response, endStream: endStream))
            cond.broadcast()
        }
        return .ok
    }

    func write(_ exchange: ExchangeID, _ bytes: [UInt8]) -> SendResult {
        lock.withLock {
            if _writeResult == .ok { _writes.append((exchange, String(decoding: bytes, as: UTF8.self))) }
            return _writeResult
        }
    }

    func end(_ exchange: ExchangeID) -> SendResult { .ok }

    /// The response for `exchange`, waiting up to 5 s for a deferred one.
    func response(for exchange: ExchangeID) -> Response? {
        let deadline = monotonicNanos() + 5_000_000_000
        return lock.withLock {
            while true {
                if let e = _entries.last(where: { $0.exchange == exchange }) { return e.response }
                if !cond.wait(lock, untilMonotonicNanos: deadline) { return nil }
            }
        }
    }
}

/// A router over a real engine with memory-only stores and a temp data
/// folder (scripts are written there).
final class ServerHarness {
    let dir: String
    let engine: EventManager
    let stores: ServerStores
    let store: SQLiteStore
    let context: ServerContext
    let router: Router
    let sink = RecordingSink()
    private var nextStream: Int64 = 0

    init(configJSON: String = #"{"devices": [{"id": "lamp", "properties": [{"name": "power", "type": "switch"}, {"name": "watts", "type": "dial", "mode": "RO"}]}]}"#) throws {
        dir = try Files.makeTemporaryDirectory(prefix: "ah-unit")
        var config = try Config.decode(text: configJSON)
        config.dataDir = dir
        store = try SQLiteStore(dataDir: dir)
        stores = try ServerStores(tokens: store, registrations: store, groups: store,
                                  seal: RegistrationSeal(key: Crypto.randomHex(bytes: 32)), adminTokenPath: nil,
                                  pending: store, history: store, generations: store)
        engine = EventManager(config: try stores.engineConfig(config), scripts: ScriptSet(generation: 1, files: []),
                              clock: SystemClock(), observers: [stores.hub, store])
        try engine.start()
        stores.hub.sink = sink
        context = ServerContext(config: config, engine: engine, stores: stores)
        router = context.makeRouter(work: nil)
    }

    deinit {
        engine.stop()
        store.close()
        _ = system("rm -rf '\(dir)'")
    }

    var admin: String { stores.createdAdminToken! }

    /// Sends a request through the router; returns the (possibly deferred) response.
    @discardableResult
    func send(_ method: String, _ target: String, body: String? = nil, token: String? = nil,
              bodyTooLarge: Bool = false) -> Response {
        nextStream += 4
        let ex = ExchangeID(conn: 1, stream: nextStream)
        let req = Request(method: method, target: target, authorization: token.map { "Bearer " + $0 },
                          body: body.map { Array($0.utf8) } ?? [], bodyTooLarge: bodyTooLarge, exchange: ex)
        router.handle(req, sink: sink)
        return sink.response(for: ex) ?? Response(status: 0, contentType: nil, body: [])
    }
}

extension Response {
    var text: String { String(decoding: body, as: UTF8.self) }
    var error: String? { jsonValue?["error"]?.stringValue }
    var field: String? { jsonValue?["field"]?.stringValue }
}
