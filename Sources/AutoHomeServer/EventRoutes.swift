import AutoHome
import AutoHomeSupport

/// `POST /v1/event/<registration>`: a device reports values. The registration
/// id is the credential. 202 `{"seq"}` once the event is in the ring, or with
/// `?wait=1` 200 after processing with what was applied and skipped and what
/// the run's handlers sent, logged and threw (the fields of a replay line);
/// the answer then comes from the engine worker that ran it, so the network
/// thread never waits.
enum EventRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        // maxBody nil: the cap is maxEventBytes, checked below so a rejected
        // event is counted by the engine like its own rejections.
        r.add(Route("POST", "/v1/event/:registration", access: .registration, maxBody: nil) { c throws(HTTPError) in
            do throws(HTTPError) {
                return try event(ctx, c)
            } catch {
                if !error.fromEngine && error.status < 500 { _ = ctx.engine.reject(.refused(error.message, field: error.field)) }
                throw error
            }
        })
    }

    static func event(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response? {
        guard let reg = ctx.registrations.lookup(c.param("registration")) else {
            throw HTTPError.notFound("unknown registration")
        }
        let cap = ctx.config.maxEventBytes
        if c.request.bodyTooLarge || c.request.body.count > cap {
            throw HTTPError(413, "the event body is larger than maxEventBytes (\(cap) bytes)", field: "body")
        }
        let properties: [(name: String, value: JSON)]
        let body = try c.request.jsonBody()
        do throws(SubmitError) { properties = try EventManager.parseProperties(body) } catch { throw HTTPError(400, error.description, field: error.field) }
        return try submit(ctx, c, device: reg.device, properties: properties, origin: .device)
    }

    /// Puts an event (or a command) into the engine; shared with `PUT …/properties/…`.
    static func submit(_ ctx: ServerContext, _ c: RouteContext, device: String,
                       properties: [(name: String, value: JSON)], origin: EventOrigin) throws(HTTPError) -> Response? {
        let wait = c.request.flag("wait")
        let completion: ((EventResult) -> Void)? = wait ? { result in c.respond(.ok(resultJSON(result))) } : nil
        switch ctx.engine.submit(deviceId: device, properties: properties, origin: origin, completion: completion) {
        case .success(let seq):
            return wait ? nil : .json(202, .object([("seq", .number(Double(seq)))]))
        case .failure(let e):
            var error = HTTPError(e)
            error.fromEngine = true
            throw error
        }
    }

    static func resultJSON(_ r: EventResult) -> JSON { r.json }
}
