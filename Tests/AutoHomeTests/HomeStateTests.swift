import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Live state, MVCC snapshots and redefinition.
final class HomeStateTests: XCTestCase {
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

    func testSnapshotSeesTheOldVersionWhileLiveMoves() {
        let s = HomeState(defaultHistory: 4, defaultRepeatWindowMs: 0)
        let slot = s.define(DeviceDefinition(id: "x", name: "X", properties: [PropertyDefinition(name: "v", type: .dial)]), now: 0).slot
        let snap = s.openSnapshot()
        s.commit(slot: slot, [(0, .number(7))], time: 1)
        s.commit(slot: slot, [(0, .number(8))], time: 2)
        XCTAssertEqual(snap.device("x")?.value("v"), .number(0))
        XCTAssertEqual(s.live("x")?.value("v"), .number(8))
        snap.close()
        s.commit(slot: slot, [(0, .number(9))], time: 3)
        XCTAssertEqual(s.openSnapshot().device("x")?.value("v"), .number(9))
    }

    func testRedefinitionKeepsValuesWhereTypeIsUnchanged() {
        let s = HomeState(defaultHistory: 4, defaultRepeatWindowMs: 0)
        let slot = s.define(DeviceDefinition(id: "x", name: "X", properties: [
            PropertyDefinition(name: "a", type: .dial), PropertyDefinition(name: "b", type: .text)]), now: 0).slot
        s.commit(slot: slot, [(0, .number(5)), (1, .text("t"))], time: 1)
        let out = s.define(DeviceDefinition(id: "x", name: "X2", properties: [
            PropertyDefinition(name: "b", type: .switch), PropertyDefinition(name: "a", type: .dial)]), now: 2)
        XCTAssertEqual(out.outcome, .updated)
        XCTAssertEqual(s.live("x")?.value("a"), .number(5))
        XCTAssertEqual(s.live("x")?.value("b"), .flag(false, label: "off"))
    }
}
