import AutoHome
import AutoHomeSupport

/// Action streams (SPEC §5 `GET /v1/actions/<registration>`): every action for
/// a device goes to its open streams as one NDJSON line. While no stream is
/// open, the latest value per property is kept and sent, as one line, when a
/// stream opens, so a device that reconnects converges on what it was told.
///
/// Memory is bounded by devices × properties: only the latest pending value per
/// property is kept. Every change of a device's pending set is handed to
/// `storage` (coalesced by the store, so it never waits), and a restart
/// brings the set back (`restore`).
public final class ActionHub: EngineObserver, @unchecked Sendable {
    private struct Device {
        var streams: [ExchangeID] = []
        /// Latest undelivered value per property, in first-set order.
        var pending: [(name: String, value: JSON)] = []
    }

    private let lock = Lock()
    private var devices: [String: Device] = [:]
    private var deviceOf: [ExchangeID: String] = [:]
    /// Set once the server exists; actions before that stay pending.
    public var sink: ResponseSink? {
        get { lock.withLock { _sink } }
        set { lock.withLock { _sink = newValue } }
    }
    private var _sink: ResponseSink?
    /// Where pending sets are kept across restarts; nil: memory only.
    public var storage: PendingActionStorage?

    public init() {}

    /// Start-up: the pending sets the store kept.
    public func restore(_ sets: [(device: String, properties: [(name: String, value: JSON)])]) {
        lock.withLock { for s in sets where !s.properties.isEmpty { devices[s.device, default: Device()].pending = s.properties } }
    }

    /// A deleted device: its streams end and its pending set is dropped (the
    /// store removed its rows with the device).
    public func forget(deviceId: String) {
        lock.withLock {
            guard let d = devices.removeValue(forKey: deviceId) else { return }
            for ex in d.streams {
                deviceOf[ex] = nil
                _ = _sink?.end(ex)
            }
        }
    }

    /// A rotated registration: the streams opened with the old id end (the
    /// device reconnects with the new one); pending actions stay.
    public func endStreams(deviceId: String) {
        lock.withLock {
            guard var d = devices[deviceId] else { return }
            for ex in d.streams {
                deviceOf[ex] = nil
                _ = _sink?.end(ex)
            }
            d.streams = []
            devices[deviceId] = d
        }
    }

    /// The engine's actions (commands, `device.set`) go to the device.
    public func actionSent(_ action: DeviceAction) { send(action) }

    /// Sends an action to every open stream of the device, or keeps it.
    public func send(_ action: DeviceAction) {
        guard !action.properties.isEmpty else { return }
        let line = ActionHub.line(action.json)
        lock.lock()
        defer { lock.unlock() }
        var d = devices[action.deviceId] ?? Device()
        var delivered = false
        if let sink = _sink {
            for ex in d.streams {
                // Writes only queue bytes; they never block the caller.
                let r = sink.write(ex, line)
                if r == .ok { delivered = true } else if r.isFinal { drop(ex, from: &d) }
                // full or out of memory: the client lags; the value stays pending
            }
        }
        if !delivered {
            merge(action.properties, into: &d.pending)
            storage?.savePendingActions(device: action.deviceId, properties: d.pending)
        }
        devices[action.deviceId] = d
    }

    /// Opens a stream: 200 with the stream left open, then the pending line.
    /// Returns false when the client has already gone.
    @discardableResult
    public func open(deviceId: String, exchange: ExchangeID, sink: ResponseSink) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let head = Response(status: 200, contentType: "application/x-ndjson", body: [])
        guard sink.respond(exchange, head, endStream: false) == .ok else { return false }
        var d = devices[deviceId] ?? Device()
        if !d.pending.isEmpty {
            let action = DeviceAction(deviceId: deviceId, properties: d.pending)
            if sink.write(exchange, ActionHub.line(action.json)) == .ok {
                d.pending = []
                storage?.savePendingActions(device: deviceId, properties: [])
            }
        }
        d.streams.append(exchange)
        deviceOf[exchange] = deviceId
        devices[deviceId] = d
        return true
    }

    /// CQuic's on_stream_closed: forget the stream.
    public func closed(_ exchange: ExchangeID) {
        lock.withLock {
            guard let id = deviceOf[exchange], var d = devices[id] else { return }
            drop(exchange, from: &d)
            devices[id] = d
        }
    }

    /// A blank line on every open stream, so the connection is not idle-timed
    /// out while nothing happens (readers skip blank lines, as NDJSON allows).
    public func heartbeat() {
        lock.withLock {
            guard let sink = _sink else { return }
            for (ex, id) in deviceOf where sink.write(ex, [0x0A]).isFinal {
                if var d = devices[id] { drop(ex, from: &d); devices[id] = d }
            }
        }
    }

    /// Ends every open stream (shutdown).
    public func endAll() {
        lock.withLock {
            if let sink = _sink { for ex in deviceOf.keys { sink.end(ex) } }
            deviceOf.removeAll()
            for k in devices.keys { devices[k]?.streams = [] }
        }
    }

    public func openStreams(deviceId: String) -> Int { lock.withLock { devices[deviceId]?.streams.count ?? 0 } }
    public func pending(deviceId: String) -> [(name: String, value: JSON)] { lock.withLock { devices[deviceId]?.pending ?? [] } }

    private func drop(_ ex: ExchangeID, from d: inout Device) {
        d.streams.removeAll { $0 == ex }
        deviceOf[ex] = nil
    }

    private func merge(_ props: [(name: String, value: JSON)], into pending: inout [(name: String, value: JSON)]) {
        for p in props {
            if let i = pending.firstIndex(where: { $0.name == p.name }) { pending[i].value = p.value } else { pending.append(p) }
        }
    }

    static func line(_ json: JSON) -> [UInt8] { Array((json.text + "\n").utf8) }
}
