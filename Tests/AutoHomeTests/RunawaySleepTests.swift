import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// SPEC §2.8 and §4 on the real guard and real MuJS: `scriptTimeoutMs` is a
/// budget that `home.sleep` does not use, `scriptWallTimeoutMs` bounds the
/// whole call, a stop works while the VM sleeps, an engine stop ends whatever
/// the scripts do, and `home.sleep` at a script's top level does nothing.
/// Time bounds are one-sided where they can be (a limit never fires early) and
/// generous where they cannot (a shared, noisy machine).
final class RunawaySleepTests: XCTestCase {
    func makeSleepEngine(_ scripts: [String: String], vms: Int = 1, timeoutMs: Int = 1000, wallMs: Int? = nil,
                         devices: Int = 2) throws -> (EventManager, Collector) {
        try makeEngine(scripts, vms: vms, timeoutMs: timeoutMs, wallMs: wallMs, devices: devices)
    }

    func seconds(since t0: UInt64) -> Double { Double(monotonicNanos() - t0) / 1e9 }

    func testSleepLoopIsStoppedByTheWallLimitAndTheVMReplaced() throws {
        let (e, c) = try makeSleepEngine(["a.js": """
            set('d0', { n_onchange: function (v) { if (v === 1) { for (;;) home.sleep(0.05); } home.log('ok ' + v); } });
            """], timeoutMs: 200, wallMs: 800)
        defer { e.stop() }
        let t0 = monotonicNanos()
        let r = send(e, "d0", 1)
        let took = seconds(since: t0)
        XCTAssertEqual(r?.applied.count, 1, "a stopped handler counts as continueProcessing")
        XCTAssertEqual(r?.errors.count, 1)
        XCTAssertEqual(r?.errors.first?.script, "a.js")
        let message = r?.errors.first?.message ?? ""
        XCTAssertTrue(message.contains("ran longer than 800 ms (scriptWallTimeoutMs)"), message)
        XCTAssertGreaterThanOrEqual(took, 0.79, "the wall limit never fires early")
        XCTAssertLessThan(took, 10, "the sleeping call is stopped near its wall limit")
        XCTAssertEqual(e.stats[.vmsReplaced], 1)
        XCTAssertEqual(e.stats[.scriptErrors], 1)
        XCTAssertEqual(send(e, "d0", 2)?.errors.count, 0)
        XCTAssertEqual(c.logs, ["ok 2"], "the fresh VM runs the next event")
        let cpu0 = processCPUNanos()
        sleepMillis(500)
        XCTAssertLessThan(processCPUNanos() - cpu0, 250_000_000, "nothing keeps running after the stop")
    }

    func testWorkBetweenSleepsUsesUpTheBudget() throws {
        // 20 ms of work per 20 ms of sleep: the 200 ms budget runs out after
        // about ten rounds, far before the 60 s wall limit.
        let (e, _) = try makeSleepEngine(["a.js": """
            set('d0', { n_onchange: function () {
              for (;;) { var t = Date.now(); while (Date.now() - t < 20) {} home.sleep(0.02); }
            } });
            """], timeoutMs: 200, wallMs: 60_000)
        defer { e.stop() }
        let t0 = monotonicNanos()
        let r = send(e, "d0", 1)
        let message = r?.errors.first?.message ?? ""
        XCTAssertTrue(message.contains("ran longer than 200 ms (scriptTimeoutMs)"), message)
        XCTAssertGreaterThanOrEqual(seconds(since: t0), 0.19)
        XCTAssertLessThan(seconds(since: t0), 30)
        XCTAssertEqual(e.stats[.vmsReplaced], 1)
    }

