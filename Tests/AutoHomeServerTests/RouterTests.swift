import XCTest
@testable import AutoHome
@testable import AutoHomeServer
import AutoHomeStore
@testable import AutoHomeSupport

final class RouterTests: XCTestCase {
    private func router() throws -> (Router, RecordingSink, String) {
        let tokens = try TokenStore(storage: SQLiteStore(dataDir: Files.makeTemporaryDirectory(prefix: "ah-router")), adminTokenPath: nil)
        let admin = try tokens.ensureAdminToken()!
        let r = Router(tokens: tokens, work: nil)
        r.add(Route("GET", "/v1/things", access: .open) { _ in .ok(.string("list")) })
        r.add(Route("GET", "/v1/things/:id", access: .open) { c in .ok(.string("one " + c.param("id"))) })
        r.add(Route("DELETE", "/v1/things/:id", access: .scope(.admin)) { c in .ok(.string("gone " + c.param("id"))) })
        r.add(Route("GET", "/v1/things/:id/parts/:part", access: .open) { c in
            .ok(.string(c.param("id") + "/" + c.param("part")))
        })
        r.add(Route("GET", "/v1/files/*name", access: .open) { c in .ok(.string("file " + c.param("name"))) })
        r.add(Route("POST", "/v1/small", access: .open, maxBody: 4) { _ in .ok(.null) })
        return (r, RecordingSink(), admin)
    }

    private func send(_ r: Router, _ sink: RecordingSink, _ method: String, _ target: String,
                      token: String? = nil, body: String = "", tooLarge: Bool = false) -> Response {
        let ex = ExchangeID(conn: 7, stream: Int64(sink.entries.count * 4))
        r.handle(Request(method: method, target: target, authorization: token.map { "Bearer " + $0 },
                         body: Array(body.utf8), bodyTooLarge: tooLarge, exchange: ex), sink: sink)
        return sink.response(for: ex)!
    }

    func testMatchesLiteralsParamsAndTail() throws {
        let (r, sink, _) = try router()
        XCTAssertEqual(send(r, sink, "GET", "/v1/things").jsonValue, .string("list"))
        XCTAssertEqual(send(r, sink, "GET", "/v1/things/").jsonValue, .string("list"))
        XCTAssertEqual(send(r, sink, "GET", "/v1/things/a.b").jsonValue, .string("one a.b"))
        XCTAssertEqual(send(r, sink, "GET", "/v1/things/x/parts/y?z=1").jsonValue, .string("x/y"))
        XCTAssertEqual(send(r, sink, "GET", "/v1/files/../etc/passwd").jsonValue, .string("file ../etc/passwd"))
        XCTAssertEqual(send(r, sink, "GET", "/v1/files/a%2Fb").jsonValue, .string("file a/b"))
        XCTAssertEqual(send(r, sink, "GET", "/v1/things/a%20b").jsonValue, .string("one a b"))
    }

    func testUnknownPath404AndWrongMethod405() throws {
        let (r, sink, _) = try router()
        let nf = send(r, sink, "GET", "/v1/nothing")
        XCTAssertEqual(nf.status, 404)
        XCTAssertNotNil(nf.error)
        XCTAssertEqual(send(r, sink, "GET", "/v1/things/a/b").status, 404)
        XCTAssertEqual(send(r, sink, "GET", "/v1/things//").status, 404)
        let na = send(r, sink, "PUT", "/v1/things/a")
        XCTAssertEqual(na.status, 405)
        XCTAssertEqual(na.header?.name, "allow")
        XCTAssertEqual(na.header?.value, "GET, DELETE")
        XCTAssertEqual(send(r, sink, "GET", "/v1/things/%zz").status, 400)
    }

    func testAuthBeforeBodyCap() throws {
        let (r, sink, admin) = try router()
        let missing = send(r, sink, "DELETE", "/v1/things/a")
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.header?.name, "www-authenticate")
        XCTAssertEqual(send(r, sink, "DELETE", "/v1/things/a", token: "wrong").status, 401)
        XCTAssertEqual(send(r, sink, "DELETE", "/v1/things/a", token: admin).jsonValue, .string("gone a"))
        XCTAssertEqual(send(r, sink, "POST", "/v1/small", body: "12345").status, 413)
        XCTAssertEqual(send(r, sink, "POST", "/v1/small", tooLarge: true).status, 413)
        XCTAssertEqual(send(r, sink, "POST", "/v1/small", body: "1234").status, 200)
    }

    func testQueryAndPercentDecoding() {
        let req = Request(method: "GET", target: "/p?wait=1&a=%41b&flag&x=1&x=2")
        XCTAssertEqual(req.path, "/p")
        XCTAssertTrue(req.flag("wait"))
        XCTAssertTrue(req.flag("flag"))
        XCTAssertFalse(req.flag("nope"))
        XCTAssertEqual(req.query["a"], "Ab")
        XCTAssertEqual(req.query["x"], "1")
        XCTAssertEqual(Request.percentDecode("%e2%82%ac"), "€")
        XCTAssertNil(Request.percentDecode("%4"))
        XCTAssertNil(Request.percentDecode("%ff"))
    }

    func testErrorBodiesAreJSON() {
        var e = HTTPError(422, "bad", field: "x")
        e.extra = [("line", .number(3))]
        XCTAssertEqual(e.response.jsonValue, .object([("error", .string("bad")), ("field", .string("x")), ("line", .number(3))]))
        XCTAssertEqual(e.response.contentType, "application/json")
        let busy = HTTPError(SubmitError.busy)
        XCTAssertEqual(busy.status, 503)
        XCTAssertEqual(busy.header?.name, "retry-after")
        XCTAssertEqual(busy.header?.value, "1")
        XCTAssertEqual(HTTPError(SubmitError.readOnly(ModelError("ro", field: "p"))).status, 409)
        XCTAssertEqual(HTTPError(SubmitError.unknownDevice("d")).status, 404)
        XCTAssertEqual(HTTPError(SubmitError.tooLarge("big")).status, 413)
    }
}
