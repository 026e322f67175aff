/*
 * conn.c - the endpoint side of one QUIC connection, whatever its role:
 * creation helpers, reading packets, writing packets (pulling HTTP/3 data
 * out of nghttp3, which works the same for a server and a client), timers,
 * keep-alive and the closing / draining periods.  The ngtcp2 callbacks
 * shared by all roles are in quic_cb.c; a role creates the ngtcp2
 * connection itself (server_role.c: ngtcp2_conn_server_new).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref) {
    return ((cq_conn *)ref->user_data)->qc;
}

static void log_printf(void *user, const char *fmt, ...) {
    (void)user;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- lifecycle --------------------------------------------------------- */

/* The endpoint part of a new connection; the role then creates the ngtcp2
 * connection (server or client), its TLS session, registers its ids and
 * calls cq_conn_attach. */
cq_conn *cq_conn_alloc(cq_endpoint *ep, const cq_role *role, void *role_ctx,
                       const struct sockaddr *local, socklen_t locallen,
                       const struct sockaddr *remote, socklen_t remotelen) {
    cq_conn *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->ep = ep;
    c->role = role;
    c->role_ctx = role_ctx;
    c->id = ++ep->next_conn_id;
    memcpy(&c->local, local, locallen);
    memcpy(&c->remote, remote, remotelen);
    c->locallen = locallen;
    c->remotelen = remotelen;
    cq_addr_text(remote, c->peer, sizeof(c->peer));
    cq_ccerr_default(&c->ccerr);
    c->conn_ref.get_conn = get_conn;
    c->conn_ref.user_data = c;
    return c;
}

ngtcp2_path cq_conn_path(cq_conn *c) {
    ngtcp2_path path = {
        .local = {.addr = (ngtcp2_sockaddr *)&c->local, .addrlen = c->locallen},
        .remote = {.addr = (ngtcp2_sockaddr *)&c->remote, .addrlen = c->remotelen},
    };
    return path;
}

void cq_conn_settings(cq_conn *c, ngtcp2_settings *st) {
    cq_endpoint *ep = c->ep;
    ngtcp2_settings_default(st);
    st->initial_ts = cq_now();
    if (ep->ngtcp2_log) st->log_printf = log_printf;
    /* Stream windows auto-tune up to this.  The connection window must not:
     * budget.c grants every byte of it, within the body budgets. */
    st->max_stream_window = 8u << 20;
    st->max_window = 0;
    st->handshake_timeout = (uint64_t)ep->cfg.handshake_timeout_ms * NGTCP2_MILLISECONDS;
}

void cq_conn_params(cq_conn *c, ngtcp2_transport_params *p, uint64_t max_streams_bidi) {
    ngtcp2_transport_params_default(p);
    p->initial_max_stream_data_bidi_local = 256u << 10;
    p->initial_max_stream_data_bidi_remote = 2u << 20;
    p->initial_max_stream_data_uni = 256u << 10;
    p->initial_max_data = CQ_CREDIT_INIT; /* budget.c extends it at once */
    p->initial_max_streams_bidi = max_streams_bidi;
    p->initial_max_streams_uni = 8;  /* control + 2 QPACK, and some slack */
    p->max_idle_timeout = (uint64_t)c->ep->cfg.idle_timeout_ms * NGTCP2_MILLISECONDS;
    p->active_connection_id_limit = 4;
}

/* The connection is complete (ngtcp2 connection, TLS session, ids
 * registered): it joins the endpoint's list, its id table and the budget. */
int cq_conn_attach(cq_conn *c) {
    cq_endpoint *ep = c->ep;
    if (cq_map_put(&ep->byid, &c->id, sizeof(c->id), c) != 0) return -1;
    c->next = ep->conns;
    if (ep->conns) ep->conns->prev = c;
    ep->conns = c;
    ep->nconns++;
    cq_budget_conn_init(c);
    cq_log(ep, 3, "conn %llu: new from %s", (unsigned long long)c->id, c->peer);
    return 0;
}

/* A connection that failed half way through its creation, before attach. */
void cq_conn_discard(cq_conn *c) {
    for (size_t i = 0; i < c->ncids; i++)
        if (cq_map_get(&c->ep->cids, c->cids[i].data, c->cids[i].datalen) == c)
            cq_map_del(&c->ep->cids, c->cids[i].data, c->cids[i].datalen);
    if (c->qc) ngtcp2_conn_del(c->qc);
    if (c->tls) gnutls_deinit(c->tls);
    free(c->cids);
    free(c);
}

