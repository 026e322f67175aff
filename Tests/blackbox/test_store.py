"""SPEC §6: the SQLite store. After a restart (clean or kill -9) the daemon is
where it was; an earlier version's JSON files are imported once; a damaged
store stops the start-up with a way out; SPEC §5's history, delete and
rotation routes."""
import hashlib
import json
import os
import signal
import sqlite3
import time

import pytest

from conftest import run

HEATER = {"id": "heater", "name": "Heater", "properties": [
    {"name": "setpoint", "type": "dial", "min": 5, "max": 30, "value": 21},
    {"name": "heating", "type": "switch"},
    {"name": "brightness", "type": "dial"},
    {"name": "bell", "type": "button"},
]}
FAST = {"flushIntervalMs": 100}


def db_rows(d, sql, *args):
    db = sqlite3.connect("file:%s?mode=ro" % (d.data / "auto-home.db"), uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def value(d, dev, prop):
    r = d.get("/v1/devices/%s/properties/%s" % (dev, prop))
    assert r.status == 200, r.text
    return r.json()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_restart_is_where_it_was(make_daemon, sig):
    d = make_daemon(config=FAST)
    reg = d.register(HEATER)
    assert d.put("/v1/devices/lamp/properties/power?wait=1", {"value": "on"}).status == 200
    r = d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "setpoint", "value": 23},
                                                            {"name": "heating", "value": "on"}]})
    assert r.status == 200, r.text
    assert d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "bell", "value": True}]}).status == 200
    # a command the device has not picked up yet (no action stream open)
    assert d.put("/v1/devices/heater/properties/brightness?wait=1", {"value": 70}).status == 200
    assert d.put("/v1/scripts/a.js", "set('heater', {});\n").status == 200
    assert d.put("/v1/scripts/a.js", "set('heater', {}); // 2\n").status == 200
    generation = d.get("/v1/scripts").json()["generation"]
    assert generation == 3
    time.sleep(0.5)  # > flushIntervalMs: durable even for kill -9
    d.stop(sig)
    d.start()
    assert value(d, "lamp", "power")["value"] is True
    assert value(d, "heater", "setpoint")["value"] == 23
    assert value(d, "heater", "heating")["value"] is True
    # the in-memory history ring is refilled, not back to one entry
    assert [p["value"] for p in value(d, "lamp", "power")["history"][:2]] == [True, False]
    assert d.get("/v1/scripts").json()["generation"] == generation
    assert d.put("/v1/scripts/a.js", "set('heater', {}); // 3\n").json()["generation"] == generation + 1
    h = d.get("/v1/history?device=heater&property=bell").json()["points"]
    assert [p["value"] for p in h] == [True]
    # a button's presses come back into its ring too (after the initial entry)
    assert [p["value"] for p in value(d, "heater", "bell")["history"]] == [True, False]

    async def go():
        async with d.connect() as c:
            s = await c.open_stream("GET", "/v1/actions/" + reg)
            assert s.status == 200
            assert await s.next_json() == {"id": "heater", "properties": [{"name": "brightness", "value": 70}]}
            c.cancel(s)
    run(go())
    # delivered: not pending any more after another restart
    time.sleep(0.5)
    d.stop()
    d.start()
    assert db_rows(d, "SELECT * FROM pending_actions WHERE device = 'heater'") == []


def test_history_route(make_daemon):
    d = make_daemon(config=FAST)
    t0 = int(time.time() * 1000)
    for v in (10, 20, 30, 40):
        assert d.put("/v1/devices/lamp/properties/level?wait=1", {"value": v}).status == 200
    for _ in range(2):
        assert d.put("/v1/devices/hall/properties/motion?wait=1", {"value": True}).status == 200
    d.wait_until(lambda: len(d.get("/v1/history?device=lamp&property=level").json()["points"]) == 4,
                 what="the batch to be flushed")
    pts = d.get("/v1/history?device=lamp&property=level").json()["points"]
    assert [p["value"] for p in pts] == [40, 30, 20, 10]
    assert all(isinstance(p["time"], int) and p["time"] >= t0 - 1000 for p in pts)
    assert [p["value"] for p in d.get("/v1/history?device=lamp&property=level&limit=2").json()["points"]] == [40, 30]
    # since/until are inclusive
    mid = pts[1]["time"]
    assert all(p["time"] <= mid for p in d.get("/v1/history?device=lamp&property=level&until=%d" % mid).json()["points"])
    assert pts[1] in d.get("/v1/history?device=lamp&property=level&since=%d&until=%d" % (mid, mid)).json()["points"]
    # button presses are points
    assert [p["value"] for p in d.get("/v1/history?device=hall&property=motion").json()["points"]] == [True, True]
    for q, field in (("property=level", "device"), ("device=lamp", "property"), ("device=lamp&property=level&limit=0", "limit"),
                     ("device=lamp&property=level&limit=100001", "limit"), ("device=lamp&property=level&since=x", "since")):
        r = d.get("/v1/history?" + q)
        assert r.status == 400 and r.json()["field"] == field, (q, r.text)
    assert d.get("/v1/history?device=nope&property=level").status == 404
    assert d.get("/v1/history?device=lamp&property=level", token=None).status == 401
    assert d.get("/v1/history?device=lamp&property=level", token=d.token("read")).status == 200


