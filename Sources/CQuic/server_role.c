/*
 * server_role.c - the server role on an endpoint: the public cq_server API
 * (lifecycle, stats) and accepting connections.
 *
 * The endpoint (endpoint.c) hands us every datagram whose Destination
 * Connection ID is none of our connections'.  We answer it statelessly
 * (Version Negotiation, CONNECTION_REFUSED) or, for a valid client Initial,
 * create a server connection.  Anything else is dropped without a reply:
 * garbage must never cost more than a header decode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- stateless answers --------------------------------------------------- */

static void send_version_negotiation(cq_endpoint *ep, const ngtcp2_version_cid *vc,
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
    if (n > 0) cq_udp_send(ep, local, remote, buf, (size_t)n);
}

static void send_refused(cq_endpoint *ep, const ngtcp2_pkt_hd *hd,
                         const ngtcp2_addr *local, const ngtcp2_addr *remote) {
    uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
    ngtcp2_ssize n = ngtcp2_crypto_write_connection_close(
        buf, sizeof(buf), hd->version, &hd->scid, &hd->dcid,
        NGTCP2_CONNECTION_REFUSED, NULL, 0);
    if (n > 0) cq_udp_send(ep, local, remote, buf, (size_t)n);
}

/* ---- server connections -------------------------------------------------- */

static void server_conn_free(cq_conn *c) { cq_h3_conn_free(c); }

/* Each finished request lets the client open one more. */
static int cb_extend_max_remote_streams_bidi(ngtcp2_conn *qc, uint64_t max_streams, void *user) {
    (void)qc;
    cq_conn *c = user;
    if (c->h3) nghttp3_conn_set_max_client_streams_bidi(c->h3, max_streams);
    return 0;
}

static void server_accept(cq_endpoint *ep, void *ctx, const cq_dgram *d,
                          const ngtcp2_version_cid *vc, int unsupported);

static const cq_role server_role = {
    .name = "server",
    .accept = server_accept,
    .h3_setup = cq_h3_setup,
    .after_read = cq_h3_after_read,
    .stream_error = cq_h3_stream_error,
    .conn_free = server_conn_free,
};

static cq_conn *server_conn_new(cq_server *s, const ngtcp2_pkt_hd *hd, const cq_dgram *d) {
    cq_endpoint *ep = &s->ep;
    cq_conn *c = cq_conn_alloc(ep, &server_role, s, (struct sockaddr *)d->local, d->locallen,
                               (struct sockaddr *)d->remote, d->remotelen);
    if (!c) return NULL;

    ngtcp2_cid scid;
    scid.datalen = CQ_SCIDLEN;
    do {
        if (cq_random(scid.data, scid.datalen) != 0) goto fail;
    } while (cq_map_get(&ep->cids, scid.data, scid.datalen));

    ngtcp2_settings st;
    cq_conn_settings(c, &st);
    ngtcp2_transport_params p;
    cq_conn_params(c, &p, s->cfg.max_streams_per_conn);
    cq_params_set_odcid(&p, &hd->dcid);

    ngtcp2_path path = cq_conn_path(c);
    int rv = ngtcp2_conn_server_new(&c->qc, &hd->scid, &scid, &path, hd->version,
                                    &s->callbacks, &st, &p, NULL, c);
    if (rv != 0) {
        cq_log(ep, 1, "ngtcp2_conn_server_new: %s", ngtcp2_strerror(rv));
        goto fail;
    }
    if (cq_tls_session_new(s, c) != 0) goto fail;
    ngtcp2_conn_set_tls_native_handle(c->qc, c->tls);

    /* Our id, and the client's original DCID (its Initials retransmitted
     * before it learns our id still carry that one). */
    if (cq_conn_add_cid(c, &scid) != 0 || cq_conn_add_cid(c, &hd->dcid) != 0) goto fail;
    if (cq_conn_attach(c) != 0) goto fail;
    return c;
fail:
    cq_conn_discard(c);
    return NULL;
}

static void server_accept(cq_endpoint *ep, void *ctx, const cq_dgram *d,
                          const ngtcp2_version_cid *vc, int unsupported) {
    cq_server *s = ctx;
    ngtcp2_addr la = {.addr = (ngtcp2_sockaddr *)d->local, .addrlen = d->locallen};
    ngtcp2_addr ra = {.addr = (ngtcp2_sockaddr *)d->remote, .addrlen = d->remotelen};
    if (unsupported) {
        /* Only for datagrams a client Initial could be (>= 1200 bytes), so
         * the reply never amplifies (RFC 9000 §6, §14.1). */
        if (d->len >= NGTCP2_MAX_UDP_PAYLOAD_SIZE) send_version_negotiation(ep, vc, &la, &ra);
        return;
    }
    /* Unknown connection id: only a client Initial may start a connection. */
    ngtcp2_pkt_hd hd;
    if (ngtcp2_accept(&hd, d->data, d->len) != 0) return;
    if (ep->nconns >= s->cfg.max_connections) {
        cq_log(ep, 1, "connection limit (%u) reached, refusing a client",
               (unsigned)s->cfg.max_connections);
        send_refused(ep, &hd, &la, &ra);
        return;
    }
    cq_conn *c = server_conn_new(s, &hd, d);
    if (!c) return;
    cq_conn_read(c, d);
    cq_conn_mark_dirty(c);
}

/* ---- public API ------------------------------------------------------------ */

