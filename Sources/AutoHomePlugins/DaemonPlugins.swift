#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// The daemon's plugins, built from the validated config: the registry the
/// engine calls through, the built-in `gpio` and `sun`, and the external
/// programs, sharing one I/O thread and the daemon's timer service.
///
/// Order: `init` (before the engine is built: the registry's catalog is what
/// the VMs see), `open(engine:)` before `engine.start()`, `start(engine:)`
/// after it, `stop()` before `engine.stop()`.
public final class DaemonPlugins: @unchecked Sendable {
    public let registry = PluginRegistry()
    public let poller = FDPoller()
    public private(set) var gpio: GPIOPlugin?
    public private(set) var sun: SunPlugin?
    public private(set) var external: [ExternalPlugin] = []
    private var socketDirectory: String?

    public init(_ setup: PluginSetupConfig, timers: TimerService, driver: GPIODriver = LibgpiodDriver(),
                source: String = "config") throws(ConfigError) {
        if !setup.gpio.isEmpty {
            let g = GPIOPlugin(lines: setup.gpio, driver: driver, poller: poller, timers: timers, source: source)
            gpio = g
            registry.add(g)
        }
        if let s = setup.plugins.sun {
            let p = SunPlugin(config: s, timers: timers)
            sun = p
            registry.add(p)
        }
        if !setup.plugins.external.isEmpty {
            let dir = try DaemonPlugins.makeSocketDirectory()
            socketDirectory = dir
            for cfg in setup.plugins.external {
                let p = ExternalPlugin(config: cfg, socketDirectory: dir, poller: poller, timers: timers)
                p.onMethodsChanged = { [registry] in registry.catalogChanged() }
                external.append(p)
                registry.add(p)
            }
        }
    }

    /// Before `engine.start()`: requests the GPIO lines; a mistake throws,
    /// naming key and line, before any script has run.
    public func open(engine: EventManager) throws(ConfigError) {
        do throws(ConfigError) {
            try gpio?.open(engine: engine)
        } catch {
            stop()
            throw error
        }
    }

    /// After `engine.start()`: the lines' initial values, the sun events, the
    /// external programs (started without waiting for them).
    public func start(engine: EventManager) throws(ConfigError) {
        gpio?.announce()
        sun?.start { [weak engine] kind, data in
            engine?.pluginEvent(plugin: "sun", event: kind.rawValue, data: data)
        }
        for p in external {
            p.onEvent = { [weak engine, name = p.name] event, data in
                if engine?.pluginEvent(plugin: name, event: event, data: data) == false {
                    Log.warn("plugin \(name): event \"\(event)\" dropped: too many tasks are waiting")
                }
            }
            do throws(PluginSetupError) { try p.start() } catch {
                stop()
                throw ConfigError("plugins.external \"\(p.name)\": \(error.description)")
            }
        }
        if gpio != nil { Log.info("gpio: \(LibgpiodDriver.versionDescription)") }
    }

    /// Releases the lines, ends the programs, removes the sockets. Idempotent.
    public func stop() {
        gpio?.stop()
        sun?.stop()
        for p in external { p.stop() }
        poller.stop()
        if let dir = socketDirectory { rmdir(dir) }
        socketDirectory = nil
    }

    /// A private folder (0700) for the plugins' sockets: `$TMPDIR` or /tmp
    /// (the appliance's service has a private /tmp), short enough for
    /// sockaddr_un whatever the data folder's path is.
    static func makeSocketDirectory() throws(ConfigError) -> String {
        var base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        if base.isEmpty || base.utf8.count > 30 { base = "/tmp" }
        var template = Array((base + "/autohome-plugins-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else {
            throw ConfigError("plugins.external: cannot make a socket folder in \(base): \(String(cString: strerror(errno)))")
        }
        return String(cString: template)
    }
}
