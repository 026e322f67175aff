"""First-request latency on fresh connections against the echo server.

For each of N fresh connections: connect (handshake done), send GET /ping at
once, time the answer; then time a second GET /ping on the same connection.
A first request should cost what a later one does.  Prints the figures; it
asserts nothing about time (machines are shared and noisy), test_cquic.py's
test only checks that every first request is answered.

    python3 Tests/cquic/first_request.py [-n N] [--delay SECONDS] [--port PORT]

Without --port it starts its own echo_server ($ECHO_SERVER or
.build-cquic/echo_server).
"""
import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cqtest import Server, h3  # noqa: E402


async def measure(port, n=5, delay=0.0, host="127.0.0.1"):
    """[(first_ms, second_ms, first_status, second_status)] for n fresh connections."""
    out = []
    for _ in range(n):
        async with h3(host, port) as c:
            if delay:
                await asyncio.sleep(delay)
            t0 = time.perf_counter()
            r1 = await c.request("GET", "/ping")
            t1 = time.perf_counter()
            r2 = await c.request("GET", "/ping")
            t2 = time.perf_counter()
            out.append(((t1 - t0) * 1000, (t2 - t1) * 1000, r1.status, r2.status))
    return out


def report(rows, label=""):
    first = [r[0] for r in rows]
    second = [r[1] for r in rows]
    line = lambda xs: "min %.2f  median %.2f  max %.2f ms" % (min(xs), statistics.median(xs), max(xs))
    print(f"{label}first request  ({len(rows)} fresh connections): {line(first)}")
    print(f"{label}second request (same connections):        {line(second)}")
    print(f"{label}each first: " + " ".join("%.2f" % x for x in first))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--delay", type=float, default=0.0, help="wait this long after the handshake")
    ap.add_argument("--port", type=int)
    a = ap.parse_args()
    srv = None
    tmp = None
    port = a.port
    if port is None:
        tmp = tempfile.TemporaryDirectory()
        srv = Server(Path(tmp.name))
        port = srv.port
    try:
        rows = asyncio.run(measure(port, a.n, a.delay))
        report(rows)
        if any(r[2] != 200 or r[3] != 200 for r in rows):
            print("some request failed:", rows)
            return 1
        return 0
    finally:
        if srv:
            srv.stop()
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
