"""Shared pieces of the CQuic tests: the echo_server process and an aioquic
HTTP/3 client (not a test module itself)."""
import asyncio
import json
import os
import shlex
import signal
import ssl
import subprocess
import time

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, StopSendingReceived, StreamReset

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.environ.get("ECHO_SERVER", os.path.join(HERE, "..", "..", ".build-cquic", "echo_server"))
WRAPPER = shlex.split(os.environ.get("ECHO_WRAPPER", ""))
SLOW = 4 if os.environ.get("CQ_SLOW") else 1
MAX_BODY = 1 << 20


class Server:
    def __init__(self, tmp_path, *args):
        self.dir = tmp_path
        cmd = WRAPPER + [SERVER, "--dir", str(tmp_path), "--port", "0"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(tmp_path / "stderr.log", "w"), text=True)
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


class Response:
    def __init__(self):
        self.headers = {}
        self.status = None
        self.body = bytearray()
        self.chunks = []  # (monotonic time, bytes)
        self.reset_code = None  # the server reset its response (RESET_STREAM)
        self.stop_code = None   # the server asked us to stop sending (STOP_SENDING)
        self.done = asyncio.get_running_loop().create_future()


class H3Client(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.responses = {}
        self.terminated = None

    def quic_event_received(self, event):
        if isinstance(event, ConnectionTerminated):
            self.terminated = event
            for r in self.responses.values():
                if not r.done.done():
                    r.done.set_exception(ConnectionError(f"terminated: {event.error_code:#x}"))
        r = self.responses.get(getattr(event, "stream_id", None))
        if r is not None and isinstance(event, StopSendingReceived):
            r.stop_code = event.error_code
        if r is not None and isinstance(event, StreamReset):
            r.reset_code = event.error_code
            if not r.done.done():
                r.done.set_result(r)
        for ev in self.h3.handle_event(event):
            r = self.responses.get(ev.stream_id)
            if r is None:
                continue
            if isinstance(ev, HeadersReceived):
                r.headers.update({k.decode(): v.decode() for k, v in ev.headers})
                r.status = int(r.headers[":status"])
            elif isinstance(ev, DataReceived):
                r.body += ev.data
                if ev.data:
                    r.chunks.append((time.monotonic(), ev.data))
            if getattr(ev, "stream_ended", False) and not r.done.done():
                r.done.set_result(r)

    def start(self, method, path, body=None, headers=()):
        sid = self._quic.get_next_available_stream_id()
        hdrs = [(b":method", method.encode()), (b":scheme", b"https"),
                (b":authority", b"localhost"), (b":path", path.encode())]
        hdrs += [(k.encode(), v.encode()) for k, v in headers]
        self.h3.send_headers(sid, hdrs, end_stream=body is None)
        if body is not None:
            self.h3.send_data(sid, body, end_stream=True)
        r = self.responses[sid] = Response()
        r.stream_id = sid
        self.transmit()
        return r

    async def request(self, method, path, body=None, headers=(), timeout=20):
        r = self.start(method, path, body, headers)
        return await asyncio.wait_for(r.done, timeout * SLOW)


def client_config():
    cfg = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, verify_mode=ssl.CERT_NONE,
                            server_name="localhost", idle_timeout=30)
    return cfg


def run(coro):
    return asyncio.run(coro)


def h3(host, port, **kw):
    return connect(host, port, configuration=client_config(), create_protocol=H3Client, **kw)


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
