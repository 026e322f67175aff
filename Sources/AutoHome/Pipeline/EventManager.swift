import AutoHomeSupport

/// The engine's front door (SPEC §2): validates events against the device
/// definitions, puts them in the ring, and has the dispatcher run them. The
/// HTTP/3 server and `replay` are two callers of this one type; it knows
/// nothing about either.
public enum SubmitError: Error, CustomStringConvertible, Sendable {
    case unknownDevice(String)
    case invalid(ModelError)
    case readOnly(ModelError)
    case tooLarge(String)
    case busy
    /// Found by a front door before the engine saw the event: an unknown
    /// registration, a body that is not JSON. Counted here like the others.
    case refused(String, field: String? = nil)

    public var description: String {
        switch self {
        case .unknownDevice(let id): return "unknown device \"\(id)\""
        case .invalid(let e), .readOnly(let e): return e.message
        case .tooLarge(let m): return m
        case .refused(let m, _): return m
        case .busy: return "the event ring is full; retry shortly"
        }
    }

    public var field: String? {
        switch self {
        case .invalid(let e), .readOnly(let e): return e.field
        case .refused(_, let field): return field
        default: return nil
        }
    }
}

public final class EventManager: @unchecked Sendable {
    public let config: Config
    public let state: HomeState
    public let ring: EventRing
    /// Subscribe here for logs, errors, actions and committed values.
    public let events: EventFanOut
    /// Countdowns (and, in the daemon, everything else timed) run here.
    public let timers: TimerService
    private let ownsTimers: Bool
    let core: EngineCore
    private let dispatcher: Dispatcher
    private let seqLock = Lock()
    private var nextSeq: UInt64 = 0
    private let scriptsLock = Lock()
    private let startedAt = monotonicNanos()
    public static let maxPropertiesPerEvent = 64

    /// `timers`: the daemon's shared timer service; nil makes one for this engine.
    /// `plugins`: what `plugin.<name>.<method>` reaches; nil: no plugins.
    public init(config: Config, scripts: ScriptSet, clock: EngineClock, observers: [EngineObserver] = [],
                timers: TimerService? = nil, plugins: PluginHost? = nil) {
        self.config = config
        state = HomeState(defaultHistory: config.propertyHistory, defaultRepeatWindowMs: config.repeatWindowMs)
        ring = EventRing(capacity: config.ringSize, slotBytes: config.maxEventBytes)
        events = EventFanOut(observers)
        self.timers = timers ?? TimerService()
        ownsTimers = timers == nil
        core = EngineCore(state: state, clock: clock, events: events, scripts: scripts,
                          scriptTimeoutMs: config.scriptTimeoutMs, scriptWallTimeoutMs: config.effectiveScriptWallTimeoutMs,
                          vmMemoryBytes: config.vmMemoryBytes, plugins: plugins, pluginTimeoutMs: config.pluginTimeoutMs)
        let core = self.core
        dispatcher = Dispatcher(vms: (0..<config.vms).map { ScriptVM(index: $0, core: core) })
        dispatcher.prepare = { [core] vm in
            let set = core.scripts
            if vm.needsRebuild(for: set, pluginEpoch: core.pluginEpoch) { vm.rebuild(set) }
        }
        dispatcher.processEvent = { [unowned self] vm, e, d in process(vm, e, d) }
        dispatcher.processTask = { [unowned self] vm, t in run(t, on: vm) }
        core.postThread = { [unowned self] fn, json in dispatcher.enqueue(.thread(function: fn, valueJSON: json)) }
    }

    public var clock: EngineClock { core.clock }
    public var stats: EngineStats { core.stats }
    public var scripts: ScriptSet { core.scripts }

    // MARK: life cycle

    /// Loads the configured devices and groups, compiles the scripts into
    /// every VM, starts the workers (and the timer thread on a real clock) and
    /// queues `homeserver.onstart`. Script load errors are reported, not fatal.
    /// `restore` runs after the devices are defined and before any script
    /// does: the daemon puts the stored values back there.
    public func start(restore: ((HomeState) -> Void)? = nil) throws(ModelError) {
        let now = clock.nowMillis()
        for d in config.devices { state.define(d, now: now) }
        state.setGroups(try GroupGraph(config.groups, knownDevices: state.deviceIds))
        restore?(state)
        let set = core.scripts
        let checked = check(set)
        for e in checked.errors { core.report(e) }
        startWarnings = checked.warnings
        for w in checked.warnings { Log.warn("script warning: \(w.description)") }
        for vm in dispatcher.vms { vm.host.muted = vm.index != 0; vm.rebuild(set); vm.host.muted = false }
        dispatcher.start()
        if !clock.isVirtual {
            core.countdowns.attach(timers: timers, clock: clock) { [dispatcher] e in dispatcher.enqueue(.countdown(e), pinnedTo: e.vm) }
        }
        dispatcher.enqueue(.onstart(generation: set.generation))
    }

