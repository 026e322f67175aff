"""Every example in README.md and docs/*.md runs as written.

Each ```sh block is run, in order, in one bash session per file (so a
variable set in one block is there in the next), against a real autohomed set
up as `make run` sets it up (scripts/make-run-config.sh: the device
`demo-lamp`, the default scripts, the admin token in run/admin.token). The
working folder looks like a clone: Tests/ and scripts/ are the repository's;
`autohomed` and `autohome` are on PATH and at `.build/release/` (where `make
run` puts them). The one change made to the text: the port 4242 is replaced
by a free one, so tests can run side by side; for the same reason
AUTOHOME_SERVER points `autohome`'s default (127.0.0.1:4242) at that port.

- A block whose lines start with `$ ` is a transcript: each command's output
  is checked against the lines under it. A status line (`201 application/json`)
  must match exactly; an expected line that is JSON must have the same shape
  (the same keys, recursively; values and array contents may differ, so ids,
  tokens and sequence numbers need not).
- Any other ```sh block must run without error (`set -e -o pipefail`) and no
  request in it may be answered with a 4xx/5xx status.
- A block preceded by `<!-- not run: REASON -->` is skipped (building the
  image, flashing a card, open streams); every other block is run. A block
  that calls the API (`autohome`, h3client.py, `$H3`, `autohomed replay`) must be ```sh.
"""
import glob
import json
import os
import re
import shlex
import socket
import subprocess
import time

import pytest

from conftest import AUTOHOMED

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCS = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
STATUS = re.compile(r"^([1-5]\d\d)( |$)")
# An `autohome` command at the start of a line, after a pipe or `;`, or in `$(…)`.
API_CALL = re.compile(r"h3client\.py|\$H3\b|autohomed replay|(?m:(^|[|;&]|\$\()\s*(\$ )?autohome\s)")


def blocks(path):
    """(first line number, info, text, skip reason) of every fenced block."""
    out = []
    lines = open(os.path.join(ROOT, path), encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\S*)", lines[i])
        if not m:
            i += 1
            continue
        indent, info = m.group(1), m.group(2)
        prev = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        skip = re.match(r"<!--\s*not run:\s*(.*?)\s*-->", prev)
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        out.append((i - len(body), info, "\n".join(body), skip.group(1) if skip else None))
        i += 1
    return out


def transcript(text):
    """[(command, [expected output lines])] of a `$ ` block."""
    items, cmd, lines = [], None, text.split("\n")
    k = 0
    while k < len(lines):
        line = lines[k]
        if line.startswith("$ "):
            cmd = line[2:]
            while not complete(cmd) and k + 1 < len(lines):
                k += 1
                cmd += "\n" + lines[k]
            items.append((cmd, []))
        elif items and line.strip():
            items[-1][1].append(line)
        k += 1
    return items


def complete(cmd):
    if cmd.rstrip().endswith("\\"):
        return False
    try:
        shlex.split(cmd)
        return True
    except ValueError:
        return False


