import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Runaway scripts: stopped, reported, the VM replaced (SPEC §2.8).
final class ScriptVMTests: XCTestCase {
    func testRunawayLoopIsStoppedReportedAndVMReplaced() throws {
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) { if (v === 1) { for (;;) {} } home.log('ok ' + v); } });
            """], vms: 1, timeoutMs: 100)
        defer { e.stop() }
        let r = send(e, "d0", 1)
        XCTAssertEqual(r?.applied.count, 1, "a stopped handler counts as continueProcessing")
        XCTAssertEqual(r?.errors.first?.script, "a.js")
        XCTAssertTrue(r?.errors.first?.message.contains("longer than 100 ms") ?? false)
        XCTAssertEqual(e.stats[.vmsReplaced], 1)
        _ = send(e, "d0", 2)
        XCTAssertEqual(c.logs, ["ok 2"], "the fresh VM runs the next event")
        // Nothing keeps spinning after the stop: over half a second of idle the
        // process uses far less than half a core (a leftover loop would use one).
        let cpu0 = processCPUNanos()
        sleepMillis(500)
        XCTAssertLessThan(processCPUNanos() - cpu0, 250_000_000)
    }

    func testThrownObjectWhoseToStringRunsAwayIsStoppedToo() throws {
        // The error's text is read while the call is still guarded.
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) {
              if (v === 1) throw { toString: function () { for (;;) {} } };
              if (v === 2) throw new RangeError('plain');
              home.log('ok ' + v);
            } });
            """], vms: 1, timeoutMs: 100)
        defer { e.stop() }
        XCTAssertTrue(send(e, "d0", 1)?.errors.first?.message.contains("longer than 100 ms") ?? false)
        let plain = send(e, "d0", 2)?.errors.first
        XCTAssertEqual(plain?.script, "a.js")
        XCTAssertEqual(plain?.line, 3)
        XCTAssertEqual(plain?.message, "RangeError: plain")
        _ = send(e, "d0", 3)
        XCTAssertEqual(c.logs, ["ok 3"])
    }

    func testMemoryHogIsStoppedAndVMReplaced() throws {
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) { if (v === 1) { var a = []; for (;;) a.push('xxxxxxxx' + a.length); } home.log('ok ' + v); } });
            """], vms: 1, timeoutMs: 5000, memory: 4 << 20)
        defer { e.stop() }
        let r = send(e, "d0", 1)
        XCTAssertTrue(r?.errors.first?.message.contains("vmMemoryBytes") ?? false, "\(String(describing: r?.errors))")
        _ = send(e, "d0", 2)
        XCTAssertEqual(c.logs, ["ok 2"])
    }
}
