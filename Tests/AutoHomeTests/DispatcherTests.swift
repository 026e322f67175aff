import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Per-device order, devices in parallel (SPEC §2.3).
final class DispatcherTests: XCTestCase {
    func testOneDeviceRunsInOrderWhileDevicesRunInParallel() throws {
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) { home.log('d0 ' + v); } });
            set('d1', { n_onchange: function (v) { home.sleep(0.2); home.log('d1 ' + v); } });
            """], vms: 2)
        defer { e.stop() }
        let start = monotonicNanos()
        for i in 1...5 {
            _ = e.submit(deviceId: "d0", properties: [("n", .number(Double(i)))])
        }
        _ = e.submit(deviceId: "d1", properties: [("n", .number(1))])
        _ = e.submit(deviceId: "d1", properties: [("n", .number(2))])
        e.waitIdle()
        let elapsed = Double(monotonicNanos() - start) / 1e9
        let d0 = c.logs.filter { $0.hasPrefix("d0") }
        XCTAssertEqual(d0, (1...5).map { "d0 \($0)" })
        XCTAssertEqual(c.logs.filter { $0.hasPrefix("d1") }, ["d1 1", "d1 2"])
        // d1's two sleeps are sequential (same device): at least 0.4 s.
        XCTAssertGreaterThanOrEqual(elapsed, 0.39)
    }
}
