import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// `replay --expect`: the subset match of docs/javascript.md.
final class ReplayExpectationTests: XCTestCase {
    func m(_ e: String, _ a: String) throws -> String? { ReplayExpectation.mismatch(try JSON.parse(e), try JSON.parse(a)) }

    func testSubsetAndSpecials() throws {
        XCTAssertNil(try m(#"{"a": 1}"#, #"{"a": 1.0, "b": 2}"#))
        XCTAssertEqual(try m(#"{"a": 1}"#, #"{"b": 2}"#), "$: missing key \"a\"")
        XCTAssertNotNil(try m(#"[1, 2]"#, #"[1]"#))
        XCTAssertNotNil(try m("1", "true"))
        XCTAssertNil(try m(#"{"$contains": ["Boom", "a.js:3"]}"#, #""a.js:3: Error: boom""#))
        XCTAssertNotNil(try m(#"{"$contains": "x"}"#, #""abc""#))
        XCTAssertNil(try m(#"{"$any": true}"#, "null"))
        XCTAssertNil(try m(#"{"$unordered": [2, 1]}"#, "[1, 2]"))
        XCTAssertNotNil(try m(#"{"$unordered": [2]}"#, "[1, 2]"))
        XCTAssertNil(try m(#"{"$has": [2]}"#, "[1, 2, 3]"))
        XCTAssertNil(try m(#"{"$lacks": [4]}"#, "[1, 2, 3]"))
        XCTAssertEqual(try m(#"{"$lacks": [2]}"#, "[1, 2, 3]"), "$[1]: 2 must not be present")
        XCTAssertEqual(try m(#"{"x": [{"v": false}]}"#, #"{"x": [{"v": true}]}"#), "$.x[0].v: expected false, got true")
    }

    func testCompareCountsLines() throws {
        let fails = ReplayExpectation.compare(expected: [try JSON.parse(#"{"seq": 1}"#)], actual: [#"{"seq":1}"#, #"{"state":[]}"#])
        XCTAssertEqual(fails.count, 1)
        XCTAssertTrue(fails[0].hasPrefix("output line 2 is extra"), fails[0])
    }
}