    /// Before `start`: string-form countdowns are kept in `storage` from now
    /// on, and the stored ones come back (due ones fire right after start-up).
    /// Returns the names of the closure countdowns the last process had
    /// pending: they could not survive it (the caller logs them).
    public func keepCountdowns(in storage: TimerStorage) throws(StorageError) -> [String] {
        core.countdowns.storage = storage
        return core.countdowns.restore(try storage.loadTimers())
    }

    /// How long a stop lets queued work run normally before it cuts running
    /// script calls short.
    public static let stopGraceMs = 1000

    /// Finishes every queued event and task, then stops the workers. Work
    /// still running after `graceMs` has its script calls stopped (also inside
    /// `home.sleep`), and what is still queued is processed without running
    /// handlers (values are written, as after a stopped handler), so a stop
    /// takes about `graceMs` at most, whatever the scripts do.
    public func stop(graceMs: Int = EventManager.stopGraceMs) {
        core.countdowns.stop()
        if !dispatcher.waitIdle(timeoutMs: graceMs) {
            Log.warn("stopping: script calls still running after \(graceMs) ms are stopped; queued events are written without running their handlers")
            core.cancelScripts()
        }
        dispatcher.stop()
        if ownsTimers { timers.stop() }
    }

    public func waitIdle() { dispatcher.waitIdle() }

    /// Replay: runs the countdowns due by `time` at their own due times, then
    /// leaves the virtual clock at `time`.
    public func advanceVirtualClock(to time: Int64, _ clock: VirtualClock) {
        while let due = core.countdowns.nextDue, due <= time {
            clock.advance(to: due)
            for e in core.countdowns.takeDue(now: clock.nowMillis()) { dispatcher.enqueue(.countdown(e), pinnedTo: e.vm) }
            dispatcher.waitIdle()
        }
        clock.advance(to: time)
    }

    // MARK: events

    /// Parses `{"properties": [{"name","value"}…]}`.
    public static func parseProperties(_ body: JSON) throws(SubmitError) -> [(name: String, value: JSON)] {
        guard case .object = body else { throw .invalid(ModelError("the event must be a JSON object {\"properties\": [...]}")) }
        guard let list = body["properties"] else { throw .invalid(ModelError("\"properties\" is required", field: "properties")) }
        guard case .array(let items) = list else { throw .invalid(ModelError("must be an array", field: "properties")) }
        var out: [(name: String, value: JSON)] = []
        for (i, item) in items.enumerated() {
            guard case .string(let name)? = item["name"] else {
                throw .invalid(ModelError("needs a string \"name\"", field: "properties[\(i)]"))
            }
            guard let value = item["value"] else { throw .invalid(ModelError("needs a \"value\"", field: "properties[\(i)]")) }
            out.append((name, value))
        }
        return out
    }

    /// Validates an event and puts it in the ring. Nothing is stored unless the
    /// whole event is valid. `completion` runs on a worker after processing.
    public func submit(deviceId: String, properties: [(name: String, value: JSON)], origin: EventOrigin = .device,
                       completion: ((EventResult) -> Void)? = nil) -> Result<UInt64, SubmitError> {
        count(admit(deviceId: deviceId, properties: properties, origin: origin, completion: completion))
    }

    /// A front door refused an event before it reached `submit` (unknown
    /// registration, a body over the cap or not JSON): counted as rejected.
    public func reject(_ error: SubmitError) -> SubmitError {
        if case .failure(let e) = count(.failure(error)) { return e }
        return error
    }

    /// The one place where ingress outcomes are counted.
    private func count(_ result: Result<UInt64, SubmitError>) -> Result<UInt64, SubmitError> {
        switch result {
        case .success: stats.add(.accepted)
        case .failure(.busy): stats.add(.busy)
        case .failure: stats.add(.rejected)
        }
        return result
    }

