"""Starts the real autohomed for the black-box tests.

    AUTOHOMED=.build/debug/autohomed python3 -m pytest -q Tests/blackbox

Each daemon gets a temp data folder, a config listening on 127.0.0.1 port 0
(the kernel picks a free UDP port; we read it from the log line
"HTTP/3 listening on 127.0.0.1:N") and its own scripts. The admin token is
read from <dataDir>/admin.token, as a user would.
"""
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from h3client import connect_h3, request_sync  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
AUTOHOMED = os.environ.get("AUTOHOMED") or os.path.join(HERE, "..", "..", ".build", "debug", "autohomed")

# Devices every default daemon has (config devices: not registrable over the API).
BASE_DEVICES = [
    {"id": "lamp", "name": "Lamp", "properties": [
        {"name": "power", "type": "switch", "value": "off"},
        {"name": "level", "type": "dial", "min": 0, "max": 100},
        {"name": "watts", "type": "dial", "mode": "RO", "min": 0, "max": 5000},
        {"name": "note", "type": "text", "mode": "WO"},
    ]},
    {"id": "hall", "name": "Hall", "properties": [{"name": "motion", "type": "button"}]},
]


class Daemon:
    def __init__(self, root, config=None, scripts=None, start=True):
        self.root = root
        self.data = root / "data"
        self.scripts_dir = self.data / "scripts"
        self.scripts_dir.mkdir(parents=True, exist_ok=True)
        cfg = {"listen": "127.0.0.1:0", "dataDir": str(self.data), "devices": BASE_DEVICES, "logLevel": "info"}
        cfg.update(config or {})
        self.config = cfg
        (root / "config.json").write_text(json.dumps(cfg, indent=1))
        for name, src in (scripts or {}).items():
            (self.scripts_dir / name).write_text(src)
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        self.runs = 0
        if start:
            self.start()

    @property
    def log_path(self):
        return self.root / ("daemon-%d.log" % self.runs)

    def start(self, timeout=20):
        self.runs += 1
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([AUTOHOMED, "--config", str(self.root / "config.json")],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(r"HTTP/3 listening on \[?([0-9a-f.:]+?)\]?:(\d+)$", self.log_path.read_text(), re.M)
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                if self.host in ("0.0.0.0", "::"):
                    self.host = "127.0.0.1"
                break
            if self.proc.poll() is not None:
                raise RuntimeError("autohomed exited %s:\n%s" % (self.proc.returncode, self.log()))
            time.sleep(0.05)
        else:
            raise RuntimeError("autohomed did not start listening:\n" + self.log())
        self.admin = (self.data / "admin.token").read_text().strip()
        return self

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "hung"
        self.log_file.close()
        self.proc = None
        return rc

    def log(self):
        return "".join((self.root / ("daemon-%d.log" % i)).read_text()
                       for i in range(1, self.runs + 1) if (self.root / ("daemon-%d.log" % i)).exists())

    # one-off requests (a new QUIC connection each)
    def call(self, method, path, body=None, token="admin", headers=(), timeout=15):
        tok = self.admin if token == "admin" else token
        return request_sync(self.host, self.port, method, path, body, tok, headers, timeout)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def status(self):
        r = self.get("/v1/status")
        assert r.status == 200, r.text
        return r.json()

    def token(self, scope):
        r = self.post("/v1/tokens", {"scope": scope})
        assert r.status == 201, r.text
        return r.json()["token"]

    def register(self, device, token="admin"):
        r = self.post("/v1/devices", device, token=token)
        assert r.status in (200, 201), r.text
        return r.json()["registration"]

    def connect(self):
        return connect_h3(self.host, self.port)

    def wait_until(self, pred, timeout=10, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return
            time.sleep(0.05)
        raise AssertionError("timed out waiting for " + what)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """A shared daemon for tests that do not care about the others' state."""
    d = Daemon(tmp_path_factory.mktemp("d"))
    yield d
    rc = d.stop()
    assert rc == 0, "exit %s\n%s" % (rc, d.log()[-4000:])


@pytest.fixture
def make_daemon(tmp_path):
    """Factory for a private daemon; stopped (and checked) at the end."""
    made = []

    def make(config=None, scripts=None, sub="p"):
        root = tmp_path / ("%s%d" % (sub, len(made)))
        root.mkdir()
        d = Daemon(root, config, scripts)
        made.append(d)
        return d
    yield make
    for d in made:
        rc = d.stop()
        assert rc in (0, None), "exit %s\n%s" % (rc, d.log()[-4000:])