    func testSleepsLongerThanTheBudgetButUnderTheWallLimitAreAllowed() throws {
        let (e, c) = try makeSleepEngine(["a.js": """
            set('d0', { n_onchange: function (v) { home.sleep(0.3); home.sleep(0.3); home.log('woke ' + v); } });
            """], timeoutMs: 100, wallMs: 20_000)
        defer { e.stop() }
        let t0 = monotonicNanos()
        let r = send(e, "d0", 1)
        XCTAssertGreaterThanOrEqual(seconds(since: t0), 0.59, "home.sleep really waits")
        XCTAssertEqual(r?.errors.count, 0, "\(String(describing: r?.errors))")
        XCTAssertEqual(r?.applied.count, 1)
        XCTAssertEqual(c.logs, ["woke 1"])
        XCTAssertEqual(e.stats[.vmsReplaced], 0)
    }

    func testBudgetPausedBySleepStillStopsABusyLoopAfterIt() throws {
        // The sleep gives its time back; the loop afterwards still runs out of budget.
        let (e, _) = try makeSleepEngine(["a.js": """
            set('d0', { n_onchange: function () { home.sleep(0.3); for (;;) {} } });
            """], timeoutMs: 200, wallMs: 60_000)
        defer { e.stop() }
        let t0 = monotonicNanos()
        let message = send(e, "d0", 1)?.errors.first?.message ?? ""
        XCTAssertTrue(message.contains("(scriptTimeoutMs)"), message)
        XCTAssertGreaterThanOrEqual(seconds(since: t0), 0.49, "300 ms of sleep plus the 200 ms budget")
        XCTAssertLessThan(seconds(since: t0), 30)
    }

    func testTopLevelSleepDoesNothing() throws {
        // Loading happens in every VM of the pool and in the scratch VM of an
        // upload: a top-level sleep would hold up each of them.
        let t0 = monotonicNanos()
        let (e, c) = try makeSleepEngine(["a.js": """
            home.sleep(5);
            (function () { home.sleep(5); })();
            home.log('loaded');
            set('d0', { n_onchange: function () { home.sleep(0.2); home.log('slept'); } });
            """], vms: 2)
        defer { e.stop() }
        XCTAssertLessThan(seconds(since: t0), 4, "two VMs loaded without sleeping")
        let t1 = monotonicNanos()
        guard case .success = e.replaceScripts([ScriptFile(name: "a.js", source: """
            home.sleep(5);
            set('d0', { n_onchange: function () { home.sleep(0.2); home.log('slept 2'); } });
            """)]) else { return XCTFail("the upload was refused") }
        XCTAssertLessThan(seconds(since: t1), 4, "an upload after a top-level sleep returns promptly")
        let t2 = monotonicNanos()
        XCTAssertEqual(send(e, "d0", 1)?.errors.count, 0)
        XCTAssertGreaterThanOrEqual(seconds(since: t2), 0.19, "a handler's sleep still sleeps")
        XCTAssertEqual(c.logs, ["loaded", "slept 2"])
    }

