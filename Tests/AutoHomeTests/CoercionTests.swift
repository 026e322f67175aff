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
        XCTAssertEqual(try Coercion.coerce(.string("2.5"), to: dial).get(), .number(2.5))
        XCTAssertThrowsError(try Coercion.coerce(.string(" 2.5 "), to: dial).get(), "SPEC §1: plain decimal numerals only")
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

    func testDialStringsMustBePlainDecimalNumerals() {
        let dial = PropertyDefinition(name: "level", type: .dial, min: 0, max: 100)
        for bad in ["0x10", " 5 ", "+5", "inf", "nan", "1e", ".", "", "5.5.5", "1_000"] {
            guard case .failure(let e) = Coercion.coerce(.string(bad), to: dial) else { return XCTFail("accepted \(bad)") }
            XCTAssertEqual(e.field, "level")
        }
        for (good, want) in [("21.5", 21.5), ("-3", 0.0), ("1e1", 10.0), (".5", 0.5), ("7.", 7.0), ("1E+1", 10.0)] {
            XCTAssertEqual(try? Coercion.coerce(.string(good), to: dial).get(), .number(want), good)
        }
    }

    func testDotIdsAreNotIds() {
        XCTAssertFalse(Identifiers.isValidId("."))
        XCTAssertFalse(Identifiers.isValidId(".."))
        XCTAssertTrue(Identifiers.isValidId("..."))
        XCTAssertTrue(Identifiers.isValidId("a.b"))
    }

    func testADeviceViewPostedBackKeepsItsSwitchWord() throws {
        let view = try JSON.parse(#"{"name": "power", "type": "switch", "value": false, "label": "off", "mode": "RW"}"#)
        XCTAssertEqual(try PropertyDefinition.decode(view, path: "p").initial, .flag(false, label: "off"))
        let open = try JSON.parse(#"{"name": "door", "type": "switch", "value": true, "label": "open"}"#)
        XCTAssertEqual(try PropertyDefinition.decode(open, path: "p").initial, .flag(true, label: "open"))
        // a label that contradicts the value is not taken
        let odd = try JSON.parse(#"{"name": "door", "type": "switch", "value": true, "label": "closed"}"#)
        XCTAssertEqual(try PropertyDefinition.decode(odd, path: "p").initial, .flag(true, label: "true"))
    }
}
