"""The one HTTP/3 client over aioquic of this repository: the black-box tests,
the CQuic tests (Tests/cquic/cqtest.py), the appliance boot test
(scripts/image-test.py) and the load generator (scripts/bench_h3_client.py)
all use it, and it pokes at a running autohomed by hand.

    async with connect_h3("127.0.0.1", port) as c:
        r = await c.request("GET", "/v1/status", token=tok)
        r.status, r.headers["content-type"], r.json()
        s = await c.open_stream("GET", f"/v1/actions/{reg}")  # response stays open
        line = await s.next_json(timeout=5)                   # one NDJSON line
        r = c.start("POST", "/echo", b"...")                  # sent, not awaited
        await r.done; r.chunks, r.reset_code, r.stop_code

    request_sync("127.0.0.1", port, "GET", "/v1/ping")    # one-off, blocking

The server certificate is self-signed, so verification is off; pinning is
the CLI's business, not these tests'.

    python3 h3client.py [--token T] [--data BODY] PORT METHOD PATH
    python3 h3client.py [--token T] --stream PORT GET PATH   # an open stream, line by line until Ctrl-C
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
from aioquic.quic.events import ConnectionTerminated, StopSendingReceived, StreamReset

H3_REQUEST_CANCELLED = 0x10C


class Response:
    """One response, filled as it arrives.

    status, headers (with ":status"), body; chunks: (monotonic time, bytes)
    per DATA frame; reset_code once the server reset it (RESET_STREAM),
    stop_code once it asked us to stop sending (STOP_SENDING).  `done`
    resolves (to the Response) at the end of the stream or at a reset, and
    fails with ConnectionError if the connection closes.  For open streams,
    next_line/next_json read the body as it fills."""

    # lean on purpose: the load generator makes one per request
    __slots__ = ("stream_id", "status", "headers", "body", "chunks", "reset_code", "stop_code",
                 "ended", "done", "_wake", "_pos")

    def __init__(self, stream_id=None):
        self.stream_id = stream_id
        self.status = None
        self.headers = {}
        self.body = bytearray()
        self.chunks = []
        self.reset_code = None
        self.stop_code = None
        self.ended = False
        self.done = asyncio.get_running_loop().create_future()
        self._wake = None  # an asyncio.Event while someone waits for more
        self._pos = 0  # read position for next_line

    def json(self):
        return json.loads(bytes(self.body))

    @property
    def text(self):
        return bytes(self.body).decode()

    def _changed(self):
        if self._wake is not None:
            self._wake.set()

    def _feed(self, data):
        self.body += data
        self.chunks.append((time.monotonic(), data))
        self._changed()

    def _end(self):
        self.ended = True
        self._changed()
        if not self.done.done():
            self.done.set_result(self)

    def _fail(self, exc):
        self.ended = True
        self._changed()
        if not self.done.done():
            self.done.set_exception(exc)
            self.done.exception()  # nobody may be waiting: no "exception was never retrieved"

    async def _wait(self, deadline, what):
        """Waits until something arrives (or the stream ends), at most until deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise asyncio.TimeoutError("no %s within the timeout" % what)
        self._wake = asyncio.Event()
        try:
            await asyncio.wait_for(self._wake.wait(), left)
        except asyncio.TimeoutError:
            pass
        finally:
            self._wake = None

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
            await self._wait(deadline, "line")

    async def next_json(self, timeout=10.0):
        return json.loads(await self.next_line(timeout))

    async def wait_headers(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while self.status is None:
            if self.ended:
                self.done.result()  # raises if the connection closed
                raise ConnectionResetError("stream ended before headers")
            await self._wait(deadline, "headers")
        return self


class H3Client(QuicConnectionProtocol):
    """A client connection.  A subclass may change the class attributes:
    `authority` (:authority of every request), `content_type` (sent with a
    body unless the request's headers give one; None: not sent), `timeout`
    (request()'s default, seconds) and `timeout_scale` (every request()
    timeout is multiplied by it: slow runs under valgrind)."""

    authority = "localhost"
    content_type = "application/json"
    timeout = 15.0
    timeout_scale = 1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        # stream id -> Response, kept after the end (a STOP_SENDING may come
        # later) until cancel() or the caller drops it: a long-lived
        # connection pops what it is done with
        self.responses = {}
        self.terminated = None  # the ConnectionTerminated event

    def quic_event_received(self, event):
        if isinstance(event, ConnectionTerminated):
            self.terminated = event
            for r in list(self.responses.values()):
                r._fail(ConnectionError("connection closed: %#x %s" % (event.error_code, event.reason_phrase)))
        elif isinstance(event, (StreamReset, StopSendingReceived)):
            r = self.responses.get(event.stream_id)
            if r is not None:
                if isinstance(event, StopSendingReceived):
                    r.stop_code = event.error_code
                else:
                    r.reset_code = event.error_code
                    r._end()
        for ev in self.h3.handle_event(event):
            r = self.responses.get(ev.stream_id)
            if r is None:
                continue
            if isinstance(ev, HeadersReceived):
                for k, v in ev.headers:
                    r.headers[k.decode()] = v.decode()
                r.status = int(r.headers[":status"])
                r._changed()
            elif isinstance(ev, DataReceived) and ev.data:
                r._feed(ev.data)
            if getattr(ev, "stream_ended", False):
                r._end()

    def begin(self, method, path, headers=(), token=None, end_stream=True, content_type=None):
        """Sends a request's headers (the body, if any, follows with
        self.h3.send_data); returns its Response.  content_type is sent
        unless headers has one."""
        if self.terminated is not None:
            raise ConnectionError("connection closed: %#x" % self.terminated.error_code)
        sid = self._quic.get_next_available_stream_id()
        hdrs = [(b":method", method.encode()), (b":scheme", b"https"),
                (b":authority", self.authority.encode()), (b":path", path.encode())]
        if token is not None:
            hdrs.append((b"authorization", ("Bearer " + token).encode()))
        if headers:
            extra = [(k.lower().encode(), v.encode()) for k, v in headers]
            hdrs += extra
            if any(k == b"content-type" for k, _ in extra):
                content_type = None
        if content_type:
            hdrs.append((b"content-type", content_type.encode()))
        r = Response(sid)
        self.responses[sid] = r
        self.h3.send_headers(sid, hdrs, end_stream=end_stream)
        return r

    def start(self, method, path, body=None, headers=(), token=None, content_type=None):
        """Sends a request; returns its Response without waiting.  A dict or
        list body goes as JSON, a str as UTF-8, bytes as they are."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        if body is None:
            r = self.begin(method, path, headers, token)
        else:
            r = self.begin(method, path, headers, token, False, content_type or self.content_type)
            self.h3.send_data(r.stream_id, body, end_stream=True)
        self.transmit()
        return r

    async def request(self, method, path, body=None, headers=(), token=None, timeout=None, content_type=None):
        r = self.start(method, path, body, headers, token, content_type)
        timeout = (timeout or self.timeout) * self.timeout_scale
        return await asyncio.wait_for(asyncio.shield(r.done), timeout)

    async def open_stream(self, method, path, token=None, timeout=10.0):
        """Starts a request whose response stays open; returns once headers came."""
        return await self.start(method, path, None, (), token).wait_headers(timeout)

    def cancel(self, r):
        """Closes an open stream from our side (reset + stop sending)."""
        with contextlib.suppress(Exception):
            self._quic.reset_stream(r.stream_id, H3_REQUEST_CANCELLED)
            self._quic.stop_stream(r.stream_id, H3_REQUEST_CANCELLED)
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


def client_config(idle_timeout=30.0, server_name="localhost", max_stream_data=4 << 20, max_data=16 << 20):
    return QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, verify_mode=ssl.CERT_NONE,
                             server_name=server_name, idle_timeout=idle_timeout,
                             max_stream_data=max_stream_data, max_data=max_data)


def connect_h3(host, port, configuration=None, protocol=H3Client, **kw):
    """`async with connect_h3(host, port) as client:`"""
    return connect(host, port, configuration=configuration or client_config(), create_protocol=protocol,
                   wait_connected=True, **kw)


def request_sync(host, port, method, path, body=None, token=None, headers=(), timeout=15.0):
    async def go():
        async with connect_h3(host, port) as c:
            return await c.request(method, path, body, headers, token, timeout)
    return asyncio.run(go())


async def print_stream(port, method, path, token):
    """Prints an open stream's lines as they come (action streams, followed logs)."""
    async with connect_h3("127.0.0.1", port) as c:
        s = await c.open_stream(method, path, token=token)
        print(s.status, s.headers.get("content-type", ""), flush=True)
        while True:
            try:
                print(await s.next_line(timeout=3600), flush=True)
            except asyncio.TimeoutError:
                continue
            except EOFError:
                return


if __name__ == "__main__":
    args = sys.argv[1:]
    tok = data = output = None
    stream = False
    while args and args[0].startswith("--"):
        if args[0] == "--stream":
            stream = True
            args = args[1:]
            continue
        if args[0] == "--token":
            tok = args[1]
        elif args[0] == "--data":
            data = args[1]
        elif args[0] == "--output":  # the body goes to this file (binary), not stdout
            output = args[1]
        args = args[2:]
    port, method, path = int(args[0]), args[1], args[2]
    if stream:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(print_stream(port, method, path, tok))
        sys.exit(0)
    resp = request_sync("127.0.0.1", port, method, path, data, tok)
    print(resp.status, resp.headers.get("content-type", ""))
    if output:
        with open(output, "wb") as f:
            f.write(bytes(resp.body))
        print("%d bytes written to %s" % (len(resp.body), output))
    else:
        print(resp.text)
