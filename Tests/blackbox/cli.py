"""Runs the real `autohome` CLI against a test daemon (not a test module).

Each CLI gets its own HOME, so known_servers starts empty per test."""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
AUTOHOME = os.environ.get("AUTOHOME") or os.path.join(HERE, "..", "..", ".build", "debug", "autohome")


class CLI:
    def __init__(self, daemon, home, token="admin"):
        self.daemon = daemon
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.token = token

    def env(self, extra=None):
        tok = self.daemon.admin if self.token == "admin" else self.token
        e = {"HOME": str(self.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COLUMNS": "80"}
        e["AUTOHOME_SERVER"] = "%s:%d" % (self.daemon.host, self.daemon.port)
        if tok:
            e["AUTOHOME_TOKEN"] = tok
        e.update(extra or {})
        return e

    def run(self, *args, input=None, timeout=30, env=None):
        p = subprocess.run([AUTOHOME, *args], input=input, capture_output=True, text=True, timeout=timeout,
                           env=self.env(env))
        return p

    def ok(self, *args, **kw):
        p = self.run(*args, **kw)
        assert p.returncode == 0, "autohome %s -> %d\nstdout:%s\nstderr:%s" % (args, p.returncode, p.stdout, p.stderr)
        return p

    def json(self, *args, **kw):
        return json.loads(self.ok("--json", *args, **kw).stdout)

    def popen(self, *args, env=None, stdin=None):
        return subprocess.Popen([AUTOHOME, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env(env), stdin=stdin if stdin is not None else subprocess.DEVNULL)
