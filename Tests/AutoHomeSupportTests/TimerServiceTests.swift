import XCTest
@testable import AutoHomeSupport

/// The daemon's one timer thread: order, cancel, repeat, stop.
final class TimerServiceTests: XCTestCase {
    final class Fired: @unchecked Sendable {
        let lock = Lock()
        var names: [String] = []
        func add(_ n: String) { lock.withLock { names.append(n) } }
        var count: Int { lock.withLock { names.count } }
    }

    private func wait(_ f: Fired, for n: Int) {
        var waited = 0
        while f.count < n && waited < 5000 { sleepMillis(5); waited += 5 }
    }

    func testFiresInDeadlineOrderAndCancelledOnesNever() {
        let t = TimerService(name: "t-order")
        defer { t.stop() }
        let f = Fired()
        t.schedule(afterMillis: 60) { f.add("c") }
        let b = t.schedule(afterMillis: 40) { f.add("cancelled") }
        t.schedule(afterMillis: 20) { f.add("a") }
        t.schedule(afterMillis: 40) { f.add("b") }
        t.cancel(b)
        wait(f, for: 3)
        sleepMillis(50)
        XCTAssertEqual(f.names, ["a", "b", "c"])
        XCTAssertEqual(t.count, 0)
    }

    func testRepeatingTimerRunsUntilCancelledAndCallbacksMayReschedule() {
        let t = TimerService(name: "t-repeat")
        defer { t.stop() }
        let f = Fired()
        let id = t.schedule(afterMillis: 10, repeating: true) { f.add("tick") }
        t.schedule(afterMillis: 5) { t.schedule(afterMillis: 5) { f.add("nested") } }
        wait(f, for: 4)
        t.cancel(id)
        let n = f.count
        sleepMillis(60)
        XCTAssertEqual(f.count, n, "a cancelled repeating timer stops")
        XCTAssertTrue(f.names.contains("nested"))
    }

    func testStopEndsTheThreadAndPendingTimersNeverFire() {
        let t = TimerService(name: "t-stop")
        let f = Fired()
        t.schedule(afterMillis: 100) { f.add("late") }
        t.stop()
        sleepMillis(150)
        XCTAssertEqual(f.count, 0)
    }

    func testSpawnedThreadsCarryTheirName() {
        let f = Fired()
        spawnThread(name: "ah-some-long-thread-name") { f.add(currentThreadName()) }
        wait(f, for: 1)
        XCTAssertEqual(f.names, ["ah-some-long-th"])  // Linux keeps 15 bytes
    }
}
