import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// The fixed event ring (SPEC §2.2).
final class EventRingTests: XCTestCase {
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
}
