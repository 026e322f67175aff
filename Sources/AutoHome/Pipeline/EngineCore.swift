import AutoHomeSupport
import CJSGuard

/// The services every part of the engine shares: live state, clock, timers,
/// globals, counters and the event fan-out. One per engine.
final class EngineCore: @unchecked Sendable {
    let state: HomeState
    let clock: EngineClock
    let countdowns = Countdowns()
    let globals = SharedGlobals()
    let stats = EngineStats()
    /// Everything that leaves the engine goes out through here.
    let events: EventFanOut
    /// A call's budget, not counting time inside `home.sleep` (SPEC §2.8).
    let scriptTimeoutMs: Int
    /// A call's whole duration, sleeps included.
    let scriptWallTimeoutMs: Int
    let vmMemoryBytes: Int
    /// Every VM of this engine (and its scratch VMs) belongs to this group, so
    /// a stop can end all their calls at once.
    let vmGroup: OpaquePointer
    private var cancelled = false
    /// Behind `plugin.<name>.<method>`; nil: no plugins.
    let plugins: PluginHost?
    let pluginTimeoutMs: Int
    /// Bumped when the plugin catalog changes: VMs rebuild to see it.
    private var catalogEpoch = 0
    private let lock = Lock()
    private var scriptSet: ScriptSet
    /// Set by the dispatcher; posts `thread()` work.
    var postThread: ((String, String) -> Bool)?

    init(state: HomeState, clock: EngineClock, events: EventFanOut, scripts: ScriptSet,
         scriptTimeoutMs: Int, scriptWallTimeoutMs: Int, vmMemoryBytes: Int, plugins: PluginHost?, pluginTimeoutMs: Int) {
        self.plugins = plugins
        self.pluginTimeoutMs = pluginTimeoutMs
        self.state = state
        self.clock = clock
        self.events = events
        self.scriptSet = scripts
        self.scriptTimeoutMs = scriptTimeoutMs
        self.scriptWallTimeoutMs = scriptWallTimeoutMs
        self.vmMemoryBytes = vmMemoryBytes
        vmGroup = jsg_group_new()!
    }

    /// The VMs (ScriptVM) hold this core, so they are all freed by now.
    deinit { jsg_group_free(vmGroup) }

    /// Stops every running script call at once (also one inside `home.sleep`)
    /// and refuses later ones, for good: the engine is stopping.
    func cancelScripts() {
        lock.withLock { cancelled = true }
        jsg_group_cancel(vmGroup)
    }

    var scriptsCancelled: Bool { lock.withLock { cancelled } }

    var pluginEpoch: Int {
        get { lock.withLock { catalogEpoch } }
    }
    func bumpPluginEpoch() { lock.withLock { catalogEpoch += 1 } }

    var scripts: ScriptSet {
        get { lock.withLock { scriptSet } }
        set { lock.withLock { scriptSet = newValue } }
    }

    func report(_ error: ScriptError) {
        stats.addScriptError(script: error.script)
        events.scriptFailed(error)
    }

    /// `device.set(name, value)` from a script: writes the live value, records
    /// history and sends an action; it does not run the device's handlers.
    /// `seq`: the run it happens in, if any. Returns the action sent.
    @discardableResult
    func scriptSet(deviceId: String, property: String, value json: JSON, seq: UInt64? = nil) throws(ModelError) -> DeviceAction {
        guard let slot = state.slot(of: deviceId) else { throw ModelError("device.set: unknown device \"\(deviceId)\"") }
        let live = state.live(slot: slot)
        guard let i = live.schema.propertyIndex(property) else {
            throw ModelError("device.set: device \"\(deviceId)\" has no property \"\(property)\"")
        }
        let def = live.schema.property(i)
        guard def.mode.mayCommand else {
            throw ModelError("device.set: \"\(property)\" of \"\(deviceId)\" is read-only (RO)")
        }
        let value: PropertyValue
        switch Coercion.coerce(json, to: def) {
        case .success(let v): value = v
        case .failure(let e): throw ModelError("device.set: \(e.message)")
        }
        let now = clock.nowMillis()
        let version = state.commit(slot: slot, [(i, value)], time: now)
        events.valuesCommitted(device: version, changes: [(property, value)], time: now)
        let action = DeviceAction(deviceId: deviceId, properties: [(property, value.json)], seq: seq)
        events.actionSent(action)
        return action
    }
}
