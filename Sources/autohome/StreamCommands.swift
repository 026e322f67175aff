import AutoHomeClient
#if canImport(Glibc)
import Glibc
#endif
import AutoHomeSupport

/// Commands that follow a long response: `watch` (GET /v1/watch, live
/// changes) and `logs --follow` (GET /v1/logs?follow=1). Both reconnect with
/// back-off (1 s doubling to 30 s) when the daemon goes away, so they
/// survive a daemon restart; an error status ends them.
enum StreamCommands {
    static var all: [Command] { [watch, logs] }

    /// Runs one streaming GET until it fails for good. `line` gets each NDJSON
    /// line (network thread).
    static func follow(_ inv: Invocation, _ path: String, what: String, missing: String,
                       line: @escaping (String) -> Void) throws(ClientError) -> Int32 {
        var backoff = 1
        var everConnected = false
        while true {
            let conn: Connection
            do throws(ClientError) {
                conn = try inv.settings.connect(idleTimeoutMs: 20_000)
            } catch {
                if case .unreachable = error, everConnected {
                    Output.notice("\(error.description); retrying in \(backoff) s")
                    sleepMillis(backoff * 1000)
                    backoff = min(backoff * 2, 30)
                    continue
                }
                throw error
            }
            let splitter = LineSplitter(line)
            var head = 0
            let h = try conn.stream("GET", path, onHead: { head = $0 }, onData: { splitter.feed($0) })
            do throws(ClientError) {
                let r = try h.wait()
                if r.status == 404 || r.status == 501 {
                    throw ClientError.http(status: r.status, message: "\(missing) (GET \(path.split(separator: "?")[0]) answered \(r.status): \(Output.plain(try? r.json()["error"])))", field: nil)
                }
                try r.checked()
                // The daemon ended the stream (it is stopping): reconnect.
                if everConnected || head == 200 { Output.notice("the daemon ended the \(what) stream; reconnecting") }
            } catch {
                guard case .unreachable = error else { conn.close(); throw error }
                Output.notice("\(error.description); reconnecting in \(backoff) s")
            }
            everConnected = true
            conn.close()
            sleepMillis(backoff * 1000)
            backoff = min(backoff * 2, 30)
            if head == 200 { backoff = 1 }
        }
    }

    static let watch = Command(
        words: ["watch"], usage: "[DEV…]",
        summary: "live changes, one line each (time, device.property = value); reconnects",
        details: "Follows GET /v1/watch (an extension to SPEC §5, see docs/http-api.md). Ctrl-C ends it.",
        examples: ["autohome watch", "autohome watch lamp hall", "autohome --json watch | jq -c 'select(.device==\"lamp\")'"],
        arity: (0, nil)
    ) { inv throws(ClientError) in
        let only = Set(inv.positionals)
        let q = only.isEmpty ? "" : "?device=" + inv.positionals.map(esc).joined(separator: ",")
        return try follow(inv, "/v1/watch" + q, what: "watch",
                          missing: "this daemon has no live-changes stream") { line in
            if inv.json { Output.line(line); return }
            guard let j = try? JSON.parse(line) else { Output.line(line); return }
            let dev = Output.plain(j["device"])
            if !only.isEmpty && !only.contains(dev) { return }
            let t = j["time"]?.numberValue.map { Output.time(Int64($0)) } ?? ""
            let v = j["label"]?.stringValue ?? Output.plain(j["value"])
            Output.line("\(t) \(dev).\(Output.plain(j["property"])) = \(v)")
        }
    }

    static func logLine(_ j: JSON) -> String {
        let t = j["time"]?.numberValue.map { Output.time(Int64($0), withDate: true) } ?? ""
        return "\(t) \(Output.plain(j["level"]).padding(to: 5)) \(Output.plain(j["source"])): \(Output.plain(j["message"]))"
    }

