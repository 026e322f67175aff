import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

final class CoercionTests: XCTestCase {
    let sw = PropertyDefinition(name: "p", type: .switch)
    let dial = PropertyDefinition(name: "d", type: .dial, min: -10, max: 10)
    let text = PropertyDefinition(name: "t", type: .text)

    func testSwitchWordsAreCaseInsensitiveAndKeepTheirLabel() throws {
        let table: [(String, Bool)] = [("on", true), ("OFF", false), ("Up", true), ("down", false), ("open", true),
                                       ("closed", false), ("close", false), ("yes", true), ("NO", false), ("true", true), ("false", false)]
        for (word, state) in table {
            let v = try Coercion.coerce(.string(word), to: sw).get()
            XCTAssertEqual(v, .flag(state, label: word.lowercased()), word)
        }
        XCTAssertEqual(try Coercion.coerce(.bool(true), to: sw).get(), .flag(true, label: "true"))
    }

    func testSwitchRejectsOtherKindsNamingTheProperty() {
        for bad: JSON in [.string("banana"), .number(1), .null, .array([]), .object([])] {
            guard case .failure(let e) = Coercion.coerce(bad, to: sw) else { return XCTFail("\(bad) accepted") }
            XCTAssertEqual(e.field, "p")
            XCTAssertTrue(e.message.contains("'p'"), e.message)
        }
    }

    func testDialClampsNumbersAndNumericStrings() throws {
        XCTAssertEqual(try Coercion.coerce(.number(50), to: dial).get(), .number(10))
        XCTAssertEqual(try Coercion.coerce(.number(-50), to: dial).get(), .number(-10))
        XCTAssertEqual(try Coercion.coerce(.string(" 2.5 "), to: dial).get(), .number(2.5))
        XCTAssertThrowsError(try Coercion.coerce(.string("ten"), to: dial).get())
        XCTAssertThrowsError(try Coercion.coerce(.bool(true), to: dial).get())
        XCTAssertThrowsError(try Coercion.coerce(.object([]), to: dial).get())
    }

    func testTextLimitIsInBytes() throws {
        XCTAssertNoThrow(try Coercion.coerce(.string(String(repeating: "a", count: 1024)), to: text).get())
        XCTAssertThrowsError(try Coercion.coerce(.string(String(repeating: "é", count: 513)), to: text).get())
        XCTAssertThrowsError(try Coercion.coerce(.number(3), to: text).get())
    }

    func testDefinitionRejectsMinAboveMaxAndDuplicateNames() {
        let bad = try! JSON.parse(#"{"id":"x","properties":[{"name":"d","type":"dial","min":5,"max":1}]}"#)
        XCTAssertThrowsError(try DeviceDefinition.decode(bad)) { XCTAssertEqual(($0 as? ModelError)?.field, "properties[0].min") }
        let dup = try! JSON.parse(#"{"id":"x","properties":[{"name":"a","type":"text"},{"name":"a","type":"switch"}]}"#)
        XCTAssertThrowsError(try DeviceDefinition.decode(dup))
        let badId = try! JSON.parse(#"{"id":"a/b","properties":[]}"#)
        XCTAssertThrowsError(try DeviceDefinition.decode(badId))
    }
}
