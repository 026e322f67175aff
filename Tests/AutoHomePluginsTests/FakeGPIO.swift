#if canImport(Glibc)
import Glibc
#endif
import AutoHomePlugins
import AutoHomeSupport

/// A GPIO chip in memory, because this build machine has no GPIO hardware
/// (and Debian's kernels have no gpio-sim). Input lines have a real pipe as
/// their descriptor, so edges travel through the plugin's real poll thread;
/// the image test drives the real libgpiod on qemu's PL061 chip.
final class FakeChip: GPIOChip, @unchecked Sendable {
    let name: String
    let label: String
    let lineCount: Int
    let lineNames: [String: Int]
    let lock = Lock()
    /// Held by someone else (offset → consumer).
    var busy: [Int: String] = [:]
    var inputs: [Int: FakeInput] = [:]
    var outputs: [Int: FakeOutput] = [:]
    var closed = false

    init(name: String = "gpiochip0", label: String = "fake-gpio", lines: Int = 8, names: [String: Int] = [:]) {
        self.name = name
        self.label = label
        lineCount = lines
        lineNames = names
    }

    func offset(ofLine name: String) -> Int? { lineNames[name] }
    func consumer(of offset: Int) -> String? { lock.withLock { busy[offset] ?? (inputs[offset] != nil || outputs[offset] != nil ? "autohomed" : nil) } }

    func requestInput(offset: Int, consumer: String, settings: GPIOInputSettings) throws(GPIOFailure) -> GPIOInputLine {
        if let who = lock.withLock({ busy[offset] }) { throw GPIOFailure("line \(offset) of \(name) is already in use by \"\(who)\"") }
        let l = FakeInput(settings: settings)
        lock.withLock { inputs[offset] = l }
        return l
    }

    func requestOutput(offset: Int, consumer: String, activeLow: Bool, initial: Bool) throws(GPIOFailure) -> GPIOOutputLine {
        if let who = lock.withLock({ busy[offset] }) { throw GPIOFailure("line \(offset) of \(name) is already in use by \"\(who)\"") }
        let l = FakeOutput(initial)
        lock.withLock { outputs[offset] = l }
        return l
    }

    func close() {
        lock.withLock {
            for l in inputs.values { l.release() }
            for l in outputs.values { l.release() }
            closed = true
        }
    }
}

final class FakeInput: GPIOInputLine, @unchecked Sendable {
    let settings: GPIOInputSettings
    let lock = Lock()
    var level = false
    var queued: [GPIOEdge] = []
    var released = false
    private var pipeFds: [Int32] = [-1, -1]

    init(settings: GPIOInputSettings) {
        self.settings = settings
        _ = pipe(&pipeFds)
        FDPoller.setNonBlocking(pipeFds[0])
    }

    var fd: Int32 { pipeFds[0] }

    /// The wire changes: an edge is queued as the kernel would (edge filter
    /// applied) and the descriptor becomes readable.
    func drive(_ active: Bool) {
        lock.withLock {
            guard active != level else { return }
            level = active
            let wanted = settings.edge == .both || (settings.edge == .rising) == active
            if wanted { queued.append(GPIOEdge(rising: active)) }
        }
        var b: UInt8 = 1
        _ = write(pipeFds[1], &b, 1)
    }

    func readEdges() throws(GPIOFailure) -> [GPIOEdge] {
        var buf = [UInt8](repeating: 0, count: 64)
        while read(pipeFds[0], &buf, buf.count) > 0 {}
        return lock.withLock { defer { queued = [] }; return queued }
    }

    func value() throws(GPIOFailure) -> Bool { lock.withLock { level } }

    func release() {
        lock.withLock {
            guard !released else { return }
            released = true
            close(pipeFds[0]); close(pipeFds[1])
        }
    }
}

final class FakeOutput: GPIOOutputLine, @unchecked Sendable {
    let lock = Lock()
    var level: Bool
    var writes: [Bool] = []
    var released = false
    init(_ initial: Bool) { level = initial }
    func set(_ value: Bool) throws(GPIOFailure) { lock.withLock { level = value; writes.append(value) } }
    func value() throws(GPIOFailure) -> Bool { lock.withLock { level } }
    func release() { lock.withLock { released = true } }
}

/// Chips by spec; a chip can be absent at first and plugged in later.
final class FakeDriver: GPIODriver, @unchecked Sendable {
    let lock = Lock()
    var chips: [String: FakeChip] = [:]
    var opens = 0
    init(_ chips: [String: FakeChip]) { self.chips = chips }
    func plug(_ spec: String, _ chip: FakeChip) { lock.withLock { chips[spec] = chip } }
    func open(_ spec: String) -> GPIOOpenResult {
        lock.withLock {
            opens += 1
            if spec == "/dev/null" { return .invalid("\"/dev/null\" is not a GPIO chip") }
            guard let c = chips[spec] else { return .missing("no GPIO chip \"\(spec)\"") }
            c.closed = false
            return .opened(c)
        }
    }
}
