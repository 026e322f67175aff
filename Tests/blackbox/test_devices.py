"""Registration, device and property views, PUT of a property as a command."""

THERMO = {"id": "thermo", "name": "Thermostat", "properties": [
    {"name": "temp", "type": "dial", "min": -40, "max": 60, "mode": "RO"},
    {"name": "target", "type": "dial", "min": 5, "max": 30, "value": 20},
    {"name": "mode", "type": "text", "value": "auto"},
]}


def test_register_update_and_takeover(daemon):
    dev_a, dev_b = daemon.token("device"), daemon.token("device")
    r = daemon.post("/v1/devices", THERMO, token=dev_a)
    assert r.status == 201, r.text
    body = r.json()
    assert body["id"] == "thermo"
    reg = body["registration"]
    assert len(reg) >= 32 and int(reg, 16) >= 0  # >= 128 bits of hex

    # a value, then the same id from the same token: 200, same registration, value kept
    r = daemon.post("/v1/event/%s?wait=1" % reg, {"properties": [{"name": "target", "value": 22}]}, token=None)
    assert r.status == 200, r.text
    changed = dict(THERMO, properties=THERMO["properties"] + [{"name": "fan", "type": "switch"}])
    changed["properties"][2] = {"name": "mode", "type": "switch"}  # type changed: value reset
    r = daemon.post("/v1/devices", changed, token=dev_a)
    assert r.status == 200 and r.json() == {"id": "thermo", "registration": reg}
    view = daemon.get("/v1/devices/thermo").json()
    props = {p["name"]: p for p in view["properties"]}
    assert props["target"]["value"] == 22
    assert props["mode"]["value"] is False and props["fan"]["value"] is False

    # another token: 409, nothing changed
    r = daemon.post("/v1/devices", THERMO, token=dev_b)
    assert r.status == 409 and r.json()["error"]
    assert {p["name"] for p in daemon.get("/v1/devices/thermo").json()["properties"]} == {"temp", "target", "mode", "fan"}


def test_config_devices_cannot_be_registered(daemon):
    r = daemon.post("/v1/devices", {"id": "lamp", "properties": []})
    assert r.status == 409


def test_invalid_definitions_400_with_field(daemon):
    cases = [
        ({"id": "bad id", "properties": []}, "id"),
        ({"id": "x", "properties": [{"name": "a", "type": "laser"}]}, "properties[0].type"),
        ({"id": "x", "properties": [{"name": "a", "type": "dial", "min": 5, "max": 1}]}, "properties[0].min"),
        ({"id": "x", "properties": [{"name": "a", "type": "switch"}, {"name": "a", "type": "text"}]}, "properties[1].name"),
        ({"id": "x"}, "properties"),
    ]
    for body, field in cases:
        r = daemon.post("/v1/devices", body)
        assert r.status == 400, (body, r.text)
        assert r.json().get("field") == field, r.text
    assert daemon.post("/v1/devices", b"[1,").status == 400
    assert daemon.post("/v1/devices", [1]).status == 400


def test_views_never_show_registration(daemon):
    reg = daemon.register({"id": "secretive", "properties": [{"name": "x", "type": "switch"}]})
    listing = daemon.get("/v1/devices")
    assert listing.status == 200
    ids = [d["id"] for d in listing.json()["devices"]]
    assert "lamp" in ids and "secretive" in ids
    assert reg not in listing.text
    one = daemon.get("/v1/devices/secretive")
    assert one.status == 200 and reg not in one.text
    assert one.json()["properties"][0] == {"name": "x", "type": "switch", "value": False, "label": "off", "mode": "RW"}


def test_unknown_device_and_property_404(daemon):
    assert daemon.get("/v1/devices/nope").status == 404
    assert daemon.get("/v1/devices/lamp/properties/nope").status == 404
    assert daemon.get("/v1/devices/nope/properties/x").status == 404
    assert daemon.put("/v1/devices/nope/properties/x", {"value": 1}).status == 404
    assert daemon.put("/v1/devices/lamp/properties/nope", {"value": 1}).status == 404
    assert daemon.get("/v1/devices/bad%20id").status == 400


def test_property_view_with_history(daemon):
    for v in (10, 20, 30):
        r = daemon.put("/v1/devices/lamp/properties/level?wait=1", {"value": v})
        assert r.status == 200, r.text
    r = daemon.get("/v1/devices/lamp/properties/level")
    assert r.status == 200
    p = r.json()
    assert p["name"] == "level" and p["type"] == "dial" and p["value"] == 30 and p["min"] == 0 and p["max"] == 100
    values = [h["value"] for h in p["history"]]
    assert values[:3] == [30, 20, 10]
    times = [h["time"] for h in p["history"]]
    assert times == sorted(times, reverse=True) and times[0] > 1.6e12
    assert len(daemon.get("/v1/devices/lamp/properties/level?limit=2").json()["history"]) == 2


def test_put_command(daemon):
    r = daemon.put("/v1/devices/lamp/properties/power", {"value": "on"})
    assert r.status == 202 and isinstance(r.json()["seq"], int)
    daemon.wait_until(lambda: daemon.get("/v1/devices/lamp/properties/power").json()["value"] is True,
                      what="the command to apply")
    r = daemon.put("/v1/devices/lamp/properties/power?wait=1", {"value": "off"})
    assert r.status == 200 and r.json()["applied"] == [{"name": "power", "value": False}]
    # RO: 409; wrong kind: 400 naming the property; no value: 400
    r = daemon.put("/v1/devices/lamp/properties/watts", {"value": 5})
    assert r.status == 409 and r.json()["field"] == "watts"
    r = daemon.put("/v1/devices/lamp/properties/level", {"value": "banana"})
    assert r.status == 400 and "level" in r.json()["error"]
    assert daemon.put("/v1/devices/lamp/properties/level", {"v": 1}).status == 400
    assert daemon.put("/v1/devices/lamp/properties/level", b"{").status == 400
    # WO accepts commands
    assert daemon.put("/v1/devices/lamp/properties/note", {"value": "hi"}).status == 202
    # dial out of range is clamped, not rejected
    r = daemon.put("/v1/devices/lamp/properties/level?wait=1", {"value": 1000})
    assert r.status == 200 and r.json()["applied"] == [{"name": "level", "value": 100}]
