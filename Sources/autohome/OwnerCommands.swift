import AutoHomeClient
import AutoHomeSupport

/// Percent-encodes a path segment or query value.
func esc(_ s: String) -> String {
    var out = ""
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
             UInt8(ascii: "~"):
            out.unicodeScalars.append(UnicodeScalar(b))
        default:
            let hex = Array("0123456789ABCDEF")
            out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
        }
    }
    return out
}

/// A property value as text: switches by their label.
func valueText(_ p: JSON) -> String {
    if let label = p["label"]?.stringValue { return label }
    return Output.plain(p["value"])
}

/// `NAME=VALUE` → a property of an event. Values go as strings, which every
/// type accepts (switch labels, dial numerals, text); `NAME:=JSON` sends raw
/// JSON (`level:=42`, `on:=true`).
func propertyAssignment(_ a: String) throws(ClientError) -> JSON {
    let chars = Array(a)
    if let i = chars.indices.first(where: { chars[$0] == ":" && $0 + 1 < chars.count && chars[$0 + 1] == "=" }),
       !chars[..<i].contains("=") {
        let name = String(chars[..<i])
        let raw = String(chars[(i + 2)...])
        guard !name.isEmpty else { throw .usage("'\(a)': expected NAME:=JSON") }
        do { return .object([("name", .string(name)), ("value", try JSON.parse(raw))]) } catch {
            throw .usage("'\(a)': the value after := is not JSON (\(error))")
        }
    }
    guard let eq = a.firstIndex(of: "="), eq != a.startIndex else { throw .usage("'\(a)': expected NAME=VALUE") }
    return .object([("name", .string(String(a[..<eq]))), ("value", .string(String(a[a.index(after: eq)...])))])
}

enum OwnerCommands {
    static var all: [Command] {
        [status, devices, get, set, send, rmDevice]
    }

    static let status = Command(
        words: ["status"], usage: "", summary: "the daemon's health: uptime, events, ring, VMs, scripts, memory",
        examples: ["autohome status", "autohome --json status | jq .events"]
    ) { inv throws(ClientError) in
        let r = try inv.call("GET", "/v1/status")
        try inv.emit(r) { () throws(ClientError) -> String in
            let j = try r.json()
            let n = { (v: JSON?) in Output.plain(v) }
            let up = Int(j["uptimeSeconds"]?.numberValue ?? 0)
            let rss = (j["memory"]?["rssBytes"]?.numberValue ?? 0) / 1_048_576
            var lines = [
                "autohomed \(n(j["version"])) at \(inv.settings.server), up \(up / 86400)d \(up % 86400 / 3600)h \(up % 3600 / 60)m \(up % 60)s",
                "events:  accepted \(n(j["events"]?["accepted"])), processed \(n(j["events"]?["processed"])), rejected \(n(j["events"]?["rejected"])), busy \(n(j["events"]?["busy"]))",
                "ring:    \(n(j["ring"]?["used"])) of \(n(j["ring"]?["capacity"])) slots used",
                "VMs:     \(n(j["vms"]?["busy"])) of \(n(j["vms"]?["size"])) busy, \(n(j["vms"]?["replaced"])) replaced",
                "scripts: generation \(n(j["scripts"]?["generation"])), \(n(j["scripts"]?["errors"])) errors",
            ]
            for (name, count) in j["scripts"]?["errorsByScript"]?.objectMembers ?? [] {
                lines.append("         \(name): \(Output.plain(count)) errors")
            }
            lines.append("memory:  \(Int(rss.rounded())) MiB resident")
            return lines.joined(separator: "\n")
        }
        return 0
    }

    static let devices = Command(
        words: ["devices"], usage: "[ID]", summary: "list devices with their current values, or show one",
        examples: ["autohome devices", "autohome devices lamp", "autohome --json devices lamp"],
        arity: (0, 1)
    ) { inv throws(ClientError) in
        if let id = inv.positionals.first {
            let r = try inv.call("GET", "/v1/devices/\(esc(id))")
            try inv.emit(r) { () throws(ClientError) -> String in
                let d = try r.json()
                var rows = [["PROPERTY", "TYPE", "MODE", "VALUE", "RANGE"]]
                for p in d["properties"]?.arrayValue ?? [] {
                    let range = p["min"] != nil ? "\(Output.plain(p["min"]))..\(Output.plain(p["max"]))" : ""
                    rows.append([Output.plain(p["name"]), Output.plain(p["type"]), Output.plain(p["mode"] ?? .string("RW")),
                                 valueText(p), range])
                }
                var head = "\(Output.plain(d["id"])): \(Output.plain(d["name"]))"
                if let desc = d["description"]?.stringValue { head += " — \(desc)" }
                return head + "\n" + Output.table(rows)
            }
            return 0
        }
        let r = try inv.call("GET", "/v1/devices")
        try inv.emit(r) { () throws(ClientError) -> String in
            let j = try r.json()
            let list = j.arrayValue ?? j["devices"]?.arrayValue ?? []
            var rows = [["ID", "NAME", "VALUES"]]
            for d in list {
                let values = (d["properties"]?.arrayValue ?? []).map { "\(Output.plain($0["name"]))=\(valueText($0))" }
                rows.append([Output.plain(d["id"]), Output.plain(d["name"]), values.joined(separator: " ")])
            }
            return list.isEmpty ? "no devices" : Output.table(rows)
        }
        return 0
    }

