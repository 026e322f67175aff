import AutoHome
import AutoHomeSupport
import FuzzDriver
import Glibc

/// libFuzzer harness: an event body through the engine's front door, the way
/// POST /v1/devices/<id>/events and PUT (commands) take it: JSON parser,
/// `EventManager.parseProperties`, `submit` (validation and `Coercion` against
/// a definition with every type and mode), the ring, and a run with a script
/// handler on a real MuJS VM. The first byte picks the origin (bit 0: device
/// report or owner command) and the device (bit 1 clear: the fixed one below;
/// set: the body is `{"device": <definition>, "properties": [...]}`, the
/// definition is registered first, under the id "fz", and the event goes to
/// it), the rest is the body.
///
/// Checked beyond "no crash": nothing is stored when submit refuses; what is
/// accepted is stored the way SPEC §1 says (dials clamped into [min, max],
/// text at most 1024 bytes, switches and buttons as flags).
final class EventBench: @unchecked Sendable {
    static let shared = EventBench()
    let engine: EventManager
    let slot: Int
    let lock = Lock(), cond = Condition()
    var done = false
    var result: EventResult?

    static let device = DeviceDefinition(id: "dev", name: "Fuzzed device", properties: [
        PropertyDefinition(name: "sw", type: .switch),
        PropertyDefinition(name: "btn", type: .button),
        PropertyDefinition(name: "dial", type: .dial, min: -50, max: 50),
        PropertyDefinition(name: "txt", type: .text),
        PropertyDefinition(name: "ro", type: .dial, mode: .readOnly, min: 0, max: 1),
        PropertyDefinition(name: "wo", type: .switch, mode: .writeOnly),
        PropertyDefinition(name: "win", type: .dial, repeatWindowMs: 50),
    ])

    // Handlers that read the values (so they cross into MuJS and back) and
    // sometimes stop or prevent, so every branch of a run is reached.
    static let script = """
    set("dev", {
      sw_ontrigger: function (p) { return p.value ? home.continueProcessing : home.groupProcessing; },
      dial_onchange: function (v, p) { if (v > 40) return home.preventUpdate; console.log("dial " + v); },
      txt_ontrigger: function (p) { if (p.value.length > 10) return home.stopProcessing; }
    });
    """

    init() {
        var config = Config()
        config.vms = 1
        config.ringSize = 4
        config.devices = [EventBench.device]
        let set = ScriptSet(generation: 1, files: [ScriptFile(name: "fuzz.js", source: EventBench.script)])
        engine = EventManager(config: config, scripts: set, clock: SystemClock())
        do { try engine.start() } catch { fatalError("engine start: \(error)") }
        engine.waitIdle()
        slot = engine.state.slot(of: "dev")!
    }

    func submitAndWait(_ props: [(name: String, value: JSON)], to device: String, origin: EventOrigin) -> Result<EventResult, SubmitError> {
        lock.withLock { done = false; result = nil }
        let r = engine.submit(deviceId: device, properties: props, origin: origin) { [self] res in
            lock.withLock { result = res; done = true; cond.signal() }
        }
        switch r {
        case .failure(let e): return .failure(e)
        case .success:
            return .success(lock.withLock { () -> EventResult in
                while !done { cond.wait(lock) }
                return result!
            })
        }
    }
}

func check(_ value: PropertyValue, against def: PropertyDefinition, _ what: String) {
    switch (def.type, value) {
    case (.switch, .flag), (.button, .flag): return
    case (.dial, .number(let d)):
        if !(d >= def.min && d <= def.max) { fatalError("\(what): dial \(def.name) = \(d) outside [\(def.min), \(def.max)]") }
    case (.text, .text(let s)):
        if s.utf8.count > Coercion.maxTextBytes { fatalError("\(what): text \(def.name) is \(s.utf8.count) bytes") }
    default: fatalError("\(what): \(def.name) (\(def.type)) holds \(value)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEvent(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bench = EventBench.shared
    let origin: EventOrigin = data[0] & 1 == 0 ? .device : .command
    guard let body = try? JSON.parse(bytes: UnsafeBufferPointer(start: data + 1, count: size - 1)) else { return 0 }
    var device = EventBench.device
    if data[0] & 2 != 0 {
        // A definition of the input's own, registered as "fz" (replacing the
        // previous input's), as POST /v1/devices would.
        guard var def = body["device"].flatMap({ try? DeviceDefinition.decode($0) }) else { return 0 }
        def.id = "fz"
        bench.engine.define(def)
        device = def
    }
    guard let slot = bench.engine.state.slot(of: device.id) else { fatalError("device \(device.id) not defined") }
    let props: [(name: String, value: JSON)]
    do throws(SubmitError) { props = try EventManager.parseProperties(body) } catch {
        if error.description.isEmpty { fatalError("parseProperties refused without saying why") }
        return 0
    }
    let before = bench.engine.state.live(slot: slot)
    switch bench.submitAndWait(props, to: device.id, origin: origin) {
    case .failure(let e):
        if e.description.isEmpty { fatalError("submit refused without saying why") }
        let after = bench.engine.state.live(slot: slot)
        if after !== before { fatalError("a refused event changed the device: \(e)") }
    case .success(let result):
        let live = bench.engine.state.live(slot: slot)
        for (i, def) in device.properties.enumerated() { check(live.values[i], against: def, "stored") }
        for a in result.applied {
            guard let def = device.properties.first(where: { $0.name == a.name }) else {
                fatalError("applied an unknown property \(a.name)")
            }
            if def.type == .dial, let d = a.value.numberValue, !(d >= def.min && d <= def.max) {
                fatalError("applied dial \(def.name) = \(d) outside [\(def.min), \(def.max)]")
            }
        }
    }
    return 0
}

@main
struct FuzzEventMain {
    static func main() {
        exit(fuzz_driver_run(CommandLine.argc, CommandLine.unsafeArgv, { fuzzEvent($0, $1) }))
    }
}
