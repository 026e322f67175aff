"""Malformed HTTP/3 requests are stream errors (RFC 9114 §4.1.2, §4.3.1):
the stream is reset with H3_MESSAGE_ERROR (or answered 400 first), never
the connection, never another stream of it.  Imported by test_cquic.py (it
shares its `server` fixture); not collected on its own."""
import asyncio
import json

import pytest

from cqtest import SLOW, eventually, h3, run

H3_MESSAGE_ERROR = 0x10E

BASE = [(b":scheme", b"https"), (b":authority", b"localhost")]

# name -> (header list, body or None, end_stream after the body)
MALFORMED = {
    "path-without-slash": ([(b":method", b"GET"), (b":path", b"v1/ping")] + BASE, None),
    "path-asterisk": ([(b":method", b"GET"), (b":path", b"*")] + BASE, None),
    "options-asterisk": ([(b":method", b"OPTIONS"), (b":path", b"*")] + BASE, None),
    "odd-scheme-no-slash": ([(b":method", b"GET"), (b":scheme", b"foo"), (b":authority", b"localhost"),
                             (b":path", b"ping")], None),
    "odd-scheme-post-with-body": ([(b":method", b"POST"), (b":scheme", b"foo"), (b":authority", b"localhost"),
                                   (b":path", b"echo")], b"y" * 50000),
    "connect": ([(b":method", b"CONNECT"), (b":authority", b"localhost:443")], None),
    "connect-with-path": ([(b":method", b"CONNECT"), (b":path", b"/ping")] + BASE, None),
    "content-length-negative": ([(b":method", b"POST"), (b":path", b"/echo")] + BASE
                                + [(b"content-length", b"-1")], b"x"),
    "content-length-not-a-number": ([(b":method", b"POST"), (b":path", b"/echo")] + BASE
                                    + [(b"content-length", b"12abc")], b"x" * 12),
    "content-length-above-body": ([(b":method", b"POST"), (b":path", b"/echo")] + BASE
                                  + [(b"content-length", b"10")], b"hello"),
    "content-length-below-body": ([(b":method", b"POST"), (b":path", b"/echo")] + BASE
                                  + [(b"content-length", b"3")], b"hello world"),
}


def send_raw(c, headers, body):
    """Headers exactly as given (aioquic does not check what it sends)."""
    from h3client import Response
    sid = c._quic.get_next_available_stream_id()
    r = Response(sid)
    c.responses[sid] = r
    c.h3.send_headers(sid, headers, end_stream=body is None)
    if body is not None:
        c.h3.send_data(sid, body, end_stream=True)
    c.transmit()
    return r


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_request_is_a_stream_error(server, name):
    headers, body = MALFORMED[name]
    async def go():
        async with h3("127.0.0.1", server.port) as c:
            # another stream of the same connection, open across the error
            hold = await c.open_stream("GET", "/hold")
            r = send_raw(c, headers, body)
            await asyncio.wait_for(asyncio.shield(r.done), 10 * SLOW)
            if r.reset_code is not None:
                assert r.reset_code == H3_MESSAGE_ERROR, hex(r.reset_code)
            else:
                assert r.status == 400, (r.status, bytes(r.body))
                assert r.headers["content-type"] == "application/json"
                assert json.loads(r.body)["error"]
            await asyncio.sleep(0.1)
            assert c.terminated is None, f"{name}: connection closed: {c.terminated}"
            assert hold.reset_code is None and not hold.ended, f"{name}: another stream was hit"
            # a normal request on a new stream of the same connection
            ok = await c.request("GET", "/ping")
            assert (ok.status, bytes(ok.body)) == (200, b"pong")
            p = await c.request("POST", "/echo", b"fine", headers=[("content-length", "4")])
            assert p.status == 200 and bytes(p.body) == b"fine"
            print(f"{name}: " + (f"reset {r.reset_code:#x}" if r.reset_code is not None else f"{r.status} {bytes(r.body)}"))
    run(go())
