"""A small HTTP/3 client over aioquic for the black-box tests (and for poking
at a running autohomed by hand).

    async with connect_h3("127.0.0.1", port) as c:
        r = await c.request("GET", "/v1/status", token=tok)
        r.status, r.headers["content-type"], r.json()
        s = c.open_stream("GET", f"/v1/actions/{reg}")   # response stays open
        line = await s.next_json(timeout=5)               # one NDJSON line

    request_sync("127.0.0.1", port, "GET", "/v1/ping")    # one-off, blocking

The server certificate is self-signed, so verification is off; pinning is
the CLI's business, not these tests'.

    python3 h3client.py [--token T] [--data BODY] PORT METHOD PATH
"""
import asyncio
import contextlib
import json
import ssl
import sys
import time

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated


class Response:
    """One response; for open streams, `lines` fills as data arrives."""

    def __init__(self, stream_id):
        self.stream_id = stream_id
        self.status = None
        self.headers = {}
        self.body = bytearray()
        self.ended = False
        loop = asyncio.get_running_loop()
        self.done = loop.create_future()
        self.headers_seen = loop.create_future()
        for f in (self.done, self.headers_seen):
            # a connection that closes fails both; nobody may be waiting
            f.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._data = asyncio.Event()
        self._pos = 0  # read position for next_line

    def json(self):
        return json.loads(bytes(self.body))

    @property
    def text(self):
        return bytes(self.body).decode()

    def _feed(self, data):
        self.body += data
        self._data.set()

    async def next_line(self, timeout=10.0, skip_blank=True):
        """The next complete line of an open stream (without the newline)."""
        deadline = time.monotonic() + timeout
        while True:
            nl = self.body.find(b"\n", self._pos)
            if nl >= 0:
                line = bytes(self.body[self._pos:nl])
                self._pos = nl + 1
                if skip_blank and not line.strip():
                    continue  # heartbeat
                return line.decode()
            if self.ended:
                raise EOFError("stream ended")
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError("no line within %.1fs" % timeout)
            self._data.clear()
            try:
                await asyncio.wait_for(self._data.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def next_json(self, timeout=10.0):
        return json.loads(await self.next_line(timeout))


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
                r.ended = True
                r._data.set()
                for f in (r.done, r.headers_seen):
                    if not f.done():
                        f.set_exception(ConnectionError("connection closed: %#x %s" % (event.error_code, event.reason_phrase)))
        for ev in self.h3.handle_event(event):
            r = self.responses.get(ev.stream_id)
            if r is None:
                continue
            if isinstance(ev, HeadersReceived):
                r.headers.update({k.decode(): v.decode() for k, v in ev.headers})
                r.status = int(r.headers[":status"])
                if not r.headers_seen.done():
                    r.headers_seen.set_result(r)
            elif isinstance(ev, DataReceived) and ev.data:
                r._feed(ev.data)
            if getattr(ev, "stream_ended", False):
                r.ended = True
                r._data.set()
                if not r.done.done():
                    r.done.set_result(r)

    def start(self, method, path, body=None, headers=(), token=None):
        """Sends a request; returns its Response without waiting."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        sid = self._quic.get_next_available_stream_id()
        hdrs = [(b":method", method.encode()), (b":scheme", b"https"),
                (b":authority", b"localhost"), (b":path", path.encode())]
        if token is not None:
            hdrs.append((b"authorization", ("Bearer " + token).encode()))
        if body is not None:
            hdrs.append((b"content-type", b"application/json"))
        hdrs += [(k.lower().encode(), v.encode()) for k, v in headers]
        r = self.responses[sid] = Response(sid)
        self.h3.send_headers(sid, hdrs, end_stream=body is None)
        if body is not None:
            self.h3.send_data(sid, body, end_stream=True)
        self.transmit()
        return r

    async def request(self, method, path, body=None, headers=(), token=None, timeout=15.0):
        r = self.start(method, path, body, headers, token)
        try:
            return await asyncio.wait_for(asyncio.shield(r.done), timeout)
        finally:
            if r.done.done():
                self.responses.pop(r.stream_id, None)

    async def open_stream(self, method, path, token=None, timeout=10.0):
        """Starts a request whose response stays open; returns once headers came."""
        r = self.start(method, path, None, (), token)
        await asyncio.wait_for(asyncio.shield(r.headers_seen), timeout)
        return r

    def cancel(self, r):
        """Closes an open stream from our side (reset + stop sending)."""
        with contextlib.suppress(Exception):
            self._quic.reset_stream(r.stream_id, 0x10C)  # H3_REQUEST_CANCELLED
            self._quic.stop_stream(r.stream_id, 0x10C)
        self.responses.pop(r.stream_id, None)
        self.transmit()

    # shorthands
    async def get(self, path, **kw):
        return await self.request("GET", path, **kw)

    async def post(self, path, body=None, **kw):
        return await self.request("POST", path, body, **kw)

    async def put(self, path, body=None, **kw):
        return await self.request("PUT", path, body, **kw)

    async def delete(self, path, **kw):
        return await self.request("DELETE", path, **kw)


def client_config(idle_timeout=30.0):
    return QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, verify_mode=ssl.CERT_NONE,
                             server_name="localhost", idle_timeout=idle_timeout,
                             max_stream_data=4 << 20, max_data=16 << 20)


def connect_h3(host, port, **kw):
    """`async with connect_h3(host, port) as client:`"""
    return connect(host, port, configuration=client_config(), create_protocol=H3Client,
                   wait_connected=True, **kw)


def request_sync(host, port, method, path, body=None, token=None, headers=(), timeout=15.0):
    async def go():
        async with connect_h3(host, port) as c:
            return await c.request(method, path, body, headers, token, timeout)
    return asyncio.run(go())


if __name__ == "__main__":
    args = sys.argv[1:]
    tok = data = None
    while args and args[0].startswith("--"):
        if args[0] == "--token":
            tok = args[1]
        elif args[0] == "--data":
            data = args[1]
        args = args[2:]
    port, method, path = int(args[0]), args[1], args[2]
    resp = request_sync("127.0.0.1", port, method, path, data, tok)
    print(resp.status, resp.headers.get("content-type", ""))
    print(resp.text)
