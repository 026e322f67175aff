import AutoHomeClient
import AutoHomeSupport
#if canImport(Glibc)
import Glibc
#endif

/// Where the server, token and pin come from (SPEC §9): the command line,
/// then AUTOHOME_SERVER / AUTOHOME_TOKEN, then
/// `~/.config/auto-home/config.json` (`{"server": "...", "token": "..."}`).
/// Without any token, the appliance's own admin token is used when this user
/// may read it (root on the box), so `autohome scripts push` works there.
struct Settings {
    static let applianceToken = "/var/lib/auto-home/admin.token"

    var server: ServerAddress
    var token: String?
    var pin: String?
    var known: KnownServers

    static var configDir: String {
        (getenv("HOME").map { String(cString: $0) } ?? ".") + "/.config/auto-home"
    }

    init(_ args: ParsedArgs) throws(ClientError) {
        let env = { (k: String) -> String? in getenv(k).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }
        var file: JSON?
        let path = Settings.configDir + "/config.json"
        if Files.exists(path) {
            do { file = try JSON.parse(bytes: try Files.read(path)) } catch {
                throw .failed("\(path): \(error)")
            }
            for (k, _) in file?.objectMembers ?? [] where k != "server" && k != "token" {
                throw .failed("\(path): unknown key \"\(k)\" (server, token)")
            }
        }
        let serverText = args.value("server") ?? env("AUTOHOME_SERVER") ?? file?["server"]?.stringValue ?? "127.0.0.1:4242"
        server = try ServerAddress(parsing: serverText)
        token = args.value("token") ?? env("AUTOHOME_TOKEN") ?? file?["token"]?.stringValue
        if token == nil, access(Settings.applianceToken, R_OK) == 0,
           let t = try? Files.readText(Settings.applianceToken) {
            token = t.trimmingWhitespace
        }
        pin = args.value("pin")
        known = KnownServers(path: Settings.configDir + "/known_servers")
    }

    func connect(idleTimeoutMs: UInt32 = 30_000) throws(ClientError) -> Connection {
        try TrustedConnection.open(server: server, token: token, pin: pin, known: known, idleTimeoutMs: idleTimeoutMs,
                                   notice: Output.notice)
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
