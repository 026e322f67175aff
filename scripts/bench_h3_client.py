"""Load-generator worker for scripts/bench-h3.py (one process = one QUIC connection).

A lean aioquic HTTP/3 client: every request is a future resolved when its
stream ends; `lanes` coroutines each keep one request in flight, so a worker
has up to `lanes` concurrent streams on its single connection. Runs are
bounded: lanes stop issuing at the deadline, and whatever is still
outstanding `grace` seconds later is cancelled and counted as a timeout.

Imported by bench-h3.py in the child processes (multiprocessing); it is not a
test client: see Tests/blackbox/h3client.py for that.
"""
import asyncio
import json
import os
import ssl
import time
from array import array

from aioquic.asyncio.client import connect
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated


class _Req:
    __slots__ = ("fut", "status", "body")

    def __init__(self, fut):
        self.fut = fut
        self.status = 0
        self.body = b""


class BenchClient(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.pending = {}
        self.terminated = None

    def quic_event_received(self, event):
        if isinstance(event, ConnectionTerminated):
            self.terminated = "connection closed: %#x %s" % (event.error_code, event.reason_phrase)
            for r in self.pending.values():
                if not r.fut.done():
                    r.fut.set_exception(ConnectionError(self.terminated))
            self.pending.clear()
        for ev in self.h3.handle_event(event):
            r = self.pending.get(ev.stream_id)
            if r is None:
                continue
            if isinstance(ev, HeadersReceived):
                for k, v in ev.headers:
                    if k == b":status":
                        r.status = int(v)
            elif isinstance(ev, DataReceived) and ev.data:
                r.body += ev.data
            if ev.stream_ended:
                del self.pending[ev.stream_id]
                if not r.fut.done():
                    r.fut.set_result(r)

    def send(self, method, path, body=None, token=None):
        """Starts one request; returns a future of its _Req."""
        if self.terminated:
            raise ConnectionError(self.terminated)
        sid = self._quic.get_next_available_stream_id()
        hdrs = [(b":method", method), (b":scheme", b"https"),
                (b":authority", b"localhost"), (b":path", path)]
        if token:
            hdrs.append((b"authorization", b"Bearer " + token.encode()))
        if body is not None:
            hdrs.append((b"content-type", b"application/json"))
        r = _Req(self._loop.create_future())
        self.pending[sid] = r
        self.h3.send_headers(sid, hdrs, end_stream=body is None)
        if body is not None:
            self.h3.send_data(sid, body, end_stream=True)
        self.transmit()
        return r.fut


def client_config():
    return QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, verify_mode=ssl.CERT_NONE,
                             server_name="localhost", idle_timeout=30.0,
                             max_stream_data=1 << 20, max_data=16 << 20)


def _cpu():
    t = os.times()
    return t.user + t.system


async def _run(spec, ready, go):
    """spec: dict(host, port, index, nprocs, lanes, regs, wait, duration, grace, max_events)."""
    host, port = spec["host"], spec["port"]
    lanes, regs = spec["lanes"], spec["regs"]
    idx, nprocs = spec["index"], spec["nprocs"]
    query = b"?wait=1" if spec["wait"] else b""
    paths = [b"/v1/event/" + r.encode() + query for r in regs]
    lat = array("d")
    statuses = {}
    errors = {}
    sent = [0]
    unchanged = [0]
    outstanding = [0]
    max_events = spec.get("max_events") or 0
    backoff = spec.get("busy_backoff", 0.005)
    async with connect(host, port, configuration=client_config(), create_protocol=BenchClient,
                       wait_connected=True) as c:
        # one request to be sure the H3 session is up before timing starts
        f = c.send(b"GET", b"/v1/ping")
        await asyncio.wait_for(f, 10)
        ready()
        if not await go():
            return None
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        cpu0 = _cpu()
        end = t0 + spec["duration"]
        counter = [0]

        async def lane(k):
            path = paths[(idx * lanes + k) % len(paths)]
            while True:
                now = time.perf_counter()
                if now >= end or (max_events and sent[0] >= max_events):
                    return
                n = counter[0]
                counter[0] = n + 1
                sent[0] += 1
                # a value no other request uses (and not the initial 0): every event changes the property
                body = b'{"properties":[{"name":"n","value":%d}]}' % ((n * nprocs + idx) % 999999999 + 1)
                outstanding[0] += 1
                try:
                    r = await c.send(b"POST", path, body)
                except ConnectionError as e:
                    outstanding[0] -= 1
                    errors[str(e)] = errors.get(str(e), 0) + 1
                    return
                outstanding[0] -= 1
                lat.append(time.perf_counter() - now)
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status == 200 and b'"applied":[]' in r.body:
                    unchanged[0] += 1
                elif r.status == 503:
                    await asyncio.sleep(backoff)
                elif r.status not in (200, 202):
                    key = "HTTP %d %s" % (r.status, r.body[:120].decode(errors="replace"))
                    errors[key] = errors.get(key, 0) + 1

        tasks = [loop.create_task(lane(k)) for k in range(lanes)]
        _, late = await asyncio.wait(tasks, timeout=spec["duration"] + spec["grace"])
        timeouts = outstanding[0]
        for t in late:
            t.cancel()
        if late:
            await asyncio.wait(late, timeout=2)
        t1 = time.perf_counter()
        cpu1 = _cpu()
    if timeouts:
        errors["no answer within %.0f s after the end" % spec["grace"]] = timeouts
    return {"index": idx, "wall": t1 - t0, "cpu": cpu1 - cpu0, "sent": sent[0],
            "lat": lat.tobytes(), "statuses": statuses, "errors": errors,
            "unchanged": unchanged[0]}


def worker(spec, q, go_event):
    """multiprocessing target: reports ("ready", i), then ("result", i, dict) or ("error", i, text)."""
    idx = spec["index"]
    try:
        async def go():
            # the parent sets go_event once every worker is connected; bounded wait
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, go_event.wait, 30)

        res = asyncio.run(asyncio.wait_for(
            _run(spec, lambda: q.put(("ready", idx)), go),
            timeout=30 + spec["duration"] + spec["grace"] + 15))
        if res is None:
            q.put(("error", idx, "never told to start"))
        else:
            q.put(("result", idx, res))
    except BaseException as e:  # report everything, the parent decides
        q.put(("error", idx, "%s: %s" % (type(e).__name__, e)))


def decode_lat(b):
    a = array("d")
    a.frombytes(b)
    return a


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()
