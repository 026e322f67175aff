"""GET /v1/actions/<registration>: open NDJSON streams, pending actions."""
import asyncio

import pytest

from conftest import run

RELAY = {"id": "relay", "name": "Relay", "properties": [
    {"name": "power", "type": "switch"},
    {"name": "level", "type": "dial"},
    {"name": "press", "type": "button"},
    {"name": "meter", "type": "dial", "mode": "RO"},
]}
SCRIPT = """
set("relay", {
    press_ontrigger: function (p) { home.getDevice("relay").set("level", 42); }
});
"""


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    from conftest import Daemon
    d = Daemon(tmp_path_factory.mktemp("actions"), scripts={"relay.js": SCRIPT})
    reg = d.register(RELAY)
    yield d, reg
    assert d.stop() == 0


def test_unknown_registration_404(relay):
    d, _ = relay
    r = d.get("/v1/actions/" + "f" * 32, token=None)
    assert r.status == 404 and r.json()["error"]


def test_commands_and_script_actions_stream(relay):
    d, reg = relay

    async def go():
        async with d.connect() as c:
            s = await c.open_stream("GET", "/v1/actions/" + reg)
            assert s.status == 200
            assert s.headers["content-type"] == "application/x-ndjson"
            r = await c.put("/v1/devices/relay/properties/power", {"value": "on"}, token=d.admin)
            assert r.status == 202
            assert await s.next_json() == {"id": "relay", "properties": [{"name": "power", "value": True}]}
            # a script's device.set is an action too
            r = await c.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "press", "value": True}]})
            assert r.status == 200
            assert await s.next_json() == {"id": "relay", "properties": [{"name": "level", "value": 42}]}
            # what the device reports itself is never echoed back
            r = await c.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "meter", "value": 7}]})
            assert r.json()["applied"] == [{"name": "meter", "value": 7}]
            with pytest.raises(asyncio.TimeoutError):
                await s.next_line(timeout=0.5)
            c.cancel(s)
    run(go())


def test_pending_actions_delivered_on_open(relay):
    d, reg = relay
    # no stream open: kept, latest per property
    for prop, value in (("power", "off"), ("level", 10), ("power", "on"), ("level", 11)):
        r = d.put("/v1/devices/relay/properties/%s?wait=1" % prop, {"value": value})
        assert r.status == 200, r.text

    async def go():
        async with d.connect() as c:
            s = await c.open_stream("GET", "/v1/actions/" + reg)
            line = await s.next_json()
            assert line["id"] == "relay"
            assert sorted((p["name"], p["value"]) for p in line["properties"]) == [("level", 11), ("power", True)]
            # delivered once: a second stream gets nothing old
            s2 = await c.open_stream("GET", "/v1/actions/" + reg)
            with pytest.raises(asyncio.TimeoutError):
                await s2.next_line(timeout=0.5)
            # fan-out to both open streams
            await c.put("/v1/devices/relay/properties/level", {"value": 3}, token=d.admin)
            want = {"id": "relay", "properties": [{"name": "level", "value": 3}]}
            assert await s.next_json() == want
            assert await s2.next_json() == want
    run(go())


def test_stream_closed_then_pending_again(relay):
    d, reg = relay

    async def go():
        async with d.connect() as c:
            s = await c.open_stream("GET", "/v1/actions/" + reg)
            c.cancel(s)
            await asyncio.sleep(0.3)
    run(go())
    # the stream is gone: the next action is kept, not lost
    assert d.put("/v1/devices/relay/properties/level?wait=1", {"value": 77}).status == 200

    async def again():
        async with d.connect() as c:
            s = await c.open_stream("GET", "/v1/actions/" + reg)
            assert await s.next_json() == {"id": "relay", "properties": [{"name": "level", "value": 77}]}
    run(again())
