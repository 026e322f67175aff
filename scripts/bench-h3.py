#!/usr/bin/env python3
"""HTTP/3 load benchmark of the real autohomed (run by `make bench`).

    python3 scripts/bench-h3.py [options] .build/release/autohomed

Builds nothing. Starts the given daemon on 127.0.0.1 (a random UDP port) with a
temp dataDir, `vms: 4` and a trivial script (one `_onchange` handler),
registers a few devices with the admin token, then drives
`POST /v1/event/<registration>` from aioquic clients in several processes
(one QUIC connection each, many concurrent streams):

  seq     one connection, one request at a time, ?wait=1   (baseline latency)
  load    P connections x S streams, ?wait=1                (throughput, latency)
  nowait  P connections x S streams, no wait (202)          (ingress; 503s counted)

Figures: events/s; p50/p99/max latency measured by the client (send to end of
stream, so it includes the Python client's own queueing); server CPU µs per
event = utime+stime delta of /proc/<pid>/stat over the phase / events
processed (from /v1/status); client CPU the same way (os.times in each
worker); "other" = busy CPU of the whole machine (/proc/stat) minus daemon
and clients, i.e. noise from other work; daemon RSS idle, peak VmRSS sampled
under load, and VmHWM. The daemon is stopped with SIGTERM at the end and
must exit 0. Every wait is bounded; the whole run takes well under 60 s.
"""
import argparse
import asyncio
import json
import multiprocessing as mp
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import time

try:
    import aioquic  # noqa: F401
except ImportError:
    sys.exit("bench-h3: the Python package aioquic is missing; install it with:\n"
             "    python3 -m pip install aioquic")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_h3_client as bc  # noqa: E402
from bench_h3_proc import RssSampler, loadavg, machine_busy, mib, proc_cpu, proc_status_kb  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- daemon

class Daemon:
    def __init__(self, binary, root, vms, ring_size=None):
        self.binary = binary
        self.root = root
        self.data = os.path.join(root, "data")
        os.makedirs(os.path.join(self.data, "scripts"))
        self.cfg_path = os.path.join(root, "config.json")
        cfg = {"listen": "127.0.0.1:0", "dataDir": self.data, "vms": vms, "logLevel": "info"}
        if ring_size:
            cfg["ringSize"] = ring_size
        with open(self.cfg_path, "w") as f:
            json.dump(cfg, f)
        self.log_path = os.path.join(root, "daemon.log")
        self.proc = None
        self.port = None
        self.admin = None

    def start(self, timeout=20):
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary, "--config", self.cfg_path],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(r"HTTP/3 listening on \[?([0-9a-f.:]+?)\]?:(\d+)$", self.log(), re.M)
            if m:
                self.port = int(m.group(2))
                break
            if self.proc.poll() is not None:
                raise BenchError("autohomed exited %s at start:\n%s" % (self.proc.returncode, self.log()[-3000:]))
            time.sleep(0.05)
        else:
            raise BenchError("autohomed did not log 'HTTP/3 listening on' within %d s:\n%s" % (timeout, self.log()[-3000:]))
        with open(os.path.join(self.data, "admin.token")) as f:
            self.admin = f.read().strip()

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=20):
        """SIGTERM; returns the exit status, or 'hung' (then killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "hung (killed after %d s)" % timeout
        self.log_file.close()
        self.proc = None
        return rc

    def call(self, method, path, body=None, token="admin", timeout=10):
        """One request on a fresh connection: (status, body bytes)."""
        tok = self.admin if token == "admin" else token

        async def go():
            async with bc.connect_h3("127.0.0.1", self.port, configuration=bc.client_config()) as c:
                r = await c.request(method, path, body, token=tok, timeout=timeout)
                return r.status, bytes(r.body)
        return asyncio.run(asyncio.wait_for(go(), timeout + 5))

    def status(self):
        st, body = self.call("GET", "/v1/status")
        if st != 200:
            raise BenchError("GET /v1/status: %d %s" % (st, body[:200]))
        return json.loads(body)


# ---------------------------------------------------------------- phases

def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def run_phase(d, name, procs, lanes, regs, wait, duration, grace, max_events=0, drain=False):
    """Runs one load phase; returns a dict of figures."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    go = ctx.Event()
    workers = []
    for i in range(procs):
        spec = {"host": "127.0.0.1", "port": d.port, "index": i, "nprocs": procs, "lanes": lanes,
                "regs": regs, "wait": wait, "duration": duration, "grace": grace,
                "max_events": max_events}
        p = ctx.Process(target=bc.worker, args=(spec, q, go), daemon=True)
        p.start()
        workers.append(p)
    results, errors = [], []
    try:
        ready = 0
        deadline = time.monotonic() + 20
        while ready < procs:
            try:
                msg = q.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise BenchError("%s: only %d of %d clients connected within 20 s" % (name, ready, procs))
            if msg[0] == "ready":
                ready += 1
            else:
                raise BenchError("%s: client %d failed before the start: %s" % (name, msg[1], msg[2]))
        sampler = RssSampler(d.pid)
        sampler.start()
        s0 = d.status()
        cpu0, busy0, t0 = proc_cpu(d.pid), machine_busy(), time.perf_counter()
        go.set()
        deadline = time.monotonic() + duration + grace + 20
        while len(results) + len(errors) < procs:
            try:
                msg = q.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise BenchError("%s: %d of %d clients did not report within %.0f s"
                                 % (name, procs - len(results) - len(errors), procs, duration + grace + 20))
            if msg[0] == "result":
                results.append(msg[2])
            elif msg[0] == "error":
                errors.append("client %d: %s" % (msg[1], msg[2]))
        t_load = time.perf_counter()
        drained = None
        if drain:
            # no-wait events may still be in the ring: wait (bounded) until processed
            ddl = time.monotonic() + 15
            while True:
                s = d.status()
                if s["ring"]["used"] == 0 and s["events"]["processed"] >= s["events"]["accepted"]:
                    drained = True
                    break
                if time.monotonic() > ddl:
                    drained = False
                    break
                time.sleep(0.02)
        cpu1, busy1, t1 = proc_cpu(d.pid), machine_busy(), time.perf_counter()
        s1 = d.status()
        sampler.stop()
    finally:
        started_load = go.is_set()
        for p in workers:
            if started_load:
                p.join(5)
            if p.is_alive():
                p.terminate()
                p.join(2)
    if not results:
        raise BenchError("%s: every client failed: %s" % (name, "; ".join(errors)))
    lat = sorted(x for r in results for x in bc.decode_lat(r["lat"]))
    statuses = {}
    cerrors = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
        for k, v in r["errors"].items():
            cerrors[k] = cerrors.get(k, 0) + v
    ev = lambda k: s1["events"][k] - s0["events"][k]  # noqa: E731
    client_cpu = sum(r["cpu"] for r in results)
    client_wall = max(r["wall"] for r in results)
    wall = t1 - t0
    server_cpu = cpu1 - cpu0
    processed = ev("processed")
    ok = statuses.get(200, 0) + statuses.get(202, 0)
    return {
        "name": name, "procs": procs, "lanes": lanes, "wait": wait,
        "requests": len(lat), "ok": ok, "statuses": statuses, "errors": cerrors,
        "client_errors": errors, "unchanged": sum(r["unchanged"] for r in results),
        "load_wall": t_load - t0, "client_wall": client_wall, "wall": wall, "drained": drained,
        "rate": ok / client_wall if client_wall > 0 else 0.0,
        "processed": processed, "accepted": ev("accepted"), "busy": ev("busy"),
        "rejected": ev("rejected"),
        "p50": percentile(lat, 50) * 1e3, "p99": percentile(lat, 99) * 1e3,
        "max": (lat[-1] * 1e3) if lat else float("nan"),
        "server_cpu": server_cpu, "client_cpu": client_cpu,
        "other_cpu": max(0.0, (busy1 - busy0) - server_cpu - client_cpu),
        "rss_peak_kb": sampler.peak,
    }


