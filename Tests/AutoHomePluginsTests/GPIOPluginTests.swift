import XCTest
@testable import AutoHome
@testable import AutoHomePlugins
@testable import AutoHomeSupport

/// The gpio plugin's logic through a real engine, real MuJS and the real poll
/// thread, against a fake chip (no GPIO on this machine; the image test
/// covers the real libgpiod).
final class GPIOPluginTests: XCTestCase {
    static let devices = """
        [{"id":"door","name":"Door","properties":[{"name":"open","type":"switch","mode":"RO"}]},
         {"id":"bell","name":"Bell","properties":[{"name":"press","type":"button"}]},
         {"id":"relay","name":"Relay","properties":[{"name":"on","type":"switch"},{"name":"level","type":"dial"}]},
         {"id":"gate","name":"Gate","properties":[{"name":"open","type":"switch","mode":"WO"}]}]
        """

    final class Rig {
        let engine: EventManager
        let gpio: GPIOPlugin
        let poller = FDPoller(name: "test-io")
        let timers = TimerService(name: "test-timers")
        let logs = Logs()
        init(lines: String, script: String, driver: FakeDriver, retryMs: Int64 = 5000) throws {
            var config = try Config.decode(text: #"{"vms": 2, "devices": \#(GPIOPluginTests.devices), "gpio": {"lines": \#(lines)}}"#)
            config.vms = 2
            let setup = try PluginSetupConfig.validate(config)
            gpio = GPIOPlugin(lines: setup.gpio, driver: driver, poller: poller, timers: timers, retryMs: retryMs)
            let registry = PluginRegistry([gpio])
            engine = EventManager(config: config, scripts: ScriptSet(generation: 1, files: [ScriptFile(name: "g.js", source: script)]),
                                  clock: SystemClock(), observers: [logs], timers: timers, plugins: registry)
            registry.onCatalogChange = { [unowned engine] in engine.pluginsChanged() }
            try engine.start()
        }
        func stop() {
            gpio.stop()
            poller.stop()
            engine.stop()
            timers.stop()
        }
        func value(_ dev: String, _ prop: String) -> JSON? { engine.state.live(dev)?.value(prop)?.json }
    }

    private func waitUntil(_ what: String, timeout: Double = 10, _ cond: () -> Bool) {
        let end = monotonicNanos() + UInt64(timeout * 1e9)
        while !cond() {
            if monotonicNanos() > end { XCTFail("timed out waiting for \(what)"); return }
            sleepMillis(5)
        }
    }

    func testInputEdgesBecomeEventsThatRunScripts() throws {
        let chip = FakeChip()
        let rig = try Rig(lines: """
            [{"chip":"gpiochip0","line":3,"device":"door","property":"open","direction":"input","activeLow":true,"bias":"pull-up","debounceMs":20},
             {"chip":"gpiochip0","line":4,"device":"bell","property":"press","direction":"input","edge":"falling"}]
            """, script: """
            set('door', { open_onchange: function (v) { home.log('door ' + v); } });
            set('bell', { press_ontrigger: function () { home.log('ding'); } });
            """, driver: FakeDriver(["gpiochip0": chip]))
        defer { rig.stop() }
        try rig.gpio.start(engine: rig.engine)
        let door = try XCTUnwrap(chip.inputs[3])
        XCTAssertEqual(door.settings, GPIOInputSettings(activeLow: true, bias: .pullUp, edge: .both, debounceMs: 20))
        door.drive(true)
        waitUntil("the door event") { rig.logs.lock.withLock { rig.logs.lines.contains("door true") } }
        XCTAssertEqual(rig.value("door", "open"), .bool(true))
        door.drive(false)
        waitUntil("the door closing") { rig.value("door", "open") == .bool(false) }
        // A button: every selected edge is a press (falling only here).
        let bell = try XCTUnwrap(chip.inputs[4])
        bell.drive(true)
        bell.drive(false)
        bell.drive(true)
        bell.drive(false)
        waitUntil("two presses") { rig.logs.lock.withLock { rig.logs.lines.filter { $0 == "ding" }.count == 2 } }
        rig.engine.waitIdle()
        XCTAssertEqual(rig.logs.lock.withLock { rig.logs.lines.filter { $0 == "ding" }.count }, 2)
        XCTAssertEqual(rig.logs.errors, [])
    }

