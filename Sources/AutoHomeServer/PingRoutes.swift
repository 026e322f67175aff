import AutoHome
import AutoHomeSupport

/// `GET /v1/ping`: liveness without a token (load balancers, the CLI's
/// first contact before it has a token).
enum PingRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/ping", access: .open) { _ in .ok(.object([("ok", .bool(true))])) })
    }
}
