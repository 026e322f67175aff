import AutoHome
import AutoHomeSupport

/// `GET /v1/status`: the engine's counters in exactly the SPEC §5 shape.
enum StatusRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/status", access: .scope(.read)) { _ in .ok(status(ctx.engine)) })
    }

    static func status(_ engine: EventManager) -> JSON {
        let s = engine.stats
        func n(_ v: Int) -> JSON { .number(Double(v)) }
        return .object([
            ("version", .string(AutoHomeVersion.string)),
            ("uptimeSeconds", .number((engine.uptimeSeconds * 1000).rounded() / 1000)),
            ("events", .object([("accepted", n(s[.accepted])), ("processed", n(s[.processed])),
                                ("rejected", n(s[.rejected])), ("busy", n(s[.busy]))])),
            ("ring", .object([("capacity", n(engine.ring.capacity)), ("used", n(engine.ring.used))])),
            ("vms", .object([("size", n(engine.config.vms)), ("busy", n(engine.vmsBusy)), ("replaced", n(s[.vmsReplaced]))])),
            ("scripts", .object([("generation", n(engine.scripts.generation)), ("errors", n(s[.scriptErrors])),
                                 ("errorsByScript", .object(s.scriptErrorsByScript.map { ($0.script, n($0.count)) }))])),
            ("memory", .object([("rssBytes", n(ProcessFigures.rssBytes()))])),
        ])
    }
}
