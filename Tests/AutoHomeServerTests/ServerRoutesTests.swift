import XCTest
@testable import AutoHome
@testable import AutoHomeServer
@testable import AutoHomeSupport

/// The routes over a real engine, without QUIC: validation and status codes.

final class ServerRoutesTests: XCTestCase {
    func testRegistrationAndEvents() throws {
        let h = try ServerHarness()
        let dev = try h.stores.tokens.create(scope: .device).token
        let def = #"{"id": "s1", "properties": [{"name": "t", "type": "dial"}, {"name": "w", "type": "text", "mode": "WO"}]}"#
        let created = h.send("POST", "/v1/devices", body: def, token: dev)
        XCTAssertEqual(created.status, 201, created.text)
        let reg = try XCTUnwrap(created.jsonValue?["registration"]?.stringValue)
        XCTAssertEqual(h.send("POST", "/v1/devices", body: def, token: dev).status, 200)
        XCTAssertEqual(h.send("POST", "/v1/devices", body: def, token: h.admin).status, 409)
        XCTAssertEqual(h.send("POST", "/v1/devices", body: #"{"id": "lamp", "properties": []}"#, token: dev).status, 409)

        let ok = h.send("POST", "/v1/event/\(reg)?wait=1", body: #"{"properties": [{"name": "t", "value": "7"}]}"#)
        XCTAssertEqual(ok.status, 200, ok.text)
        XCTAssertEqual(ok.jsonValue?["applied"], .array([.object([("name", .string("t")), ("value", .number(7))])]))
        XCTAssertEqual(h.send("POST", "/v1/event/\(reg)", body: #"{"properties": [{"name": "t", "value": 8}]}"#).status, 202)

        let cases: [(String, Int, String?)] = [
            (#"{"properties": [{"name": "x", "value": 1}]}"#, 400, "x"),
            (#"{"properties": [{"name": "t", "value": "banana"}]}"#, 400, "t"),
            (#"{"properties": [{"name": "w", "value": "hi"}]}"#, 400, "w"),
            (#"{"properties": "#, 400, "body"),
            ("", 400, "body"),
        ]
        for (body, status, field) in cases {
            let r = h.send("POST", "/v1/event/\(reg)", body: body)
            XCTAssertEqual(r.status, status, body)
            XCTAssertEqual(r.field, field, r.text)
        }
        XCTAssertEqual(h.send("POST", "/v1/event/\(reg)", body: String(repeating: " ", count: 5000)).status, 413)
        XCTAssertEqual(h.send("POST", "/v1/event/\(reg)", bodyTooLarge: true).status, 413)
        XCTAssertEqual(h.send("POST", "/v1/event/nope", body: "{}").status, 404)
        XCTAssertEqual(h.engine.stats[.rejected], cases.count + 3)
    }

    func testCommandsAndViews() throws {
        let h = try ServerHarness()
        XCTAssertEqual(h.send("PUT", "/v1/devices/lamp/properties/power", body: #"{"value": "on"}"#, token: h.admin).status, 202)
        XCTAssertEqual(h.send("PUT", "/v1/devices/lamp/properties/watts", body: #"{"value": 1}"#, token: h.admin).status, 409)
        XCTAssertEqual(h.send("PUT", "/v1/devices/lamp/properties/nope", body: #"{"value": 1}"#, token: h.admin).status, 404)
        XCTAssertEqual(h.send("PUT", "/v1/devices/lamp/properties/power", body: #"{}"#, token: h.admin).status, 400)
        h.engine.waitIdle()
        let view = h.send("GET", "/v1/devices/lamp/properties/power", token: h.admin)
        XCTAssertEqual(view.jsonValue?["value"], .bool(true))
        XCTAssertEqual(view.jsonValue?["history"]?.arrayValue?.count, 2)
        XCTAssertEqual(h.send("GET", "/v1/devices/nope", token: h.admin).status, 404)
        XCTAssertEqual(h.send("GET", "/v1/devices/bad%20id", token: h.admin).status, 400)
        XCTAssertEqual(h.send("GET", "/v1/devices", token: h.admin).jsonValue?["devices"]?.arrayValue?.count, 1)
        // the command became an action, kept until a stream opens
        XCTAssertEqual(h.stores.hub.pending(deviceId: "lamp").map(\.name), ["power"])
    }

    func testScriptsValidateBeforeWriting() throws {
        let h = try ServerHarness()
        let bad = h.send("PUT", "/v1/scripts/a.js", body: "var = ;", token: h.admin)
        XCTAssertEqual(bad.status, 422)
        XCTAssertEqual(bad.jsonValue?["script"], .string("a.js"))
        XCTAssertEqual(bad.jsonValue?["line"], .number(1))
        XCTAssertFalse(Files.exists(h.dir + "/scripts/a.js"))
        XCTAssertEqual(h.send("PUT", "/v1/scripts/a.js", body: "var a = 1;", token: h.admin).jsonValue?["generation"], .number(2))
        XCTAssertEqual(try Files.readText(h.dir + "/scripts/a.js"), "var a = 1;")
        for name in ["..%2Fa.js", "a", "a.js.bak", "%2e%2e.js"] {
            XCTAssertEqual(h.send("PUT", "/v1/scripts/\(name)", body: "1;", token: h.admin).status, 400, name)
        }
        XCTAssertEqual(h.send("PUT", "/v1/scripts/../a.js", body: "1;", token: h.admin).status, 400)
        XCTAssertEqual(h.send("DELETE", "/v1/scripts/b.js", token: h.admin).status, 404)
        let get = h.send("GET", "/v1/scripts/a.js", token: h.admin)
        XCTAssertEqual(get.contentType, "text/javascript")
        XCTAssertEqual(get.text, "var a = 1;")
        XCTAssertEqual(h.send("DELETE", "/v1/scripts/a.js", token: h.admin).status, 200)
        XCTAssertFalse(Files.exists(h.dir + "/scripts/a.js"))
    }

    func testGroupsAndStatus() throws {
        let h = try ServerHarness()
        XCTAssertEqual(h.send("PUT", "/v1/groups/g", body: #"{"devices": ["lamp"]}"#, token: h.admin).status, 201)
        XCTAssertEqual(h.send("PUT", "/v1/groups/g", body: #"{"devices": ["nope"]}"#, token: h.admin).field, "devices")
        XCTAssertEqual(h.send("PUT", "/v1/groups/p", body: #"{"groups": ["g"]}"#, token: h.admin).status, 201)
        XCTAssertEqual(h.send("PUT", "/v1/groups/g", body: #"{"groups": ["p"]}"#, token: h.admin).status, 400)
        XCTAssertEqual(h.send("DELETE", "/v1/groups/g", token: h.admin).status, 409)
        XCTAssertEqual(h.send("DELETE", "/v1/groups/p", token: h.admin).status, 200)
        XCTAssertEqual(h.send("DELETE", "/v1/groups/p", token: h.admin).status, 404)
        let status = try XCTUnwrap(h.send("GET", "/v1/status", token: h.admin).jsonValue)
        XCTAssertEqual(status.objectMembers?.map(\.0), ["version", "uptimeSeconds", "events", "ring", "vms", "scripts", "memory"])
        XCTAssertGreaterThan(status["memory"]?["rssBytes"]?.numberValue ?? 0, 0)
        XCTAssertEqual(h.send("GET", "/v1/history", token: h.admin).field, "device")
    }

    func testDurableHistoryRoute() throws {
        let h = try ServerHarness()
        for v in ["on", "off", "on"] {
            XCTAssertEqual(h.send("PUT", "/v1/devices/lamp/properties/power?wait=1", body: #"{"value": "\#(v)"}"#, token: h.admin).status, 200)
        }
        h.store.flush()
        let all = try XCTUnwrap(h.send("GET", "/v1/history?device=lamp&property=power", token: h.admin).jsonValue?["points"]?.arrayValue)
        XCTAssertEqual(all.map { $0["value"] }, [.bool(true), .bool(false), .bool(true)])
        let times = all.compactMap { $0["time"]?.numberValue }
        XCTAssertEqual(times, times.sorted(by: >))
        let one = h.send("GET", "/v1/history?device=lamp&property=power&limit=1&until=\(Int64(times[0]))", token: h.admin)
        XCTAssertEqual(one.jsonValue?["points"]?.arrayValue?.count, 1)
        XCTAssertEqual(h.send("GET", "/v1/history?device=lamp&property=power&since=\(Int64(times[0]) + 1)", token: h.admin)
            .jsonValue?["points"]?.arrayValue?.count, 0)
        XCTAssertEqual(h.send("GET", "/v1/history?device=lamp&property=power&limit=0", token: h.admin).field, "limit")
        XCTAssertEqual(h.send("GET", "/v1/history?device=lamp&property=power&since=yesterday", token: h.admin).field, "since")
        XCTAssertEqual(h.send("GET", "/v1/history?device=nope&property=power", token: h.admin).status, 404)
        XCTAssertEqual(h.send("GET", "/v1/history?device=lamp&property=nope", token: h.admin).status, 404)
    }

    func testDeleteDeviceAndRotateRegistration() throws {
        let h = try ServerHarness()
        let dev = try h.stores.tokens.create(scope: .device).token
        let other = try h.stores.tokens.create(scope: .device).token
        let def = #"{"id": "s1", "properties": [{"name": "t", "type": "dial"}]}"#
        let reg = try XCTUnwrap(h.send("POST", "/v1/devices", body: def, token: dev).jsonValue?["registration"]?.stringValue)
        XCTAssertEqual(h.send("PUT", "/v1/groups/g", body: #"{"devices": ["s1", "lamp"]}"#, token: h.admin).status, 201)
        XCTAssertEqual(h.send("POST", "/v1/event/\(reg)?wait=1", body: #"{"properties": [{"name": "t", "value": 5}]}"#).status, 200)

        // rotation: owner or admin; the old id stops at once
        XCTAssertEqual(h.send("POST", "/v1/devices/s1/registration", token: other).status, 403)
        XCTAssertEqual(h.send("POST", "/v1/devices/lamp/registration", token: h.admin).status, 409)
        let rotated = h.send("POST", "/v1/devices/s1/registration", token: dev)
        XCTAssertEqual(rotated.status, 200, rotated.text)
        let fresh = try XCTUnwrap(rotated.jsonValue?["registration"]?.stringValue)
        XCTAssertNotEqual(fresh, reg)
        XCTAssertEqual(h.send("POST", "/v1/event/\(reg)", body: #"{"properties": [{"name": "t", "value": 6}]}"#).status, 404)
        XCTAssertEqual(h.send("POST", "/v1/event/\(fresh)?wait=1", body: #"{"properties": [{"name": "t", "value": 6}]}"#).status, 200)

        // delete: config device 409, another token 403, unknown 404
        XCTAssertEqual(h.send("DELETE", "/v1/devices/lamp", token: h.admin).status, 409)
        XCTAssertEqual(h.send("DELETE", "/v1/devices/s1", token: other).status, 403)
        XCTAssertEqual(h.send("DELETE", "/v1/devices/zz", token: h.admin).status, 404)
        let deleted = h.send("DELETE", "/v1/devices/s1", token: dev)
        XCTAssertEqual(deleted.status, 200, deleted.text)
        XCTAssertEqual(deleted.jsonValue?["deleted"], .bool(true))
        XCTAssertEqual(h.send("GET", "/v1/devices/s1", token: h.admin).status, 404)
        XCTAssertEqual(h.send("POST", "/v1/event/\(fresh)", body: #"{"properties": [{"name": "t", "value": 7}]}"#).status, 404)
        XCTAssertEqual(h.send("GET", "/v1/groups/g", token: h.admin).jsonValue?["devices"], .array([.string("lamp")]))
        h.store.flush()
        XCTAssertEqual(try h.store.loadValues().filter { $0.device == "s1" }, [])
        XCTAssertEqual(try h.store.history(device: "s1", property: "t", since: nil, until: nil, limit: 10), [])
        XCTAssertEqual(try h.store.loadGroups()?.first?.devices, ["lamp"])
        // the id is free again, for anyone
        XCTAssertEqual(h.send("POST", "/v1/devices", body: def, token: other).status, 201)
    }

    func testDeletingATokenHandsItsDevicesToAdmin() throws {
        let h = try ServerHarness()
        let made = try h.stores.tokens.create(scope: .device)
        let def = #"{"id": "s2", "properties": [{"name": "t", "type": "dial"}]}"#
        let reg = try XCTUnwrap(h.send("POST", "/v1/devices", body: def, token: made.token).jsonValue?["registration"]?.stringValue)
        XCTAssertEqual(h.send("DELETE", "/v1/tokens/\(made.info.id)", token: h.admin).status, 200)
        XCTAssertEqual(h.send("POST", "/v1/event/\(reg)?wait=1", body: #"{"properties": [{"name": "t", "value": 1}]}"#).status, 200)
        let updated = h.send("POST", "/v1/devices", body: def, token: h.admin)
        XCTAssertEqual(updated.status, 200, updated.text)
        XCTAssertEqual(updated.jsonValue?["registration"]?.stringValue, reg)
        XCTAssertEqual(h.send("DELETE", "/v1/devices/s2", token: h.admin).status, 200)
    }
}
