#if canImport(Glibc)
import Glibc
#endif

/// The daemon log: one line per message on stderr (journald adds the time on
/// the appliance). Levels follow config `logLevel`.
public enum LogLevel: Int, Comparable, Sendable {
    case debug, info, warn, error
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
    public init?(name: String) {
        switch name {
        case "debug": self = .debug
        case "info": self = .info
        case "warn", "warning": self = .warn
        case "error": self = .error
        default: return nil
        }
    }
    public var name: String { ["debug", "info", "warn", "error"][rawValue] }
}

public enum Log {
    nonisolated(unsafe) public static var level: LogLevel = .info
    /// Also gets every line that is printed (the daemon's `/v1/logs` ring).
    /// Set once at start-up, before other threads log. It must not block and
    /// must not log.
    nonisolated(unsafe) public static var sink: (@Sendable (LogLevel, String) -> Void)?
    private static let lock = Lock()

    /// `toSink: false` for lines the sink already has in a richer form
    /// (script logs and errors, which the ring takes from the engine).
    public static func write(_ level: LogLevel, _ message: String, toSink: Bool = true) {
        guard level >= Log.level else { return }
        let line = "autohomed[\(level.name)] \(message)\n"
        lock.withLock { _ = line.withCString { fputs($0, stderr) } }
        if toSink, let sink { sink(level, message) }
    }
    public static func debug(_ m: @autoclosure () -> String) { if Log.level <= .debug { write(.debug, m()) } }
    public static func info(_ m: String) { write(.info, m) }
    public static func warn(_ m: String) { write(.warn, m) }
    public static func error(_ m: String) { write(.error, m) }
}
