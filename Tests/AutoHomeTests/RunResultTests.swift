import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// An event's `EventResult` carries what its own handlers logged, sent and
/// threw (`?wait=1` and replay render it); work it started elsewhere is not.
final class RunResultTests: XCTestCase {
    func engine(_ source: String, timeoutMs: Int = 1000) throws -> (EventManager, Collector) {
        var config = Config()
        config.vms = 2
        config.scriptTimeoutMs = timeoutMs
        config.devices = [
            DeviceDefinition(id: "sensor", name: "Sensor", properties: [PropertyDefinition(name: "n", type: .dial, min: 0, max: 1000)]),
            DeviceDefinition(id: "lamp", name: "Lamp", properties: [PropertyDefinition(name: "level", type: .dial, min: 0, max: 1000)]),
        ]
        let c = Collector()
        let e = EventManager(config: config, scripts: ScriptSet(generation: 1, files: [ScriptFile(name: "common.js", source: source)]),
                             clock: SystemClock(), observers: [c])
        try e.start()
        e.waitIdle()
        return (e, c)
    }

    func send(_ e: EventManager, _ n: Double) -> EventResult? {
        let box = ResultBox()
        let sem = DispatchSemaphoreLite()
        guard case .success = e.submit(deviceId: "sensor", properties: [("n", .number(n))], completion: { box.set($0); sem.signal() }) else {
            return nil
        }
        sem.wait()
        return box.get()
    }

    func testResultHoldsTheRunsLogsActionsAndErrors() throws {
        let (e, c) = try engine("""
            function helper(v) { home.log('thread ' + v); }
            set('sensor', {
              n_ontrigger: function (p) { home.log('saw', p.value); },
              n_onchange: function (v) {
                home.getDevice('lamp').set('level', v * 2);
                thread('helper', v);
                if (v > 5) { null.boom(); }
              }
            });
            """)
        defer { e.stop() }
        let r = try XCTUnwrap(send(e, 7))
        XCTAssertEqual(r.logs.map(\.message), ["saw 7"])
        XCTAssertEqual(r.logs.first?.script, "common.js")
        XCTAssertEqual(r.actions, [DeviceAction(deviceId: "lamp", properties: [("level", .number(14))])])
        XCTAssertEqual(r.errors.count, 1)
        XCTAssertEqual(r.errors.first?.script, "common.js")
        XCTAssertEqual(r.errors.first?.line, 7)
        let json = r.json
        XCTAssertEqual(json["logs"], .array([.string("saw 7")]))
        XCTAssertEqual(json["errors"]?.arrayValue?.count, 1)
        XCTAssertEqual(json["actions"]?.arrayValue?.first?["id"], .string("lamp"))
        e.waitIdle()
        // The thread's log reached the fan-out, untagged; the run's are tagged.
        XCTAssertTrue(c.logs.contains("thread 7"), "\(c.logs)")
        XCTAssertFalse(r.logs.contains { $0.message == "thread 7" })
    }

    func testARunawayHandlerIsAnErrorOfItsRun() throws {
        let (e, _) = try engine("set('sensor', { n_onchange: function (v) { home.log('start'); while (true) {} } });", timeoutMs: 100)
        defer { e.stop() }
        let r = try XCTUnwrap(send(e, 1))
        XCTAssertEqual(r.logs.map(\.message), ["start"])
        XCTAssertTrue(r.errors.first?.message.contains("stopped") ?? false, "\(r.errors)")
        XCTAssertEqual(r.applied.map(\.name), ["n"])
    }
}
