/*
 * server_response.c - the response side of a request stream: headers and body
 * handed to nghttp3, and the body chunks kept until the peer acknowledges
 * them.
 *
 * Response bodies are chunks copied from the Swift side; nghttp3 references
 * them until the peer acknowledges them (acked_stream_data), so a chunk is
 * freed only then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int cq_h3_acked_stream_data(nghttp3_conn *h3, int64_t sid, uint64_t n, void *user,
                            void *stream_user) {
    (void)h3;
    cq_conn *c = user;
    cq_stream *st = stream_user;
    if (!st) return 0;
    if (st->delivered) cq_live_acked(cq_srv(c), c->id, sid, (size_t)n);
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
    if (end) cq_stream_set_open(st, 0);
    nghttp3_data_reader dr = {.read_data = read_data};
    /* nghttp3 copies the header fields; the body is read via read_data. */
    int rv = nghttp3_conn_submit_response(c->h3, st->id, nva, n, (len || !end) ? &dr : NULL);
    if (rv != 0) {
        cq_log(c->ep, 3, "conn %llu: nghttp3_conn_submit_response: %s",
               (unsigned long long)c->id, nghttp3_strerror(rv));
        return -1;
    }
    return 0;
}

int cq_h3_append(cq_stream *st, const uint8_t *data, size_t len, int end) {
    cq_conn *c = st->conn;
    if (!c->h3 || !st->responded || st->ended) return -1;
    if (append_chunk(st, data, len) != 0) return -1;
    if (end) {
        st->ended = 1;
        cq_stream_set_open(st, 0);
    }
    nghttp3_conn_resume_stream(c->h3, st->id);
    return 0;
}

