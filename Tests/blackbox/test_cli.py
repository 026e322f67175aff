"""`autohome` (SPEC §9) against a real daemon: every owner command, --json,
exit codes (2 usage, 3 unreachable / certificate refused, 4 unauthorised,
5 not found), trust on first use, and streams across a daemon restart."""
import json
import os
import queue
import re
import threading
import time

import pytest

from cli import CLI


@pytest.fixture
def cli(daemon, tmp_path):
    return CLI(daemon, tmp_path / "home")


def fingerprint(daemon):
    m = re.search(r"SHA-256 fingerprint ([0-9A-F:]+)", daemon.log())
    return m.group(1)


def test_help_for_every_command(cli):
    top = cli.ok("--help").stdout
    names = re.findall(r"^  ([a-z-]+(?: (?:list|get|push|rm|new))?)", top, re.M)
    assert {"status", "devices", "get", "set", "send", "rm-device", "scripts push", "history", "logs", "watch",
            "tokens new", "bench", "device"} <= set(names), names
    for n in names:
        h = cli.ok(*n.split(), "--help").stdout
        assert h.startswith("usage: autohome") and "examples:" in h, (n, h)


def test_usage_errors_exit_2(cli):
    assert cli.run("frobnicate").returncode == 2
    assert cli.run("get", "lamp").returncode == 2
    assert cli.run("status", "--bogus").returncode == 2
    p = cli.run("--server", "host:notaport", "status")
    assert p.returncode == 2 and "port" in p.stderr


def test_status_and_tofu(cli, daemon):
    p = cli.ok("status")
    assert "events:" in p.stdout and "VMs:" in p.stdout
    # first contact: fingerprint printed and stored
    fp = fingerprint(daemon).replace(":", "").lower()
    assert fp in p.stderr
    known = (cli.home / ".config/auto-home/known_servers").read_text()
    assert known.strip() == "%s:%d sha256:%s" % (daemon.host, daemon.port, fp)
    # second time: silent
    assert cli.ok("status").stderr == ""
    s = cli.json("status")
    assert set(s) >= {"version", "events", "ring", "vms", "scripts", "memory"}


def test_json_is_one_line_per_answer(cli):
    # --json prints the body as it came, one JSON document per line with no
    # blank line after it, so `autohome --json X | ...` and transcripts in the
    # docs see exactly the server's line.
    for args in (("status",), ("devices",), ("tokens", "list"), ("scripts", "list")):
        out = cli.ok("--json", *args).stdout
        assert out.endswith("}\n") and out.count("\n") == 1, (args, out)
        json.loads(out)


def test_pin_up_front_and_mismatch_refused(cli, daemon):
    fp = fingerprint(daemon)
    cli.ok("--pin", "sha256:" + fp, "status")  # the daemon log's colon form
    bad = "sha256:" + "00" * 32
    p = cli.run("--pin", bad, "status")
    assert p.returncode == 3
    assert bad in p.stderr and fp.replace(":", "").lower() in p.stderr
    # a stored pin that no longer matches: refused, with how to accept the new one
    kn = cli.home / ".config/auto-home/known_servers"
    kn.write_text("%s:%d %s\n" % (daemon.host, daemon.port, bad))
    p = cli.run("status")
    assert p.returncode == 3 and "--pin sha256:" in p.stderr, p.stderr
    accept = re.search(r"(autohome --server \S+ --pin sha256:[0-9a-f]{64} status)", p.stderr).group(1)
    cli.ok(*accept.split()[1:])
    assert fp.replace(":", "").lower() in kn.read_text()
    cli.ok("status")


def test_unreachable_exit_3(daemon, tmp_path):
    c = CLI(daemon, tmp_path / "h")
    p = c.run("--server", "127.0.0.1:9", "status", timeout=60)
    assert p.returncode == 3, p.stderr
    p = c.run("--server", "no-such-host.invalid", "status", timeout=60)
    assert p.returncode == 3 and "resolve" in p.stderr


