import AutoHome
import AutoHomeSupport

/// `POST /v1/plugins/<name>/<method>` (admin): a JSON array of arguments →
/// `{"result"}`, through the same plugin host scripts use. It may wait up to
/// `pluginTimeoutMs`, so it runs on the work queue, never the network thread.
enum PluginRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("POST", "/v1/plugins/:name/:method", access: .scope(.admin), maxBody: ServerContext.maxDefinitionBytes,
                    blocking: true) { c throws(HTTPError) in
            let name = c.param("name"), method = c.param("method")
            let body = c.request.body.isEmpty ? JSON.array([]) : try c.request.jsonBody()
            guard case .array(let args) = body else {
                throw HTTPError(400, "the body must be a JSON array of arguments, not \(body.kindName)", field: "body")
            }
            guard let host = ctx.engine.plugins else { throw HTTPError.notFound("no plugin named \"\(name)\"") }
            switch host.call(plugin: name, method: method, arguments: args, timeoutMs: ctx.config.pluginTimeoutMs) {
            case .success(let result):
                return .ok(.object([("result", result)]))
            case .failure(let e):
                switch e.kind {
                case .unknown: throw HTTPError.notFound(e.message)
                case .timeout: throw HTTPError(504, e.message)
                case .unavailable:
                    var err = HTTPError(503, e.message)
                    err.header = ("retry-after", "5")
                    throw err
                case .failed: throw HTTPError(502, "plugin \"\(name)\": \(e.message)")
                }
            }
        })
    }
}
