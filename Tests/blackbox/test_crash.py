"""SPEC §6 crash safety: kill -9 the daemon at random moments under load.

After every kill: the store passes `PRAGMA integrity_check`; every event
acknowledged (?wait=1) longer than flushIntervalMs + a margin before the kill
is there after the restart (as the current value and as a history point);
registrations, tokens, groups, pending actions and string countdowns
survive. The seed is printed, so a failing round can be replayed
(CRASH_SEED=… CRASH_ROUNDS=…).
"""
import asyncio
import os
import random
import signal
import sqlite3
import time

from conftest import Daemon, run

FLUSH_MS = 100
# Generous: the machine is shared and noisy; what matters is that nothing
# older than this is ever missing.
MARGIN_S = 1.0
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "20"))
DEVICES = 4

SCRIPT = """
function remember(arg) { home.log("countdown fired " + JSON.stringify(arg)); }
set("homeserver", { onstart: function () {} });
"""


def sensor(i):
    return {"id": "s%d" % i, "properties": [{"name": "n", "type": "dial", "min": 0, "max": 1e9},
                                             {"name": "cmd", "type": "dial", "min": 0, "max": 1e9}]}


def integrity(path):
    # A normal connection, as the daemon will open it: it replays the WAL.
    db = sqlite3.connect(str(path))
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()


async def load(d, regs, acked, stop, base):
    """Events with ?wait=1 on every device, values counting up per device
    from `base` (unique across rounds, so a history point names its round)."""
    counters = {dev: base for dev in regs}

    async def one_device(c, dev, reg):
        while not stop.is_set():
            counters[dev] += 1
            v = counters[dev]
            try:
                r = await c.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "n", "value": v}]}, timeout=3)
            except Exception:
                return
            if r.status == 200:
                acked.append((dev, v, time.monotonic()))
    try:
        async with d.connect() as c:
            await asyncio.gather(*[one_device(c, dev, reg) for dev, reg in regs.items()])
    except Exception:
        pass  # the daemon died under us


def test_kill_9_under_load_loses_nothing_older_than_a_flush(tmp_path):
    seed = int(os.environ.get("CRASH_SEED", str(random.randrange(1 << 30))))
    print("crash seed %d, %d rounds" % (seed, ROUNDS))
    rnd = random.Random(seed)
    d = Daemon(tmp_path, config={"flushIntervalMs": FLUSH_MS, "vms": 2}, scripts={"c.js": SCRIPT})
    try:
        dev_tok = d.token("device")
        read_tok = d.token("read")
        regs = {}
        for i in range(DEVICES):
            regs["s%d" % i] = d.register(sensor(i), token=dev_tok)
        assert d.put("/v1/groups/sensors", {"devices": sorted(regs)}).status == 201
        # a command nobody picks up: it must stay pending across every crash
        assert d.put("/v1/devices/s0/properties/cmd?wait=1", {"value": 42}).status == 200
        # a string-form countdown far in the future: it must stay armed
        r = d.post("/v1/scripts", {"scripts": {"arm.js": "home.countdown('far', 86400, 'remember', {k: 1});\n"}})
        assert r.status == 200, r.text
        time.sleep(0.5)
        total = 0
        for rnd_i in range(ROUNDS):
            acked = []
            base = (rnd_i + 1) * 1_000_000

            async def round_():
                stop = asyncio.Event()
                task = asyncio.ensure_future(load(d, regs, acked, stop, base))
                await asyncio.sleep(rnd.uniform(0.3, 1.5))
                killed_at = time.monotonic()
                os.kill(d.proc.pid, signal.SIGKILL)
                stop.set()
                await asyncio.wait_for(task, 10)
                return killed_at
            killed_at = run(round_())
            d.proc.wait()
            d.stop()
            assert integrity(d.data / "auto-home.db") == [("ok",)], "round %d (seed %d)" % (rnd_i, seed)
            d.start()
            cutoff = killed_at - FLUSH_MS / 1000.0 - MARGIN_S
            must = {}
            for dev, v, t in acked:
                if t < cutoff:
                    must[dev] = max(must.get(dev, 0), v)
            total += len(acked)
            for dev, v in must.items():
                cur = d.get("/v1/devices/%s/properties/n" % dev, token=read_tok)
                assert cur.status == 200, cur.text
                # values count up per device: the stored one is at least the last durable one
                assert cur.json()["value"] >= v, "round %d (seed %d): %s is %s, acked %s" % (
                    rnd_i, seed, dev, cur.json()["value"], v)
                pts = d.get("/v1/history?device=%s&property=n&limit=100000" % dev, token=read_tok).json()["points"]
                assert v in [p["value"] for p in pts], "round %d (seed %d): history of %s lacks %s" % (rnd_i, seed, dev, v)
            # registrations, tokens, groups, pending actions, string countdowns
            for dev, reg in regs.items():
                # still below the next round's values
                r = d.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "n", "value": base + 999_999}]}, token=None)
                assert r.status == 200, "round %d: registration of %s: %s" % (rnd_i, dev, r.text)
            assert d.get("/v1/status", token=read_tok).status == 200
            assert d.get("/v1/groups/sensors").json()["devices"] == sorted(regs)
            db = sqlite3.connect("file:%s?mode=ro" % (d.data / "auto-home.db"), uri=True)
            try:
                assert db.execute("SELECT property, value FROM pending_actions WHERE device = 's0'").fetchall() == [("cmd", "42")]
                assert [n for (n,) in db.execute("SELECT name FROM timers")] == ["far"]
            finally:
                db.close()
        print("crash: %d rounds, %d events acknowledged" % (ROUNDS, total))
        assert total > 0
    finally:
        d.stop()
