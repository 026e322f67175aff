/*
 * h3.c - HTTP/3 on top of one QUIC connection: nghttp3 setup, assembling
 * requests (method, path, two headers, a body capped at max_body) and
 * delivering them to on_request, and feeding responses back to nghttp3.
 *
 * Response bodies are chunks copied from the Swift side; nghttp3 references
 * them until the peer acknowledges them (acked_stream_data), so a chunk is
 * freed only then.
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

static void free_request(cq_stream *st) {
    free(st->method);
    free(st->path);
    free(st->authorization);
    free(st->content_type);
    free(st->body);
    st->method = st->path = st->authorization = st->content_type = NULL;
    st->body = NULL;
    st->body_len = st->body_cap = 0;
}

/* notify: tell Swift the stream is gone if it ever saw the request. */
void cq_stream_free(cq_stream *st, int notify) {
    cq_conn *c = st->conn;
    cq_server *s = c->srv;
    if (st->prev) st->prev->next = st->next; else c->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    c->nstreams--;
    if (c->h3) nghttp3_conn_set_stream_user_data(c->h3, st->id, NULL);
    free_request(st);
    for (cq_chunk *ch = st->head; ch;) {
        cq_chunk *n = ch->next;
        free(ch);
        ch = n;
    }
    if (st->delivered) {
        cq_live_del(s, c->id, st->id);
        if (notify && s->cfg.on_stream_closed) s->cfg.on_stream_closed(s->cfg.user, c->id, st->id);
    }
    free(st);
}

/* ---- request side -------------------------------------------------------- */

static void consume(cq_conn *c, int64_t sid, size_t n) {
    /* Credit the client's flow-control windows for bytes we took. */
    ngtcp2_conn_extend_max_stream_offset(c->qc, sid, n);
    ngtcp2_conn_extend_max_offset(c->qc, n);
}

int cq_h3_recv_stream_data(cq_conn *c, int64_t sid, const uint8_t *data, size_t len, int fin) {
    if (!c->h3) return 0;
    nghttp3_ssize n = nghttp3_conn_read_stream(c->h3, sid, data, len, fin);
    if (n < 0) {
        cq_log(c->srv, 3, "conn %llu: nghttp3_conn_read_stream: %s",
               (unsigned long long)c->id, nghttp3_strerror((int)n));
        cq_ccerr_set_app(&c->ccerr, nghttp3_err_infer_quic_app_error_code((int)n));
        c->ccerr_set = 1;
        return -1;
    }
    consume(c, sid, (size_t)n);
    return 0;
}

static const char err431[] = "{\"error\": \"request header field too large\"}";

static void deliver(cq_stream *st) {
    cq_conn *c = st->conn;
    cq_server *s = c->srv;
    if (st->delivered || st->responded) return;
    if (st->hdr_too_large) {
        cq_h3_submit(st, 431, "application/json", NULL, NULL,
                     (const uint8_t *)err431, sizeof(err431) - 1, 1);
        free_request(st);
        return;
    }
    if (cq_live_add(s, c->id, st->id) != 0) {
        cq_h3_submit(st, 503, NULL, NULL, NULL, NULL, 0, 1);
        free_request(st);
        return;
    }
    st->delivered = 1;
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
    free_request(st); /* the body was only lent for the callback */
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
    consume(c, sid, len);
    if (!st || st->too_large || st->delivered || st->responded) return 0; /* discard */
    size_t max = c->srv->cfg.max_body;
    if (len > max - st->body_len) {
        /* Over the cap: stop buffering and let Swift answer 413 now; the rest
         * of the body is read and dropped. */
        st->too_large = 1;
        free(st->body);
        st->body = NULL;
        st->body_len = st->body_cap = 0;
        deliver(st);
        return 0;
    }
    if (st->body_len + len > st->body_cap) {
        size_t cap = st->body_cap ? st->body_cap : 4096;
        while (cap < st->body_len + len) cap *= 2;
        if (cap > max) cap = max;
        uint8_t *b = realloc(st->body, cap);
        if (!b) return NGHTTP3_ERR_NOMEM;
        st->body = b;
        st->body_cap = cap;
    }
    memcpy(st->body + st->body_len, data, len);
    st->body_len += len;
    return 0;
}

