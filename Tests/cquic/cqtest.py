"""Shared pieces of the CQuic tests: the echo_server process and the aioquic
HTTP/3 client of Tests/blackbox/h3client.py (not a test module itself)."""
import asyncio
import json
import os
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "blackbox"))
from h3client import H3Client, client_config, connect_h3  # noqa: E402

SERVER = os.environ.get("ECHO_SERVER", os.path.join(HERE, "..", "..", ".build-cquic", "echo_server"))
WRAPPER = shlex.split(os.environ.get("ECHO_WRAPPER", ""))
SLOW = 4 if os.environ.get("CQ_SLOW") else 1
MAX_BODY = 1 << 20


class Server:
    def __init__(self, tmp_path, *args, env=None):
        """env: extra environment (the CQ_TEST_* knobs of the test build)."""
        self.dir = tmp_path
        cmd = WRAPPER + [SERVER, "--dir", str(tmp_path), "--port", "0"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(tmp_path / "stderr.log", "w"), text=True,
                                     env=dict(os.environ, **(env or {})))
        self.port = int(self._line("PORT"))
        self.fingerprint = self._line("FP")

    def _line(self, key):
        line = self.proc.stdout.readline()
        assert line.startswith(key + " "), f"echo_server said {line!r}; see {self.dir}/stderr.log"
        return line.split(" ", 1)[1].strip()

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "hung"

    def log(self):
        return (self.dir / "stderr.log").read_text()


class Client(H3Client):
    content_type = None  # echo_server requests carry only the headers a test gives
    timeout = 20
    timeout_scale = SLOW


def run(coro):
    return asyncio.run(coro)


def h3(host, port, **kw):
    # aioquic's default receive windows (1 MiB), as these tests always had
    cfg = client_config(max_stream_data=1 << 20, max_data=1 << 20)
    return connect_h3(host, port, configuration=cfg, protocol=Client, **kw)


async def stats(port):
    async with h3("127.0.0.1", port) as c:
        r = await c.request("GET", "/stats")
        return json.loads(r.body)


async def eventually(pred, timeout=10):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if await pred():
            return True
        await asyncio.sleep(0.2)
    return False
