/*
 * client_h3.c - the client role's HTTP/3 on one QUIC connection: nghttp3
 * client setup, submitting requests (queued until HTTP/3 is up and while
 * the server's stream limit is reached), and handing the response to the
 * caller as it arrives: the header section once, then every body piece.
 *
 * Response bytes are not buffered here: each piece goes to on_data and its
 * flow-control credit comes back at once, so a stream of any length (an
 * action stream, `logs --follow`) costs no memory in C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"


static void unlink_req(cq_creq *r) {
    cq_cconn *cc = r->cc;
    cq_creq **head = r->sid >= 0 ? &cc->reqs : &cc->waiting;
    if (r->prev) r->prev->next = r->next; else *head = r->next;
    if (r->next) r->next->prev = r->prev;
    else if (r->sid < 0) cc->waiting_tail = r->prev;
    r->next = r->prev = NULL;
}

cq_creq *cq_creq_find(cq_cconn *cc, uint64_t id) {
    for (cq_creq *r = cc->reqs; r; r = r->next)
        if (r->id == id) return r;
    for (cq_creq *r = cc->waiting; r; r = r->next)
        if (r->id == id) return r;
    return NULL;
}

/* Tells the caller once; the request itself stays until its stream is
 * closed, because nghttp3 and ngtcp2 may still point into its body. */
void cq_creq_end(cq_creq *r, int result) {
    if (r->done) return;
    r->done = 1;
    cq_client *cl = r->cc->cl;
    if (r->sid >= 0 && r->cc->c) cq_conn_set_open(r->cc->c, -1);
    if (cl->cfg.on_done) cl->cfg.on_done(cl->cfg.user, r->id, result);
}

void cq_creq_finish(cq_creq *r, int result) {
    cq_cconn *cc = r->cc;
    cq_creq_end(r, result);
    unlink_req(r);
    if (r->sid >= 0 && cc->c && cc->c->h3) nghttp3_conn_set_stream_user_data(cc->c->h3, r->sid, NULL);
    free(r->method);
    free(r->path);
    free(r->authority);
    free(r->authorization);
    free(r->content_type);
    free(r->body);
    free(r->resp_ctype);
    free(r->retry_after);
    free(r);
}

/* ---- nghttp3 callbacks ----------------------------------------------- */

static void keep(char **slot, nghttp3_rcbuf *value) {
    nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
    if (*slot || v.len > CQ_MAX_HDR_VALUE) return;
    *slot = malloc(v.len + 1);
    if (!*slot) return;
    memcpy(*slot, v.base, v.len);
    (*slot)[v.len] = '\0';
}

static int cb_recv_header(nghttp3_conn *h3, int64_t sid, int32_t token, nghttp3_rcbuf *name,
                          nghttp3_rcbuf *value, uint8_t flags, void *user, void *stream_user) {
    (void)h3; (void)sid; (void)flags; (void)user;
    cq_creq *r = stream_user;
    if (!r) return 0;
    switch (token) {
    case NGHTTP3_QPACK_TOKEN__STATUS: {
        nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
        int st = 0;
        for (size_t i = 0; i < v.len && i < 3; i++) st = st * 10 + (v.base[i] - '0');
        r->status = st;
        break;
    }
    case NGHTTP3_QPACK_TOKEN_CONTENT_TYPE: keep(&r->resp_ctype, value); break;
    default: {
        nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
        if (n.len == 11 && memcmp(n.base, "retry-after", 11) == 0) keep(&r->retry_after, value);
        break;
    }
    }
    return 0;
}

static int cb_end_headers(nghttp3_conn *h3, int64_t sid, int fin, void *user, void *stream_user) {
    (void)h3; (void)sid; (void)fin;
    cq_conn *c = user;
    cq_creq *r = stream_user;
    if (!r || r->status < 200) return 0; /* 1xx: the real header section follows */
    cq_client *cl = cq_cc(c)->cl;
    if (!r->headers_told) {
        r->headers_told = 1;
        if (cl->cfg.on_headers) cl->cfg.on_headers(cl->cfg.user, r->id, r->status, r->resp_ctype, r->retry_after);
    }
    return 0;
}

