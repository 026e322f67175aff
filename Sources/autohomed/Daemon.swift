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
    static func run(config: Config, recover: Bool = false) -> Int32 {
        Log.level = config.logLevel
        // Block the signals before any thread starts, so every thread inherits
        // the mask and only sigwait below sees them.
        let signal = SignalWaiter([SIGTERM, SIGINT])
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
        // No plugin is built in yet (GPIO and sun come next); the seam is live.
        let plugins = PluginRegistry()
        let engine = EventManager(config: engineConfig, scripts: scripts, clock: SystemClock(),
                                  observers: [EngineLog(), stores.hub, store], timers: timers, plugins: plugins)
        plugins.onCatalogChange = { [unowned engine] in engine.pluginsChanged() }
        // Where it was before the stop: values (and their recent history) go
        // back into the live state before any script runs or the server opens.
        var restoreError: StorageError?
        do throws(StorageError) {
            for name in try engine.keepCountdowns(in: store) {
                Log.warn("countdown \"\(name)\" was lost with the last process (a closure cannot outlive it; the string form home.countdown(name, s, \"fnName\", arg) does)")
            }
        } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            return 1
        }
        do throws(ModelError) {
            try engine.start { state in
                do throws(StorageError) { try DaemonStore.restoreValues(store, into: state) } catch { restoreError = error }
            }
        } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            return 1
        }
        if let restoreError {
            fputs("autohomed: \(restoreError.description)\n", stderr)
            engine.stop()
            return 1
        }
        let context = ServerContext(config: config, engine: engine, stores: stores)
        let work = WorkQueue(name: "http-work")
        let server: HTTP3Server
        do throws(FileError) {
            server = try HTTP3Server(options: .init(host: listen.host, port: listen.port, certFile: tls.cert, keyFile: tls.key,
                                                    maxBody: context.transportMaxBody),
                                     router: context.makeRouter(work: work))
        } catch {
            fputs("autohomed: \(error.description)\n", stderr)
            engine.stop()
            store.close()
            return 1
        }
        server.onStreamClosed = { [hub = stores.hub] in hub.closed($0) }
        stores.hub.sink = server
        server.start()
        let heartbeat = Heartbeat(hub: stores.hub, timers: timers)

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
        stores.hub.endAll()
        server.stop()
        work.stop()
        engine.stop()
        timers.stop()
        // Everything the engine committed is in the store's queue now: write it.
        store.close()
        Log.info("stopped")
        return 0
    }
}
