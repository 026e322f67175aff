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

    deinit { if let raw { jsg_free(raw) } }

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
        if let raw { jsg_free(raw) }
        raw = nil
        epoch += 1
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
