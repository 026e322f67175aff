#if canImport(Glibc)
import Glibc
#endif

/// Figures about this process for /v1/status, read from /proc.
public enum ProcessFigures {
    /// Resident set size in bytes: the second field of /proc/self/statm
    /// (pages) times the page size; 0 if /proc is unavailable.
    public static func rssBytes() -> Int {
        guard let text = try? Files.readText("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
