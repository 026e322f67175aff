import XCTest
@testable import AutoHome
@testable import AutoHomeServer
@testable import AutoHomeSupport

/// Action streams: latest pending value per property, fan-out to every open stream.
final class ActionHubTests: XCTestCase {
    func testActionHubKeepsLatestPendingAndFansOut() {
        let hub = ActionHub()
        let sink = RecordingSink()
        hub.sink = sink
        hub.send(DeviceAction(deviceId: "d", properties: [("a", .number(1)), ("b", .bool(true))]))
        hub.send(DeviceAction(deviceId: "d", properties: [("a", .number(2))]))
        XCTAssertEqual(hub.pending(deviceId: "d").map(\.value), [.number(2), .bool(true)])
        let s1 = ExchangeID(conn: 1, stream: 0), s2 = ExchangeID(conn: 2, stream: 0)
        XCTAssertTrue(hub.open(deviceId: "d", exchange: s1, sink: sink))
        XCTAssertEqual(sink.writes.map(\.1), [#"{"id":"d","properties":[{"name":"a","value":2},{"name":"b","value":true}]}"# + "\n"])
        XCTAssertTrue(hub.pending(deviceId: "d").isEmpty)
        hub.open(deviceId: "d", exchange: s2, sink: sink)
        hub.send(DeviceAction(deviceId: "d", properties: [("c", .string("x"))]))
        XCTAssertEqual(sink.writes.suffix(2).map(\.0), [s1, s2])
        hub.closed(s1)
        hub.closed(s2)
        XCTAssertEqual(hub.openStreams(deviceId: "d"), 0)
        hub.send(DeviceAction(deviceId: "d", properties: [("c", .string("y"))]))
        XCTAssertEqual(hub.pending(deviceId: "d").map(\.value), [.string("y")])
        // a stream that went away without notice: the action is kept, not lost
        hub.open(deviceId: "d", exchange: s1, sink: sink)
        sink.writeResult = .gone
        hub.send(DeviceAction(deviceId: "d", properties: [("c", .string("z"))]))
        XCTAssertEqual(hub.openStreams(deviceId: "d"), 0)
        XCTAssertEqual(hub.pending(deviceId: "d").map(\.value), [.string("z")])
    }
}
