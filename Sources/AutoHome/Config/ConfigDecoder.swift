import AutoHomeSupport

/// Decodes and validates config JSON. An unknown key, a wrong type or an
/// impossible value is an error naming the key: the daemon refuses to start
/// rather than run with a setting the owner did not mean.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

extension Config {
    public static func load(path: String) throws(ConfigError) -> Config {
        let text: String
        do { text = try Files.readText(path) } catch { throw ConfigError("config: \(error.description)") }
        return try decode(text: text, source: path)
    }

    public static func decode(text: String, source: String = "config") throws(ConfigError) -> Config {
        let json: JSON
        do { json = try JSON.parse(text) } catch { throw ConfigError("\(source): \(error.description)") }
        return try decode(json, source: source)
    }

    public static func decode(_ json: JSON, source: String = "config") throws(ConfigError) -> Config {
        guard case .object(let members) = json else { throw ConfigError("\(source): must be a JSON object") }
        var c = Config()
        func fail(_ key: String, _ msg: String) -> ConfigError { ConfigError("\(source): \"\(key)\" \(msg)") }
        func int(_ key: String, _ v: JSON, _ lo: Int, _ hi: Int) throws(ConfigError) -> Int {
            guard case .number(let d) = v else { throw fail(key, "must be a number, not \(v.kindName)") }
            guard d == d.rounded(), d >= Double(lo), d <= Double(hi) else { throw fail(key, "must be a whole number from \(lo) to \(hi)") }
            return Int(d)
        }
        func string(_ key: String, _ v: JSON) throws(ConfigError) -> String {
            guard case .string(let s) = v else { throw fail(key, "must be a string, not \(v.kindName)") }
            guard !s.isEmpty else { throw fail(key, "must not be empty") }
            return s
        }
        var deviceJSON: [JSON] = []
        var groupJSON: [JSON] = []
        for (key, v) in members {
            switch key {
            case "listen":
                c.listen = try string(key, v)
                guard ListenAddress.parse(c.listen) != nil else { throw fail(key, "must be HOST:PORT, e.g. 0.0.0.0:4242 or [::]:4242") }
            case "dataDir": c.dataDir = try string(key, v)
            case "scriptsDir": c.scriptsDir = try string(key, v)
            case "tls":
                guard case .object(let t) = v else { throw fail(key, "must be an object {\"cert\", \"key\"}") }
                for (tk, tv) in t {
                    switch tk {
                    case "cert": c.tlsCert = try string("tls.cert", tv)
                    case "key": c.tlsKey = try string("tls.key", tv)
                    default: throw fail("tls.\(tk)", "is not a known key (cert, key)")
                    }
                }
                if (c.tlsCert == nil) != (c.tlsKey == nil) { throw fail(key, "needs both cert and key") }
            case "vms": c.vms = try int(key, v, 1, 64)
            case "ringSize": c.ringSize = try int(key, v, 1, 1 << 20)
            case "maxEventBytes": c.maxEventBytes = try int(key, v, 256, 1 << 20)
            case "propertyHistory": c.propertyHistory = try int(key, v, 1, DeviceDefinition.maxHistory)
            case "repeatWindowMs": c.repeatWindowMs = Int64(try int(key, v, 0, 86_400_000))
            case "scriptTimeoutMs": c.scriptTimeoutMs = try int(key, v, 1, 600_000)
            case "scriptWallTimeoutMs": c.scriptWallTimeoutMs = try int(key, v, 1, 3_600_000)
            case "vmMemoryBytes": c.vmMemoryBytes = try int(key, v, 512 << 10, 1 << 30)
            case "pluginTimeoutMs": c.pluginTimeoutMs = try int(key, v, 1, 600_000)
            case "flushIntervalMs": c.flushIntervalMs = try int(key, v, 0, 600_000)
            case "historyDays": c.historyDays = try int(key, v, 0, 36_500)
            case "devices":
                guard case .array(let a) = v else { throw fail(key, "must be an array of device definitions") }
                deviceJSON = a
            case "groups":
                guard case .array(let a) = v else { throw fail(key, "must be an array of group definitions") }
                groupJSON = a
            case "gpio":
                guard case .object = v else { throw fail(key, "must be an object") }
                c.gpio = v
            case "plugins":
                guard case .object = v else { throw fail(key, "must be an object") }
                c.plugins = v
            case "logLevel":
                let s = try string(key, v)
                guard let l = LogLevel(name: s) else { throw fail(key, "must be debug, info, warn or error") }
                c.logLevel = l
            default:
                throw ConfigError("\(source): unknown key \"\(key)\"")
            }
        }
        var seen = Set<String>()
        for (i, d) in deviceJSON.enumerated() {
            do throws(ModelError) {
                let def = try DeviceDefinition.decode(d, path: "devices[\(i)]")
                guard seen.insert(def.id).inserted else { throw ModelError("device \"\(def.id)\" is defined twice", field: "devices[\(i)].id") }
                c.devices.append(def)
            } catch { throw ConfigError("\(source): \(error.description)") }
        }
        for (i, g) in groupJSON.enumerated() {
            do { c.groups.append(try GroupDefinition.decode(g, path: "groups[\(i)]")) } catch { throw ConfigError("\(source): \(error.description)") }
        }
        do { _ = try GroupGraph(c.groups, knownDevices: seen) } catch { throw ConfigError("\(source): \(error.description)") }
        return c
    }
}

/// "HOST:PORT" with IPv6 in brackets.
public struct ListenAddress: Sendable, Equatable {
    public var host: String
    public var port: UInt16

    public static func parse(_ s: String) -> ListenAddress? {
        var host: Substring
        var portText: Substring
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            host = s[s.index(after: s.startIndex)..<close]
            let rest = s[s.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = s.lastIndex(of: ":") else { return nil }
            host = s[..<colon]
            portText = s[s.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, let port = UInt16(portText) else { return nil }
        return ListenAddress(host: String(host), port: port)
    }
}
