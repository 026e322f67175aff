import AutoHomeClient
import AutoHomeSupport
#if canImport(Glibc)
import Glibc
#endif

/// `autohome device --config DEVICE.json` (SPEC §9): any Linux box as a
/// device. It registers (or reuses the registration saved in its state
/// file), keeps the action stream open (reconnecting with back-off), turns
/// `name=value` lines from stdin or a FIFO into events, and runs
/// `--on-action CMD` for every action it receives. docs/devices.md has the
/// file format and a complete example.
enum DeviceCommand {
    static let command = Command(
        words: ["device"], usage: "--config DEVICE.json",
        summary: "be a device: register, send name=value lines as events, run a command per action",
        details: """
            DEVICE.json: {"device": {definition as for POST /v1/devices}, "server"?, "token"?, "pin"?, "state"?}.
            The registration is kept in the state file (default: DEVICE.state.json next to the config) and
            reused; with a token the definition is (re)posted at start, which keeps the same registration.
            Each input line "name=value [name=value…]" is one event (values as text; name:=JSON for JSON).
            Each action runs CMD through /bin/sh with AUTOHOME_DEVICE, AUTOHOME_ACTION (the JSON line) and
            AUTOHOME_VALUE_<property> for every property in it; without --on-action actions print on stdout.
            """,
        options: [
            OptionSpec(name: "config", value: "DEVICE.json", help: "the device file (required)"),
            OptionSpec(name: "on-action", value: "CMD", help: "shell command run for each action, values in its environment"),
            OptionSpec(name: "input", value: "PATH", help: "read events from PATH (a FIFO is reopened after each writer); default stdin"),
            OptionSpec(name: "no-input", value: nil, help: "send no events; only follow actions"),
        ],
        examples: [
            "autohome device --config heater.json --on-action ./switch-relay.sh",
            "sensor-loop | autohome device --config thermometer.json",
            "mkfifo /run/door && autohome device --config door.json --input /run/door",
        ]
    ) { inv throws(ClientError) in try Device(inv).run() }
}

final class Device: @unchecked Sendable {
    let inv: Invocation
    let configPath: String
    let definition: JSON
    let id: String
    let statePath: String
    var settings: Settings
    let link: Link
    var registration = ""
    let onAction: String?
    let lock = Lock()
    let actionsReady = Condition()
    var actions = FIFO<String>()

    init(_ inv: Invocation) throws(ClientError) {
        self.inv = inv
        guard let path = inv.args.value("config") else { throw .usage("device needs --config DEVICE.json") }
        configPath = path
        let cfg: JSON
        do { cfg = try JSON.parse(bytes: try Files.read(path)) } catch { throw .failed("\(path): \(error)") }
        for (k, _) in cfg.objectMembers ?? [] where !["device", "server", "token", "pin", "state"].contains(k) {
            throw .failed("\(path): unknown key \"\(k)\" (device, server, token, pin, state)")
        }
        guard let d = cfg["device"], case .object = d else {
            throw .failed("\(path): \"device\" must be a device definition {\"id\", \"name\", \"properties\": […]}")
        }
        guard let id = d["id"]?.stringValue else { throw .failed("\(path): device.id is missing") }
        definition = d
        self.id = id
        let base = path.hasSuffix(".json") ? String(path.dropLast(5)) : path
        statePath = cfg["state"]?.stringValue ?? base + ".state.json"
        settings = inv.settings
        // The file's server/token/pin apply unless given on the command line.
        if inv.args.value("server") == nil, let s = cfg["server"]?.stringValue { settings.server = try ServerAddress(parsing: s) }
        if inv.args.value("token") == nil, let t = cfg["token"]?.stringValue { settings.token = t }
        if inv.args.value("pin") == nil, let p = cfg["pin"]?.stringValue { settings.pin = p }
        link = Link(settings)
        onAction = inv.args.value("on-action")
    }

    // MARK: registration

    func savedRegistration() -> String? {
        guard let j = try? JSON.parse(bytes: (try? Files.read(statePath)) ?? []),
              j["id"]?.stringValue == id, j["server"]?.stringValue == settings.server.description else { return nil }
        return j["registration"]?.stringValue
    }

    func save(_ reg: String) throws(ClientError) {
        let j = JSON.object([("id", .string(id)), ("server", .string(settings.server.description)),
                             ("registration", .string(reg))])
        do { try Files.writeAtomically(statePath, Array((j.text + "\n").utf8), mode: 0o600) } catch {
            throw .failed("cannot save the registration in \(statePath): \(error)")
        }
    }

    /// POST /v1/devices with the token (the same id from the same token keeps
    /// its registration), else the saved registration as it is.
    func register(force: Bool) throws(ClientError) {
        let saved = savedRegistration()
        if settings.token == nil {
            guard let saved else {
                throw .usage("\(configPath): no saved registration in \(statePath) and no token to register with (--token, \"token\" or $AUTOHOME_TOKEN; a device or admin token)")
            }
            registration = saved
            return
        }
        if let saved, !force, registration.isEmpty {
            registration = saved // used at once; the definition is re-posted below
        }
        let r = try link.get().request("POST", "/v1/devices", json: definition).checked()
        guard let reg = try r.json()["registration"]?.stringValue else { throw .failed("POST /v1/devices: no registration in the answer") }
        if reg != saved { try save(reg) }
        if registration != reg { Output.notice("registered \(id)\(r.status == 201 ? " (new)" : "")") }
        registration = reg
    }

