import AutoHomeSupport

/// What the GPIO plugin needs from a chip: the seam between the plugin's
/// logic and libgpiod. `LibgpiodDriver` is the real one (CGPIO); the tests
/// use a fake chip, because this build machine has no GPIO hardware.
///
/// Thread contract: the plugin serialises every call on one chip and its
/// lines under its own lock.
public protocol GPIODriver: Sendable {
    func open(_ spec: String) -> GPIOOpenResult
}

public enum GPIOOpenResult {
    case opened(GPIOChip)
    /// Not there now: logged, and tried again every 5 s (a USB expander may come later).
    case missing(String)
    /// There, but not a GPIO chip, or not ours to open: a configuration mistake.
    case invalid(String)
}

public struct GPIOInputSettings: Sendable, Equatable {
    public var activeLow: Bool
    public var bias: GPIOBias
    public var edge: GPIOEdgeSelection
    public var debounceMs: Int
    public init(activeLow: Bool, bias: GPIOBias, edge: GPIOEdgeSelection, debounceMs: Int) {
        self.activeLow = activeLow; self.bias = bias; self.edge = edge; self.debounceMs = debounceMs
    }
}

public enum GPIOBias: String, Sendable, CaseIterable { case asIs = "as-is", pullUp = "pull-up", pullDown = "pull-down", disabled }
public enum GPIOEdgeSelection: String, Sendable, CaseIterable { case both, rising, falling }

/// One reported edge; `rising`: the line became active (logical, after activeLow).
public struct GPIOEdge: Sendable, Equatable {
    public var rising: Bool
    public init(rising: Bool) { self.rising = rising }
}

public struct GPIOFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

public protocol GPIOChip: AnyObject {
    var name: String { get }
    var label: String { get }
    var lineCount: Int { get }
    /// The offset of a named line, nil if the chip has none by that name.
    func offset(ofLine name: String) -> Int?
    /// Who holds the line, nil if it is free.
    func consumer(of offset: Int) -> String?
    func requestInput(offset: Int, consumer: String, settings: GPIOInputSettings) throws(GPIOFailure) -> GPIOInputLine
    func requestOutput(offset: Int, consumer: String, activeLow: Bool, initial: Bool) throws(GPIOFailure) -> GPIOOutputLine
    /// Closes the chip; its lines are released first.
    func close()
}

public protocol GPIOInputLine: AnyObject {
    /// Poll for POLLIN; then `readEdges`.
    var fd: Int32 { get }
    /// What is ready, without blocking (may be empty).
    func readEdges() throws(GPIOFailure) -> [GPIOEdge]
    /// The line's current logical value, read from the chip.
    func value() throws(GPIOFailure) -> Bool
    func release()
}

public protocol GPIOOutputLine: AnyObject {
    func set(_ value: Bool) throws(GPIOFailure)
    /// The value the chip reads back for the line (logical).
    func value() throws(GPIOFailure) -> Bool
    func release()
}