def same_shape(exp, act):
    if isinstance(exp, dict):
        return isinstance(act, dict) and set(exp) == set(act) and all(same_shape(exp[k], act[k]) for k in exp)
    if isinstance(exp, list):
        return isinstance(act, list)
    if isinstance(exp, bool) or exp is None:
        return isinstance(act, bool) or act is None
    if isinstance(exp, (int, float)):
        return isinstance(act, (int, float)) and not isinstance(act, bool)
    return isinstance(act, str)


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Session:
    """One bash, fed command by command; each answer ends at a marker line."""

    def __init__(self, cwd, env):
        self.p = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=cwd, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.n = 0
        self.send("set -e -o pipefail")

    def send(self, cmd):
        self.n += 1
        marker = "__DOCS_END_%d__" % self.n
        self.p.stdin.write(cmd + "\nprintf '\\n%s\\n'\n" % marker)
        self.p.stdin.flush()
        out = []
        while True:
            line = self.p.stdout.readline()
            if line == "":
                raise AssertionError("the example failed (the shell exited %s):\n%s\n--- output:\n%s"
                                     % (self.p.wait(), cmd, "".join(out)[-3000:]))
            if line.rstrip("\n") == marker:
                text = "".join(out)
                return text[:-1] if text.endswith("\n") else text
            out.append(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def start_daemon(sandbox, port):
    env = dict(os.environ, LISTEN="127.0.0.1:%d" % port)
    subprocess.run([os.path.join(ROOT, "scripts", "make-run-config.sh"), "run"], cwd=sandbox, env=env, check=True,
                   capture_output=True)
    log = open(os.path.join(sandbox, "daemon.log"), "w")
    proc = subprocess.Popen([AUTOHOMED, "--config", "run/config.json"], cwd=sandbox, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while "HTTP/3 listening" not in open(os.path.join(sandbox, "daemon.log")).read():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("autohomed did not start:\n" + open(os.path.join(sandbox, "daemon.log")).read())
        time.sleep(0.05)
    return proc, log


@pytest.mark.parametrize("doc", DOCS)
def test_examples_run_as_written(doc, tmp_path):
    found = blocks(doc)
    for line, info, text, skip in found:
        if API_CALL.search(text) and info != "sh" and not skip:
            pytest.fail("%s:%d: an API example must be a ```sh block (or say <!-- not run: why -->)" % (doc, line))
    runnable = [(line, text) for line, info, text, skip in found if info == "sh" and not skip]
    skipped = [(line, skip) for line, info, text, skip in found if info == "sh" and skip]
    for line, why in skipped:
        print("%s:%d: not run: %s" % (doc, line, why))
    if not runnable:
        return
    sandbox = tmp_path / "clone"
    sandbox.mkdir()
    for name in ("Tests", "scripts", "overlay"):
        os.symlink(os.path.join(ROOT, name), sandbox / name)
    bindir = os.path.dirname(os.path.abspath(AUTOHOMED))
    (sandbox / ".build" / "release").mkdir(parents=True)
    for name in ("autohomed", "autohome"):
        os.symlink(os.path.join(bindir, name), sandbox / ".build" / "release" / name)
    port = free_udp_port()
    proc, log = start_daemon(str(sandbox), port)
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(AUTOHOMED)) + os.pathsep + os.environ["PATH"])
    env.pop("TOKEN", None)
    env.pop("AUTOHOME_TOKEN", None)
    env["AUTOHOME_SERVER"] = "127.0.0.1:%d" % port
    env["HOME"] = str(tmp_path / "home")   # known_servers of its own
    sh = Session(str(sandbox), env)
    ran = 0
    try:
        for line, text in runnable:
            text = text.replace("4242", str(port))
            where = "%s:%d" % (doc, line)
            if text.lstrip().startswith("$ "):
                for cmd, expected in transcript(text):
                    actual = sh.send(cmd).split("\n")
                    ran += 1
                    check_transcript(where, cmd, expected, actual)
            else:
                out = sh.send(text)
                ran += 1
                bad = [l for l in out.split("\n") if STATUS.match(l) and l[0] in "45"]
                assert not bad, "%s: a request in this example failed:\n%s\n--- output:\n%s" % (where, text, out)
        sh.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    print("%s: %d examples ran, %d skipped" % (doc, ran, len(skipped)))


def check_transcript(where, cmd, expected, actual):
    context = "%s: $ %s\n--- expected:\n%s\n--- actual:\n%s" % (where, cmd, "\n".join(expected), "\n".join(actual))
    for i, exp in enumerate(expected):
        act = actual[i] if i < len(actual) else ""
        m = STATUS.match(exp)
        if m and i == 0:
            am = STATUS.match(act)
            assert am and am.group(1) == m.group(1), "status differs\n" + context
            continue
        try:
            want = json.loads(exp)
        except ValueError:
            continue  # prose-like output with elisions ("…") is not checked
        try:
            got = json.loads(act)
        except ValueError:
            raise AssertionError("line %d is not JSON\n%s" % (i + 1, context))
        assert same_shape(want, got), "line %d has another shape\n%s" % (i + 1, context)
