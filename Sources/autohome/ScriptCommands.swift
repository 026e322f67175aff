import AutoHomeClient
import AutoHomeSupport

/// `scripts list|get|push|rm` (SPEC §9). `push` sends every file as one
/// atomic bundle (`POST /v1/scripts`): all of them load, or none does.
/// Errors and warnings print as `file:line: message`, with the file as the
/// user named it, so editors can jump to them.
enum ScriptCommands {
    static var all: [Command] { [list, get, push, rm] }

    static let list = Command(
        words: ["scripts", "list"], usage: "", summary: "the loaded scripts and the script generation",
        examples: ["autohome scripts list"]
    ) { inv throws(ClientError) in
        let r = try inv.call("GET", "/v1/scripts")
        try inv.emit(r) { () throws(ClientError) -> String in
            let j = try r.json()
            var rows = [["NAME", "SIZE", "SHA256"]]
            for s in j["scripts"]?.arrayValue ?? [] {
                rows.append([Output.plain(s["name"]), Output.plain(s["size"]), String(Output.plain(s["sha256"]).prefix(16))])
            }
            return "generation \(Output.plain(j["generation"]))\n" + Output.table(rows)
        }
        return 0
    }

    static let get = Command(
        words: ["scripts", "get"], usage: "NAME", summary: "print a script's source",
        examples: ["autohome scripts get lights.js > lights.js"], arity: (1, 1)
    ) { inv throws(ClientError) in
        let r = try inv.call("GET", "/v1/scripts/\(esc(inv.positionals[0]))")
        Output.raw(r.text)
        return 0
    }

    static let push = Command(
        words: ["scripts", "push"], usage: "FILE…",
        summary: "upload scripts as one atomic change (all load, or nothing changes)",
        details: """
            Each FILE is stored under its base name (lib/lights.js → lights.js). The daemon compiles the
            whole new set first; an error prints as file:line: message and nothing changes (exit 1).
            Warnings (handlers that can never run) print as file:line: warning: message.
            """,
        options: [OptionSpec(name: "replace", value: nil, help: "the files are the whole new set: delete the others")],
        examples: ["autohome scripts push common.js lights.js", "autohome scripts push --replace scripts/*.js"],
        arity: (1, nil)
    ) { inv throws(ClientError) in
        var members: [(String, JSON)] = []
        var fileOf: [String: String] = [:]
        for path in inv.positionals {
            let name = String(path.split(separator: "/").last ?? Substring(path))
            if let other = fileOf[name] { throw .usage("\(other) and \(path) would both be stored as \(name)") }
            let text: String
            do { text = try Files.readText(path) } catch { throw .failed("\(path): \(error)") }
            fileOf[name] = path
            members.append((name, .string(text)))
        }
        let body = JSON.object([("scripts", .object(members)), ("replace", .bool(inv.args.has("replace")))])
        let r = try inv.connection().request("POST", "/v1/scripts", json: body)
        let j = try? r.json()
        let where_ = { (s: JSON?) -> String in
            let script = s?["script"]?.stringValue ?? ""
            let file = fileOf[script] ?? script
            return s?["line"]?.numberValue.map { "\(file):\(Int($0))" } ?? file
        }
        if r.status == 422 {
            if inv.json { Output.body(r.text) } else {
                Output.errLine("\(where_(j)): \(Output.plain(j?["error"]))")
                Output.errLine("autohome: nothing was changed")
            }
            return 1
        }
        try r.checked()
        for w in j?["warnings"]?.arrayValue ?? [] where !inv.json {
            Output.errLine("\(where_(w)): warning: \(Output.plain(w["message"]))")
        }
        try inv.emit(r) { "pushed \(members.count) script\(members.count == 1 ? "" : "s"); generation \(Output.plain(j?["generation"]))" }
        return 0
    }

    static let rm = Command(
        words: ["scripts", "rm"], usage: "NAME", summary: "delete a script (the rest is reloaded)",
        examples: ["autohome scripts rm old.js"], arity: (1, 1)
    ) { inv throws(ClientError) in
        let r = try inv.connection().request("DELETE", "/v1/scripts/\(esc(inv.positionals[0]))")
        if r.status == 422, let j = try? r.json() {
            if inv.json { Output.body(r.text) } else {
                Output.errLine("\(Output.plain(j["script"])):\(Output.plain(j["line"])): \(Output.plain(j["error"]))")
            }
            return 1
        }
        try r.checked()
        try inv.emit(r) { "deleted \(inv.positionals[0]); generation \(Output.plain(try? r.json()["generation"]))" }
        return 0
    }
}

/// `tokens list|new SCOPE|rm ID` (admin).
enum TokenCommands {
    static var all: [Command] { [list, new, rm] }

    static let list = Command(
        words: ["tokens", "list"], usage: "", summary: "the API tokens (by public id; secrets are never shown again)",
        examples: ["autohome tokens list"]
    ) { inv throws(ClientError) in
        let r = try inv.call("GET", "/v1/tokens")
        try inv.emit(r) { () throws(ClientError) -> String in
            var rows = [["ID", "SCOPE", "CREATED"]]
            for t in try r.json()["tokens"]?.arrayValue ?? [] {
                let created = t["created"]?.numberValue.map { Output.time(Int64($0), withDate: true) } ?? Output.plain(t["created"])
                rows.append([Output.plain(t["id"]), Output.plain(t["scope"]), created])
            }
            return Output.table(rows)
        }
        return 0
    }

    static let new = Command(
        words: ["tokens", "new"], usage: "SCOPE", summary: "mint a token: admin, read or device (printed once)",
        examples: ["autohome tokens new read", "TOKEN=$(autohome tokens new device)"], arity: (1, 1)
    ) { inv throws(ClientError) in
        let r = try inv.call("POST", "/v1/tokens", json: .object([("scope", .string(inv.positionals[0]))]))
        try inv.emit(r) { () throws(ClientError) -> String in Output.plain(try r.json()["token"]) }
        return 0
    }

    static let rm = Command(
        words: ["tokens", "rm"], usage: "ID", summary: "revoke a token (its devices keep working, owned by admin)",
        examples: ["autohome tokens rm 3fa2c1"], arity: (1, 1)
    ) { inv throws(ClientError) in
        let r = try inv.call("DELETE", "/v1/tokens/\(esc(inv.positionals[0]))")
        try inv.emit(r) { "revoked \(inv.positionals[0])" }
        return 0
    }
}
