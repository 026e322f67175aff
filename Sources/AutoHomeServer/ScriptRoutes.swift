import AutoHome
import AutoHomeSupport

/// Scripts (SPEC §4, §5): list, get, put, delete, and a bundle of several
/// files as one change. Every change builds the whole next set and has the
/// engine compile and load it in a scratch VM first: on failure 422 with the
/// script and line, and nothing changes (memory or disk). On success the
/// files are written atomically (temp, fsync, rename) inside the engine's
/// commit step, before the new generation is switched in, so disk and memory
/// never disagree. Runs in progress finish on the old generation.
enum ScriptRoutes {
    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/scripts", access: .scope(.read)) { _ in list(ctx) })
        r.add(Route("GET", "/v1/scripts/*name", access: .scope(.read)) { c throws(HTTPError) in
            let name = try Check.scriptName(c.param("name"))
            guard let f = ctx.engine.scripts.files.first(where: { $0.name == name }) else {
                throw HTTPError.notFound("no script \"\(name)\"")
            }
            return Response(status: 200, contentType: "text/javascript", body: Array(f.source.utf8))
        })
        r.add(Route("PUT", "/v1/scripts/*name", access: .scope(.admin), maxBody: ServerContext.maxScriptBytes,
                    blocking: true) { c throws(HTTPError) in
            let name = try Check.scriptName(c.param("name"))
            guard let source = String(validating: c.request.body, as: UTF8.self) else {
                throw HTTPError(400, "the script is not UTF-8 text", field: "body")
            }
            var files = ctx.engine.scripts.files.filter { $0.name != name }
            files.append(ScriptFile(name: name, source: source))
            return try change(ctx, files, write: [ScriptFile(name: name, source: source)], remove: [])
        })
        r.add(Route("DELETE", "/v1/scripts/*name", access: .scope(.admin), blocking: true) { c throws(HTTPError) in
            let name = try Check.scriptName(c.param("name"))
            let current = ctx.engine.scripts.files
            guard current.contains(where: { $0.name == name }) else { throw HTTPError.notFound("no script \"\(name)\"") }
            return try change(ctx, current.filter { $0.name != name }, write: [], remove: [name], warnings: false)
        })
        r.add(Route("POST", "/v1/scripts", access: .scope(.admin), maxBody: ServerContext.maxBundleBytes,
                    blocking: true) { c throws(HTTPError) in try bundle(ctx, c) })
    }

    static func list(_ ctx: ServerContext) -> Response {
        let set = ctx.engine.scripts
        let items: [JSON] = set.files.sorted { $0.name < $1.name }.map { f in
            let bytes = Array(f.source.utf8)
            return .object([("name", .string(f.name)), ("size", .number(Double(bytes.count))),
                            ("sha256", .string(Crypto.sha256Hex(bytes)))])
        }
        return .ok(.object([("generation", .number(Double(set.generation))), ("scripts", .array(items))]))
    }

    /// `{"scripts": {"a.js": "...", …}, "replace": bool}`: with `replace` the
    /// bundle is the whole new set (other files are deleted), else it is
    /// merged over the current one.
    static func bundle(_ ctx: ServerContext, _ c: RouteContext) throws(HTTPError) -> Response {
        let body = try Check.object(try c.request.jsonBody(), what: "a script bundle")
        for (k, _) in body.objectMembers ?? [] where k != "scripts" && k != "replace" {
            throw HTTPError(400, "unknown key \"\(k)\" (scripts, replace)", field: k)
        }
        guard case .object(let members)? = body["scripts"] else {
            throw HTTPError(400, "\"scripts\" must be an object {\"name.js\": \"source\", …}", field: "scripts")
        }
        var replace = false
        if let r = body["replace"] {
            guard case .bool(let b) = r else { throw HTTPError(400, "must be true or false", field: "replace") }
            replace = b
        }
        var given: [ScriptFile] = []
        for (name, value) in members {
            _ = try Check.scriptName(name, field: "scripts.\(name)")
            guard case .string(let source) = value else {
                throw HTTPError(400, "the source must be a string, not \(value.kindName)", field: "scripts.\(name)")
            }
            if source.utf8.count > ServerContext.maxScriptBytes {
                throw HTTPError(413, "script \"\(name)\" is larger than \(ServerContext.maxScriptBytes) bytes", field: "scripts.\(name)")
            }
            given.append(ScriptFile(name: name, source: source))
        }
        let current = ctx.engine.scripts.files
        let givenNames = Set(given.map(\.name))
        let next = replace ? given : current.filter { !givenNames.contains($0.name) } + given
        let removed = replace ? current.map(\.name).filter { !givenNames.contains($0) } : []
        return try change(ctx, next, write: given, remove: removed)
    }

    /// Validates `files` as the next generation and, if it loads, writes and
    /// removes the named files on disk before the switch. 200 `{"generation",
    /// "warnings"}`: what the new set has that can never run.
    /// (`warnings: false`: DELETE answers only `{"generation"}`, SPEC §5.)
    static func change(_ ctx: ServerContext, _ files: [ScriptFile], write: [ScriptFile], remove: [String],
                       warnings: Bool = true) throws(HTTPError) -> Response {
        let dir = ctx.config.effectiveScriptsDir
        var saveError: FileError?
        let result = ctx.engine.reloadScripts(files) { set in
            do throws(FileError) {
                try Files.makeDirectories(dir)
                for f in write { try Files.writeAtomically(dir + "/" + f.name, Array(f.source.utf8)) }
                for n in remove where Files.exists(dir + "/" + n) { try Files.remove(dir + "/" + n) }
                // The generation keeps counting across restarts (SPEC §6).
                do throws(StorageError) { try ctx.stores.generations?.saveScriptGeneration(set.generation) } catch {
                    throw FileError(error.message)
                }
            } catch {
                saveError = error
                throw error
            }
        }
        switch result {
        case .success(let reload):
            Log.info("scripts: generation \(reload.generation) (\(write.map(\.name) + remove.map { "-" + $0 }))")
            var body: [(String, JSON)] = [("generation", .number(Double(reload.generation)))]
            if warnings { body.append(("warnings", .array(reload.warnings.map(\.json)))) }
            return .ok(.object(body))
        case .failure(let e):
            if let saveError { throw HTTPError(500, "cannot save the scripts: \(saveError.description)") }
            var err = HTTPError(422, e.message)
            err.extra = [("script", e.script.map { .string($0) } ?? .null), ("line", e.line.map { .number(Double($0)) } ?? .null)]
            throw err
        }
    }
}
