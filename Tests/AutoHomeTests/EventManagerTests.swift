import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Ingress, generations, repeat windows and the full ring through the engine's front door.
final class EventManagerTests: XCTestCase {
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
