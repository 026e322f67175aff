#if canImport(Glibc)
import Glibc
#endif
import AutoHomeSupport

/// Starting and ending a plugin's process. The child gets its own process
/// group (so its own helpers end with it), an empty signal mask (the daemon
/// blocks SIGTERM/SIGINT for its sigwait), default signal actions, stdin from
/// /dev/null, the daemon's stdout/stderr (its lines reach the journal), and
/// none of the daemon's other descriptors.
struct ChildProcess {
    let pid: pid_t

    static func spawn(_ argv: [String], extraEnvironment: [String: String]) -> Result<ChildProcess, PluginSetupError> {
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attr)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attr)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        ChildProcess.closeOnExecAll()
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var env: [String] = []
        var i = 0
        while let p = environ[i] {
            let entry = String(cString: p)
            let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            if extraEnvironment[key] == nil { env.append(entry) }
            i += 1
        }
        for (k, v) in extraEnvironment.sorted(by: { $0.key < $1.key }) { env.append("\(k)=\(v)") }

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attr, &cArgs, &cEnv)
        guard rc == 0 else { return .failure(PluginSetupError("cannot start \(argv[0]): \(String(cString: strerror(rc)))")) }
        return .success(ChildProcess(pid: pid))
    }

    /// Marks every descriptor of the daemon close-on-exec, so a plugin
    /// inherits none of them (the daemon itself never execs anything else).
    static func closeOnExecAll() {
        guard let dir = opendir("/proc/self/fd") else { return }
        defer { closedir(dir) }
        let own = dirfd(dir)
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name), fd > 2, fd != own else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Signals the child's whole process group.
    func signal(_ sig: Int32) {
        if kill(-pid, sig) != 0 { _ = kill(pid, sig) }
    }

    /// nil while it runs; its exit description once it has been reaped.
    func reap() -> String? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == 0 { return nil }
        if r < 0 { return errno == ECHILD ? "gone" : nil }
        return ChildProcess.describe(status)
    }

    static func describe(_ status: Int32) -> String {
        let sig = status & 0x7f
        if sig == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "killed by signal \(sig)"
    }
}

/// Why a plugin's process or socket could not be set up.
public struct PluginSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
