import AutoHome
import AutoHomeSupport

/// `GET /v1/logs?since=&limit=&level=` (SPEC §5): the recent log lines, newest
/// first, from the daemon's in-memory ring; `?follow=1` keeps the stream open
/// as NDJSON, oldest first: the last lines (`limit`, default 10), then every
/// new one.
enum LogRoutes {
    static let defaultLimit = 100
    static let defaultFollowBacklog = 10

    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/logs", access: .scope(.read)) { c throws(HTTPError) in
            let q = c.request.query
            for k in q.keys where !["since", "limit", "level", "follow"].contains(k) {
                throw HTTPError(400, "unknown parameter \"\(k)\" (since, limit, level, follow)", field: k)
            }
            let follow = c.request.flag("follow")
            var since: Int64?
            if let s = q["since"] {
                guard let v = Int64(s), v >= 0 else { throw HTTPError(400, "must be Unix milliseconds (a whole number)", field: "since") }
                since = v
            }
            var limit = follow ? defaultFollowBacklog : defaultLimit
            if let s = q["limit"] {
                guard let v = Int(s), v >= 0, v <= ctx.logs.capacity else {
                    throw HTTPError(400, "must be a whole number from 0 to \(ctx.logs.capacity)", field: "limit")
                }
                limit = v
            }
            var level = LogLevel.debug
            if let s = q["level"] {
                guard let l = LogLevel(name: s) else { throw HTTPError(400, "must be debug, info, warn or error", field: "level") }
                level = l
            }
            let lines = ctx.logs.lines(since: since, limit: limit, level: level)
            if follow {
                ctx.logs.follow(exchange: c.request.exchange, sink: c.sink, level: level, backlog: lines)
                return nil
            }
            return .ok(.object([("lines", .array(lines.map(\.json)))]))
        })
    }
}