static int cb_deferred_consume(nghttp3_conn *h3, int64_t sid, size_t n, void *user,
                               void *stream_user) {
    (void)h3; (void)stream_user;
    consume(user, sid, n);
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

/* ---- response side ------------------------------------------------------- */

static int cb_acked_stream_data(nghttp3_conn *h3, int64_t sid, uint64_t n, void *user,
                                void *stream_user) {
    (void)h3;
    cq_conn *c = user;
    cq_stream *st = stream_user;
    if (!st) return 0;
    if (st->delivered) cq_live_acked(c->srv, c->id, sid, (size_t)n);
    while (n > 0 && st->head) {
        size_t left = st->head->len - st->head_acked;
        if (n < left) {
            st->head_acked += (size_t)n;
            break;
        }
        n -= left;
        cq_chunk *done = st->head;
        st->head = done->next;
        st->head_acked = 0;
        if (!st->head) st->tail = NULL;
        free(done);
    }
    return 0;
}

static nghttp3_ssize read_data(nghttp3_conn *h3, int64_t sid, nghttp3_vec *vec, size_t veccnt,
                               uint32_t *pflags, void *user, void *stream_user) {
    (void)h3; (void)sid; (void)user;
    cq_stream *st = stream_user;
    size_t i = 0;
    if (!st) {
        *pflags |= NGHTTP3_DATA_FLAG_EOF;
        return 0;
    }
    /* Hand out whole unsent chunks; nghttp3 keeps the pointers until acked. */
    while (st->send && i < veccnt) {
        vec[i].base = st->send->data;
        vec[i].len = st->send->len;
        i++;
        st->send = st->send->next;
    }
    if (!st->send && st->ended) *pflags |= NGHTTP3_DATA_FLAG_EOF;
    else if (i == 0) return NGHTTP3_ERR_WOULDBLOCK; /* resumed by cq_h3_append */
    return (nghttp3_ssize)i;
}

static int append_chunk(cq_stream *st, const uint8_t *data, size_t len) {
    if (len == 0) return 0;
    cq_chunk *ch = malloc(sizeof(*ch) + len);
    if (!ch) return -1;
    ch->next = NULL;
    ch->len = len;
    memcpy(ch->data, data, len);
    if (st->tail) st->tail->next = ch; else st->head = ch;
    st->tail = ch;
    if (!st->send) st->send = ch;
    return 0;
}

static nghttp3_nv nv(const char *name, const char *value) {
    /* nghttp3 0.8 declares these non-const; it never writes through them. */
    nghttp3_nv v = {
        .name = (uint8_t *)name, .value = (uint8_t *)value,
        .namelen = strlen(name), .valuelen = strlen(value), .flags = NGHTTP3_NV_FLAG_NONE,
    };
    return v;
}

int cq_h3_submit(cq_stream *st, int status, const char *ctype, const char *hname,
                 const char *hvalue, const uint8_t *body, size_t len, int end) {
    cq_conn *c = st->conn;
    if (!c->h3 || st->responded) return -1;
    char sbuf[8], lbuf[24];
    nghttp3_nv nva[4];
    size_t n = 0;
    snprintf(sbuf, sizeof(sbuf), "%d", status);
    nva[n++] = nv(":status", sbuf);
    if (ctype) nva[n++] = nv("content-type", ctype);
    /* A complete body gets a content-length, except where HTTP forbids one
     * (1xx, 204, 304). */
    if (end && status >= 200 && status != 204 && status != 304) {
        snprintf(lbuf, sizeof(lbuf), "%zu", len);
        nva[n++] = nv("content-length", lbuf);
    }
    if (hname && hvalue) nva[n++] = nv(hname, hvalue);
    if (append_chunk(st, body, len) != 0) return -1;
    st->responded = 1;
    st->ended = end;
    nghttp3_data_reader dr = {.read_data = read_data};
    /* nghttp3 copies the header fields; the body is read via read_data. */
    int rv = nghttp3_conn_submit_response(c->h3, st->id, nva, n, (len || !end) ? &dr : NULL);
    if (rv != 0) {
        cq_log(c->srv, 3, "conn %llu: nghttp3_conn_submit_response: %s",
               (unsigned long long)c->id, nghttp3_strerror(rv));
        return -1;
    }
    return 0;
}

int cq_h3_append(cq_stream *st, const uint8_t *data, size_t len, int end) {
    cq_conn *c = st->conn;
    if (!c->h3 || !st->responded || st->ended) return -1;
    if (append_chunk(st, data, len) != 0) return -1;
    if (end) st->ended = 1;
    nghttp3_conn_resume_stream(c->h3, st->id);
    return 0;
}

/* ---- setup ---------------------------------------------------------------- */

int cq_h3_setup(cq_conn *c) {
    static const nghttp3_callbacks cb = {
        .acked_stream_data = cb_acked_stream_data,
        .stream_close = cb_stream_close,
        .recv_data = cb_recv_data,
        .deferred_consume = cb_deferred_consume,
        .begin_headers = cb_begin_headers,
        .recv_header = cb_recv_header,
        .stop_sending = cb_stop_sending,
        .end_stream = cb_end_stream,
        .reset_stream = cb_reset_stream,
    };
    if (c->h3) return 0;
    if (ngtcp2_conn_get_streams_uni_left(c->qc) < 3) {
        cq_log(c->srv, 3, "conn %llu: peer allows < 3 uni streams", (unsigned long long)c->id);
        return -1;
    }
    nghttp3_settings st;
    nghttp3_settings_default(&st);
    st.max_field_section_size = 64u << 10;
    st.qpack_max_dtable_capacity = 4096;
    st.qpack_blocked_streams = 100;
    int rv = nghttp3_conn_server_new(&c->h3, &cb, &st, nghttp3_mem_default(), c);
    if (rv != 0) return -1;
    nghttp3_conn_set_max_client_streams_bidi(c->h3, c->srv->cfg.max_streams_per_conn);
    int64_t ctrl, enc, dec;
    if (ngtcp2_conn_open_uni_stream(c->qc, &ctrl, NULL) != 0 ||
        nghttp3_conn_bind_control_stream(c->h3, ctrl) != 0 ||
        ngtcp2_conn_open_uni_stream(c->qc, &enc, NULL) != 0 ||
        ngtcp2_conn_open_uni_stream(c->qc, &dec, NULL) != 0 ||
        nghttp3_conn_bind_qpack_streams(c->h3, enc, dec) != 0)
        return -1;
    return 0;
}
