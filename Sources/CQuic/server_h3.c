/*
 * server_h3.c - the server role's HTTP/3 on one QUIC connection: nghttp3
 * server setup, assembling requests (method, path, two headers, a body
 * capped at max_body) and delivering them to on_request.  The response side
 * is in server_response.c, the accounting of buffered bodies (and so of
 * flow-control credit) in budget.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- streams ------------------------------------------------------------ */

cq_stream *cq_stream_find(cq_conn *c, int64_t sid) {
    for (cq_stream *st = c->streams; st; st = st->next)
        if (st->id == sid) return st;
    return NULL;
}

/* Once the body is freed its bytes no longer hold the connection's credit. */
static void drop_body(cq_stream *st) {
    cq_conn *c = st->conn;
    size_t n = st->held;
    free(st->body);
    st->body = NULL;
    st->body_len = st->body_cap = st->held = 0;
    cq_budget_unhold(c, n);
}

void cq_request_free(cq_stream *st) {
    free(st->method);
    free(st->path);
    free(st->authorization);
    free(st->content_type);
    st->method = st->path = st->authorization = st->content_type = NULL;
    drop_body(st);
}

/* notify: tell Swift the stream is gone if it ever saw the request. */
void cq_stream_free(cq_stream *st, int notify) {
    cq_conn *c = st->conn;
    cq_server *s = cq_srv(c);
    if (st->prev) st->prev->next = st->next; else c->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    c->nstreams--;
    if (c->h3) nghttp3_conn_set_stream_user_data(c->h3, st->id, NULL);
    cq_stream_set_open(st, 0);
    cq_request_free(st);
    for (cq_chunk *ch = st->head; ch;) {
        cq_chunk *n = ch->next;
        free(ch);
        ch = n;
    }
    if (st->delivered) {
        c->ndelivered--;
        cq_live_del(s, c->id, st->id);
        if (notify && s->cfg.on_stream_closed) s->cfg.on_stream_closed(s->cfg.user, c->id, st->id);
    }
    free(st);
}

/* A delivered request whose response has not ended may be silent for a
 * long time; while a connection has one, it sends keep-alive PINGs. */
void cq_stream_set_open(cq_stream *st, int open) {
    if (st->open == open) return;
    st->open = open;
    cq_conn_set_open(st->conn, open ? 1 : -1);
}

/* role->conn_free: the connection is going away with its streams. */
void cq_h3_conn_free(cq_conn *c) {
    while (c->streams) cq_stream_free(c->streams, 1);
}

/* role->stream_error: the stream was reset; nothing of it is delivered
 * any more, and its body's credit comes back now. */
void cq_h3_stream_error(cq_conn *c, int64_t sid) {
    cq_stream *st = cq_stream_find(c, sid);
    if (!st) return;
    st->rejected = 1;
    st->stop_code = 0;
    cq_request_free(st);
}

/* Asks the client to stop sending a request's body (done once nghttp3 has
 * returned: it is not re-entrant). */
static void stop_later(cq_stream *st, uint64_t code) {
    st->stop_code = code;
    st->conn->stop_pending = 1;
}

/* role->after_read: after nghttp3 has read a stream's data, the follow-ups
 * that must not run inside nghttp3's callbacks. */
void cq_h3_after_read(cq_conn *c) {
    if (c->stop_pending) {
        /* A 413 (H3_NO_ERROR, RFC 9114 §4.1.1: the response still goes out)
         * or a 400 for a malformed request (H3_MESSAGE_ERROR).  (It may be
         * another stream than the one just read: one unblocked by QPACK
         * data.) */
        c->stop_pending = 0;
        for (cq_stream *st = c->streams; st; st = st->next) {
            if (!st->stop_code) continue;
            cq_shutdown_stream_read(c->qc, st->id, st->stop_code);
            nghttp3_conn_shutdown_stream_read(c->h3, st->id);
            st->stop_code = 0;
        }
    }
    if (cq_budget_jammed(c)) {
        /* Reject the newest half-sent request so the others can complete
         * (RFC 9114 §4.1.1: H3_REQUEST_REJECTED, nothing was processed, the
         * client may retry). */
        cq_stream *newest = NULL;
        size_t n = 0;
        for (cq_stream *st = c->streams; st; st = st->next) {
            if (!st->held || st->delivered || st->rejected) continue;
            n++;
            if (!newest || st->id > newest->id) newest = st;
        }
        if (n < 2) return;
        cq_log(c->ep, 3, "conn %llu: body budget full, rejecting stream %lld",
               (unsigned long long)c->id, (long long)newest->id);
        atomic_fetch_add(&cq_srv(c)->rejected, 1);
        cq_conn_stream_error(c, newest->id, NGHTTP3_H3_REQUEST_REJECTED); /* frees its body */
    }
}

/* ---- request side -------------------------------------------------------- */

