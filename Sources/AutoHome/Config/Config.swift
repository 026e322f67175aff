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
    public var scriptTimeoutMs = 1000
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

    /// `scriptsDir` defaults to `<dataDir>/scripts`.
    public var effectiveScriptsDir: String { scriptsDir ?? dataDir + "/scripts" }
}
