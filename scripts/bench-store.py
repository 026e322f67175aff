#!/usr/bin/env python3
"""Store figures of the real autohomed (run by `make bench`, after bench-h3.py).

    python3 scripts/bench-store.py .build/release/autohomed

  wear     disk bytes written per 1000 events (/proc/<pid>/io write_bytes, i.e.
           what reaches the block layer: SD-card wear), default flushIntervalMs
  cpu      server CPU µs per event with the store on, and with it off
           (AUTOHOMED_BENCH_NO_STORE=1: the same daemon without value and
           history writes); the ratio (target ≤ 1.15)
  rss      RSS idle, and after 100k events (the page cache is bounded: it must
           stay flat, within ~2 MiB)
  start    start-up time (spawn to "HTTP/3 listening") with 1000 devices and
           1M durable history points, and RSS right after

Every phase drives `POST /v1/event/<registration>?wait=1` from the aioquic
clients of bench-h3.py. Figures are printed, not asserted (a shared machine is
noisy); the daemons must exit 0 on SIGTERM.
"""
import importlib.util
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
spec = importlib.util.spec_from_file_location("bench_h3", os.path.join(HERE, "bench-h3.py"))
bh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bh)
from bench_h3_proc import loadavg, mib, proc_cpu, proc_status_kb  # noqa: E402


def write_bytes(pid):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def setup(d, devices=8):
    ids = ["bench%d" % i for i in range(devices)]
    regs = []
    for i in ids:
        st, body = d.call("POST", "/v1/devices", {"id": i, "properties": [
            {"name": "n", "type": "dial", "min": 0, "max": 1000000000, "mode": "RO"}]})
        if st not in (200, 201):
            raise bh.BenchError("POST /v1/devices %s: %d %s" % (i, st, body[:200]))
        regs.append(json.loads(body)["registration"])
    st, body = d.call("PUT", "/v1/scripts/bench.js", bh.SCRIPT % json.dumps(ids))
    if st != 200:
        raise bh.BenchError("PUT /v1/scripts/bench.js: %d" % st)
    time.sleep(0.5)
    return regs


def start_daemon(root, env_extra=None, config=None):
    d = bh.Daemon(BIN, root, 4)
    if config:
        with open(d.cfg_path) as f:
            cfg = json.load(f)
        cfg.update(config)
        with open(d.cfg_path, "w") as f:
            json.dump(cfg, f)
    old = dict(os.environ)
    os.environ.update(env_extra or {})
    try:
        d.start(timeout=120)
    finally:
        os.environ.clear()
        os.environ.update(old)
    return d


def stop(d, what):
    rc = d.stop()
    if rc != 0:
        raise bh.BenchError("%s: daemon exit %s\n%s" % (what, rc, d.log()[-2000:]))


def cpu_phase(store_on, seconds):
    root = tempfile.mkdtemp(prefix="bench-store-")
    d = start_daemon(root, None if store_on else {"AUTOHOMED_BENCH_NO_STORE": "1"})
    try:
        regs = setup(d)
        w0 = write_bytes(d.pid)
        r = bh.run_phase(d, "store-%s" % ("on" if store_on else "off"), 4, 16, regs, True, seconds, 10)
        time.sleep(1.5)  # the last batch (flushIntervalMs 1000) is written
        w1 = write_bytes(d.pid)
        return r, w1 - w0, d
    finally:
        stop(d, "cpu phase")
        subprocess.run(["rm", "-rf", root])


