import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// home.countdown on the real clock and the registry's own rules.
final class CountdownsTests: XCTestCase {
    func testCountdownFiresOnTheRealClockAndRestartReplacesIt() throws {
        let (e, c) = try makeEngine(["a.js": """
            set('d0', { n_onchange: function (v) {
              home.countdown('t', 0.15, function () { home.log('fired ' + v); });
            } });
            """], vms: 2)
        defer { e.stop() }
        _ = send(e, "d0", 1)
        _ = send(e, "d0", 2)   // same name: restarts with the new closure
        var waited = 0
        while c.lock.withLock({ c.logs.isEmpty }) && waited < 3000 { sleepMillis(20); waited += 20 }
        sleepMillis(300)
        XCTAssertEqual(c.logs, ["fired 2"])
    }

    func testSameNameRestartsZeroCancelsAndDueOnesComeOutInOrder() {
        let c = Countdowns()
        c.schedule(name: "b", seconds: 2, now: 1000, kind: .closure(vm: 0, epoch: 1))
        c.schedule(name: "a", seconds: 1, now: 1000, kind: .closure(vm: 1, epoch: 1))
        c.schedule(name: "gone", seconds: 0.5, now: 1000, kind: .closure(vm: 0, epoch: 1))
        c.schedule(name: "gone", seconds: 0, now: 1000, kind: .closure(vm: 0, epoch: 1))   // 0 cancels
        c.schedule(name: "b", seconds: 0.25, now: 1000, kind: .closure(vm: 0, epoch: 2))   // restart: new duration wins
        XCTAssertEqual(c.nextDue, 1250)
        XCTAssertEqual(c.takeDue(now: 1100), [])
        XCTAssertEqual(c.takeDue(now: 3000).map(\.name), ["b", "a"])
        XCTAssertNil(c.nextDue)
    }

    func testArmedOnTheTimerServiceAndNothingFiresAfterStop() {
        let timers = TimerService(name: "t-countdowns")
        defer { timers.stop() }
        let c = Countdowns()
        let fired = Collector()
        let clock = SystemClock()
        c.attach(timers: timers, clock: clock) { e in fired.scriptLogged(ScriptLog(script: "", level: .info, message: e.name)) }
        c.schedule(name: "soon", seconds: 0.05, now: clock.nowMillis(), kind: .closure(vm: 0, epoch: 1))
        c.schedule(name: "late", seconds: 0.3, now: clock.nowMillis(), kind: .closure(vm: 0, epoch: 1))
        var waited = 0
        while fired.lock.withLock({ fired.logs.isEmpty }) && waited < 3000 { sleepMillis(10); waited += 10 }
        c.stop()
        sleepMillis(400)
        XCTAssertEqual(fired.logs, ["soon"])
        XCTAssertEqual(timers.count, 0)
    }
}