    static let get = Command(
        words: ["get"], usage: "DEV PROP", summary: "one property's value (--json: with type, range and recent history)",
        examples: ["autohome get lamp power", "autohome --json get lamp level"], arity: (2, 2)
    ) { inv throws(ClientError) in
        let p = inv.positionals
        let r = try inv.call("GET", "/v1/devices/\(esc(p[0]))/properties/\(esc(p[1]))")
        try inv.emit(r) { () throws(ClientError) -> String in valueText(try r.json()) }
        return 0
    }

    static let set = Command(
        words: ["set"], usage: "DEV PROP VALUE",
        summary: "command a property (runs the scripts; sent to the device as an action)",
        details: "VALUE goes as text, which every type accepts: on/off, 21.5, any text. Use --raw to send it as JSON.",
        options: [OptionSpec(name: "raw", value: nil, help: "VALUE is JSON (true, 42, \"text\")")],
        examples: ["autohome set lamp power on", "autohome set lamp level 40", "autohome set lamp note 'back at 6'"],
        arity: (3, 3)
    ) { inv throws(ClientError) in
        let p = inv.positionals
        var value = JSON.string(p[2])
        if inv.args.has("raw") {
            do { value = try JSON.parse(p[2]) } catch { throw .usage("VALUE '\(p[2])' is not JSON (\(error))") }
        }
        let r = try inv.call("PUT", "/v1/devices/\(esc(p[0]))/properties/\(esc(p[1]))", json: .object([("value", value)]))
        try inv.emit(r) { () throws(ClientError) -> String in
            "\(p[0]).\(p[1]) ← \(p[2]) (seq \(Output.plain(try r.json()["seq"])))"
        }
        return 0
    }

    static let send = Command(
        words: ["send"], usage: "REGISTRATION PROP=VALUE…",
        summary: "post an event as a device does, and show what the pipeline did",
        details: """
            Waits for processing (?wait=1) and prints what was applied and skipped, the actions
            scripts sent and what they logged. PROP=VALUE sends the value as text (every type
            accepts text); PROP:=JSON sends JSON.
            """,
        options: [OptionSpec(name: "no-wait", value: nil, help: "return as soon as the event is in the ring (202)")],
        examples: ["autohome send 3f9c…e1 temperature=21.5 door=open", "autohome send $REG level:=40"],
        arity: (2, nil)
    ) { inv throws(ClientError) in
        let reg = inv.positionals[0]
        var props: [JSON] = []
        for a in inv.positionals.dropFirst() { props.append(try propertyAssignment(a)) }
        let wait = !inv.args.has("no-wait")
        let r = try inv.call("POST", "/v1/event/\(esc(reg))" + (wait ? "?wait=1" : ""), json: .object([("properties", .array(props))]))
        try inv.emit(r) { () throws(ClientError) -> String in
            let j = try r.json()
            guard wait else { return "accepted (seq \(Output.plain(j["seq"])))" }
            var out = ["seq \(Output.plain(j["seq"]))"]
            for a in j["applied"]?.arrayValue ?? [] { out.append("applied  \(Output.plain(a["name"])) = \(Output.plain(a["value"]))") }
            for s in j["skipped"]?.arrayValue ?? [] { out.append("skipped  \(Output.plain(s["name"])) (\(Output.plain(s["reason"])))") }
            for a in j["actions"]?.arrayValue ?? [] {
                let ps = (a["properties"]?.arrayValue ?? []).map { "\(Output.plain($0["name"]))=\(Output.plain($0["value"]))" }
                out.append("action   \(Output.plain(a["id"])): \(ps.joined(separator: " "))")
            }
            for l in j["logs"]?.arrayValue ?? [] { out.append("log      \(l.stringValue ?? Output.plain(l["message"] ?? l))") }
            for e in j["errors"]?.arrayValue ?? [] { out.append("error    \(e.stringValue ?? Output.plain(e["message"] ?? e))") }
            return out.joined(separator: "\n")
        }
        return (try? r.json()["errors"]?.arrayValue?.isEmpty == false) == true ? 1 : 0
    }

    static let rmDevice = Command(
        words: ["rm-device"], usage: "ID",
        summary: "delete a registered device: definition, registration, values, pending actions, history",
        examples: ["autohome rm-device kitchen-sensor"], arity: (1, 1)
    ) { inv throws(ClientError) in
        let id = inv.positionals[0]
        let r = try inv.call("DELETE", "/v1/devices/\(esc(id))")
        try inv.emit(r) { "deleted \(id)" }
        return 0
    }
}
