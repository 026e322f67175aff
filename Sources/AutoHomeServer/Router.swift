import AutoHome
import AutoHomeSupport

/// Matches a request to a route, checks its token and body size, and runs the
/// handler. It runs on the network thread, so a handler that may block (disk
/// writes with fsync, compiling scripts in a scratch VM) is marked `blocking`
/// and runs on the router's work queue instead.
public struct RouteContext: Sendable {
    public let request: Request
    /// Decoded path parameters (":id" → value).
    public let params: [String: String]
    /// The caller's token, when it sent a valid one.
    public let token: TokenInfo?
    public let sink: ResponseSink

    public func param(_ name: String) -> String { params[name] ?? "" }

    /// Answers a handler that returned nil (deferred), from any thread.
    public func respond(_ r: Response) { sink.respond(request.exchange, r, endStream: true) }
}

/// nil: the handler answers later through `context.respond` or keeps the
/// stream open (action streams).
public typealias RouteHandler = @Sendable (RouteContext) throws(HTTPError) -> Response?

public struct Route: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case param(String)
        /// The rest of the path, slashes included, so "a/../b" reaches the
        /// handler and gets a 400 rather than a vague 404.
        case tail(String)
    }

    public let method: String
    public let pattern: String
    let segments: [Segment]
    public let access: Access
    /// Body cap in bytes; nil: the handler checks it itself.
    public let maxBody: Int?
    public let blocking: Bool
    let handler: RouteHandler

    /// `pattern` like "/v1/devices/:id/properties/:name" or "/v1/scripts/*name".
    public init(_ method: String, _ pattern: String, access: Access, maxBody: Int? = Router.defaultMaxBody,
                blocking: Bool = false, handler: @escaping RouteHandler) {
        self.method = method
        self.pattern = pattern
        self.access = access
        self.maxBody = maxBody
        self.blocking = blocking
        self.handler = handler
        segments = pattern.split(separator: "/").map { s in
            if s.hasPrefix(":") { return .param(String(s.dropFirst())) }
            if s.hasPrefix("*") { return .tail(String(s.dropFirst())) }
            return .literal(String(s))
        }
    }

    /// The parameters when `parts` fit the pattern.
    func match(_ parts: [String]) -> [String: String]? {
        var params: [String: String] = [:]
        for (i, seg) in segments.enumerated() {
            switch seg {
            case .literal(let l):
                guard i < parts.count, parts[i] == l else { return nil }
            case .param(let name):
                guard i < parts.count, !parts[i].isEmpty else { return nil }
                params[name] = parts[i]
            case .tail(let name):
                guard i < parts.count else { return nil }
                params[name] = parts[i...].joined(separator: "/")
                return params
            }
        }
        return parts.count == segments.count ? params : nil
    }
}

public final class Router: @unchecked Sendable {
    public static let defaultMaxBody = 1 << 20
    private var routes: [Route] = []
    let tokens: TokenStore
    /// Where blocking handlers run; nil runs them inline (unit tests).
    let work: WorkQueue?

    public init(tokens: TokenStore, work: WorkQueue?) {
        self.tokens = tokens
        self.work = work
    }

    /// Routes are added at start-up, before the server runs.
    public func add(_ route: Route) { routes.append(route) }
    public var allRoutes: [Route] { routes }

    /// Handles one request: exactly one response (or an open stream) follows.
    public func handle(_ request: Request, sink: ResponseSink) {
        let outcome: Result<(Route, [String: String]), HTTPError> = resolve(request)
        switch outcome {
        case .failure(let e):
            finish(request, e.response, sink)
        case .success(let (route, params)):
            let run = { [self] in
                let response: Response?
                do throws(HTTPError) {
                    let token = try tokens.authorize(request.authorization, for: route.access)
                    if let cap = route.maxBody, request.bodyTooLarge || request.body.count > cap {
                        throw HTTPError(413, "the request body is larger than \(cap) bytes", field: "body")
                    }
                    response = try route.handler(RouteContext(request: request, params: params, token: token, sink: sink))
                } catch {
                    response = error.response
                }
                if let response { finish(request, response, sink) }
            }
            if route.blocking, let work { work.async(run) } else { run() }
        }
    }

    private func finish(_ request: Request, _ response: Response, _ sink: ResponseSink) {
        if response.status >= 500 {
            Log.warn("\(request.method) \(request.loggablePath) → \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        } else {
            Log.debug("\(request.method) \(request.loggablePath) → \(response.status)")
        }
        sink.respond(request.exchange, response, endStream: true)
    }

    /// Finds the route: 404 unknown path, 405 known path with another method.
    func resolve(_ request: Request) -> Result<(Route, [String: String]), HTTPError> {
        var path = request.path
        if path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        var parts: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            guard let s = Request.percentDecode(String(raw)) else {
                return .failure(HTTPError(400, "malformed percent-escape in the path", field: "path"))
            }
            parts.append(s)
        }
        guard path.hasPrefix("/") else { return .failure(HTTPError(400, "the path must start with /", field: "path")) }
        var allowed: [String] = []
        for route in routes {
            guard let params = route.match(parts) else { continue }
            if route.method == request.method { return .success((route, params)) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        if allowed.isEmpty { return .failure(HTTPError(404, "no such resource: \(request.path)")) }
        var e = HTTPError(405, "\(request.method) is not allowed on \(request.path); use \(allowed.joined(separator: ", "))")
        e.header = ("allow", allowed.joined(separator: ", "))
        return .failure(e)
    }
}
