/// Opens a connection under the trust-on-first-use policy of SPEC §9:
/// - `pin` given (`--pin`): the certificate must match it; it is then stored
///   (so `--pin` is also how a changed certificate is accepted);
/// - else the pin stored in known_servers must match;
/// - else (first contact) any certificate is accepted, stored, and `notice`
///   is told its fingerprint.
public enum TrustedConnection {
    public static func open(server: ServerAddress, token: String?, pin: String?, known: KnownServers,
                            idleTimeoutMs: UInt32 = 30_000, handshakeTimeoutMs: UInt32 = 5_000,
                            notice: (String) -> Void) throws(ClientError) -> Connection {
        var given: String?
        if let pin {
            guard let p = normalizePin(pin) else {
                throw .usage("--pin '\(pin)': expected sha256: followed by 64 hex digits (colons allowed)")
            }
            given = p
        }
        let stored = known.pin(for: server)
        let want = given ?? stored
        let conn: Connection
        do throws(ClientError) {
            conn = try Connection(server: server, token: token, pin: want, idleTimeoutMs: idleTimeoutMs,
                                  handshakeTimeoutMs: handshakeTimeoutMs)
        } catch {
            if case let .certificateChanged(_, _, seen, _) = error {
                throw ClientError.certificateChanged(
                    server: server.description, pinned: want ?? "?", seen: seen,
                    howToAccept: "autohome --server \(server) --pin \(seen) status")
            }
            throw error
        }
        if stored != conn.fingerprint {
            try known.remember(server, pin: conn.fingerprint)
            if stored == nil && given == nil {
                notice("first connection to \(server): trusting its certificate \(conn.fingerprint) (stored in \(known.path))")
            } else if stored != nil {
                notice("\(server): now trusting certificate \(conn.fingerprint) (stored in \(known.path))")
            }
        }
        return conn
    }
}
