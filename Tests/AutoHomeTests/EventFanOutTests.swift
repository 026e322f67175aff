import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// The engine's one outlet: every subscriber gets everything, in order; a
/// queued (slow) observer applies backpressure and loses nothing.
final class EventFanOutTests: XCTestCase {
    func testEverySubscriberGetsEverythingFromARealRun() throws {
        let (e, first) = try makeEngine(["a.js": "set('d0', { n_onchange: function (v) { home.log('v=' + v); home.getDevice('d1').set('n', v); } });"])
        defer { e.stop() }
        let second = Collector()
        e.events.subscribe(second)
        _ = send(e, "d0", 5)
        for c in [first, second] {
            XCTAssertEqual(c.logs, ["v=5"])
            XCTAssertEqual(c.actions, [DeviceAction(deviceId: "d1", properties: [("n", .number(5))])])
        }
        e.events.unsubscribe(second)
        _ = send(e, "d0", 6)
        XCTAssertEqual(first.logs, ["v=5", "v=6"])
        XCTAssertEqual(second.logs, ["v=5"])
    }

    /// A target that blocks until released: the queue fills, producers wait,
    /// and once released every note arrives, in order.
    final class Gate: EngineObserver, @unchecked Sendable {
        let lock = Lock(), cond = Condition()
        var open = false
        var seen: [String] = []
        func scriptLogged(_ log: ScriptLog) {
            lock.withLock {
                while !open { cond.wait(lock) }
                seen.append(log.message)
            }
        }
        func release() { lock.withLock { open = true; cond.broadcast() } }
    }

    func testQueuedObserverSlowsProducersAndDropsNothing() {
        let gate = Gate()
        let q = QueuedObserver(gate, capacity: 4, threadName: "t-queued")
        let produced = Collector()
        spawnThread(name: "t-producer") {
            for i in 0..<20 {
                q.scriptLogged(ScriptLog(script: "s", level: .info, message: "\(i)"))
                produced.scriptLogged(ScriptLog(script: "s", level: .info, message: "\(i)"))
            }
        }
        sleepMillis(200)
        // 1 held by the blocked target + 4 queued; the producer waits for room.
        XCTAssertLessThanOrEqual(produced.lock.withLock { produced.logs.count }, 6)
        gate.release()
        q.drain()
        var waited = 0
        while produced.lock.withLock({ produced.logs.count }) < 20 && waited < 3000 { sleepMillis(10); waited += 10 }
        q.drain()
        q.stop()
        XCTAssertEqual(gate.seen, (0..<20).map(String.init))
    }
}