static int cb_recv_data(nghttp3_conn *h3, int64_t sid, const uint8_t *data, size_t len,
                        void *user, void *stream_user) {
    (void)h3;
    cq_conn *c = user;
    cq_creq *r = stream_user;
    c->rx_body += len;
    /* Handed over at once: both credits come back now. */
    ngtcp2_conn_extend_max_stream_offset(c->qc, sid, len);
    cq_budget_release(c, len);
    if (!r || r->done) return 0;
    cq_client *cl = cq_cc(c)->cl;
    if (cl->cfg.on_data) cl->cfg.on_data(cl->cfg.user, r->id, data, len);
    return 0;
}

static int cb_deferred_consume(nghttp3_conn *h3, int64_t sid, size_t n, void *user, void *stream_user) {
    (void)h3; (void)stream_user;
    cq_conn *c = user;
    ngtcp2_conn_extend_max_stream_offset(c->qc, sid, n);
    cq_budget_release(c, n);
    return 0;
}

static int cb_end_stream(nghttp3_conn *h3, int64_t sid, void *user, void *stream_user) {
    (void)h3; (void)sid;
    cq_conn *c = user;
    cq_creq *r = stream_user;
    if (!r || r->done) return 0;
    cq_client *cl = cq_cc(c)->cl;
    if (!r->headers_told && cl->cfg.on_headers) {
        r->headers_told = 1;
        cl->cfg.on_headers(cl->cfg.user, r->id, r->status, r->resp_ctype, r->retry_after);
    }
    cq_creq_end(r, CQC_REQ_OK); /* freed at stream_close */
    return 0;
}

static int cb_stream_close(nghttp3_conn *h3, int64_t sid, uint64_t app_error_code, void *user,
                           void *stream_user) {
    (void)h3; (void)sid; (void)app_error_code; (void)user;
    cq_creq *r = stream_user;
    if (r) cq_creq_finish(r, CQC_REQ_RESET);
    return 0;
}

static int cb_acked(nghttp3_conn *h3, int64_t sid, uint64_t n, void *user, void *stream_user) {
    (void)h3; (void)sid; (void)n; (void)user; (void)stream_user;
    return 0; /* the body stays with the request until it is freed */
}

static int cb_stop_sending(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user, void *stream_user) {
    (void)h3; (void)stream_user;
    cq_conn *c = user;
    return cq_shutdown_stream_read(c->qc, sid, code) == 0 ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
}

static int cb_reset_stream(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user, void *stream_user) {
    (void)h3; (void)stream_user;
    cq_conn *c = user;
    return cq_shutdown_stream_write(c->qc, sid, code) == 0 ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
}

/* ---- request bodies ------------------------------------------------------- */

static nghttp3_ssize read_body(nghttp3_conn *h3, int64_t sid, nghttp3_vec *vec, size_t veccnt,
                               uint32_t *pflags, void *user, void *stream_user) {
    (void)h3; (void)sid; (void)user;
    cq_creq *r = stream_user;
    *pflags |= NGHTTP3_DATA_FLAG_EOF;
    if (!r || r->body_sent || r->body_len == 0 || veccnt == 0) return 0;
    r->body_sent = 1;
    vec[0].base = r->body;
    vec[0].len = r->body_len;
    return 1;
}

static nghttp3_nv nv(const char *name, const char *value) {
    nghttp3_nv v = {
        .name = (uint8_t *)name, .value = (uint8_t *)value,
        .namelen = strlen(name), .valuelen = strlen(value), .flags = NGHTTP3_NV_FLAG_NONE,
    };
    return v;
}

