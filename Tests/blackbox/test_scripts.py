"""Scripts: list, get, put, delete, bundle; 422 on load failure; names;
atomic files on disk; hot reload under load without losing an event."""
import asyncio
import hashlib

from conftest import run

COUNTER = {"id": "counter", "properties": [{"name": "n", "type": "dial", "min": 0, "max": 1e9}]}


def names(d):
    return [s["name"] for s in d.get("/v1/scripts").json()["scripts"]]


def test_put_get_list_delete(make_daemon):
    d = make_daemon(scripts={"common.js": "var greeting = 'hi';\n"})
    listing = d.get("/v1/scripts").json()
    assert listing["generation"] == 1
    src = "set('lamp', { level_onchange: function (v) { home.log(greeting + v); } });\n"
    r = d.put("/v1/scripts/lamp.js", src)
    assert r.status == 200 and r.json() == {"generation": 2, "warnings": []}
    listing = d.get("/v1/scripts").json()
    assert listing["generation"] == 2
    entry = [s for s in listing["scripts"] if s["name"] == "lamp.js"][0]
    assert entry == {"name": "lamp.js", "size": len(src.encode()), "sha256": hashlib.sha256(src.encode()).hexdigest()}
    r = d.get("/v1/scripts/lamp.js")
    assert r.status == 200 and r.headers["content-type"] == "text/javascript" and r.text == src
    assert (d.scripts_dir / "lamp.js").read_text() == src
    assert not [p for p in d.scripts_dir.iterdir() if ".tmp" in p.name]
    # the new script runs
    assert d.put("/v1/devices/lamp/properties/level?wait=1", {"value": 3}).status == 200
    d.wait_until(lambda: "hi3" in d.log(), what="the script's log line")
    # delete
    r = d.delete("/v1/scripts/lamp.js")
    assert r.status == 200 and r.json() == {"generation": 3}
    assert not (d.scripts_dir / "lamp.js").exists()
    assert d.delete("/v1/scripts/lamp.js").status == 404
    assert d.get("/v1/scripts/lamp.js").status == 404


def test_422_changes_nothing(make_daemon):
    d = make_daemon(scripts={"a.js": "set('lamp', {});\n"})
    for bad, line in (("var x = ;\n", 1), ("\n\nvar y = 1;\nundefinedFunction();\n", 4)):
        r = d.put("/v1/scripts/b.js", bad)
        assert r.status == 422, r.text
        e = r.json()
        assert e["script"] == "b.js" and e["line"] == line and e["error"]
    assert names(d) == ["a.js"] and d.get("/v1/scripts").json()["generation"] == 1
    assert not (d.scripts_dir / "b.js").exists()
    # replacing a good file with a bad one keeps the good one
    assert d.put("/v1/scripts/a.js", "}").status == 422
    assert d.get("/v1/scripts/a.js").text == "set('lamp', {});\n"
    assert (d.scripts_dir / "a.js").read_text() == "set('lamp', {});\n"


def test_script_names(daemon):
    for bad in ("..%2Fx.js", "../x.js", "a/b.js", "x.txt", ".js", "..js", ".hidden.js", "a%20b.js", "x" * 70 + ".js"):
        for method in ("GET", "PUT", "DELETE"):
            r = daemon.call(method, "/v1/scripts/" + bad, "1;" if method == "PUT" else None)
            assert r.status == 400, (method, bad, r.status, r.text)
            assert "error" in r.json()
    r = daemon.post("/v1/scripts", {"scripts": {"../evil.js": "1;"}})
    assert r.status == 400 and "evil" in r.json()["error"]


def test_script_too_large_413(daemon):
    r = daemon.put("/v1/scripts/big.js", b"//" + b"x" * (1 << 20))
    assert r.status == 413 and r.json()["error"]
    r = daemon.put("/v1/scripts/ok.js", b"//" + b"x" * ((1 << 20) - 10))
    assert r.status == 200, r.text
    assert daemon.delete("/v1/scripts/ok.js").status == 200


def test_bundle(make_daemon):
    d = make_daemon(scripts={"old.js": "1;\n", "keep.js": "2;\n"})
    r = d.post("/v1/scripts", {"scripts": {"a.js": "var a = 1;", "b.js": "var b = 2;"}})
    assert r.status == 200 and r.json()["generation"] == 2
    assert names(d) == ["a.js", "b.js", "keep.js", "old.js"]
    # a bad file in a bundle: nothing of it applies
    r = d.post("/v1/scripts", {"scripts": {"c.js": "var c = 3;", "d.js": "var = ;"}, "replace": True})
    assert r.status == 422 and r.json()["script"] == "d.js"
    assert names(d) == ["a.js", "b.js", "keep.js", "old.js"]
    assert not (d.scripts_dir / "c.js").exists()
    # replace: the bundle is the whole set
    r = d.post("/v1/scripts", {"scripts": {"c.js": "var c = 3;"}, "replace": True})
    assert r.status == 200 and r.json()["generation"] == 3
    assert names(d) == ["c.js"]
    assert sorted(p.name for p in d.scripts_dir.iterdir()) == ["c.js"]
    for body in ({"scripts": []}, {"scripts": {"a.js": 5}}, {"scripts": {}, "replace": "yes"}, {"files": {}}):
        assert d.post("/v1/scripts", body).status == 400, body


def test_hot_reload_under_load(make_daemon):
    """Events keep flowing while scripts are replaced; every accepted event is processed."""
    d = make_daemon(config={"vms": 2}, scripts={"count.js": "set('counter', {});\n"})
    reg = d.register(COUNTER)
    before = d.status()["events"]

    async def sender(c, k, n, seqs):
        for i in range(n):
            r = await c.post("/v1/event/%s" % reg, {"properties": [{"name": "n", "value": k * 100000 + i}]})
            assert r.status == 202, r.text
            seqs.append(r.json()["seq"])

    async def reloader(c, n):
        gens = []
        for i in range(n):
            src = "set('counter', { n_onchange: function (v) { home.setGlobal('last', v + %d); } });\n" % i
            r = await c.put("/v1/scripts/count.js", src, token=d.admin)
            assert r.status == 200, r.text
            gens.append(r.json()["generation"])
        return gens

    async def go():
        async with d.connect() as c:
            seqs = []
            results = await asyncio.gather(sender(c, 1, 150, seqs), sender(c, 2, 150, seqs), reloader(c, 8))
            return seqs, results[2]
    seqs, gens = run(go())
    assert len(set(seqs)) == 300
    assert gens == sorted(gens) and len(set(gens)) == 8
    d.wait_until(lambda: d.status()["events"]["processed"] - before["processed"] == 300, what="all events processed")
    after = d.status()
    assert after["events"]["accepted"] - before["accepted"] == 300
    assert after["scripts"]["generation"] == gens[-1]
    assert after["ring"]["used"] == 0
