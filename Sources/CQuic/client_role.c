/*
 * client_role.c - the client role on an endpoint: the public cq_client API
 * of cquic_client.h (lifecycle, commands from any thread) and creating
 * client connections (ngtcp2_conn_client_new).
 *
 * The endpoint has no acceptor here: a datagram for an id that is none of
 * our connections' is dropped.  Our connections register their source ids
 * in the endpoint's table like a server's do, so replies route to them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_internal.h"

/* ---- the role table ------------------------------------------------------ */

static cq_cconn *find_conn(cq_client *cl, uint64_t handle) {
    for (cq_cconn *cc = cl->conns; cc; cc = cc->next)
        if (cc->handle == handle) return cc;
    return NULL;
}

static int reason_of(cq_cconn *cc) {
    cq_conn *c = cc->c;
    if (cc->closing) return CQC_CLOSED;
    if (cc->pin_failed) return CQC_PIN_MISMATCH;
    if (!cc->handshake_done) {
        /* Something answered but the handshake failed, or nothing did. */
        if (c->qc && (cq_in_draining(c->qc) || c->ccerr_set)) return CQC_HANDSHAKE;
        return CQC_UNREACHABLE;
    }
    if (c->qc && cq_in_draining(c->qc)) return CQC_PEER_CLOSED;
    if (c->ccerr_set) return CQC_ERROR;
    return CQC_IDLE;
}

static const char *reason_text(int reason) {
    switch (reason) {
    case CQC_CLOSED: return "connection closed";
    case CQC_UNREACHABLE: return "no answer from the server (is it running, and is UDP open?)";
    case CQC_PIN_MISMATCH: return "the server's certificate is not the pinned one";
    case CQC_HANDSHAKE: return "the TLS/QUIC handshake failed (not an HTTP/3 server?)";
    case CQC_PEER_CLOSED: return "the server closed the connection";
    case CQC_IDLE: return "the server stopped answering (idle timeout)";
    default: return "connection error";
    }
}

/* role->conn_free: every request ends, then the caller hears why. */
static void client_conn_free(cq_conn *c) {
    cq_cconn *cc = cq_cc(c);
    cq_client *cl = cc->cl;
    int reason = reason_of(cc);
    while (cc->reqs) cq_creq_finish(cc->reqs, CQC_REQ_CONN);
    while (cc->waiting) cq_creq_finish(cc->waiting, CQC_REQ_CONN);
    cq_log(c->ep, 3, "conn %llu: ended: %s", (unsigned long long)c->id, reason_text(reason));
    if (cc->prev) cc->prev->next = cc->next; else cl->conns = cc->next;
    if (cc->next) cc->next->prev = cc->prev;
    cc->c = NULL;
    if (cl->cfg.on_closed)
        cl->cfg.on_closed(cl->cfg.user, cc->handle, reason, cc->fingerprint, reason_text(reason));
    free(cc);
}

/* HTTP/3 comes up when the handshake completes (the endpoint creates no
 * nghttp3 state for a connection that never gets that far). */
static int client_h3_setup(cq_conn *c) {
    if (!c->h3 && cq_ch3_setup(c) != 0) return -1;
    cq_ch3_submit_waiting(cq_cc(c));
    return 0;
}

static const cq_role client_role = {
    .name = "client",
    .accept = NULL,
    .handshake_completed = client_h3_setup,
    .after_read = NULL,
    .stream_error = cq_ch3_stream_error,
    .conn_free = client_conn_free,
};

/* ---- ngtcp2 callbacks only a client has ---------------------------------- */

