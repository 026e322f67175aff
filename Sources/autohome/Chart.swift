import AutoHomeClient
import AutoHomeSupport

/// A value-over-time chart for the terminal (`autohome history`): the time
/// range cut into one column per character cell, each column the value in
/// force at its end (values are steps: a property keeps its value until the
/// next one), drawn with the eighth-block characters ▁▂▃▄▅▆▇█ over `height`
/// rows. The left margin holds the value axis, the bottom row the time axis.
enum Chart {
    static let blocks: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// points: (time ms, value), any order.
    static func render(_ points: [(Int64, Double)], from: Int64, to: Int64, width: Int, height: Int) -> String {
        let pts = points.sorted { $0.0 < $1.0 }
        guard !pts.isEmpty, to > from else { return "no points" }
        var lo = pts.map(\.1).min()!, hi = pts.map(\.1).max()!
        if lo == hi { lo -= 1; hi += 1 }
        let labels = [fmt(hi), fmt((hi + lo) / 2), fmt(lo)]
        let margin = labels.map(\.count).max()! + 1
        let cols = max(10, width - margin - 1)
        let rows = max(3, height)
        // value at the end of each column (the last point at or before it)
        var values = [Double?](repeating: nil, count: cols)
        var j = 0
        var current: Double? = nil
        for c in 0..<cols {
            let end = from + (to - from) * Int64(c + 1) / Int64(cols)
            while j < pts.count && pts[j].0 <= end { current = pts[j].1; j += 1 }
            values[c] = current
        }
        var out: [String] = []
        for r in 0..<rows {
            // row r covers [bottom, bottom + step) from the top
            let top = rows - 1 - r
            var line = ""
            let label = r == 0 ? labels[0] : r == rows / 2 ? labels[1] : r == rows - 1 ? labels[2] : ""
            line += String(repeating: " ", count: margin - 1 - label.count) + label + "┤"
            for v in values {
                guard let v else { line += " "; continue }
                let eighths = Int(((v - lo) / (hi - lo) * Double(rows * 8)).rounded())
                let fill = eighths - top * 8
                line.append(fill >= 8 ? blocks[8] : fill <= 0 ? (top == 0 ? blocks[1] : " ") : blocks[fill])
            }
            out.append(line)
        }
        out.append(String(repeating: " ", count: margin - 1) + "└" + String(repeating: "─", count: cols))
        out.append(timeAxis(from: from, to: to, cols: cols, margin: margin))
        return out.joined(separator: "\n")
    }

    /// Start, middle and end times under the chart (dates when it spans days).
    static func timeAxis(from: Int64, to: Int64, cols: Int, margin: Int) -> String {
        let withDate = to - from >= 86_400_000
        let a = Output.time(from, withDate: withDate), m = Output.time((from + to) / 2, withDate: withDate),
            b = Output.time(to, withDate: withDate)
        var line = [Character](repeating: " ", count: margin + cols)
        func put(_ s: String, at: Int) {
            let start = max(0, min(at, line.count - s.count))
            for (i, ch) in s.enumerated() { line[start + i] = ch }
        }
        put(a, at: margin)
        if cols > (a.count + m.count + b.count + 4) { put(m, at: margin + cols / 2 - m.count / 2) }
        put(b, at: margin + cols - b.count)
        return String(line)
    }

    static func fmt(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        let r = (v * 100).rounded() / 100
        return String(r)
    }
}

/// `history DEV PROP`: durable history (GET /v1/history) as a chart, or the
/// raw points with --json. A daemon without durable history yet (501/404)
/// gets the property's in-memory ring instead, with a note saying so.
enum HistoryCommand {
    static let command = Command(
        words: ["history"], usage: "DEV PROP",
        summary: "a property's values over time, charted to the terminal's width (--json: raw points)",
        details: "Switches and buttons chart as 0/1; text properties list their values.",
        options: [
            OptionSpec(name: "since", value: "DURATION|TIME", help: "from (10m, 2h, 7d, 2024-05-01T08:00); default 24h"),
            OptionSpec(name: "limit", value: "N", help: "at most N points (server default 1000, max 100000)"),
            OptionSpec(name: "height", value: "ROWS", help: "chart height (default: fits the terminal, at most 12)"),
        ],
        examples: ["autohome history lamp level", "autohome history hall motion --since 7d",
                   "autohome --json history lamp level --since 2h --limit 50"],
        arity: (2, 2)
    ) { inv throws(ClientError) in
        let (dev, prop) = (inv.positionals[0], inv.positionals[1])
        let now = wallClockMillis()
        let since = try TimeSpec.parse(inv.args.value("since") ?? "24h", option: "since", now: now)
        var q = "device=\(esc(dev))&property=\(esc(prop))&since=\(since)"
        if let n = try inv.args.int("limit", min: 1) { q += "&limit=\(n)" }
        let conn = try inv.connection()
        let r = try conn.request("GET", "/v1/history?" + q)
        var points: [JSON]
        if r.status == 501 || (r.status == 404 && (try? r.json()["error"]?.stringValue?.hasPrefix("no such resource")) == true) {
            // No durable history on this daemon yet: the property's recent values.
            let p = try conn.request("GET", "/v1/devices/\(esc(dev))/properties/\(esc(prop))").checked()
            points = (try p.json()["history"]?.arrayValue ?? []).filter { ($0["time"]?.numberValue ?? 0) >= Double(since) }
            Output.notice("this daemon has no durable history yet (GET /v1/history answered \(r.status)); showing the property's recent values")
            if inv.json {
                Output.line(JSON.object([("points", .array(points))]).text)
                return 0
            }
        } else {
            try r.checked()
            if inv.json { Output.body(r.text); return 0 }
            points = try r.json()["points"]?.arrayValue ?? []
        }
        guard !points.isEmpty else { Output.line("no values for \(dev).\(prop) since \(Output.time(since, withDate: true))"); return 0 }
        var numeric: [(Int64, Double)] = []
        for p in points {
            let t = Int64(p["time"]?.numberValue ?? 0)
            switch p["value"] {
            case .number(let v)?: numeric.append((t, v))
            case .bool(let b)?: numeric.append((t, b ? 1 : 0))
            default: break
            }
        }
        if numeric.count < points.count {
            // text values: a list, oldest first
            for p in points.reversed() {
                Output.line("\(Output.time(Int64(p["time"]?.numberValue ?? 0), withDate: true))  \(Output.plain(p["value"]))")
            }
            return 0
        }
        let height = try inv.args.int("height", min: 3) ?? max(3, min(12, Output.terminalHeight - 6))
        // --since given: that range; else from the oldest point (within 24 h),
        // and never less than a minute, so a fresh device still draws a line.
        let oldest = numeric.map(\.0).min()!
        let from = inv.args.value("since") != nil ? min(since, oldest) : min(max(since, oldest), now - 60_000)
        Output.line("\(dev).\(prop): \(points.count) value\(points.count == 1 ? "" : "s") since \(Output.time(from, withDate: true))")
        Output.line(Chart.render(numeric, from: from, to: now, width: Output.terminalWidth, height: height))
        return 0
    }
}
