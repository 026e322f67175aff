"""`autohome device` (SPEC §9): registration saved and reused, name=value
lines from stdin or a FIFO as events, --on-action per action with the values
in its environment, the action stream kept across a daemon restart."""
import json
import os
import time

from cli import CLI


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def device_file(tmp_path, token):
    cfg = {"token": token, "device": {"id": "shellbox", "name": "Shell box", "properties": [
        {"name": "temp", "type": "dial", "min": -40, "max": 60, "mode": "RO"},
        {"name": "relay", "type": "switch"}]}}
    p = tmp_path / "shellbox.json"
    p.write_text(json.dumps(cfg))
    return p


def test_device_events_actions_and_restart(make_daemon, tmp_path):
    d = make_daemon()
    cli = CLI(d, tmp_path / "h")
    cli.ok("status")
    dev_token = d.token("device")
    cfg = device_file(tmp_path, dev_token)
    out = tmp_path / "actions.log"
    hook = 'echo "$AUTOHOME_DEVICE relay=$AUTOHOME_VALUE_relay props=$AUTOHOME_PROPERTIES" >> %s' % out
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    proc = cli.popen("device", "--config", str(cfg), "--on-action", hook, "--input", str(fifo), env={"AUTOHOME_TOKEN": ""})
    try:
        with open(fifo, "w") as f:
            f.write("temp=21.5\n")
        wait_for(lambda: cli.json("get", "shellbox", "temp")["value"] == 21.5, what="event from the FIFO")
        # a second writer: the FIFO is reopened
        with open(fifo, "w") as f:
            f.write("temp=19\n")
        wait_for(lambda: cli.json("get", "shellbox", "temp")["value"] == 19, what="second writer")
        state = json.loads((tmp_path / "shellbox.state.json").read_text())
        assert state["id"] == "shellbox" and len(state["registration"]) >= 32
        cli.ok("set", "shellbox", "relay", "on")
        wait_for(lambda: out.exists() and "relay=true" in out.read_text(), what="--on-action")
        assert "shellbox relay=true props=relay" in out.read_text()
        # restart the daemon on the same port; the action stream comes back
        port = d.port
        d.stop()
        c = json.loads((d.root / "config.json").read_text())
        c["listen"] = "127.0.0.1:%d" % port
        (d.root / "config.json").write_text(json.dumps(c))
        d.start()
        # (whether values survive a restart is the store's business: flip
        # the relay both ways so one of them is a change either way)
        before = len(out.read_text().splitlines())

        def flipped():
            for v in ("on", "off"):
                cli.ok("set", "shellbox", "relay", v)
            time.sleep(0.5)
            return len(out.read_text().splitlines()) > before
        wait_for(flipped, timeout=60, what="action after restart")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        print("device stderr:\n" + err)
    # the saved registration is reused (no token needed then)
    cfg2 = json.loads(cfg.read_text())
    del cfg2["token"]
    cfg.write_text(json.dumps(cfg2))
    p = cli.run("device", "--config", str(cfg), input="temp=5\n", env={"AUTOHOME_TOKEN": ""})
    assert p.returncode == 0, p.stderr
    wait_for(lambda: cli.json("get", "shellbox", "temp")["value"] == 5, what="event with the saved registration")


def test_device_bad_config(make_daemon, tmp_path):
    d = make_daemon()
    cli = CLI(d, tmp_path / "h")
    p = tmp_path / "bad.json"
    p.write_text('{"device": {"id": "x"}, "colour": 1}')
    r = cli.run("device", "--config", str(p))
    assert r.returncode == 1 and "colour" in r.stderr
    assert cli.run("device").returncode == 2
