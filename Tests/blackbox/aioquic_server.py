#!/usr/bin/env python3
"""A tiny HTTP/3 server on aioquic's API: an independent peer for the client
core (CQuic's client role via `autohome`), not our C server.

    python3 aioquic_server.py DIR      prints "PORT n" and "FP hex" once listening

  GET  /v1/status   200 a status-shaped JSON object
  GET  /v1/watch    200 NDJSON, one line every 50 ms: lamp.level = 0, 1, 2 ... (ends after 20)
  POST /echo        200 the body back (bench --path /echo: many concurrent streams)
  GET  /v1/devices/x 404 {"error": ...}
  anything else     401 when the authorization header is not "Bearer good", else 404
"""
import asyncio
import datetime
import hashlib
import json
import os
import sys

from aioquic.asyncio import serve
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ProtocolNegotiated
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_cert(d):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
    cp, kp = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    open(cp, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    open(kp, "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cp, kp, hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


class Peer(QuicConnectionProtocol):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.h3 = None
        self.reqs = {}

    def quic_event_received(self, event):
        if isinstance(event, ProtocolNegotiated):
            self.h3 = H3Connection(self._quic)
        if self.h3 is None:
            return
        for ev in self.h3.handle_event(event):
            if isinstance(ev, HeadersReceived):
                h = {k.decode(): v.decode() for k, v in ev.headers}
                self.reqs[ev.stream_id] = (h, bytearray())
                if ev.stream_ended:
                    self.handle(ev.stream_id)
            elif isinstance(ev, DataReceived) and ev.stream_id in self.reqs:
                self.reqs[ev.stream_id][1].extend(ev.data)
                if ev.stream_ended:
                    self.handle(ev.stream_id)

    def send(self, sid, status, body, end=True):
        self.h3.send_headers(sid, [(b":status", str(status).encode()), (b"content-type", b"application/json")])
        self.h3.send_data(sid, body, end_stream=end)
        self.transmit()

    def handle(self, sid):
        h, body = self.reqs.pop(sid)
        method, path = h.get(":method"), h.get(":path")
        if method == "POST" and path == "/echo":
            return self.send(sid, 200, bytes(body))
        if h.get("authorization") != "Bearer good":
            return self.send(sid, 401, b'{"error": "unknown or malformed token"}')
        if path == "/v1/status":
            s = {"version": "peer", "uptimeSeconds": 5, "events": {"accepted": 1, "processed": 1, "rejected": 0,
                 "busy": 0}, "ring": {"capacity": 8, "used": 0}, "vms": {"size": 1, "busy": 0, "replaced": 0},
                 "scripts": {"generation": 1, "errors": 0}, "memory": {"rssBytes": 1 << 20}}
            return self.send(sid, 200, json.dumps(s).encode())
        if path.startswith("/v1/watch"):
            self.h3.send_headers(sid, [(b":status", b"200"), (b"content-type", b"application/x-ndjson")])
            self.transmit()
            asyncio.ensure_future(self.ticker(sid))
            return
        self.send(sid, 404, b'{"error": "no such resource"}')

    async def ticker(self, sid):
        for i in range(20):
            await asyncio.sleep(0.05)
            line = {"time": 1700000000000 + i, "device": "lamp", "property": "level", "value": i}
            self.h3.send_data(sid, (json.dumps(line) + "\n").encode(), end_stream=False)
            self.transmit()
        self.h3.send_data(sid, b"", end_stream=True)
        self.transmit()


async def main(d):
    cp, kp, fp = make_cert(d)
    cfg = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN, max_datagram_frame_size=None)
    cfg.load_cert_chain(cp, kp)
    server = await serve("127.0.0.1", 0, configuration=cfg, create_protocol=Peer)
    port = server._transport.get_extra_info("sockname")[1]
    print("PORT %d" % port, flush=True)
    print("FP %s" % fp, flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