def rss_phase(events, store_on=True, warm=10_000):
    """RSS idle, after `warm` events (HTTP/3, VMs and malloc arenas warmed
    up) and after `events`: the growth between the last two is what the
    store (or anything else) keeps accumulating."""
    root = tempfile.mkdtemp(prefix="bench-store-")
    d = start_daemon(root, None if store_on else {"AUTOHOMED_BENCH_NO_STORE": "1"})
    try:
        regs = setup(d)
        idle = proc_status_kb(d.pid, "VmRSS")
        done = 0
        marks = []
        t0 = time.monotonic()
        for target in (warm, events):
            while done < target and time.monotonic() - t0 < 180:
                r = bh.run_phase(d, "rss", 4, 16, regs, True, 30, 10, max_events=max(1, (target - done) // 4))
                done += r["processed"]
            time.sleep(1.5)
            marks.append((done, proc_status_kb(d.pid, "VmRSS")))
        db = os.path.getsize(os.path.join(d.data, "auto-home.db"))
        return idle, marks, db
    finally:
        stop(d, "rss phase")
        subprocess.run(["rm", "-rf", root])


def startup_phase(devices=1000, points=1_000_000):
    root = tempfile.mkdtemp(prefix="bench-store-")
    defs = [{"id": "d%04d" % i, "properties": [{"name": "t", "type": "dial", "min": -50, "max": 150},
                                               {"name": "on", "type": "switch"}]} for i in range(devices)]
    d = start_daemon(root, config={"devices": defs})
    stop(d, "start-up phase (create)")
    # Fill the store as a long-running appliance would have: values and history.
    db = sqlite3.connect(os.path.join(d.data, "auto-home.db"))
    now = int(time.time() * 1000)
    rnd = random.Random(1)
    with db:
        series = []
        for i in range(devices):
            for prop in ("t", "on"):
                cur = db.execute("INSERT INTO series(device, property) VALUES(?, ?)", ("d%04d" % i, prop))
                series.append((cur.lastrowid, "d%04d" % i, prop))
        for sid, dev, prop in series:
            db.execute("INSERT INTO current_values(device, property, value, label, time) VALUES(?, ?, ?, ?, ?)",
                       (dev, prop, 21.5 if prop == "t" else 1, None if prop == "t" else "on", now))
        per = points // len(series)
        rows = ((sid, now - (per - k) * 60000, rnd.uniform(0, 30) if prop == "t" else k & 1, None if prop == "t" else "on")
                for k in range(per) for sid, _, prop in series)
        db.executemany("INSERT INTO history(series, time, value, label) VALUES(?, ?, ?, ?)", rows)
    n = db.execute("SELECT count(*) FROM history").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = os.path.getsize(os.path.join(d.data, "auto-home.db"))
    t0 = time.monotonic()
    d.start(timeout=120)
    took = time.monotonic() - t0
    rss = proc_status_kb(d.pid, "VmRSS")
    st, body = d.call("GET", "/v1/history?device=d0007&property=t&limit=100000")
    hist = len(json.loads(body)["points"]) if st == 200 else -1
    stop(d, "start-up phase")
    subprocess.run(["rm", "-rf", root])
    return took, rss, n, size, hist


def main():
    global BIN
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    BIN = os.path.abspath(sys.argv[1])
    started = time.monotonic()
    print("store bench: %s; nproc %d, loadavg %s" % (BIN, os.cpu_count(), loadavg()), flush=True)
    try:
        # on, off, on, off: the machine is shared, so alternate and add up
        runs = [cpu_phase(store_on, 5) for store_on in (True, False, True, False)]
        merge = lambda rs: {k: sum(r[k] for r in rs) for k in ("server_cpu", "processed", "rate")}  # noqa: E731
        on, off = merge([runs[0][0], runs[2][0]]), merge([runs[1][0], runs[3][0]])
        on["rate"] /= 2
        off["rate"] /= 2
        wrote, wrote_off = runs[0][1] + runs[2][1], runs[1][1] + runs[3][1]
        per = lambda r: r["server_cpu"] / r["processed"] * 1e6 if r["processed"] else float("nan")  # noqa: E731
        print("wear   %d events: %.0f bytes written per 1000 events (store on, flushIntervalMs 1000; "
              "store off: %.0f); Home Assistant's recorder: 13.9 MB per 12k events = 1158 kB per 1000"
              % (on["processed"], wrote / max(on["processed"], 1) * 1000, wrote_off / max(off["processed"], 1) * 1000))
        print("cpu    server %.1f µs/event with the store, %.1f without: %.2fx (target <= 1.15); %.0f vs %.0f ev/s"
              % (per(on), per(off), per(on) / per(off), on["rate"], off["rate"]), flush=True)
        idle, marks, dbsize = rss_phase(100_000)
        _, marks_off, _ = rss_phase(100_000, store_on=False)
        (w, warm), (n, after) = marks
        print("rss    idle %s; after %d events %s, after %d %s: +%s over the last %d (store file %s); "
              "store off after %d: %s (the store's share %s)"
              % (mib(idle), w, mib(warm), n, mib(after), mib(after - warm), n - w, mib(dbsize // 1024),
                 marks_off[1][0], mib(marks_off[1][1]), mib(after - marks_off[1][1])), flush=True)
        took, rss, n, size, hist = startup_phase()
        print("start  1000 devices, %d history points (%s file): listening after %.2f s, RSS %s; "
              "/v1/history of one property: %d points"
              % (n, mib(size // 1024), took, mib(rss), hist), flush=True)
    except bh.BenchError as e:
        print("bench-store: FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
    print("store bench took %.1f s" % (time.monotonic() - started))


if __name__ == "__main__":
    main()
