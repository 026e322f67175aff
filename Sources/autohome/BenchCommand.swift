import AutoHomeClient
import AutoHomeSupport
#if canImport(Glibc)
import Glibc
#endif

/// `autohome bench`: a load generator (SPEC §9) built to cost less CPU per
/// event than the daemon spends on it, so the daemon is what is measured.
/// It runs on CQuic's client role directly (not on `Connection`): in flat-out
/// mode the next request of a stream is issued from the previous one's
/// completion callback, on the network thread, with no thread hop and no
/// per-request object; latencies go into one preallocated array.
enum BenchCommand {
    static let command = Command(
        words: ["bench"], usage: "",
        summary: "load generator: events/s, p50/p99/p999 latency, errors by status, CPU per event",
        details: """
            Without --registration it registers a device of its own (bench-XXXX, one dial) and deletes it
            afterwards; the token then needs the device or admin scope. --rate sends at a fixed total rate
            (open loop, at most connections × streams in flight); without it every stream sends its next
            event as soon as the previous one is answered. --path sends the same body to another path and
            skips registration (the CQuic echo server's /echo: the transport floor). --server-pid reads
            that process's CPU time too (same machine), to print both sides' CPU µs per event.
            """,
        options: [
            OptionSpec(name: "registration", value: "REG", help: "send to this registration (else: a bench device of its own)"),
            OptionSpec(name: "connections", value: "C", help: "QUIC connections (default 4)"),
            OptionSpec(name: "streams", value: "S", help: "concurrent requests per connection (default 8)"),
            OptionSpec(name: "rate", value: "PER_SECOND", help: "fixed total rate (default: flat out)"),
            OptionSpec(name: "duration", value: "SECONDS", help: "how long (default 10)"),
            OptionSpec(name: "count", value: "N", help: "stop after N events instead"),
            OptionSpec(name: "path", value: "PATH", help: "POST the event body to PATH (no registration)"),
            OptionSpec(name: "server-pid", value: "PID", help: "also measure this local process's CPU"),
        ],
        examples: [
            "autohome bench", "autohome bench --connections 8 --streams 16 --duration 30",
            "autohome bench --rate 2000 --count 100000", "autohome bench --registration $REG --json",
        ]
    ) { inv throws(ClientError) in try Bench(inv).run() }
}

final class Bench: H3Delegate, @unchecked Sendable {
    let inv: Invocation
    let nconn: Int, nstreams: Int
    let rate: Double?
    let durationNs: UInt64
    let count: Int?
    let serverPid: Int32?
    var path = ""
    var core: H3Core!

