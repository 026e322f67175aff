/*
 * server_role.c - the server role on an endpoint: the public cq_server API
 * (lifecycle, stats) and accepting connections.
 *
 * The endpoint (endpoint.c) hands us every datagram whose Destination
 * Connection ID is none of our connections'.  We answer it statelessly
 * (Version Negotiation, Retry, CONNECTION_REFUSED) or, for a valid client
 * Initial, create a server connection.  Anything else is dropped without a
 * reply: garbage must never cost more than a header decode.
 *
 * Handshake floods.  A client Initial costs us a connection, a TLS session
 * and a full server flight (key exchange, signature), and anybody can send
 * one from a spoofed address that never answers; it then sits there until
 * the handshake timeout.  So connections still in their handshake are
 * counted ("half-open"), in total and, for those whose address was not
 * validated, per client IP.  Beyond retry_halfopen in total, or
 * max_halfopen_per_addr for one IP, an Initial without a token gets a Retry
 * carrying an address-validation token (AEAD-sealed with a secret drawn at
 * start: client address, original DCID, time); only an Initial that brings
 * a valid one back gets a connection.  A real client pays one round trip, a
 * spoofed source gets nothing but that small packet (never larger than the
 * Initial: no amplification).  Half-open connections hold no HTTP/3 state
 * (nghttp3 is created when the handshake completes), and unvalidated ones
 * made under pressure get a shorter handshake timeout.
 */
#include <netinet/in.h>
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

static void send_close(cq_endpoint *ep, const ngtcp2_pkt_hd *hd, uint64_t code,
                       const ngtcp2_addr *local, const ngtcp2_addr *remote) {
    uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
    ngtcp2_ssize n = ngtcp2_crypto_write_connection_close(
        buf, sizeof(buf), hd->version, &hd->scid, &hd->dcid, code, NULL, 0);
    if (n > 0) cq_udp_send(ep, local, remote, buf, (size_t)n);
}

/* How long a Retry token is good for: the client resends its Initial at
 * once, so a few seconds cover loss and slow links. */
#define CQ_RETRY_TOKEN_TTL (10 * NGTCP2_SECONDS)
/* Handshake timeout of unvalidated connections made while at least half
 * the half-open allowance is used: a flood's entries age out sooner. */
#define CQ_PRESSURE_HANDSHAKE_MS 3000u

static void send_retry(cq_server *s, const ngtcp2_pkt_hd *hd, const cq_dgram *d,
                       const ngtcp2_addr *local, const ngtcp2_addr *remote) {
    uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
    uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
    ngtcp2_cid scid;
    scid.datalen = CQ_SCIDLEN;
    if (cq_random(scid.data, scid.datalen) != 0) return;
    ngtcp2_ssize tl = ngtcp2_crypto_generate_retry_token(
        token, s->retry_secret, sizeof(s->retry_secret), hd->version,
        (const ngtcp2_sockaddr *)d->remote, d->remotelen, &scid, &hd->dcid, cq_now());
    if (tl < 0) return;
    ngtcp2_ssize n = ngtcp2_crypto_write_retry(buf, sizeof(buf), hd->version, &hd->scid, &scid,
                                               &hd->dcid, token, (size_t)tl);
    if (n <= 0) return;
    cq_udp_send(&s->ep, local, remote, buf, (size_t)n);
    atomic_fetch_add(&s->retries, 1);
}

/* ---- half-open accounting ------------------------------------------------ */

/* The client's IP (no port: one host may use many), v4-mapped as IPv4. */
static uint8_t addr_key(const struct sockaddr_storage *ss, uint8_t key[16]) {
    if (ss->ss_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)ss)->sin_addr, 4);
        return 4;
    }
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a)) {
        memcpy(key, &a->s6_addr[12], 4);
        return 4;
    }
    memcpy(key, a, 16);
    return 16;
}

static size_t addr_count(cq_server *s, const uint8_t *key, size_t len) {
    return (size_t)(uintptr_t)cq_map_get(&s->halfopen_by_addr, key, len);
}

static void enter_halfopen(cq_server *s, cq_conn *c) {
    c->halfopen = 1;
    atomic_fetch_add(&s->halfopen, 1);
    if (c->validated) return;
    uint8_t key[16];
    uint8_t len = addr_key(&c->remote, key);
    size_t n = addr_count(s, key, len);
    if (cq_map_put(&s->halfopen_by_addr, key, len, (void *)(uintptr_t)(n + 1)) != 0) return;
    memcpy(c->addrkey, key, len);
    c->addrkeylen = len;
}

/* Handshake completed, or the connection is freed before that. */
static void leave_halfopen(cq_server *s, cq_conn *c) {
    if (!c->halfopen) return;
    c->halfopen = 0;
    atomic_fetch_sub(&s->halfopen, 1);
    if (!c->addrkeylen) return;
    size_t n = addr_count(s, c->addrkey, c->addrkeylen);
    if (n <= 1) cq_map_del(&s->halfopen_by_addr, c->addrkey, c->addrkeylen);
    else cq_map_put(&s->halfopen_by_addr, c->addrkey, c->addrkeylen, (void *)(uintptr_t)(n - 1));
    c->addrkeylen = 0;
}

/* ---- server connections -------------------------------------------------- */

static void server_conn_free(cq_conn *c) {
    leave_halfopen(cq_srv(c), c);
    cq_h3_conn_free(c);
}

static int server_handshake_completed(cq_conn *c) {
    leave_halfopen(cq_srv(c), c);
    return cq_h3_setup(c);
}

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
    .handshake_completed = server_handshake_completed,
    .after_read = cq_h3_after_read,
    .stream_error = cq_h3_stream_error,
    .conn_free = server_conn_free,
};

