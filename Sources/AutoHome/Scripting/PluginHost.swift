import AutoHomeSupport

/// The plugin seam (SPEC §8): scripts call `plugin.<name>.<method>(...)`
/// through one generic native, and plugins fire events into
/// `set("plugin/<name>", {on<event>: …})` handlers. Scripting knows only this
/// protocol; GPIO, sun and external plugins live behind it (AutoHomePlugins).
///
/// Thread contract: `catalog` and `call` run on VM worker threads (and on the
/// server's work thread for `POST /v1/plugins/...`). `call` blocks the VM, so
/// it must come back within `timeoutMs` (SPEC: `pluginTimeoutMs`) whatever the
/// plugin does, with `.failure` on timeout.
public protocol PluginHost: AnyObject, Sendable {
    /// Every plugin and its methods, read when a VM is built. When it changes
    /// (an external plugin said hello), call `EventManager.pluginsChanged()`.
    func catalog() -> [PluginInfo]
    func call(plugin: String, method: String, arguments: [JSON], timeoutMs: Int) -> Result<JSON, PluginError>
}

public struct PluginInfo: Sendable, Equatable {
    public var name: String
    public var methods: [String]
    public init(name: String, methods: [String]) { self.name = name; self.methods = methods }
}

/// Thrown in the script (and answered 4xx/5xx over the API) with this message.
public struct PluginError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No such plugin or method.
        case unknown
        /// The plugin did not answer within the timeout.
        case timeout
        /// The plugin is down (crashed, restarting, chip missing).
        case unavailable
        /// The plugin answered with an error, or the arguments were wrong.
        case failed
    }

    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { message }
}

extension PluginInfo {
    var json: JSON { .object([("name", .string(name)), ("methods", .array(methods.map { .string($0) }))]) }
}