void cq_conn_free(cq_conn *c) {
    cq_endpoint *ep = c->ep;
    c->state = CQ_DEAD; /* no more credit grants or dirty marks while we unwind */
    if (c->role && c->role->conn_free) c->role->conn_free(c);
    cq_budget_conn_free(c);
    for (size_t i = 0; i < c->ncids; i++)
        if (cq_map_get(&ep->cids, c->cids[i].data, c->cids[i].datalen) == c)
            cq_map_del(&ep->cids, c->cids[i].data, c->cids[i].datalen);
    cq_map_del(&ep->byid, &c->id, sizeof(c->id));
    if (c->prev) c->prev->next = c->next; else ep->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    ep->nconns--;
    if (c->keepalive) atomic_fetch_sub(&ep->nkeepalive, 1);
    if (c->h3) nghttp3_conn_del(c->h3);
    if (c->qc) ngtcp2_conn_del(c->qc);
    if (c->tls) gnutls_deinit(c->tls);
    cq_log(ep, 3, "conn %llu: freed", (unsigned long long)c->id);
    free(c->closebuf);
    free(c->cids);
    free(c);
}

/* Keep-alive PINGs while an exchange is open (server: a delivered request
 * whose response has not ended, see cq_stream_set_open), at half the
 * negotiated idle timeout so one lost PING is survivable. */
static void keepalive(cq_conn *c) {
    int want = c->nopen > 0 && c->state == CQ_ACTIVE;
    if (want == c->keepalive) return;
    c->keepalive = want;
    uint64_t idle = (uint64_t)c->ep->cfg.idle_timeout_ms * NGTCP2_MILLISECONDS;
    const ngtcp2_transport_params *rp = ngtcp2_conn_get_remote_transport_params(c->qc);
    if (rp && rp->max_idle_timeout && rp->max_idle_timeout < idle) idle = rp->max_idle_timeout;
    cq_set_keep_alive(c->qc, want ? idle / 2 : 0);
    if (want) atomic_fetch_add(&c->ep->nkeepalive, 1); else atomic_fetch_sub(&c->ep->nkeepalive, 1);
    if (c->state == CQ_ACTIVE) cq_conn_mark_dirty(c); /* the expiry changed */
}

void cq_conn_set_open(cq_conn *c, int delta) {
    c->nopen += (size_t)(ssize_t)delta;
    if (c->nopen == (delta > 0 ? 1u : 0u)) keepalive(c); /* 0 -> 1 or 1 -> 0 */
}

/* A stream error (RFC 9114 §8): RESET_STREAM and STOP_SENDING with the
 * HTTP/3 error code; nghttp3 forgets the stream's pending I/O; the role
 * drops what it holds for it.  Not from inside an nghttp3 callback. */
void cq_conn_stream_error(cq_conn *c, int64_t sid, uint64_t h3_error) {
    cq_shutdown_stream_read(c->qc, sid, h3_error);
    cq_shutdown_stream_write(c->qc, sid, h3_error);
    if (c->h3) {
        nghttp3_conn_shutdown_stream_read(c->h3, sid);
        nghttp3_conn_shutdown_stream_write(c->h3, sid);
    }
    if (c->role->stream_error) c->role->stream_error(c, sid);
    cq_conn_mark_dirty(c);
}

void cq_conn_mark_dirty(cq_conn *c) {
    if (c->dirty) return;
    c->dirty = 1;
    c->dirty_next = c->ep->dirty;
    c->ep->dirty = c;
}

/* ---- closing ----------------------------------------------------------- */

static void start_closing(cq_conn *c) {
    if (c->state != CQ_ACTIVE) return;
    uint64_t now = cq_now();
    if (cq_in_draining(c->qc)) {
        c->state = CQ_DRAINING;
        c->close_deadline = now + 3 * ngtcp2_conn_get_pto(c->qc);
        return;
    }
    c->closebuf = malloc(CQ_MAX_PKT);
    if (!c->closebuf) {
        c->state = CQ_DEAD;
        return;
    }
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->qc, &ps.path, &pi, c->closebuf,
                                                        CQ_MAX_PKT, &c->ccerr, now);
    if (n <= 0) { /* nothing can be sent (e.g. no keys yet): just forget it */
        c->state = CQ_DEAD;
        return;
    }
    c->closelen = (size_t)n;
    c->state = CQ_CLOSING;
    /* RFC 9000 §10.2: stay at least three PTOs to answer stragglers. */
    c->close_deadline = now + 3 * ngtcp2_conn_get_pto(c->qc);
    cq_udp_send(c->ep, &ps.path.local, &ps.path.remote, c->closebuf, c->closelen);
}

