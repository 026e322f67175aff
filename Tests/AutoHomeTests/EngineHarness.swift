import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Collects what an engine emits, for assertions.
final class Collector: EngineObserver, @unchecked Sendable {
    let lock = Lock()
    var logs: [String] = []
    var errors: [ScriptError] = []
    var actions: [DeviceAction] = []
    func scriptLogged(_ log: ScriptLog) { lock.withLock { logs.append(log.message) } }
    func scriptFailed(_ error: ScriptError) { lock.withLock { errors.append(error) } }
    func actionSent(_ action: DeviceAction) { lock.withLock { actions.append(action) } }
}

/// Builds a real engine (real MuJS VMs on the system clock) for a test.
extension XCTestCase {
    func makeEngine(_ scripts: [String: String], vms: Int = 2, timeoutMs: Int = 1000, wallMs: Int? = nil, devices: Int = 2,
                    memory: Int = 16 << 20, ring: Int = 64) throws -> (EventManager, Collector) {
        var config = Config()
        config.vms = vms
        config.scriptTimeoutMs = timeoutMs
        config.scriptWallTimeoutMs = wallMs
        config.vmMemoryBytes = memory
        config.ringSize = ring
        config.devices = (0..<devices).map {
            DeviceDefinition(id: "d\($0)", name: "D\($0)", properties: [PropertyDefinition(name: "n", type: .dial, min: 0, max: 1e9)])
        }
        let set = ScriptSet(generation: 1, files: scripts.map { ScriptFile(name: $0.key, source: $0.value) })
        let c = Collector()
        let e = EventManager(config: config, scripts: set, clock: SystemClock(), observers: [c])
        try e.start()
        return (e, c)
    }

    func send(_ e: EventManager, _ device: String, _ n: Double) -> EventResult? {
        let box = ResultBox()
        let sem = DispatchSemaphoreLite()
        guard case .success = e.submit(deviceId: device, properties: [("n", .number(n))], completion: { box.set($0); sem.signal() }) else { return nil }
        sem.wait()
        return box.get()
    }
}

/// A tiny semaphore over Lock/Condition (the library is Foundation-free).
final class DispatchSemaphoreLite: @unchecked Sendable {
    private let lock = Lock(), cond = Condition()
    private var count = 0
    func signal() { lock.withLock { count += 1; cond.signal() } }
    func wait() { lock.withLock { while count == 0 { cond.wait(lock) }; count -= 1 } }
}
