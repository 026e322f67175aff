/// What can go wrong talking to a daemon, each with the exit status SPEC §9
/// gives it: 2 usage, 3 unreachable or certificate refused, 4 unauthorised
/// (401 and 403), 5 not found, 1 anything else.
public enum ClientError: Error, CustomStringConvertible, Sendable {
    /// The command line itself is wrong.
    case usage(String)
    /// No connection: name not resolved, no answer, handshake failed, lost.
    case unreachable(String)
    /// The server showed another certificate than the one pinned for it.
    case certificateChanged(server: String, pinned: String, seen: String, howToAccept: String)
    /// The server answered with an error status (SPEC §5 error body).
    case http(status: Int, message: String, field: String?)
    /// Anything else (bad local file, malformed answer).
    case failed(String)

    public var exitCode: Int32 {
        switch self {
        case .usage: return 2
        case .unreachable, .certificateChanged: return 3
        case .http(let status, _, _):
            switch status {
            case 401, 403: return 4
            case 404: return 5
            default: return 1
            }
        case .failed: return 1
        }
    }

    public var description: String {
        switch self {
        case .usage(let m): return m
        case .unreachable(let m): return m
        case let .certificateChanged(server, pinned, seen, how):
            return """
                the certificate of \(server) has changed; refusing to talk to it.
                  pinned:  \(pinned)
                  offered: \(seen)
                If the server really got a new certificate (a reinstall, a new dataDir), accept it with:
                  \(how)
                """
        case let .http(status, message, field):
            return "\(status): \(message)" + (field.map { " (field \($0))" } ?? "")
        case .failed(let m): return m
        }
    }
}
