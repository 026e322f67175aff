#if canImport(Glibc)
import Glibc
#endif
import AutoHomeSupport
import CGPIO

/// The real chips, through CGPIO (libgpiod v1 or v2, whichever it was built on).
public struct LibgpiodDriver: GPIODriver {
    public init() {}

    /// "libgpiod 1.6.3 (API v1)".
    public static var versionDescription: String {
        "libgpiod \(String(cString: ahgpio_library_version())) (API v\(ahgpio_api_major()))"
    }

    public func open(_ spec: String) -> GPIOOpenResult {
        var status: Int32 = 0
        guard let raw = ahgpio_chip_open(spec, &status) else {
            let why = String(cString: strerror(errno))
            switch UInt32(status) {
            case AHGPIO_OPEN_MISSING.rawValue: return .missing("no GPIO chip \"\(spec)\" (\(why))")
            case AHGPIO_OPEN_INVALID.rawValue: return .invalid("\"\(spec)\" is not a GPIO chip (\(why))")
            default: return .invalid("cannot open GPIO chip \"\(spec)\": \(why)")
            }
        }
        return .opened(LibgpiodChip(raw))
    }
}

final class LibgpiodChip: GPIOChip {
    private var raw: OpaquePointer?
    private var lines: [AnyObject & Releasable] = []
    let name: String
    let label: String
    let lineCount: Int

    init(_ raw: OpaquePointer) {
        self.raw = raw
        name = String(cString: ahgpio_chip_name(raw))
        label = String(cString: ahgpio_chip_label(raw))
        lineCount = Int(ahgpio_chip_num_lines(raw))
    }

    func offset(ofLine name: String) -> Int? {
        guard let raw else { return nil }
        let off = ahgpio_chip_find_line(raw, name)
        return off < 0 ? nil : Int(off)
    }

    func consumer(of offset: Int) -> String? {
        guard let raw else { return nil }
        var buf = [CChar](repeating: 0, count: 64)
        let used = ahgpio_chip_line_consumer(raw, UInt32(offset), &buf, buf.count)
        guard used == 1 else { return nil }
        let s = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return s.isEmpty ? "(unnamed)" : s
    }

    func requestInput(offset: Int, consumer: String, settings: GPIOInputSettings) throws(GPIOFailure) -> GPIOInputLine {
        guard let raw else { throw GPIOFailure("the chip is closed") }
        var s = ahgpio_input_settings(active_low: settings.activeLow ? 1 : 0, bias: Int32(LibgpiodChip.code(settings.bias)),
                                      edge: Int32(LibgpiodChip.code(settings.edge)), debounce_ms: UInt32(settings.debounceMs))
        guard let line = ahgpio_request_input(raw, UInt32(offset), consumer, &s) else { throw failure(offset) }
        let l = LibgpiodInput(line)
        lines.append(l)
        return l
    }

    func requestOutput(offset: Int, consumer: String, activeLow: Bool, initial: Bool) throws(GPIOFailure) -> GPIOOutputLine {
        guard let raw else { throw GPIOFailure("the chip is closed") }
        guard let line = ahgpio_request_output(raw, UInt32(offset), consumer, activeLow ? 1 : 0, initial ? 1 : 0) else {
            throw failure(offset)
        }
        let l = LibgpiodOutput(line)
        lines.append(l)
        return l
    }

    private func failure(_ offset: Int) -> GPIOFailure {
        let e = errno
        if e == EBUSY {
            return GPIOFailure("line \(offset) of \(name) is already in use" + (consumer(of: offset).map { " by \"\($0)\"" } ?? ""))
        }
        return GPIOFailure("cannot request line \(offset) of \(name): \(String(cString: strerror(e)))")
    }

    func close() {
        for l in lines { l.release() }
        lines = []
        if let raw { ahgpio_chip_close(raw) }
        raw = nil
    }

    static func code(_ b: GPIOBias) -> UInt32 {
        switch b {
        case .asIs: return AHGPIO_BIAS_AS_IS.rawValue
        case .pullUp: return AHGPIO_BIAS_PULL_UP.rawValue
        case .pullDown: return AHGPIO_BIAS_PULL_DOWN.rawValue
        case .disabled: return AHGPIO_BIAS_DISABLED.rawValue
        }
    }

    static func code(_ e: GPIOEdgeSelection) -> UInt32 {
        switch e {
        case .both: return AHGPIO_EDGE_BOTH.rawValue
        case .rising: return AHGPIO_EDGE_RISING.rawValue
        case .falling: return AHGPIO_EDGE_FALLING.rawValue
        }
    }
}

protocol Releasable { func release() }

private func lastError(_ what: String) -> GPIOFailure { GPIOFailure("\(what): \(String(cString: strerror(errno)))") }

final class LibgpiodInput: GPIOInputLine, Releasable {
    private var raw: OpaquePointer?
    let fd: Int32
    init(_ raw: OpaquePointer) { self.raw = raw; fd = ahgpio_line_fd(raw) }

    func readEdges() throws(GPIOFailure) -> [GPIOEdge] {
        guard let raw else { return [] }
        var buf = [ahgpio_event](repeating: ahgpio_event(), count: 16)
        let n = ahgpio_line_read_events(raw, &buf, Int32(buf.count))
        guard n >= 0 else { throw lastError("reading edge events") }
        return buf.prefix(Int(n)).map { GPIOEdge(rising: $0.rising != 0) }
    }

    func value() throws(GPIOFailure) -> Bool {
        guard let raw else { throw GPIOFailure("the line is released") }
        let v = ahgpio_line_get(raw)
        guard v >= 0 else { throw lastError("reading the line") }
        return v == 1
    }

    func release() {
        if let raw { ahgpio_line_release(raw) }
        raw = nil
    }
}

final class LibgpiodOutput: GPIOOutputLine, Releasable {
    private var raw: OpaquePointer?
    init(_ raw: OpaquePointer) { self.raw = raw }

    func set(_ value: Bool) throws(GPIOFailure) {
        guard let raw else { throw GPIOFailure("the line is released") }
        guard ahgpio_line_set(raw, value ? 1 : 0) == 0 else { throw lastError("driving the line") }
    }

    func value() throws(GPIOFailure) -> Bool {
        guard let raw else { throw GPIOFailure("the line is released") }
        let v = ahgpio_line_get(raw)
        guard v >= 0 else { throw lastError("reading the line") }
        return v == 1
    }

    func release() {
        if let raw { ahgpio_line_release(raw) }
        raw = nil
    }
}
