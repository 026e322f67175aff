"""The gpio section against the real daemon on a machine without GPIO chips: mistakes
stop start-up naming the key and the line; a chip that is not there is waited for.
(Real edges and outputs: `make image-test`, on qemu's PL061 chip.)"""
import json
import subprocess

from conftest import AUTOHOMED, BASE_DEVICES

DEVICES = BASE_DEVICES + [
    {"id": "door", "name": "Door", "properties": [{"name": "open", "type": "switch", "mode": "RO"}]},
    {"id": "relay", "name": "Relay", "properties": [{"name": "on", "type": "switch"}]},
]


def run(tmp_path, gpio, check=False):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"listen": "127.0.0.1:0", "dataDir": str(tmp_path / "data"), "devices": DEVICES, "gpio": gpio}))
    args = ["--check-config"] if check else []
    return subprocess.run([AUTOHOMED, "--config", str(cfg)] + args, capture_output=True, text=True, timeout=20)


def test_mistakes_stop_start_up_naming_key_and_line(tmp_path):
    # found by reading the config: --check-config finds them too
    static = [
        ({"chip": "gpiochip0", "line": 3, "device": "lamp", "property": "level", "direction": "output"},
         ['"gpio.lines[0].property"', '(chip "gpiochip0" line 3)', "dial"]),
        ({"chip": "gpiochip0", "line": 3, "device": "relay", "property": "on", "direction": "input"},
         ['"gpio.lines[0].property"', "RO"]),
        ({"chip": "gpiochip0", "line": "DOOR", "device": "nobody", "property": "open", "direction": "input"},
         ['"gpio.lines[0].device"', 'line "DOOR"']),
        ({"chip": "gpiochip0", "line": 3, "device": "door", "property": "open", "direction": "input", "edge": "up"},
         ['"gpio.lines[0].edge"']),
    ]
    for line, needles in static:
        for check in (True, False):
            p = run(tmp_path, {"lines": [line]}, check)
            assert p.returncode != 0, p.stdout + p.stderr
            for n in needles:
                assert n in p.stderr, (check, n, p.stderr)
    # found when the daemon opens the chip (--check-config does not touch hardware)
    p = run(tmp_path, {"lines": [{"chip": "/dev/null", "line": 3, "device": "door", "property": "open", "direction": "input"}]})
    assert p.returncode != 0 and '"gpio.lines[0].chip"' in p.stderr and "not a GPIO chip" in p.stderr, p.stderr


def test_a_missing_chip_is_waited_for(make_daemon):
    d = make_daemon({"devices": DEVICES, "gpio": {"lines": [
        {"chip": "gpiochip-usb", "line": 0, "device": "relay", "property": "on", "direction": "output", "initial": True},
        {"chip": "gpiochip-usb", "line": 1, "device": "door", "property": "open", "direction": "input"}]}})
    assert 'no GPIO chip "gpiochip-usb"' in d.log() and "tried again every 5 s" in d.log()
    r = d.post("/v1/plugins/gpio/get", ["relay", "on"])
    assert r.status == 503 and "not there" in r.json()["error"], r.text
    r = d.post("/v1/plugins/gpio/get", ["lamp", "power"])
    assert r.status == 502 and "no GPIO line" in r.json()["error"], r.text
    # the property works without its chip
    assert d.put("/v1/devices/relay/properties/on?wait=1", {"value": "on"}).status == 200
