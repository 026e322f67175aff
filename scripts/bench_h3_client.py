"""Load-generator worker for scripts/bench-h3.py (one process = one QUIC connection).

The client is Tests/blackbox/h3client.py's: every request's Response.done is
resolved when its stream ends; `lanes` coroutines each keep one request in
flight, so a worker has up to `lanes` concurrent streams on its single
connection. Runs are bounded: lanes stop issuing at the deadline, and
whatever is still outstanding `grace` seconds later is cancelled and counted
as a timeout.

Imported by bench-h3.py in the child processes (multiprocessing).
"""
import asyncio
import json
import os
import sys
import time
from array import array

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "blackbox"))
from h3client import client_config as _h3_config, connect_h3  # noqa: E402


def client_config():
    return _h3_config(max_stream_data=1 << 20)


def _cpu():
    t = os.times()
    return t.user + t.system


async def _run(spec, ready, go):
    """spec: dict(host, port, index, nprocs, lanes, regs, wait, duration, grace, max_events)."""
    host, port = spec["host"], spec["port"]
    lanes, regs = spec["lanes"], spec["regs"]
    idx, nprocs = spec["index"], spec["nprocs"]
    query = "?wait=1" if spec["wait"] else ""
    paths = ["/v1/event/" + r + query for r in regs]
    lat = array("d")
    statuses = {}
    errors = {}
    sent = [0]
    unchanged = [0]
    outstanding = [0]
    max_events = spec.get("max_events") or 0
    backoff = spec.get("busy_backoff", 0.005)
    async with connect_h3(host, port, configuration=client_config()) as c:
        # one request to be sure the H3 session is up before timing starts
        await c.request("GET", "/v1/ping", timeout=10)
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
                    r = c.start("POST", path, body)
                    await r.done
                except ConnectionError as e:
                    outstanding[0] -= 1
                    errors[str(e)] = errors.get(str(e), 0) + 1
                    return
                outstanding[0] -= 1
                del c.responses[r.stream_id]
                if r.reset_code is not None:
                    key = "stream reset %#x" % r.reset_code
                    errors[key] = errors.get(key, 0) + 1
                    continue
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
