#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// `make bench`: figures for the engine (no network): events/s with a trivial
/// handler, CPU µs per event, the per-event cost with 10 vs 1000 devices
/// defined (the snapshot must not copy every device), and peak RSS.
/// Figures, not assertions: machines here are shared and noisy.

/// A bench script must not throw; say so loudly if it does.
final class ErrorPrinter: EngineObserver, @unchecked Sendable {
    func scriptFailed(_ error: ScriptError) { fputs("script error: \(error)\n", stderr) }
}

struct Figures {
    var events: Int
    var wallSeconds: Double
    var cpuSeconds: Double
    var eventsPerSecond: Double { Double(events) / wallSeconds }
    var cpuMicrosPerEvent: Double { cpuSeconds * 1e6 / Double(events) }
}

func peakRSSKiB() -> Int {
    guard let text = try? Files.readText("/proc/self/status") else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
    return 0
}

/// Sends `count` events round-robin over the first `targets` devices of an
/// engine with `devices` devices, each with a trivial onchange handler.
func run(devices: Int, targets: Int, count: Int, vms: Int, handlersOnAll: Bool = false) throws -> Figures {
    var config = Config()
    config.vms = vms
    config.ringSize = 1024
    config.devices = (0..<devices).map {
        DeviceDefinition(id: "dev\($0)", name: "Device \($0)", properties: [
            PropertyDefinition(name: "level", type: .dial, min: 0, max: 1e12),
            PropertyDefinition(name: "power", type: .switch),
        ])
    }
    // Handlers on the target devices only, unless asked: then the VM heap
    // grows with the device count too (that is the scripts' cost, not the
    // engine's, and is reported separately).
    let script = """
        var n = 0;
        home.getDevices().forEach(function (d, i) {
          if (\(handlersOnAll) || i < \(targets)) set(d.id, { level_onchange: function (v, p) { n++; } });
        });
        """
    let engine = EventManager(config: config, scripts: ScriptSet(generation: 1, files: [ScriptFile(name: "bench.js", source: script)]),
                              clock: SystemClock(), observers: [ErrorPrinter()])
    try engine.start()
    engine.waitIdle()
    let ids = (0..<targets).map { "dev\($0)" }
    let cpu0 = processCPUNanos(), t0 = monotonicNanos()
    var sent = 0
    while sent < count {
        let r = engine.submit(deviceId: ids[sent % targets], properties: [("level", .number(Double(sent + 1)))])
        switch r {
        case .success: sent += 1
        case .failure(.busy): usleep(200)   // ring full: let the workers drain it (a spin would count as event CPU)
        case .failure(let e): fatalError("bench event rejected: \(e)")
        }
    }
    engine.waitIdle()
    let wall = Double(monotonicNanos() - t0) / 1e9, cpu = Double(processCPUNanos() - cpu0) / 1e9
    engine.stop()
    return Figures(events: count, wallSeconds: wall, cpuSeconds: cpu)
}

func fmt(_ d: Double, _ digits: Int = 1) -> String {
    var s = String(Int((d * pow(10, Double(digits))).rounded()))
    while s.count <= digits { s = "0" + s }
    if digits == 0 { return s }
    let i = s.index(s.endIndex, offsetBy: -digits)
    return s[..<i] + "." + s[i...]
}

let args = Array(CommandLine.arguments.dropFirst())
// `--one DEVICES COUNT`: a single 1-VM run, for instruction counts under
// valgrind --tool=callgrind (repeatable where wall-clock figures are not).
if args.first == "--one", args.count == 3, let d = Int(args[1]), let n = Int(args[2]) {
    let f = try run(devices: d, targets: 10, count: n, vms: 1)
    print("\(d) devices: \(fmt(f.cpuMicrosPerEvent)) µs CPU/event")
    exit(0)
}
let count = Int(args.first ?? "") ?? 40_000
do {
    print("auto-home engine bench (\(count) events, trivial onchange handler)")
    _ = try run(devices: 10, targets: 10, count: 2000, vms: 4)   // warm-up
    let four = try run(devices: 10, targets: 10, count: count, vms: 4)
    print("  4 VMs, 10 devices:   \(fmt(four.eventsPerSecond, 0)) events/s, \(fmt(four.cpuMicrosPerEvent)) µs CPU/event")
    let one = try run(devices: 10, targets: 10, count: count, vms: 1)
    print("  1 VM,  10 devices:   \(fmt(one.eventsPerSecond, 0)) events/s, \(fmt(one.cpuMicrosPerEvent)) µs CPU/event")
    // Same 10 target devices; only the number of defined devices differs.
    var small: [Double] = [], large: [Double] = []
    for _ in 0..<3 {
        small.append(try run(devices: 10, targets: 10, count: count / 2, vms: 1).cpuMicrosPerEvent)
        large.append(try run(devices: 1000, targets: 10, count: count / 2, vms: 1).cpuMicrosPerEvent)
    }
    let s = small.sorted()[1], l = large.sorted()[1]
    print("  10 vs 1000 devices:  \(fmt(s)) vs \(fmt(l)) µs CPU/event (median of 3), ratio \(fmt(l / s, 2))x (target <= 1.2x)")
    let all = try run(devices: 1000, targets: 10, count: count / 2, vms: 1, handlersOnAll: true).cpuMicrosPerEvent
    print("  1000 devices, a handler object on every one: \(fmt(all)) µs CPU/event (bigger VM heap to collect)")
    print("  peak RSS:            \(peakRSSKiB() / 1024) MiB")
} catch {
    fputs("bench failed: \(error)\n", stderr)
    exit(1)
}
