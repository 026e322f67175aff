/// `HOST[:PORT]` as users write it: a name, an IPv4 address, or an IPv6
/// address in brackets (`[fe80::1%eth0]:4242`); a bare IPv6 address without
/// a port works too. The port defaults to 4242 (SPEC §5).
public struct ServerAddress: Equatable, Sendable, CustomStringConvertible {
    public static let defaultPort: UInt16 = 4242
    public let host: String
    public let port: UInt16

    public init(host: String, port: UInt16 = ServerAddress.defaultPort) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(ClientError) {
        let t = text.hasPrefix("https://") ? String(text.dropFirst(8)) : text
        var host = t
        var portText: String?
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]") else { throw .usage("server '\(text)': missing ']' after the IPv6 address") }
            host = String(t[t.index(after: t.startIndex)..<close])
            let rest = t[t.index(after: close)...]
            if rest.hasPrefix(":") { portText = String(rest.dropFirst()) } else if !rest.isEmpty {
                throw .usage("server '\(text)': expected ':PORT' after ']'")
            }
        } else if t.filter({ $0 == ":" }).count == 1, let colon = t.firstIndex(of: ":") {
            host = String(t[..<colon])
            portText = String(t[t.index(after: colon)...])
        }
        while host.hasSuffix("/") { host.removeLast() }
        guard !host.isEmpty else { throw .usage("server '\(text)': no host name") }
        var port = ServerAddress.defaultPort
        if let p = portText {
            guard let n = UInt16(p), n > 0 else { throw .usage("server '\(text)': port must be 1-65535") }
            port = n
        }
        self.host = host
        self.port = port
    }

    /// The form known_servers and messages use.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
