"""Groups: list, put (create/replace), delete; cycles and unknown members."""


def test_group_lifecycle(daemon):
    r = daemon.put("/v1/groups/downstairs", {"name": "Downstairs", "devices": ["lamp"]})
    assert r.status == 201, r.text
    assert r.json()["id"] == "downstairs"
    r = daemon.put("/v1/groups/house", {"devices": ["hall"], "groups": ["downstairs"], "repeatWindowMs": 500})
    assert r.status == 201
    groups = {g["id"]: g for g in daemon.get("/v1/groups").json()["groups"]}
    assert groups["downstairs"]["devices"] == ["lamp"] and groups["downstairs"]["name"] == "Downstairs"
    assert groups["house"]["groups"] == ["downstairs"] and groups["house"]["repeatWindowMs"] == 500
    # replace
    r = daemon.put("/v1/groups/downstairs", {"devices": ["lamp", "hall"]})
    assert r.status == 200
    assert daemon.get("/v1/groups/downstairs").json()["devices"] == ["lamp", "hall"]
    # a group that is still a child cannot go; its parent can
    assert daemon.delete("/v1/groups/downstairs").status == 409
    assert daemon.delete("/v1/groups/house").status == 200
    assert daemon.delete("/v1/groups/downstairs").status == 200
    ids = [g["id"] for g in daemon.get("/v1/groups").json()["groups"]]
    assert "house" not in ids and "downstairs" not in ids
    assert daemon.delete("/v1/groups/house").status == 404
    assert daemon.get("/v1/groups/house").status == 404


def test_group_errors(daemon):
    r = daemon.put("/v1/groups/g1", {"devices": ["no-such-device"]})
    assert r.status == 400 and "no-such-device" in r.json()["error"]
    r = daemon.put("/v1/groups/g1", {"groups": ["no-such-group"]})
    assert r.status == 400
    assert daemon.put("/v1/groups/a", {"devices": []}).status == 201
    assert daemon.put("/v1/groups/b", {"groups": ["a"]}).status == 201
    r = daemon.put("/v1/groups/a", {"groups": ["b"]})  # a -> b -> a
    assert r.status == 400 and "cycle" in r.json()["error"]
    assert daemon.get("/v1/groups/a").json()["groups"] == []  # unchanged
    assert daemon.put("/v1/groups/a", {"id": "other"}).status == 400
    assert daemon.put("/v1/groups/bad%20id", {}).status == 400
    assert daemon.put("/v1/groups/a", b"{").status == 400
    assert daemon.put("/v1/groups/a", {"devices": "lamp"}).status == 400
    assert daemon.put("/v1/groups/a", {}, token=daemon.token("read")).status == 403
    assert daemon.get("/v1/groups", token=None).status == 401
