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

final class EngineTests: XCTestCase {
    func makeEngine(_ scripts: [String: String], vms: Int = 2, timeoutMs: Int = 1000, devices: Int = 2,
                    memory: Int = 16 << 20, ring: Int = 64) throws -> (EventManager, Collector) {
        var config = Config()
        config.vms = vms
        config.scriptTimeoutMs = timeoutMs
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

    func testOneDeviceRunsInOrderWhileDevicesRunInParallel() throws {
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) { home.log('d0 ' + v); } });
            set('d1', { n_onchange: function (v) { home.sleep(0.2); home.log('d1 ' + v); } });
            """], vms: 2)
        defer { e.stop() }
        let start = monotonicNanos()
        for i in 1...5 {
            _ = e.submit(deviceId: "d0", properties: [("n", .number(Double(i)))])
        }
        _ = e.submit(deviceId: "d1", properties: [("n", .number(1))])
        _ = e.submit(deviceId: "d1", properties: [("n", .number(2))])
        e.waitIdle()
        let elapsed = Double(monotonicNanos() - start) / 1e9
        let d0 = c.logs.filter { $0.hasPrefix("d0") }
        XCTAssertEqual(d0, (1...5).map { "d0 \($0)" })
        XCTAssertEqual(c.logs.filter { $0.hasPrefix("d1") }, ["d1 1", "d1 2"])
        // d1's two sleeps are sequential (same device): at least 0.4 s.
        XCTAssertGreaterThanOrEqual(elapsed, 0.39)
    }

    func testRunawayLoopIsStoppedReportedAndVMReplaced() throws {
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) { if (v === 1) { for (;;) {} } home.log('ok ' + v); } });
            """], vms: 1, timeoutMs: 100)
        defer { e.stop() }
        let r = send(e, "d0", 1)
        XCTAssertEqual(r?.applied.count, 1, "a stopped handler counts as continueProcessing")
        XCTAssertEqual(r?.errors.first?.script, "a.js")
        XCTAssertTrue(r?.errors.first?.message.contains("longer than 100 ms") ?? false)
        XCTAssertEqual(e.stats[.vmsReplaced], 1)
        _ = send(e, "d0", 2)
        XCTAssertEqual(c.logs, ["ok 2"], "the fresh VM runs the next event")
        // Nothing keeps spinning after the stop: over half a second of idle the
        // process uses far less than half a core (a leftover loop would use one).
        let cpu0 = processCPUNanos()
        sleepMillis(500)
        XCTAssertLessThan(processCPUNanos() - cpu0, 250_000_000)
    }

    func testThrownObjectWhoseToStringRunsAwayIsStoppedToo() throws {
        // The error's text is read while the call is still guarded.
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) {
              if (v === 1) throw { toString: function () { for (;;) {} } };
              if (v === 2) throw new RangeError('plain');
              home.log('ok ' + v);
            } });
            """], vms: 1, timeoutMs: 100)
        defer { e.stop() }
        XCTAssertTrue(send(e, "d0", 1)?.errors.first?.message.contains("longer than 100 ms") ?? false)
        let plain = send(e, "d0", 2)?.errors.first
        XCTAssertEqual(plain?.script, "a.js")
        XCTAssertEqual(plain?.line, 3)
        XCTAssertEqual(plain?.message, "RangeError: plain")
        _ = send(e, "d0", 3)
        XCTAssertEqual(c.logs, ["ok 3"])
    }

    func testMemoryHogIsStoppedAndVMReplaced() throws {
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) { if (v === 1) { var a = []; for (;;) a.push('xxxxxxxx' + a.length); } home.log('ok ' + v); } });
            """], vms: 1, timeoutMs: 5000, memory: 4 << 20)
        defer { e.stop() }
        let r = send(e, "d0", 1)
        XCTAssertTrue(r?.errors.first?.message.contains("vmMemoryBytes") ?? false, "\(String(describing: r?.errors))")
        _ = send(e, "d0", 2)
        XCTAssertEqual(c.logs, ["ok 2"])
    }

    func testNewGenerationAppliesToLaterRunsAndBrokenSetIsRefused() throws {
        let (e, c) = try makeEngine(["a.js": "set('d0', { n_onchange: function (v) { home.log('g1 ' + v); } });"])
        defer { e.stop() }
        _ = send(e, "d0", 1)
        guard case .failure(let err) = e.replaceScripts([ScriptFile(name: "a.js", source: "set('d0', {\n  n_onchange: function ( { } });")]) else {
            return XCTFail("a broken script was accepted")
        }
        XCTAssertEqual(err.script, "a.js")
        XCTAssertEqual(err.line, 2)
        XCTAssertEqual(e.scripts.generation, 1)
        guard case .success(let g) = e.replaceScripts([ScriptFile(name: "a.js", source: "set('d0', { n_onchange: function (v) { home.log('g2 ' + v); } });")]) else {
            return XCTFail("a good script was refused")
        }
        XCTAssertEqual(g, 2)
        _ = send(e, "d0", 2)
        XCTAssertEqual(c.logs, ["g1 1", "g2 2"])
    }

    func testSnapshotIsolationUnderConcurrency() throws {
        // Each d0 run reads d1 twice around a sleep while d1 changes in parallel:
        // the snapshot value must not move, `latest` may.
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function () {
              var a = home.getDevice('d1').get('n').value;
              home.sleep(0.05);
              var b = home.getDevice('d1').get('n').value;
              home.log(a === b ? 'same' : 'moved');
            } });
            """], vms: 2)
        defer { e.stop() }
        for i in 1...20 {
            _ = e.submit(deviceId: "d0", properties: [("n", .number(Double(i)))])
            _ = e.submit(deviceId: "d1", properties: [("n", .number(Double(i)))])
        }
        e.waitIdle()
        XCTAssertEqual(c.logs.count, 20)
        XCTAssertEqual(Set(c.logs), ["same"])
    }

    func testCountdownFiresOnTheRealClockAndRestartReplacesIt() throws {
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) {
              home.countdown('t', 0.15, function () { home.log('fired ' + v); });
            } });
            """], vms: 2)
        defer { e.stop() }
        _ = send(e, "d0", 1)
        _ = send(e, "d0", 2)   // same name: restarts with the new closure
        var waited = 0
        while c.lock.withLock({ c.logs.isEmpty }) && waited < 3000 { sleepMillis(20); waited += 20 }
        sleepMillis(300)
        XCTAssertEqual(c.logs, ["fired 2"])
    }

    func testRepeatWindowCountsFromArrivalNotFromProcessing() throws {
        var config = Config()
        config.vms = 1
        config.repeatWindowMs = 200
        config.devices = [DeviceDefinition(id: "d0", name: "D0", properties: [PropertyDefinition(name: "n", type: .dial, min: 0, max: 100)])]
        let set = ScriptSet(generation: 1, files: [ScriptFile(name: "a.js", source: "set('d0', { n_onchange: function () { home.sleep(0.3); } });")])
        let e = EventManager(config: config, scripts: set, clock: SystemClock(), observers: [Collector()])
        try e.start()
        defer { e.stop() }
        let box = ResultBox()
        // Both arrive within the window; the second is processed ~300 ms later.
        _ = e.submit(deviceId: "d0", properties: [("n", .number(1))])
        _ = e.submit(deviceId: "d0", properties: [("n", .number(2))], completion: { box.set($0) })
        e.waitIdle()
        XCTAssertEqual(box.get()?.skipped.first?.reason, "repeat-window")
        XCTAssertEqual(e.state.live("d0")?.value("n"), .number(1))
    }

    func testFullRingSaysBusyAndLosesNothingAccepted() throws {
        let (e, _) = try makeEngine(["a.js": "set('d0', { n_onchange: function () { home.sleep(0.05); } });"], vms: 1, ring: 3)
        defer { e.stop() }
        var accepted = 0, busy = 0
        for i in 1...10 {
            switch e.submit(deviceId: "d0", properties: [("n", .number(Double(i)))]) {
            case .success: accepted += 1
            case .failure(.busy): busy += 1
            case .failure(let f): XCTFail("\(f)")
            }
        }
        e.waitIdle()
        XCTAssertGreaterThan(busy, 0)
        XCTAssertEqual(e.stats[.processed], accepted)
        XCTAssertEqual(e.ring.used, 0)
    }
}

/// A tiny semaphore over Lock/Condition (the library is Foundation-free).
final class DispatchSemaphoreLite: @unchecked Sendable {
    private let lock = Lock(), cond = Condition()
    private var count = 0
    func signal() { lock.withLock { count += 1; cond.signal() } }
    func wait() { lock.withLock { while count == 0 { cond.wait(lock) }; count -= 1 } }
}
