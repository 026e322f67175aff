import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// Upload warnings (SPEC §5): handlers that load but can never run.
final class ScriptWarningsTests: XCTestCase {
    func check(_ files: [String: String]) throws -> EventManager.ScriptCheck {
        var config = Config()
        config.vms = 1
        config.devices = [
            DeviceDefinition(id: "hall-motion", name: "Hall motion", properties: [PropertyDefinition(name: "motion", type: .button)]),
            DeviceDefinition(id: "lamp", name: "Lamp", properties: [PropertyDefinition(name: "power", type: .switch)]),
        ]
        config.groups = [GroupDefinition(id: "downstairs", name: "Downstairs", devices: ["lamp"], groups: [])]
        let e = EventManager(config: config, scripts: ScriptSet(generation: 1, files: []), clock: SystemClock())
        try e.start()
        defer { e.stop() }
        return e.check(ScriptSet(generation: 2, files: files.map { ScriptFile(name: $0.key, source: $0.value) }))
    }

    func testTyposInKeysAndHandlersAreNamedWithASuggestion() throws {
        let c = try check(["a.js": """
            set('hall-moton', { motion_onchange: function () {} });
            set('hall-motion', {
              motion_onchnage: function () {},
              motoin_ontrigger: function () {},
              format: function () {}
            });
            set('group/upstairs', { onchange: function () {} });
            set('group/downstairs', { onchnage: function () {} });
            set('plugin/sun', { onsunset: function () {} });
            set('homeserver', { onstrat: function () {} });
            """])
        XCTAssertEqual(c.errors, [])
        let text = c.warnings.map(\.description)
        XCTAssertEqual(c.warnings.count, 7, "\(text)")
        XCTAssertEqual(text[0], "a.js:1: set(\"hall-moton\") never runs: there is no device \"hall-moton\" (did you mean \"hall-motion\"?)")
        XCTAssertTrue(text[1].hasPrefix("a.js:3: hall-motion.motion_onchnage never runs"), text[1])
        XCTAssertTrue(text[1].hasSuffix("(did you mean motion_onchange?)"), text[1])
        XCTAssertTrue(text[2].hasPrefix("a.js:4: hall-motion.motoin_ontrigger never runs: device \"hall-motion\" has no property \"motoin\""), text[2])
        XCTAssertTrue(text[2].hasSuffix("(did you mean motion_ontrigger?)"), text[2])
        XCTAssertTrue(text[3].contains("no group \"upstairs\""), text[3])
        XCTAssertTrue(text[4].contains("did you mean onchange?"), text[4])
        XCTAssertTrue(text[5].contains("no plugin \"sun\""), text[5])
        XCTAssertTrue(text[6].contains("did you mean onstart?"), text[6])
        XCTAssertFalse(text.contains { $0.contains("format") })
        XCTAssertEqual(c.warnings.map(\.json).first?["line"], .number(1))
    }

    func testHomeserverTypoAndReplacedSetAcrossFiles() throws {
        let c = try check([
            "a.js": "set('lamp', { power_onchange: function () {} });",
            "b.js": "set('homeserver', { onstrat: function () {} });\nset('device/lamp', { power_ontrigger: function () {} });",
        ])
        let text = c.warnings.map(\.description)
        XCTAssertEqual(text.count, 2, "\(text)")
        XCTAssertTrue(text[0].hasPrefix("b.js:1: homeserver.onstrat never runs"), text[0])
        XCTAssertTrue(text[0].contains("did you mean onstart?"), text[0])
        XCTAssertTrue(text[1].hasPrefix("b.js:2: set(\"lamp\") replaces the handlers set for it in a.js"), text[1])
    }

    func testACleanSetHasNoWarnings() throws {
        let c = try check(["a.js": """
            set('lamp', { power_onchange: function (v) {}, power_ontrigger: function (p) {}, helper: function () {} });
            set('group/downstairs', { onchange: function (d) {} });
            set('homeserver', { onstart: function () {} });
            """])
        XCTAssertEqual(c.warnings, [])
    }

    func testSuggestionDistance() {
        XCTAssertEqual(Suggest.closest("motion_onchnage", ["motion_onchange", "motion_ontrigger"]), "motion_onchange")
        XCTAssertNil(Suggest.closest("format", ["motion_onchange"]))
        XCTAssertEqual(Suggest.distance(Array("ab".utf8), Array("ba".utf8)), 1)
    }
}
