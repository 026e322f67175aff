"""Handlers that sleep in a loop (SPEC 2.8, 4): scriptTimeoutMs does not count
time inside home.sleep, scriptWallTimeoutMs bounds the whole call, a stop
works while the VM sleeps, SIGTERM ends the daemon whatever the scripts do,
and home.sleep does nothing at a script's top level.

Time bounds are one-sided where a limit can never fire early, and generous
elsewhere: the machine running these may be slow and shared."""
import asyncio
import os
import signal
import time

from conftest import run

SLEEP_LOOP = "for (;;) home.sleep(0.05);"


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def button_device(dev_id, *props):
    return {"id": dev_id, "properties": [{"name": p, "type": "button"} for p in props]}


def test_sleep_loop_handler_is_answered_and_daemon_keeps_serving(make_daemon):
    # The hardening issue's configuration: no scriptWallTimeoutMs, so its default (10 s) applies.
    cfg = {"scriptTimeoutMs": 300, "vms": 2,
           "devices": [button_device("s", "a"), button_device("other", "b")]}
    d = make_daemon(config=cfg, scripts={"s.js": "set('s', {a_ontrigger: function () { %s }});\n"
                                                  "set('other', {b_ontrigger: function () { home.log('other ran'); }});\n"
                                                  % SLEEP_LOOP})
    before = d.status()

    async def go():
        async with d.connect() as c:
            t0 = time.monotonic()
            looping = asyncio.ensure_future(c.put("/v1/devices/s/properties/a?wait=1", {"value": True},
                                                  token=d.admin, timeout=60))
            await asyncio.sleep(0.5)
            assert not looping.done()
            # meanwhile the daemon serves other devices and requests
            assert (await c.get("/v1/ping")).status == 200
            r = await c.put("/v1/devices/other/properties/b?wait=1", {"value": True}, token=d.admin)
            assert r.status == 200 and r.json()["applied"] == [{"name": "b", "value": True}]
            assert time.monotonic() - t0 < 9, "the other device waited for the sleeping handler"
            r = await looping
            return r, time.monotonic() - t0
    r, took = run(go())
    assert r.status == 200, r.text
    assert r.json()["applied"] == [{"name": "a", "value": True}], "a stopped handler counts as continueProcessing"
    assert took >= 9.5, "stopped before the 10 s wall limit (%.2f s)" % took
    assert took < 40
    after = d.status()
    assert after["scripts"]["errors"] == before["scripts"]["errors"] + 1
    assert after["vms"]["replaced"] == before["vms"]["replaced"] + 1
    assert after["vms"]["busy"] == 0
    assert after["events"]["processed"] == before["events"]["processed"] + 2
    log = d.log()
    assert "other ran" in log
    assert "s.js" in log and "ran longer than 10000 ms (scriptWallTimeoutMs)" in log, log[-2000:]
    # nothing keeps running: the CPU returns to idle
    c0 = cpu_seconds(d.proc.pid)
    time.sleep(1.0)
    assert cpu_seconds(d.proc.pid) - c0 < 0.5


def test_every_vm_sleep_looping_still_processes_other_devices(make_daemon):
    cfg = {"scriptTimeoutMs": 300, "scriptWallTimeoutMs": 1500, "vms": 2,
           "devices": [button_device("l1", "a"), button_device("l2", "a"), button_device("ok", "b")]}
    js = ("set('l1', {a_ontrigger: function () { %s }});\n"
          "set('l2', {a_ontrigger: function () { %s }});\n"
          "set('ok', {b_ontrigger: function () { home.log('ok ran'); }});\n") % (SLEEP_LOOP, SLEEP_LOOP)
    d = make_daemon(config=cfg, scripts={"loops.js": js})
    before = d.status()
    # two events per looping device: the second one must not be lost behind the first
    for dev in ("l1", "l2", "l1", "l2"):
        assert d.put("/v1/devices/%s/properties/a" % dev, {"value": True}).status == 202
    d.wait_until(lambda: d.status()["vms"]["busy"] == 2, what="both VMs busy")
    t0 = time.monotonic()
    r = d.put("/v1/devices/ok/properties/b?wait=1", {"value": True}, timeout=60)
    assert r.status == 200, r.text
    assert r.json()["applied"] == [{"name": "b", "value": True}]
    assert time.monotonic() - t0 < 30
    d.wait_until(lambda: d.status()["events"]["processed"] == before["events"]["processed"] + 5, timeout=60,
                 what="every accepted event processed")
    after = d.status()
    assert after["scripts"]["errors"] == before["scripts"]["errors"] + 4
    assert after["vms"]["replaced"] == before["vms"]["replaced"] + 4
    assert after["vms"]["busy"] == 0
    assert "ok ran" in d.log()
    assert d.log().count("(scriptWallTimeoutMs)") == 4


