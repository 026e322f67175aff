#!/usr/bin/env python3
"""Boot test of the appliance image (make image-test).

Boots build/auto-home-arm64.img in qemu-system-aarch64 (-M virt -cpu cortex-a72, direct
kernel boot with build/image/vmlinuz + initrd.img, -snapshot so the image is never
changed, user networking with UDP 127.0.0.1:<free port> -> guest 4242) and checks, each
wait bounded:

  console   the kernel boots, auto-home.service starts, the daemon logs
            "admin token: /var/lib/auto-home/admin.token", the first-boot unit prints
            the token, and no unit fails
  http3     (aioquic, from the host through the forwarded port) GET /v1/ping; with the
            token: register a device, upload a script, post an event, see the script's
            effect on another property; GET /v1/scripts lists the upload; 401 without a
            token; the default hall.js turns hall-light on when hall-motion reports motion
  gpio      real libgpiod on the PL061 chip of -M virt, with a guest config written into
            a copy of the image (debugfs): a QMP system_powerdown pulses line 3, the
            daemon's input line turns both edges into events that run a script handler;
            a switch written over HTTP/3 drives output line 5 (opened by chip label) and
            plugin.gpio.get reads the line back; the script drives output line 6
  gpio-busy a second boot with gpio-keys holding line 3: the daemon refuses to start and
            says which key and line

Prints timings (build, boot-to-ready) and ends with "N passed, N failed".
Serial console log: build/image-test/console.log.
"""
import argparse
import asyncio
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "Tests", "blackbox"))  # h3client.py, the HTTP/3 client
TOKEN_FILE = "/var/lib/auto-home/admin.token"


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def ok(self, name, detail=""):
        self.passed += 1
        print(f"PASS {name}" + (f" ({detail})" if detail else ""), flush=True)

    def fail(self, name, detail=""):
        self.failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)

    def skip(self, name, detail=""):
        self.skipped += 1
        print(f"SKIP {name}" + (f": {detail}" if detail else ""), flush=True)

    def check(self, name, cond, detail=""):
        (self.ok if cond else self.fail)(name, detail)
        return cond


