import AutoHome
import AutoHomeSupport

/// Durable history (SPEC §5 `GET /v1/history`): the points the store kept for
/// one property, newest first, `since`/`until` inclusive Unix ms. Button
/// presses are points (the pressed value). The store commits in batches; a
/// query first has the store commit what is queued, so it shows every value
/// written so far.
enum HistoryRoutes {
    static let defaultLimit = 1000
    static let maxLimit = 100_000

    static func install(on r: Router, _ ctx: ServerContext) {
        // blocking: a query over a large history reads the disk.
        r.add(Route("GET", "/v1/history", access: .scope(.read), blocking: true) { c throws(HTTPError) in
            try query(ctx, c)
        })
    }

    static func query(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response {
        let q = c.request.query
        guard let rawDevice = q["device"] else { throw HTTPError(400, "\"device\" is required", field: "device") }
        guard let rawProperty = q["property"] else { throw HTTPError(400, "\"property\" is required", field: "property") }
        let device = try Check.deviceId(rawDevice, field: "device")
        guard Identifiers.isValidPropertyName(rawProperty) else {
            throw HTTPError(400, "invalid property name \"\(rawProperty)\": must match [A-Za-z0-9_]{1,64}", field: "property")
        }
        let since = try millis(q["since"], "since"), until = try millis(q["until"], "until")
        if let s = since, let u = until, s > u { throw HTTPError(400, "since is after until", field: "since") }
        var limit = defaultLimit
        if let l = q["limit"] {
            guard let n = Int(l), n >= 1, n <= maxLimit else {
                throw HTTPError(400, "limit must be a whole number from 1 to \(maxLimit)", field: "limit")
            }
            limit = n
        }
        guard let live = ctx.engine.state.live(device) else { throw HTTPError.notFound("unknown device \"\(device)\"") }
        guard live.schema.propertyIndex(rawProperty) != nil else {
            throw HTTPError.notFound("device \"\(device)\" has no property \"\(rawProperty)\"")
        }
        guard let store = ctx.stores.history else { throw HTTPError(501, "this daemon keeps no durable history") }
        let points: [HistoryPoint]
        do throws(StorageError) {
            points = try store.history(device: device, property: rawProperty, since: since, until: until, limit: limit)
        } catch { throw HTTPError(500, "cannot read the history: \(error.description)") }
        return .ok(.object([("points", .array(points.map { .object([("time", .number(Double($0.time))), ("value", $0.value.json)]) }))]))
    }

    private static func millis(_ s: String?, _ field: String) throws(HTTPError) -> Int64? {
        guard let s else { return nil }
        guard let n = Int64(s) else { throw HTTPError(400, "\(field) must be Unix milliseconds (a whole number)", field: field) }
        return n
    }
}
