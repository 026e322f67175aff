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
    static func run(config: Config) -> Int32 {
        Log.level = config.logLevel
        // Block the signals before any thread starts, so every thread inherits
        // the mask and only sigwait below sees them.
        let signal = SignalWaiter([SIGTERM, SIGINT])
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
        // No plugin is built in yet (GPIO and sun come next); the seam is live.
        let plugins = PluginRegistry()
        let engine = EventManager(config: engineConfig, scripts: scripts, clock: SystemClock(),
                                  observers: [EngineLog(), stores.hub], timers: timers, plugins: plugins)
        plugins.onCatalogChange = { [unowned engine] in engine.pluginsChanged() }
        do throws(ModelError) { try engine.start() } catch {
            fputs("autohomed: \(error.description)\n", stderr)
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
            return 1
        }
        server.onStreamClosed = { [hub = stores.hub] in hub.closed($0) }
        stores.hub.sink = server
        server.start()
        let heartbeat = Heartbeat(hub: stores.hub, timers: timers)

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
        // The hub writes to the server and the server's router reaches the
        // hub: without this the pair (and the engine behind the router)
        // outlives run(). LeakSanitizer checks the exit (`make sanitize`).
        stores.hub.sink = nil
        work.stop()
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
