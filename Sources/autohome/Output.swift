import AutoHomeSupport
#if canImport(Glibc)
import Glibc
#endif

/// Writing to stdout/stderr without Foundation; stdout is flushed per line
/// so `watch` and `logs --follow` work through pipes.
enum Output {
    static func line(_ s: String) {
        fputs(s, stdout)
        fputs("\n", stdout)
        fflush(stdout)
    }

    /// A response body as it came (`--json`), ending in exactly one newline:
    /// the daemon's bodies already end in one, so `line` would add a blank line.
    static func body(_ s: String) {
        if s.hasSuffix("\n") { raw(s) } else { line(s) }
    }

    static func raw(_ s: String) {
        fputs(s, stdout)
        fflush(stdout)
    }

    static func error(_ s: String) {
        fputs("autohome: " + s + "\n", stderr)
    }

    /// A line on stderr as it is (`file:line: message`, no prefix).
    static func errLine(_ s: String) {
        fputs(s + "\n", stderr)
    }

    static func notice(_ s: String) {
        fputs("autohome: " + s + "\n", stderr)
    }

    /// Columns padded to the widest cell (the last one is not padded).
    static func table(_ rows: [[String]]) -> String {
        guard let n = rows.map(\.count).max(), n > 0 else { return "" }
        var widths = [Int](repeating: 0, count: n)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(to: widths[i]) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// A JSON value as a user reads it: strings bare, numbers without ".0".
    static func plain(_ v: JSON?) -> String {
        guard let v else { return "" }
        if case .string(let s) = v { return s }
        return v.text
    }

    /// Terminal width: $COLUMNS, else the tty's, else 80.
    static var terminalWidth: Int {
        if let c = getenv("COLUMNS"), let n = Int(String(cString: c)), n > 20 { return n }
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 20 { return Int(ws.ws_col) }
        return 80
    }

    static var terminalHeight: Int {
        if let c = getenv("LINES"), let n = Int(String(cString: c)), n > 5 { return n }
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 5 { return Int(ws.ws_row) }
        return 24
    }

    /// "14:03:07" (local time) of Unix milliseconds; with the date when not today.
    static func time(_ ms: Int64, withDate: Bool = false) -> String {
        var t = time_t(ms / 1000)
        var tmv = tm()
        localtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 32)
        _ = strftime(&buf, buf.count, withDate ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tmv)
        return String(cString: buf)
    }
}