    private func admit(deviceId: String, properties: [(name: String, value: JSON)], origin: EventOrigin,
                       completion: ((EventResult) -> Void)?) -> Result<UInt64, SubmitError> {
        guard let slot = state.slot(of: deviceId) else { return .failure(.unknownDevice(deviceId)) }
        let live = state.live(slot: slot)
        guard !properties.isEmpty else { return .failure(.invalid(ModelError("the event lists no properties", field: "properties"))) }
        guard properties.count <= EventManager.maxPropertiesPerEvent else {
            return .failure(.invalid(ModelError("more than \(EventManager.maxPropertiesPerEvent) properties in one event", field: "properties")))
        }
        var coerced: [(name: String, value: PropertyValue)] = []
        var seen = Set<String>()
        for p in properties {
            guard let i = live.schema.propertyIndex(p.name) else {
                return .failure(.invalid(ModelError("device \"\(deviceId)\" has no property \"\(p.name)\"", field: p.name)))
            }
            guard seen.insert(p.name).inserted else {
                return .failure(.invalid(ModelError("property \"\(p.name)\" is listed twice", field: p.name)))
            }
            let def = live.schema.property(i)
            if origin == .device && !def.mode.deviceMayReport {
                return .failure(.invalid(ModelError("\"\(p.name)\" is write-only (WO): a device does not report it", field: p.name)))
            }
            if origin == .command && !def.mode.mayCommand {
                return .failure(.readOnly(ModelError("\"\(p.name)\" is read-only (RO): only the device reports it", field: p.name)))
            }
            switch Coercion.coerce(p.value, to: def) {
            case .success(let v): coerced.append((p.name, v))
            case .failure(let e): return .failure(.invalid(e))
            }
        }
        let bytes = EventCodec.encode(origin: origin, coerced)
        guard bytes.count <= ring.slotBytes else {
            return .failure(.tooLarge("the event needs \(bytes.count) bytes, more than maxEventBytes (\(ring.slotBytes))"))
        }
        guard let ringSlot = bytes.withUnsafeBytes({ ring.store($0) }) else { return .failure(.busy) }
        let seq = seqLock.withLock { () -> UInt64 in nextSeq += 1; return nextSeq }
        dispatcher.enqueue(Dispatcher.QueuedEvent(ringSlot: ringSlot, seq: seq, arrivedAt: clock.nowMillis(), completion: completion),
                           deviceSlot: slot)
        return .success(seq)
    }

    private func process(_ vm: ScriptVM, _ e: Dispatcher.QueuedEvent, _ deviceSlot: Int) {
        let event = EventCodec.decode(ring.bytes(e.ringSlot))
        let deviceId = state.live(slot: deviceSlot).id
        let run = Run(core: core, vm: vm, scripts: core.scripts, seq: e.seq, slot: deviceSlot, event: event, deviceId: deviceId,
                      arrivedAt: e.arrivedAt)
        let result = run.execute()
        // The slot is held until processing is done (seed design), so a full
        // ring means "this many events are in flight", never "lost".
        ring.release(e.ringSlot)
        stats.add(.processed)
        e.completion?(result)
    }

    private func run(_ task: Dispatcher.Task, on vm: ScriptVM) {
        let snapshot = state.openSnapshot()
        vm.host.snapshot = snapshot
        defer { vm.host.snapshot = nil; snapshot.close() }
        let outcome: ScriptVM.Outcome
        switch task {
        case .onstart(let generation):
            guard generation == vm.generation, vm.host.registered["homeserver"]?.functions.contains("onstart") ?? false else { return }
            outcome = vm.invoke("__call", ["", "{}", "homeserver", "onstart", "", ""], what: "homeserver.onstart")
            attribute(outcome, script: vm.host.registered["homeserver"]?.script, vm: vm)
        case .countdown(let entry):
            defer { core.countdowns.finished(entry); vm.sweepRetired() }
            let what = "countdown \"\(entry.name)\""
            switch entry.kind {
            case .named(let fn, let arg):
                outcome = vm.invoke("__runNamed", [entry.name, fn, arg], what: what)
            case .closure(_, let epoch) where epoch == vm.epoch:
                outcome = vm.invoke("__fireTimer", [entry.name], what: what)
            case .closure(_, let epoch):
                // Set before a script upload: it fires on the generation that set it.
                guard let o = vm.invokeRetired(epoch: epoch, "__fireTimer", [entry.name], what: what) else { return }
                if case .stopped(let e) = o { core.report(e); stats.add(.vmsReplaced); return }
                outcome = o
            }
            attribute(outcome, script: nil, vm: vm)        case .thread(let fn, let json):
            outcome = vm.invoke("__runThread", [fn, json], what: "thread \"\(fn)\"")
            attribute(outcome, script: nil, vm: vm)
        case .pluginEvent(let name, let event, let json):
            let key = "plugin/" + name, fn = "on" + event
            guard let reg = vm.host.registered[key], reg.functions.contains(fn) else { return }
            outcome = vm.invoke("__pluginEvent", [key, fn, json], what: key + "." + fn)
            attribute(outcome, script: reg.script, vm: vm)
        }
    }

    private func attribute(_ outcome: ScriptVM.Outcome, script: String?, vm: ScriptVM) {
        switch outcome {
        case .returned: return
        case .threw(var e):
            if e.script == nil { e.script = script }
            core.report(e)
        case .stopped(var e):
            if e.script == nil { e.script = script }
            core.report(e)
            stats.add(.vmsReplaced)
            vm.rebuild(core.scripts)
        case .cancelled(nil): return
        case .cancelled(var e?):
            if e.script == nil { e.script = script }
            core.report(e)
            vm.rebuild(core.scripts)
        }
    }