def test_delete_device_and_rotation_survive_restart(make_daemon):
    d = make_daemon(config=FAST)
    dev_tok = d.token("device")
    reg = d.register(HEATER, token=dev_tok)
    assert d.put("/v1/groups/g", {"devices": ["heater", "lamp"]}).status == 201
    assert d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "setpoint", "value": 25}]}).status == 200
    assert d.put("/v1/devices/heater/properties/brightness", {"value": 5}).status == 202
    # rotation: the old id stops at once, the new one works, also after a restart
    r = d.post("/v1/devices/heater/registration", token=dev_tok)
    assert r.status == 200, r.text
    new = r.json()["registration"]
    assert new != reg and len(new) >= 32 and r.json()["id"] == "heater"
    assert d.post("/v1/event/" + reg, {"properties": [{"name": "setpoint", "value": 6}]}, token=None).status == 404
    assert d.post("/v1/event/%s?wait=1" % new, {"properties": [{"name": "setpoint", "value": 26}]}, token=None).status == 200
    time.sleep(0.5)  # > flushIntervalMs: durable even for kill -9 (SPEC §6)
    d.stop(signal.SIGKILL)
    d.start()
    assert d.post("/v1/event/" + reg, {"properties": [{"name": "setpoint", "value": 6}]}, token=None).status == 404
    assert value(d, "heater", "setpoint")["value"] == 26
    # delete: another device token may not, the owner may; a config device is 409
    assert d.delete("/v1/devices/heater", token=d.token("device")).status == 403
    assert d.delete("/v1/devices/heater", token=d.token("read")).status == 403
    assert d.delete("/v1/devices/lamp").status == 409
    r = d.delete("/v1/devices/heater", token=dev_tok)
    assert r.status == 200 and r.json() == {"id": "heater", "deleted": True}
    assert d.get("/v1/devices/heater").status == 404
    assert d.get("/v1/groups/g").json()["devices"] == ["lamp"]
    assert d.post("/v1/event/" + new, {"properties": [{"name": "setpoint", "value": 6}]}, token=None).status == 404
    d.stop(signal.SIGKILL)
    d.start()
    assert d.get("/v1/devices/heater").status == 404
    assert d.get("/v1/groups/g").json()["devices"] == ["lamp"]
    for table in ("current_values", "pending_actions", "registrations", "devices", "series"):
        assert db_rows(d, "SELECT count(*) FROM %s WHERE %s = 'heater'" % (table, "id" if table == "devices" else "device"))[0][0] == 0
    # the id can be registered again, by anyone, with fresh values
    d.register(HEATER, token=d.token("device"))
    assert value(d, "heater", "setpoint")["value"] == 21
    assert d.get("/v1/history?device=heater&property=setpoint").json()["points"] == []


def test_deleted_token_leaves_devices_working_admin_owns_them(make_daemon):
    d = make_daemon(config=FAST)
    r = d.post("/v1/tokens", {"scope": "device"})
    tok, tok_id = r.json()["token"], r.json()["id"]
    reg = d.register(HEATER, token=tok)
    assert d.delete("/v1/tokens/" + tok_id).status == 200
    assert d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "setpoint", "value": 22}]}, token=None).status == 200
    d.stop()
    d.start()
    assert d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "setpoint", "value": 24}]}, token=None).status == 200
    # admin may update it now (the same registration back) and rotate it
    r = d.post("/v1/devices", HEATER)
    assert r.status == 200 and r.json()["registration"] == reg
    assert d.post("/v1/devices", HEATER, token=d.token("device")).status == 409
    assert d.post("/v1/devices/heater/registration").status == 200


def write_legacy(data, admin_token, reg_id):
    data.mkdir(parents=True, exist_ok=True)
    (data / "admin.token").write_text(admin_token + "\n")
    os.chmod(data / "admin.token", 0o600)
    h = hashlib.sha256(admin_token.encode()).hexdigest()
    (data / "tokens.json").write_text(json.dumps({"tokens": [{"hash": h, "scope": "admin", "created": 1}]}))
    (data / "devices.json").write_text(json.dumps({"devices": [HEATER]}))
    (data / "registrations.json").write_text(json.dumps({"registrations": [
        {"registration": reg_id, "device": "heater", "owner": h}]}))
    (data / "groups.json").write_text(json.dumps({"groups": [{"id": "warm", "devices": ["heater"], "groups": []}]}))


