#if canImport(Glibc)
import Glibc
#endif

/// Starts a named OS thread. MuJS calls block, so VM workers, the timer and the
/// store writer are real threads, never tasks on Swift's cooperative pool.
/// The name (cut to Linux's 15 bytes) is what `top -H`, `ps -L` and gdb show.
public func spawnThread(name: String, stackBytes: Int = 1 << 20, _ body: @escaping () -> Void) {
    final class Box {
        let name: String
        let body: () -> Void
        init(_ n: String, _ b: @escaping () -> Void) { name = n; body = b }
    }
    let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    pthread_attr_setstacksize(&attr, stackBytes)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    var tid = pthread_t()
    let rc = pthread_create(&tid, &attr, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        setCurrentThreadName(box.name)
        box.body()
        return nil
    }, box)
    pthread_attr_destroy(&attr)
    precondition(rc == 0, "pthread_create failed: \(rc)")
}

/// Sleeps the calling thread.
public func sleepMillis(_ ms: Int) {
    guard ms > 0 else { return }
    var ts = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var rest = timespec()
    while nanosleep(&ts, &rest) == -1 && errno == EINTR { ts = rest }
}

/// Names the calling thread (at most 15 bytes, cut at a character boundary).
/// Through /proc/thread-self/comm: Glibc's module does not export the GNU
/// pthread_setname_np, and this keeps the Support target free of C shims.
public func setCurrentThreadName(_ name: String) {
    var bytes = Array(name.utf8)
    while bytes.count > 15 { bytes.removeLast() }
    while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }  // no half character
    if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// The calling thread's name ("" if unknown).
public func currentThreadName() -> String {
    guard let text = try? Files.readText("/proc/thread-self/comm") else { return "" }
    return text.trimmingSpaces()
}
