import AutoHomeSupport

/// `autohomed replay` (SPEC §10): the real pipeline over a file of events, with
/// no network and no store, on a virtual clock driven by the events' `at`.
/// Deterministic: each line is processed to the end (and everything it
/// started) before the next one is read.
public struct Replay {
    public var config: Config
    public var scripts: ScriptSet

    public init(config: Config, scripts: ScriptSet) {
        self.config = config
        self.scripts = scripts
    }

    /// Runs every line of `input` and hands each output line to `emit`.
    public func run(lines input: [String], emit: (String) -> Void) throws(ModelError) {
        let clock = VirtualClock(start: 0)
        let collector = ReplayCollector()
        let engine = EventManager(config: config, scripts: scripts, clock: clock, observers: [collector])
        try engine.start()
        engine.waitIdle()
        defer { engine.stop() }

        var seq = 0
        for raw in input {
            let line = raw.trimmingSpaces()
            if line.isEmpty { continue }
            seq += 1
            var device: JSON = .null
            var result: EventResult?
            do {
                let json = try JSON.parse(line)
                guard case .object = json else { throw ReplayLineError("each line must be a JSON object") }
                if case .string(let d)? = json["device"] { device = .string(d) } else {
                    throw ReplayLineError("\"device\" (a string) is required")
                }
                if let at = json["at"], at != .null {
                    guard case .number(let t) = at, t >= 0 else { throw ReplayLineError("\"at\" must be a number of milliseconds") }
                    engine.advanceVirtualClock(to: Int64(t), clock)
                }
                let props = try EventManager.parseProperties(json)
                let box = ResultBox()
                switch engine.submit(deviceId: device.stringValue!, properties: props, origin: .device, completion: { box.set($0) }) {
                case .success: break
                case .failure(let e): throw ReplayLineError(e.description)
                }
                engine.waitIdle()
                result = box.get()
            } catch let e as ReplayLineError {
                engine.waitIdle()
                collector.addError(e.message)
            } catch let e as JSONParseError {
                collector.addError("line \(seq): \(e.description)")
            } catch let e as SubmitError {
                collector.addError(e.description)
            } catch {
                collector.addError("\(error)")
            }
            let out = collector.drain()
            var o = JSONObjectBuilder()
            o.add("seq", seq)
            o.add("device", device)
            o.add("applied", result?.appliedJSON ?? .array([]))
            o.add("skipped", result?.skippedJSON ?? .array([]))
            o.add("actions", out.actions)
            o.add("logs", out.logs)
            o.add("errors", out.errors)
            emit(o.json.text)
        }
        engine.waitIdle()
        emit(JSON.object([("state", .array(engine.state.allLive().map { $0.viewJSON() }))]).text)
    }
}

struct ReplayLineError: Error {
    let message: String
    init(_ m: String) { message = m }
}

final class ResultBox: @unchecked Sendable {
    private let lock = Lock()
    private var value: EventResult?
    func set(_ r: EventResult) { lock.withLock { value = r } }
    func get() -> EventResult? { lock.withLock { value } }
}
