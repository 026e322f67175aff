import AutoHome
import AutoHomeSupport

/// One entry of `gpio.lines` (SPEC §8), checked against the device definitions.
public struct GPIOLineConfig: Sendable, Equatable {
    public enum Direction: String, Sendable, CaseIterable { case input, output }
    public enum LineRef: Sendable, Equatable, CustomStringConvertible {
        case offset(Int)
        case name(String)
        public var description: String {
            switch self {
            case .offset(let o): return "line \(o)"
            case .name(let n): return "line \"\(n)\""
            }
        }
    }

    /// Position in `gpio.lines`, for messages.
    public var index: Int
    public var chip: String
    public var line: LineRef
    public var device: String
    public var property: String
    public var direction: Direction
    public var activeLow: Bool
    public var bias: GPIOBias
    public var debounceMs: Int
    public var edge: GPIOEdgeSelection
    public var initial: Bool
    /// The property's type: an input feeds a switch or a button.
    public var isButton: Bool

    /// `gpio.lines[2] (chip "gpiochip0" line 17)`: how messages name a line.
    public var label: String { "gpio.lines[\(index)] (chip \"\(chip)\" \(line))" }
    /// The same for config errors, with the key quoted like every other key:
    /// `"gpio.lines[2]" (chip "gpiochip0" line 17)`.
    public var keyLabel: String { "\"gpio.lines[\(index)]\" (chip \"\(chip)\" \(line))" }
    public var key: String { "\(device).\(property)" }
}

public enum GPIOConfig {
    public static let maxDebounceMs = 60_000

    /// Decodes and validates `gpio`; the first mistake is thrown, naming the
    /// key and the line.
    public static func decode(_ json: JSON?, devices: [DeviceDefinition], source: String = "config") throws(ConfigError) -> [GPIOLineConfig] {
        guard let json else { return [] }
        let top = try ConfigReader(json, path: "gpio", source: source, what: "{\"lines\": [...]}")
        try top.only(["lines"])
        guard let linesJSON = top.value("lines") else { return [] }
        guard case .array(let items) = linesJSON else { throw top.fail("lines", "must be an array of lines, not \(linesJSON.kindName)") }
        var out: [GPIOLineConfig] = []
        for (i, item) in items.enumerated() {
            let line = try decodeLine(item, index: i, devices: devices, source: source)
            for other in out {
                if other.chip == line.chip && other.line == line.line {
                    throw ConfigError("\(source): \(line.keyLabel) is configured twice (also gpio.lines[\(other.index)])")
                }
                if other.key == line.key {
                    throw ConfigError("\(source): \(line.keyLabel) property \"\(line.key)\" already has a line (gpio.lines[\(other.index)])")
                }
            }
            out.append(line)
        }
        return out
    }

    static func decodeLine(_ json: JSON, index i: Int, devices: [DeviceDefinition], source: String) throws(ConfigError) -> GPIOLineConfig {
        var r = try ConfigReader(json, path: "gpio.lines[\(i)]", source: source, what: "a line")
        try r.only(["chip", "line", "device", "property", "direction", "activeLow", "bias", "debounceMs", "edge", "initial"])
        let chip = try r.string("chip", required: true)!
        let lineRef: GPIOLineConfig.LineRef
        switch r.value("line") {
        case nil: throw r.fail("line", "is required (an offset or a line name)")
        case .number(let d)?:
            guard d == d.rounded(), d >= 0, d < 65536 else { throw r.fail("line", "must be a line offset (0, 1, …) or a line name") }
            lineRef = .offset(Int(d))
        case .string(let s)? where !s.isEmpty: lineRef = .name(s)
        case let v?: throw r.fail("line", "must be a line offset or a line name, not \(v.kindName)")
        }
        r.context = " (chip \"\(chip)\" \(lineRef))"
        let deviceId = try r.string("device", required: true)!
        let propName = try r.string("property", required: true)!
        guard let dirName = try r.string("direction", required: true) else { throw r.fail("direction", "is required") }
        guard let direction = GPIOLineConfig.Direction(rawValue: dirName) else {
            throw r.fail("direction", "must be \"input\" or \"output\", not \"\(dirName)\"")
        }
        guard let device = devices.first(where: { $0.id == deviceId }) else {
            throw r.fail("device", "names no device of \"devices\" (\"\(deviceId)\")")
        }
        guard let prop = device.properties.first(where: { $0.name == propName }) else {
            throw r.fail("property", "names no property of device \"\(deviceId)\" (\"\(propName)\")")
        }
        let what = "\"\(deviceId)\".\"\(propName)\" is a \(prop.type.rawValue) (\(prop.mode.rawValue))"
        switch direction {
        case .input:
            if prop.type == .button {
            } else if prop.type == .switch {
                guard prop.mode == .readOnly else { throw r.fail("property", "\(what); an input line feeds a switch with mode RO (or a button)") }
            } else {
                throw r.fail("property", "\(what); an input line feeds a switch (RO) or a button")
            }
            if r.value("initial") != nil { throw r.fail("initial", "is for output lines") }
        case .output:
            guard prop.type == .switch else { throw r.fail("property", "\(what); an output line follows a switch (RW or WO)") }
            guard prop.mode != .readOnly else { throw r.fail("property", "\(what); an output line follows a switch with mode RW or WO") }
            for k in ["bias", "debounceMs", "edge"] where r.value(k) != nil { throw r.fail(k, "is for input lines") }
        }
        return GPIOLineConfig(index: i, chip: chip, line: lineRef, device: deviceId, property: propName, direction: direction,
                              activeLow: try r.bool("activeLow", default: false),
                              bias: try r.choice("bias", default: GPIOBias.asIs),
                              debounceMs: try r.int("debounceMs", 0, maxDebounceMs, default: 0),
                              edge: try r.choice("edge", default: GPIOEdgeSelection.both),
                              initial: try r.bool("initial", default: false),
                              isButton: prop.type == .button)
    }
}
