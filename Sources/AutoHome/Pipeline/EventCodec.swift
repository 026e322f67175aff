import AutoHomeSupport

/// The compact form of a validated event inside a ring slot: origin, then per
/// property its name and coerced value. Smaller than the JSON body it came
/// from, so whatever passed the body-size check fits in a slot.
public enum EventOrigin: UInt8, Sendable {
    case device = 0   // a device reporting its state
    case command = 1  // an owner's PUT: sent on to the device as an action
}

public struct DecodedEvent {
    public var origin: EventOrigin
    public var properties: [(name: String, value: PropertyValue)]
}

enum EventCodec {
    static func encode(origin: EventOrigin, _ props: [(name: String, value: PropertyValue)]) -> [UInt8] {
        var out: [UInt8] = [origin.rawValue]
        appendU16(&out, props.count)
        for p in props {
            appendString8(&out, p.name)
            switch p.value {
            case .flag(let b, let label):
                out.append(0)
                out.append(b ? 1 : 0)
                appendString8(&out, label)
            case .number(let d):
                out.append(1)
                withUnsafeBytes(of: d.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            case .text(let s):
                out.append(2)
                appendU16(&out, s.utf8.count)
                out.append(contentsOf: s.utf8)
            }
        }
        return out
    }

    static func decode(_ b: UnsafeRawBufferPointer) -> DecodedEvent {
        var i = 0
        func u8() -> UInt8 { defer { i += 1 }; return b[i] }
        func u16() -> Int { let v = Int(b[i]) | Int(b[i + 1]) << 8; i += 2; return v }
        func str(_ n: Int) -> String { defer { i += n }; return String(decoding: UnsafeRawBufferPointer(rebasing: b[i..<i + n]), as: UTF8.self) }
        let origin = EventOrigin(rawValue: u8()) ?? .device
        let count = u16()
        var props: [(name: String, value: PropertyValue)] = []
        props.reserveCapacity(count)
        for _ in 0..<count {
            let name = str(Int(u8()))
            switch u8() {
            case 0:
                let on = u8() == 1
                props.append((name, .flag(on, label: str(Int(u8())))))
            case 1:
                var bits: UInt64 = 0
                for k in 0..<8 { bits |= UInt64(b[i + k]) << (8 * UInt64(k)) }
                i += 8
                props.append((name, .number(Double(bitPattern: bits))))
            default:
                props.append((name, .text(str(u16()))))
            }
        }
        return DecodedEvent(origin: origin, properties: props)
    }

    private static func appendU16(_ out: inout [UInt8], _ v: Int) {
        out.append(UInt8(v & 0xFF))
        out.append(UInt8((v >> 8) & 0xFF))
    }

    private static func appendString8(_ out: inout [UInt8], _ s: String) {
        let u = Array(s.utf8.prefix(255))
        out.append(UInt8(u.count))
        out.append(contentsOf: u)
    }
}
