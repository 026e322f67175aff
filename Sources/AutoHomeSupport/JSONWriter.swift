/// Compact JSON text. Whole numbers print without a fraction so ids, counts and
/// timestamps look like integers. Written into a byte buffer: appending many
/// small Strings costs several times more, and a run writes JSON on its hot path.
extension JSON {
    public var text: String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: JSON.nullBytes)
        case .bool(let b): out.append(contentsOf: b ? JSON.trueBytes : JSON.falseBytes)
        case .number(let d): JSON.writeNumber(d, to: &out)
        case .string(let s): JSON.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            var first = true
            for v in items {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (k, v) in members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSON.writeString(k, to: &out)
                out.append(UInt8(ascii: ":"))
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let nullBytes = Array("null".utf8)
    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)

    static func writeNumber(_ d: Double, to out: inout [UInt8]) {
        if !d.isFinite { out.append(contentsOf: nullBytes); return }
        if d == d.rounded(), abs(d) < 9.007199254740992e15 {
            var n = Int64(d)
            if n == 0 { out.append(UInt8(ascii: "0")); return }
            if n < 0 { out.append(UInt8(ascii: "-")); n = -n }
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                          UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            withUnsafeMutableBytes(of: &digits) { buf in
                while n > 0 { buf[count] = UInt8(48 + n % 10); n /= 10; count += 1 }
                for i in stride(from: count - 1, through: 0, by: -1) { out.append(buf[i]) }
            }
        } else {
            out.append(contentsOf: "\(d)".utf8)
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