def test_auth_exit_codes(daemon, tmp_path):
    assert CLI(daemon, tmp_path / "a", token="nope").run("status").returncode == 4
    read = daemon.token("read")
    r = CLI(daemon, tmp_path / "b", token=read)
    r.ok("devices")
    p = r.run("set", "lamp", "power", "on")
    assert p.returncode == 4 and "403" in p.stderr
    assert CLI(daemon, tmp_path / "c").run("devices", "nope").returncode == 5
    assert CLI(daemon, tmp_path / "c").run("get", "lamp", "nope").returncode == 5


def test_devices_get_set(cli):
    out = cli.ok("devices").stdout
    assert "lamp" in out and "hall" in out
    cli.ok("set", "lamp", "power", "on")
    assert cli.ok("get", "lamp", "power").stdout.strip() == "on"
    cli.ok("set", "lamp", "level", "140")
    assert cli.ok("get", "lamp", "level").stdout.strip() == "100"  # clamped
    p = cli.json("get", "lamp", "level")
    assert p["value"] == 100 and p["type"] == "dial"
    d = cli.json("devices", "lamp")
    assert d["id"] == "lamp"
    assert "level" in cli.ok("devices", "lamp").stdout
    p = cli.run("set", "lamp", "level", "banana")
    assert p.returncode == 1 and "400" in p.stderr
    assert cli.run("set", "lamp", "watts", "5").returncode == 1  # RO: 409


def test_send_rm_device(cli, daemon):
    reg = daemon.register({"id": "cli-sensor", "name": "S", "properties": [
        {"name": "temp", "type": "dial", "min": -40, "max": 60}, {"name": "note", "type": "text"}]})
    out = cli.ok("send", reg, "temp=21.5", "note=123").stdout
    assert "applied  temp = 21.5" in out and "applied  note = 123" in out
    j = cli.json("send", reg, "temp:=22")
    assert j["applied"] == [{"name": "temp", "value": 22}]
    assert cli.ok("get", "cli-sensor", "note").stdout.strip() == "123"
    assert cli.run("send", "0" * 32, "temp=1").returncode == 5
    p = cli.run("rm-device", "cli-sensor")
    if "405" in p.stderr:  # DELETE /v1/devices/<id> has not landed in this daemon yet
        assert p.returncode == 1
        return
    assert p.returncode == 0, p.stderr
    assert cli.run("devices", "cli-sensor").returncode == 5
    assert cli.run("rm-device", "cli-sensor").returncode == 5


def test_scripts_push_bundle_errors_and_warnings(cli, tmp_path):
    a = tmp_path / "cli_a.js"
    b = tmp_path / "sub" / "cli_b.js"
    b.parent.mkdir()
    a.write_text('set("lamp", { power_onchange: function (v) { home.log("a " + v); } });\n')
    b.write_text('var x = 1;\nset("lamp", { nosuch_onchange: function () {} });\n')
    j = cli.json("scripts", "push", str(a), str(b))
    if j.get("warnings"):  # warnings come with the authoring work
        p = cli.ok("scripts", "push", str(a), str(b))
        assert re.search(r"sub/cli_b\.js:2: warning: ", p.stderr), p.stderr
    names = [s["name"] for s in cli.json("scripts", "list")["scripts"]]
    assert "cli_a.js" in names and "cli_b.js" in names
    assert cli.ok("scripts", "get", "cli_a.js").stdout == a.read_text()
    gen = cli.json("scripts", "list")["generation"]
    # a bundle with one broken file: nothing changes, error as file:line: message
    c = tmp_path / "cli_c.js"
    c.write_text("var ok = 1;\nvar = broken;\n")
    a.write_text("// changed\n")
    p = cli.run("scripts", "push", str(a), str(c))
    assert p.returncode == 1
    assert re.search(r"^%s:2: " % re.escape(str(c)), p.stderr, re.M), p.stderr
    assert cli.json("scripts", "list")["generation"] == gen
    assert "changed" not in cli.ok("scripts", "get", "cli_a.js").stdout
    cli.ok("scripts", "rm", "cli_b.js")
    cli.ok("scripts", "rm", "cli_a.js")
    assert cli.run("scripts", "rm", "cli_a.js").returncode == 5
    assert cli.run("scripts", "push", str(tmp_path / "missing.js")).returncode == 1


