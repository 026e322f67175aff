/// Cuts a byte stream into lines (NDJSON), calling `line` for every complete
/// non-blank one. Blank lines are the daemon's keep-alive heartbeats.
final class LineSplitter {
    private var partial: [UInt8] = []
    private let line: (String) -> Void

    init(_ line: @escaping (String) -> Void) { self.line = line }

    func feed(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes {
            if b == 0x0A {
                if !partial.isEmpty {
                    let s = String(decoding: partial, as: UTF8.self)
                    partial.removeAll(keepingCapacity: true)
                    if !s.allSatisfy({ $0 == " " || $0 == "\r" }) { line(s) }
                }
            } else {
                partial.append(b)
            }
        }
    }
}
