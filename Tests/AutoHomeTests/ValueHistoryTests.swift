import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// The per-property value-history ring (SPEC §1).
final class ValueHistoryTests: XCTestCase {
    func testValueHistoryRingKeepsNewestFirstAndInitialValue() {
        var h = ValueHistory(capacity: 3, initial: .number(0), time: 1)
        XCTAssertEqual(h.newest(5).map(\.value), [.number(0)])
        for i in 1...4 { h.record(.number(Double(i)), time: Int64(i + 1)) }
        XCTAssertEqual(h.newest(10).map(\.value), [.number(4), .number(3), .number(2)])
        XCTAssertEqual(h.newest(1).first?.time, 5)
    }
}