/* Bytes nghttp3 handed back after holding them (QPACK-blocked streams). */
static void consume(cq_conn *c, int64_t sid, size_t n) {
    ngtcp2_conn_extend_max_stream_offset(c->qc, sid, n);
    cq_budget_release(c, n);
}

static const char err431[] = "{\"error\": \"request header field too large\"}";
/* Like every error of the API (SPEC §5) a JSON body; retry-after because
 * the condition clears as soon as one of the connection's requests ends. */
static const char err503[] =
    "{\"error\": \"too many concurrent requests on this connection; retry shortly\"}";

static void deliver(cq_stream *st) {
    cq_conn *c = st->conn;
    cq_server *s = cq_srv(c);
    if (st->delivered || st->responded || st->rejected) return;
    if (st->hdr_too_large) {
        cq_h3_submit(st, 431, "application/json", NULL, NULL,
                     (const uint8_t *)err431, sizeof(err431) - 1, 1);
        cq_request_free(st);
        return;
    }
    /* The connection's table of delivered requests is full (or its entry
     * cannot be allocated): answer for Swift, which never sees it. */
    if (c->ndelivered >= s->live_per_conn || cq_live_add(s, c->id, st->id) != 0) {
        cq_h3_submit(st, 503, "application/json", "retry-after", "1",
                     (const uint8_t *)err503, sizeof(err503) - 1, 1);
        cq_request_free(st);
        return;
    }
    st->delivered = 1;
    c->ndelivered++;
    cq_stream_set_open(st, 1);
    if (st->too_large) stop_later(st, NGHTTP3_H3_NO_ERROR);
    cq_request req = {
        .conn_id = c->id,
        .stream_id = st->id,
        .method = st->method ? st->method : "",
        .path = st->path ? st->path : "",
        .authorization = st->authorization,
        .content_type = st->content_type,
        .body = st->too_large ? NULL : st->body,
        .body_len = st->too_large ? 0 : st->body_len,
        .body_too_large = st->too_large,
        .peer = c->peer,
    };
    s->cfg.on_request(s->cfg.user, &req);
    cq_request_free(st); /* the body was only lent for the callback */
}

static int cb_begin_headers(nghttp3_conn *h3, int64_t sid, void *user, void *stream_user) {
    (void)stream_user;
    cq_conn *c = user;
    cq_stream *st = calloc(1, sizeof(*st));
    if (!st) return NGHTTP3_ERR_NOMEM;
    st->conn = c;
    st->id = sid;
    st->next = c->streams;
    if (c->streams) c->streams->prev = st;
    c->streams = st;
    c->nstreams++;
    nghttp3_conn_set_stream_user_data(h3, sid, st);
    return 0;
}

static void keep(cq_stream *st, char **slot, nghttp3_rcbuf *value) {
    nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
    if (*slot) return; /* first one wins */
    if (v.len > CQ_MAX_HDR_VALUE) {
        st->hdr_too_large = 1;
        return;
    }
    *slot = malloc(v.len + 1);
    if (!*slot) {
        st->hdr_too_large = 1;
        return;
    }
    memcpy(*slot, v.base, v.len);
    (*slot)[v.len] = '\0';
}

static int cb_recv_header(nghttp3_conn *h3, int64_t sid, int32_t token, nghttp3_rcbuf *name,
                          nghttp3_rcbuf *value, uint8_t flags, void *user, void *stream_user) {
    (void)h3; (void)sid; (void)name; (void)flags; (void)user;
    cq_stream *st = stream_user;
    if (!st) return 0;
    switch (token) {
    case NGHTTP3_QPACK_TOKEN__METHOD: keep(st, &st->method, value); break;
    case NGHTTP3_QPACK_TOKEN__PATH: keep(st, &st->path, value); break;
    case NGHTTP3_QPACK_TOKEN_AUTHORIZATION: keep(st, &st->authorization, value); break;
    case NGHTTP3_QPACK_TOKEN_CONTENT_TYPE: keep(st, &st->content_type, value); break;
    default: break;
    }
    return 0;
}

static int cb_recv_data(nghttp3_conn *h3, int64_t sid, const uint8_t *data, size_t len,
                        void *user, void *stream_user) {
    (void)h3;
    cq_conn *c = user;
    cq_stream *st = stream_user;
    c->rx_body += len;
    /* Stream credit at once; the connection's waits until the body is freed. */
    ngtcp2_conn_extend_max_stream_offset(c->qc, sid, len);
    if (!st || st->too_large || st->rejected || st->delivered || st->responded) {
        cq_budget_release(c, len); /* dropped */
        return 0;
    }
    size_t max = cq_srv(c)->cfg.max_body;
    if (len > max - st->body_len) {
        /* Over the cap: stop buffering and let Swift answer 413 now; the
         * client is then told to stop sending (cq_h3_recv_stream_data). */
        st->too_large = 1;
        cq_budget_release(c, len);
        drop_body(st);
        deliver(st);
        return 0;
    }
    if (st->body_len + len > st->body_cap) {
        /* Grow by a quarter, not double, so capacity stays close to what
         * the budget counts. */
        size_t cap = st->body_cap ? st->body_cap : 4096;
        while (cap < st->body_len + len) cap += cap / 4;
        if (cap > max) cap = max;
        uint8_t *b = realloc(st->body, cap);
        if (!b) return NGHTTP3_ERR_NOMEM;
        st->body = b;
        st->body_cap = cap;
    }
    memcpy(st->body + st->body_len, data, len);
    st->body_len += len;
    st->held += len;
    cq_budget_hold(c, len);
    return 0;
}

