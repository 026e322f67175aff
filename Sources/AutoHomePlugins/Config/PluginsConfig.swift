import AutoHome
import AutoHomeSupport

/// `plugins` (SPEC §8): `{"sun": {...}, "external": [{"name", "command"}]}`.
public struct PluginsConfig: Sendable, Equatable {
    public var sun: SunConfig?
    public var external: [ExternalPluginConfig] = []

    /// Built-in plugin names an external one may not take.
    public static let builtInNames = ["gpio", "sun"]

    public static func decode(_ json: JSON?, source: String = "config") throws(ConfigError) -> PluginsConfig {
        var out = PluginsConfig()
        guard let json else { return out }
        let top = try ConfigReader(json, path: "plugins", source: source, what: "{\"sun\", \"external\"}")
        try top.only(["sun", "external"])
        if let sun = top.value("sun") { out.sun = try SunConfig.decode(sun, source: source) }
        if let ext = top.value("external") {
            guard case .array(let items) = ext else { throw top.fail("external", "must be an array of {\"name\", \"command\"}, not \(ext.kindName)") }
            for (i, item) in items.enumerated() {
                let p = try ExternalPluginConfig.decode(item, index: i, source: source)
                if let other = out.external.firstIndex(where: { $0.name == p.name }) {
                    throw ConfigError("\(source): \"plugins.external[\(i)].name\" \"\(p.name)\" is used twice (also plugins.external[\(other)])")
                }
                out.external.append(p)
            }
        }
        return out
    }
}

public struct SunConfig: Sendable, Equatable {
    public var latitude: Double
    public var longitude: Double
    public var sunriseOffsetMinutes: Int
    public var sunsetOffsetMinutes: Int

    public init(latitude: Double, longitude: Double, sunriseOffsetMinutes: Int = 0, sunsetOffsetMinutes: Int = 0) {
        self.latitude = latitude
        self.longitude = longitude
        self.sunriseOffsetMinutes = sunriseOffsetMinutes
        self.sunsetOffsetMinutes = sunsetOffsetMinutes
    }

    static func decode(_ json: JSON, source: String) throws(ConfigError) -> SunConfig {
        let r = try ConfigReader(json, path: "plugins.sun", source: source, what: "{\"latitude\", \"longitude\"}")
        try r.only(["latitude", "longitude", "sunriseOffsetMinutes", "sunsetOffsetMinutes"])
        return SunConfig(latitude: try r.number("latitude", -90, 90, required: true)!,
                         longitude: try r.number("longitude", -180, 180, required: true)!,
                         sunriseOffsetMinutes: try r.int("sunriseOffsetMinutes", -720, 720, default: 0),
                         sunsetOffsetMinutes: try r.int("sunsetOffsetMinutes", -720, 720, default: 0))
    }
}

public struct ExternalPluginConfig: Sendable, Equatable {
    public var name: String
    public var command: [String]

    public init(name: String, command: [String]) { self.name = name; self.command = command }

    /// A plugin name is a JavaScript identifier: scripts write `plugin.<name>`.
    static func isValidName(_ s: String) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 64 else { return false }
        func letter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
        return letter(first) && s.utf8.allSatisfy { letter($0) || ($0 >= 48 && $0 <= 57) }
    }

    static func decode(_ json: JSON, index i: Int, source: String) throws(ConfigError) -> ExternalPluginConfig {
        let r = try ConfigReader(json, path: "plugins.external[\(i)]", source: source, what: "{\"name\", \"command\"}")
        try r.only(["name", "command"])
        let name = try r.string("name", required: true)!
        guard isValidName(name) else { throw r.fail("name", "must match [A-Za-z_][A-Za-z0-9_]{0,63} (scripts write plugin.<name>), not \"\(name)\"") }
        guard !PluginsConfig.builtInNames.contains(name) else { throw r.fail("name", "\"\(name)\" is a built-in plugin") }
        guard let cmd = r.value("command") else { throw r.fail("command", "is required (an array: the program and its arguments)") }
        guard case .array(let parts) = cmd, !parts.isEmpty else { throw r.fail("command", "must be a non-empty array of strings") }
        var argv: [String] = []
        for p in parts {
            guard case .string(let s) = p, !s.isEmpty, !s.utf8.contains(0) else { throw r.fail("command", "must hold non-empty strings only") }
            argv.append(s)
        }
        return ExternalPluginConfig(name: name, command: argv)
    }
}

/// Everything the plugins read from the config, validated together: what
/// `--check-config` and the daemon's start both run.
public struct PluginSetupConfig: Sendable {
    public var gpio: [GPIOLineConfig]
    public var plugins: PluginsConfig

    public static func validate(_ config: Config, source: String = "config") throws(ConfigError) -> PluginSetupConfig {
        PluginSetupConfig(gpio: try GPIOConfig.decode(config.gpio, devices: config.devices, source: source),
                          plugins: try PluginsConfig.decode(config.plugins, source: source))
    }
}
