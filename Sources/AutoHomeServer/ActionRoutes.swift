import AutoHome
import AutoHomeSupport

/// `GET /v1/actions/<registration>`: an open NDJSON stream of the actions
/// for the device; what was kept while no stream was open comes first.
enum ActionRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/actions/:registration", access: .registration) { c throws(HTTPError) in
            guard let reg = ctx.registrations.lookup(c.param("registration")) else {
                throw HTTPError.notFound("unknown registration")
            }
            ctx.hub.open(deviceId: reg.device, exchange: c.request.exchange, sink: c.sink)
            return nil
        })
    }
}
