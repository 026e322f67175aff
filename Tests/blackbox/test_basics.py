"""Ping, status, tokens and scopes, unknown routes and methods, the plugin route."""
import os
import stat


def test_ping_needs_no_token(daemon):
    r = daemon.get("/v1/ping", token=None)
    assert r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"ok": True}


def test_status_shape(daemon):
    s = daemon.status()
    assert set(s) == {"version", "uptimeSeconds", "events", "ring", "vms", "scripts", "memory"}
    assert set(s["events"]) == {"accepted", "processed", "rejected", "busy"}
    assert s["ring"] == {"capacity": 1024, "used": s["ring"]["used"]}
    assert set(s["vms"]) == {"size", "busy", "replaced"} and s["vms"]["size"] == 4
    assert set(s["scripts"]) == {"generation", "errors", "errorsByScript"}
    assert s["memory"]["rssBytes"] > 1 << 20
    assert isinstance(s["version"], str) and s["uptimeSeconds"] >= 0


def test_admin_token_file(daemon):
    path = daemon.data / "admin.token"
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600
    assert len(daemon.admin) == 64 and int(daemon.admin, 16) >= 0
    # only the hash is kept
    import hashlib
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % (daemon.data / "auto-home.db"), uri=True)
    hashes = [h for (h,) in db.execute("SELECT hash FROM tokens")]
    db.close()
    assert hashlib.sha256(daemon.admin.encode()).hexdigest() in hashes
    assert daemon.admin.encode() not in (daemon.data / "auto-home.db").read_bytes()


def test_missing_and_wrong_token_401(daemon):
    for tok in (None, "nope", "0" * 64):
        r = daemon.get("/v1/status", token=tok)
        assert r.status == 401, r.text
        assert "error" in r.json()
    r = daemon.get("/v1/status", token=None, headers=[("authorization", "Basic abc")])
    assert r.status == 401


def test_scopes(daemon):
    read, device = daemon.token("read"), daemon.token("device")
    assert daemon.get("/v1/status", token=read).status == 200
    assert daemon.get("/v1/devices", token=read).status == 200
    assert daemon.get("/v1/status", token=device).status == 403
    r = daemon.put("/v1/devices/lamp/properties/level", {"value": 1}, token=read)
    assert r.status == 403 and "admin" in r.json()["error"]
    assert daemon.put("/v1/scripts/x.js", "1;", token=read).status == 403
    assert daemon.post("/v1/tokens", {"scope": "read"}, token=read).status == 403
    reg = {"id": "scope-dev", "properties": [{"name": "t", "type": "dial"}]}
    assert daemon.post("/v1/devices", reg, token=read).status == 403
    assert daemon.post("/v1/devices", reg, token=device).status == 201


def test_token_management(daemon):
    r = daemon.post("/v1/tokens", {"scope": "read"})
    assert r.status == 201
    t = r.json()
    assert t["scope"] == "read" and len(t["token"]) == 64
    listed = daemon.get("/v1/tokens").json()["tokens"]
    assert any(x["id"] == t["id"] and x["scope"] == "read" for x in listed)
    assert all("token" not in x and "hash" not in x for x in listed)
    assert daemon.get("/v1/status", token=t["token"]).status == 200
    assert daemon.delete("/v1/tokens/" + t["id"]).status == 200
    assert daemon.get("/v1/status", token=t["token"]).status == 401
    assert daemon.delete("/v1/tokens/" + t["id"]).status == 404
    assert daemon.post("/v1/tokens", {"scope": "root"}).status == 400
    # the last admin token cannot be revoked
    admin_ids = [x["id"] for x in daemon.get("/v1/tokens").json()["tokens"] if x["scope"] == "admin"]
    assert len(admin_ids) == 1
    assert daemon.delete("/v1/tokens/" + admin_ids[0]).status == 409


def test_unknown_route_404_and_wrong_method_405(daemon):
    r = daemon.get("/v1/nothing")
    assert r.status == 404 and r.json()["error"]
    assert daemon.get("/").status == 404
    r = daemon.delete("/v1/ping")
    assert r.status == 405 and "GET" in r.headers.get("allow", "")
    assert "error" in r.json()
    assert daemon.post("/v1/status", {}).status == 405
    assert daemon.call("PATCH", "/v1/devices").status == 405


def test_plugin_route_goes_through_the_plugin_host(daemon):
    # No plugin is configured here: the host answers 404 naming the plugin.
    r = daemon.post("/v1/plugins/sun/isDark", [])
    assert r.status == 404 and "sun" in r.json()["error"]
    r = daemon.post("/v1/plugins/sun/isDark", {"not": "an array"})
    assert r.status == 400 and r.json()["field"] == "body"
    assert daemon.post("/v1/plugins/sun/isDark", [], token=None).status == 401


def test_malformed_json_says_where(daemon):
    r = daemon.post("/v1/tokens", b'{"scope": ')
    assert r.status == 400
    e = r.json()
    assert "malformed JSON" in e["error"] and "byte" in e["error"]
