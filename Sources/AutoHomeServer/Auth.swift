#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// Bearer tokens (SPEC §5). A token is 32 random bytes as hex; the daemon
/// keeps only its SHA-256, so a copy of the data folder gives no access.
/// Until the SQLite store lands the hashes live in `<dataDir>/tokens.json`.
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
    /// nil: memory only (unit tests).
    public let dataDir: String?
    public var adminTokenPath: String? { dataDir.map { $0 + "/admin.token" } }
    public var filePath: String? { dataDir.map { $0 + "/tokens.json" } }
    public static let tokenBytes = 32

    /// Loads the token hashes from `<dataDir>/tokens.json`, if any.
    public init(dataDir: String?) throws(FileError) {
        self.dataDir = dataDir
        if let path = filePath, Files.exists(path) { try load(path) }
    }

    /// First start (no admin token known): creates the admin token, writes it
    /// once to `<dataDir>/admin.token` (0600) and returns it; else nil.
    @discardableResult
    public func ensureAdminToken() throws(FileError) -> String? {
        if lock.withLock({ byHash.values.contains { $0.scope == .admin } }) { return nil }
        let token = Crypto.randomHex(bytes: TokenStore.tokenBytes)
        // The token file first: if we die before the hash is saved, the next
        // start simply makes a new token and overwrites the file.
        if let p = adminTokenPath { try Files.writeAtomically(p, Array((token + "\n").utf8), mode: 0o600) }
        try add(token: token, scope: .admin)
        return token
    }

    private func load(_ path: String) throws(FileError) {
        let json: JSON
        do { json = try JSON.parse(bytes: try Files.read(path)) } catch let e as FileError { throw e } catch {
            throw FileError("\(path): \(error)")
        }
        for item in json["tokens"]?.arrayValue ?? [] {
            guard let hash = item["hash"]?.stringValue, hash.utf8.count == 64,
                  let scope = item["scope"]?.stringValue.flatMap(Scope.init(rawValue:)) else {
                throw FileError("\(path): a token entry needs \"hash\" (64 hex digits) and \"scope\"")
            }
            let created = Int64(item["created"]?.numberValue ?? 0)
            if byHash[hash] == nil { order.append(hash) }
            byHash[hash] = TokenInfo(hash: hash, scope: scope, created: created)
        }
    }

    private func save() throws(FileError) {
        guard let path = filePath else { return }
        let list = lock.withLock { order.compactMap { byHash[$0] } }
        let json = JSON.object([("tokens", .array(list.map {
            .object([("hash", .string($0.hash)), ("scope", .string($0.scope.rawValue)), ("created", .number(Double($0.created)))])
        }))])
        try Files.writeAtomically(path, Array((json.text + "\n").utf8), mode: 0o600)
    }

    private func add(token: String, scope: Scope) throws(FileError) {
        let info = TokenInfo(hash: Crypto.sha256Hex(token), scope: scope, created: wallClockMillis())
        lock.withLock {
            byHash[info.hash] = info
            order.append(info.hash)
        }
        do throws(FileError) { try save() } catch {
            lock.withLock { byHash[info.hash] = nil; order.removeAll { $0 == info.hash } }
            throw error
        }
    }

    /// A new token of `scope`; only its hash is kept. The caller shows the
    /// token once.
    public func create(scope: Scope) throws(FileError) -> (token: String, info: TokenInfo) {
        let token = Crypto.randomHex(bytes: TokenStore.tokenBytes)
        try add(token: token, scope: scope)
        return (token, lock.withLock { byHash[Crypto.sha256Hex(token)]! })
    }

    public func list() -> [TokenInfo] { lock.withLock { order.compactMap { byHash[$0] } } }

    public enum RevokeOutcome { case revoked, unknown, lastAdmin }

    /// Revokes by public id; the last admin token cannot go (nobody could
    /// make a new one).
    public func revoke(id: String) throws(FileError) -> RevokeOutcome {
        let outcome: RevokeOutcome = lock.withLock {
            guard let hash = order.first(where: { $0.hasPrefix(id) && id.utf8.count == 16 }), let info = byHash[hash] else { return .unknown }
            if info.scope == .admin && byHash.values.filter({ $0.scope == .admin }).count == 1 { return .lastAdmin }
            byHash[hash] = nil
            order.removeAll { $0 == hash }
            return .revoked
        }
        if outcome == .revoked { try save() }
        return outcome
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
            throw HTTPError.unauthorized("missing token: send \"Authorization: Bearer <token>\"")
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
