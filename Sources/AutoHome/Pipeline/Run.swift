import AutoHomeSupport

/// One event through the seed's three steps (SPEC §2.5) on one VM:
/// repeat windows, then ontrigger, groups, onchange, and the writes.
final class Run {
    private struct Item {
        let index: Int
        let name: String
        let value: PropertyValue
        let changed: Bool
        var dropped = false
    }

    private let core: EngineCore
    private let vm: ScriptVM
    private let scripts: ScriptSet
    private let seq: UInt64
    private let slot: Int
    private let event: DecodedEvent
    private let arrivedAt: Int64
    private var result: EventResult
    private let output: RunOutput
    private var before: DeviceVersion!
    private var items: [Item] = []
    private var eventJSON = ""
    private var previousJSON = ""
    private var sentEpoch = -1

    init(core: EngineCore, vm: ScriptVM, scripts: ScriptSet, seq: UInt64, slot: Int, event: DecodedEvent, deviceId: String,
         arrivedAt: Int64) {
        self.arrivedAt = arrivedAt
        self.core = core
        self.vm = vm
        self.scripts = scripts
        self.seq = seq
        self.slot = slot
        self.event = event
        self.result = EventResult(seq: seq, deviceId: deviceId)
        self.output = RunOutput(seq: seq)
    }

    /// Runs the event; the result holds what its handlers logged and sent.
    func execute() -> EventResult {
        let snapshot = core.state.openSnapshot()
        vm.host.snapshot = snapshot
        vm.host.output = output
        steps(snapshot)
        vm.host.snapshot = nil
        vm.host.output = nil
        snapshot.close()
        result.logs = output.logs
        result.actions = output.actions
        return result
    }

    private func steps(_ snapshot: Snapshot) {
        guard let before = snapshot.device(result.deviceId) else {
            result.errors.append(ScriptError(script: nil, line: nil, message: "device \"\(result.deviceId)\" no longer exists"))
            return
        }
        self.before = before
        // Property windows count from the event's arrival (SPEC §1: "a value
        // arriving before then"); a group's window from when its handler runs.
        admit(now: arrivedAt)
        let now = core.clock.nowMillis()
        if items.isEmpty { return }

        let deviceKey = result.deviceId
        var skipGroups = false
        var stopHandlers = false

        // Step 1: ontrigger for every property, in event order.
        for k in items.indices {
            switch call(deviceKey, items[k].name + "_ontrigger", property: items[k].name) {
            case .groupProcessing?: skipGroups = true
            case .stopProcessing?: skipGroups = true; stopHandlers = true
            case .preventUpdate?: items[k].dropped = true
            default: break
            }
        }

        // Step 2: groups, nearest first, only when something changed.
        var preventAll = false
        let changed = items.filter { $0.changed && !$0.dropped }
        if !changed.isEmpty && !skipGroups && !stopHandlers {
            let changes = changed.map(\.name).joined(separator: ",")
            for group in snapshot.groups.ancestors(ofDevice: deviceKey) {
                let key = "group/" + group.id
                guard hasHandler(key, "onchange"), core.state.passGroupWindow(group, now: now) else { continue }
                let code = call(key, "onchange", property: "", changes: changes)
                if code == .groupProcessing { break }
                if code == .stopProcessing { stopHandlers = true; break }
                if code == .preventUpdate { preventAll = true; break }
            }
        }

        // Step 3: onchange, then the write, for each changed property.
        var commandAction: [(name: String, value: JSON)] = []
        for item in items {
            if item.dropped { result.skipped.append((item.name, "prevented")); continue }
            if !item.changed { result.skipped.append((item.name, "unchanged")); continue }
            if preventAll { result.skipped.append((item.name, "prevented")); continue }
            if !stopHandlers {
                let code = call(deviceKey, item.name + "_onchange", property: item.name)
                if code == .stopProcessing { stopHandlers = true }
                if code == .preventUpdate { result.skipped.append((item.name, "prevented")); continue }
            }
            let t = core.clock.nowMillis()
            let version = core.state.commit(slot: slot, [(item.index, item.value)], time: t)
            core.events.valuesCommitted(device: version, changes: [(item.name, item.value)], time: t)
            result.applied.append((item.name, item.value.json))
            if event.origin == .command && before.schema.property(item.index).mode.mayCommand {
                commandAction.append((item.name, item.value.json))
            }
        }
        if !commandAction.isEmpty {
            let action = DeviceAction(deviceId: deviceKey, properties: commandAction, seq: seq)
            output.actions.append(action)
            core.events.actionSent(action)
        }
    }

