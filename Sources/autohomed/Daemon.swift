#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeServer
import AutoHomePlugins
import AutoHomeStore
import AutoHomeSupport

/// The long-running daemon: config → stores → engine → HTTP/3 server, until
/// SIGTERM/SIGINT; then the server stops (connections closed), the engine
/// finishes what is queued, and the process exits 0.
enum Daemon {
    static func run(config: Config, source: String) -> Int32 {
        Log.level = config.logLevel
        // Block the signals before any thread starts, so every thread inherits
        // the mask and only sigwait below sees them.
        let signal = SignalWaiter([SIGTERM, SIGINT])
        // GET /v1/logs: daemon lines through the sink, script output from the engine.
        let logs = LogRing()
        Log.sink = { [logs] level, message in logs.daemonLine(level, message) }
        let pluginSetup: PluginSetupConfig
        do throws(ConfigError) { pluginSetup = try PluginSetupConfig.validate(config, source: source) } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            return 1
        }
        let scripts: ScriptSet
        let stores: ServerStores
        let tls: TLSFiles
        do throws(FileError) {
            scripts = try ScriptSet.load(directory: config.effectiveScriptsDir, generation: 1)
            stores = try openStores(dataDir: config.dataDir)
            tls = try TLSFiles.prepare(config: config)
        } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            return 1
        }
        guard let listen = ListenAddress.parse(config.listen) else {
            fputs("autohomed: listen \"\(config.listen)\" is not HOST:PORT\n", stderr)
            return 1
        }
        let engineConfig = stores.engineConfig(config)
        // One timer thread for the whole daemon: countdowns, heartbeat, flushes.
        let timers = TimerService()
        // gpio, sun and the external programs (docs/gpio.md, docs/plugins.md).
        let plugins: DaemonPlugins
        do throws(ConfigError) { plugins = try DaemonPlugins(pluginSetup, timers: timers, source: source) } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            return 1
        }
        let engine = EventManager(config: engineConfig, scripts: scripts, clock: SystemClock(),
                                  observers: [EngineLog(), stores.hub, stores.watch, logs], timers: timers,
                                  plugins: plugins.registry)
        plugins.registry.onCatalogChange = { [unowned engine] in engine.pluginsChanged() }
        do throws(ConfigError) { try plugins.open(engine: engine) } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            timers.stop()
            return 1
        }
        do throws(ModelError) { try engine.start() } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            plugins.stop()
            return 1
        }
        do throws(ConfigError) { try plugins.start(engine: engine) } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            engine.stop()
            timers.stop()
            return 1
        }
        let context = ServerContext(config: config, engine: engine, stores: stores, logs: logs)
        let work = WorkQueue(name: "http-work")
        let server: HTTP3Server
        do throws(FileError) {
            server = try HTTP3Server(options: .init(host: listen.host, port: listen.port, certFile: tls.cert, keyFile: tls.key,
                                                    maxBody: context.transportMaxBody),
                                     router: context.makeRouter(work: work))
        } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            plugins.stop()
            engine.stop()
            return 1
        }
        server.onStreamClosed = { [hub = stores.hub, watch = stores.watch] in
            hub.closed($0)
            watch.closed($0)
            logs.closed($0)
        }
        stores.hub.sink = server
        stores.watch.sink = server
        server.start()
        let heartbeat = Heartbeat(hub: stores.hub, timers: timers)
        let watchBeat = Heartbeat(timers: timers) { [weak watch = stores.watch] in watch?.heartbeat() }

        Log.info("started: \(engineConfig.devices.count) devices, \(scripts.files.count) scripts, \(config.vms) VMs")
        Log.info("TLS certificate \(tls.cert)\(tls.created ? " (created)" : ""), SHA-256 fingerprint \(tls.fingerprint)")
        if let path = stores.tokens.adminTokenPath {
            Log.info("admin token \(stores.createdAdminToken != nil ? "created in" : "in") \(path)")
        }
        let shownHost = listen.host.contains(":") ? "[\(listen.host)]" : listen.host
        Log.info("HTTP/3 listening on \(shownHost):\(server.port)")
        if let path = stores.tokens.adminTokenPath {
            Log.info("example: GET https://\(shownHost):\(server.port)/v1/status over HTTP/3 with \"Authorization: Bearer $(cat \(path))\"")
        }

        let sig = signal.wait()
        Log.info("signal \(sig): stopping")
        heartbeat.stop()
        watchBeat.stop()
        stores.hub.endAll()
        logs.stop()
        stores.watch.endAll()
        server.stop()
        work.stop()
        plugins.stop()
        engine.stop()
        timers.stop()
        Log.info("stopped")
        return 0
    }

    /// Today's store: the JSON files in `dataDir`.
    static func openStores(dataDir: String) throws(FileError) -> ServerStores {
        do throws(StorageError) {
            let files = try JSONFileStore(dataDir: dataDir)
            return try ServerStores(tokens: files, registrations: files, groups: files, adminTokenPath: dataDir + "/admin.token")
        } catch { throw FileError(error.message) }
    }
}
