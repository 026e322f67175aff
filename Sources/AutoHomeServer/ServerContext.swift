import AutoHome
import AutoHomeSupport

/// What the server persists and must load before the engine starts: tokens,
/// registrations with their device definitions, API-made groups, pending
/// actions, and the action hub the engine reports to. The records go through
/// the storage protocols (`SQLiteStore` in the daemon).
public final class ServerStores: @unchecked Sendable {
    public let tokens: TokenStore
    public let registrations: Registrations
    public let groups: GroupStorage
    /// Durable history (`GET /v1/history`); nil: not kept (501).
    public let history: HistoryStorage?
    /// The script generation, kept across restarts; nil: not kept.
    public let generations: ScriptGenerationStorage?
    /// `GET /v1/backup`; nil: 501.
    public let backup: BackupStorage?
    public let hub = ActionHub()
    /// Live-changes streams (GET /v1/watch).
    public let watch = WatchHub()
    /// The admin token when this start created it (first start).
    public let createdAdminToken: String?

    /// `adminTokenPath`: where a first start writes the admin token (nil: nowhere).
    public init(tokens: TokenStorage, registrations: RegistrationStorage, groups: GroupStorage, seal: RegistrationSeal,
                adminTokenPath: String?, pending: PendingActionStorage? = nil, history: HistoryStorage? = nil,
                generations: ScriptGenerationStorage? = nil, backup: BackupStorage? = nil) throws(StorageError) {
        self.tokens = try TokenStore(storage: tokens, adminTokenPath: adminTokenPath)
        createdAdminToken = try self.tokens.ensureAdminToken()
        let known = Set(self.tokens.list().map(\.hash))
        self.registrations = try Registrations(storage: registrations, seal: seal, knownOwner: { known.contains($0) })
        self.groups = groups
        self.history = history
        self.generations = generations
        self.backup = backup
        if let pending {
            hub.restore(try pending.loadPendingActions())
            hub.storage = pending
        }
    }

    /// The config the engine starts with: the configured devices plus the
    /// registered ones, and the API's group set when there is one. A saved
    /// group member that no longer exists (a device taken out of the config)
    /// is dropped with a warning naming it; the rest of the set stays.
    public func engineConfig(_ config: Config) throws(StorageError) -> Config {
        var c = config
        let configured = Set(config.devices.map(\.id))
        for d in registrations.storedDevices {
            if configured.contains(d.id) {
                Log.warn("registered device \"\(d.id)\" is now defined in the config; the config wins")
                continue
            }
            c.devices.append(d)
        }
        if var saved = try groups.loadGroups() {
            let known = Set(c.devices.map(\.id))
            for i in saved.indices {
                let gone = saved[i].devices.filter { !known.contains($0) }
                if !gone.isEmpty {
                    Log.warn("group \"\(saved[i].id)\": dropping \(gone.map { "\"\($0)\"" }.joined(separator: ", ")) (no such device any more)")
                    saved[i].devices.removeAll { !known.contains($0) }
                }
            }
            do throws(ModelError) { _ = try GroupGraph(saved, knownDevices: known) } catch {
                throw StorageError("the saved groups are inconsistent: \(error.description)")
            }
            c.groups = saved
        }
        return c
    }
}

/// Everything a route handler may use. One per server.
public final class ServerContext: @unchecked Sendable {
    /// The config as given: its devices cannot be registered over the API.
    public let config: Config
    public let engine: EventManager
    public let stores: ServerStores
    public let configDeviceIds: Set<String>
    /// `/v1/logs`: subscribe it to the engine and `Log.sink` (the daemon does).
    public let logs: LogRing

    public static let maxScriptBytes = 1 << 20
    public static let maxBundleBytes = 4 << 20
    /// Small JSON bodies (device definitions, groups, commands, tokens).
    public static let maxDefinitionBytes = 1 << 20

    public init(config: Config, engine: EventManager, stores: ServerStores, logs: LogRing = LogRing()) {
        self.config = config
        self.logs = logs
        self.engine = engine
        self.stores = stores
        configDeviceIds = Set(config.devices.map(\.id))
    }

    public var tokens: TokenStore { stores.tokens }
    public var registrations: Registrations { stores.registrations }
    public var hub: ActionHub { stores.hub }

    /// The transport's body cap: the largest any route accepts.
    public var transportMaxBody: Int { max(ServerContext.maxBundleBytes, config.maxEventBytes) + 4096 }

    /// Every route of SPEC §5 (plus /v1/tokens).
    public func makeRouter(work: WorkQueue?) -> Router {
        let r = Router(tokens: tokens, work: work)
        PingRoutes.install(on: r, self)
        StatusRoutes.install(on: r, self)
        DeviceRoutes.install(on: r, self)
        EventRoutes.install(on: r, self)
        ActionRoutes.install(on: r, self)
        GroupRoutes.install(on: r, self)
        ScriptRoutes.install(on: r, self)
        TokenRoutes.install(on: r, self)
        PluginRoutes.install(on: r, self)
        LogRoutes.install(on: r, self)
        WatchRoutes.install(on: r, self)
        HistoryRoutes.install(on: r, self)
        BackupRoutes.install(on: r, self)
        return r
    }
}

/// Path parameter checks shared by the routes: a malformed id is a 400
/// naming the parameter, never a lookup.
enum Check {
    static func deviceId(_ s: String, field: String = "id") throws(HTTPError) -> String {
        guard Identifiers.isValidId(s) else { throw HTTPError(400, "invalid device id \"\(s)\": \(Identifiers.idRule)", field: field) }
        return s
    }

    static func groupId(_ s: String) throws(HTTPError) -> String {
        guard Identifiers.isValidId(s) else { throw HTTPError(400, "invalid group id \"\(s)\": \(Identifiers.idRule)", field: "id") }
        return s
    }

    static func propertyName(_ s: String) throws(HTTPError) -> String {
        guard Identifiers.isValidPropertyName(s) else {
            throw HTTPError(400, "invalid property name \"\(s)\": must match [A-Za-z0-9_]{1,64}", field: "name")
        }
        return s
    }

    static func scriptName(_ s: String, field: String = "name") throws(HTTPError) -> String {
        guard Identifiers.isValidScriptName(s) else {
            throw HTTPError(400, "invalid script name \"\(s)\": must match [A-Za-z0-9._-]{1,64}.js, without \"/\" or \"..\"", field: field)
        }
        return s
    }

    static func object(_ json: JSON, what: String) throws(HTTPError) -> JSON {
        guard case .object = json else { throw HTTPError(400, "\(what) must be a JSON object, not \(json.kindName)", field: "body") }
        return json
    }
}
