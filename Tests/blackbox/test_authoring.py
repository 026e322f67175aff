"""What a rule author sees over the API alone: ?wait=1 with the run's actions,
logs and errors; GET /v1/logs (also followed); per-script error counts;
warnings at upload for handlers that can never run."""
import asyncio
import time

from conftest import run

SENSOR = {"id": "hall-motion", "name": "Hall motion", "properties": [
    {"name": "motion", "type": "switch", "mode": "RO"}, {"name": "lux", "type": "dial", "min": 0, "max": 1000}]}

RULES = """
set('hall-motion', {
  motion_onchange: function (v) {
    home.log('motion is', v);
    home.getDevice('lamp').set('power', v);
  },
  lux_onchange: function (v) {
    if (v > 900) { while (true) {} }
    if (v > 500) { undefinedThing(); }
  }
});
"""


def test_wait_answer_has_the_runs_actions_logs_errors(make_daemon):
    d = make_daemon(config={"scriptTimeoutMs": 200}, scripts={"hall.js": RULES})
    reg = d.register(SENSOR)
    r = d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "motion", "value": "on"}]}, token=None)
    assert r.status == 200, r.text
    body = r.json()
    assert body["applied"] == [{"name": "motion", "value": True}]
    assert body["actions"] == [{"id": "lamp", "properties": [{"name": "power", "value": True}]}]
    assert body["logs"] == ["motion is true"]
    assert body["errors"] == []
    # a throw: script and line in the answer
    body = d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "lux", "value": 600}]}, token=None).json()
    assert body["errors"] == ["hall.js:9: ReferenceError: 'undefinedThing' is not defined"], body
    assert body["applied"] == [{"name": "lux", "value": 600}]
    # a runaway handler: stopped, and said so
    body = d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "lux", "value": 950}]}, token=None).json()
    assert len(body["errors"]) == 1 and "stopped" in body["errors"][0] and "hall.js" in body["errors"][0], body

    st = d.status()["scripts"]
    assert st["errors"] == 2 and st["errorsByScript"] == {"hall.js": 2}, st

    # the same in the log ring, newest first, with script, line and seq
    lines = d.get("/v1/logs").json()["lines"]
    errors = [l for l in lines if l["level"] == "error"]
    assert len(errors) == 2, lines
    assert errors[-1]["script"] == "hall.js" and errors[-1]["line"] == 9 and errors[-1]["source"] == "hall.js"
    assert "stopped" in errors[0]["message"]
    logs = [l for l in lines if l["source"] == "hall.js" and l["level"] == "info"]
    assert logs and logs[0]["message"] == "motion is true" and isinstance(logs[0]["seq"], int)
    assert any(l["source"] == "daemon" and "HTTP/3 listening" in l["message"] for l in lines)
    times = [l["time"] for l in lines]
    assert times == sorted(times, reverse=True)
    # filters
    assert [l["level"] for l in d.get("/v1/logs?level=error").json()["lines"]] == ["error"] * 2
    assert len(d.get("/v1/logs?limit=2").json()["lines"]) == 2
    assert d.get("/v1/logs?since=%d" % (times[0] + 1)).json()["lines"] == []
    for bad, field in (("level=loud", "level"), ("limit=x", "limit"), ("since=-1", "since"), ("colour=red", "colour")):
        r = d.get("/v1/logs?" + bad)
        assert r.status == 400 and r.json()["field"] == field, (bad, r.text)
    assert d.get("/v1/logs", token=None).status == 401


def test_follow_streams_new_lines(make_daemon):
    d = make_daemon(scripts={"hall.js": "set('lamp', { level_onchange: function (v) { home.log('level now', v); } });"})

    async def go():
        async with d.connect() as c:
            s = await c.open_stream("GET", "/v1/logs?follow=1&limit=1", token=d.admin)
            first = await s.next_json(timeout=10)
            assert "message" in first
            await c.put("/v1/devices/lamp/properties/level", {"value": 42}, token=d.admin)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                line = await s.next_json(timeout=10)
                if line.get("source") == "hall.js":
                    return line
            raise AssertionError("the script's line never came")
    line = run(go())
    assert line["message"] == "level now 42" and line["level"] == "info"


def test_upload_warnings_name_what_never_runs(make_daemon):
    d = make_daemon()
    d.register(SENSOR)
    src = ("set('hall-moton', { motion_onchange: function () {} });\n"
           "set('hall-motion', {\n"
           "  motion_onchnage: function () {},\n"
           "  lux_onchange: function () {}\n"
           "});\n"
           "set('group/upstairs', { onchange: function () {} });\n")
    r = d.put("/v1/scripts/hall.js", src)
    assert r.status == 200, r.text
    w = r.json()["warnings"]
    assert [x["script"] for x in w] == ["hall.js"] * 3
    assert [x.get("line") for x in w] == [1, 3, 6]
    assert "no device \"hall-moton\"" in w[0]["message"] and "did you mean \"hall-motion\"?" in w[0]["message"]
    assert "did you mean motion_onchange?" in w[1]["message"]
    assert "no group \"upstairs\"" in w[2]["message"]
    # the bundle route answers them too; a clean set has none
    r = d.post("/v1/scripts", {"scripts": {"hall.js": "set('hall-motion', { motion_onchange: function () {} });"}})
    assert r.status == 200 and r.json()["warnings"] == [], r.text


def test_start_up_warnings_are_logged(make_daemon):
    d = make_daemon(scripts={"a.js": "set('lamp', { powr_onchange: function () {} });"})
    lines = d.get("/v1/logs?level=warn").json()["lines"]
    assert any("a.js:1" in l["message"] and "did you mean power_onchange?" in l["message"] for l in lines), lines
