import XCTest
@testable import AutoHomeClient

final class ServerAddressTests: XCTestCase {
    func testForms() throws {
        XCTAssertEqual(try ServerAddress(parsing: "pi.local"), ServerAddress(host: "pi.local", port: 4242))
        XCTAssertEqual(try ServerAddress(parsing: "10.0.0.5:5000"), ServerAddress(host: "10.0.0.5", port: 5000))
        XCTAssertEqual(try ServerAddress(parsing: "[::1]:4243"), ServerAddress(host: "::1", port: 4243))
        XCTAssertEqual(try ServerAddress(parsing: "fe80::1"), ServerAddress(host: "fe80::1", port: 4242))
        XCTAssertEqual(ServerAddress(host: "::1", port: 1).description, "[::1]:1")
    }

    func testBadPortIsAUsageError() {
        XCTAssertThrowsError(try ServerAddress(parsing: "pi:99999")) { e in
            XCTAssertEqual((e as? ClientError)?.exitCode, 2)
        }
    }

    func testPinSpellings() {
        let hex = String(repeating: "ab", count: 32)
        XCTAssertEqual(normalizePin("sha256:" + hex.uppercased()), "sha256:" + hex)
        let colons = stride(from: 0, to: 64, by: 2).map { i -> String in
            let s = hex.index(hex.startIndex, offsetBy: i)
            return String(hex[s..<hex.index(s, offsetBy: 2)])
        }.joined(separator: ":")
        XCTAssertEqual(normalizePin(colons), "sha256:" + hex)
        XCTAssertNil(normalizePin("sha256:abc"))
    }
}