/* odcid: NULL, or the original DCID a valid Retry token carried (then hd's
 * token is that token, and hd->dcid the Retry's source connection id). */
static cq_conn *server_conn_new(cq_server *s, const ngtcp2_pkt_hd *hd, const cq_dgram *d,
                                const ngtcp2_cid *odcid) {
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
    if (odcid) {
        const uint8_t *tok;
        size_t toklen;
        cq_hd_token(hd, &tok, &toklen);
        cq_settings_set_retry_token(&st, tok, toklen);
        cq_params_set_odcid(&p, odcid);
        cq_params_set_retry_scid(&p, &hd->dcid);
        c->validated = 1;
    } else {
        cq_params_set_odcid(&p, &hd->dcid);
        if (atomic_load(&s->halfopen) >= s->cfg.retry_halfopen / 2 &&
            s->cfg.handshake_timeout_ms > CQ_PRESSURE_HANDSHAKE_MS)
            st.handshake_timeout = (uint64_t)CQ_PRESSURE_HANDSHAKE_MS * NGTCP2_MILLISECONDS;
    }

    ngtcp2_path path = cq_conn_path(c);
    int rv = ngtcp2_conn_server_new(&c->qc, &hd->scid, &scid, &path, hd->version,
                                    &s->callbacks, &st, &p, NULL, c);
    if (rv != 0) {
        cq_log(ep, 1, "ngtcp2_conn_server_new: %s", ngtcp2_strerror(rv));
        goto fail;
    }
    if (cq_tls_session_new(s, c) != 0) goto fail;
    ngtcp2_conn_set_tls_native_handle(c->qc, c->tls);

    /* Our id, and the DCID of this Initial (the client's original one, or
     * the Retry's): its Initials retransmitted before it learns our id
     * still carry that one. */
    if (cq_conn_add_cid(c, &scid) != 0 || cq_conn_add_cid(c, &hd->dcid) != 0) goto fail;
    if (cq_conn_attach(c) != 0) goto fail;
    enter_halfopen(s, c);
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
    const uint8_t *tok;
    size_t toklen;
    cq_hd_token(&hd, &tok, &toklen);
    ngtcp2_cid odcid;
    int validated = 0;
    if (toklen && tok[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
        if (ngtcp2_crypto_verify_retry_token(&odcid, tok, toklen, s->retry_secret,
                                             sizeof(s->retry_secret), hd.version,
                                             (const ngtcp2_sockaddr *)d->remote, d->remotelen,
                                             &hd.dcid, CQ_RETRY_TOKEN_TTL, cq_now()) != 0) {
            /* Forged, expired, from another address or an earlier run:
             * RFC 9000 §8.1.3 says tell the client, so it fails fast. */
            char peer[64];
            cq_addr_text((const struct sockaddr *)d->remote, peer, sizeof(peer));
            cq_log_limited(ep, &s->rl_token, 3, "invalid Retry token from %s", peer);
            send_close(ep, &hd, NGTCP2_INVALID_TOKEN, &la, &ra);
            return;
        }
        validated = 1;
    }
    /* (Any other token would be a NEW_TOKEN one; we never issue them, so it
     * counts as none.) */
    if (ep->nconns >= s->cfg.max_connections) {
        cq_log_limited(ep, &s->rl_refused, 1, "connection limit (%u) reached, refusing clients",
                       (unsigned)s->cfg.max_connections);
        send_close(ep, &hd, NGTCP2_CONNECTION_REFUSED, &la, &ra);
        return;
    }
    if (!validated) {
        uint8_t key[16];
        uint8_t keylen = addr_key(d->remote, key);
        if (atomic_load(&s->halfopen) >= s->cfg.retry_halfopen ||
            addr_count(s, key, keylen) >= s->cfg.max_halfopen_per_addr) {
            cq_log_limited(ep, &s->rl_retry, 2,
                           "%llu connections in their handshake: new clients must validate "
                           "their address (Retry)", (unsigned long long)atomic_load(&s->halfopen));
            send_retry(s, &hd, d, &la, &ra);
            return;
        }
    }
    cq_conn *c = server_conn_new(s, &hd, d, validated ? &odcid : NULL);
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
    if (!s->cfg.retry_halfopen) s->cfg.retry_halfopen = 64;
    if (!s->cfg.max_halfopen_per_addr) s->cfg.max_halfopen_per_addr = 8;
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
    if ((cfg->host && !s->host) || !s->cert_file || !s->key_file || cq_map_init(&s->live) != 0 ||
        cq_map_init(&s->halfopen_by_addr) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (cq_random(s->retry_secret, sizeof(s->retry_secret)) != 0) {
        snprintf(err, errlen, "no random bytes for the Retry secret");
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
    case CQ_STAT_HALFOPEN: return atomic_load(&m->halfopen);
    case CQ_STAT_RETRIES: return atomic_load(&m->retries);
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
    cq_log_limited_flush(&s->ep, &s->rl_refused);
    cq_log_limited_flush(&s->ep, &s->rl_retry);
    cq_log_limited_flush(&s->ep, &s->rl_token);
    cq_log(&s->ep, 2, "HTTP/3 server stopped");
    return rc;
}

void cq_free(cq_server *s) {
    if (!s) return;
    cq_ep_free(&s->ep); /* frees the connections: their streams leave s->live */
    cq_live_free_all(s);
    cq_map_free(&s->halfopen_by_addr);
    cq_tls_free(s);
    free(s->host);
    free(s->cert_file);
    free(s->key_file);
    free(s);
}
