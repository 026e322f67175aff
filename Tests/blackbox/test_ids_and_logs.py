"""Hardening: ids a path-normalising client could never reach, dial strings that
are not plain decimals, and registration ids kept out of the log (SPEC §1, §5)."""
import asyncio

from conftest import run


def test_dot_and_dotdot_ids_are_refused_naming_the_field(daemon):
    for bad in (".", ".."):
        r = daemon.post("/v1/devices", {"id": bad, "name": "x", "properties": [{"name": "a", "type": "switch"}]})
        assert r.status == 400, r.text
        assert r.json()["field"] == "id" and '".."' in r.json()["error"]
    r = daemon.call("PUT", "/v1/groups/..", {"name": "up", "devices": []})
    assert r.status in (400, 404), r.text  # ".." may be resolved by the path itself
    r = daemon.call("PUT", "/v1/groups/%2E%2E", {"name": "up", "devices": []})
    assert r.status == 400 and r.json()["field"] == "id", r.text
    r = daemon.call("PUT", "/v1/groups/.", {"name": "up", "devices": []})
    assert r.status in (400, 404), r.text


def test_dial_strings_must_be_plain_decimal_numerals(daemon):
    for bad in ("0x10", " 5 ", "+5", "inf", "nan", "1e", "."):
        r = daemon.call("PUT", "/v1/devices/lamp/properties/level", {"value": bad})
        assert r.status == 400, (bad, r.text)
        assert r.json()["field"] == "level"
    for good, want in (("21.5", 21.5), ("-3", 0), ("1e1", 10), ("7", 7)):
        r = daemon.call("PUT", "/v1/devices/lamp/properties/level?wait=1", {"value": good})
        assert r.status in (200, 202), (good, r.text)
        got = daemon.get("/v1/devices/lamp/properties/level").json()["value"]
        assert got == want, (good, got)


def test_registration_ids_never_reach_the_log(make_daemon):
    d = make_daemon({"logLevel": "debug", "ringSize": 1})
    reg = d.register({"id": "probe", "name": "Probe", "properties": [{"name": "n", "type": "dial", "max": 1e6}]})
    d.post("/v1/event/" + reg, {"properties": [{"name": "n", "value": 1}]}, token=None)
    d.post("/v1/event/" + reg + "?wait=1", {"properties": [{"name": "n", "value": 2}]}, token=None)
    d.post("/v1/event/" + reg, {"properties": [{"name": "nope", "value": 2}]}, token=None)
    d.post("/v1/event/" + reg[:-1] + "0", {"properties": [{"name": "n", "value": 2}]}, token=None)

    async def flood():
        # ringSize 1: concurrent events make the ring say 503, logged at warn.
        async with d.connect() as c:
            rs = [c.start("POST", "/v1/event/" + reg, {"properties": [{"name": "n", "value": i}]}) for i in range(40)]
            return [r.status for r in await asyncio.gather(*[r.done for r in rs])]
    statuses = run(flood())
    assert 202 in statuses
    d.call("PUT", "/v1/devices/probe/properties/n", {"value": 9})
    d.stop()
    log = d.log()
    assert "/v1/event/" + reg[:4] in log, "the event lines are logged (debug)"
    assert reg not in log
    assert reg[:16] not in log
