import XCTest
@testable import AutoHomeSupport

/// Large objects: a body of many short keys (the 1 MB a definition may have)
/// once cost a linear duplicate search per key, quadratic in all (found by
/// running a 70 KB object through the JSON fuzz harness: 16 s). Duplicates
/// must still behave as in small objects: first place, last value.
final class JSONLargeObjectTests: XCTestCase {
    func testManyKeysParseWithDuplicatesKeepingFirstPlaceAndLastValue() throws {
        let n = 90_000
        var text = "{"
        for i in 0..<n { text += "\"k\(i)\":\(i)," }
        text += "\"k5\":\"again\",\"k\(n - 1)\":true,\"last\":null}"
        let members = try XCTUnwrap(try JSON.parse(text).objectMembers)
        XCTAssertEqual(members.count, n + 1)
        XCTAssertEqual(members[5].0, "k5")
        XCTAssertEqual(members[5].1, .string("again"))
        XCTAssertEqual(members[n - 1].1, .bool(true))
        XCTAssertEqual(members[n].0, "last")
        XCTAssertEqual(members[1234].1, .number(1234))
    }

    func testDuplicatesBelowAndAcrossTheIndexThreshold() throws {
        for count in [3, JSONByteParser.indexedObjectSize - 1, JSONByteParser.indexedObjectSize,
                      JSONByteParser.indexedObjectSize + 1, 40] {
            var text = "{"
            for i in 0..<count { text += "\"k\(i)\":\(i)," }
            text += "\"k0\":-1,\"k\(count - 1)\":-2}"
            let members = try XCTUnwrap(try JSON.parse(text).objectMembers)
            XCTAssertEqual(members.map(\.0), (0..<count).map { "k\($0)" }, "count \(count)")
            XCTAssertEqual(members.first?.1, .number(-1))
            XCTAssertEqual(members.last?.1, .number(-2))
        }
    }
}
