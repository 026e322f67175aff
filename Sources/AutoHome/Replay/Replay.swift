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

    /// What a replay found, for the exit status.
    public struct Summary: Sendable {
        /// Output lines (the final state line included) with `errors`.
        public var linesWithErrors = 0
        public var warnings: [ScriptWarning] = []
    }

    /// Runs every line of `input` and hands each output line to `emit`.
    /// A line is `{"seq", "device", "applied", "skipped", "actions", "logs",
    /// "errors"}`: the run's own `EventResult` (as `?wait=1` shows it), with
    /// what happened outside the run but on this line around it: onstart and
    /// countdowns that fell due before it, `thread()` work it started after.
    @discardableResult
    public func run(lines input: [String], emit: (String) -> Void) throws(ModelError) -> Summary {
        let clock = VirtualClock(start: 0)
        let collector = ReplayCollector()
        let engine = EventManager(config: config, scripts: scripts, clock: clock, observers: [collector])
        try engine.start()
        engine.waitIdle()
        defer { engine.stop() }
        var summary = Summary(warnings: engine.startWarnings)

        var seq = 0
        for raw in input {
            let line = raw.trimmingSpaces()
            if line.isEmpty { continue }
            seq += 1
            var device: JSON = .null
            var result: EventResult?
            var failure: String?
            var before = collector.drain()
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
                let due = collector.drain()
                before = (before.logs + due.logs, before.actions + due.actions, before.errors + due.errors)
                let box = ResultBox()
                switch engine.submit(deviceId: device.stringValue!, properties: props, origin: .device, completion: { box.set($0) }) {
                case .success: break
                case .failure(let e): throw ReplayLineError(e.description)
                }
                engine.waitIdle()
                result = box.get()
            } catch let e as ReplayLineError {
                engine.waitIdle()
                failure = e.message
            } catch let e as JSONParseError {
                failure = "line \(seq): \(e.description)"
            } catch let e as SubmitError {
                failure = e.description
            } catch {
                failure = "\(error)"
            }
            let after = collector.drain()
            var r = result ?? EventResult(seq: UInt64(seq), deviceId: device.stringValue ?? "")
            r.logs = before.logs + r.logs + after.logs
            r.actions = before.actions + r.actions + after.actions
            r.errors = before.errors + r.errors + after.errors
            if let failure { r.errors.insert(ScriptError(script: nil, line: nil, message: failure), at: before.errors.count) }
            if !r.errors.isEmpty { summary.linesWithErrors += 1 }
            emit(JSON.object([("seq", .number(Double(seq))), ("device", device)] + r.fields).text)
        }
        engine.waitIdle()
        // Whatever no line carried (load errors of a replay without lines).
        let rest = collector.drain()
        var last: [(String, JSON)] = [("state", .array(engine.state.allLive().map { $0.viewJSON() }))]
        if !rest.errors.isEmpty {
            last.append(("errors", .array(rest.errors.map { .string($0.description) })))
            summary.linesWithErrors += 1
        }
        if !summary.warnings.isEmpty { last.append(("warnings", .array(summary.warnings.map(\.json)))) }
        emit(JSON.object(last).text)
        return summary
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
