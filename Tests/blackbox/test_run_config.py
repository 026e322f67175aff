"""`make run`'s config (scripts/make-run-config.sh): LISTEN applies also when
run/config.json already exists, and the run says which file it uses."""
import json
import os
import subprocess

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "make-run-config.sh")


def make(tmp_path, listen=None):
    env = dict(os.environ)
    env.pop("LISTEN", None)
    if listen:
        env["LISTEN"] = listen
    p = subprocess.run([SCRIPT, str(tmp_path / "run")], capture_output=True, text=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_listen_applies_to_an_existing_config(tmp_path):
    out = make(tmp_path)
    cfg = tmp_path / "run" / "config.json"
    assert json.loads(cfg.read_text())["listen"] == "127.0.0.1:4242" and "wrote" in out
    # the user edits the file; a later LISTEN changes only "listen"
    data = json.loads(cfg.read_text())
    data["logLevel"] = "debug"
    cfg.write_text(json.dumps(data))
    out = make(tmp_path, "0.0.0.0:4243")
    data = json.loads(cfg.read_text())
    assert data["listen"] == "0.0.0.0:4243" and data["logLevel"] == "debug"
    assert "listen changed from 127.0.0.1:4242 to 0.0.0.0:4243" in out
    # without LISTEN the file is kept and named
    out = make(tmp_path)
    assert "using %s (listen 0.0.0.0:4243)" % cfg in out
