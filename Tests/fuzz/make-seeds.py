#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz harness into Tests/fuzz/corpus/<harness>/.

The seeds are the shapes each input takes in real use (from the SPEC, the docs
and the replay scenarios), so libFuzzer starts from valid bodies and mutates
them instead of rediscovering JSON. Run it after changing the seeds below;
its output is committed. Files libFuzzer adds later (`make fuzz` merges what
it finds back into the corpus) sit beside these.
"""
import glob, hashlib, json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "fuzz", "corpus")


def put(harness, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def scenario_configs():
    for p in sorted(glob.glob(os.path.join(ROOT, "Tests", "scenarios", "*", "config.json"))):
        with open(p, "rb") as f:
            yield f.read()


# ---- JSON parser
JSON_SEEDS = [
    '{"properties": [{"name": "temp", "value": 21.5}]}',
    '[1, -0, 0.5, -1.25e-3, 1E+308, 123456789012345678901234567890, 4.9e-324]',
    '"escapes \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00 \\u0000"',
    '{"a": {"b": {"c": [true, false, null, {}, []]}}, "a": 2}',
    '  \t\r\n {"k" : "v" , "x" : [ ] }  ',
    '"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"',
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    '{"": "", "\\u0041": "A"}',
    'true', 'null', '0', '-12',
]

# ---- events: first byte 0 = device report, 1 = owner command
EVENT_BODIES = [
    {"properties": [{"name": "sw", "value": True}]},
    {"properties": [{"name": "sw", "value": "ON"}, {"name": "dial", "value": 12.5}]},
    {"properties": [{"name": "btn", "value": "yes"}]},
    {"properties": [{"name": "dial", "value": "-1e3"}]},
    {"properties": [{"name": "dial", "value": 45}]},
    {"properties": [{"name": "txt", "value": "hello world, this is long"}]},
    {"properties": [{"name": "txt", "value": "x" * 1025}]},
    {"properties": [{"name": "ro", "value": 1}]},
    {"properties": [{"name": "wo", "value": "off"}]},
    {"properties": [{"name": "win", "value": 3}, {"name": "win", "value": 4}]},
    {"properties": [{"name": "nope", "value": 1}]},
    {"properties": [{"name": "dial", "value": [1]}]},
    {"properties": []},
    {"properties": [{"name": "sw"}]},
    {"values": 1},
]

# ---- device and group definitions, group lists
DEFINITIONS = [
    {"id": "lamp1", "name": "Lamp", "description": "hall", "help": "press it", "history": 32,
     "properties": [{"name": "on", "type": "switch", "value": "on", "mode": "RW"},
                    {"name": "level", "type": "dial", "min": 0, "max": 255, "value": 128,
                     "repeatWindowMs": 500, "description": "brightness"},
                    {"name": "bell", "type": "button", "mode": "RO"},
                    {"name": "label", "type": "text", "value": "hi", "mode": "WO"}]},
    {"id": "t", "properties": [{"name": "x", "type": "dial", "min": 5, "max": 1}]},
    {"id": "t", "properties": [{"name": "x", "type": "switch"}, {"name": "x", "type": "text"}]},
    {"id": "g1", "name": "Ground floor", "devices": ["lamp1", "lamp2"], "groups": ["kitchen"], "repeatWindowMs": 1000},
    [{"id": "house", "groups": ["up", "down"]}, {"id": "up", "devices": ["a", "b"]},
     {"id": "down", "devices": ["b", "c"], "groups": ["cellar"]}, {"id": "cellar", "devices": ["d"]}],
    [{"id": "a", "groups": ["b"]}, {"id": "b", "groups": ["a"]}],
    [{"id": "a", "devices": ["xunknown"]}],
    [{"id": "a", "groups": ["missing"]}],
    [{"id": "a"}, {"id": "a"}],
]


# ---- HTTP/3 (fuzz-h3): records of [op][len][bytes] (see Tests/fuzz/cquic/fuzz_h3.c)
FIN, RESET, NOW, BIG, HIGH = 0x08, 0x10, 0x20, 0x40, 0x80
CONTROL, ENCODER, DECODER = 4, 5, 6


def varint(n):
    if n < 0x40:
        return bytes([n])
    if n < 0x4000:
        return (0x4000 | n).to_bytes(2, "big")
    if n < 0x40000000:
        return (0x80000000 | n).to_bytes(4, "big")
    return (0xC000000000000000 | n).to_bytes(8, "big")


def frame(ftype, payload):
    return varint(ftype) + varint(len(payload)) + payload


def records(*recs):
    out = b""
    for op, data in recs:
        while True:
            chunk, data = data[:255], data[255:]
            last = not data
            out += bytes([op if last else op & 0x87, len(chunk)]) + chunk
            if last:
                break
    return out


def h3_seeds():
    try:
        import pylsqpack
    except ImportError:
        print("make-seeds: pylsqpack (aioquic) missing, no HTTP/3 seeds", file=sys.stderr)
        return []

    def headers(method, path, extra=(), sid=0, enc=None):
        enc = enc or pylsqpack.Encoder()
        hs = [(b":method", method), (b":scheme", b"https"), (b":authority", b"localhost"), (b":path", path)]
        _, block = enc.encode(sid, hs + list(extra))
        return frame(0x01, block)

    settings = varint(0x00) + frame(0x04, varint(0x06) + varint(65536) + varint(0x01) + varint(4096) + varint(0x07) + varint(16))
    auth = [(b"authorization", b"Bearer 0123456789abcdef"), (b"content-type", b"application/json")]
    body = b'{"properties": [{"name": "power", "value": "on"}]}'
    seeds = [
        records((0 | FIN | NOW, headers(b"GET", b"/v1/ping"))),
        records((CONTROL, settings), (0, headers(b"POST", b"/v1/devices/lamp/events?wait=1", auth)),
                (0 | FIN | NOW, frame(0x00, body))),
        records((0, headers(b"POST", b"/v1/x", [(b"content-length", str(len(body)).encode())])),
                (1 | FIN, headers(b"GET", b"/s/actions", sid=4)), (0 | FIN | NOW, frame(0x00, body))),
        records((0, headers(b"PUT", b"/v1/scripts/a.js")), (0 | FIN | NOW, frame(0x00, b"x" * 3000))),
        records((0 | FIN, headers(b"GET", b"nopath")), (1 | FIN, headers(b"CONNECT", b"/", sid=4)),
                (2 | FIN | NOW, frame(0x01, b"\x00\x00\xd1"))),
        records((0, headers(b"POST", b"/v1/y")), (0 | NOW, frame(0x00, b"partial")), (0 | RESET | NOW, b"")),
        records((0 | FIN | NOW, headers(b"GET", b"/v1/" + b"a" * 9000))),
        records((CONTROL | NOW, settings + frame(0x07, varint(0))), (0 | FIN, headers(b"GET", b"/after-goaway"))),
        records((0, frame(0x21, b"reserved frame type") + headers(b"GET", b"/v1/status")), (0 | FIN | NOW, b"")),
    ]
    # Six half-sent bodies of 64 * 232 bytes (under max_body each) on one
    # connection: its body budget (64 KiB + 2 * max_body) jams and the newest
    # request is rejected (H3_REQUEST_REJECTED); then the others finish.
    # And one body over max_body: 413.
    chunk = frame(0x00, b"b" * 230)
    ops = [0, 1, 2, 3, 0 | HIGH, 1 | HIGH]
    seeds.append(records(*([(op, headers(b"POST", b"/v1/up/%d" % i, sid=4 * i)) for i, op in enumerate(ops)]
                           + [(op | BIG | NOW, chunk) for op in ops] + [(op | FIN | NOW, b"") for op in ops])))
    seeds.append(records((0, headers(b"POST", b"/v1/big")), (0 | BIG | NOW, frame(0x00, b"x" * 250)),
                         (0 | BIG | NOW, frame(0x00, b"y" * 250)), (0 | FIN | NOW, b"")))
    # QPACK dynamic table, by hand (pylsqpack only inserts on reuse): the
    # encoder stream sets the capacity and inserts ":path: /v1/dyn"; the
    # request's field section needs that insert (Required Insert Count 1).
    encoder = varint(0x02) + bytes([0x3f, 0xe1, 0x1f]) + bytes([0xc1, 0x07]) + b"/v1/dyn"
    block = bytes([0x02, 0x00, 0xd1, 0xd7, 0x80, 0x50, 0x09]) + b"localhost"
    seeds.append(records((CONTROL, settings), (ENCODER | NOW, encoder), (0 | FIN | NOW, frame(0x01, block))))
    # ... and the request first: blocked on QPACK until the insert arrives.
    seeds.append(records((CONTROL, settings), (0 | FIN | NOW, frame(0x01, block)), (ENCODER | NOW, encoder)))
    # ... blocked with a body behind it, then unblocked.
    seeds.append(records((CONTROL, settings), (0 | NOW, frame(0x01, block)), (0 | FIN | NOW, frame(0x00, b"0123456789" * 20)),
                         (ENCODER | NOW, encoder)))
    return seeds


def main():
    for s in JSON_SEEDS:
        put("json", s)
    for cfg in scenario_configs():
        put("json", cfg)
        put("config", cfg)
        c = json.loads(cfg)
        for d in c.get("devices", []):
            put("definitions", json.dumps(d))
        if c.get("groups"):
            put("definitions", json.dumps(c["groups"]))
    with open(os.path.join(ROOT, "overlay", "etc", "auto-home", "config.json"), "rb") as f:
        put("config", f.read())
    put("config", json.dumps({"listen": "[::]:4242", "tls": {"cert": "/c.pem", "key": "/k.pem"}, "vms": 2,
                              "ringSize": 64, "maxEventBytes": 512, "propertyHistory": 8, "repeatWindowMs": 10,
                              "scriptTimeoutMs": 50, "vmMemoryBytes": 1048576, "pluginTimeoutMs": 10,
                              "flushIntervalMs": 0, "historyDays": 1, "gpio": {}, "plugins": {},
                              "logLevel": "debug", "devices": [DEFINITIONS[0]],
                              "groups": [{"id": "all", "devices": ["lamp1"]}]}))
    for b in EVENT_BODIES:
        for origin in (b"\x00", b"\x01"):
            put("event", origin + json.dumps(b).encode())
    # bit 1: the event carries its own device definition
    for d, props in [
        (DEFINITIONS[0], [{"name": "level", "value": 300}, {"name": "on", "value": "off"}, {"name": "label", "value": "x"}]),
        ({"id": "t", "properties": [{"name": "v", "type": "dial", "min": -1e308, "max": 1e308, "value": 0}]},
         [{"name": "v", "value": "-1.5e307"}]),
        ({"id": "t", "properties": [{"name": "v", "type": "dial", "min": 3, "max": 3}, {"name": "b", "type": "button", "value": "on"}]},
         [{"name": "v", "value": 7}, {"name": "b", "value": "open"}]),
        ({"id": "t", "properties": [{"name": "s", "type": "text", "mode": "RO"}]}, [{"name": "s", "value": "from the device"}]),
    ]:
        for origin in (b"\x02", b"\x03"):
            put("event", origin + json.dumps({"device": d, "properties": props}).encode())
    for d in DEFINITIONS:
        put("definitions", json.dumps(d))
    for h in h3_seeds():
        put("h3", h)


if __name__ == "__main__":
    sys.exit(main())
