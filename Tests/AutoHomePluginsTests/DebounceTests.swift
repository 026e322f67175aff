import XCTest
import CGPIO

/// The software debouncer CGPIO uses with libgpiod v1: the kernel's rule
/// (v2), so both report the same edges.
final class DebounceTests: XCTestCase {
    private let ms: UInt64 = 1_000_000

    func testAnEdgeIsReportedOnceTheLineWasStableForThePeriod() {
        var d = ahgpio_debouncer()
        var ev = ahgpio_event()
        ahgpio_debounce_init(&d, 0, Int32(AHGPIO_EDGE_BOTH.rawValue), 20)
        ahgpio_debounce_edge(&d, 100 * ms)
        XCTAssertEqual(ahgpio_debounce_settle(&d, 1, 110 * ms, &ev), 0, "still bouncing")
        ahgpio_debounce_edge(&d, 115 * ms)  // a bounce restarts the period
        XCTAssertEqual(ahgpio_debounce_settle(&d, 1, 130 * ms, &ev), 0)
        XCTAssertEqual(ahgpio_debounce_settle(&d, 1, 135 * ms, &ev), 1)
        XCTAssertEqual(ev.rising, 1)
        XCTAssertEqual(ahgpio_debounce_settle(&d, 1, 200 * ms, &ev), 0, "one report per settled change")
    }

    func testAGlitchThatCameAndWentIsNothing() {
        var d = ahgpio_debouncer()
        var ev = ahgpio_event()
        ahgpio_debounce_init(&d, 1, Int32(AHGPIO_EDGE_BOTH.rawValue), 10)
        ahgpio_debounce_edge(&d, 0)
        ahgpio_debounce_edge(&d, 2 * ms)
        XCTAssertEqual(ahgpio_debounce_settle(&d, 1, 20 * ms, &ev), 0)
    }

    func testTheEdgeSettingFiltersSettledChanges() {
        var d = ahgpio_debouncer()
        var ev = ahgpio_event()
        ahgpio_debounce_init(&d, 0, Int32(AHGPIO_EDGE_RISING.rawValue), 5)
        ahgpio_debounce_edge(&d, 0)
        XCTAssertEqual(ahgpio_debounce_settle(&d, 1, 5 * ms, &ev), 1)
        ahgpio_debounce_edge(&d, 10 * ms)
        XCTAssertEqual(ahgpio_debounce_settle(&d, 0, 15 * ms, &ev), 0, "falling is not selected")
        ahgpio_debounce_edge(&d, 20 * ms)
        XCTAssertEqual(ahgpio_debounce_settle(&d, 1, 25 * ms, &ev), 1, "and the level was still tracked")
    }

    func testTheLibraryVersionIsTheOneBuiltAgainst() {
        let major = ahgpio_api_major()
        XCTAssertTrue(major == 1 || major == 2)
        print("CGPIO: libgpiod \(String(cString: ahgpio_library_version())), API v\(major)")
        var status: Int32 = -1
        XCTAssertNil(ahgpio_chip_open("gpiochip-that-is-not-there", &status))
        XCTAssertEqual(UInt32(status), AHGPIO_OPEN_MISSING.rawValue)
        XCTAssertNil(ahgpio_chip_open("/dev/null", &status))
        XCTAssertEqual(UInt32(status), AHGPIO_OPEN_INVALID.rawValue)
    }
}