    /// Resolves the event's properties against the snapshot and applies the
    /// repeat windows.
    private func admit(now: Int64) {
        var overrides: [(Int, PropertyValue)] = []
        var previous = JSONObjectBuilder()
        for p in event.properties {
            guard let i = before.schema.propertyIndex(p.name), sameKind(before.schema.property(i).type, p.value) else {
                // The device was redefined between admission and processing.
                result.skipped.append((p.name, "redefined"))
                continue
            }
            guard core.state.passRepeatWindow(slot: slot, property: i, now: now) else {
                result.skipped.append((p.name, "repeat-window"))
                continue
            }
            let type = before.schema.property(i).type
            let changed = type == .button || !p.value.sameState(as: before.values[i])
            items.append(Item(index: i, name: p.name, value: p.value, changed: changed))
            overrides.append((i, p.value))
            previous.add(p.name, before.values[i].json)
        }
        var values = before.values
        for (i, v) in overrides { values[i] = v }
        eventJSON = viewJSON(before, values: values).text
        previousJSON = previous.json.text
    }

    private func sameKind(_ t: PropertyType, _ v: PropertyValue) -> Bool {
        switch v {
        case .flag: return t.isFlag
        case .number: return t == .dial
        case .text: return t == .text
        }
    }

    private func viewJSON(_ v: DeviceVersion, values: [PropertyValue]) -> JSON {
        var o = JSONObjectBuilder()
        o.add("id", v.definition.id)
        o.add("name", v.definition.name)
        o.addIfPresent("description", v.definition.description)
        o.add("properties", .array(v.definition.properties.enumerated().map { i, p in p.viewJSON(value: values[i]) }))
        return o.json
    }

    private func hasHandler(_ key: String, _ fn: String) -> Bool {
        vm.host.registered[key]?.functions.contains(fn) ?? false
    }

    /// Calls one handler if this VM has it. nil: no handler. A throw or a stop
    /// is reported and counts as continueProcessing (SPEC §2.7, §2.8).
    private func call(_ key: String, _ fn: String, property: String, changes: String = "") -> ReturnCode? {
        guard let reg = vm.host.registered[key], reg.functions.contains(fn) else { return nil }
        let fresh = vm.epoch != sentEpoch
        sentEpoch = vm.epoch
        let outcome = vm.invoke("__call", [fresh ? eventJSON : "", fresh ? previousJSON : "{}", key, fn, property, changes],
                                what: key + "." + fn)
        switch outcome {
        case .returned(let text):
            if text == "-1" { return nil }
            return ReturnCode(returned: text)
        case .threw(var e):
            if e.script == nil { e.script = reg.script }
            record(e)
            return .continueProcessing
        case .stopped(var e):
            e.script = reg.script
            record(e)
            core.stats.add(.vmsReplaced)
            vm.rebuild(scripts)
            return .continueProcessing
        case .cancelled(nil):
            return nil   // the engine is stopping: handlers no longer run, values are still written
        case .cancelled(var e?):
            // The engine is stopping and cut this call short.
            e.script = reg.script
            record(e)
            vm.rebuild(scripts)
            return .continueProcessing
        }
    }

    private func record(_ e: ScriptError) {
        var e = e
        e.seq = seq
        result.errors.append(e)
        core.report(e)
    }
}
