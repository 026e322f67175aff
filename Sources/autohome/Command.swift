import AutoHomeClient
import AutoHomeSupport

/// One command of SPEC §9: its words ("scripts push"), how it is used, its
/// own options, help with examples, and what it does.
struct Command {
    let words: [String]
    /// After the words: "DEV PROP VALUE".
    let usage: String
    let summary: String
    var details: String = ""
    var options: [OptionSpec] = []
    var examples: [String] = []
    /// Positional arguments after the words: at least, at most (nil: any).
    var arity: (Int, Int?) = (0, 0)
    let run: (Invocation) throws(ClientError) -> Int32

    var name: String { words.joined(separator: " ") }

    var helpText: String {
        var s = "usage: autohome [global options] \(name)\(usage.isEmpty ? "" : " " + usage)\n\n\(summary)\n"
        if !details.isEmpty { s += "\n\(details)\n" }
        let opts = options + Globals.options
        s += "\noptions:\n"
        for o in opts {
            let left = "  --\(o.name)" + (o.value.map { " \($0)" } ?? "")
            s += left.padding(to: 26) + " " + o.help + "\n"
        }
        if !examples.isEmpty {
            s += "\nexamples:\n" + examples.map { "  \($0)" }.joined(separator: "\n") + "\n"
        }
        return s
    }
}

extension String {
    func padding(to n: Int) -> String {
        let c = count
        return c >= n ? self : self + String(repeating: " ", count: n - c)
    }
}

/// Options every command takes (SPEC §9), and where their defaults come from.
enum Globals {
    static let options: [OptionSpec] = [
        OptionSpec(name: "server", value: "HOST[:PORT]", help: "the daemon (default: $AUTOHOME_SERVER, config.json, 127.0.0.1:4242)"),
        OptionSpec(name: "token", value: "T", help: "API token (default: $AUTOHOME_TOKEN, config.json, the appliance's admin.token)"),
        OptionSpec(name: "pin", value: "sha256:HEX", help: "the server certificate's SHA-256; stored on success"),
        OptionSpec(name: "json", value: nil, help: "print the server's JSON instead of text"),
        OptionSpec(name: "verbose", value: nil, help: "log what the QUIC core does, on stderr"),
        OptionSpec(name: "help", value: nil, help: "this help"),
    ]
}

/// What a running command has: its arguments, the resolved settings and a
/// connection made on first use.
final class Invocation {
    let args: ParsedArgs
    let settings: Settings
    let json: Bool
    private var conn: Connection?

    init(args: ParsedArgs, settings: Settings) {
        self.args = args
        self.settings = settings
        json = args.has("json")
    }

    var positionals: [String] { args.positionals }

    /// The connection to the daemon (opened once, pinned, see TrustedConnection).
    func connection(idleTimeoutMs: UInt32 = 30_000) throws(ClientError) -> Connection {
        if let conn { return conn }
        let c = try settings.connect(idleTimeoutMs: idleTimeoutMs)
        conn = c
        return c
    }

    /// One request whose error status becomes the thrown error.
    func call(_ method: String, _ path: String, json body: JSON? = nil) throws(ClientError) -> Response {
        let c = try connection()
        if let body { return try c.request(method, path, json: body).checked() }
        return try c.request(method, path).checked()
    }

    func close() { conn?.close() }

    /// `--json`: the body as the server sent it; else the text.
    func emit(_ r: Response, text: () throws(ClientError) -> String) throws(ClientError) {
        if json { Output.body(r.text) } else {
            let t = try text()
            if !t.isEmpty { Output.line(t) }
        }
    }
}
