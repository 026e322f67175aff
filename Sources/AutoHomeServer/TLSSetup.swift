import CQuic
import AutoHome
import AutoHomeSupport

/// The certificate the server presents: `tls.cert`/`tls.key` from the config,
/// else a self-signed ECDSA P-256 certificate made once in `<dataDir>/tls/`
/// and reused, so clients that pinned its fingerprint keep trusting it.
public struct TLSFiles: Sendable {
    public var cert: String
    public var key: String
    public var created: Bool
    /// "AB:CD:…" (SHA-256 of the DER certificate), what clients pin.
    public var fingerprint: String

    public static func prepare(config: Config) throws(FileError) -> TLSFiles {
        var cert: String, key: String
        var created = false
        if let c = config.tlsCert, let k = config.tlsKey {
            cert = c
            key = k
            guard Files.exists(cert) else { throw FileError("tls.cert \(cert) does not exist") }
            guard Files.exists(key) else { throw FileError("tls.key \(key) does not exist") }
        } else {
            let dir = config.dataDir + "/tls"
            cert = dir + "/cert.pem"
            key = dir + "/key.pem"
            if !Files.exists(cert) || !Files.exists(key) {
                try Files.makeDirectories(dir, mode: 0o700)
                var err = [CChar](repeating: 0, count: 256)
                guard cq_make_self_signed(cert, key, "auto-home", &err, err.count) == 0 else {
                    throw FileError("cannot create a self-signed certificate in \(dir): \(String(cString: err))")
                }
                created = true
            }
        }
        var fp = [CChar](repeating: 0, count: 96)
        guard cq_cert_fingerprint_sha256(cert, &fp) == 0 else { throw FileError("\(cert) is not a PEM certificate") }
        return TLSFiles(cert: cert, key: key, created: created, fingerprint: String(cString: fp))
    }
}
