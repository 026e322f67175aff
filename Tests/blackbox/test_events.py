"""POST /v1/event/<registration>: 202, ?wait=1 results, and every rejection."""
import pytest

SENSOR = {"id": "sensor", "name": "Sensor", "properties": [
    {"name": "temp", "type": "dial", "min": -40, "max": 60},
    {"name": "door", "type": "switch"},
    {"name": "label", "type": "text"},
    {"name": "cmd", "type": "text", "mode": "WO"},
    {"name": "bounce", "type": "switch", "repeatWindowMs": 60000},
]}


@pytest.fixture(scope="module")
def reg(daemon):
    return daemon.register(SENSOR)


def ev(*pairs):
    return {"properties": [{"name": n, "value": v} for n, v in pairs]}


def test_event_202_then_applied(daemon, reg):
    r = daemon.post("/v1/event/" + reg, ev(("temp", 21.5)), token=None)
    assert r.status == 202, r.text
    seq = r.json()["seq"]
    assert isinstance(seq, int) and seq > 0
    daemon.wait_until(lambda: daemon.get("/v1/devices/sensor/properties/temp").json()["value"] == 21.5,
                      what="the event to be processed")
    r2 = daemon.post("/v1/event/" + reg, ev(("temp", 22)), token=None)
    assert r2.json()["seq"] > seq


def test_wait_applied_and_skipped(daemon, reg):
    r = daemon.post("/v1/event/%s?wait=1" % reg, ev(("door", "open"), ("label", "front")), token=None)
    assert r.status == 200, r.text
    body = r.json()
    assert set(body) == {"seq", "applied", "skipped", "actions", "logs", "errors"}  # SPEC §5: a replay line's fields
    assert body["actions"] == [] and body["logs"] == [] and body["errors"] == []
    assert body["applied"] == [{"name": "door", "value": True}, {"name": "label", "value": "front"}]
    assert body["skipped"] == []
    # the same values again: nothing changes
    r = daemon.post("/v1/event/%s?wait=1" % reg, ev(("door", "on"), ("label", "front")), token=None)
    body = r.json()
    assert body["applied"] == []
    assert sorted(s["name"] for s in body["skipped"]) == ["door", "label"]
    assert all(s["reason"] == "unchanged" for s in body["skipped"])
    # a dial string is accepted; out of range is clamped
    r = daemon.post("/v1/event/%s?wait=1" % reg, ev(("temp", "99")), token=None)
    assert r.json()["applied"] == [{"name": "temp", "value": 60}]


def test_repeat_window_skip(daemon, reg):
    r = daemon.post("/v1/event/%s?wait=1" % reg, ev(("bounce", True)), token=None)
    assert r.json()["applied"] == [{"name": "bounce", "value": True}]
    r = daemon.post("/v1/event/%s?wait=1" % reg, ev(("bounce", False)), token=None)
    assert r.json()["skipped"] == [{"name": "bounce", "reason": "repeat-window"}]


def test_unknown_registration_404(daemon):
    r = daemon.post("/v1/event/" + "0" * 32, ev(("temp", 1)), token=None)
    assert r.status == 404 and "registration" in r.json()["error"]
    assert daemon.post("/v1/event/sensor", ev(("temp", 1)), token=None).status == 404


def test_invalid_events_400(daemon, reg):
    before = daemon.status()["events"]
    bad = [
        (b'{"properties": [', None),
        (b"[]", None),
        ({"props": []}, "properties"),
        ({"properties": []}, "properties"),
        (ev(("nope", 1)), "nope"),
        (ev(("door", "banana")), "door"),
        (ev(("temp", {"x": 1})), "temp"),
        (ev(("label", 5)), "label"),
        (ev(("cmd", "x")), "cmd"),           # WO: a device never reports it
        (ev(("temp", 1), ("temp", 2)), "temp"),
        ({"properties": [{"value": 1}]}, "properties[0]"),
    ]
    for body, field in bad:
        r = daemon.post("/v1/event/" + reg, body, token=None)
        assert r.status == 400, (body, r.text)
        e = r.json()
        assert e["error"]
        if field:
            assert e.get("field") == field or field in e["error"], (body, e)
    after = daemon.status()["events"]
    assert after["rejected"] - before["rejected"] == len(bad)
    assert after["accepted"] == before["accepted"]


def test_wrong_kind_not_half_applied(daemon, reg):
    daemon.post("/v1/event/%s?wait=1" % reg, ev(("label", "before")), token=None)
    r = daemon.post("/v1/event/%s?wait=1" % reg, ev(("label", "after"), ("door", "banana")), token=None)
    assert r.status == 400 and "door" in r.json()["error"]
    assert daemon.get("/v1/devices/sensor/properties/label").json()["value"] == "before"


def test_body_over_max_event_bytes_413(daemon, reg):
    big = ev(("label", "x" * 5000))  # maxEventBytes is 4096
    r = daemon.post("/v1/event/" + reg, big, token=None)
    assert r.status == 413 and r.json()["error"]
    huge = b'{"properties": [' + b" " * (3 << 20) + b"]}"
    assert daemon.post("/v1/event/" + reg, huge, token=None).status == 413
    # the daemon is fine afterwards
    assert daemon.post("/v1/event/%s?wait=1" % reg, ev(("temp", 5)), token=None).status == 200


def test_text_over_1024_bytes_400(daemon, reg):
    r = daemon.post("/v1/event/" + reg, ev(("label", "é" * 600)), token=None)
    assert r.status == 400 and "label" in r.json()["error"]
