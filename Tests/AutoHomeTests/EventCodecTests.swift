import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Events as bytes in a ring slot.
final class EventCodecTests: XCTestCase {
    func testEventCodecRoundTrip() {
        let props: [(name: String, value: PropertyValue)] = [("a", .flag(true, label: "open")), ("b", .number(-2.25)), ("c", .text("héllo"))]
        let d = EventCodec.encode(origin: .command, props).withUnsafeBytes { EventCodec.decode($0) }
        XCTAssertEqual(d.origin, .command)
        XCTAssertEqual(d.properties.map(\.name), ["a", "b", "c"])
        XCTAssertEqual(d.properties.map(\.value), props.map(\.value))
    }
}
