import AutoHomeSupport

/// The daemon configuration (SPEC §7). Every key is optional; the defaults are
/// the ones a small appliance wants.
public struct Config: Sendable {
    public var listen = "0.0.0.0:4242"
    public var dataDir = "/var/lib/auto-home"
    public var scriptsDir: String?
    public var tlsCert: String?
    public var tlsKey: String?
    public var vms = 4
    public var ringSize = 1024
    public var maxEventBytes = 4096
    public var propertyHistory = 16
    public var repeatWindowMs: Int64 = 0
    /// A handler call's budget; time inside `home.sleep` is not counted.
    public var scriptTimeoutMs = 1000
    /// A handler call's whole duration, sleeps included; nil: the default.
    public var scriptWallTimeoutMs: Int?
    public var vmMemoryBytes = 16 << 20
    /// How long a plugin call may take before it throws (SPEC §8).
    public var pluginTimeoutMs = 2000
    public var flushIntervalMs = 1000
    public var historyDays = 30
    public var devices: [DeviceDefinition] = []
    public var groups: [GroupDefinition] = []
    public var gpio: JSON?
    public var plugins: JSON?
    public var logLevel = LogLevel.info

    public init() {}

    /// `scriptWallTimeoutMs` defaults to 10000, or to `scriptTimeoutMs` when
    /// that is larger (so raising only the budget still means what it says).
    public var effectiveScriptWallTimeoutMs: Int { scriptWallTimeoutMs ?? max(10_000, scriptTimeoutMs) }

    /// `scriptsDir` defaults to `<dataDir>/scripts`.
    public var effectiveScriptsDir: String { scriptsDir ?? dataDir + "/scripts" }
}