    func testOutputsFollowTheirPropertyWhoeverWritesIt() throws {
        let chip = FakeChip()
        let rig = try Rig(lines: """
            [{"chip":"gpiochip0","line":0,"device":"relay","property":"on","direction":"output","initial":true},
             {"chip":"gpiochip0","line":1,"device":"gate","property":"open","direction":"output","activeLow":true},
             {"chip":"gpiochip0","line":2,"device":"door","property":"open","direction":"input"}]
            """, script: """
            set('door', { open_onchange: function (v) { home.getDevice('relay').set('on', v); } });
            """, driver: FakeDriver(["gpiochip0": chip]))
        defer { rig.stop() }
        try rig.gpio.start(engine: rig.engine)
        let relay = try XCTUnwrap(chip.outputs[0])
        // `initial` drives the line at start, and the property follows it.
        XCTAssertTrue(relay.level)
        waitUntil("the property to take the initial value") { rig.value("relay", "on") == .bool(true) }
        // A command (PUT) drives the line.
        _ = rig.engine.submit(deviceId: "relay", properties: [("on", .string("off"))], origin: .command)
        rig.engine.waitIdle()
        XCTAssertFalse(relay.level)
        // A script's device.set drives it too.
        chip.inputs[2]!.drive(true)
        waitUntil("the script to switch the relay") { relay.lock.withLock { relay.level } }
        XCTAssertEqual(rig.value("relay", "on"), .bool(true))
        // A WO switch: commands drive it.
        _ = rig.engine.submit(deviceId: "gate", properties: [("open", .bool(true))], origin: .command)
        rig.engine.waitIdle()
        XCTAssertEqual(chip.outputs[1]!.level, true)
        XCTAssertEqual(chip.outputs[1]!.writes.last, true)
    }

    func testGetAndPulseFromScripts() throws {
        let chip = FakeChip()
        let rig = try Rig(lines: """
            [{"chip":"gpiochip0","line":0,"device":"relay","property":"on","direction":"output"},
             {"chip":"gpiochip0","line":5,"device":"door","property":"open","direction":"input"}]
            """, script: """
            set('bell', { press_ontrigger: function () {
              home.log('door ' + plugin.gpio.get('door', 'open') + ' relay ' + plugin.gpio.get('relay', 'on'));
              plugin.gpio.pulse('relay', 'on', 50);
              home.log('pulsing ' + plugin.gpio.get('relay', 'on'));
              try { plugin.gpio.pulse('door', 'open', 10); } catch (e) { home.log('caught ' + e.message); }
              try { plugin.gpio.get('relay', 'level'); } catch (e) { home.log('caught ' + e.message); }
            }});
            """, driver: FakeDriver(["gpiochip0": chip]))
        defer { rig.stop() }
        try rig.gpio.start(engine: rig.engine)
        chip.inputs[5]!.lock.withLock { chip.inputs[5]!.level = true }
        _ = rig.engine.submit(deviceId: "bell", properties: [("press", .bool(true))])
        rig.engine.waitIdle()
        let lines = rig.logs.lock.withLock { rig.logs.lines }
        XCTAssertEqual(lines.prefix(2), ["door true relay false", "pulsing true"])
        XCTAssertTrue(lines[2].contains("only outputs pulse"), lines[2])
        XCTAssertTrue(lines[3].contains("no GPIO line is configured for \"relay\".\"level\""), lines[3])
        let relay = chip.outputs[0]!
        waitUntil("the pulse to end") { relay.lock.withLock { !relay.level } }
        XCTAssertEqual(relay.writes, [true, false])
        XCTAssertEqual(rig.value("relay", "on"), .bool(false), "a pulse does not change the property")
    }

