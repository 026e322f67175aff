import XCTest
@testable import AutoHome
import AutoHomePlugins
@testable import AutoHomeSupport

/// A plugin that echoes, fails on request and counts its calls: the seam's
/// behaviour through a real engine and real MuJS.
final class EchoPlugin: Plugin, @unchecked Sendable {
    let name = "echo"
    var methods: [String] { ["say", "fail", "sum"] }
    func call(method: String, arguments: [JSON], timeoutMs: Int) -> Result<JSON, PluginError> {
        switch method {
        case "say": return .success(.array(arguments))
        case "sum": return .success(.number(arguments.compactMap(\.numberValue).reduce(0, +)))
        default: return .failure(PluginError(.failed, "asked to fail"))
        }
    }
}

final class Logs: EngineObserver, @unchecked Sendable {
    let lock = Lock()
    var lines: [String] = []
    var errors: [String] = []
    func scriptLogged(_ log: ScriptLog) { lock.withLock { lines.append(log.message) } }
    func scriptFailed(_ error: ScriptError) { lock.withLock { errors.append(error.description) } }
}

final class PluginRegistryTests: XCTestCase {
    private func engine(_ script: String, registry: PluginRegistry, logs: Logs) throws -> EventManager {
        var config = Config()
        config.vms = 2
        config.devices = [try DeviceDefinition.decode(try JSON.parse(
            #"{"id":"d","name":"D","properties":[{"name":"b","type":"button"}]}"#), path: "d")]
        let e = EventManager(config: config, scripts: ScriptSet(generation: 1, files: [ScriptFile(name: "p.js", source: script)]),
                             clock: SystemClock(), observers: [logs], plugins: registry)
        registry.onCatalogChange = { [unowned e] in e.pluginsChanged() }
        try e.start()
        return e
    }

    private func press(_ e: EventManager) {
        _ = e.submit(deviceId: "d", properties: [("b", .bool(true))])
        e.waitIdle()
    }

    func testScriptsCallPluginsThroughTheOneNative() throws {
        let registry = PluginRegistry([EchoPlugin()])
        let logs = Logs()
        let e = try engine("""
            set('d', { b_ontrigger: function () {
              home.log(JSON.stringify(plugin.echo.say('hi', 2, {a: true})));
              home.log(plugin.echo.sum(1, 2, 3));
              try { plugin.echo.fail(); } catch (err) { home.log('caught: ' + err.message); }
            }});
            """, registry: registry, logs: logs)
        defer { e.stop() }
        press(e)
        XCTAssertEqual(logs.lines, [#"["hi",2,{"a":true}]"#, "6", "caught: plugin.echo.fail: asked to fail"])
        XCTAssertEqual(logs.errors, [])
    }

    func testUnknownPluginIsUndefinedAndANewPluginReachesRunningVMs() throws {
        let registry = PluginRegistry()
        let logs = Logs()
        let e = try engine("set('d', { b_ontrigger: function () { home.log(typeof plugin.echo); } });", registry: registry, logs: logs)
        defer { e.stop() }
        press(e)
        registry.add(EchoPlugin())
        press(e)
        XCTAssertEqual(logs.lines, ["undefined", "object"])
        XCTAssertEqual(registry.call(plugin: "nope", method: "x", arguments: [], timeoutMs: 10),
                       .failure(PluginError(.unknown, "no plugin named \"nope\"")))
        if case .failure(let err) = registry.call(plugin: "echo", method: "x", arguments: [], timeoutMs: 10) {
            XCTAssertEqual(err.kind, .unknown)
            XCTAssertTrue(err.message.contains("say"), err.message)
        } else { XCTFail("unknown method must fail") }
    }

    func testPluginEventsRunTheirHandlers() throws {
        let logs = Logs()
        let e = try engine("""
            set('plugin/echo', { onping: function (data) { home.log('ping ' + data.n); } });
            """, registry: PluginRegistry([EchoPlugin()]), logs: logs)
        defer { e.stop() }
        XCTAssertTrue(e.pluginEvent(plugin: "echo", event: "ping", data: .object([("n", .number(7))])))
        XCTAssertTrue(e.pluginEvent(plugin: "echo", event: "unhandled", data: .null))
        e.waitIdle()
        XCTAssertEqual(logs.lines, ["ping 7"])
    }
}