static int cb_deferred_consume(nghttp3_conn *h3, int64_t sid, size_t n, void *user,
                               void *stream_user) {
    (void)h3; (void)stream_user;
    consume(user, sid, n);
    return 0;
}

/* nghttp3 has checked the header section (pseudo-headers present and
 * well-formed, content-length a number, :path "/..." or "*" for http(s)).
 * What it lets through and we cannot serve is still a malformed request to
 * us (RFC 9114 §4.3.1): :path not starting with "/" (also "*", and any path
 * under a non-http scheme, which nghttp3 does not check) and CONNECT, which
 * opens a tunnel we do not offer.  A 400 says why (RFC 9114 §4.1.2 allows a
 * response before closing the stream), then STOP_SENDING H3_MESSAGE_ERROR
 * if a body is still coming.  Only this stream is affected. */
static const char err400_path[] = "{\"error\": \"malformed request: :path must start with /\"}";
static const char err400_connect[] = "{\"error\": \"malformed request: CONNECT is not supported\"}";

static int cb_end_headers(nghttp3_conn *h3, int64_t sid, int fin, void *user, void *stream_user) {
    (void)h3; (void)sid; (void)user;
    cq_stream *st = stream_user;
    if (!st || st->hdr_too_large) return 0; /* 431 at delivery */
    const char *err = NULL;
    size_t errlen = 0;
    if (st->method && strcmp(st->method, "CONNECT") == 0) {
        err = err400_connect;
        errlen = sizeof(err400_connect) - 1;
    } else if (!st->path || st->path[0] != '/') {
        err = err400_path;
        errlen = sizeof(err400_path) - 1;
    }
    if (!err) return 0;
    cq_log(st->conn->ep, 3, "conn %llu stream %lld: %s", (unsigned long long)st->conn->id,
           (long long)st->id, err);
    st->rejected = 1;
    cq_h3_submit(st, 400, "application/json", NULL, NULL, (const uint8_t *)err, errlen, 1);
    cq_request_free(st);
    if (!fin) stop_later(st, NGHTTP3_H3_MESSAGE_ERROR);
    return 0;
}

static int cb_end_stream(nghttp3_conn *h3, int64_t sid, void *user, void *stream_user) {
    (void)h3; (void)sid; (void)user;
    if (stream_user) deliver(stream_user);
    return 0;
}

static int cb_stream_close(nghttp3_conn *h3, int64_t sid, uint64_t app_error_code,
                           void *user, void *stream_user) {
    (void)h3; (void)app_error_code;
    cq_conn *c = user;
    if (stream_user) cq_stream_free(stream_user, 1);
    /* Each finished request lets the client open one more. */
    if (ngtcp2_is_bidi_stream(sid)) ngtcp2_conn_extend_max_streams_bidi(c->qc, 1);
    return 0;
}

static int cb_stop_sending(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user,
                           void *stream_user) {
    (void)h3; (void)stream_user;
    cq_conn *c = user;
    return cq_shutdown_stream_read(c->qc, sid, code) == 0 ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
}

static int cb_reset_stream(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user,
                           void *stream_user) {
    (void)h3; (void)stream_user;
    cq_conn *c = user;
    return cq_shutdown_stream_write(c->qc, sid, code) == 0 ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
}

/* ---- setup ---------------------------------------------------------------- */

int cq_h3_setup(cq_conn *c) {
    static const nghttp3_callbacks cb = {
        .acked_stream_data = cq_h3_acked_stream_data,
        .stream_close = cb_stream_close,
        .recv_data = cb_recv_data,
        .deferred_consume = cb_deferred_consume,
        .begin_headers = cb_begin_headers,
        .recv_header = cb_recv_header,
        .stop_sending = cb_stop_sending,
        .end_headers = cb_end_headers,
        .end_stream = cb_end_stream,
        .reset_stream = cb_reset_stream,
    };
    if (c->h3) return 0;
    nghttp3_settings st;
    if (cq_conn_h3_prepare(c, &st) != 0) return -1;
    if (nghttp3_conn_server_new(&c->h3, &cb, &st, nghttp3_mem_default(), c) != 0) return -1;
    nghttp3_conn_set_max_client_streams_bidi(c->h3, cq_srv(c)->cfg.max_streams_per_conn);
    return cq_conn_h3_open_streams(c);
}
