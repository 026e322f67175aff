import AutoHomeSupport

/// What leaves the engine: script logs, script errors, actions for devices and
/// committed values. The daemon sends them to the log, the store and the action
/// streams; `replay` collects them per input line.
public struct ScriptLog: Sendable, Equatable {
    public var script: String
    public var level: LogLevel
    public var message: String
    /// The event whose run logged this; nil outside a run (countdowns,
    /// `thread()`, `onstart`, a script's top level).
    public var seq: UInt64?

    public init(script: String, level: LogLevel, message: String, seq: UInt64? = nil) {
        self.script = script
        self.level = level
        self.message = message
        self.seq = seq
    }
}

public struct DeviceAction: Sendable, Equatable {
    public var deviceId: String
    public var properties: [(name: String, value: JSON)]
    /// The event whose run sent this; nil outside a run. Not part of `==`.
    public var seq: UInt64?

    public init(deviceId: String, properties: [(name: String, value: JSON)], seq: UInt64? = nil) {
        self.deviceId = deviceId
        self.properties = properties
        self.seq = seq
    }

    public static func == (a: DeviceAction, b: DeviceAction) -> Bool {
        a.deviceId == b.deviceId && a.properties.count == b.properties.count
            && zip(a.properties, b.properties).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public var json: JSON {
        .object([("id", .string(deviceId)),
                 ("properties", .array(properties.map { .object([("name", .string($0.name)), ("value", $0.value)]) }))])
    }
}

/// The outcome of one processed event: what step 3 applied, what was
/// skipped, and what the run's own handlers sent, logged and threw. Work the
/// run started elsewhere (`thread()`, countdowns) is not part of it. Both
/// `?wait=1` and replay render it with `fields`, so the two always agree.
public struct EventResult: Sendable {
    public var seq: UInt64
    public var deviceId: String
    public var applied: [(name: String, value: JSON)] = []
    public var skipped: [(name: String, reason: String)] = []
    public var actions: [DeviceAction] = []
    public var logs: [ScriptLog] = []
    public var errors: [ScriptError] = []

    public init(seq: UInt64, deviceId: String) {
        self.seq = seq
        self.deviceId = deviceId
    }

    /// `applied`, `skipped`, `actions`, `logs`, `errors` as SPEC §10 shows
    /// them: logs as their text, errors as `file.js:LINE: message`.
    public var fields: [(String, JSON)] {
        [("applied", appliedJSON), ("skipped", skippedJSON), ("actions", .array(actions.map(\.json))),
         ("logs", .array(logs.map { .string($0.message) })), ("errors", .array(errors.map { .string($0.description) }))]
    }

    /// The `?wait=1` answer: `{"seq", "applied", "skipped", "actions", "logs", "errors"}`.
    public var json: JSON { .object([("seq", .number(Double(seq)))] + fields) }

    public var appliedJSON: JSON {
        .array(applied.map { .object([("name", .string($0.name)), ("value", $0.value)]) })
    }
    public var skippedJSON: JSON {
        .array(skipped.map { .object([("name", .string($0.name)), ("reason", .string($0.reason))]) })
    }
}

/// The engine's counters (/v1/status). Each is bumped inside the engine, at
/// the one place where the thing it counts happens.
public enum EngineCounter: Int, CaseIterable, Sendable {
    /// Events and commands put into the ring.
    case accepted
    /// Events and commands whose run finished (ring slot released).
    case processed
    /// Refused at ingress: unknown device or registration, invalid, too large.
    case rejected
    /// Refused because the ring was full (503).
    case busy
    /// Script throws and stops, at load and at run time.
    case scriptErrors
    /// VMs replaced after a runaway stop.
    case vmsReplaced
}

/// Counters for /v1/status: one slot per `EngineCounter`, under one lock,
/// bumped outside the hot path's other critical sections.
public final class EngineStats: @unchecked Sendable {
    private let lock = Lock()
    private var values = [Int](repeating: 0, count: EngineCounter.allCases.count)
    private var errorsByScript: [String: Int] = [:]
    func add(_ counter: EngineCounter, _ n: Int = 1) { lock.withLock { values[counter.rawValue] += n } }
    public subscript(_ counter: EngineCounter) -> Int { lock.withLock { values[counter.rawValue] } }

    /// One script error: `scriptErrors`, and the count of the script it came
    /// from (`"(unknown)"` when no script can be named, e.g. a closure
    /// countdown that ran away).
    func addScriptError(script: String?) {
        lock.withLock {
            values[EngineCounter.scriptErrors.rawValue] += 1
            errorsByScript[script ?? "(unknown)", default: 0] += 1
        }
    }

    /// Script errors since start, per script file, by name.
    public var scriptErrorsByScript: [(script: String, count: Int)] {
        lock.withLock { errorsByScript.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }
}
