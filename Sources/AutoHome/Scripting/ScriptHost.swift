#if canImport(Glibc)
import Glibc
#endif
import CJSGuard
import AutoHomeSupport

/// The natives behind the prelude's `__n_*` functions, for one VM. Arguments
/// and results are strings (JSON text for values); errors become JS throws.
final class ScriptHost {
    enum Native: Int32, CaseIterable {
        case registered, log, device, deviceByName, devices, devicesStartName, devicesInGroup, isInGroup, group,
             latest, history, set, countdown, setGlobal, getGlobal, sleep, thread, plugins, plugin, countdowns

        var jsName: String { "__n_\(self)" }
    }

    unowned let core: EngineCore
    let vmIndex: Int
    var generation = -1
    weak var vm: ScriptVM?
    /// What the current run sees; natives outside a run open their own.
    var snapshot: Snapshot?
    /// The current run's logs and actions (nil outside a run).
    var output: RunOutput?
    /// Set while a VM loads scripts it is not the first to load: top-level
    /// logs and device writes happen once, not once per VM.
    var muted = false
    /// Set while the VM runs scripts' top level: `home.sleep` does nothing
    /// there (SPEC §4), so loading (an upload, a VM rebuild) never waits.
    var loading = false
    /// Handlers each `set(key, …)` registered in this VM: lets a run skip the
    /// call (and building its arguments) when no handler exists.
    var registered: [String: (script: String, functions: Set<String>)] = [:]
    /// Every `set()` call in load order, kept only by a scratch VM that
    /// checks a set for warnings (nil: not kept).
    var registrations: [Registration]?
    /// The VM state running now: the live one, or a retired one firing a
    /// closure countdown (`ScriptVM.retired`). Countdowns set now belong to it.
    var currentEpoch = -1
    var inRetired = false

    init(core: EngineCore, vmIndex: Int) {
        self.core = core
        self.vmIndex = vmIndex
    }

    private func withSnapshot<T>(_ body: (Snapshot) -> T) -> T {
        if let s = snapshot { return body(s) }
        let s = core.state.openSnapshot()
        defer { s.close() }
        return body(s)
    }

    func call(_ native: Native, _ args: [String?]) -> Result<String?, ModelError> {
        func arg(_ i: Int) -> String { i < args.count ? (args[i] ?? "") : "" }
        switch native {
        case .registered:
            // A retired VM's set() calls must not change what the live one has.
            if inRetired { return .success(nil) }
            let functions = arg(1).split(separator: ",").map(String.init)
            registered[arg(0)] = (arg(2), Set(functions))
            registrations?.append(Registration(key: arg(0), script: arg(2), functions: functions))
            return .success(nil)
        case .log:
            if muted { return .success(nil) }
            let level = LogLevel(name: arg(1)) ?? .info
            let log = ScriptLog(script: arg(0), level: level, message: arg(2), seq: output?.seq)
            output?.logs.append(log)
            core.events.scriptLogged(log)
            return .success(nil)
        case .device:
            return .success(withSnapshot { $0.device(arg(0))?.viewJSON().text })
        case .deviceByName:
            return .success(withSnapshot { s in s.devices().first { $0.definition.name == arg(0) }?.viewJSON().text })
        case .devices:
            return .success(withSnapshot { JSON.array($0.devices().map { $0.viewJSON() }).text })
        case .devicesStartName:
            let prefix = arg(0)
            return .success(withSnapshot { s in
                JSON.array(s.devices().filter { $0.definition.name.hasPrefix(prefix) }.map { $0.viewJSON() }).text
            })
        case .devicesInGroup:
            return .success(withSnapshot { s in
                guard let ids = s.groups.devices(inGroup: arg(0)) else { return nil }
                return JSON.array(ids.compactMap { s.device($0)?.viewJSON() }).text
            })
        case .isInGroup:
            return .success(withSnapshot { $0.groups.isDevice(arg(0), inGroup: arg(1)) ? "true" : "false" })
        case .group:
            return .success(withSnapshot { $0.groups.group(arg(0))?.json.text })
        case .latest:
            guard let v = core.state.live(arg(0))?.value(arg(1)) else { return .success(nil) }
            return .success(v.json.text)
        case .history:
            let n = Int(Double(arg(2)) ?? 16)
            let points = core.state.history(arg(0), property: arg(1), newest: max(0, n)) ?? []
            return .success(JSON.array(points.map(\.json)).text)
        case .set:
            if muted { return .success(nil) }
            let value: JSON
            do { value = try JSON.parse(arg(2)) } catch { return .failure(ModelError("device.set: \(error.description)")) }
            do {
                let action = try core.scriptSet(deviceId: arg(0), property: arg(1), value: value, seq: output?.seq)
                output?.actions.append(action)
            } catch { return .failure(error) }
            return .success(nil)
        case .countdown:
            let seconds = Double(arg(1)) ?? 0
            guard seconds.isFinite, seconds <= 7 * 86_400 else {
                return .failure(ModelError("home.countdown: seconds must be a number up to one week"))
            }
            guard vmIndex >= 0 else { return .success(nil) }
            // args: name, seconds, "f" (closure in this VM's __timers) or "n" + function name + JSON argument
            let kind: Countdowns.Kind
            if arg(2) == "n" {
                guard Identifiers.isValidPropertyName(arg(3).replacingDollar()) else {
                    return .failure(ModelError("home.countdown: \"\(arg(3))\" is not a function name"))
                }
                kind = .named(function: arg(3), argumentJSON: args.count > 4 ? arg(4) : "null")
            } else {
                kind = .closure(vm: vmIndex, epoch: currentEpoch)
            }
            core.countdowns.schedule(name: arg(0), seconds: seconds, now: core.clock.nowMillis(), kind: kind)
            return .success(nil)
        case .countdowns:
            let now = core.clock.nowMillis()
            return .success(JSON.array(core.countdowns.list(now: now).map {
                .object([("name", .string($0.name)), ("dueInSeconds", .number($0.dueInSeconds))])
            }).text)
        case .setGlobal:
            do { try core.globals.set(arg(0), json: arg(1)) } catch { return .failure(error) }
            return .success(nil)
        case .getGlobal:
            return .success(core.globals.get(arg(0)))
        case .sleep:
            // Capped at 5 s (SPEC §4). The wait does not use the call's
            // scriptTimeoutMs budget but counts against scriptWallTimeoutMs,
            // and the watchdog cuts it short when it stops the call. A no-op
            // at a script's top level and on replay's virtual clock.
            let asked = Double(arg(0)) ?? 0
            let seconds = asked.isNaN ? 0 : min(max(asked, 0), 5)
            if !loading, !core.clock.isVirtual, seconds > 0 {
                vm?.sleep(ms: Int(seconds * 1000))
            }
            return .success(nil)
        case .plugins, .plugin:
            return pluginNative(native, arg)
        case .thread:
            if muted { return .success(nil) }
            guard core.postThread?(arg(0), arg(1)) ?? false else {
                return .failure(ModelError("thread(): too many threads waiting for a VM"))
            }
            return .success(nil)
        }
    }