    // MARK: run

    func run() throws(ClientError) -> Int32 {
        try register(force: false)
        spawnThread(name: "device-actions") { [self] in actionLoop() }
        spawnThread(name: "device-runner") { [self] in runnerLoop() }
        if inv.args.has("no-input") {
            while true { sleepMillis(3_600_000) }
        }
        let input = inv.args.value("input") ?? "-"
        if input == "-" {
            readLines(from: stdin)
        } else {
            // A FIFO sees EOF whenever its last writer closes: open it again.
            while true {
                guard let f = fopen(input, "r") else { throw .failed("cannot open \(input): \(Files.errnoText())") }
                readLines(from: f)
                fclose(f)
                if !isFIFO(input) { break }
            }
        }
        return 0
    }

    func isFIFO(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO
    }

    func readLines(from f: UnsafeMutablePointer<FILE>) {
        var buf: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(buf) }
        while getline(&buf, &cap, f) >= 0 {
            let line = String(cString: buf!).trimmingWhitespace
            if line.isEmpty || line.hasPrefix("#") { continue }
            send(line)
        }
    }

    /// One input line → one event; retried while the daemon is away or busy.
    func send(_ line: String) {
        var props: [JSON] = []
        for word in line.split(separator: " ", omittingEmptySubsequences: true) {
            do throws(ClientError) { props.append(try propertyAssignment(String(word))) } catch {
                Output.error("ignored line '\(line)': \(error.description)")
                return
            }
        }
        let body = JSON.object([("properties", .array(props))])
        while true {
            do throws(ClientError) {
                let r = try link.get().request("POST", "/v1/event/\(esc(registration))", json: body)
                if r.status == 503 {
                    sleepMillis(1000 * max(1, Int(r.retryAfter ?? "1") ?? 1))
                    continue
                }
                if r.status == 404 && settings.token != nil {
                    Output.notice("the daemon does not know this registration any more; registering again")
                    try register(force: true)
                    continue
                }
                if r.status >= 400 { Output.error("event '\(line)' refused: \(r.errorValue.description)") }
                return
            } catch {
                if case .unreachable = error { sleepMillis(1000); continue }
                Output.error("event '\(line)': \(error.description)")
                if error.exitCode == 3 { exit(3) }
                return
            }
        }
    }

    // MARK: actions

    /// Keeps GET /v1/actions/<registration> open; every line is queued for
    /// the runner (the network thread must not wait for a shell command).
    func actionLoop() {
        var backoff = 1
        while true {
            do throws(ClientError) {
                let conn = try link.get()
                let splitter = LineSplitter { [self] line in
                    lock.withLock { actions.push(line) }
                    actionsReady.signal()
                }
                var head = 0
                let h = try conn.stream("GET", "/v1/actions/\(esc(registration))", onHead: { head = $0 },
                                        onData: { splitter.feed($0) })
                let r = try h.wait()
                if r.status == 404 && settings.token != nil {
                    try register(force: true)
                } else if r.status >= 400 {
                    Output.error("action stream refused: \(r.errorValue.description)")
                    if r.status == 401 || r.status == 403 || r.status == 404 { exit(r.errorValue.exitCode) }
                }
                if head == 200 { backoff = 1 }
            } catch {
                if error.exitCode == 3, case .certificateChanged = error { Output.error(error.description); exit(3) }
                if case .unreachable = error {} else { Output.error("action stream: \(error.description)") }
            }
            sleepMillis(backoff * 1000)
            backoff = min(backoff * 2, 30)
        }
    }

    func runnerLoop() {
        while true {
            lock.lock()
            while actions.isEmpty { actionsReady.wait(lock) }
            let line = actions.pop()!
            lock.unlock()
            guard let cmd = onAction else { Output.line(line); continue }
            runAction(cmd, line)
        }
    }

    /// /bin/sh -c CMD with the action in the environment; waits for it, so
    /// actions run one at a time, in order.
    func runAction(_ cmd: String, _ line: String) {
        var env: [String] = []
        var e = environ
        while let p = e.pointee { env.append(String(cString: p)); e += 1 }
        env.append("AUTOHOME_DEVICE=\(id)")
        env.append("AUTOHOME_ACTION=\(line)")
        if let j = try? JSON.parse(line) {
            var names: [String] = []
            for p in j["properties"]?.arrayValue ?? [] {
                guard let n = p["name"]?.stringValue else { continue }
                names.append(n)
                env.append("AUTOHOME_VALUE_\(n)=\(Output.plain(p["value"]))")
            }
            env.append("AUTOHOME_PROPERTIES=\(names.joined(separator: " "))")
        }
        let argv = ["/bin/sh", "-c", cmd]
        var cargv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cenv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer { for p in cargv { free(p) }; for p in cenv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", nil, nil, &cargv, &cenv)
        guard rc == 0 else { Output.error("cannot run --on-action: \(String(cString: strerror(rc)))"); return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status != 0 { Output.error("--on-action exited with status \(status >> 8) for \(line)") }
    }
}
