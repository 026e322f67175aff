/*
 * server_api.c - the server role's thread-safe response API.
 *
 * Swift answers from worker threads; ngtcp2/nghttp3 objects belong to the
 * network thread.  So cq_respond & co. validate, copy their arguments into a
 * command, post it to the endpoint's mutex-protected FIFO and wake the loop
 * through the eventfd; the loop applies the commands in order (apply_cmd).
 *
 * The "live" table (also under the mutex) records every stream Swift was
 * given and what it may still do with it.  That makes errors synchronous and
 * deterministic (CQ_ERR_GONE / CQ_ERR_STATE / CQ_ERR_FULL) instead of
 * silently dropped writes, and lets cq_stream_write apply backpressure.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* A server command: the endpoint's header first. */
enum { CQ_CMD_RESPOND, CQ_CMD_WRITE, CQ_CMD_END };

typedef struct srv_cmd {
    cq_cmd base;
    cq_server *srv;
    int type, status, end;
    uint64_t conn_id;
    int64_t stream_id;
    char *ctype, *hname, *hvalue; /* point into data[] after the body, or NULL */
    size_t len;
    uint8_t data[];
} srv_cmd;

static void cq_live_key(uint8_t key[16], uint64_t conn_id, int64_t stream_id) {
    memcpy(key, &conn_id, 8);
    memcpy(key + 8, &stream_id, 8);
}

/* cq_free, after the endpoint (and so every stream) is gone: no lock. */
void cq_live_free_all(cq_server *s) {
    if (s->live.b) {
        /* values are cq_live allocations */
        for (size_t i = 0; i < s->live.nb; i++)
            for (cq_map_ent *e = s->live.b[i]; e; e = e->next) free(e->val);
    }
    cq_map_free(&s->live);
}

int cq_live_add(cq_server *s, uint64_t conn_id, int64_t sid) {
    uint8_t key[16];
    cq_live_key(key, conn_id, sid);
    cq_live *l = calloc(1, sizeof(*l));
    if (!l) return -1;
    cq_ep_lock(&s->ep);
    int rv = cq_map_put(&s->live, key, sizeof(key), l);
    cq_ep_unlock(&s->ep);
    if (rv != 0) free(l);
    return rv;
}

void cq_live_del(cq_server *s, uint64_t conn_id, int64_t sid) {
    uint8_t key[16];
    cq_live_key(key, conn_id, sid);
    cq_ep_lock(&s->ep);
    free(cq_map_del(&s->live, key, sizeof(key)));
    cq_ep_unlock(&s->ep);
}

void cq_live_acked(cq_server *s, uint64_t conn_id, int64_t sid, size_t n) {
    uint8_t key[16];
    cq_live_key(key, conn_id, sid);
    cq_ep_lock(&s->ep);
    cq_live *l = cq_map_get(&s->live, key, sizeof(key));
    if (l) l->pending = n > l->pending ? 0 : l->pending - n;
    cq_ep_unlock(&s->ep);
}

/* A header name must be a lower-case token (HTTP/3 forbids upper case). */
static int valid_name(const char *p) {
    if (!*p) return 0;
    for (; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("-!#$%&'*+.^_`|~", *p)))
            return 0;
    return 1;
}

static int valid_value(const char *p) {
    for (; *p; p++)
        if (*p == '\r' || *p == '\n') return 0;
    return 1;
}

static size_t slen(const char *p) { return p ? strlen(p) + 1 : 0; }

static void apply_cmd(cq_endpoint *ep, cq_cmd *base);

static srv_cmd *make_cmd(cq_server *s, int type, uint64_t conn_id, int64_t sid, const void *data,
                         size_t len, const char *ctype, const char *hname, const char *hvalue) {
    size_t extra = slen(ctype) + slen(hname) + slen(hvalue);
    srv_cmd *c = malloc(sizeof(*c) + len + extra);
    if (!c) return NULL;
    memset(c, 0, sizeof(*c));
    c->base.apply = apply_cmd;
    c->srv = s;
    c->type = type;
    c->conn_id = conn_id;
    c->stream_id = sid;
    c->len = len;
    if (len) memcpy(c->data, data, len);
    char *p = (char *)c->data + len;
    if (ctype) { c->ctype = strcpy(p, ctype); p += slen(ctype); }
    if (hname) {
        c->hname = strcpy(p, hname);
        for (char *q = c->hname; *q; q++) *q = (char)tolower((unsigned char)*q);
        p += slen(hname);
    }
    if (hvalue) c->hvalue = strcpy(p, hvalue);
    return c;
}