    // network-thread state (and the pacer's, under `lock` in rate mode)
    var conns: [UInt64] = []
    var connected = 0, closedConns = 0
    var starts: [UInt64]
    let mask: UInt64
    var nextId: UInt64 = 1
    var issued = 0, completed = 0, inFlight = 0
    var latenciesUs: [UInt32] = []
    var statuses: [Int: Int] = [:]
    var connErrors = 0, saturated = 0
    var statusOf: [UInt64: Int] = [:]
    var stopping = false
    var endAt: UInt64 = 0
    let lock = Lock()
    let cond = Condition()
    var bodyPrefix = Array(#"{"properties":[{"name":"value","value":"#.utf8)
    var body: [UInt8] = []
    var authorization: String?

    init(_ inv: Invocation) throws(ClientError) {
        self.inv = inv
        nconn = try inv.args.int("connections", min: 1) ?? 4
        nstreams = try inv.args.int("streams", min: 1) ?? 8
        rate = try inv.args.double("rate")
        let dur = try inv.args.double("duration") ?? 10
        durationNs = UInt64(dur * 1e9)
        count = try inv.args.int("count", min: 1)
        serverPid = try inv.args.int("server-pid", min: 1).map { Int32($0) }
        if inv.args.has("duration") && count != nil { throw .usage("give --duration or --count, not both") }
        var cap: UInt64 = 1
        while cap < UInt64(nconn * nstreams * 4) { cap <<= 1 }
        starts = [UInt64](repeating: 0, count: Int(cap))
        mask = cap - 1
        latenciesUs.reserveCapacity(count ?? 1 << 20)
    }

    func run() throws(ClientError) -> Int32 {
        // Set-up over an ordinary connection: pin check, registration.
        let setup = try inv.connection()
        let pin = setup.fingerprint
        var ownDevice: String?
        if let p = inv.args.value("path") {
            path = p
        } else if let reg = inv.args.value("registration") {
            path = "/v1/event/\(esc(reg))"
        } else {
            var rnd = [UInt8](repeating: 0, count: 4)
            for i in rnd.indices { rnd[i] = UInt8.random(in: 0...255) }
            let id = "bench-" + rnd.map { String($0, radix: 16) }.joined()
            let def = JSON.object([("id", .string(id)), ("name", .string("autohome bench")),
                                   ("properties", .array([.object([("name", .string("value")), ("type", .string("dial")),
                                                                   ("min", .number(0)), ("max", .number(1e12))])]))])
            let r = try setup.request("POST", "/v1/devices", json: def).checked()
            guard let reg = try r.json()["registration"]?.stringValue else { throw .failed("no registration") }
            path = "/v1/event/\(reg)"
            ownDevice = id
        }
        authorization = inv.settings.token.map { "Bearer " + $0 }
        core = try H3Core(server: inv.settings.server, delegate: self, idleTimeoutMs: 30_000)
        core.start()
        for _ in 0..<nconn { conns.append(core.connect(pin: pin)) }
        lock.lock()
        let deadline = monotonicNanos() + 10_000_000_000
        while connected + closedConns < nconn && monotonicNanos() < deadline { cond.wait(lock, untilMonotonicNanos: deadline) }
        let ok = connected
        lock.unlock()
        guard ok == nconn else { core.stop(); throw .unreachable("only \(ok) of \(nconn) bench connections came up") }

        let cpu0 = processCPUNanos(), srv0 = serverCPU(), t0 = monotonicNanos()
        endAt = count == nil ? t0 + durationNs : UInt64.max
        if let rate {
            pace(rate, t0)
        } else {
            lock.lock()
            for c in conns { for _ in 0..<nstreams { issue(c) } }
            lock.unlock()
        }
        // wait for the end and the last answers
        lock.lock()
        while !(stopping && inFlight == 0) {
            let now = monotonicNanos()
            if !stopping && now >= endAt { stopping = true }
            if stopping && now > endAt &+ 10_000_000_000 { break }
            cond.wait(lock, untilMonotonicNanos: min(endAt, now + 100_000_000))
        }
        let t1 = monotonicNanos()
        lock.unlock()
        let cpu1 = processCPUNanos(), srv1 = serverCPU()
        core.stop()
        if let ownDevice { _ = try? setup.request("DELETE", "/v1/devices/\(ownDevice)") }
        return report(seconds: Double(t1 - t0) / 1e9, clientCPU: cpu1 - cpu0,
                      serverCPU: srv0.flatMap { a in srv1.map { $0 - a } })
    }

    /// Open loop: every millisecond, the requests now due, round robin.
    func pace(_ rate: Double, _ t0: UInt64) {
        spawnThread(name: "bench-pacer") { [self] in
            var sent = 0.0
            var rr = 0
            while true {
                let now = monotonicNanos()
                lock.lock()
                if stopping || now >= endAt { stopping = true; lock.unlock(); cond.broadcast(); return }
                let due = Double(now - t0) / 1e9 * rate
                while sent + 1 <= due {
                    sent += 1
                    if let count, issued >= count { stopping = true; break }
                    if inFlight >= nconn * nstreams { saturated += 1; continue }
                    issue(conns[rr % conns.count])
                    rr += 1
                }
                lock.unlock()
                sleepMillis(1)
            }
        }
    }

    /// Caller holds `lock`.
    func issue(_ conn: UInt64) {
        if let count, issued >= count { stopping = true; return }
        let id = nextId
        nextId += 1
        issued += 1
        inFlight += 1
        starts[Int(id & mask)] = monotonicNanos()
        body.removeAll(keepingCapacity: true)
        body.append(contentsOf: bodyPrefix)
        body.append(contentsOf: String(id).utf8)
        body.append(contentsOf: [0x7D, 0x5D, 0x7D]) // }]}
        let rc = body.withUnsafeBytes {
            core.request(conn: conn, id: id << 8 | UInt64(conns.firstIndex(of: conn)!), method: "POST", path: path,
                         authorization: authorization, contentType: "application/json", body: $0)
        }
        if rc != 0 { inFlight -= 1; connErrors += 1 }
    }

    // MARK: H3Delegate (network thread)

    func connected(_ conn: UInt64, fingerprint: String) {
        lock.withLock { connected += 1 }
        cond.broadcast()
    }

    func closed(_ conn: UInt64, reason: CloseReason, fingerprint: String, message: String) {
        lock.withLock {
            closedConns += 1
            if reason != .closed && !stopping { Output.notice("bench connection lost: \(message)") }
        }
        cond.broadcast()
    }

    func headers(_ req: UInt64, status: Int, contentType: String?, retryAfter: String?) {
        lock.withLock { statusOf[req] = status }
    }

    func data(_ req: UInt64, _ bytes: UnsafeRawBufferPointer) {}

    func done(_ req: UInt64, _ end: RequestEnd) {
        let now = monotonicNanos()
        lock.lock()
        let id = req >> 8
        inFlight -= 1
        completed += 1
        let status = statusOf.removeValue(forKey: req) ?? 0
        if end == .ok && status > 0 {
            statuses[status, default: 0] += 1
            let us = (now - starts[Int(id & mask)]) / 1000
            latenciesUs.append(UInt32(min(us, UInt64(UInt32.max))))
        } else {
            connErrors += 1
        }
        if now >= endAt { stopping = true }
        if rate == nil && !stopping && end != .connection {
            issue(conns[Int(req & 0xFF)])
        }
        let wake = stopping && inFlight == 0
        lock.unlock()
        if wake { cond.broadcast() }
    }

    // MARK: figures

    func serverCPU() -> UInt64? {
        guard let pid = serverPid, let text = try? Files.readText("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        let f = text[text.index(after: close)...].split(separator: " ")
        // fields after the name: state is [0], utime [11], stime [12] (clock ticks)
        guard f.count > 12, let u = UInt64(f[11]), let s = UInt64(f[12]) else { return nil }
        let hz = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        return (u + s) * 1_000_000_000 / max(hz, 1)
    }

    func report(seconds: Double, clientCPU: UInt64, serverCPU: UInt64?) -> Int32 {
        var lat = latenciesUs
        lat.sort()
        let pct = { (p: Double) -> Double in lat.isEmpty ? 0 : Double(lat[min(lat.count - 1, Int(Double(lat.count) * p))]) / 1000 }
        let ok = statuses.filter { $0.key < 400 }.values.reduce(0, +)
        let eps = Double(ok) / max(seconds, 1e-9)
        let cpuPer = ok > 0 ? Double(clientCPU) / 1000 / Double(ok) : 0
        let srvPer = serverCPU.map { ok > 0 ? Double($0) / 1000 / Double(ok) : 0 }
        let r1 = { (x: Double) in (x * 10).rounded() / 10 }
        let r3 = { (x: Double) in (x * 1000).rounded() / 1000 }
        var errs: [(String, JSON)] = statuses.filter { $0.key >= 400 }.sorted { $0.key < $1.key }
            .map { (String($0.key), .number(Double($0.value))) }
        if connErrors > 0 { errs.append(("connection", .number(Double(connErrors)))) }
        // Not an error of the server: at a fixed rate, a tick that found every
        // stream busy sends nothing (the load generator is saturated). Shown
        // apart, and it does not fail the run.
        if inv.json {
            var o: [(String, JSON)] = [
                ("path", .string(path.hasPrefix("/v1/event/") ? "/v1/event/…" : path)),
                ("connections", .number(Double(nconn))), ("streams", .number(Double(nstreams))),
                ("rate", rate.map { .number($0) } ?? .null), ("seconds", .number(r3(seconds))),
                ("events", .number(Double(ok))), ("eventsPerSecond", .number(r1(eps))),
                ("p50Ms", .number(r3(pct(0.5)))), ("p99Ms", .number(r3(pct(0.99)))), ("p999Ms", .number(r3(pct(0.999)))),
                ("errors", .object(errs)), ("skippedSaturated", .number(Double(saturated))),
                ("clientCpuUsPerEvent", .number(r1(cpuPer))),
            ]
            if let srvPer { o.append(("serverCpuUsPerEvent", .number(r1(srvPer)))) }
            Output.line(JSON.object(o).text)
        } else {
            Output.line("\(ok) events in \(r3(seconds)) s over \(nconn) connections × \(nstreams) streams"
                        + (rate.map { " at \(Int($0))/s" } ?? " (flat out)"))
            Output.line("events/s: \(r1(eps))")
            Output.line("latency ms: p50 \(r3(pct(0.5)))  p99 \(r3(pct(0.99)))  p999 \(r3(pct(0.999)))")
            Output.line("errors: " + (errs.isEmpty ? "none" : errs.map { "\($0.0) \(Output.plain($0.1))" }.joined(separator: ", ")))
            if saturated > 0 { Output.line("not sent: \(saturated) (every stream was busy: the rate is above what these connections carry)") }
            Output.line("CPU µs/event: client \(r1(cpuPer))" + (srvPer.map { ", server \(r1($0))" } ?? ""))
        }
        return errs.isEmpty ? 0 : 1
    }
}