void cq_conn_fail(cq_conn *c, int liberr) {
    if (!c->ccerr_set) {
        if (liberr == NGTCP2_ERR_CRYPTO)
            cq_ccerr_set_tls_alert(&c->ccerr, ngtcp2_conn_get_tls_alert(c->qc));
        else
            cq_ccerr_set_liberr(&c->ccerr, liberr);
        c->ccerr_set = 1;
    }
    cq_log(c->ep, 3, "conn %llu: closing: %s", (unsigned long long)c->id, ngtcp2_strerror(liberr));
    start_closing(c);
}

void cq_conn_fail_app(cq_conn *c, uint64_t app_error) {
    if (!c->ccerr_set) {
        cq_ccerr_set_app(&c->ccerr, app_error);
        c->ccerr_set = 1;
    }
    cq_log(c->ep, 3, "conn %llu: closing: HTTP/3 error 0x%llx", (unsigned long long)c->id,
           (unsigned long long)app_error);
    start_closing(c);
}

void cq_conn_resend_close(cq_conn *c) {
    /* Answer stragglers with our CONNECTION_CLOSE, but exponentially less
     * often, so a flood cannot make us a reflector. */
    c->close_rx++;
    if ((c->close_rx & (c->close_rx - 1)) != 0) return;
    ngtcp2_addr la = {.addr = (ngtcp2_sockaddr *)&c->local, .addrlen = c->locallen};
    ngtcp2_addr ra = {.addr = (ngtcp2_sockaddr *)&c->remote, .addrlen = c->remotelen};
    cq_udp_send(c->ep, &la, &ra, c->closebuf, c->closelen);
}

void cq_conn_close_now(cq_conn *c) {
    if (c->state == CQ_ACTIVE) {
        cq_ccerr_set_app(&c->ccerr, NGHTTP3_H3_NO_ERROR);
        c->ccerr_set = 1;
        start_closing(c);
    }
    c->state = CQ_DEAD;
}

/* ---- I/O --------------------------------------------------------------- */

void cq_conn_read(cq_conn *c, const cq_dgram *d) {
    const struct sockaddr *local = (const struct sockaddr *)d->local;
    const struct sockaddr *remote = (const struct sockaddr *)d->remote;
    socklen_t locallen = d->locallen, remotelen = d->remotelen;
    ngtcp2_path path = {
        .local = {.addr = (ngtcp2_sockaddr *)local, .addrlen = locallen},
        .remote = {.addr = (ngtcp2_sockaddr *)remote, .addrlen = remotelen},
    };
    ngtcp2_pkt_info pi;
    memset(&pi, 0, sizeof(pi));
    int rv = ngtcp2_conn_read_pkt(c->qc, &path, &pi, d->data, d->len, cq_now());
    if (rv == 0) {
        /* Remember the latest path for resending CONNECTION_CLOSE. */
        memcpy(&c->local, local, locallen);
        memcpy(&c->remote, remote, remotelen);
        c->locallen = locallen;
        c->remotelen = remotelen;
        return;
    }
    switch (rv) {
    case NGTCP2_ERR_DRAINING: /* the peer closed: go quiet for 3 PTO */
        c->state = CQ_DRAINING;
        c->close_deadline = cq_now() + 3 * ngtcp2_conn_get_pto(c->qc);
        return;
    case NGTCP2_ERR_DROP_CONN:
        c->state = CQ_DEAD;
        return;
    default:
        cq_conn_fail(c, rv);
    }
}