    static let logs = Command(
        words: ["logs"], usage: "",
        summary: "the daemon's recent log lines, script logs and script errors (--follow: keep streaming)",
        options: [
            OptionSpec(name: "follow", value: nil, help: "keep the stream open and print new lines as they come"),
            OptionSpec(name: "level", value: "L", help: "debug, info, warn or error: this level and above"),
            OptionSpec(name: "limit", value: "N", help: "at most N lines (default: the server's)"),
            OptionSpec(name: "since", value: "DURATION|TIME", help: "only lines after this (10m, 2h, 2024-05-01T08:00)"),
        ],
        examples: ["autohome logs", "autohome logs --level warn", "autohome logs --follow"]
    ) { inv throws(ClientError) in
        var q: [String] = []
        if let l = inv.args.value("level") {
            guard ["debug", "info", "warn", "error"].contains(l) else { throw .usage("--level '\(l)': debug, info, warn or error") }
            q.append("level=\(l)")
        }
        if let n = try inv.args.int("limit", min: 1) { q.append("limit=\(n)") }
        if let s = inv.args.value("since") { q.append("since=\(try TimeSpec.parse(s, option: "since"))") }
        let missing = "this daemon does not serve its logs over the API yet"
        if inv.args.has("follow") {
            q.append("follow=1")
            return try follow(inv, "/v1/logs?" + q.joined(separator: "&"), what: "log", missing: missing) { line in
                if inv.json { Output.line(line); return }
                if let j = try? JSON.parse(line) { Output.line(logLine(j)) } else { Output.line(line) }
            }
        }
        let r = try inv.connection().request("GET", "/v1/logs" + (q.isEmpty ? "" : "?" + q.joined(separator: "&")))
        if r.status == 404 || r.status == 501 {
            throw .http(status: r.status, message: "\(missing) (GET /v1/logs answered \(r.status): \(Output.plain(try? r.json()["error"])))", field: nil)
        }
        try r.checked()
        try inv.emit(r) { () throws(ClientError) -> String in
            (try r.json()["lines"]?.arrayValue ?? []).reversed().map(logLine).joined(separator: "\n")
        }
        return 0
    }
}

/// `--since 10m` / `2h` / `3d` / `90s` (before now), a Unix time in ms, or
/// a local date and time `2024-05-01T08:00[:SS]` / `2024-05-01 08:00` / `2024-05-01`.
enum TimeSpec {
    static func parse(_ s: String, option: String, now: Int64 = wallClockMillis()) throws(ClientError) -> Int64 {
        let units: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000]
        if let u = s.last, let mul = units[u], let n = Double(s.dropLast()), n >= 0 {
            return now - Int64(n * Double(mul))
        }
        if let ms = Int64(s), ms > 1_000_000_000_000 { return ms }
        // local date/time
        let parts = s.replacingT.split(separator: " ")
        let d = parts.first?.split(separator: "-").compactMap { Int32($0) } ?? []
        let t = parts.count > 1 ? parts[1].split(separator: ":").compactMap { Int32($0) } : []
        guard d.count == 3, parts.count <= 2, t.count == (parts.count > 1 ? parts[1].split(separator: ":").count : 0) else {
            throw .usage("--\(option) '\(s)': expected a duration (10m, 2h, 3d) or a time (2024-05-01T08:00)")
        }
        var tmv = tm()
        tmv.tm_year = d[0] - 1900
        tmv.tm_mon = d[1] - 1
        tmv.tm_mday = d[2]
        tmv.tm_hour = t.count > 0 ? t[0] : 0
        tmv.tm_min = t.count > 1 ? t[1] : 0
        tmv.tm_sec = t.count > 2 ? t[2] : 0
        tmv.tm_isdst = -1
        let secs = mktime(&tmv)
        guard secs != -1 else { throw .usage("--\(option) '\(s)': not a valid time") }
        return Int64(secs) * 1000
    }
}

extension String {
    var replacingT: String { String(map { $0 == "T" ? " " : $0 }) }
}
