import AutoHomeSupport

/// The naming rules of SPEC §1 and §5, in one place.
public enum Identifiers {
    /// What an id must look like, for error messages.
    public static let idRule = "must match [A-Za-z0-9._-]{1,64} and not be \".\" or \"..\""

    /// Device and group ids: [A-Za-z0-9._-]{1,64}, not "." or ".." (a client
    /// that normalises paths could never reach those).
    public static func isValidId(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...64).contains(u.count), s != ".", s != ".." else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Property names: [A-Za-z0-9_]{1,64}
    public static func isValidPropertyName(_ s: String) -> Bool {
        let u = s.utf8
        guard (1...64).contains(u.count) else { return false }
        return u.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") }
    }

    /// Script names: [A-Za-z0-9._-]{1,64}\.js, and never "." or ".." tricks.
    public static func isValidScriptName(_ s: String) -> Bool {
        guard s.hasSuffix(".js"), s.utf8.count > 3, isValidId(s), !s.hasPrefix(".") else { return false }
        return !s.contains("..")
    }

    @inline(__always)
    static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
}
