"""The client core (CQuic's client role, through `autohome`) against an
independent HTTP/3 server written with aioquic (aioquic_server.py): the
handshake and pin, requests with bodies, many concurrent streams on one
connection, a streamed response, error statuses."""
import json
import os
import subprocess
import sys

import pytest

from cli import AUTOHOME

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def peer(tmp_path):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "aioquic_server.py"), str(tmp_path)],
                         stdout=subprocess.PIPE, stderr=open(tmp_path / "peer.log", "w"), text=True)
    port = int(p.stdout.readline().split()[1])
    fp = p.stdout.readline().split()[1]
    yield "127.0.0.1:%d" % port, fp
    p.terminate()
    p.wait(timeout=10)


def run(tmp_path, *args, token="good"):
    env = {"HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"], "AUTOHOME_TOKEN": token}
    return subprocess.run([AUTOHOME, *args], capture_output=True, text=True, env=env, timeout=60)


def test_status_pinned(peer, tmp_path):
    server, fp = peer
    p = run(tmp_path, "--server", server, "--pin", "sha256:" + fp, "--json", "status")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["version"] == "peer"
    p = run(tmp_path, "--server", server, "--pin", "sha256:" + "1" * 64, "status")
    assert p.returncode == 3 and fp in p.stderr


def test_tofu_then_errors(peer, tmp_path):
    server, fp = peer
    p = run(tmp_path, "--server", server, "status")
    assert p.returncode == 0 and fp in p.stderr
    assert run(tmp_path, "--server", server, "status", token="bad").returncode == 4
    assert run(tmp_path, "--server", server, "devices", "x").returncode == 5


def test_streamed_response(peer, tmp_path):
    server, _ = peer
    p = subprocess.Popen([AUTOHOME, "--server", server, "--json", "watch"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         env={"HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"], "AUTOHOME_TOKEN": "good"})
    lines = [json.loads(p.stdout.readline()) for _ in range(20)]
    p.terminate()
    p.wait(timeout=10)
    assert [l["value"] for l in lines] == list(range(20))


def test_many_concurrent_streams_one_connection(peer, tmp_path):
    server, _ = peer
    p = run(tmp_path, "--server", server, "--json", "bench", "--path", "/echo", "--connections", "1",
            "--streams", "32", "--count", "3000")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["events"] == 3000 and j["errors"] == {}
