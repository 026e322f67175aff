"""autohomed replay as a rule author uses it (SPEC §10): against the devices of
a live appliance (--devices, the output of GET /v1/devices), exit status 1 on
errors, warnings for typos, and --expect as a test of one's own rules."""
import json
import subprocess

from conftest import AUTOHOMED

SENSOR = {"id": "hall-motion", "name": "Hall motion", "properties": [
    {"name": "motion", "type": "switch", "mode": "RO"}]}

RULES = """set('hall-motion', {
  motion_onchange: function (v) { home.log('motion', v); home.getDevice('lamp').set('power', v); }
});
"""


def replay(tmp_path, *args, events=""):
    (tmp_path / "events.ndjson").write_text(events)
    p = subprocess.run([AUTOHOMED, "replay", *args, str(tmp_path / "events.ndjson")], capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    return p.returncode, [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")], p.stdout, p.stderr


def test_replay_against_the_devices_of_a_live_daemon(make_daemon, tmp_path):
    d = make_daemon()
    reg = d.register(SENSOR)
    assert d.put("/v1/devices/lamp/properties/level?wait=1", {"value": 30}).status == 200
    (tmp_path / "devices.json").write_text(d.get("/v1/devices").text)
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "hall.js").write_text(RULES)
    ev = '{"device": "hall-motion", "properties": [{"name": "motion", "value": "on"}]}\n'
    # without the file the device is unknown: an error, exit 1
    rc, lines, out, err = replay(tmp_path, "--scripts", str(scripts), events=ev)
    assert rc == 1 and "unknown device" in lines[0]["errors"][0], out + err
    # with it, the rules run against the appliance's devices and values
    rc, lines, out, err = replay(tmp_path, "--scripts", str(scripts), "--devices", "devices.json", events=ev)
    assert rc == 0, out + err
    assert lines[0]["applied"] == [{"name": "motion", "value": True}]
    assert lines[0]["actions"] == [{"id": "lamp", "properties": [{"name": "power", "value": True}]}]
    assert lines[0]["logs"] == ["motion true"]
    state = {dev["id"]: dev for dev in lines[-1]["state"]}
    assert [p["value"] for p in state["lamp"]["properties"] if p["name"] == "level"] == [30]
    # a config that defines lamp too keeps its definition and takes the live value
    (tmp_path / "config.json").write_text(json.dumps({"devices": [
        {"id": "lamp", "name": "Lamp", "properties": [{"name": "level", "type": "dial"}, {"name": "power", "type": "switch"}]}]}))
    rc, lines, out, err = replay(tmp_path, "--config", "config.json", "--scripts", str(scripts), "--devices", "devices.json",
                                 events=ev)
    assert rc == 0, out + err
    lamp = [dev for dev in lines[-1]["state"] if dev["id"] == "lamp"][0]
    assert [p["name"] for p in lamp["properties"]] == ["level", "power"]
    assert lamp["properties"][0]["value"] == 30
    # a bad devices file is refused naming it
    (tmp_path / "bad.json").write_text('{"devices": [{"id": "x"}]}')
    rc, _, out, err = replay(tmp_path, "--scripts", str(scripts), "--devices", "bad.json", events=ev)
    assert rc == 1 and "bad.json" in err and "properties" in err, err
    # the same warnings as an upload, on the last line and on stderr
    (scripts / "typo.js").write_text("set('hall-moton', {});\n")
    rc, lines, out, err = replay(tmp_path, "--scripts", str(scripts), "--devices", "devices.json", events=ev)
    assert rc == 0
    assert lines[-1]["warnings"][0]["script"] == "typo.js" and "did you mean \"hall-motion\"?" in lines[-1]["warnings"][0]["message"]
    assert "typo.js:1" in err
    (scripts / "typo.js").unlink()


def test_expect_compares_with_expected_lines(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"devices": [SENSOR, {"id": "lamp", "name": "Lamp", "properties": [
        {"name": "power", "type": "switch"}]}]}))
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "hall.js").write_text(RULES)
    ev = '{"device": "hall-motion", "properties": [{"name": "motion", "value": "on"}]}\n'
    good = ('{"seq": 1, "actions": [{"id": "lamp", "properties": [{"name": "power", "value": true}]}], "errors": []}\n'
            '{"state": {"$any": true}}\n')
    (tmp_path / "expected.ndjson").write_text(good)
    rc, _, out, _ = replay(tmp_path, "--config", "config.json", "--scripts", "scripts", "--expect", "expected.ndjson", events=ev)
    assert rc == 0 and out.strip() == "ok: 2 lines match expected.ndjson", out
    (tmp_path / "expected.ndjson").write_text(good.replace("true}]}]", "false}]}]"))
    rc, _, out, _ = replay(tmp_path, "--config", "config.json", "--scripts", "scripts", "--expect", "expected.ndjson", events=ev)
    assert rc == 1, out
    assert "output line 1: $.actions[0].properties[0].value: expected false, got true" in out, out
    assert "FAIL: 1 of 2 lines differ" in out


def test_usage_errors_exit_2(tmp_path):
    rc, _, _, err = replay(tmp_path, "--bogus")
    assert rc == 2 and "usage" in err
