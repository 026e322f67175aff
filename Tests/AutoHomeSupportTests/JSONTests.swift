import XCTest
@testable import AutoHomeSupport

final class JSONTests: XCTestCase {
    func testRoundTripKeepsKeyOrderAndIntegers() throws {
        let text = #"{"b":1,"a":[true,false,null,"x\n\"y\""],"c":{"d":-2.5,"e":1e300}}"#
        let json = try JSON.parse(text)
        XCTAssertEqual(json.text, #"{"b":1,"a":[true,false,null,"x\n\"y\""],"c":{"d":-2.5,"e":1e+300}}"#)
    }

    func testRejectsMalformedInputWithPosition() {
        for bad in ["{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "tru", "1 2", "\"\u{01}\"", "-"] {
            XCTAssertThrowsError(try JSON.parse(bad), bad) { e in
                XCTAssertTrue("\(e)".contains("malformed JSON at byte"), "\(e)")
            }
        }
    }

    func testUnicodeEscapesAndSurrogates() throws {
        XCTAssertEqual(try JSON.parse(#""\u00e9\ud83d\ude00""#), .string("é😀"))
        XCTAssertThrowsError(try JSON.parse(#""\ud83d""#))
    }

    func testDepthLimit() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertThrowsError(try JSON.parse(deep))
    }
}
