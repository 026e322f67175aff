/*
 * client_internal.h - the client role's structures (client_role.c,
 * client_tls.c, client_h3.c).  It plugs into the endpoint the way the
 * server role does (internal.h): a cq_role table, its own commands, and
 * its own per-connection state, reached through cq_conn.role_ctx (one
 * cq_cconn per connection; the server uses role_ctx for its cq_server).
 *
 * Everything belongs to the network thread except what is marked [mu]
 * (ep.mu).
 */
#ifndef CQ_CLIENT_INTERNAL_H
#define CQ_CLIENT_INTERNAL_H

#include "internal.h"
#include "include/cquic_client.h"

typedef struct cq_cconn cq_cconn;

/* ---- one request and its response */
typedef struct cq_creq {
    struct cq_creq *next, *prev;   /* cc->reqs (submitted) or cc->waiting */
    cq_cconn *cc;
    uint64_t id;                   /* the caller's */
    int64_t sid;                   /* -1 until submitted */
    char *method, *path, *authority, *authorization, *content_type;
    uint8_t *body;
    size_t body_len;
    int body_sent;
    int status;                    /* :status, 0 until headers */
    char *resp_ctype, *retry_after;
    int headers_told, done;
} cq_creq;

/* ---- the client role's part of one connection */
struct cq_cconn {
    struct cq_cconn *next, *prev;  /* cl->conns */
    cq_client *cl;
    cq_conn *c;                    /* NULL once freed by the endpoint */
    uint64_t handle;
    char pin[65];                  /* "" = accept any certificate */
    char fingerprint[65];          /* what the server showed */
    int pin_failed, handshake_done, closing;
    cq_creq *reqs;                 /* submitted to nghttp3 */
    cq_creq *waiting, *waiting_tail; /* not yet: no HTTP/3 yet or no stream credit */
};

struct cq_client {
    cq_endpoint ep;
    cq_client_config cfg;
    char *host;
    struct sockaddr_storage remote, local;
    socklen_t remotelen, locallen;
    char peer[64];
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    ngtcp2_callbacks callbacks;    /* cq_callbacks_common + the client's */
    cq_cconn *conns;
    atomic_uint_fast64_t next_handle;
    pthread_t thread;              /* the network thread, once running */
    atomic_int running;
};

static inline cq_cconn *cq_cc(const cq_conn *c) { return (cq_cconn *)c->role_ctx; }

/* client_tls.c */
int cq_ctls_init(cq_client *cl, char *err, size_t errlen);
void cq_ctls_free(cq_client *cl);
int cq_ctls_session_new(cq_client *cl, cq_conn *c);

/* client_h3.c */
int cq_ch3_setup(cq_conn *c);
void cq_ch3_submit_waiting(cq_cconn *cc);
void cq_ch3_stream_error(cq_conn *c, int64_t sid);
void cq_creq_end(cq_creq *r, int result);    /* on_done once */
void cq_creq_finish(cq_creq *r, int result); /* on_done once, unlink, free */
cq_creq *cq_creq_find(cq_cconn *cc, uint64_t id);

#endif /* CQ_CLIENT_INTERNAL_H */