    /// `__n_plugins()`: the catalog; `__n_plugin(name, method, argsJSON)`: one call.
    private func pluginNative(_ native: Native, _ arg: (Int) -> String) -> Result<String?, ModelError> {
        guard native == .plugin else {
            return .success(JSON.array((core.plugins?.catalog() ?? []).map(\.json)).text)
        }
        let name = arg(0), method = arg(1)
        guard let host = core.plugins else { return .failure(ModelError("plugin.\(name): no plugins are configured")) }
        let args: [JSON]
        do { args = try JSON.parse(arg(2)).arrayValue ?? [] } catch { return .failure(ModelError("plugin.\(name).\(method): \(error.description)")) }
        // The wait is not script work: it does not use scriptTimeoutMs, but it
        // counts against scriptWallTimeoutMs, so it is cut to what is left of
        // that (plus a little, so the watchdog's stop lands first and is the
        // one reported). A stop that comes meanwhile lands as this returns.
        let outcome: Result<JSON, PluginError>?
        if let vm {
            outcome = vm.waiting { left -> Result<JSON, PluginError>? in
                if left == 0 { return nil }
                let timeout = left.map { min(core.pluginTimeoutMs, $0 + 50) } ?? core.pluginTimeoutMs
                return host.call(plugin: name, method: method, arguments: args, timeoutMs: timeout)
            }
        } else {
            outcome = host.call(plugin: name, method: method, arguments: args, timeoutMs: core.pluginTimeoutMs)
        }
        switch outcome {
        case .success(let result)?: return .success(result == .null ? nil : result.text)
        case .failure(let e)?: return .failure(ModelError("plugin.\(name).\(method): \(e.message)"))
        case nil: return .failure(ModelError("plugin.\(name).\(method): the call is being stopped"))
        }
    }

    /// The C entry point MuJS natives reach through jsguard.
    static let entry: jsg_native_fn = { hostPtr, fnId, argc, argv, result, error in
        let host = Unmanaged<ScriptHost>.fromOpaque(hostPtr!).takeUnretainedValue()
        guard let native = Native(rawValue: fnId) else { return 1 }
        var args: [String?] = []
        args.reserveCapacity(Int(argc))
        for i in 0..<Int(argc) { args.append(argv![i].map { String(cString: $0) }) }
        switch host.call(native, args) {
        case .success(let text):
            if let text { result!.pointee = strdup(text) }
            return 0
        case .failure(let e):
            error!.pointee = strdup(e.message)
            return 1
        }
    }
}

private extension String {
    /// JS identifiers may hold `$`; property names may not. Good enough to
    /// refuse what can never name a global function.
    func replacingDollar() -> String { String(map { $0 == "$" ? "_" : $0 }) }
}