def report(r):
    per = lambda cpu, n: (cpu / n * 1e6) if n else float("nan")  # noqa: E731
    kind = "?wait=1" if r["wait"] else "no wait"
    shape = "%d conn x %d stream%s" % (r["procs"], r["lanes"], "" if r["lanes"] == 1 else "s")
    st = " ".join("%d:%d" % (k, v) for k, v in sorted(r["statuses"].items()))
    line1 = "%-6s %-7s %-19s %7.0f ev/s  p50 %6.2f ms  p99 %6.2f ms  max %6.1f ms  [%s]" % (
        r["name"], kind, shape, r["rate"], r["p50"], r["p99"], r["max"], st)
    line2 = ("       server %5.1f µs/ev (%3.0f%% of a core)  client %6.1f µs/ev (%3.0f%%)  "
             "other %3.0f%%  processed %d over %.1f s" % (
                 per(r["server_cpu"], r["processed"]), 100 * r["server_cpu"] / r["wall"],
                 per(r["client_cpu"], r["requests"]), 100 * r["client_cpu"] / r["wall"],
                 100 * r["other_cpu"] / r["wall"], r["processed"], r["wall"]))
    out = [line1, line2]
    if not r["wait"]:
        out.append("       accepted %d (%.0f/s at ingress), 503 busy %d, drained %s; processed %.0f ev/s incl. drain"
                   % (r["accepted"], r["accepted"] / r["load_wall"], r["busy"],
                      "yes" if r["drained"] else "NO", r["processed"] / r["wall"]))
    if r["wait"] and r["busy"]:
        out.append("       503 busy (ring full) %d of %d answers; each lane backs off 5 ms after a 503; client µs/ev counts every answer"
                   % (r["busy"], r["requests"]))
    if r["wait"] and r["unchanged"]:
        out.append("       note: %d answers applied nothing (value unchanged)" % r["unchanged"])
    if r["rejected"]:
        out.append("       note: the daemon rejected %d events" % r["rejected"])
    for k, v in sorted(r["errors"].items()):
        out.append("       ERROR x%d: %s" % (v, k))
    for e in r["client_errors"]:
        out.append("       CLIENT FAILED: %s" % e)
    return "\n".join(out)