void cq_conn_write(cq_conn *c) {
    if (c->state != CQ_ACTIVE) return;
    uint8_t buf[CQ_MAX_PKT];
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    uint64_t ts = cq_now();
    size_t maxpkt = ngtcp2_conn_get_path_max_tx_udp_payload_size(c->qc);
    if (maxpkt > sizeof(buf)) maxpkt = sizeof(buf);
    /* Send at most one congestion-controller quantum per pass; pacing puts
     * the next pass into ngtcp2_conn_get_expiry(). */
    size_t quantum = ngtcp2_conn_get_send_quantum(c->qc), sent = 0;
    for (;;) {
        int64_t sid = -1;
        int fin = 0;
        nghttp3_vec vec[16];
        nghttp3_ssize nvec = 0;
        if (c->h3 && ngtcp2_conn_get_max_data_left(c->qc)) {
            nvec = nghttp3_conn_writev_stream(c->h3, &sid, &fin, vec, 16);
            if (nvec < 0) {
                cq_conn_fail_app(c, nghttp3_err_infer_quic_app_error_code((int)nvec));
                return;
            }
        }
        ngtcp2_ssize ndatalen = -1;
        uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE | (fin ? NGTCP2_WRITE_STREAM_FLAG_FIN : 0);
        ngtcp2_ssize n = ngtcp2_conn_writev_stream(c->qc, &ps.path, &pi, buf, maxpkt, &ndatalen,
                                                   flags, sid, (const ngtcp2_vec *)vec,
                                                   (size_t)nvec, ts);
        if (n < 0) {
            switch (n) {
            case NGTCP2_ERR_STREAM_DATA_BLOCKED:
                nghttp3_conn_block_stream(c->h3, sid);
                continue;
            case NGTCP2_ERR_STREAM_SHUT_WR:
                nghttp3_conn_shutdown_stream_write(c->h3, sid);
                continue;
            case NGTCP2_ERR_WRITE_MORE: /* packet not full yet: offer more stream data */
                if (nghttp3_conn_add_write_offset(c->h3, sid, (size_t)ndatalen) == 0) continue;
                cq_conn_fail(c, NGTCP2_ERR_INTERNAL);
                return;
            }
            cq_conn_fail(c, (int)n);
            return;
        }
        if (ndatalen >= 0 && nghttp3_conn_add_write_offset(c->h3, sid, (size_t)ndatalen) != 0) {
            cq_conn_fail(c, NGTCP2_ERR_INTERNAL);
            return;
        }
        if (n == 0) break;
        cq_udp_send(c->ep, &ps.path.local, &ps.path.remote, buf, (size_t)n);
        sent += (size_t)n;
        if (sent >= quantum) break;
    }
    cq_update_pkt_tx_time(c->qc, ts);
}

void cq_conn_on_expiry(cq_conn *c) {
    uint64_t now = cq_now();
    if (c->state == CQ_CLOSING || c->state == CQ_DRAINING) {
        if (now >= c->close_deadline) c->state = CQ_DEAD;
        return;
    }
    if (c->state != CQ_ACTIVE) return;
    int rv = ngtcp2_conn_handle_expiry(c->qc, now);
    if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
        /* Idle: the peer is gone; a CONNECTION_CLOSE would reach nobody. */
        cq_log(c->ep, 3, "conn %llu: %s", (unsigned long long)c->id, ngtcp2_strerror(rv));
        c->state = CQ_DEAD;
        return;
    }
    if (rv != 0) {
        cq_conn_fail(c, rv);
        return;
    }
    cq_conn_write(c);
}

void cq_conn_update_expiry(cq_conn *c) {
    switch (c->state) {
    case CQ_ACTIVE: c->expiry = ngtcp2_conn_get_expiry(c->qc); break;
    case CQ_CLOSING:
    case CQ_DRAINING: c->expiry = c->close_deadline; break;
    default: c->expiry = 0; break;
    }
}

/* ---- HTTP/3 on a connection whose handshake completed (both roles) ---- */

int cq_conn_h3_prepare(cq_conn *c, nghttp3_settings *st) {
    if (ngtcp2_conn_get_streams_uni_left(c->qc) < 3) {
        cq_log(c->ep, 3, "conn %llu: peer allows < 3 uni streams", (unsigned long long)c->id);
        return -1;
    }
    nghttp3_settings_default(st);
    st->max_field_section_size = 64u << 10;
    st->qpack_max_dtable_capacity = 4096;
    st->qpack_blocked_streams = 100;
    return 0;
}

int cq_conn_h3_open_streams(cq_conn *c) {
    int64_t ctrl, enc, dec;
    if (ngtcp2_conn_open_uni_stream(c->qc, &ctrl, NULL) != 0 ||
        nghttp3_conn_bind_control_stream(c->h3, ctrl) != 0 ||
        ngtcp2_conn_open_uni_stream(c->qc, &enc, NULL) != 0 ||
        ngtcp2_conn_open_uni_stream(c->qc, &dec, NULL) != 0 ||
        nghttp3_conn_bind_qpack_streams(c->h3, enc, dec) != 0)
        return -1;
    cq_budget_conn_start(c);
    return 0;
}
