import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// An error thrown by a native call (`device.set` refused) carries a stack
/// trace that names the native (`at __n_set (native)`) and the script line.
/// MuJS keeps the name pointer of every C function it is given and reads it
/// again for each such trace, long after the definition; CJSGuard must hand
/// it a copy that lives as long as the VM. (ASan, `make sanitize`, found the
/// trace reading Swift's temporary C string of the name after it was freed:
/// in a normal build a garbled trace, a wrong place, or a crash.)
final class ScriptFileNameTests: XCTestCase {
    func testNativeErrorsLongAfterTheDefinitionStillReadTheirNames() throws {
        let names = (0..<4).map { "rule-number-\($0).js" }
        var scripts: [String: String] = [:]
        for (i, name) in names.enumerated() {
            scripts[name] = "set('d\(i)', { n_onchange: function (v) {\n  home.getDevice('d\(i)').set('nope', v);\n} });"
        }
        let (e, _) = try makeEngine(scripts, vms: 1, devices: names.count)
        defer { e.stop() }
        // Reuse freed heap blocks with other bytes, as a busy daemon would
        // between building its VMs and the next error.
        var churn: [[CChar]] = []
        for k in 0..<20_000 { churn.append(Array(String(repeating: "#", count: 8 + k % 24).utf8CString)) }
        for (i, name) in names.enumerated() {
            let err = send(e, "d\(i)", Double(i + 1))?.errors.first
            XCTAssertEqual(err?.script, name)
            XCTAssertEqual(err?.line, 2)
            XCTAssertEqual(err?.message, "Error: device.set: device \"d\(i)\" has no property \"nope\"")
        }
        XCTAssertEqual(churn.count, 20_000)
    }
}
