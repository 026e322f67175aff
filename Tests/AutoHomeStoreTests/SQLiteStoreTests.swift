import XCTest
@testable import AutoHomeStore
import AutoHome
import AutoHomeSupport

final class SQLiteStoreTests: XCTestCase {
    func testPlaceholderOpens() throws {}
}
