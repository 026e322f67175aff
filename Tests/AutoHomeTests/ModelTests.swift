import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

final class ModelTests: XCTestCase {
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

    func testGroupOrderIsNearestFirstThenById() throws {
        let g = try GroupGraph([
            GroupDefinition(id: "b", devices: ["d"]),
            GroupDefinition(id: "a", devices: ["d"]),
            GroupDefinition(id: "top", groups: ["mid", "a"]),
            GroupDefinition(id: "mid", groups: ["b"]),
            GroupDefinition(id: "other", devices: ["e"]),
        ], knownDevices: ["d", "e"])
        XCTAssertEqual(g.ancestors(ofDevice: "d").map(\.id), ["a", "b", "mid", "top"])
        XCTAssertEqual(g.devices(inGroup: "top"), ["d"])
        XCTAssertTrue(g.isDevice("d", inGroup: "top"))
        XCTAssertFalse(g.isDevice("e", inGroup: "top"))
        XCTAssertNil(g.devices(inGroup: "nope"))
    }

    func testGroupCyclesAndUnknownMembersAreRejected() {
        XCTAssertThrowsError(try GroupGraph([GroupDefinition(id: "a", groups: ["b"]), GroupDefinition(id: "b", groups: ["a"])],
                                            knownDevices: [])) { e in
            XCTAssertTrue("\(e)".contains("cycle"), "\(e)")
        }
        XCTAssertThrowsError(try GroupGraph([GroupDefinition(id: "a", devices: ["ghost"])], knownDevices: []))
        XCTAssertThrowsError(try GroupGraph([GroupDefinition(id: "a", groups: ["ghost"])], knownDevices: []))
    }

    func testValueHistoryRingKeepsNewestFirstAndInitialValue() {
        var h = ValueHistory(capacity: 3, initial: .number(0), time: 1)
        XCTAssertEqual(h.newest(5).map(\.value), [.number(0)])
        for i in 1...4 { h.record(.number(Double(i)), time: Int64(i + 1)) }
        XCTAssertEqual(h.newest(10).map(\.value), [.number(4), .number(3), .number(2)])
        XCTAssertEqual(h.newest(1).first?.time, 5)
    }

    func testEventRingSaysBusyWhenFullAndReusesSlots() {
        let ring = EventRing(capacity: 2, slotBytes: 16)
        let bytes: [UInt8] = [1, 2, 3]
        let a = bytes.withUnsafeBytes { ring.store($0) }
        let b = bytes.withUnsafeBytes { ring.store($0) }
        XCTAssertNotNil(a); XCTAssertNotNil(b)
        XCTAssertNil(bytes.withUnsafeBytes { ring.store($0) })
        XCTAssertEqual(ring.used, 2)
        ring.release(a!)
        XCTAssertNotNil(bytes.withUnsafeBytes { ring.store($0) })
        XCTAssertEqual(Array(ring.bytes(b!)), bytes)
    }

    func testEventCodecRoundTrip() {
        let props: [(name: String, value: PropertyValue)] = [("a", .flag(true, label: "open")), ("b", .number(-2.25)), ("c", .text("héllo"))]
        let d = EventCodec.encode(origin: .command, props).withUnsafeBytes { EventCodec.decode($0) }
        XCTAssertEqual(d.origin, .command)
        XCTAssertEqual(d.properties.map(\.name), ["a", "b", "c"])
        XCTAssertEqual(d.properties.map(\.value), props.map(\.value))
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

    func testConfigRejectsUnknownKeysAndWrongTypesNamingThem() {
        XCTAssertThrowsError(try Config.decode(text: #"{"vmz": 2}"#)) { XCTAssertTrue("\($0)".contains("\"vmz\""), "\($0)") }
        XCTAssertThrowsError(try Config.decode(text: #"{"vms": "4"}"#)) { XCTAssertTrue("\($0)".contains("\"vms\""), "\($0)") }
        XCTAssertThrowsError(try Config.decode(text: #"{"ringSize": 0}"#)) { XCTAssertTrue("\($0)".contains("ringSize"), "\($0)") }
        XCTAssertThrowsError(try Config.decode(text: #"{"listen": "nowhere"}"#))
        let c = try! Config.decode(text: #"{"listen": "[::]:5000", "vms": 2}"#)
        XCTAssertEqual(c.vms, 2)
        XCTAssertEqual(ListenAddress.parse(c.listen), ListenAddress(host: "::", port: 5000))
        XCTAssertEqual(Config().effectiveScriptsDir, "/var/lib/auto-home/scripts")
    }
}