static char *dup_or_null(const char *p) { return p ? strdup(p) : NULL; }

cq_server *cq_server_new(const cq_config *cfg, char *err, size_t errlen) {
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (!cfg || !cfg->on_request || !cfg->cert_file || !cfg->key_file) {
        snprintf(err, errlen, "config needs on_request, cert_file and key_file");
        return NULL;
    }
    cq_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (!s->cfg.max_body) s->cfg.max_body = 1u << 20;
    if (!s->cfg.idle_timeout_ms) s->cfg.idle_timeout_ms = 30000;
    if (!s->cfg.handshake_timeout_ms) s->cfg.handshake_timeout_ms = 10000;
    if (!s->cfg.max_connections) s->cfg.max_connections = 1024;
    if (!s->cfg.max_streams_per_conn) s->cfg.max_streams_per_conn = 100;
    if (!s->cfg.max_stream_buffer) s->cfg.max_stream_buffer = 4u << 20;
    /* By default two max-size uploads fit side by side (the floor covers
     * framing and the jam margin); one must always fit, or a lone upload
     * could stall.  The total must hold one connection. */
    size_t min_conn = s->cfg.max_body + CQ_CREDIT_FLOOR;
    if (!s->cfg.max_conn_body_buffer) s->cfg.max_conn_body_buffer = 2 * s->cfg.max_body + CQ_CREDIT_FLOOR;
    if (s->cfg.max_conn_body_buffer < min_conn) s->cfg.max_conn_body_buffer = min_conn;
    if (!s->cfg.max_total_body_buffer) s->cfg.max_total_body_buffer = 64u << 20;
    if (s->cfg.max_total_body_buffer < s->cfg.max_conn_body_buffer)
        s->cfg.max_total_body_buffer = s->cfg.max_conn_body_buffer;
    s->host = dup_or_null(cfg->host);
    s->cert_file = dup_or_null(cfg->cert_file);
    s->key_file = dup_or_null(cfg->key_file);
    s->cfg.host = s->host;
    s->cfg.cert_file = s->cert_file;
    s->cfg.key_file = s->key_file;
    /* QUIC's stream limit already keeps a connection within
     * max_streams_per_conn requests; the table says so explicitly, so its
     * size never depends on a peer honouring that limit. */
    s->live_per_conn = s->cfg.max_streams_per_conn;
#ifdef CQ_TEST_HOOKS
    /* Tests/cquic: a smaller table, so the full-table answer can be seen
     * without 100 concurrent requests.  Not in the product build. */
    const char *cap = getenv("CQ_TEST_LIVE_PER_CONN");
    if (cap && atoi(cap) > 0) s->live_per_conn = (size_t)atoi(cap);
#endif
    cq_callbacks_common(&s->callbacks);
    s->callbacks.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    s->callbacks.extend_max_remote_streams_bidi = cb_extend_max_remote_streams_bidi;

    cq_ep_config ec = {
        .idle_timeout_ms = s->cfg.idle_timeout_ms,
        .handshake_timeout_ms = s->cfg.handshake_timeout_ms,
        .max_conn_recv_buffer = s->cfg.max_conn_body_buffer,
        .max_total_recv_buffer = s->cfg.max_total_body_buffer,
        .on_log = s->cfg.on_log,
        .user = s->cfg.user,
    };
    int ep_ok = cq_ep_init(&s->ep, &ec, s->host, s->cfg.port, err, errlen) == 0;
    s->ep.acceptor = &server_role;
    s->ep.acceptor_ctx = s;
    if (!ep_ok) goto fail;
    if ((cfg->host && !s->host) || !s->cert_file || !s->key_file || cq_map_init(&s->live) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (cq_tls_init(s, err, errlen) != 0) goto fail;
    return s;
fail:
    cq_free(s);
    return NULL;
}

uint16_t cq_server_port(const cq_server *s) { return s ? s->ep.port : 0; }

uint64_t cq_server_stat(const cq_server *s, int which) {
    if (!s) return 0;
    /* The counters are atomics, and cq_server_stat only reads them; the
     * casts drop a const that C11 atomic_load does not accept everywhere. */
    cq_server *m = (cq_server *)s;
    switch (which) {
    case CQ_STAT_BODY_BUFFERED: return atomic_load(&m->ep.held);
    case CQ_STAT_BODY_CREDIT: return atomic_load(&m->ep.credit);
    case CQ_STAT_RX_BYTES: return atomic_load(&m->ep.rx_bytes);
    case CQ_STAT_REJECTED: return atomic_load(&m->rejected);
    case CQ_STAT_KEEPALIVE_CONNS: return atomic_load(&m->ep.nkeepalive);
    default: return 0;
    }
}

void cq_server_stop(cq_server *s) {
    if (s) cq_ep_stop(&s->ep);
}

int cq_server_run(cq_server *s) {
    if (!s || s->ep.fd < 0) return -1;
    cq_log(&s->ep, 2, "HTTP/3 listening on UDP port %u (%s)", (unsigned)s->ep.port, cq_versions());
    int rc = cq_ep_run(&s->ep);
    cq_log(&s->ep, 2, "HTTP/3 server stopped");
    return rc;
}

void cq_free(cq_server *s) {
    if (!s) return;
    cq_ep_free(&s->ep); /* frees the connections: their streams leave s->live */
    cq_live_free_all(s);
    cq_tls_free(s);
    free(s->host);
    free(s->cert_file);
    free(s->key_file);
    free(s);
}