def test_tokens(cli, daemon):
    tok = cli.ok("tokens", "new", "read").stdout.strip()
    assert len(tok) >= 32
    lst = cli.json("tokens", "list")["tokens"]
    assert any(t["scope"] == "read" for t in lst)
    mine = CLI(daemon, cli.home.parent / "t", token=tok)
    mine.ok("status")
    ids = [t["id"] for t in lst if t["scope"] == "read"]
    for i in ids:
        cli.ok("tokens", "rm", i)
    assert mine.run("status").returncode == 4
    assert cli.run("tokens", "new", "root").returncode == 1


def test_history_chart_and_json(cli):
    for v in (10, 30, 20):
        cli.ok("set", "lamp", "level", str(v))
    p = cli.ok("history", "lamp", "level", env={"COLUMNS": "60"})
    lines = p.stdout.splitlines()
    assert lines[0].startswith("lamp.level:")
    assert any("█" in l or "▄" in l for l in lines)
    assert max(len(l) for l in lines) <= 60
    assert re.search(r"\d\d:\d\d:\d\d", lines[-1])  # the time axis
    pts = cli.json("history", "lamp", "level", "--since", "1h")["points"]
    assert [p["value"] for p in pts][:3] == [20, 30, 10]
    assert cli.run("history", "lamp", "level", "--since", "yesterday-ish").returncode == 2


def test_logs_says_plainly_when_missing(cli, daemon):
    p = cli.run("logs")
    if p.returncode != 0:  # until /v1/logs lands
        assert "does not serve its logs" in p.stderr and p.returncode in (1, 5)


def collect(proc, q):
    for line in proc.stdout:
        q.put(line.rstrip("\n"))


def wait_line(q, pred, timeout=30):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if pred(line):
            return line
    raise AssertionError("no matching line; saw %r" % seen)


def test_watch_across_restart(make_daemon, tmp_path):
    d = make_daemon()
    cli = CLI(d, tmp_path / "w")
    cli.ok("status")
    port = d.port
    w = cli.popen("watch")
    q = queue.Queue()
    threading.Thread(target=collect, args=(w, q), daemon=True).start()
    try:
        time.sleep(1)
        cli.ok("set", "lamp", "level", "42")
        wait_line(q, lambda l: l.endswith("lamp.level = 42"))
        cli.ok("set", "lamp", "power", "on")
        wait_line(q, lambda l: l.endswith("lamp.power = on"))
        # restart on the same port: watch reconnects by itself
        d.stop()
        cfg = json.loads((d.root / "config.json").read_text())
        cfg["listen"] = "127.0.0.1:%d" % port
        (d.root / "config.json").write_text(json.dumps(cfg))
        d.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            cli.ok("set", "lamp", "level", "7")
            try:
                wait_line(q, lambda l: l.endswith("lamp.level = 7"), timeout=2)
                break
            except AssertionError:
                cli.ok("set", "lamp", "level", "8")
        else:
            raise AssertionError("watch did not come back")
    finally:
        w.terminate()
        w.wait(timeout=10)


def test_watch_json_lines(cli):
    w = cli.popen("--json", "watch", "lamp")
    q = queue.Queue()
    threading.Thread(target=collect, args=(w, q), daemon=True).start()
    try:
        time.sleep(1)
        cli.ok("set", "lamp", "level", "55")
        line = wait_line(q, lambda l: '"level"' in l)
        j = json.loads(line)
        assert j["device"] == "lamp" and j["property"] == "level" and j["value"] == 55 and j["time"] > 0
    finally:
        w.terminate()
        w.wait(timeout=10)


def test_bench_small_run(cli):
    j = cli.json("bench", "--connections", "2", "--streams", "4", "--count", "400")
    assert j["events"] == 400 and j["errors"] == {}
    assert j["p50Ms"] > 0 and j["eventsPerSecond"] > 0
    j = cli.json("bench", "--rate", "200", "--duration", "1", "--connections", "1", "--streams", "4")
    assert j["events"] > 0

