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

    func testRestorePutsValuesAndRingsBackAndChecksTypes() throws {
        let def = try DeviceDefinition.decode(JSON.parse(
            #"{"id": "h", "properties": [{"name": "set", "type": "dial", "min": 5, "max": 30, "value": 21}, {"name": "on", "type": "switch"}, {"name": "b", "type": "button"}]}"#))
        let state = HomeState(defaultHistory: 4, defaultRepeatWindowMs: 0)
        state.define(def, now: 0)
        // newest first, as the store gives it; the initial value comes back as the oldest entry
        XCTAssertTrue(state.restore("h", property: "set", value: .number(23), time: 30,
                                    history: [HistoryPoint(value: .number(23), time: 30), HistoryPoint(value: .number(22), time: 20)]))
        XCTAssertEqual(state.live("h")?.value("set"), .number(23))
        XCTAssertEqual(state.history("h", property: "set", newest: 10)?.map(\.value), [.number(23), .number(22), .number(21)])
        // clamped to the definition; a wrong kind or an unknown property is ignored
        XCTAssertTrue(state.restore("h", property: "set", value: .number(99), time: 40, history: []))
        XCTAssertEqual(state.live("h")?.value("set"), .number(30))
        XCTAssertFalse(state.restore("h", property: "on", value: .text("x"), time: 0, history: []))
        XCTAssertFalse(state.restore("h", property: "gone", value: .number(1), time: 0, history: []))
        XCTAssertFalse(state.restore("nope", property: "set", value: .number(1), time: 0, history: []))
        // a button's stored value never changes
        XCTAssertTrue(state.restore("h", property: "b", value: .flag(true, label: "on"), time: 0, history: []))
        XCTAssertEqual(state.live("h")?.value("b"), .flag(false, label: "off"))
    }

    func testRemovedDeviceIsGoneFromLookupsAndSnapshots() throws {
        let state = HomeState(defaultHistory: 4, defaultRepeatWindowMs: 0)
        state.define(try DeviceDefinition.decode(JSON.parse(#"{"id": "a", "properties": []}"#)), now: 0)
        state.define(try DeviceDefinition.decode(JSON.parse(#"{"id": "b", "properties": []}"#)), now: 0)
        XCTAssertTrue(state.remove("a"))
        XCTAssertFalse(state.remove("a"))
        XCTAssertNil(state.live("a"))
        XCTAssertNil(state.slot(of: "a"))
        XCTAssertEqual(state.allLive().map(\.id), ["b"])
        XCTAssertEqual(state.openSnapshot().devices().map(\.id), ["b"])
        // the id can be defined again: a fresh device
        state.define(try DeviceDefinition.decode(JSON.parse(#"{"id": "a", "properties": []}"#)), now: 0)
        XCTAssertEqual(state.allLive().map(\.id), ["b", "a"])
    }
}
