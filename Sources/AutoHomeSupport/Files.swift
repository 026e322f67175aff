#if canImport(Glibc)
import Glibc
#endif

/// Small file helpers over POSIX calls, with errors a user can act on.
public struct FileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

public enum Files {
    public static func read(_ path: String, limit: Int = 64 << 20) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError("cannot read \(path): \(errnoText())")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw FileError("\(path) is larger than \(limit) bytes") }
        }
        return out
    }

    public static func readText(_ path: String) throws(FileError) -> String {
        let bytes = try read(path)
        guard let s = String(validating: bytes, as: UTF8.self) else { throw FileError("\(path) is not UTF-8 text") }
        return s
    }

    /// write-temp, fsync, rename, fsync the folder: a reader sees the old file or
    /// the new one, never half of one, even across power loss.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(FileError) {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError("cannot create \(tmp): \(errnoText())") }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errnoText()
                close(fd); unlink(tmp)
                throw FileError("cannot write \(tmp): \(e)")
            }
            off += n
        }
        if fsync(fd) != 0 { let e = errnoText(); close(fd); unlink(tmp); throw FileError("fsync \(tmp): \(e)") }
        close(fd)
        if rename(tmp, path) != 0 { let e = errnoText(); unlink(tmp); throw FileError("cannot rename to \(path): \(e)") }
        syncDirectory(of: path)
    }

    public static func syncDirectory(of path: String) {
        let dir = directoryName(path)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    public static func remove(_ path: String) throws(FileError) {
        if unlink(path) != 0 { throw FileError("cannot remove \(path): \(errnoText())") }
        syncDirectory(of: path)
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(FileError) {
        if isDirectory(path) { return }
        let parent = directoryName(path)
        if parent != path && !parent.isEmpty { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw FileError("cannot create folder \(path): \(errnoText())") }
    }

    public static func list(_ dir: String) throws(FileError) -> [String] {
        guard let d = opendir(dir) else { throw FileError("cannot list \(dir): \(errnoText())") }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func directoryName(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        return i == path.startIndex ? "/" : String(path[..<i])
    }

    public static func errnoText() -> String { String(cString: strerror(errno)) }

    /// A new empty directory under /tmp (mkdtemp), for tests and scratch work.
    public static func makeTemporaryDirectory(prefix: String) throws(FileError) -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw FileError("mkdtemp /tmp/\(prefix)-XXXXXX: \(errnoText())") }
        return String(cString: p)
    }
}
