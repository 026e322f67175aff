import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

final class ModelTests: XCTestCase {
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
