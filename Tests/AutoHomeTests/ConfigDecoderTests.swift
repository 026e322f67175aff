import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Config keys, types and limits (SPEC §7).
final class ConfigDecoderTests: XCTestCase {
    func testConfigRejectsUnknownKeysAndWrongTypesNamingThem() {
        XCTAssertThrowsError(try Config.decode(text: #"{"vmz": 2}"#)) { XCTAssertTrue("\($0)".contains("\"vmz\""), "\($0)") }
        XCTAssertThrowsError(try Config.decode(text: #"{"vms": "4"}"#)) { XCTAssertTrue("\($0)".contains("\"vms\""), "\($0)") }
        XCTAssertThrowsError(try Config.decode(text: #"{"ringSize": 0}"#)) { XCTAssertTrue("\($0)".contains("ringSize"), "\($0)") }
        XCTAssertThrowsError(try Config.decode(text: #"{"listen": "nowhere"}"#))
        let c = try! Config.decode(text: #"{"listen": "[::]:5000", "vms": 2}"#)
        XCTAssertEqual(c.vms, 2)
        XCTAssertEqual(ListenAddress.parse(c.listen), ListenAddress(host: "::", port: 5000))
        XCTAssertEqual(Config().effectiveScriptsDir, "/var/lib/auto-home/scripts")
    }
}