    // MARK: plugins

    /// A plugin event: runs `set("plugin/<name>").on<event>(data)` on a free VM.
    /// False when too many tasks are waiting already.
    @discardableResult
    public func pluginEvent(plugin: String, event: String, data: JSON) -> Bool {
        dispatcher.enqueue(.pluginEvent(plugin: plugin, event: event, dataJSON: data.text))
    }

    /// The plugin catalog changed: every VM is rebuilt before its next job, so
    /// `plugin.<name>` shows what is there now.
    public func pluginsChanged() { core.bumpPluginEpoch() }

    /// The plugins behind `plugin.<name>.<method>` (also for `POST /v1/plugins`).
    public var plugins: PluginHost? { core.plugins }

    // MARK: devices, groups, scripts

    @discardableResult
    public func define(_ def: DeviceDefinition) -> HomeState.DefineOutcome {
        state.define(def, now: clock.nowMillis()).outcome
    }

    /// Deletes a device (SPEC §5 `DELETE /v1/devices/<id>`): gone from the
    /// state, and from every group that listed it. Its queued events find it
    /// gone and apply nothing. Returns the new group set, for the caller to
    /// save; nil when the device was unknown.
    public func removeDevice(_ id: String) -> [GroupDefinition]? {
        guard state.remove(id) else { return nil }
        let groups = state.groups.groups.map { g -> GroupDefinition in
            var g = g
            g.devices.removeAll { $0 == id }
            return g
        }
        // The same groups minus a device cannot gain a cycle or an unknown member.
        if let graph = try? GroupGraph(groups, knownDevices: state.deviceIds) { state.setGroups(graph) }
        return groups
    }

    public func setGroups(_ groups: [GroupDefinition]) throws(ModelError) {
        state.setGroups(try GroupGraph(groups, knownDevices: state.deviceIds))
    }

    /// Compiles and loads a script set in a scratch VM; the errors it met.
    public func validate(_ set: ScriptSet) -> [ScriptError] { check(set).errors }

    /// What loading a set in a scratch VM found: the errors, and the warnings
    /// for handlers that can never run against today's devices, groups and
    /// plugins (SPEC §5).
    public struct ScriptCheck: Sendable {
        public var errors: [ScriptError]
        public var warnings: [ScriptWarning]
    }

    public func check(_ set: ScriptSet) -> ScriptCheck {
        let scratch = ScriptVM(index: -1, core: core)
        scratch.host.muted = true
        scratch.host.registrations = []
        let errors = scratch.rebuild(set)
        let live = state.allLive()
        let linter = ScriptLinter(devices: Dictionary(live.map { ($0.id, $0.definition.properties.map(\.name)) }, uniquingKeysWith: { a, _ in a }),
                                  deviceOrder: live.map(\.id), groups: state.groups.groups.map(\.id),
                                  plugins: (core.plugins?.catalog() ?? []).map(\.name), files: set.files)
        return ScriptCheck(errors: errors, warnings: linter.warnings(scratch.host.registrations ?? []))
    }

    /// The warnings the scripts had at start-up (also in the log).
    public private(set) var startWarnings: [ScriptWarning] = []

    /// A script generation that was switched in, with its warnings.
    public struct ScriptReload: Sendable {
        public var generation: Int
        public var warnings: [ScriptWarning]
    }

    /// Makes `files` the next script generation if every file loads; runs in
    /// progress finish on the old generation, new runs take the new one.
    public func replaceScripts(_ files: [ScriptFile], commit: ((ScriptSet) throws -> Void)? = nil) -> Result<Int, ScriptError> {
        reloadScripts(files, commit: commit).map(\.generation)
    }

    /// `replaceScripts`, also answering the new set's warnings.
    public func reloadScripts(_ files: [ScriptFile], commit: ((ScriptSet) throws -> Void)? = nil) -> Result<ScriptReload, ScriptError> {
        scriptsLock.withLock {
            let set = ScriptSet(generation: core.scripts.generation + 1, files: files)
            let checked = check(set)
            if let first = checked.errors.first { return .failure(first) }
            do { try commit?(set) } catch {
                return .failure(ScriptError(script: nil, line: nil, message: "cannot save the scripts: \(error)"))
            }
            core.scripts = set
            dispatcher.enqueue(.onstart(generation: set.generation))
            for w in checked.warnings { Log.info("script warning: \(w.description)") }
            return .success(ScriptReload(generation: set.generation, warnings: checked.warnings))
        }
    }

    // MARK: status

    public var uptimeSeconds: Double { Double(monotonicNanos() - startedAt) / 1e9 }
    public var vmsBusy: Int { dispatcher.busyWorkers }
}
