"""Runaway scripts, a full ring, restarts, signals, and interop with ngtcp2's
own client (gtlsclient)."""
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import run

RUNAWAY = {"vms": 1, "scriptTimeoutMs": 200, "devices": [
    {"id": "d", "properties": [{"name": "loop", "type": "button"}, {"name": "ok", "type": "button"}]}]}
RUNAWAY_JS = """
set("d", {
    loop_ontrigger: function () { while (true) {} },
    ok_ontrigger: function () { home.log("ok ran"); }
});
"""


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_runaway_script(make_daemon):
    d = make_daemon(config=RUNAWAY, scripts={"d.js": RUNAWAY_JS})
    before = d.status()
    t0 = time.monotonic()
    r = d.put("/v1/devices/d/properties/loop?wait=1", {"value": True})
    assert r.status == 200, r.text
    assert time.monotonic() - t0 < 5
    assert d.get("/v1/ping", token=None).status == 200
    r = d.put("/v1/devices/d/properties/ok?wait=1", {"value": True})
    assert r.status == 200 and r.json()["applied"] == [{"name": "ok", "value": True}]
    after = d.status()
    assert after["scripts"]["errors"] > before["scripts"]["errors"]
    assert after["vms"]["replaced"] > before["vms"]["replaced"]
    assert after["vms"]["busy"] == 0
    d.wait_until(lambda: "ok ran" in d.log(), what="the next handler to run")
    # the CPU returns to idle
    c0 = cpu_seconds(d.proc.pid)
    time.sleep(1.0)
    assert cpu_seconds(d.proc.pid) - c0 < 0.5


def test_full_ring_503_retry_after(make_daemon):
    cfg = {"ringSize": 2, "vms": 1, "scriptTimeoutMs": 5000,
           "devices": [{"id": "slow", "properties": [{"name": "x", "type": "button"}]}]}
    d = make_daemon(config=cfg, scripts={"slow.js": "set('slow', { x_ontrigger: function () { home.sleep(0.4); } });\n"})

    async def go():
        async with d.connect() as c:
            rs = await asyncio.gather(*[c.put("/v1/devices/slow/properties/x", {"value": True}, token=d.admin)
                                        for _ in range(6)])
            return rs
    rs = run(go())
    statuses = sorted(r.status for r in rs)
    assert statuses.count(202) >= 2 and 503 in statuses, statuses
    busy = [r for r in rs if r.status == 503]
    for r in busy:
        assert r.headers.get("retry-after") == "1"
        assert "error" in r.json()
    s = d.status()
    assert s["events"]["busy"] == len(busy) and s["ring"]["capacity"] == 2
    accepted = statuses.count(202)
    d.wait_until(lambda: d.status()["events"]["processed"] == accepted, timeout=15, what="accepted events processed")
    assert d.put("/v1/devices/slow/properties/x", {"value": True}).status == 202


def test_restart_keeps_registrations_tokens_groups_scripts(make_daemon):
    d = make_daemon()
    dev_tok = d.token("device")
    read_tok = d.token("read")
    dev = {"id": "keeper", "properties": [{"name": "on", "type": "switch"}, {"name": "t", "type": "text"}]}
    reg = d.register(dev, token=dev_tok)
    assert d.put("/v1/groups/all", {"devices": ["keeper", "lamp"]}).status == 201
    assert d.put("/v1/scripts/k.js", "set('keeper', {});\n").status == 200
    admin = d.admin
    fp = re.search(r"fingerprint ([0-9A-F:]+)", d.log()).group(1)
    assert d.stop() == 0
    d.start()
    assert d.admin == admin
    assert re.findall(r"fingerprint ([0-9A-F:]+)", d.log())[-1] == fp
    assert d.get("/v1/status", token=read_tok).status == 200
    assert "keeper" in [x["id"] for x in d.get("/v1/devices").json()["devices"]]
    r = d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "on", "value": "on"}]}, token=None)
    assert r.status == 200 and r.json()["applied"] == [{"name": "on", "value": True}]
    assert d.get("/v1/groups/all").json()["devices"] == ["keeper", "lamp"]
    assert "k.js" in [s["name"] for s in d.get("/v1/scripts").json()["scripts"]]
    # same id: same token 200 with the same registration, another token 409
    r = d.post("/v1/devices", dev, token=dev_tok)
    assert r.status == 200 and r.json()["registration"] == reg
    assert d.post("/v1/devices", dev, token=d.token("device")).status == 409
    # registration ids are secrets: the store keeps only their hash (and the
    # id sealed under an owner-only key file)
    assert reg.encode() not in (d.data / "auto-home.db").read_bytes()
    assert oct(os.stat(d.data / "registration.key").st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero(make_daemon, sig):
    d = make_daemon()
    reg = d.register({"id": "s", "properties": [{"name": "p", "type": "switch"}]})

    async def go():
        # an open action stream and a connection must not hold the exit up
        async with d.connect() as c:
            s = await c.open_stream("GET", "/v1/actions/" + reg)
            assert s.status == 200
            rc = await asyncio.get_running_loop().run_in_executor(None, d.stop, sig)
            assert rc == 0
            await asyncio.sleep(0.2)
            assert s.ended or c.terminated is not None
    run(go())
    assert "stopped" in d.log()


def test_idle_connection_many_streams(daemon):
    """Many concurrent requests on one connection, then more later."""
    async def go():
        async with daemon.connect() as c:
            rs = await asyncio.gather(*[c.get("/v1/ping") for _ in range(60)])
            assert all(r.status == 200 for r in rs)
            await asyncio.sleep(0.2)
            assert (await c.get("/v1/ping")).status == 200
    run(go())


@pytest.mark.skipif(shutil.which("gtlsclient") is None, reason="ngtcp2-client not installed")
def test_gtlsclient_interop(daemon, tmp_path):
    dl = tmp_path / "dl"
    dl.mkdir()
    url = "https://127.0.0.1:%d/v1/ping" % daemon.port
    p = subprocess.run(["gtlsclient", "-q", "--exit-on-all-streams-close", "--download=%s" % dl, "--timeout=10s",
                        "127.0.0.1", str(daemon.port), url], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    assert json.loads((dl / "ping").read_bytes()) == {"ok": True}


def test_ipv6_listen(make_daemon):
    d = make_daemon(config={"listen": "[::1]:0"})
    assert d.host == "::1"
    assert d.get("/v1/ping", token=None).json() == {"ok": True}
    assert d.get("/v1/status").status == 200