    func testAMissingChipIsRetriedAndItsLinesComeUp() throws {
        let driver = FakeDriver([:])
        let rig = try Rig(lines: """
            [{"chip":"usb-expander","line":"RELAY1","device":"relay","property":"on","direction":"output"}]
            """, script: "", driver: driver, retryMs: 50)
        defer { rig.stop() }
        try rig.gpio.start(engine: rig.engine)
        XCTAssertEqual(rig.gpio.call(method: "get", arguments: [.string("relay"), .string("on")], timeoutMs: 100).failureKind, .unavailable)
        // While the chip is away the property changes; the line takes it when the chip comes.
        _ = rig.engine.submit(deviceId: "relay", properties: [("on", .bool(true))], origin: .command)
        rig.engine.waitIdle()
        let chip = FakeChip(name: "gpiochip4", label: "usb-expander", names: ["RELAY1": 6])
        driver.plug("usb-expander", chip)
        waitUntil("the retry to find the chip") { chip.lock.withLock { chip.outputs[6] != nil } }
        XCTAssertEqual(chip.outputs[6]!.level, true)
        XCTAssertEqual(rig.gpio.call(method: "get", arguments: [.string("relay"), .string("on")], timeoutMs: 100), .success(.bool(true)))
    }

    func testMistakesAtStartNameTheKeyAndTheLine() throws {
        func startError(_ lines: String, _ chip: FakeChip = FakeChip()) throws -> String {
            let rig = try Rig(lines: lines, script: "", driver: FakeDriver(["gpiochip0": chip]))
            defer { rig.stop() }
            do { try rig.gpio.start(engine: rig.engine) } catch { return error.description }
            return "(started)"
        }
        var e = try startError(#"[{"chip":"gpiochip0","line":9,"device":"relay","property":"on","direction":"output"}]"#)
        XCTAssertTrue(e.contains("\"gpio.lines[0].line\" (chip \"gpiochip0\" line 9)") && e.contains("has 8 lines"), e)
        e = try startError(#"[{"chip":"gpiochip0","line":"NOPE","device":"relay","property":"on","direction":"output"}]"#)
        XCTAssertTrue(e.contains("gpio.lines[0].line") && e.contains("no line named \"NOPE\""), e)
        let busy = FakeChip()
        busy.busy[2] = "gpio-keys"
        e = try startError(#"[{"chip":"gpiochip0","line":1,"device":"relay","property":"on","direction":"output"},"# +
                           #"{"chip":"gpiochip0","line":2,"device":"door","property":"open","direction":"input"}]"#, busy)
        XCTAssertTrue(e.contains("\"gpio.lines[1]\" (chip \"gpiochip0\" line 2)") && e.contains("in use by \"gpio-keys\""), e)
        XCTAssertTrue(busy.outputs[1]!.released, "what was taken before the mistake is released")
        e = try startError(#"[{"chip":"/dev/null","line":1,"device":"relay","property":"on","direction":"output"}]"#)
        XCTAssertTrue(e.contains("gpio.lines[0].chip") && e.contains("not a GPIO chip"), e)
    }

    func testLinesAreReleasedOnStop() throws {
        let chip = FakeChip()
        let rig = try Rig(lines: """
            [{"chip":"gpiochip0","line":0,"device":"relay","property":"on","direction":"output"},
             {"chip":"gpiochip0","line":1,"device":"door","property":"open","direction":"input"}]
            """, script: "", driver: FakeDriver(["gpiochip0": chip]))
        try rig.gpio.start(engine: rig.engine)
        XCTAssertEqual(rig.poller.count, 1, "one descriptor per input line, on the one I/O thread")
        rig.stop()
        XCTAssertTrue(chip.outputs[0]!.released)
        XCTAssertTrue(chip.inputs[1]!.released)
        XCTAssertTrue(chip.closed)
        XCTAssertEqual(rig.poller.count, 0)
    }
}

extension Result where Failure == PluginError {
    var failureKind: PluginError.Kind? {
        if case .failure(let e) = self { return e.kind }
        return nil
    }
}
