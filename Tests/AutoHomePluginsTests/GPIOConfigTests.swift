import XCTest
import AutoHome
@testable import AutoHomePlugins

/// `gpio` and `plugins` validation: every mistake names the key and the line.
final class GPIOConfigTests: XCTestCase {
    private func error(_ json: String) -> String {
        do {
            let c = try Config.decode(text: json)
            _ = try PluginSetupConfig.validate(c)
            return "(valid)"
        } catch { return "\(error)" }
    }

    private let devices = """
        "devices":[{"id":"door","name":"Door","properties":[{"name":"open","type":"switch","mode":"RO"},{"name":"rw","type":"switch"},{"name":"n","type":"dial"}]}]
        """

    private func gpio(_ line: String) -> String { "{\(devices), \"gpio\": {\"lines\": [\(line)]}}" }

    func testAValidLineDecodesWithDefaults() throws {
        let c = try Config.decode(text: gpio(#"{"chip":"gpiochip0","line":3,"device":"door","property":"open","direction":"input"}"#))
        let lines = try PluginSetupConfig.validate(c).gpio
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(lines[0].line, .offset(3))
        XCTAssertEqual(lines[0].bias, .asIs)
        XCTAssertEqual(lines[0].edge, .both)
        XCTAssertEqual(lines[0].debounceMs, 0)
        XCTAssertFalse(lines[0].activeLow)
    }

    func testMistakesNameKeyAndLine() {
        let cases: [(String, [String])] = [
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"n","direction":"input"}"#,
             ["gpio.lines[0].property", "(chip \"gpiochip0\" line 3)", "is a dial"]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"rw","direction":"input"}"#, ["gpio.lines[0].property", "RO"]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"open","direction":"output"}"#, ["gpio.lines[0].property", "RW or WO"]),
            (#"{"chip":"gpiochip0","line":"LED","device":"nope","property":"open","direction":"output"}"#,
             ["gpio.lines[0].device", "line \"LED\"", "nope"]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"zz","direction":"input"}"#, ["gpio.lines[0].property", "zz"]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"open","direction":"sideways"}"#, ["gpio.lines[0].direction", "sideways"]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"open","direction":"input","edge":"up"}"#, ["gpio.lines[0].edge", "\"both\""]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"open","direction":"input","bias":"pull-sideways"}"#, ["gpio.lines[0].bias"]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"open","direction":"input","debounceMs":-1}"#, ["gpio.lines[0].debounceMs"]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"open","direction":"input","colour":"red"}"#, ["gpio.lines[0].colour", "not a known key"]),
            (#"{"chip":"gpiochip0","line":-1,"device":"door","property":"open","direction":"input"}"#, ["gpio.lines[0].line"]),
            (#"{"line":3,"device":"door","property":"open","direction":"input"}"#, ["gpio.lines[0].chip", "required"]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"rw","direction":"output","edge":"both"}"#, ["gpio.lines[0].edge", "input lines"]),
            (#"{"chip":"gpiochip0","line":3,"device":"door","property":"rw","direction":"output"},{"chip":"gpiochip0","line":3,"device":"door","property":"open","direction":"input"}"#,
             ["gpio.lines[1]", "twice", "gpio.lines[0]"]),
        ]
        for (line, needles) in cases {
            let e = error(gpio(line))
            for n in needles { XCTAssertTrue(e.contains(n), "\(e) lacks \(n)") }
        }
        XCTAssertTrue(error("{\(devices), \"gpio\": {\"pins\": []}}").contains("gpio.pins"))
        XCTAssertTrue(error("{\(devices), \"gpio\": {\"lines\": {}}}").contains("gpio.lines"))
    }

    func testPluginsSection() throws {
        let ok = try Config.decode(text: """
            {"plugins": {"sun": {"latitude": 52.5, "longitude": 13.4, "sunsetOffsetMinutes": -30},
                         "external": [{"name": "telegram", "command": ["/usr/bin/python3", "/opt/tg.py"]}]}}
            """)
        let p = try PluginSetupConfig.validate(ok).plugins
        XCTAssertEqual(p.sun, SunConfig(latitude: 52.5, longitude: 13.4, sunriseOffsetMinutes: 0, sunsetOffsetMinutes: -30))
        XCTAssertEqual(p.external, [ExternalPluginConfig(name: "telegram", command: ["/usr/bin/python3", "/opt/tg.py"])])
        let cases: [(String, String)] = [
            (#"{"sun": {"latitude": 95, "longitude": 0}}"#, "plugins.sun.latitude"),
            (#"{"sun": {"longitude": 0}}"#, "plugins.sun.latitude"),
            (#"{"sun": {"latitude": 1, "longitude": 0, "offset": 3}}"#, "plugins.sun.offset"),
            (#"{"external": [{"name": "gpio", "command": ["x"]}]}"#, "plugins.external[0].name"),
            (#"{"external": [{"name": "a-b", "command": ["x"]}]}"#, "plugins.external[0].name"),
            (#"{"external": [{"name": "a", "command": []}]}"#, "plugins.external[0].command"),
            (#"{"external": [{"name": "a", "command": "x"}]}"#, "plugins.external[0].command"),
            (#"{"external": [{"name": "a", "command": ["x"]}, {"name": "a", "command": ["y"]}]}"#, "plugins.external[1].name"),
            (#"{"calendar": {}}"#, "plugins.calendar"),
        ]
        for (json, key) in cases {
            let e = error("{\"plugins\": \(json)}")
            XCTAssertTrue(e.contains("\"\(key)\""), "\(e) lacks \(key)")
        }
    }
}
