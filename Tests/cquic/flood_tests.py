"""Handshake flood: client Initials that are never answered (as from spoofed
sources) must not lock legitimate clients out or blow up memory.
Imported by test_cquic.py; not collected on its own.

The flooder runs as a child process (`python3 flood_tests.py --flood ...`,
so its packet crafting does not share the test's GIL): it builds real QUIC
v1 Initials with aioquic's QuicConnection (a fresh connection id and TLS
ClientHello each), sends them from many 127.x.y.z source addresses and ports
over loopback and never reads an answer.  It is bounded in packets and
time and stops by itself.
"""
import argparse
import asyncio
import os
import random
import socket
import ssl
import subprocess
import sys
import time

import pytest

from cqtest import SLOW, WRAPPER, Server, h3, run, stats

HERE = os.path.dirname(os.path.abspath(__file__))
SANITIZED = bool(WRAPPER) or "ASAN_OPTIONS" in os.environ


def make_initials(n, port):
    from aioquic.h3.connection import H3_ALPN
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.connection import QuicConnection
    cfg = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, verify_mode=ssl.CERT_NONE,
                            server_name="localhost")
    out = []
    for _ in range(n):
        c = QuicConnection(configuration=cfg)
        now = time.time()
        c.connect(("127.0.0.1", port), now=now)
        out.append(c.datagrams_to_send(now=now)[0][0])
    return out


def flood_main(port, count, burst, rate, seconds, sources=64):
    """Sends `burst` Initials at once, then `rate` per second, `count` in
    all, for at most `seconds`.  Prints READY after crafting, BURST after the
    burst, SENT n at the end."""
    packets = make_initials(count, port)
    socks = []
    for _ in range(sources):
        sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sk.bind((f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}", 0))
        sk.setblocking(False)
        socks.append(sk)
    print("READY", flush=True)
    sent = 0
    t0 = time.monotonic()
    def send_one():
        nonlocal sent
        try:
            random.choice(socks).sendto(packets[sent], ("127.0.0.1", port))
        except (BlockingIOError, OSError):
            pass
        sent += 1
    while sent < min(burst, count):
        send_one()
    print("BURST", flush=True)
    while sent < count and time.monotonic() - t0 < seconds:
        time.sleep(1.0 / rate)
        send_one()
    for sk in socks:
        sk.close()
    print("SENT", sent, flush=True)


def mib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


async def time_to_connect(port, limit):
    """Seconds until a GET /ping on a fresh connection succeeded (retrying
    refused or timed-out attempts), or None within limit seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        try:
            async def attempt():
                async with h3("127.0.0.1", port) as c:
                    r = await c.request("GET", "/ping", timeout=2)
                    return r.status
            if await asyncio.wait_for(attempt(), 3 * SLOW) == 200:
                return time.monotonic() - t0
        except (ConnectionError, asyncio.TimeoutError, OSError):
            await asyncio.sleep(0.05)
    return None


def test_handshake_flood_does_not_lock_out_clients(tmp_path):
    """1100 Initials at once, then ~110/s (3000 in all, at most 12 s): a
    legitimate client (aioquic follows Retry) still connects, memory stays
    bounded, and the log does not get a line per packet."""
    s = Server(tmp_path)
    fl = None
    try:
        assert run(time_to_connect(s.port, 5)) is not None
        base = mib(s.proc.pid, "VmRSS")
        fl = subprocess.Popen([sys.executable, os.path.join(HERE, "flood_tests.py"), "--flood", str(s.port),
                               "3000", "1100", "110", "12"], stdout=subprocess.PIPE, text=True)
        assert fl.stdout.readline().strip() == "READY"
        assert fl.stdout.readline().strip() == "BURST"
        times = []
        for _ in range(3):
            times.append(run(time_to_connect(s.port, 15)))
            time.sleep(0.5)
        hwm, rss = mib(s.proc.pid, "VmHWM"), mib(s.proc.pid, "VmRSS")
        st = run(stats(s.port))
        out, _ = fl.communicate(timeout=60)
        fl = None
        # every CQuic line the server wrote (level <= info): rate-limited, not one per packet
        warn = [l for l in s.log().splitlines() if l.startswith("cquic[")]
        print(f"flood: time to connect during the flood {['%.3f s' % t if t is not None else 'never' for t in times]}; "
              f"server RSS {base:.1f} MiB before, {rss:.1f} now, peak {hwm:.1f}; "
              f"{len(warn)} log lines; flooder {out.strip()}; "
              f"half-open {st['halfopen']}, Retry packets {st['retries']}")
        # the flood was answered with Retry, within the half-open allowance
        assert st["retries"] > 0 and st["halfopen"] <= 64 + 8, st
        assert all(t is not None and t < 5 * SLOW for t in times), times
        if not SANITIZED:
            assert hwm < base + 40, (base, hwm)
        assert len(warn) < 30, warn[:5]
        # and after the flood, plain connections as before
        assert run(time_to_connect(s.port, 5)) is not None
    finally:
        if fl is not None:
            fl.kill()
            fl.wait()
        assert s.stop() == 0, s.log()


def test_forged_retry_token_is_refused(server):
    """An Initial with a Retry token we did not issue (or one that expired,
    or from another address) is closed with INVALID_TOKEN at once (RFC 9000
    §8.1.3) instead of getting a connection; others are not affected."""
    from cqtest import client_config, connect_h3, Client
    async def go():
        cfg = client_config()
        cfg.token = bytes([0xB6]) + os.urandom(60)  # NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY + junk
        t0 = time.monotonic()
        with pytest.raises(ConnectionError):
            async with connect_h3("127.0.0.1", server.port, configuration=cfg, protocol=Client) as c:
                await c.request("GET", "/ping", timeout=5)
        assert time.monotonic() - t0 < 5 * SLOW
        async with h3("127.0.0.1", server.port) as c:
            assert (await c.request("GET", "/ping")).status == 200
    run(go())


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--flood", nargs=5, type=float, metavar=("PORT", "COUNT", "BURST", "RATE", "SECONDS"))
    a = ap.parse_args()
    port, count, burst, rate, seconds = a.flood
    flood_main(int(port), int(count), int(burst), rate, seconds)
