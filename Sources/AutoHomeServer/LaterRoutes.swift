import AutoHome
import AutoHomeSupport

/// Routes of SPEC §5 that later issues implement (durable history needs the
/// SQLite store). They answer 501 with a JSON error
/// after the usual token check, so clients can tell "not yet" from "wrong".
enum LaterRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/history", access: .scope(.read)) { _ throws(HTTPError) in
            throw HTTPError(501, "durable history is not implemented yet (it comes with the SQLite store); GET /v1/devices/<id>/properties/<name> shows the recent values")
        })
    }
}
