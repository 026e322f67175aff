#if canImport(Glibc)
import Glibc
#endif
import CJSGuard
import AutoHomeSupport

/// One MuJS VM of the pool, loaded with one script generation. A VM that ran
/// away (timeout or memory cap) is spent and is rebuilt before its next job.
final class ScriptVM {
    enum Outcome {
        case returned(String?)
        case threw(ScriptError)
        case stopped(ScriptError)   // watchdog or memory cap: the VM is spent
        /// The engine is stopping: the call was cut short (with the error to
        /// report; the VM is spent) or never started (nil).
        case cancelled(ScriptError?)
    }

    let index: Int
    let host: ScriptHost
    private let core: EngineCore
    private var raw: OpaquePointer?
    private(set) var generation = -1
    /// Bumped on every rebuild: a run re-sends its device after a replacement.
    private(set) var epoch = 0

    init(index: Int, core: EngineCore) {
        self.index = index
        self.core = core
        self.host = ScriptHost(core: core, vmIndex: index)
        host.vm = self
    }

    /// Earlier states of this VM (a script upload rebuilt it) kept alive only
    /// because a closure countdown set there has not fired yet; each is freed
    /// once it holds none. Used only on this VM's worker thread.
    private(set) var retired: [(epoch: Int, raw: OpaquePointer)] = []
    /// More than this many old states per VM: the oldest goes, and its
    /// countdowns are logged as lost (memory stays bounded).
    static let maxRetired = 4

    deinit {
        if let raw { jsg_free(raw) }
        for r in retired { jsg_free(r.raw) }
    }

    var isSpent: Bool { raw.map { jsg_spent($0) != 0 } ?? true }

    /// The plugin catalog this VM's `plugin` object was built from.
    private var pluginEpoch = 0

    func needsRebuild(for set: ScriptSet, pluginEpoch: Int) -> Bool {
        raw == nil || isSpent || generation != set.generation || self.pluginEpoch != pluginEpoch
    }

    /// Builds a fresh VM: prelude, then each script file. A file that fails to
    /// load is reported and skipped; the others still load.
    @discardableResult
    func rebuild(_ set: ScriptSet) -> [ScriptError] {
        if let old = raw {
            // Read before jsg_free: `isSpent` looks into the VM.
            let spent = isSpent
            if !spent && index >= 0 && core.countdowns.holdsClosures(vm: index, epoch: epoch) {
                retired.append((epoch, old))
                if retired.count > ScriptVM.maxRetired { dropRetired(at: 0, reason: "more than \(ScriptVM.maxRetired) script uploads ago") }
            } else {
                raw = nil
                jsg_free(old)
                if spent && index >= 0 { logLost(core.countdowns.dropClosures(vm: index, epoch: epoch), reason: "its VM was stopped as a runaway") }
            }
        }
        raw = nil
        epoch += 1
        host.currentEpoch = epoch
        host.registered = [:]
        host.generation = set.generation
        generation = set.generation
        pluginEpoch = core.pluginEpoch
        // While the engine stops, a replaced VM stays empty: nothing would run.
        if core.scriptsCancelled { return [] }
        let hostPtr = Unmanaged.passUnretained(host).toOpaque()
        guard let vm = jsg_new(core.vmMemoryBytes, core.vmGroup, hostPtr, ScriptHost.entry) else {
            return [ScriptError(script: nil, line: nil, message: "cannot create a JavaScript VM")]
        }
        raw = vm
        for n in ScriptHost.Native.allCases { jsg_define_native(vm, n.jsName, n.rawValue) }
        // Top-level code: home.sleep does nothing here (SPEC §4).
        host.loading = true
        defer { host.loading = false }
        var errors: [ScriptError] = []
        if let e = load(Prelude.fileName, Prelude.source) {
            errors.append(e)
            return errors
        }
        for f in set.files {
            if let e = load(f.name, ScriptSet.loadableSource(f)) { errors.append(e) }
            if isSpent { break }
        }
        return errors
    }

    private func load(_ name: String, _ source: String) -> ScriptError? {
        guard let raw else { return ScriptError(script: name, line: nil, message: "no VM") }
        var err: UnsafeMutablePointer<CChar>?
        let rc = jsg_load(raw, name, source, UInt32(core.scriptTimeoutMs), UInt32(core.scriptWallTimeoutMs), &err)
        defer { free(err) }
        switch rc {
        case Int32(JSG_OK): return nil
        case Int32(JSG_THROWN): return ScriptError.fromMuJS(err.map { String(cString: $0) } ?? "error", fallbackScript: name)
        case Int32(JSG_TIMEOUT):
            return ScriptError(script: name, line: nil, message: "stopped: its top level ran longer than \(core.scriptTimeoutMs) ms (scriptTimeoutMs)")
        case Int32(JSG_WALL_TIMEOUT):
            return ScriptError(script: name, line: nil, message: "stopped: its top level ran longer than \(core.scriptWallTimeoutMs) ms (scriptWallTimeoutMs)")
        case Int32(JSG_CANCELLED):
            return ScriptError(script: name, line: nil, message: "not loaded: the daemon is stopping")
        default:
            return ScriptError(script: name, line: nil, message: "stopped: it used more than \(core.vmMemoryBytes) bytes")
        }
    }

