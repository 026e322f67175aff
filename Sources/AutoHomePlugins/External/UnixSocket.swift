#if canImport(Glibc)
import Glibc
#endif
import AutoHomeSupport

/// The listening socket one external plugin connects to, and the small
/// helpers for the connection: non-blocking, no SIGPIPE, peer credentials.
enum UnixSocket {
    /// Longest path a sockaddr_un holds (with its NUL).
    static let maxPath = 107

    static func listen(path: String) -> Result<Int32, PluginSetupError> {
        guard path.utf8.count <= maxPath else { return .failure(PluginSetupError("socket path \(path) is longer than \(maxPath) bytes")) }
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(PluginSetupError("socket: \(String(cString: strerror(errno)))")) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
            raw[path.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 4) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            return .failure(PluginSetupError("cannot listen on \(path): \(e)"))
        }
        chmod(path, 0o600)
        FDPoller.setNonBlocking(fd)
        return .success(fd)
    }

    /// Accepts one connection (non-blocking), or nil.
    static func accept(_ listenFd: Int32) -> Int32? {
        let fd = Glibc.accept(listenFd, nil, nil)
        guard fd >= 0 else { return nil }
        FDPoller.setNonBlocking(fd)
        return fd
    }

    /// Writes all of `bytes` before `deadline` (monotonic ns); false on
    /// error, a closed peer, or a peer that stopped reading.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], deadline: UInt64) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n > 0 { off += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                let now = monotonicNanos()
                guard now < deadline else { return false }
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, Int32(min((deadline - now) / 1_000_000 + 1, 60_000)))
                continue
            }
            return false
        }
        return true
    }
}