/* 0 submitted, 1 no stream credit (stays waiting), -1 failed. */
static int submit(cq_cconn *cc, cq_creq *r) {
    cq_conn *c = cc->c;
    int64_t sid;
    int rv = ngtcp2_conn_open_bidi_stream(c->qc, &sid, NULL);
    if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED) return 1;
    if (rv != 0) return -1;
    char lbuf[24];
    nghttp3_nv nva[9];
    size_t n = 0;
    nva[n++] = nv(":method", r->method);
    nva[n++] = nv(":scheme", "https");
    nva[n++] = nv(":authority", r->authority ? r->authority : cc->cl->peer);
    nva[n++] = nv(":path", r->path);
    nva[n++] = nv("user-agent", "autohome");
    if (r->authorization) nva[n++] = nv("authorization", r->authorization);
    if (r->content_type) nva[n++] = nv("content-type", r->content_type);
    if (r->body_len) {
        snprintf(lbuf, sizeof(lbuf), "%zu", r->body_len);
        nva[n++] = nv("content-length", lbuf);
    }
    nghttp3_data_reader dr = {.read_data = read_body};
    rv = nghttp3_conn_submit_request(c->h3, sid, nva, n, r->body_len ? &dr : NULL, r);
    if (rv != 0) {
        cq_log(c->ep, 3, "conn %llu: nghttp3_conn_submit_request: %s", (unsigned long long)c->id,
               nghttp3_strerror(rv));
        cq_shutdown_stream_write(c->qc, sid, NGHTTP3_H3_INTERNAL_ERROR);
        return -1;
    }
    cq_log(c->ep, 3, "conn %llu stream %lld: %s %s", (unsigned long long)c->id, (long long)sid,
           r->method, r->path[0] && strncmp(r->path, "/v1/event/", 10) && strncmp(r->path, "/v1/actions/", 12)
                          ? r->path : "(a registration path)");
    unlink_req(r);
    r->sid = sid;
    r->next = cc->reqs;
    if (cc->reqs) cc->reqs->prev = r;
    cc->reqs = r;
    /* An open exchange: keep-alive PINGs until it ends (a long response,
     * an action stream). */
    cq_conn_set_open(c, 1);
    cq_conn_mark_dirty(c);
    return 0;
}

/* In order, as far as HTTP/3 and the server's stream limit allow. */
void cq_ch3_submit_waiting(cq_cconn *cc) {
    if (!cc->c || !cc->c->h3 || cc->c->state != CQ_ACTIVE) {
        if (cc->c && cc->waiting)
            cq_log(cc->c->ep, 3, "conn %llu: requests wait for HTTP/3 (h3 %s, state %d)",
                   (unsigned long long)cc->c->id, cc->c->h3 ? "up" : "not yet", cc->c->state);
        return;
    }
    while (cc->waiting) {
        cq_creq *r = cc->waiting;
        int rv = submit(cc, r);
        if (rv == 1) return;
        if (rv < 0) cq_creq_finish(r, CQC_REQ_NOMEM);
    }
}

/* role->stream_error: the endpoint reset a stream (freed at its close). */
void cq_ch3_stream_error(cq_conn *c, int64_t sid) {
    for (cq_creq *r = cq_cc(c)->reqs; r; r = r->next)
        if (r->sid == sid) {
            cq_creq_end(r, CQC_REQ_RESET);
            return;
        }
}

/* ---- setup ----------------------------------------------------------------- */

int cq_ch3_setup(cq_conn *c) {
    static const nghttp3_callbacks cb = {
        .acked_stream_data = cb_acked,
        .stream_close = cb_stream_close,
        .recv_data = cb_recv_data,
        .deferred_consume = cb_deferred_consume,
        .recv_header = cb_recv_header,
        .stop_sending = cb_stop_sending,
        .end_headers = cb_end_headers,
        .end_stream = cb_end_stream,
        .reset_stream = cb_reset_stream,
    };
    if (c->h3) return 0;
    nghttp3_settings st;
    if (cq_conn_h3_prepare(c, &st) != 0) return -1;
    if (nghttp3_conn_client_new(&c->h3, &cb, &st, nghttp3_mem_default(), c) != 0) return -1;
    return cq_conn_h3_open_streams(c);
}
