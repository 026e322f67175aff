"""Limits of CQuic: request-body budgets (flow control), keep-alive of open
responses, STOP_SENDING after a 413.  Imported by test_cquic.py (it shares
its `server` fixture); not collected on its own."""
import asyncio
import contextlib
import json
import os
import time

from cqtest import MAX_BODY, SLOW, WRAPPER, Server, eventually, h3, run, stats

KIB = 1 << 10
FLOOR = 64 * KIB                    # CQ_CREDIT_FLOOR
CONN_BUDGET = 2 * MAX_BODY + FLOOR  # default max_conn_body_buffer
H3_NO_ERROR, H3_REQUEST_REJECTED = 0x100, 0x10B
# RSS is only meaningful with the production allocator: valgrind's and
# ASan's keep freed blocks and size-class regions mapped.  The byte counters
# from /stats are exact everywhere.
SANITIZED = bool(WRAPPER) or "ASAN_OPTIONS" in os.environ


def proc_mib(pid, key):
    """VmRSS / VmHWM (peak) of a process, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def begin_post(c, path="/echo"):
    """POST headers only; the body follows with push()."""
    return c.begin("POST", path, end_stream=False)


def push(c, r, data, fin=False):
    """Sends more body; False once the server stopped or reset the stream."""
    if r.stop_code is not None or r.reset_code is not None:
        return False
    try:
        c.h3.send_data(r.stream_id, data, end_stream=fin)
        return True
    except Exception:  # aioquic refuses writes to a stream it reset
        return False


async def flood(conns, streams, per_stream, chunk=16 * KIB, secs=4.0):
    """Opens `streams` POSTs on each connection and trickles body bytes into
    them, never finishing one: the slow-upload attack."""
    ups = [(c, begin_post(c)) for c in conns for _ in range(streams)]
    sent = {id(r): 0 for _, r in ups}
    deadline = time.monotonic() + secs * SLOW
    while time.monotonic() < deadline:
        for c, r in ups:
            if sent[id(r)] + chunk <= per_stream and push(c, r, b"x" * chunk):
                sent[id(r)] += chunk
        for c in conns:
            c.transmit()
        await asyncio.sleep(0.1)
    return ups


# ---------------------------------------------------------------- budgets

def test_slow_body_flood_stays_within_budget(tmp_path):
    """2 connections x 100 streams, each trickling 512 KiB and never finishing
    (before the budget: ~100 MiB buffered).  Peak RSS must stay within the two
    per-connection budgets plus a margin, and a second client must get
    answers (and a 1 MiB upload through) meanwhile."""
    s = Server(tmp_path, "--max-body", str(MAX_BODY))
    try:
        async def go():
            async with h3("127.0.0.1", s.port) as warm:
                assert (await warm.request("GET", "/ping")).status == 200
            base = proc_mib(s.proc.pid, "VmRSS")
            async with contextlib.AsyncExitStack() as stack:
                atk = [await stack.enter_async_context(h3("127.0.0.1", s.port)) for _ in range(2)]
                await flood(atk, 100, 512 * KIB)
                peak = proc_mib(s.proc.pid, "VmHWM")
                st = await stats(s.port)
                assert st["buffered"] <= 2 * CONN_BUDGET, st
                assert st["credit"] <= 2 * CONN_BUDGET + 512 * KIB, st  # + the stats connection
                if not SANITIZED:
                    assert peak - base < 2 * CONN_BUDGET * 1.25 / (1 << 20) + 12, (base, peak)
                print(f"flood: rss {base:.1f} -> peak {peak:.1f} MiB, {st}")
                async with h3("127.0.0.1", s.port) as other:
                    t0 = time.monotonic()
                    assert (await other.request("GET", "/ping", timeout=5)).status == 200
                    assert time.monotonic() - t0 < 2 * SLOW
                    body = os.urandom(MAX_BODY)
                    r = await other.request("POST", "/echo", body, timeout=20)
                    assert r.status == 200 and bytes(r.body) == body
            # the attackers left: every byte of credit and buffer comes back
            async def drained():
                st = await stats(s.port)
                return st["buffered"] == 0 and st["credit"] <= 512 * KIB
            assert await eventually(drained)
        run(go())
    finally:
        assert s.stop() == 0, s.log()


def test_parallel_uploads_beyond_conn_budget_do_not_hang(server):
    """Three ~1 MiB uploads interleaved on one connection need more than its
    budget: the newest is rejected (retryable), the other two complete."""
    async def go():
        before = await stats(server.port)
        async with h3("127.0.0.1", server.port) as c:
            bodies = [os.urandom(1000 * KIB) for _ in range(3)]
            rs = [begin_post(c) for _ in bodies]
            for r, b in zip(rs, bodies):
                push(c, r, b[:800 * KIB])
            c.transmit()
            await asyncio.sleep(0.5 * SLOW)  # 2.4 MiB offered: the connection jams
            for r, b in zip(rs, bodies):
                push(c, r, b[800 * KIB:], fin=True)
            c.transmit()
            done = await asyncio.wait_for(asyncio.gather(*(r.done for r in rs)), 30 * SLOW)
            ok = [(r, b) for r, b in zip(done, bodies) if r.status == 200]
            rejected = [r for r in done if r.reset_code == H3_REQUEST_REJECTED]
            assert len(ok) == 2 and len(rejected) == 1, [(r.status, r.reset_code) for r in done]
            for r, b in ok:
                assert bytes(r.body) == b
            assert (await c.request("GET", "/ping")).status == 200
        assert (await stats(server.port))["rejected"] > before["rejected"]
    run(go())


def test_total_budget_shared_and_returned(tmp_path):
    """Three flooding connections against a 3 MiB total: total credit stays
    within it (plus the per-connection floor), a newcomer still gets small
    answers, and its 1 MiB upload completes once the flooders leave."""
    total = 3 << 20
    s = Server(tmp_path, "--total-budget", str(total))
    try:
        async def go():
            async with contextlib.AsyncExitStack() as stack:
                atk = [await stack.enter_async_context(h3("127.0.0.1", s.port)) for _ in range(3)]
                await flood(atk, 10, 400 * KIB, secs=2.0)
                st = await stats(s.port)
                assert st["credit"] <= total + 4 * FLOOR, st
                async with h3("127.0.0.1", s.port) as legit:
                    assert (await legit.request("GET", "/ping", timeout=5)).status == 200
                    body = os.urandom(MAX_BODY)
                    up = legit.start("POST", "/echo", body)
                    await asyncio.sleep(0.5 * SLOW)
                    for a in atk:
                        a.close()
                    r = await asyncio.wait_for(up.done, 20 * SLOW)
                    assert r.status == 200 and bytes(r.body) == body
        run(go())
    finally:
        assert s.stop() == 0, s.log()


# ---------------------------------------------------------------- 413

def test_oversize_upload_is_stopped_early(server):
    """A 20 MiB upload gets its 413 at once and a STOP_SENDING (H3_NO_ERROR),
    so the rest never crosses the network."""
    async def go():
        before = await stats(server.port)
        async with h3("127.0.0.1", server.port) as c:
            t0 = time.monotonic()
            r = await c.request("POST", "/echo", os.urandom(20 << 20))
            assert r.status == 413 and json.loads(r.body)["error"]
            assert time.monotonic() - t0 < 5 * SLOW
            await asyncio.sleep(1.0 * SLOW)  # a server still reading takes in MiBs here
            assert r.stop_code == H3_NO_ERROR
            after = await stats(server.port)
            received = after["rx"] - before["rx"]
            print(f"413: server received {received} bytes of a 20 MiB upload")
            assert received < 4 << 20
            assert (await c.request("GET", "/ping")).status == 200
    run(go())


# ---------------------------------------------------------------- keep-alive

def test_open_response_keeps_connection_alive(tmp_path):
    """Idle timeout 1.5 s: a connection with an open (silent) response stays
    up through keep-alive PINGs; one without idles out as before."""
    s = Server(tmp_path, "--idle-ms", "1500")
    try:
        async def go():
            async with h3("127.0.0.1", s.port) as a:
                r = a.start("GET", "/hold")
                assert await eventually(lambda: asyncio.sleep(0, result=r.status == 200))
                b_cm = h3("127.0.0.1", s.port)
                b = await b_cm.__aenter__()
                assert (await b.request("GET", "/ping")).status == 200
                await asyncio.sleep(5 * SLOW)  # over 3 idle timeouts; neither client sends
                assert b.terminated is not None, "no open response: must idle out"
                assert a.terminated is None, "open response: must be kept alive"
                assert not r.done.done()
                assert (await a.request("GET", "/ping")).status == 200
                # a, plus the stats connection itself (its request is open)
                assert (await stats(s.port))["keepalive"] == 2
                await b_cm.__aexit__(None, None, None)
            async def off():
                return (await stats(s.port))["keepalive"] == 1
            assert await eventually(off)
        run(go())
    finally:
        assert s.stop() == 0, s.log()
