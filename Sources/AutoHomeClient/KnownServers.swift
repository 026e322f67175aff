import AutoHomeSupport
#if canImport(Glibc)
import Glibc
#endif

/// Trust on first use (SPEC §9): `~/.config/auto-home/known_servers` holds
/// one line per server, `HOST:PORT sha256:<hex>`, like ssh's known_hosts.
/// The first connection to a server stores what it showed; later ones must
/// show the same certificate.
public struct KnownServers {
    public let path: String

    public init(path: String) { self.path = path }

    /// `$HOME/.config/auto-home/known_servers`.
    public static var defaultPath: String {
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return home + "/.config/auto-home/known_servers"
    }

    /// The pin stored for server, if any.
    public func pin(for server: ServerAddress) -> String? {
        entries()[server.description]
    }

    func entries() -> [String: String] {
        guard let text = try? Files.readText(path) else { return [:] }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, !line.hasPrefix("#"), let pin = normalizePin(String(parts[1])) else { continue }
            out[String(parts[0])] = pin
        }
        return out
    }

    /// Stores (or replaces) the pin of server; other lines stay as they were.
    public func remember(_ server: ServerAddress, pin: String) throws(ClientError) {
        let key = server.description
        var lines: [String] = []
        if let text = try? Files.readText(path) {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
                if line.split(separator: " ").first.map(String.init) != key { lines.append(String(line)) }
            }
        }
        lines.append("\(key) \(pin)")
        do {
            try Files.makeDirectories(Files.directoryName(path), mode: 0o700)
            try Files.writeAtomically(path, Array((lines.joined(separator: "\n") + "\n").utf8), mode: 0o600)
        } catch {
            throw .failed("cannot write \(path): \(error)")
        }
    }
}
