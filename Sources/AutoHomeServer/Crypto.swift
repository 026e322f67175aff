import CQuic
import AutoHome
import AutoHomeSupport

/// SHA-256 and secure random bytes from GnuTLS (through CQuic), so the Swift
/// side needs no crypto library of its own.
public enum Crypto {
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var out = [CChar](repeating: 0, count: 65)
        let rc = bytes.withUnsafeBytes { cq_sha256_hex($0.baseAddress, $0.count, &out) }
        precondition(rc == 0, "SHA-256 failed")
        return String(cString: out)
    }

    public static func sha256Hex(_ text: String) -> String { sha256Hex(Array(text.utf8)) }

    /// `count` bytes from the system CSPRNG, as lower-case hex.
    public static func randomHex(bytes count: Int) -> String {
        var buf = [UInt8](repeating: 0, count: count)
        let rc = buf.withUnsafeMutableBytes { cq_random($0.baseAddress, $0.count) }
        // No randomness means no unguessable tokens: refuse to go on.
        precondition(rc == 0, "no secure random bytes available")
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for b in buf { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares without an early exit, so timing says nothing about a secret.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
