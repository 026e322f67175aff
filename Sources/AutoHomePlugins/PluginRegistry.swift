import AutoHome
import AutoHomeSupport

/// One plugin behind `plugin.<name>.<method>(...)`: GPIO, sun, an external
/// helper process. The registry routes calls by name; a plugin only answers
/// its own methods.
///
/// Thread contract: `call` runs on a VM worker thread (or the server's work
/// thread) and must return within `timeoutMs`; `methods` may change (an
/// external plugin's hello), and then the plugin calls the registry's
/// `catalogChanged`.
public protocol Plugin: AnyObject, Sendable {
    var name: String { get }
    var methods: [String] { get }
    func call(method: String, arguments: [JSON], timeoutMs: Int) -> Result<JSON, PluginError>
}

/// The daemon's `PluginHost`: the configured plugins, by name.
public final class PluginRegistry: PluginHost, @unchecked Sendable {
    private let lock = Lock()
    private var plugins: [String: Plugin] = [:]
    private var order: [String] = []
    /// Set by the daemon: tells the engine to rebuild its VMs' `plugin` object.
    public var onCatalogChange: (() -> Void)?

    public init(_ initial: [Plugin] = []) {
        for p in initial { add(p) }
    }

    public func add(_ p: Plugin) {
        lock.withLock {
            if plugins[p.name] == nil { order.append(p.name) }
            plugins[p.name] = p
        }
        catalogChanged()
    }

    public func plugin(named name: String) -> Plugin? { lock.withLock { plugins[name] } }

    public func catalogChanged() { onCatalogChange?() }

    public func catalog() -> [PluginInfo] {
        let list = lock.withLock { order.compactMap { plugins[$0] } }
        return list.map { PluginInfo(name: $0.name, methods: $0.methods) }
    }

    public func call(plugin name: String, method: String, arguments: [JSON], timeoutMs: Int) -> Result<JSON, PluginError> {
        guard let p = plugin(named: name) else { return .failure(PluginError(.unknown, "no plugin named \"\(name)\"")) }
        guard p.methods.contains(method) else {
            return .failure(PluginError(.unknown, "plugin \"\(name)\" has no method \"\(method)\" (it has: \(p.methods.joined(separator: ", ")))"))
        }
        return p.call(method: method, arguments: arguments, timeoutMs: timeoutMs)
    }
}