    func testSleepInAThreadFunctionIsStoppedToo() throws {
        let (e, c) = try makeSleepEngine(["common.js": """
            function spin() { for (;;) home.sleep(0.05); }
            """, "a.js": """
            set('d0', { n_onchange: function (v) { if (v === 1) thread('spin', 0); else home.log('ok ' + v); } });
            """], timeoutMs: 200, wallMs: 500)
        defer { e.stop() }
        _ = send(e, "d0", 1)
        e.waitIdle()
        let errors = c.lock.withLock { c.errors.map(\.message) }
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors.first?.contains("thread \"spin\" stopped: ran longer than 500 ms (scriptWallTimeoutMs)") ?? false, "\(errors)")
        _ = send(e, "d0", 2)
        XCTAssertEqual(c.logs, ["ok 2"])
    }

    func testEveryVMSleepLoopingStillLetsOtherDevicesThroughAfterTheStop() throws {
        let (e, c) = try makeSleepEngine(["a.js": """
            set('d0', { n_onchange: function () { for (;;) home.sleep(0.05); } });
            set('d1', { n_onchange: function () { for (;;) home.sleep(0.05); } });
            set('d2', { n_onchange: function (v) { home.log('d2 ' + v); } });
            """], vms: 2, timeoutMs: 200, wallMs: 700, devices: 3)
        defer { e.stop() }
        _ = e.submit(deviceId: "d0", properties: [("n", .number(1))])
        _ = e.submit(deviceId: "d1", properties: [("n", .number(1))])
        let r = send(e, "d2", 7)
        XCTAssertEqual(r?.errors.count, 0)
        XCTAssertEqual(r?.applied.count, 1)
        e.waitIdle()
        XCTAssertEqual(c.logs, ["d2 7"])
        XCTAssertEqual(e.stats[.vmsReplaced], 2)
        XCTAssertEqual(e.stats[.processed], 3)
        XCTAssertEqual(e.state.live("d0")?.value("n"), .number(1), "a stopped handler's value is still written")
    }

    func testStopEndsWhileEveryHandlerSleepLoops() throws {
        // A wall limit far away: only the stop can end these calls.
        let (e, c) = try makeSleepEngine(["a.js": """
            set('d0', { n_onchange: function () { for (;;) home.sleep(0.05); } });
            set('d1', { n_onchange: function () { for (;;) home.sleep(0.05); } });
            """], vms: 2, timeoutMs: 1000, wallMs: 600_000)
        for i in 1...3 {
            _ = e.submit(deviceId: "d0", properties: [("n", .number(Double(i)))])
            _ = e.submit(deviceId: "d1", properties: [("n", .number(Double(i)))])
        }
        var waited = 0
        while e.vmsBusy < 2 && waited < 5000 { sleepMillis(20); waited += 20 }
        sleepMillis(200)
        let t0 = monotonicNanos()
        e.stop()
        let took = seconds(since: t0)
        XCTAssertGreaterThanOrEqual(took, Double(EventManager.stopGraceMs) / 1000 - 0.01, "running work gets its grace")
        XCTAssertLessThan(took, 6, "the stop does not wait for the scripts")
        XCTAssertEqual(e.stats[.processed], 6, "queued events are still processed (written)")
        XCTAssertEqual(e.state.live("d0")?.value("n"), .number(3))
        XCTAssertEqual(e.state.live("d1")?.value("n"), .number(3))
        let errors = c.lock.withLock { c.errors.map(\.message) }
        XCTAssertEqual(errors.count, 2, "the two calls cut short are reported, the queued ones did not run: \(errors)")
        XCTAssertTrue(errors.allSatisfy { $0.contains("the daemon is stopping") }, "\(errors)")
    }

    func testStopWithNothingRunningDoesNotWait() throws {
        let (e, _) = try makeSleepEngine(["a.js": "set('d0', { n_onchange: function () {} });"])
        XCTAssertEqual(send(e, "d0", 1)?.errors.count, 0)
        let t0 = monotonicNanos()
        e.stop(graceMs: 5000)
        XCTAssertLessThan(seconds(since: t0), 4, "an idle engine stops without waiting for the grace")
    }

    func makePluginEngine(_ script: String, timeoutMs: Int, wallMs: Int, pluginTimeoutMs: Int) throws -> (EventManager, Collector, SlowPlugins) {
        var config = Config()
        config.vms = 1
        config.scriptTimeoutMs = timeoutMs
        config.scriptWallTimeoutMs = wallMs
        config.pluginTimeoutMs = pluginTimeoutMs
        config.devices = [DeviceDefinition(id: "d0", name: "D0", properties: [PropertyDefinition(name: "n", type: .dial, min: 0, max: 1e9)])]
        let c = Collector()
        let plugins = SlowPlugins()
        let e = EventManager(config: config, scripts: ScriptSet(generation: 1, files: [ScriptFile(name: "a.js", source: script)]),
                             clock: SystemClock(), observers: [c], plugins: plugins)
        try e.start()
        return (e, c, plugins)
    }

    func testAPluginCallThatTimesOutThrowsWithoutUsingTheBudget() throws {
        // pluginTimeoutMs (600) is longer than the budget (200): the wait is
        // not script work, so the script sees the plugin's throw and goes on.
        let (e, c, plugins) = try makePluginEngine("""
            set('d0', { n_onchange: function () {
              try { plugin.slow.hang(); } catch (err) { home.log('caught ' + err.message); }
            } });
            """, timeoutMs: 200, wallMs: 10_000, pluginTimeoutMs: 600)
        defer { e.stop() }
        let r = send(e, "d0", 1)
        XCTAssertEqual(r?.errors.count, 0, "\(String(describing: r?.errors))")
        XCTAssertEqual(c.logs.count, 1)
        XCTAssertTrue(c.logs.first?.hasPrefix("caught plugin.slow.hang: no answer within 600 ms") ?? false, "\(c.logs)")
        XCTAssertEqual(plugins.timeouts, [600])
        XCTAssertEqual(e.stats[.vmsReplaced], 0)
    }

    func testPluginCallsCountAgainstTheWallLimit() throws {
        // A loop of plugin calls that each wait 5 s is stopped at the 500 ms
        // wall limit: the call in progress is cut to what is left of it.
        let (e, _, plugins) = try makePluginEngine("""
            set('d0', { n_onchange: function () { for (;;) { try { plugin.slow.hang(); } catch (err) {} } } });
            """, timeoutMs: 200, wallMs: 500, pluginTimeoutMs: 5000)
        defer { e.stop() }
        let t0 = monotonicNanos()
        let message = send(e, "d0", 1)?.errors.first?.message ?? ""
        XCTAssertTrue(message.contains("ran longer than 500 ms (scriptWallTimeoutMs)"), message)
        XCTAssertGreaterThanOrEqual(seconds(since: t0), 0.49)
        XCTAssertLessThan(seconds(since: t0), 4.5, "the plugin's own 5 s timeout did not hold the stop up")
        XCTAssertTrue(plugins.timeouts.allSatisfy { $0 <= 550 }, "\(plugins.timeouts)")
        XCTAssertEqual(e.stats[.vmsReplaced], 1)
    }

    func testConfigScriptWallTimeoutMs() throws {
        XCTAssertEqual(try Config.decode(text: "{}").effectiveScriptWallTimeoutMs, 10_000)
        XCTAssertEqual(try Config.decode(text: #"{"scriptWallTimeoutMs": 2500}"#).effectiveScriptWallTimeoutMs, 2500)
        XCTAssertEqual(try Config.decode(text: #"{"scriptTimeoutMs": 20000}"#).effectiveScriptWallTimeoutMs, 20_000,
                       "raising only the budget is not undone by the default wall limit")
        XCTAssertEqual(try Config.decode(text: #"{"scriptTimeoutMs": 20000, "scriptWallTimeoutMs": 5000}"#).effectiveScriptWallTimeoutMs, 5000)
        for bad in [#"{"scriptWallTimeoutMs": 0}"#, #"{"scriptWallTimeoutMs": -5}"#, #"{"scriptWallTimeoutMs": 1.5}"#,
                    #"{"scriptWallTimeoutMs": "10000"}"#, #"{"scriptWallTimeoutMs": 99999999}"#] {
            XCTAssertThrowsError(try Config.decode(text: bad), bad) {
                XCTAssertTrue("\($0)".contains("\"scriptWallTimeoutMs\""), "\($0)")
            }
        }
    }
}

/// A plugin whose one method never answers: it waits out the timeout it is given.
final class SlowPlugins: PluginHost, @unchecked Sendable {
    private let lock = Lock()
    private var seen: [Int] = []
    var timeouts: [Int] { lock.withLock { seen } }
    func catalog() -> [PluginInfo] { [PluginInfo(name: "slow", methods: ["hang"])] }
    func call(plugin: String, method: String, arguments: [JSON], timeoutMs: Int) -> Result<JSON, PluginError> {
        lock.withLock { seen.append(timeoutMs) }
        sleepMillis(timeoutMs)
        return .failure(PluginError(.timeout, "no answer within \(timeoutMs) ms"))
    }
}
