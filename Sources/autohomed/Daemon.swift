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
    static func run(config: Config, source: String, recover: Bool = false) -> Int32 {
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
        let store: SQLiteStore
        let stores: ServerStores
        let tls: TLSFiles
        let engineConfig: Config
        do throws(FileError) {
            store = try DaemonStore.open(config: config, recover: recover)
            stores = try DaemonStore.serverStores(store, dataDir: config.dataDir)
            let generation = try DaemonStore.scriptGeneration(store)
            scripts = try ScriptSet.load(directory: config.effectiveScriptsDir, generation: generation)
            tls = try TLSFiles.prepare(config: config)
            do throws(StorageError) { engineConfig = try stores.engineConfig(config) } catch { throw FileError(error.message) }
        } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            return 1
        }
        guard let listen = ListenAddress.parse(config.listen) else {
            fputs("autohomed: listen \"\(config.listen)\" is not HOST:PORT\n", stderr)
            return 1
        }
        // One timer thread for the whole daemon: countdowns, heartbeat, flushes.
        let timers = TimerService()
        // gpio, sun and the external programs (docs/gpio.md, docs/plugins.md).
        let plugins: DaemonPlugins
        do throws(ConfigError) { plugins = try DaemonPlugins(pluginSetup, timers: timers, source: source) } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            return 1
        }
        let engine = EventManager(config: engineConfig, scripts: scripts, clock: SystemClock(),
                                  observers: [EngineLog(), stores.hub, stores.watch, logs, store], timers: timers,
                                  plugins: plugins.registry)
        plugins.registry.onCatalogChange = { [unowned engine] in engine.pluginsChanged() }
        // GPIO lines are taken before any script runs: a mistake stops start-up.
        do throws(ConfigError) { try plugins.open(engine: engine) } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            timers.stop()
            return 1
        }
        // Where it was before the stop: values (and their recent history) go
        // back into the live state before any script runs or the server opens.
        var restoreError: StorageError?
        do throws(StorageError) {
            for name in try engine.keepCountdowns(in: store) {
                Log.warn("countdown \"\(name)\" was lost with the last process (a closure cannot outlive it; the string form home.countdown(name, s, \"fnName\", arg) does)")
            }
        } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            plugins.stop()
            return 1
        }
        do throws(ModelError) {
            try engine.start { state in
                do throws(StorageError) { try DaemonStore.restoreValues(store, into: state) } catch { restoreError = error }
            }
        } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            plugins.stop()
            return 1
        }
        if let restoreError {
            fputs("autohomed: \(restoreError.description)\n", stderr)
            plugins.stop()
            engine.stop()
            return 1
        }
        // Outputs take their `initial` values now, after the restore (initial wins).
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
            store.close()
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

        for note in store.notes { Log.info("store: \(note)") }
        Log.info("store \(store.path): flushIntervalMs \(config.flushIntervalMs), historyDays \(config.historyDays)")
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
        // The hub writes to the server and the server's router reaches the
        // hub: without this the pair (and the engine behind the router)
        // outlives run(). LeakSanitizer checks the exit (`make sanitize`).
        stores.hub.sink = nil
        work.stop()
        plugins.stop()
        engine.stop()
        timers.stop()
        // Everything the engine committed is in the store's queue now: write it.
        store.close()
        Log.info("stopped")
        return 0
    }
}