    /// Calls a global function with string arguments under the watchdog.
    /// `what` names the call in a stop message; built only when needed.
    func invoke(_ fn: String, _ args: [String], what: @autoclosure () -> String) -> Outcome {
        if core.scriptsCancelled { return .cancelled(nil) }
        guard let raw else { return .stopped(ScriptError(script: nil, line: nil, message: "no VM")) }
        host.currentEpoch = epoch
        return invoke(raw, fn, args, what: what())
    }

    /// Runs `fn` in the retired state `epoch` (a closure countdown set before
    /// a script upload). nil when that state is gone.
    func invokeRetired(epoch e: Int, _ fn: String, _ args: [String], what: @autoclosure () -> String) -> Outcome? {
        guard let i = retired.firstIndex(where: { $0.epoch == e }) else { return nil }
        host.currentEpoch = e
        host.inRetired = true
        defer { host.inRetired = false; host.currentEpoch = epoch }
        let outcome = invoke(retired[i].raw, fn, args, what: what())
        if jsg_spent(retired[i].raw) != 0 { dropRetired(at: i, reason: "its VM was stopped as a runaway") }
        return outcome
    }

    /// Frees the retired states no pending closure countdown needs.
    func sweepRetired() {
        guard !retired.isEmpty else { return }
        for i in retired.indices.reversed() where !core.countdowns.holdsClosures(vm: index, epoch: retired[i].epoch) {
            jsg_free(retired[i].raw)
            retired.remove(at: i)
        }
    }

    private func dropRetired(at i: Int, reason: String) {
        let r = retired.remove(at: i)
        jsg_free(r.raw)
        logLost(core.countdowns.dropClosures(vm: index, epoch: r.epoch), reason: reason)
    }

    private func logLost(_ names: [String], reason: String) {
        for n in names {
            core.events.scriptLogged(ScriptLog(script: "countdown", level: .warn,
                                               message: "countdown \"\(n)\" is lost: \(reason) (the string form home.countdown(name, s, \"fnName\", arg) survives that)"))
        }
    }

    private func invoke(_ raw: OpaquePointer, _ fn: String, _ args: [String], what: @autoclosure () -> String) -> Outcome {
        var cargs: [UnsafePointer<CChar>?] = args.map { UnsafePointer(strdup($0)) }
        defer { for p in cargs { free(UnsafeMutablePointer(mutating: p)) } }
        var result: UnsafeMutablePointer<CChar>?
        var err: UnsafeMutablePointer<CChar>?
        let rc = cargs.withUnsafeMutableBufferPointer { buf in
            jsg_invoke(raw, fn, Int32(args.count), buf.baseAddress, UInt32(core.scriptTimeoutMs), UInt32(core.scriptWallTimeoutMs),
                       &result, &err)
        }
        defer { free(result); free(err) }
        switch rc {
        case Int32(JSG_OK):
            return .returned(result.map { String(cString: $0) })
        case Int32(JSG_THROWN):
            return .threw(ScriptError.fromMuJS(err.map { String(cString: $0) } ?? "error"))
        case Int32(JSG_TIMEOUT):
            return .stopped(ScriptError(script: nil, line: nil, message: "\(what()) stopped: ran longer than \(core.scriptTimeoutMs) ms (scriptTimeoutMs)"))
        case Int32(JSG_WALL_TIMEOUT):
            return .stopped(ScriptError(script: nil, line: nil,
                                        message: "\(what()) stopped: ran longer than \(core.scriptWallTimeoutMs) ms (scriptWallTimeoutMs)"))
        case Int32(JSG_CANCELLED):
            guard isSpent else { return .cancelled(nil) }
            return .cancelled(ScriptError(script: nil, line: nil, message: "\(what()) stopped: the daemon is stopping"))
        default:
            return .stopped(ScriptError(script: nil, line: nil, message: "\(what()) stopped: used more than \(core.vmMemoryBytes) bytes (vmMemoryBytes)"))
        }
    }

    /// `home.sleep` from a native of the running call: waits up to `ms`
    /// without using the call's budget; returns early (true) when the call is
    /// being stopped, and the stop lands as the native returns.
    /// Brackets a native's wait on something other than `home.sleep` (a
    /// plugin call): the budget does not run meanwhile. `body` gets the
    /// milliseconds left before the wall limit (nil: no limit applies, 0: the
    /// call is being stopped) and should not wait longer than that.
    func waiting<T>(_ body: (Int?) -> T) -> T {
        guard let raw else { return body(nil) }
        let left = jsg_wait_begin(raw)
        defer { jsg_wait_end(raw) }
        return body(left < 0 ? nil : Int(left))
    }

    @discardableResult
    func sleep(ms: Int) -> Bool {
        guard let raw, ms > 0 else { return false }
        return jsg_sleep(raw, UInt32(ms)) != 0
    }
}