def test_json_data_dir_imported_once(tmp_path):
    from conftest import Daemon
    admin, reg = "ab" * 32, "cd" * 16
    write_legacy(tmp_path / "data", admin, reg)
    d = Daemon(tmp_path, config=FAST)
    try:
        assert d.admin == admin
        assert d.get("/v1/groups/warm").json()["devices"] == ["heater"]
        assert d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "setpoint", "value": 19}]}, token=None).status == 200
        for name in ("tokens.json", "devices.json", "registrations.json", "groups.json"):
            assert not (d.data / name).exists() and (d.data / (name + ".imported")).exists()
        assert "imported 1 tokens, 1 registrations" in d.log()
        # the owner re-registering gets the same id back
        assert d.post("/v1/devices", HEATER).json()["registration"] == reg
        d.stop()
        d.start()
        assert "store: imported" not in d.log().split("autohomed[info] stopped")[-1]
        assert value(d, "heater", "setpoint")["value"] == 19
    finally:
        d.stop()


def test_half_written_json_stops_start_naming_the_file(tmp_path):
    from conftest import Daemon
    write_legacy(tmp_path / "data", "ab" * 32, "cd" * 16)
    (tmp_path / "data" / "groups.json").write_text('{"groups": [{"id": "warm", "dev')
    d = Daemon(tmp_path, config=FAST, start=False)
    with pytest.raises(RuntimeError) as e:
        d.start(timeout=10)
    d.proc = None
    assert "groups.json" in str(e.value)
    # nothing was taken: the files are all still there
    assert (tmp_path / "data" / "tokens.json").exists() and (tmp_path / "data" / "groups.json").exists()


def test_damaged_store_refuses_to_start_and_recover_moves_it_aside(make_daemon):
    d = make_daemon(config=FAST)
    d.register(HEATER)
    d.stop()
    db = d.data / "auto-home.db"
    raw = bytearray(db.read_bytes())
    for i in range(4096, len(raw)):
        raw[i] = (raw[i] * 7 + 13) & 0xFF
    db.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError) as e:
        d.start(timeout=10)
    d.proc = None  # it exited; nothing to stop
    msg = str(e.value)
    assert str(db) in msg and "--recover" in msg
    assert db.read_bytes() == bytes(raw)  # untouched
    # --recover: moved aside, empty store, the daemon serves again
    import subprocess
    from conftest import AUTOHOMED
    p = subprocess.Popen([AUTOHOMED, "--config", str(d.root / "config.json"), "--recover"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        out = b""
        while time.monotonic() < deadline and b"HTTP/3 listening" not in out:
            out += p.stdout.read1(4096)
        assert b"moved the damaged store to" in out, out
        assert any(n.name.startswith("auto-home.db.damaged-") for n in d.data.iterdir())
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=20) == 0
    assert db_rows(d, "PRAGMA integrity_check") == [("ok",)]


def test_store_migrates_from_every_older_schema(make_daemon, tmp_path):
    """A store left at an older schema (user_version) opens, keeps its rows and
    leaves a backup copy of the file from before the migration."""
    d = make_daemon(config=FAST)
    reg = d.register(HEATER)
    assert d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "setpoint", "value": 27}]}).status == 200
    time.sleep(0.4)
    d.stop()
    db = d.data / "auto-home.db"
    full = db.read_bytes()
    for older in (1, 2):
        for side in ("-wal", "-shm"):
            if (d.data / ("auto-home.db" + side)).exists():
                (d.data / ("auto-home.db" + side)).unlink()
        db.write_bytes(full)
        c = sqlite3.connect(str(db))
        drop = {1: ["pending_actions", "timers", "current_values", "series", "history"], 2: ["pending_actions", "timers"]}[older]
        for t in drop:
            c.execute("DROP TABLE %s" % t)
        c.execute("PRAGMA user_version = %d" % older)
        c.commit()
        c.close()
        d.start()
        assert d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "setpoint", "value": 28}]}, token=None).status == 200
        assert "migrated" in d.log()
        assert (d.data / "auto-home.db.before-v3").exists()
        d.stop()
        assert db_rows(d, "PRAGMA user_version") == [(3,)]


def test_backup_over_the_api(make_daemon, tmp_path):
    d = make_daemon(config=FAST)
    reg = d.register(HEATER)
    assert d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "setpoint", "value": 24}]}).status == 200
    time.sleep(0.4)
    assert d.get("/v1/backup", token=d.token("read")).status == 403
    r = d.get("/v1/backup", timeout=30)
    assert r.status == 200 and r.headers["content-type"] == "application/vnd.sqlite3"
    assert bytes(r.body[:16]) == b"SQLite format 3\x00"
    copy = tmp_path / "copy.db"
    copy.write_bytes(bytes(r.body))
    db = sqlite3.connect(str(copy))
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT value FROM current_values WHERE device = 'heater' AND property = 'setpoint'").fetchall() == [(24.0,)]
        assert reg.encode() not in copy.read_bytes()
    finally:
        db.close()
    assert not [n for n in os.listdir(d.data) if n.startswith(".backup-")]
