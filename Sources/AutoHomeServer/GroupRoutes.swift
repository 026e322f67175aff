import AutoHome
import AutoHomeSupport

/// Groups (SPEC §3): list, one group, create/replace, delete. A change builds
/// the whole new hierarchy first (cycles and unknown members → 400), saves
/// it, and only then swaps it in, so nothing is half-applied. Changes run on
/// the work queue, one at a time, which keeps read-modify-write safe.
enum GroupRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/groups", access: .scope(.read)) { _ in
            .ok(.object([("groups", .array(ctx.engine.state.groups.groups.map(\.json)))]))
        })
        r.add(Route("GET", "/v1/groups/:id", access: .scope(.read)) { c throws(HTTPError) in
            let id = try Check.groupId(c.param("id"))
            guard let g = ctx.engine.state.groups.group(id) else { throw HTTPError.notFound("unknown group \"\(id)\"") }
            return .ok(g.json)
        })
        r.add(Route("PUT", "/v1/groups/:id", access: .scope(.admin), maxBody: ServerContext.maxDefinitionBytes,
                    blocking: true) { c throws(HTTPError) in try put(ctx, c) })
        r.add(Route("DELETE", "/v1/groups/:id", access: .scope(.admin), blocking: true) { c throws(HTTPError) in
            try delete(ctx, c)
        })
    }

    /// 201 created, 200 replaced; the body is the stored group.
    static func put(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response {
        let id = try Check.groupId(c.param("id"))
        let body = try c.request.jsonBody()
        let group: GroupDefinition
        do throws(ModelError) { group = try GroupDefinition.decode(body, id: id) } catch { throw HTTPError(400, error.message, field: error.field) }
        let current = ctx.engine.state.groups
        let existed = current.group(id) != nil
        let next: GroupGraph
        do throws(ModelError) { next = try current.replacing(group, knownDevices: ctx.engine.state.deviceIds) } catch {
            throw HTTPError(400, error.message, field: memberField(error.field))
        }
        try apply(ctx, next.groups)
        Log.info("group \"\(id)\" \(existed ? "replaced" : "created")")
        return .json(existed ? 200 : 201, group.json)
    }

    static func delete(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response {
        let id = try Check.groupId(c.param("id"))
        let current = ctx.engine.state.groups
        guard current.group(id) != nil else { throw HTTPError.notFound("unknown group \"\(id)\"") }
        let parents = current.groups.filter { $0.groups.contains(id) }.map(\.id)
        if !parents.isEmpty {
            throw HTTPError(409, "group \"\(id)\" is a child of \(parents.map { "\"\($0)\"" }.joined(separator: ", ")); remove it there first")
        }
        let next: GroupGraph
        do throws(ModelError) { next = try current.replacing(nil, removing: id, knownDevices: ctx.engine.state.deviceIds) } catch {
            throw HTTPError(400, error.message, field: error.field)
        }
        try apply(ctx, next.groups)
        Log.info("group \"\(id)\" deleted")
        return .ok(.object([("id", .string(id)), ("deleted", .bool(true))]))
    }

    private static func apply(_ ctx: ServerContext, _ groups: [GroupDefinition]) throws(HTTPError) {
        do throws(StorageError) { try ctx.stores.groups.saveGroups(groups) } catch {
            throw HTTPError(500, "cannot save the groups: \(error.description)")
        }
        do throws(ModelError) { try ctx.engine.setGroups(groups) } catch { throw HTTPError(400, error.message, field: error.field) }
    }

    /// GroupGraph names fields by list position ("groups[3].devices"); the
    /// caller sent one group, so name the member list instead.
    private static func memberField(_ f: String?) -> String? {
        guard let f else { return nil }
        if f.hasSuffix(".devices") { return "devices" }
        if f.hasSuffix(".groups") || f == "groups" { return "groups" }
        return f
    }
}