/* Checks the stream's state, moves it on and enqueues; the caller's cmd is
 * consumed either way. */
static int submit(cq_server *s, srv_cmd *cmd, int need_state, int new_state, int check_cap) {
    uint8_t key[16];
    int rv = CQ_OK;
    cq_live_key(key, cmd->conn_id, cmd->stream_id);
    cq_ep_lock(&s->ep);
    cq_live *l = cq_map_get(&s->live, key, sizeof(key));
    if (s->ep.stopped) rv = CQ_ERR_STOPPED;
    else if (!l) rv = CQ_ERR_GONE;
    else if (l->state != need_state) rv = CQ_ERR_STATE;
    else if (check_cap && l->pending > 0 && l->pending + cmd->len > s->cfg.max_stream_buffer)
        rv = CQ_ERR_FULL;
    if (rv == CQ_OK) {
        l->state = new_state;
        l->pending += cmd->len;
        cq_ep_post_locked(&s->ep, &cmd->base);
    }
    cq_ep_unlock(&s->ep);
    if (rv != CQ_OK) free(cmd);
    else cq_ep_wake(&s->ep);
    return rv;
}

int cq_respond(cq_server *s, uint64_t conn_id, int64_t stream_id, int status,
               const char *content_type, const void *body, size_t len,
               const char *extra_header_name, const char *extra_header_value,
               int end_stream) {
    if (!s || status < 100 || status > 599 || (len && !body)) return CQ_ERR_ARG;
    if (content_type && !valid_value(content_type)) return CQ_ERR_ARG;
    if (!extra_header_name != !extra_header_value) return CQ_ERR_ARG;
    if (extra_header_name) {
        char lower[64];
        size_t n = strlen(extra_header_name);
        if (n == 0 || n >= sizeof(lower)) return CQ_ERR_ARG;
        for (size_t i = 0; i <= n; i++) lower[i] = (char)tolower((unsigned char)extra_header_name[i]);
        if (!valid_name(lower) || !valid_value(extra_header_value)) return CQ_ERR_ARG;
    }
    srv_cmd *c = make_cmd(s, CQ_CMD_RESPOND, conn_id, stream_id, body, len, content_type,
                         extra_header_name, extra_header_value);
    if (!c) return CQ_ERR_NOMEM;
    c->status = status;
    c->end = end_stream != 0;
    return submit(s, c, 0, c->end ? 2 : 1, 0);
}

int cq_stream_write(cq_server *s, uint64_t conn_id, int64_t stream_id, const void *data, size_t len) {
    if (!s || (len && !data)) return CQ_ERR_ARG;
    srv_cmd *c = make_cmd(s, CQ_CMD_WRITE, conn_id, stream_id, data, len, NULL, NULL, NULL);
    if (!c) return CQ_ERR_NOMEM;
    return submit(s, c, 1, 1, 1);
}

int cq_stream_end(cq_server *s, uint64_t conn_id, int64_t stream_id) {
    if (!s) return CQ_ERR_ARG;
    srv_cmd *c = make_cmd(s, CQ_CMD_END, conn_id, stream_id, NULL, 0, NULL, NULL, NULL);
    if (!c) return CQ_ERR_NOMEM;
    return submit(s, c, 1, 2, 0);
}

/* Network thread (the endpoint's queue): apply one command. */
static void apply_cmd(cq_endpoint *ep, cq_cmd *base) {
    srv_cmd *cmd = (srv_cmd *)base;
    cq_conn *c = cq_map_get(&ep->byid, &cmd->conn_id, sizeof(cmd->conn_id));
    cq_stream *st = c && c->state == CQ_ACTIVE ? cq_stream_find(c, cmd->stream_id) : NULL;
    /* else: the stream went away after the command was queued; its
     * on_stream_closed has been (or is being) delivered. */
    if (!st) return;
    int rv = cmd->type == CQ_CMD_RESPOND
                 ? cq_h3_submit(st, cmd->status, cmd->ctype, cmd->hname, cmd->hvalue,
                                cmd->data, cmd->len, cmd->end)
                 : cq_h3_append(st, cmd->data, cmd->len, cmd->type == CQ_CMD_END);
    if (rv != 0)
        cq_log(ep, 3, "conn %llu stream %lld: response dropped",
               (unsigned long long)cmd->conn_id, (long long)cmd->stream_id);
    cq_conn_mark_dirty(c);
}
