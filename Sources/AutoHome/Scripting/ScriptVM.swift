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
            if !isSpent && index >= 0 && core.countdowns.holdsClosures(vm: index, epoch: epoch) {
                retired.append((epoch, old))
                if retired.count > ScriptVM.maxRetired { dropRetired(at: 0, reason: "more than \(ScriptVM.maxRetired) script uploads ago") }
            } else {
                jsg_free(old)
                if isSpent && index >= 0 { logLost(core.countdowns.dropClosures(vm: index, epoch: epoch), reason: "its VM was stopped as a runaway") }
            }
        }
        raw = nil
        epoch += 1
        host.currentEpoch = epoch
        host.registered = [:]
        host.generation = set.generation
        generation = set.generation
        pluginEpoch = core.pluginEpoch
        let hostPtr = Unmanaged.passUnretained(host).toOpaque()
        guard let vm = jsg_new(core.vmMemoryBytes, hostPtr, ScriptHost.entry) else {
            return [ScriptError(script: nil, line: nil, message: "cannot create a JavaScript VM")]
        }
        raw = vm
        for n in ScriptHost.Native.allCases { jsg_define_native(vm, n.jsName, n.rawValue) }
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
        let rc = jsg_load(raw, name, source, UInt32(core.scriptTimeoutMs), &err)
        defer { free(err) }
        switch rc {
        case Int32(JSG_OK): return nil
        case Int32(JSG_THROWN): return ScriptError.fromMuJS(err.map { String(cString: $0) } ?? "error", fallbackScript: name)
        case Int32(JSG_TIMEOUT):
            return ScriptError(script: name, line: nil, message: "stopped: its top level ran longer than \(core.scriptTimeoutMs) ms")
        default:
            return ScriptError(script: name, line: nil, message: "stopped: it used more than \(core.vmMemoryBytes) bytes")
        }
    }

    /// Calls a global function with string arguments under the watchdog.
    /// `what` names the call in a stop message; built only when needed.
    func invoke(_ fn: String, _ args: [String], what: @autoclosure () -> String) -> Outcome {
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
            jsg_invoke(raw, fn, Int32(args.count), buf.baseAddress, UInt32(core.scriptTimeoutMs), &result, &err)
        }
        defer { free(result); free(err) }
        switch rc {
        case Int32(JSG_OK):
            return .returned(result.map { String(cString: $0) })
        case Int32(JSG_THROWN):
            return .threw(ScriptError.fromMuJS(err.map { String(cString: $0) } ?? "error"))
        case Int32(JSG_TIMEOUT):
            return .stopped(ScriptError(script: nil, line: nil, message: "\(what()) stopped: ran longer than \(core.scriptTimeoutMs) ms (scriptTimeoutMs)"))
        default:
            return .stopped(ScriptError(script: nil, line: nil, message: "\(what()) stopped: used more than \(core.vmMemoryBytes) bytes (vmMemoryBytes)"))
        }
    }

    func extendDeadline(ms: Int) { if let raw { jsg_extend_deadline(raw, UInt32(ms)) } }
}
