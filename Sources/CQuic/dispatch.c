/*
 * dispatch.c - routes one incoming datagram: to an existing connection (by
 * Destination Connection ID), to a new connection (a valid client Initial),
 * or answers it statelessly (Version Negotiation, CONNECTION_REFUSED).
 * Anything else is dropped without a reply: garbage must never cost more
 * than a hash lookup.
 */
#include <string.h>

#include "internal.h"

static void send_version_negotiation(cq_server *s, const ngtcp2_version_cid *vc,
                                     const ngtcp2_addr *local, const ngtcp2_addr *remote) {
    uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
    uint32_t versions[2];
    uint8_t unused;
    /* A reserved (greasing) version first, so clients keep tolerating
     * unknown versions, then the one we speak. */
    cq_random(versions, sizeof(uint32_t));
    versions[0] = (versions[0] & 0xf0f0f0f0u) | 0x0a0a0a0au;
    versions[1] = NGTCP2_PROTO_VER_V1;
    cq_random(&unused, 1);
    /* Echo the client's ids swapped: its SCID becomes our DCID. */
    ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(
        buf, sizeof(buf), unused, vc->scid, vc->scidlen, vc->dcid, vc->dcidlen,
        versions, 2);
    if (n > 0) cq_udp_send(s, local, remote, buf, (size_t)n);
}

static void send_refused(cq_server *s, const ngtcp2_pkt_hd *hd,
                         const ngtcp2_addr *local, const ngtcp2_addr *remote) {
    uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
    ngtcp2_ssize n = ngtcp2_crypto_write_connection_close(
        buf, sizeof(buf), hd->version, &hd->scid, &hd->dcid,
        NGTCP2_CONNECTION_REFUSED, NULL, 0);
    if (n > 0) cq_udp_send(s, local, remote, buf, (size_t)n);
}

void cq_dispatch(cq_server *s, uint8_t *data, size_t len,
                 struct sockaddr_storage *remote, socklen_t remotelen,
                 struct sockaddr_storage *local, socklen_t locallen) {
    ngtcp2_addr la = {.addr = (ngtcp2_sockaddr *)local, .addrlen = locallen};
    ngtcp2_addr ra = {.addr = (ngtcp2_sockaddr *)remote, .addrlen = remotelen};
    ngtcp2_version_cid vc;

    /* No QUIC packet is shorter than 21 bytes (RFC 9000 §10.3). */
    if (len < 21) return;
    switch (ngtcp2_pkt_decode_version_cid(&vc, data, len, CQ_SCIDLEN)) {
    case 0:
        break;
    case NGTCP2_ERR_VERSION_NEGOTIATION:
        /* Only for datagrams a client Initial could be (>= 1200 bytes), so
         * the reply never amplifies (RFC 9000 §6, §14.1). */
        if (len >= NGTCP2_MAX_UDP_PAYLOAD_SIZE) send_version_negotiation(s, &vc, &la, &ra);
        return;
    default:
        return;
    }

    cq_conn *c = cq_map_get(&s->cids, vc.dcid, vc.dcidlen);
    if (c) {
        switch (c->state) {
        case CQ_ACTIVE:
            cq_conn_read(c, (struct sockaddr *)local, locallen,
                         (struct sockaddr *)remote, remotelen, data, len);
            cq_conn_mark_dirty(c);
            break;
        case CQ_CLOSING:
            cq_conn_resend_close(c);
            break;
        default: /* draining or dead: stay silent */
            break;
        }
        return;
    }

    /* Unknown connection id: only a client Initial may start a connection. */
    ngtcp2_pkt_hd hd;
    if (ngtcp2_accept(&hd, data, len) != 0) return;
    if (atomic_load(&s->stopping)) return;
    if (s->nconns >= s->cfg.max_connections) {
        cq_log(s, 1, "connection limit (%u) reached, refusing a client",
               (unsigned)s->cfg.max_connections);
        send_refused(s, &hd, &la, &ra);
        return;
    }
    c = cq_conn_new(s, &hd, (struct sockaddr *)local, locallen,
                    (struct sockaddr *)remote, remotelen);
    if (!c) return;
    cq_conn_read(c, (struct sockaddr *)local, locallen, (struct sockaddr *)remote,
                 remotelen, data, len);
    cq_conn_mark_dirty(c);
}
