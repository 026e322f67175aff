import AutoHome
import AutoHomeSupport

/// Devices: registration (`POST /v1/devices`), the views with current values,
/// one property with its recent history, `PUT` of a property as a command,
/// registration rotation and deletion. A registration id is never shown by
/// the views: it is the device's secret.
enum DeviceRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/devices", access: .scope(.read)) { _ in
            .ok(.object([("devices", .array(ctx.engine.state.allLive().map { $0.viewJSON() }))]))
        })
        r.add(Route("POST", "/v1/devices", access: .scope(.device), maxBody: ServerContext.maxDefinitionBytes,
                    blocking: true) { c throws(HTTPError) in try register(ctx, c) })
        r.add(Route("GET", "/v1/devices/:id", access: .scope(.read)) { c throws(HTTPError) in
            .ok(try live(ctx, c.param("id")).viewJSON())
        })
        r.add(Route("GET", "/v1/devices/:id/properties/:name", access: .scope(.read)) { c throws(HTTPError) in
            try property(ctx, c)
        })
        r.add(Route("DELETE", "/v1/devices/:id", access: .scope(.device), blocking: true) { c throws(HTTPError) in
            try delete(ctx, c)
        })
        r.add(Route("POST", "/v1/devices/:id/registration", access: .scope(.device), maxBody: 4096,
                    blocking: true) { c throws(HTTPError) in try rotate(ctx, c) })
        r.add(Route("PUT", "/v1/devices/:id/properties/:name", access: .scope(.admin),
                    maxBody: ServerContext.maxDefinitionBytes) { c throws(HTTPError) in try command(ctx, c) })
    }

    static func live(_ ctx: ServerContext, _ rawId: String) throws(HTTPError) -> DeviceVersion {
        let id = try Check.deviceId(rawId)
        guard let d = ctx.engine.state.live(id) else { throw HTTPError.notFound("unknown device \"\(id)\"") }
        return d
    }

    /// 201 new registration, 200 same device from the same token (values kept
    /// where the type is unchanged), 409 when another token owns the id or the
    /// config defines it.
    static func register(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response {
        let body = try c.request.jsonBody()
        let def: DeviceDefinition
        do throws(ModelError) { def = try DeviceDefinition.decode(body) } catch { throw HTTPError(400, error.message, field: error.field) }
        if ctx.configDeviceIds.contains(def.id) {
            throw HTTPError(409, "device \"\(def.id)\" is defined in the daemon's config and cannot be registered", field: "id")
        }
        guard let token = c.token else { throw HTTPError.unauthorized("missing token") }
        let outcome: Registrations.Outcome
        do throws(StorageError) { outcome = try ctx.registrations.register(def, token: token) { ctx.engine.define($0) } } catch {
            throw HTTPError(500, "cannot save the registration: \(error.description)")
        }
        switch outcome {
        case .conflict:
            throw HTTPError(409, "device \"\(def.id)\" is registered by another token", field: "id")
        case .created(let reg):
            Log.info("device \"\(def.id)\" registered")
            return .json(201, .object([("id", .string(def.id)), ("registration", .string(reg))]))
        case .updated(let reg):
            Log.info("device \"\(def.id)\" definition updated")
            return .json(200, .object([("id", .string(def.id)), ("registration", .string(reg))]))
        }
    }

    /// The registered device `id` for a caller that may manage it (admin, or
    /// the token that registered it); 409 for a config device.
    private static func managed(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> (String, TokenInfo) {
        let id = try Check.deviceId(c.param("id"))
        guard let token = c.token else { throw HTTPError.unauthorized("missing token") }
        if ctx.configDeviceIds.contains(id) {
            throw HTTPError(409, "device \"\(id)\" is defined in the daemon's config; change the config to remove it", field: "id")
        }
        guard let reg = ctx.registrations.registration(ofDevice: id) else { throw HTTPError.notFound("unknown device \"\(id)\"") }
        guard Registrations.mayManage(reg, token) else {
            throw HTTPError(403, "device \"\(id)\" was registered by another token; only that token or an admin token may do this")
        }
        return (id, token)
    }

    /// `POST /v1/devices/<id>/registration`: a new registration id; the old one
    /// stops working at once (its open action streams end too).
    static func rotate(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response {
        let (id, token) = try managed(ctx, c)
        let outcome: Registrations.ManageOutcome
        do throws(StorageError) { outcome = try ctx.registrations.rotate(device: id, token: token) } catch {
            throw HTTPError(500, "cannot save the new registration: \(error.description)")
        }
        switch outcome {
        case .done(let reg):
            ctx.hub.endStreams(deviceId: id)
            Log.info("device \"\(id)\": registration rotated")
            return .ok(.object([("id", .string(id)), ("registration", .string(reg))]))
        case .unknown: throw HTTPError.notFound("unknown device \"\(id)\"")
        case .forbidden: throw HTTPError(403, "device \"\(id)\" was registered by another token")
        }
    }

    /// `DELETE /v1/devices/<id>`: the definition, registration, values, pending
    /// actions and durable history go; groups that listed it drop it.
    static func delete(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response {
        let (id, _) = try managed(ctx, c)
        // The engine first: no new event or command is admitted from here on.
        let listed = ctx.engine.state.groups.groups.contains { $0.devices.contains(id) }
        if let groups = ctx.engine.removeDevice(id), listed {
            do throws(StorageError) { try ctx.stores.groups.saveGroups(groups) } catch {
                throw HTTPError(500, "cannot save the groups: \(error.description)")
            }
        }
        do throws(StorageError) { try ctx.registrations.remove(device: id) } catch {
            throw HTTPError(500, "cannot delete the device from the store: \(error.description)")
        }
        ctx.hub.forget(deviceId: id)
        Log.info("device \"\(id)\" deleted")
        return .ok(.object([("id", .string(id)), ("deleted", .bool(true))]))
    }

    /// The property view plus its recent values, newest first (`?limit=N`).
    static func property(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response {
        let d = try live(ctx, c.param("id"))
        let name = try Check.propertyName(c.param("name"))
        guard let i = d.schema.propertyIndex(name) else {
            throw HTTPError.notFound("device \"\(d.id)\" has no property \"\(name)\"")
        }
        var limit = Int.max
        if let l = c.request.query["limit"] {
            guard let n = Int(l), n > 0 else { throw HTTPError(400, "limit must be a positive whole number", field: "limit") }
            limit = n
        }
        let history = ctx.engine.state.history(d.id, property: name, newest: limit) ?? []
        guard case .object(var members) = d.schema.property(i).viewJSON(value: d.values[i]) else { return .ok(.null) }
        members.append(("history", .array(history.map(\.json))))
        return .ok(.object(members))
    }

    /// `{"value"}` → a command through the pipeline (origin .command), which
    /// the engine also sends to the device as an action for RW/WO properties.
    static func command(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response? {
        let d = try live(ctx, c.param("id"))
        let name = try Check.propertyName(c.param("name"))
        guard d.schema.propertyIndex(name) != nil else {
            throw HTTPError.notFound("device \"\(d.id)\" has no property \"\(name)\"")
        }
        let body = try Check.object(try c.request.jsonBody(), what: "a command")
        guard let value = body["value"] else { throw HTTPError(400, "\"value\" is required", field: "value") }
        return try EventRoutes.submit(ctx, c, device: d.id, properties: [(name, value)], origin: .command)
    }
}