def test_sigterm_while_handlers_sleep_loop_exits_zero_promptly(make_daemon):
    # A wall limit far away: only the stop can end these calls.
    cfg = {"scriptTimeoutMs": 300, "scriptWallTimeoutMs": 600000, "vms": 2,
           "devices": [button_device("l1", "a"), button_device("l2", "a")]}
    js = "set('l1', {a_ontrigger: function () { %s }});\nset('l2', {a_ontrigger: function () { %s }});\n" % (
        SLEEP_LOOP, SLEEP_LOOP)
    d = make_daemon(config=cfg, scripts={"loops.js": js})

    async def go():
        async with d.connect() as c:
            # a client waits (?wait=1) on a sleeping handler while the daemon stops
            waiting = asyncio.ensure_future(c.put("/v1/devices/l1/properties/a?wait=1", {"value": True},
                                                  token=d.admin, timeout=60))
            for dev in ("l2", "l1", "l2"):
                assert (await c.put("/v1/devices/%s/properties/a" % dev, {"value": True}, token=d.admin)).status == 202
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, lambda: d.wait_until(lambda: d.status()["vms"]["busy"] == 2,
                                                                  what="both VMs busy"))
            await asyncio.sleep(0.3)
            t0 = time.monotonic()
            rc = await loop.run_in_executor(None, d.stop, signal.SIGTERM, 30)
            took = time.monotonic() - t0
            waiting.cancel()
            return rc, took
    rc, took = run(go())
    assert rc == 0, "exit %s\n%s" % (rc, d.log()[-3000:])
    assert took < 8, "SIGTERM took %.1f s" % took
    log = d.log()
    assert "stopping" in log and "stopped" in log.rsplit("stopping", 1)[1]
    assert "the daemon is stopping" in log


def test_upload_after_top_level_sleep_returns_promptly(make_daemon):
    # A top-level home.sleep does nothing: not at start-up (every VM loads the
    # scripts), not in an upload's scratch VM, not when VMs move to a new generation.
    t0 = time.monotonic()
    d = make_daemon(config={"vms": 4}, scripts={"slow.js": "home.sleep(5);\nhome.log('slow loaded');\n"})
    assert time.monotonic() - t0 < 12, "start-up slept"
    t0 = time.monotonic()
    r = d.put("/v1/scripts/sleepy.js", "home.sleep(5);\n(function () { home.sleep(5); })();\n")
    assert r.status == 200, r.text
    assert time.monotonic() - t0 < 4, "the upload of a sleeping top level took %.1f s" % (time.monotonic() - t0)
    t0 = time.monotonic()
    r = d.put("/v1/scripts/lamp.js", "set('lamp', {power_onchange: function (v) { home.sleep(0.2); home.log('power ' + v); }});\n")
    assert r.status == 200, r.text
    assert time.monotonic() - t0 < 4, "a later upload took %.1f s" % (time.monotonic() - t0)
    # the VMs load the new generation without sleeping; a handler's sleep still sleeps
    t0 = time.monotonic()
    r = d.put("/v1/devices/lamp/properties/power?wait=1", {"value": "on"})
    took = time.monotonic() - t0
    assert r.status == 200 and r.json()["applied"] == [{"name": "power", "value": True}], r.text
    assert 0.19 <= took < 4, took
    d.wait_until(lambda: "power true" in d.log(), what="the handler's log line")
    assert d.status()["scripts"]["errors"] == 0
