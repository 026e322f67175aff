import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Reading MuJS's error text into script, line and message (SPEC §2.7: a
/// throw is reported with script name and line).
final class ScriptErrorTests: XCTestCase {
    func testRuntimeErrorNamesTheFirstFrameInAnOwnersScript() {
        let e = ScriptError.fromMuJS("TypeError: cannot read property 'x' of undefined\n\tat f (prelude.js:40)\n\tat hall.js:12\n\tat (hall.js:3)")
        XCTAssertEqual(e, ScriptError(script: "hall.js", line: 12, message: "TypeError: cannot read property 'x' of undefined"))
    }

    func testFrameWithAFunctionName() {
        let e = ScriptError.fromMuJS("Error: boom\n\tat onchange (lights.js:7)")
        XCTAssertEqual(e, ScriptError(script: "lights.js", line: 7, message: "Error: boom"))
    }

    func testSyntaxErrorCarriesFileAndLineInTheMessage() {
        let e = ScriptError.fromMuJS("SyntaxError: broken.js:3: unexpected token in expression: ')'")
        XCTAssertEqual(e.script, "broken.js")
        XCTAssertEqual(e.line, 3)
        XCTAssertEqual(e.message, "SyntaxError: unexpected token in expression: ')'")
        XCTAssertEqual(e.description, "broken.js:3: SyntaxError: unexpected token in expression: ')'")
    }

    func testPreludeFramesAloneFallBackToTheGivenScript() {
        let e = ScriptError.fromMuJS("Error: thrown\n\tat __call (prelude.js:9)", fallbackScript: "a.js")
        XCTAssertEqual(e, ScriptError(script: "a.js", line: nil, message: "Error: thrown"))
        XCTAssertEqual(e.description, "a.js: Error: thrown")
    }

    func testThrownNonErrorValueKeepsItsText() {
        let e = ScriptError.fromMuJS("just a string")
        XCTAssertEqual(e, ScriptError(script: nil, line: nil, message: "just a string"))
    }

    func testARealThrowThroughTheEngineIsAttributed() throws {
        let (e, c) = try makeEngine(["hall.js": "set('d0', { n_onchange: function (v) {\n  null.x = 1;\n} });"], vms: 1)
        defer { e.stop() }
        let r = send(e, "d0", 1)
        XCTAssertEqual(r?.errors.first?.script, "hall.js")
        XCTAssertEqual(r?.errors.first?.line, 2)
        XCTAssertEqual(c.errors.count, 1)
        XCTAssertEqual(e.stats[.scriptErrors], 1)
    }
}