# ---------------------------------------------------------------- main

SCRIPT = """// bench: one trivial _onchange handler on every bench device
var ids = %s;
for (var i = 0; i < ids.length; i++)
    set(ids[i], { n_onchange: function (v) { return home.continueProcessing; } });
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("daemon", help="path of autohomed (make release builds .build/release/autohomed)")
    ap.add_argument("--procs", type=int, default=4, help="client processes (one QUIC connection each)")
    ap.add_argument("--streams", type=int, default=16, help="concurrent streams per connection (server allows 100)")
    ap.add_argument("--devices", type=int, default=8)
    ap.add_argument("--vms", type=int, default=4)
    ap.add_argument("--ring-size", type=int, default=0, help="config ringSize (default: the daemon's, 1024); small values provoke 503s")
    ap.add_argument("--seq-seconds", type=float, default=3.0)
    ap.add_argument("--load-seconds", type=float, default=8.0)
    ap.add_argument("--nowait-seconds", type=float, default=4.0)
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (daemon log) and print its path")
    a = ap.parse_args()
    if not (os.path.isfile(a.daemon) and os.access(a.daemon, os.X_OK)):
        sys.exit("bench-h3: %s is not an executable (run `make release`)" % a.daemon)
    if a.seq_seconds + a.load_seconds + a.nowait_seconds > 30:
        sys.exit("bench-h3: phases may add up to 30 s at most (the whole run must stay under 60 s)")
    if not 1 <= a.streams <= 100:
        sys.exit("bench-h3: --streams must be 1..100 (the daemon's per-connection stream limit)")

    started = time.monotonic()
    root = tempfile.mkdtemp(prefix="bench-h3-")
    d = Daemon(os.path.abspath(a.daemon), root, a.vms, a.ring_size)
    rc = None
    failed = None
    print("HTTP/3 bench: %s, vms %d, %s%d devices, 1 _onchange handler; nproc %d, loadavg %s"
          % (a.daemon, a.vms, "ringSize %d, " % a.ring_size if a.ring_size else "", a.devices,
             os.cpu_count(), loadavg()), flush=True)
    try:
        d.start()
        ids = ["bench%d" % i for i in range(a.devices)]
        regs = []
        for i in ids:
            st, body = d.call("POST", "/v1/devices", {"id": i, "name": "Bench " + i, "properties": [
                {"name": "n", "type": "dial", "min": 0, "max": 1000000000, "mode": "RO"}]})
            if st not in (200, 201):
                raise BenchError("POST /v1/devices %s: %d %s" % (i, st, body[:200]))
            regs.append(json.loads(body)["registration"])
        st, body = d.call("PUT", "/v1/scripts/bench.js", SCRIPT % json.dumps(ids))
        if st != 200:
            raise BenchError("PUT /v1/scripts/bench.js: %d %s" % (st, body[:300]))
        time.sleep(0.5)
        idle_kb = proc_status_kb(d.pid, "VmRSS")
        print("daemon pid %d on 127.0.0.1:%d; RSS idle %s (started, %d devices, script loaded)"
              % (d.pid, d.port, mib(idle_kb), a.devices), flush=True)

        phases = []
        r = run_phase(d, "seq", 1, 1, regs, True, a.seq_seconds, 5, max_events=20000)
        print(report(r), flush=True)
        phases.append(r)
        r = run_phase(d, "load", a.procs, a.streams, regs, True, a.load_seconds, 10)
        print(report(r), flush=True)
        phases.append(r)
        r = run_phase(d, "nowait", a.procs, a.streams, regs, False, a.nowait_seconds, 10, drain=True)
        print(report(r), flush=True)
        phases.append(r)

        hwm = proc_status_kb(d.pid, "VmHWM")
        print("RSS peak under load %s (VmRSS sampled every 20 ms), VmHWM %s; loadavg now %s"
              % (mib(max(p["rss_peak_kb"] for p in phases[1:])), mib(hwm), loadavg()))
        s = d.status()
        print("status: events %s, ring %s, vms %s, scripts %s" % (
            json.dumps(s["events"], separators=(",", ":")), json.dumps(s["ring"], separators=(",", ":")),
            json.dumps(s["vms"], separators=(",", ":")), json.dumps(s["scripts"], separators=(",", ":"))))
        if any(p["client_errors"] or p["errors"] for p in phases):
            failed = "some requests failed (see ERROR lines)"
    except BenchError as e:
        failed = str(e)
    except KeyboardInterrupt:
        failed = "interrupted"
    finally:
        rc = d.stop()
    print("daemon exit status after SIGTERM: %s; bench took %.1f s" % (rc, time.monotonic() - started))
    if rc != 0:
        failed = (failed + "; " if failed else "") + "daemon did not exit 0"
        print(d.log()[-3000:], file=sys.stderr)
    if a.keep or failed:
        print("daemon log: %s" % d.log_path)
    else:
        subprocess.run(["rm", "-rf", root])
    if failed:
        print("bench-h3: FAILED: %s" % failed, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
