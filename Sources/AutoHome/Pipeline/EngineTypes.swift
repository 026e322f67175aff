import AutoHomeSupport

/// What leaves the engine: script logs, script errors, actions for devices and
/// committed values. The daemon sends them to the log, the store and the action
/// streams; `replay` collects them per input line.
public struct ScriptLog: Sendable, Equatable {
    public var script: String
    public var level: LogLevel
    public var message: String
}

public struct DeviceAction: Sendable, Equatable {
    public var deviceId: String
    public var properties: [(name: String, value: JSON)]

    public init(deviceId: String, properties: [(name: String, value: JSON)]) {
        self.deviceId = deviceId
        self.properties = properties
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

public protocol EngineObserver: AnyObject {
    func scriptLogged(_ log: ScriptLog)
    func scriptFailed(_ error: ScriptError)
    func actionSent(_ action: DeviceAction)
    /// Values written to a live device (step 3 or `device.set`).
    func valuesCommitted(device: DeviceVersion, changes: [(name: String, value: PropertyValue)], time: Int64)
}

/// The outcome of one processed event (`?wait=1` and replay).
public struct EventResult: Sendable {
    public var seq: UInt64
    public var deviceId: String
    public var applied: [(name: String, value: JSON)] = []
    public var skipped: [(name: String, reason: String)] = []
    public var errors: [ScriptError] = []

    public var appliedJSON: JSON {
        .array(applied.map { .object([("name", .string($0.name)), ("value", $0.value)]) })
    }
    public var skippedJSON: JSON {
        .array(skipped.map { .object([("name", .string($0.name)), ("reason", .string($0.reason))]) })
    }
}

/// Counters for /v1/status. Guarded by one lock; bumped off the hot path's
/// critical sections.
public final class EngineStats: @unchecked Sendable {
    private let lock = Lock()
    private var values = [String: Int]()
    public func add(_ key: String, _ n: Int = 1) { lock.withLock { values[key, default: 0] += n } }
    public func get(_ key: String) -> Int { lock.withLock { values[key] ?? 0 } }
}
