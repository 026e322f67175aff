import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Group order, cycles and unknown members (SPEC §3).
final class GroupGraphTests: XCTestCase {
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
}
