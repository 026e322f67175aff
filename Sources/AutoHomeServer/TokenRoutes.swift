import AutoHome
import AutoHomeSupport

/// Token management, an extension to SPEC §5 (admin only): create a `read`,
/// `device` or `admin` token, list tokens by public id, revoke one. A new
/// token is shown once, in the 201 response; only its hash is kept.
enum TokenRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("POST", "/v1/tokens", access: .scope(.admin), maxBody: 4096, blocking: true) { c throws(HTTPError) in
            let body = try Check.object(try c.request.jsonBody(), what: "a token request")
            guard case .string(let s)? = body["scope"], let scope = Scope(rawValue: s) else {
                throw HTTPError(400, "\"scope\" must be \"read\", \"device\" or \"admin\"", field: "scope")
            }
            let made: (token: String, info: TokenInfo)
            do throws(StorageError) { made = try ctx.tokens.create(scope: scope) } catch {
                throw HTTPError(500, "cannot save the token: \(error.description)")
            }
            Log.info("created a \(scope.rawValue) token (id \(made.info.id))")
            return .json(201, .object([("token", .string(made.token)), ("id", .string(made.info.id)),
                                       ("scope", .string(scope.rawValue))]))
        })
        r.add(Route("GET", "/v1/tokens", access: .scope(.admin)) { _ in
            .ok(.object([("tokens", .array(ctx.tokens.list().map(\.json)))]))
        })
        r.add(Route("DELETE", "/v1/tokens/:id", access: .scope(.admin), blocking: true) { c throws(HTTPError) in
            let id = c.param("id")
            let hash = ctx.tokens.list().first { $0.id == id }?.hash
            let outcome: TokenStore.RevokeOutcome
            do throws(StorageError) { outcome = try ctx.tokens.revoke(id: id) } catch {
                throw HTTPError(500, "cannot save the tokens: \(error.description)")
            }
            switch outcome {
            case .revoked:
                // The devices it registered keep working; admin owns them now.
                if let hash {
                    do throws(StorageError) { try ctx.registrations.adopt(owner: hash) } catch {
                        throw HTTPError(500, "the token is revoked, but its devices could not be handed to admin: \(error.description)")
                    }
                }
                Log.info("revoked token \(id)")
                return .ok(.object([("id", .string(id)), ("deleted", .bool(true))]))
            case .unknown: throw HTTPError.notFound("unknown token id \"\(id)\"")
            case .lastAdmin: throw HTTPError(409, "this is the last admin token; create another admin token first")
            }
        })
    }
}
