"""Hardening #4 against the real daemon: a malformed HTTP/3 request is a
stream error (RFC 9114 §4.1.2); the connection and its other streams go on."""
import asyncio

from conftest import run


def test_malformed_requests_never_take_the_connection_down(daemon):
    reg = daemon.register({"id": "pe", "name": "PE", "properties": [{"name": "on", "type": "switch"}]})

    async def go():
        async with daemon.connect() as c:
            # an action stream held open across every error below
            held = await c.open_stream("GET", "/v1/actions/" + reg)
            cases = [
                ("POST", "/v1/event/" + reg, [("content-length", "10")], b'{"a":1}'),   # shorter than said
                ("POST", "/v1/event/" + reg, [("content-length", "2")], b'{"properties":[]}'),  # longer
                ("GET", "v1/ping", [], None),           # no leading slash
                ("CONNECT", "/v1/ping", [], None),
                ("POST", "/v1/tokens", [("content-length", "-1")], b"{}"),
            ]
            for method, path, headers, body in cases:
                r = c.begin(method, path, headers, daemon.admin, end_stream=body is None, content_type="application/json")
                if body is not None:
                    c.h3.send_data(r.stream_id, body, end_stream=True)
                c.transmit()
                try:
                    await asyncio.wait_for(asyncio.shield(r.done), 5)
                    assert r.status == 400 or r.status is None, (method, path, r.status)
                except (ConnectionResetError, ConnectionError):
                    pass  # reset: the stream error RFC 9114 asks for
                ok = await c.get("/v1/ping")
                assert ok.status == 200, (method, path, "the connection must survive")
            assert not held.ended, "the held stream must survive"
            assert (await c.put("/v1/devices/pe/properties/on", {"value": True}, token=daemon.admin)).status == 202
            line = await held.next_json(timeout=5)
            assert line["properties"] == [{"name": "on", "value": True}]
    run(go())
