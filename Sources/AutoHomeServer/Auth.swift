#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// Bearer tokens (SPEC §5). A token is 32 random bytes as hex; the daemon
/// keeps only its SHA-256, so a copy of the data folder gives no access.
/// The hashes are kept through `TokenStorage`.
public enum Scope: String, Sendable, CaseIterable {
    /// Everything.
    case admin
    /// GET requests.
    case read
    /// Register devices and use their registrations.
    case device
}

/// What a route asks of the caller.
public enum Access: Sendable, Equatable {
    /// Anyone (ping).
    case open
    /// The unguessable registration id in the path is the credential.
    case registration
    /// A token with this scope, or an admin token.
    case scope(Scope)
}

public struct TokenInfo: Sendable, Equatable {
    /// Short public handle (the first 16 hex digits of the hash) for listing
    /// and revoking; it does not reveal the token.
    public var id: String { String(hash.prefix(16)) }
    public var hash: String
    public var scope: Scope
    public var created: Int64

    public var json: JSON {
        .object([("id", .string(id)), ("scope", .string(scope.rawValue)), ("created", .number(Double(created)))])
    }

    func grants(_ access: Access) -> Bool {
        switch access {
        case .open, .registration: return true
        case .scope(let s): return scope == .admin || scope == s
        }
    }
}

public final class TokenStore: @unchecked Sendable {
    private let lock = Lock()
    private var byHash: [String: TokenInfo] = [:]
    private var order: [String] = []
    private let storage: TokenStorage
    /// Where the admin token is written once, on first start; nil: nowhere
    /// (unit tests).
    public let adminTokenPath: String?
    public static let tokenBytes = 32

    /// Loads the token hashes from `storage`.
    public init(storage: TokenStorage, adminTokenPath: String?) throws(StorageError) {
        self.storage = storage
        self.adminTokenPath = adminTokenPath
        for t in try storage.loadTokens() {
            guard let scope = Scope(rawValue: t.scope) else {
                throw StorageError("stored token \(t.hash.prefix(16)) has an unknown scope \"\(t.scope)\"")
            }
            if byHash[t.hash] == nil { order.append(t.hash) }
            byHash[t.hash] = TokenInfo(hash: t.hash, scope: scope, created: t.created)
        }
    }

    /// First start (no admin token known): creates the admin token, writes it
    /// once to `<dataDir>/admin.token` (0600) and returns it; else nil.
    @discardableResult
    public func ensureAdminToken() throws(StorageError) -> String? {
        if lock.withLock({ byHash.values.contains { $0.scope == .admin } }) { return nil }
        let token = Crypto.randomHex(bytes: TokenStore.tokenBytes)
        // The token file first: if we die before the hash is saved, the next
        // start simply makes a new token and overwrites the file.
        if let p = adminTokenPath {
            do throws(FileError) { try Files.writeAtomically(p, Array((token + "\n").utf8), mode: 0o600) } catch {
                throw StorageError(error)
            }
        }
        try add(token: token, scope: .admin)
        return token
    }

    private func add(token: String, scope: Scope) throws(StorageError) {
        let info = TokenInfo(hash: Crypto.sha256Hex(token), scope: scope, created: wallClockMillis())
        try storage.insertToken(StoredToken(hash: info.hash, scope: scope.rawValue, created: info.created))
        lock.withLock {
            byHash[info.hash] = info
            order.append(info.hash)
        }
    }

    /// A new token of `scope`; only its hash is kept. The caller shows the
    /// token once.
    public func create(scope: Scope) throws(StorageError) -> (token: String, info: TokenInfo) {
        let token = Crypto.randomHex(bytes: TokenStore.tokenBytes)
        try add(token: token, scope: scope)
        return (token, lock.withLock { byHash[Crypto.sha256Hex(token)]! })
    }

    public func list() -> [TokenInfo] { lock.withLock { order.compactMap { byHash[$0] } } }

    public enum RevokeOutcome { case revoked, unknown, lastAdmin }

    /// Revokes by public id; the last admin token cannot go (nobody could
    /// make a new one).
    public func revoke(id: String) throws(StorageError) -> RevokeOutcome {
        let found: TokenInfo?? = lock.withLock {
            guard id.utf8.count == 16, let hash = order.first(where: { $0.hasPrefix(id) }), let info = byHash[hash] else { return nil }
            if info.scope == .admin && byHash.values.filter({ $0.scope == .admin }).count == 1 { return .some(nil) }
            return .some(info)
        }
        guard let found else { return .unknown }
        guard let info = found else { return .lastAdmin }
        try storage.deleteToken(hash: info.hash)
        lock.withLock {
            byHash[info.hash] = nil
            order.removeAll { $0 == info.hash }
        }
        return .revoked
    }

    /// The token behind an `Authorization: Bearer …` header, or nil.
    public func lookup(authorization: String?) -> TokenInfo? {
        guard let token = TokenStore.bearerToken(authorization) else { return nil }
        let hash = Crypto.sha256Hex(token)
        return lock.withLock { byHash[hash] }
    }

    /// 401 without a known token, 403 when its scope does not cover `access`.
    public func authorize(_ authorization: String?, for access: Access) throws(HTTPError) -> TokenInfo? {
        if access == .open || access == .registration { return lookup(authorization: authorization) }
        guard authorization != nil else {
            // nghttp3 drops a header whose value starts or ends with a space
            // (RFC 9110 §5.5) before we see it, so "absent" may be "malformed".
            throw HTTPError.unauthorized("no usable Authorization header: send \"Authorization: Bearer <token>\" " +
                                         "(HTTP/3 drops a header value that starts or ends with a space)")
        }
        guard let info = lookup(authorization: authorization) else { throw HTTPError.unauthorized("unknown or malformed token") }
        guard info.grants(access) else {
            if case .scope(let s) = access {
                throw HTTPError(403, "a \(info.scope.rawValue) token may not do this; it needs the \(s.rawValue) scope")
            }
            throw HTTPError(403, "forbidden")
        }
        return info
    }

    /// "Bearer abc" → "abc" (scheme case-insensitive, surrounding spaces ignored).
    static func bearerToken(_ header: String?) -> String? {
        guard let h = header?.trimmingSpaces() else { return nil }
        let parts = h.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = String(parts[1]).trimmingSpaces()
        return token.isEmpty ? nil : token
    }
}

extension HTTPError {
    static func unauthorized(_ message: String) -> HTTPError {
        var e = HTTPError(401, message)
        e.header = ("www-authenticate", "Bearer")
        return e
    }
}