static int cb_handshake_completed(ngtcp2_conn *qc, void *user) {
    (void)qc;
    cq_conn *c = user;
    cq_cconn *cc = cq_cc(c);
    cq_client *cl = cc->cl;
    if (!c->h3 && cq_ch3_setup(c) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
    cc->handshake_done = 1;
    if (cl->cfg.on_connected) cl->cfg.on_connected(cl->cfg.user, cc->handle, cc->fingerprint);
    cq_ch3_submit_waiting(cc);
    return 0;
}

/* The server let us open more request streams. */
static int cb_extend_max_local_streams_bidi(ngtcp2_conn *qc, uint64_t max_streams, void *user) {
    (void)qc; (void)max_streams;
    cq_conn *c = user;
    /* As ngtcp2's own example client does: open the streams right here
     * (we are inside ngtcp2_conn_read_pkt, not inside nghttp3). */
    cq_ch3_submit_waiting(cq_cc(c));
    return 0;
}

/* ---- creating a connection (network thread) ---------------------------- */

static void conn_start(cq_client *cl, cq_cconn *cc) {
    cq_endpoint *ep = &cl->ep;
    cq_conn *c = cq_conn_alloc(ep, &client_role, cc, (struct sockaddr *)&cl->local, cl->locallen,
                               (struct sockaddr *)&cl->remote, cl->remotelen);
    if (!c) goto fail_nomem;
    cc->c = c;
    ngtcp2_cid scid, dcid;
    scid.datalen = CQ_SCIDLEN;
    dcid.datalen = CQ_SCIDLEN;
    do {
        if (cq_random(scid.data, scid.datalen) != 0) goto fail;
    } while (cq_map_get(&ep->cids, scid.data, scid.datalen));
    if (cq_random(dcid.data, dcid.datalen) != 0) goto fail;

    ngtcp2_settings st;
    cq_conn_settings(c, &st);
    ngtcp2_transport_params p;
    cq_conn_params(c, &p, 0); /* the server opens no request streams to us */
    ngtcp2_path path = cq_conn_path(c);
    int rv = ngtcp2_conn_client_new(&c->qc, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cl->callbacks,
                                    &st, &p, NULL, c);
    if (rv != 0) {
        cq_log(ep, 1, "ngtcp2_conn_client_new: %s", ngtcp2_strerror(rv));
        goto fail;
    }
    if (cq_ctls_session_new(cl, c) != 0) goto fail;
    ngtcp2_conn_set_tls_native_handle(c->qc, c->tls);
    if (cq_conn_add_cid(c, &scid) != 0 || cq_conn_attach(c) != 0) goto fail;
    cq_conn_mark_dirty(c); /* the first flight */
    return;
fail:
    cq_conn_discard(c);
fail_nomem:
    cc->c = NULL;
    if (cc->prev) cc->prev->next = cc->next; else cl->conns = cc->next;
    if (cc->next) cc->next->prev = cc->prev;
    while (cc->waiting) {
        cq_creq *r = cc->waiting;
        cc->waiting = r->next;
        if (cl->cfg.on_done) cl->cfg.on_done(cl->cfg.user, r->id, CQC_REQ_CONN);
        free(r);
    }
    if (cl->cfg.on_closed) cl->cfg.on_closed(cl->cfg.user, cc->handle, CQC_ERROR, "", "cannot create a connection");
    free(cc);
}

/* ---- commands (posted from any thread, applied on the network thread) -- */

typedef struct {
    cq_cmd hdr;
    cq_cconn *cc;       /* connect: the new connection object */
    uint64_t conn;
    cq_creq *req;       /* request */
    uint64_t req_id;    /* cancel */
} client_cmd;

static void apply_connect(cq_endpoint *ep, cq_cmd *cmd) {
    cq_client *cl = (cq_client *)ep;
    cq_cconn *cc = ((client_cmd *)cmd)->cc;
    cc->next = cl->conns;
    if (cl->conns) cl->conns->prev = cc;
    cl->conns = cc;
    conn_start(cl, cc);
}

static void apply_request(cq_endpoint *ep, cq_cmd *cmd) {
    cq_client *cl = (cq_client *)ep;
    client_cmd *k = (client_cmd *)cmd;
    cq_cconn *cc = find_conn(cl, k->conn);
    cq_creq *r = k->req;
    if (!cc || !cc->c || cc->c->state != CQ_ACTIVE) {
        if (cl->cfg.on_done) cl->cfg.on_done(cl->cfg.user, r->id, CQC_REQ_CONN);
        r->cc = NULL;
        free(r->method); free(r->path); free(r->authority); free(r->authorization);
        free(r->content_type); free(r->body); free(r);
        return;
    }
    r->cc = cc;
    r->prev = cc->waiting_tail;
    if (cc->waiting_tail) cc->waiting_tail->next = r; else cc->waiting = r;
    cc->waiting_tail = r;
    cq_ch3_submit_waiting(cc);
}

static void apply_cancel(cq_endpoint *ep, cq_cmd *cmd) {
    cq_client *cl = (cq_client *)ep;
    client_cmd *k = (client_cmd *)cmd;
    cq_cconn *cc = find_conn(cl, k->conn);
    cq_creq *r = cc ? cq_creq_find(cc, k->req_id) : NULL;
    if (!r || r->done) return;
    if (r->sid < 0) {
        cq_creq_finish(r, CQC_REQ_CANCELLED);
        return;
    }
    int64_t sid = r->sid;
    cq_creq_end(r, CQC_REQ_CANCELLED);
    cq_conn_stream_error(cc->c, sid, NGHTTP3_H3_REQUEST_CANCELLED);
}

static void apply_close(cq_endpoint *ep, cq_cmd *cmd) {
    cq_client *cl = (cq_client *)ep;
    cq_cconn *cc = find_conn(cl, ((client_cmd *)cmd)->conn);
    if (!cc || !cc->c) return;
    cc->closing = 1;
    cq_conn_close_now(cc->c); /* CONNECTION_CLOSE now; freed by the loop */
}

/* Posts under the endpoint lock unless stopped; frees cmd when refused. */
static int post(cq_client *cl, client_cmd *k) {
    cq_ep_lock(&cl->ep);
    int stopped = cl->ep.stopped || atomic_load(&cl->ep.stopping);
    if (!stopped) cq_ep_post_locked(&cl->ep, &k->hdr);
    cq_ep_unlock(&cl->ep);
    if (stopped) {
        free(k);
        return CQ_ERR_STOPPED;
    }
    cq_ep_wake(&cl->ep);
    return CQ_OK;
}

uint64_t cq_client_connect(cq_client *cl, const char *pin) {
    if (!cl) return 0;
    cq_cconn *cc = calloc(1, sizeof(*cc));
    client_cmd *k = calloc(1, sizeof(*k));
    if (!cc || !k) {
        free(cc);
        free(k);
        return 0;
    }
    if (pin && *pin && cq_pin_normalize(pin, cc->pin) != 0) {
        free(cc);
        free(k);
        return 0;
    }
    cc->cl = cl;
    cc->handle = atomic_fetch_add(&cl->next_handle, 1);
    uint64_t h = cc->handle;
    k->hdr.apply = apply_connect;
    k->cc = cc;
    if (post(cl, k) != CQ_OK) {
        free(cc);
        return 0;
    }
    return h;
}

static int bad_header_value(const char *v) { return v && strpbrk(v, "\r\n") != NULL; }

int cq_client_request(cq_client *cl, uint64_t conn, uint64_t req, const char *method,
                      const char *path, const char *authority, const char *authorization,
                      const char *content_type, const void *body, size_t len) {
    if (!cl || !method || !path || path[0] != '/' || bad_header_value(method) ||
        bad_header_value(path) || bad_header_value(authority) || bad_header_value(authorization) ||
        bad_header_value(content_type))
        return CQ_ERR_ARG;
    cq_creq *r = calloc(1, sizeof(*r));
    client_cmd *k = calloc(1, sizeof(*k));
    if (!r || !k) goto nomem;
    r->id = req;
    r->sid = -1;
    r->method = strdup(method);
    r->path = strdup(path);
    r->authority = authority ? strdup(authority) : NULL;
    r->authorization = authorization ? strdup(authorization) : NULL;
    r->content_type = content_type ? strdup(content_type) : NULL;
    if (len) {
        r->body = malloc(len);
        if (r->body) memcpy(r->body, body, len);
        r->body_len = len;
    }
    if (!r->method || !r->path || (authority && !r->authority) || (authorization && !r->authorization) ||
        (content_type && !r->content_type) || (len && !r->body))
        goto nomem;
    k->hdr.apply = apply_request;
    k->conn = conn;
    k->req = r;
    if (post(cl, k) != CQ_OK) {
        free(r->method); free(r->path); free(r->authority); free(r->authorization);
        free(r->content_type); free(r->body); free(r);
        return CQ_ERR_STOPPED;
    }
    return CQ_OK;
nomem:
    if (r) {
        free(r->method); free(r->path); free(r->authority); free(r->authorization);
        free(r->content_type); free(r->body); free(r);
    }
    free(k);
    return CQ_ERR_NOMEM;
}

int cq_client_cancel(cq_client *cl, uint64_t conn, uint64_t req) {
    if (!cl) return CQ_ERR_ARG;
    client_cmd *k = calloc(1, sizeof(*k));
    if (!k) return CQ_ERR_NOMEM;
    k->hdr.apply = apply_cancel;
    k->conn = conn;
    k->req_id = req;
    return post(cl, k);
}

int cq_client_close(cq_client *cl, uint64_t conn) {
    if (!cl) return CQ_ERR_ARG;
    client_cmd *k = calloc(1, sizeof(*k));
    if (!k) return CQ_ERR_NOMEM;
    k->hdr.apply = apply_close;
    k->conn = conn;
    return post(cl, k);
}

/* ---- lifecycle ----------------------------------------------------------- */

/* The local address the kernel would use towards the server: a connected
 * scratch socket tells (connect on UDP sends nothing).  The endpoint's
 * socket stays unconnected, as the endpoint code expects. */
static int local_address(cq_client *cl, char *err, size_t errlen) {
    int fd = socket(cl->remote.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    cl->locallen = sizeof(cl->local);
    if (connect(fd, (struct sockaddr *)&cl->remote, cl->remotelen) != 0 ||
        getsockname(fd, (struct sockaddr *)&cl->local, &cl->locallen) != 0) {
        snprintf(err, errlen, "no route to %s: %s", cl->peer, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    if (cl->local.ss_family == AF_INET) ((struct sockaddr_in *)&cl->local)->sin_port = htons(cl->ep.port);
    else ((struct sockaddr_in6 *)&cl->local)->sin6_port = htons(cl->ep.port);
    return 0;
}

static int resolve(cq_client *cl, char *err, size_t errlen) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_ADDRCONFIG;
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)cl->cfg.port);
    int rv = getaddrinfo(cl->host, port, &hints, &res);
    if (rv == EAI_ADDRFAMILY || rv == EAI_NONAME || rv == EAI_NODATA) {
        /* AI_ADDRCONFIG hides ::1 on hosts without a global IPv6 address */
        hints.ai_flags = 0;
        rv = getaddrinfo(cl->host, port, &hints, &res);
    }
    if (rv != 0 || !res) {
        snprintf(err, errlen, "cannot resolve '%s': %s", cl->host, gai_strerror(rv));
        return -1;
    }
    /* IPv4 first when a name has both: the daemon listens on 0.0.0.0 by
     * default, and "localhost" often resolves to ::1 first. */
    struct addrinfo *pick = res;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        if (a->ai_family == AF_INET) { pick = a; break; }
    memcpy(&cl->remote, pick->ai_addr, pick->ai_addrlen);
    cl->remotelen = pick->ai_addrlen;
    freeaddrinfo(res);
    cq_addr_text((struct sockaddr *)&cl->remote, cl->peer, sizeof(cl->peer));
    return 0;
}

cq_client *cq_client_new(const cq_client_config *cfg, char *err, size_t errlen) {
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (!cfg || !cfg->host || !*cfg->host || cfg->port == 0) {
        snprintf(err, errlen, "the client needs a server host and port");
        return NULL;
    }
    cq_client *cl = calloc(1, sizeof(*cl));
    if (!cl) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cl->cfg = *cfg;
    if (!cl->cfg.idle_timeout_ms) cl->cfg.idle_timeout_ms = 30000;
    if (!cl->cfg.handshake_timeout_ms) cl->cfg.handshake_timeout_ms = 5000;
    cl->host = strdup(cfg->host);
    cl->cfg.host = cl->host;
    atomic_store(&cl->next_handle, 1);
    cq_callbacks_common(&cl->callbacks);
    cl->callbacks.client_initial = ngtcp2_crypto_client_initial_cb;
    cl->callbacks.recv_retry = ngtcp2_crypto_recv_retry_cb;
    cl->callbacks.handshake_completed = cb_handshake_completed;
    cl->callbacks.extend_max_local_streams_bidi = cb_extend_max_local_streams_bidi;

    cq_ep_config ec = {
        .idle_timeout_ms = cl->cfg.idle_timeout_ms,
        .handshake_timeout_ms = cl->cfg.handshake_timeout_ms,
        /* Response bodies are handed over as they arrive, so credit only
         * bounds what is in flight. */
        .max_conn_recv_buffer = 1u << 20,
        .max_total_recv_buffer = 64u << 20,
        .on_log = cl->cfg.on_log,
        .user = cl->cfg.user,
    };
    if (!cl->host) {
        snprintf(err, errlen, "out of memory");
        free(cl);
        return NULL;
    }
    if (resolve(cl, err, errlen) != 0) {
        free(cl->host);
        free(cl);
        return NULL;
    }
    const char *any = cl->remote.ss_family == AF_INET6 ? "::" : "0.0.0.0";
    if (cq_ep_init(&cl->ep, &ec, any, 0, err, errlen) != 0 || local_address(cl, err, errlen) != 0 ||
        cq_ctls_init(cl, err, errlen) != 0) {
        cq_client_free(cl);
        return NULL;
    }
    return cl;
}

void cq_client_set_user(cq_client *cl, void *user) {
    if (!cl) return;
    cl->cfg.user = user;
    cl->ep.cfg.user = user;
}

const char *cq_client_peer(const cq_client *cl) { return cl ? cl->peer : ""; }

int cq_client_run(cq_client *cl) {
    if (!cl || cl->ep.fd < 0) return -1;
    cl->thread = pthread_self();
    atomic_store(&cl->running, 1);
    int rc = cq_ep_run(&cl->ep);
    atomic_store(&cl->running, 0);
    return rc;
}

void cq_client_stop(cq_client *cl) {
    if (cl) cq_ep_stop(&cl->ep);
}

void cq_client_free(cq_client *cl) {
    if (!cl) return;
    cq_ep_free(&cl->ep);
    cq_ctls_free(cl);
    free(cl->host);
    free(cl);
}
