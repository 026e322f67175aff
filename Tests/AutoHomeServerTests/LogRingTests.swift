import XCTest
@testable import AutoHome
@testable import AutoHomeServer
@testable import AutoHomeSupport

/// `/v1/logs`: a fixed ring; `?follow=1` readers that lag lose lines, are
/// told how many, and never make the ring grow.
final class LogRingTests: XCTestCase {
    func testRingKeepsTheNewestLinesAndFilters() {
        var now: Int64 = 1000
        let ring = LogRing(capacity: 5, clock: { now })
        for i in 1...8 {
            now += 10
            ring.append(level: i % 2 == 0 ? .warn : .info, source: "daemon", message: "line \(i)")
        }
        XCTAssertEqual(ring.lines().map(\.message), ["line 8", "line 7", "line 6", "line 5", "line 4"])
        XCTAssertEqual(ring.lines(limit: 2).map(\.message), ["line 8", "line 7"])
        XCTAssertEqual(ring.lines(level: .warn).map(\.message), ["line 8", "line 6", "line 4"])
        XCTAssertEqual(ring.lines(since: 1070).map(\.message), ["line 8", "line 7"])
    }

    func testScriptErrorsCarryScriptLineAndSeq() {
        let ring = LogRing(capacity: 10)
        var e = ScriptError(script: "hall.js", line: 3, message: "TypeError: boom")
        e.seq = 7
        ring.scriptFailed(e)
        ring.scriptLogged(ScriptLog(script: "hall.js", level: .info, message: "hello"))
        let json = ring.lines().map(\.json)
        XCTAssertEqual(json[0]["source"], .string("hall.js"))
        XCTAssertEqual(json[0]["message"], .string("hello"))
        XCTAssertEqual(json[1]["level"], .string("error"))
        XCTAssertEqual(json[1]["script"], .string("hall.js"))
        XCTAssertEqual(json[1]["line"], .number(3))
        XCTAssertEqual(json[1]["seq"], .number(7))
        XCTAssertEqual(json[1]["message"], .string("hall.js:3: TypeError: boom"))
    }

    func testLongMessagesAreCut() {
        let ring = LogRing(capacity: 2)
        ring.append(level: .info, source: "x", message: String(repeating: "é", count: 2000))
        XCTAssertLessThanOrEqual(ring.lines()[0].message.utf8.count, LogRing.maxMessageBytes + 3)
    }

    func testASlowFollowerIsToldHowManyLinesItLost() throws {
        let ring = LogRing(capacity: 10)
        defer { ring.stop() }
        let sink = RecordingSink()
        let ex = ExchangeID(conn: 1, stream: 4)
        XCTAssertTrue(ring.follow(exchange: ex, sink: sink, level: .debug, backlog: []))
        ring.append(level: .info, source: "daemon", message: "first")
        try waitFor { sink.writes.contains { $0.1.contains("first") } }
        sink.writeResult = .full      // the reader stops reading
        for i in 1...50 { ring.append(level: .info, source: "daemon", message: "burst \(i)") }
        sleepMillis(200)
        sink.writeResult = .ok
        ring.append(level: .info, source: "daemon", message: "after")
        try waitFor { sink.writes.contains { $0.1.contains("\"after\"") } }
        let text = sink.writes.map(\.1).joined()
        let lines = text.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
        let note = try XCTUnwrap(lines.first { $0["dropped"] != nil }, text)
        let dropped = Int(note["dropped"]?.numberValue ?? 0)
        let bursts = lines.filter { $0["message"]?.stringValue?.hasPrefix("burst") ?? false }
        print("follower: \(dropped) dropped, \(bursts.count) burst lines delivered")
        XCTAssertEqual(dropped + bursts.count, 50, text)
        XCTAssertEqual(bursts.last?["message"], .string("burst 50"))
        ring.closed(ex)
        XCTAssertEqual(ring.followerCount, 0)
    }

    struct TimedOut: Error {}

    private func waitFor(_ what: () -> Bool) throws {
        let deadline = monotonicNanos() + 10_000_000_000
        while !what() {
            if monotonicNanos() > deadline { throw TimedOut() }
            sleepMillis(10)
        }
    }
}
