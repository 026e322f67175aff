import AutoHome
import AutoHomeSupport

/// The HTTP values the router and the handlers trade in. They know nothing
/// about QUIC: `HTTP3Server` fills a `Request` from CQuic and sends the
/// `Response` back through a `ResponseSink`, so routing and validation can be
/// unit-tested without a network.

/// What became of a response call. CQuic's C codes are mapped to this once,
/// in `HTTP3Server`; nothing else in Swift sees a number.
public enum SendResult: Sendable, Equatable {
    case ok
    /// The connection or stream no longer exists (the client left).
    case gone
    /// Out of order: respond twice, write before respond, write after end.
    case badState
    /// The stream's buffer cap is reached: the client reads too slowly.
    case full
    case outOfMemory
    /// A bad status or a header with CR/LF.
    case badArgument
    /// The server is stopping or stopped.
    case stopped

    /// The stream is of no more use: forget it.
    public var isFinal: Bool { self == .gone || self == .badState || self == .stopped }
}

/// Where a response goes: CQuic in the daemon, a recorder in unit tests.
/// Every method may be called from any thread.
public protocol ResponseSink: AnyObject, Sendable {
    @discardableResult func respond(_ exchange: ExchangeID, _ response: Response, endStream: Bool) -> SendResult
    @discardableResult func write(_ exchange: ExchangeID, _ bytes: [UInt8]) -> SendResult
    @discardableResult func end(_ exchange: ExchangeID) -> SendResult
}

/// One request/response exchange: a QUIC stream of a connection.
public struct ExchangeID: Hashable, Sendable, CustomStringConvertible {
    public var conn: UInt64
    public var stream: Int64
    public init(conn: UInt64, stream: Int64) { self.conn = conn; self.stream = stream }
    public var description: String { "\(conn)/\(stream)" }
}

public struct Request: Sendable {
    public var method: String
    /// The path without the query, as sent (percent-escapes still in place).
    public var path: String
    public var query: [String: String]

    /// The path as log lines may show it. A registration id is a device's
    /// credential (SPEC §5: never in a log line, at any level): the segment
    /// after /v1/event/ and /v1/actions/, and any long hex segment anywhere,
    /// keeps its first 4 characters only ("/v1/event/3f2a…").
    public var loggablePath: String {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for i in parts.indices {
            let afterCredentialRoute = i >= 3 && parts[i - 2] == "v1" && (parts[i - 1] == "event" || parts[i - 1] == "actions")
            let longHex = parts[i].utf8.count >= 16 && parts[i].utf8.allSatisfy { isHexDigit($0) }
            if (afterCredentialRoute || longHex) && !parts[i].isEmpty { parts[i] = String(parts[i].prefix(4)) + "…" }
        }
        return parts.joined(separator: "/")
    }
    public var authorization: String?
    public var contentType: String?
    public var body: [UInt8]
    /// The body was over the transport cap (CQuic); it was not kept.
    public var bodyTooLarge: Bool
    public var peer: String
    public var exchange: ExchangeID

    public init(method: String, target: String, authorization: String? = nil, contentType: String? = nil,
                body: [UInt8] = [], bodyTooLarge: Bool = false, peer: String = "", exchange: ExchangeID = ExchangeID(conn: 0, stream: 0)) {
        self.method = method
        let (p, q) = Request.split(target)
        path = p
        query = q
        self.authorization = authorization
        self.contentType = contentType
        self.body = body
        self.bodyTooLarge = bodyTooLarge
        self.peer = peer
        self.exchange = exchange
    }

    /// "/a/b?x=1&y" → ("/a/b", ["x": "1", "y": ""]); values are percent-decoded.
    static func split(_ target: String) -> (String, [String: String]) {
        guard let q = target.firstIndex(of: "?") else { return (target, [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(String(kv[0])) ?? String(kv[0])
            let value = kv.count > 1 ? (percentDecode(String(kv[1])) ?? String(kv[1])) : ""
            if query[key] == nil { query[key] = value }
        }
        return (String(target[..<q]), query)
    }

    /// Decodes %XX (and '+' in queries is left alone: ids never contain it).
    /// nil when an escape is malformed or the result is not UTF-8.
    public static func percentDecode(_ s: String) -> String? {
        guard s.utf8.contains(UInt8(ascii: "%")) else { return s }
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            guard c == UInt8(ascii: "%") else { out.append(c); continue }
            guard it.count >= 2, let hi = hexValue(it.popFirst()!), let lo = hexValue(it.popFirst()!) else { return nil }
            out.append(hi << 4 | lo)
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// `?wait=1` (also `true`/`yes`): answer after processing.
    public func flag(_ name: String) -> Bool {
        guard let v = query[name] else { return false }
        return v == "1" || v == "true" || v == "yes" || v.isEmpty
    }

    /// The body as JSON; a malformed body is a 400 saying where.
    public func jsonBody() throws(HTTPError) -> JSON {
        if body.isEmpty { throw HTTPError(400, "the request body is empty; a JSON object is expected", field: "body") }
        do throws(JSONParseError) { return try JSON.parse(bytes: body) } catch {
            throw HTTPError(400, error.description, field: "body")
        }
    }
}

public struct Response: Sendable {
    public var status: Int
    public var contentType: String?
    public var body: [UInt8]
    /// CQuic sends one extra header: Retry-After, Allow, ...
    public var header: (name: String, value: String)?

    public init(status: Int, contentType: String?, body: [UInt8], header: (name: String, value: String)? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.header = header
    }

    public static func json(_ status: Int, _ value: JSON) -> Response {
        var text = value.text
        text += "\n"
        return Response(status: status, contentType: "application/json", body: Array(text.utf8))
    }

    public static func ok(_ value: JSON) -> Response { json(200, value) }

    /// Parses a JSON body back (tests and logging).
    public var jsonValue: JSON? { try? JSON.parse(bytes: body) }
}

/// A failed request: the status and the `{"error", "field"?}` body of SPEC §5.
/// Handlers throw it; the router turns it into the response.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var field: String?
    public var extra: [(String, JSON)] = []
    public var header: (name: String, value: String)?
    /// Made from an engine rejection (already counted in its stats).
    public var fromEngine = false

    public init(_ status: Int, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    public var description: String { "\(status) \(message)" }

    public var response: Response {
        var o = JSONObjectBuilder()
        o.add("error", message)
        o.addIfPresent("field", field)
        for (k, v) in extra { o.add(k, v) }
        var r = Response.json(status, o.json)
        r.header = header
        return r
    }

    /// An engine rejection (SubmitError) with its status: unknown device 404,
    /// invalid 400, read-only 409, too large 413, ring full 503 + Retry-After.
    public init(_ e: SubmitError) {
        switch e {
        case .unknownDevice: self.init(404, e.description)
        case .invalid: self.init(400, e.description, field: e.field)
        case .readOnly: self.init(409, e.description, field: e.field)
        case .tooLarge: self.init(413, e.description)
        case .refused: self.init(400, e.description, field: e.field)
        case .busy:
            self.init(503, e.description)
            header = ("retry-after", "1")
        }
    }

    public static func notFound(_ what: String) -> HTTPError { HTTPError(404, what) }
}

private func isHexDigit(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}
