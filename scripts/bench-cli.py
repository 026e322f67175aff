#!/usr/bin/env python3
"""HTTP/3 figures from `autohome bench` (run by `make bench`).

    python3 scripts/bench-cli.py .build/release/autohomed .build/release/autohome .build-cquic/echo_server

1. daemon:  a release autohomed on 127.0.0.1 (temp dataDir, vms 4, one
   trivial _onchange script); `autohome bench` registers its own device and
   posts events flat out (C connections x S streams), then at a fixed rate.
2. floor:   the same load, same client, against the CQuic echo server of
   Tests/cquic (POST /echo, answered from a worker thread): QUIC + HTTP/3
   and one thread hop, no engine.
CPU µs/event of both sides come from /proc (utime+stime over the run /
events answered), so the note can say how much of the daemon's CPU per event
is the engine and how much is QUIC. The run is daemon-bound when the
client's CPU per event is below the server's. The client is given its own
HOME (its known_servers pins the temp daemon's certificate).
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

SCRIPT = 'set("bench", {}); set("home", {});\n'


def wait_for(path, pattern, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, open(path).read(), re.M)
        if m:
            return m
        if proc.poll() is not None:
            sys.exit("bench-cli: %s exited:\n%s" % (proc.args[0], open(path).read()))
        time.sleep(0.05)
    sys.exit("bench-cli: %s did not start:\n%s" % (proc.args[0], open(path).read()))


def bench(cli, env, server, pid, *extra):
    args = [cli, "--json", "--server", server, "bench", "--server-pid", str(pid), *extra]
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    if p.returncode not in (0, 1) or not p.stdout.strip():
        sys.exit("bench-cli: %s -> %d\n%s" % (" ".join(args), p.returncode, p.stderr))
    return json.loads(p.stdout)


def row(name, j):
    errs = ", ".join("%s %s" % kv for kv in j["errors"].items()) or "none"
    bound = "daemon-bound" if j["clientCpuUsPerEvent"] < j.get("serverCpuUsPerEvent", 0) else "CLIENT-BOUND"
    return "%-34s %9.0f %8.2f %8.2f %8.2f %9.1f %9.1f  %s; errors: %s" % (
        name, j["eventsPerSecond"], j["p50Ms"], j["p99Ms"], j["p999Ms"], j.get("serverCpuUsPerEvent", 0),
        j["clientCpuUsPerEvent"], bound, errs)


def main():
    daemon, cli, echo = sys.argv[1:4]
    secs = os.environ.get("BENCH_SECONDS", "8")
    conns, streams = os.environ.get("BENCH_CONNECTIONS", "4"), os.environ.get("BENCH_STREAMS", "16")
    load = ["--connections", conns, "--streams", streams, "--duration", secs]
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        env = dict(os.environ, HOME=os.path.join(tmp, "home"))
        data = os.path.join(tmp, "data")
        os.makedirs(os.path.join(data, "scripts"))
        open(os.path.join(data, "scripts", "bench.js"), "w").write(SCRIPT)
        cfg = {"listen": "127.0.0.1:0", "dataDir": data, "vms": 4, "logLevel": "warn"}
        cfgp = os.path.join(tmp, "config.json")
        json.dump(cfg, open(cfgp, "w"))
        log = os.path.join(tmp, "daemon.log")
        cfg["logLevel"] = "info"
        json.dump(cfg, open(cfgp, "w"))
        d = subprocess.Popen([daemon, "--config", cfgp], stdout=open(log, "w"), stderr=subprocess.STDOUT)
        rows = []
        try:
            m = wait_for(log, r"HTTP/3 listening on 127\.0\.0\.1:(\d+)$", d)
            server = "127.0.0.1:" + m.group(1)
            env["AUTOHOME_TOKEN"] = open(os.path.join(data, "admin.token")).read().strip()
            bench(cli, env, server, d.pid, "--count", "2000")  # warm-up
            rows.append(row("daemon, flat out (%sx%s)" % (conns, streams), bench(cli, env, server, d.pid, *load)))
            rows.append(row("daemon, 1x1 (one at a time)", bench(cli, env, server, d.pid, "--connections", "1",
                                                                 "--streams", "1", "--duration", "3")))
            rows.append(row("daemon, fixed 5000/s", bench(cli, env, server, d.pid, *load, "--rate", "5000")))
        finally:
            d.send_signal(signal.SIGTERM)
            rc = d.wait(timeout=20)
            if rc != 0:
                print("bench-cli: autohomed exited %s" % rc, file=sys.stderr)
        edir = os.path.join(tmp, "echo")
        os.makedirs(edir)
        e = subprocess.Popen([echo, "--dir", edir, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
        try:
            port = e.stdout.readline().split()[1]
            server = "127.0.0.1:" + port
            bench(cli, env, server, e.pid, "--path", "/echo", "--count", "2000")
            rows.append(row("transport floor: echo server", bench(cli, env, server, e.pid, "--path", "/echo", *load)))
        finally:
            e.send_signal(signal.SIGTERM)
            e.wait(timeout=20)
    print("\nHTTP/3 via `autohome bench` (POST /v1/event/<reg>, 202; loopback; CPU from /proc)")
    print("%-34s %9s %8s %8s %8s %9s %9s" % ("run", "events/s", "p50 ms", "p99 ms", "p999 ms", "srv µs/ev", "cli µs/ev"))
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
