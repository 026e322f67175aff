#if canImport(Glibc)
import Glibc
#endif

/// The appliance's local time zone, as libc knows it: `TZ` in the
/// environment, else /etc/localtime. Sun times are "today" in this zone.
public enum LocalTime {
    /// The local calendar day (days since 1970-01-01) of an instant.
    public static func day(ofMillis ms: Int64) -> Int {
        var t = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        var tm = tm()
        localtime_r(&t, &tm)
        return SolarCalculator.daysFromCivil(Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday))
    }

    /// "2024-06-21 21:21 +0100" for log lines.
    public static func describe(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var tm = tm()
        localtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let off = Int(tm.tm_gmtoff) / 60
        let sign = off < 0 ? "-" : "+"
        let h = abs(off) / 60, m = abs(off) % 60
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday)) \(two(tm.tm_hour)):\(two(tm.tm_min)) \(sign)\(h < 10 ? "0" : "")\(h)\(m < 10 ? "0" : "")\(m)"
    }
}