class Console:
    """Reads the guest's serial console (qemu stdout) on a thread; waits on patterns."""

    def __init__(self, stream, log_path, t0):
        self.lines = []
        self.cond = threading.Condition()
        self.t0 = t0
        self.log = open(log_path, "w", encoding="utf-8", errors="replace")
        self.closed = False
        self.thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self.thread.start()

    def _run(self, stream):
        buf = b""
        while True:
            chunk = stream.read1(4096) if hasattr(stream, "read1") else stream.read(4096)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode("utf-8", "replace")).rstrip("\r")
                self.log.write(f"[{time.monotonic() - self.t0:7.2f}] {line}\n")
                self.log.flush()
                with self.cond:
                    self.lines.append((time.monotonic(), line))
                    self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, pattern, deadline):
        """First match of pattern (regex) in any line; (match, time) or (None, None)."""
        rx = re.compile(pattern)
        seen = 0
        with self.cond:
            while True:
                for t, line in self.lines[seen:]:
                    m = rx.search(line)
                    if m:
                        return m, t
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None, None
                self.cond.wait(min(left, 1.0))

    def find_all(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return [line for _, line in self.lines if rx.search(line)]


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- HTTP/3 (aioquic)

def h3_available():
    try:
        import aioquic  # noqa: F401
        return True
    except ImportError:
        return False


async def h3_session(port, steps, timeout):
    """Opens one QUIC connection and runs steps(request) on it.

    request(method, path, body=None, token=None, ctype="application/json")
    returns a dict: status, headers (no pseudo-headers), body (bytes) and
    json (the parsed body, None if empty or not JSON)."""
    from h3client import client_config, connect_h3  # Tests/blackbox; needs aioquic

    async def run():
        cfg = client_config(idle_timeout=timeout, server_name="auto-home")
        async with connect_h3("127.0.0.1", port, configuration=cfg) as client:
            client.authority = f"127.0.0.1:{port}"

            async def request(method, path, body=None, token=None, ctype="application/json"):
                resp = await client.request(method, path, body, [("user-agent", "auto-home-image-test")],
                                            token or None, timeout, content_type=ctype)
                r = {"status": resp.status, "body": bytes(resp.body),
                     "headers": {k: v for k, v in resp.headers.items() if not k.startswith(":")}}
                try:
                    r["json"] = json.loads(r["body"]) if r["body"] else None
                except ValueError:
                    r["json"] = None
                return r

            return await steps(request)

    return await asyncio.wait_for(run(), timeout * 4)


def wait_ping(port, deadline):
    """Retries GET /v1/ping until it answers 200 or the deadline passes."""
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            r = asyncio.run(h3_session(port, lambda req: req("GET", "/v1/ping"), 4.0))
            if r["status"] == 200 and (r["json"] or {}).get("ok") is True:
                return True, r
            last = f"status {r['status']} body {r['body'][:200]!r}"
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last = f"{type(e).__name__}: {e}"
        time.sleep(1.0)
    return False, last


def http3_checks(res, port, token):
    dev_id = "imgtest-lamp"
    script = ('set("%s", {\n'
              '  power_onchange: function (value, prop) {\n'
              '    home.getDevice("%s").set("level", value ? 100 : 0);\n'
              '  }\n'
              '});\n') % (dev_id, dev_id)

    async def steps(req):
        out = {}
        definition = {"id": dev_id, "name": "Image test lamp", "properties": [
            {"name": "power", "type": "switch", "value": False},
            {"name": "level", "type": "dial", "value": 0, "min": 0, "max": 100}]}
        out["register"] = await req("POST", "/v1/devices", definition, token)
        out["upload"] = await req("PUT", "/v1/scripts/imgtest.js", script.encode(), token,
                                  ctype="text/javascript")
        reg = (out["register"]["json"] or {}).get("registration")
        if reg:
            out["event"] = await req("POST", f"/v1/event/{reg}?wait=1",
                                     {"properties": [{"name": "power", "value": "on"}]})
        out["level"] = await req("GET", f"/v1/devices/{dev_id}/properties/level", None, token)
        out["scripts"] = await req("GET", "/v1/scripts", None, token)
        out["unauth"] = await req("POST", "/v1/devices", definition, None)
        # the default scripts (hall.js): motion in the hall turns the hall light on
        light = {"id": "hall-light", "name": "Hall light",
                 "properties": [{"name": "power", "type": "switch", "value": False}]}
        motion = {"id": "hall-motion", "name": "Hall motion sensor",
                  "properties": [{"name": "motion", "type": "switch", "value": False, "mode": "RO"}]}
        await req("POST", "/v1/devices", light, token)
        r = await req("POST", "/v1/devices", motion, token)
        mreg = (r["json"] or {}).get("registration")
        if mreg:
            await req("POST", f"/v1/event/{mreg}?wait=1", {"properties": [{"name": "motion", "value": True}]})
        out["hall"] = await req("GET", "/v1/devices/hall-light/properties/power", None, token)
        return out

    try:
        out = asyncio.run(h3_session(port, steps, 10.0))
    except Exception as e:  # noqa: BLE001
        res.fail("http3 session", f"{type(e).__name__}: {e}")
        return
    r = out["register"]
    res.check("register device", r["status"] in (200, 201) and (r["json"] or {}).get("registration"),
              f"status {r['status']}")
    r = out["upload"]
    res.check("upload script", r["status"] == 200, f"status {r['status']} {r['body'][:200]!r}")
    r = out.get("event")
    if r is None:
        res.fail("post event", "no registration")
    else:
        applied = (r["json"] or {}).get("applied") or []
        res.check("post event", r["status"] == 200 and any(a.get("name") == "power" for a in applied),
                  f"status {r['status']} {r['body'][:200]!r}")
    r = out["level"]
    res.check("uploaded script took effect", r["status"] == 200 and (r["json"] or {}).get("value") == 100,
              f"level {r['body'][:200]!r}")
    r = out["scripts"]
    names = [s.get("name") for s in (r["json"] or {}).get("scripts", [])]
    res.check("scripts list has the upload", "imgtest.js" in names, f"{names}")
    res.check("no token -> 401", out["unauth"]["status"] == 401, f"status {out['unauth']['status']}")
    r = out["hall"]
    res.check("default script hall.js took effect", r["status"] == 200 and (r["json"] or {}).get("value") is True,
              f"hall-light power {r['body'][:200]!r}")


# ---------------------------------------------------------------- gpio

GPIO_DEVICES = [
    {"id": "gpio-button", "name": "Power button line", "properties": [
        {"name": "pressed", "type": "switch", "mode": "RO"}]},
    {"id": "gpio-relay", "name": "Relay on line 5", "properties": [{"name": "on", "type": "switch"}]},
    {"id": "gpio-lamp", "name": "Lamp on line 6", "properties": [{"name": "on", "type": "switch"}]},
    {"id": "gpio-count", "name": "Edge counter", "properties": [
        {"name": "edges", "type": "dial", "min": 0, "max": 100000}]},
]

GPIO_LINES = [
    # line 3: the PL061 line qemu pulses for system_powerdown (gpio-keys blacklisted)
    {"chip": "gpiochip0", "line": 3, "device": "gpio-button", "property": "pressed", "direction": "input"},
    # by label, to exercise the lookup
    {"chip": "9030000.pl061", "line": 5, "device": "gpio-relay", "property": "on", "direction": "output"},
    {"chip": "/dev/gpiochip0", "line": 6, "device": "gpio-lamp", "property": "on", "direction": "output"},
]

GPIO_SCRIPT = r'''
set("gpio-button", {
  pressed_onchange: function (value) {
    var c = home.getDevice("gpio-count");
    c.set("edges", c.get("edges").latest + 1);
    if (value) { home.getDevice("gpio-lamp").set("on", true); }
    home.log("gpio line 3 " + (value ? "rising" : "falling"));
  }
});
'''


def guest_config(gpio):
    """The image's own config plus the GPIO test devices and the given gpio section."""
    with open(os.path.join(REPO, "overlay", "etc", "auto-home", "config.json")) as f:
        cfg = json.load(f)
    cfg["devices"] = cfg.get("devices", []) + GPIO_DEVICES
    cfg["gpio"] = gpio
    return cfg


def write_guest_config(image, cfg, work):
    """Writes /etc/auto-home/config.json into the root partition of `image` (debugfs at
    the partition's offset: no loop device, no mount)."""
    table = json.loads(subprocess.check_output(["sfdisk", "-J", image]))
    part = table["partitiontable"]["partitions"][1]
    offset = part["start"] * table["partitiontable"].get("sectorsize", 512)
    local = os.path.join(work, "guest-config.json")
    with open(local, "w") as f:
        json.dump(cfg, f, indent=1)
    cmds = os.path.join(work, "guest-config.debugfs")
    with open(cmds, "w") as f:
        f.write("rm /etc/auto-home/config.json\n"
                f"write {local} /etc/auto-home/config.json\n"
                "sif /etc/auto-home/config.json uid 0\n"
                "sif /etc/auto-home/config.json gid 0\n"
                "sif /etc/auto-home/config.json mode 0100644\n")
    out = subprocess.run(["debugfs", "-w", "-f", cmds, f"{image}?offset={offset}"], capture_output=True, text=True)
    check = subprocess.run(["debugfs", "-R", "cat /etc/auto-home/config.json", f"{image}?offset={offset}"],
                           capture_output=True, text=True)
    if out.returncode != 0 or json.loads(check.stdout or "null") != cfg:
        raise RuntimeError(f"debugfs could not write the guest config: {out.stderr[-500:]}")


def variant_image(image, work):
    """A copy of the image the gpio boots may change (the built image stays as built)."""
    copy = os.path.join(work, "gpio-test.img")
    subprocess.check_call(["cp", "--sparse=always", image, copy])
    return copy


def qmp(path, command, timeout=10.0):
    """One QMP command on qemu's monitor socket; returns the reply."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    f = s.makefile("rw")

    def read():
        while True:
            msg = json.loads(f.readline())
            if "event" not in msg:
                return msg

    read()  # greeting
    for cmd in ({"execute": "qmp_capabilities"}, {"execute": command}):
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        reply = read()
    s.close()
    return reply


def gpio_checks(res, port, token, qmp_path, con):
    async def call(req, name, *args):
        r = await req("POST", f"/v1/plugins/gpio/{name}", list(args), token)
        return r["status"], (r["json"] or {}).get("result", r["json"])

    async def setup(req):
        out = {"upload": await req("PUT", "/v1/scripts/gpiotest.js", GPIO_SCRIPT.encode(), token, ctype="text/javascript")}
        # a switch written over HTTP/3 drives output line 5; the plugin reads the line itself
        for v in (True, False, True):
            put = await req("PUT", "/v1/devices/gpio-relay/properties/on", {"value": v}, token)
            await asyncio.sleep(0.3)
            out.setdefault("relay", []).append((put["status"], v, await call(req, "get", "gpio-relay", "on")))
        out["input"] = await call(req, "get", "gpio-button", "pressed")
        out["lamp-before"] = await call(req, "get", "gpio-lamp", "on")
        return out

    try:
        out = asyncio.run(h3_session(port, setup, 10.0))
    except Exception as e:  # noqa: BLE001
        res.fail("gpio session", f"{type(e).__name__}: {e}")
        return
    res.check("gpio: script upload", out["upload"]["status"] == 200, f"status {out['upload']['status']}")
    ok = all(st == 202 and g == (200, v) for st, v, g in out["relay"])
    res.check("gpio: switch over HTTP/3 drives output line 5, read back by plugin.gpio.get", ok, f"{out['relay']}")
    res.check("gpio: input line 3 reads low before the pulse", out["input"] == (200, False), f"{out['input']}")
    res.check("gpio: output line 6 starts low", out["lamp-before"] == (200, False), f"{out['lamp-before']}")

    t = time.monotonic()
    try:
        reply = qmp(qmp_path, "system_powerdown")
    except OSError as e:
        res.fail("gpio: QMP system_powerdown", str(e))
        return
    res.check("gpio: QMP system_powerdown", "return" in reply, f"{reply}")

    async def after(req):
        deadline = time.monotonic() + 20
        last = None
        while time.monotonic() < deadline:
            r = await req("GET", "/v1/devices/gpio-count/properties/edges", None, token)
            last = r["json"] or {}
            if last.get("value", 0) >= 2:
                break
            await asyncio.sleep(0.2)
        hist = await req("GET", "/v1/devices/gpio-button/properties/pressed", None, token)
        lamp = await call(req, "get", "gpio-lamp", "on")
        return last, hist["json"] or {}, lamp

    try:
        count, hist, lamp = asyncio.run(h3_session(port, after, 10.0))
    except Exception as e:  # noqa: BLE001
        res.fail("gpio edge session", f"{type(e).__name__}: {e}")
        return
    edges = count.get("value")
    res.check("gpio: the pulse on line 3 arrives as two events that run the script", edges == 2,
              f"edges {edges} after {time.monotonic() - t:.1f} s")
    values = [p.get("value") for p in hist.get("history", [])][:3]
    res.check("gpio: line 3 history shows rising then falling", values[:2] == [False, True], f"newest first {values}")
    res.check("gpio: the script's device.set drove output line 6", lamp == (200, True), f"{lamp}")
    m, _ = con.wait_for(r"gpio line 3 falling", time.monotonic() + 5)
    res.check("gpio: the script's log lines on the console", m, "")


def autohome_binary():
    """The shipped arm64 CLI when this host can run it (binfmt + qemu-user),
    else the host build: either way the same client core talks to the guest."""
    for cand in ("build/arm64/autohome", ".build/release/autohome", ".build/debug/autohome"):
        if os.access(cand, os.X_OK):
            try:
                if subprocess.run([cand, "--help"], capture_output=True, timeout=30).returncode == 0:
                    return cand
            except (OSError, subprocess.TimeoutExpired):
                continue
    return None


def cli_checks(res, port, token):
    """`autohome` against the guest: pins its certificate on first use,
    reads status, pushes a script bundle, reads a device, and refuses a
    wrong pin with exit status 3."""
    cli = autohome_binary()
    if not cli:
        res.fail("autohome CLI", "no runnable autohome (make cross / make build)")
        return
    with tempfile.TemporaryDirectory(prefix="image-test-cli-") as home:
        env = dict(os.environ, HOME=home, AUTOHOME_SERVER=f"127.0.0.1:{port}", AUTOHOME_TOKEN=token)

        def run(*a):
            return subprocess.run([cli, *a], capture_output=True, text=True, env=env, timeout=60)
        r = run("--json", "status")
        ok = r.returncode == 0 and "sha256:" in r.stderr
        res.check(f"autohome status ({cli}), certificate pinned on first use", ok, (r.stderr or r.stdout)[-300:])
        script = os.path.join(home, "imgcli.js")
        with open(script, "w") as f:
            f.write('set("imgtest-lamp", { power_onchange: function (v) { home.log("cli " + v); } });\n')
        r = run("scripts", "push", script)
        res.check("autohome scripts push", r.returncode == 0, (r.stderr or r.stdout)[-300:])
        r = run("get", "imgtest-lamp", "level")
        res.check("autohome get", r.returncode == 0 and r.stdout.strip() == "100", (r.stderr or r.stdout)[-300:])
        r = run("--pin", "sha256:" + "0" * 64, "status")
        res.check("autohome refuses a wrong pin (exit 3)", r.returncode == 3, f"exit {r.returncode}")


# ---------------------------------------------------------------- main

def boot(args, image, port, qmp_path, append_extra, log_name):
    if os.path.exists(qmp_path):
        os.unlink(qmp_path)
    cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1024",
           "-nographic", "-snapshot", "-no-reboot",
           "-kernel", args.kernel, "-initrd", args.initrd,
           "-append", "root=LABEL=autohome-root ro console=ttyAMA0 panic=-1 " + append_extra,
           "-drive", f"file={image},format=raw,if=virtio",
           "-netdev", f"user,id=n0,hostfwd=udp:127.0.0.1:{port}-:4242",
           "-device", "virtio-net-pci,netdev=n0",
           "-device", "virtio-rng-pci",
           "-qmp", f"unix:{qmp_path},server,nowait"]
    print("qemu: " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    t0 = time.monotonic()
    qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return qemu, Console(qemu.stdout, os.path.join(args.log_dir, log_name), t0), t0


def stop_qemu(qemu):
    qemu.terminate()
    try:
        qemu.wait(10)
    except subprocess.TimeoutExpired:
        qemu.kill()
        qemu.wait(5)


def busy_line_boot(args, res, image, work):
    """gpio-keys holds line 3 (not blacklisted): a config asking for it must stop the
    daemon with a message naming the key and the line."""
    try:
        write_guest_config(image, guest_config({"lines": GPIO_LINES[:1]}), work)
    except (OSError, RuntimeError, subprocess.CalledProcessError, ValueError) as e:
        res.fail("gpio-busy: guest config", str(e))
        return
    qemu, con, t0 = boot(args, image, free_udp_port(), os.path.join(work, "qmp-busy.sock"), "", "console-busy.log")
    try:
        m, t = con.wait_for(r'autohomed: .*"gpio\.lines\[0\]" \(chip "gpiochip0" line 3\).*in use', t0 + args.boot_timeout)
        res.check("gpio-busy: daemon refuses a line gpio-keys holds, naming key and line", m,
                  f"{t - t0:.1f} s: {m.group(0)[:200]}" if m else f"not seen (console: {args.log_dir}/console-busy.log)")
    finally:
        stop_qemu(qemu)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", help="command that builds the image first (timed)")
    ap.add_argument("--image", default="build/auto-home-arm64.img")
    ap.add_argument("--kernel", default="build/image/vmlinuz")
    ap.add_argument("--initrd", default="build/image/initrd.img")
    ap.add_argument("--boot-timeout", type=float, default=300.0, help="seconds until the daemon is ready")
    ap.add_argument("--http3", choices=("auto", "yes", "no"), default=os.environ.get("IMAGE_TEST_HTTP3", "yes"),
                    help="run the HTTP/3 checks (auto: only if aioquic imports)")
    ap.add_argument("--udp-echo", action="store_true", help="also probe a stand-in daemon that echoes UDP")
    ap.add_argument("--log-dir", default="build/image-test")
    ap.add_argument("--no-gpio", dest="gpio", action="store_false", help="skip the GPIO boots")
    args = ap.parse_args()
    os.chdir(REPO)
    res = Results()

    if args.build:
        t = time.monotonic()
        rc = subprocess.call(args.build, shell=True)
        build_s = time.monotonic() - t
        print(f"timing: build {build_s:.1f} s", flush=True)
        if not res.check("image build", rc == 0, f"exit {rc}, {build_s:.1f} s"):
            print(f"{res.passed} passed, {res.failed} failed")
            return 1
    for f in (args.image, args.kernel, args.initrd):
        if not os.path.exists(f):
            res.fail("image present", f"{f} missing (make image)")
            print(f"{res.passed} passed, {res.failed} failed")
            return 1
    print(f"image: {args.image} {os.path.getsize(args.image) / 1e6:.0f} MB", flush=True)

    os.makedirs(args.log_dir, exist_ok=True)
    work = os.path.abspath(args.log_dir)
    image = args.image
    if args.gpio:
        try:
            image = variant_image(args.image, work)
            write_guest_config(image, guest_config({"lines": GPIO_LINES}), work)
            res.ok("gpio: guest config written into a copy of the image")
        except (OSError, RuntimeError, subprocess.CalledProcessError, ValueError) as e:
            res.fail("gpio: guest config", str(e))
            args.gpio = False
            image = args.image
    port = free_udp_port()
    qmp_path = os.path.join(work, "qmp.sock")
    # gpio-keys would hold PL061 line 3 (the power button); the daemon takes it instead
    qemu, con, t0 = boot(args, image, port, qmp_path, "modprobe.blacklist=gpio_keys", "console.log")
    deadline = t0 + args.boot_timeout
    ready_t = None
    try:
        m, t = con.wait_for(r"Linux version \S+", min(deadline, t0 + 90))
        res.check("kernel boots", m, f"{t - t0:.1f} s" if m else "no 'Linux version' on the console")
        # systemd's status line, or (once the console belongs to getty) the daemon's own
        # journal+console lines, which only auto-home.service produces
        m, t = con.wait_for(r"Started auto-home\.service|Started auto-home home-automation|autohomed\[\d+\]:", deadline)
        res.check("auto-home.service started", m, f"{t - t0:.1f} s" if m else "not seen")
        m, t = con.wait_for(r"admin token(?::| created in) " + re.escape(TOKEN_FILE), deadline)
        res.check("daemon startup log line", m, f"{t - t0:.1f} s" if m else "no 'admin token: <dataDir>/admin.token'")
        if m:
            ready_t = t
        m, t = con.wait_for(r"auto-home: admin token: (?!/)(\S+)", deadline)
        token = m.group(1) if m else None
        res.check("first-boot token on the console", token, f"{t - t0:.1f} s" if m else "not printed")

        if args.udp_echo:
            ok = False
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2.0)
            while not ok and time.monotonic() < deadline:
                try:
                    s.sendto(b"auto-home-probe", ("127.0.0.1", port))
                    ok = s.recvfrom(64)[0] == b"auto-home-probe"
                except OSError:
                    time.sleep(0.5)
            s.close()
            res.check("udp 4242 reachable through hostfwd", ok, f"{time.monotonic() - t0:.1f} s")

        run_h3 = args.http3 == "yes" or (args.http3 == "auto" and h3_available())
        if run_h3:
            if not h3_available():
                res.fail("http3 client", "aioquic is not installed (pip install aioquic)")
            else:
                ok, r = wait_ping(port, deadline)
                if res.check("GET /v1/ping over HTTP/3", ok, f"{time.monotonic() - t0:.1f} s" if ok else str(r)):
                    ready_t = time.monotonic()
                    if token:
                        http3_checks(res, port, token)
                        cli_checks(res, port, token)
                        if args.gpio:
                            gpio_checks(res, port, token, qmp_path, con)
                    else:
                        res.fail("http3 checks with the admin token", "no token")
        else:
            res.skip("HTTP/3 checks", "--http3 no")

        # a little settle time so late unit failures show up, then look for any
        con.wait_for(r"(?!x)x", min(deadline, time.monotonic() + 3))
        failed = con.find_all(r"\[FAILED\]|Failed to start|\[ TIME \]|\[DEPEND\]|DEPEND\]")
        res.check("no failed units on the console", not failed, "; ".join(failed[:5]))
    finally:
        stop_qemu(qemu)
    if ready_t:
        print(f"timing: boot-to-ready {ready_t - t0:.1f} s", flush=True)
    else:
        print(f"timing: not ready within {args.boot_timeout:.0f} s; console log in {args.log_dir}/console.log")
    if args.gpio:
        busy_line_boot(args, res, image, work)
    line = f"{res.passed} passed, {res.failed} failed"
    if res.skipped:
        line += f", {res.skipped} skipped"
    print(line)
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
