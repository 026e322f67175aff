/*
 * internal.h - structures shared by the CQuic C files (not seen by Swift).
 *
 * CQuic is two layers:
 *
 *   ENDPOINT (endpoint.c, udp.c, conn.c, quic_cb.c, budget.c, map.c)
 *     One UDP socket, the epoll loop, ngtcp2 timers, the eventfd wake-up,
 *     the cross-thread command queue, the connection tables (by connection
 *     id and by our conn id), the dirty list, and each connection's QUIC
 *     life: reading and writing packets (pulling HTTP/3 bytes out of
 *     nghttp3), expiry, closing and draining, keep-alive, receive credit.
 *     The endpoint knows no HTTP semantics and no TLS role.
 *
 *   ROLES (a cq_role table each)
 *     server (server_role.c, server_tls.c, server_h3.c, server_response.c,
 *     server_api.c): accepting connections (client Initials, Version
 *     Negotiation, Retry and half-open limits under a handshake flood,
 *     refusal), the TLS server session, nghttp3 server side,
 *     request assembly and delivery, responses, the thread-safe response
 *     API (cq_respond & co.) and its "live" table.
 *     A client role (connect, TLS client session, send requests, stream
 *     responses) plugs in the same way: its own cq_role, its own command
 *     apply functions, its own per-connection stream state; it reuses the
 *     endpoint and conn code as they are.
 *
 * Ownership: everything below belongs to the network thread, except the
 * fields marked [mu], which any thread may touch while holding ep->mu.
 */
#ifndef CQ_INTERNAL_H
#define CQ_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "compat.h"
#include "include/cquic.h"

#define CQ_SCIDLEN 18           /* length of every connection id we issue */
#define CQ_MAX_PKT 1500         /* largest UDP payload we send */
#define CQ_RXBUF 65536
#define CQ_MAX_HDR_VALUE 8192   /* longer :path/authorization/content-type -> 431 */
#define CQ_H3_NO_ERROR 0x100    /* NGHTTP3_H3_NO_ERROR, kept numeric for clarity */
/* Receive credit (budget.c).  INIT is initial_max_data: small, because
 * ngtcp2 sends MAX_DATA only once the unsent increase is a fraction of it,
 * and a large one would leave credit we granted sitting unsent. */
#define CQ_CREDIT_INIT (16u << 10)
#define CQ_CREDIT_FLOOR (64u << 10)     /* every connection, whatever the total */
#define CQ_CREDIT_HEADROOM (256u << 10) /* kept ahead of what is buffered */
#define CQ_CREDIT_JAM (16u << 10)       /* less room than this: the peer is stuck */

typedef struct cq_endpoint cq_endpoint;
typedef struct cq_conn cq_conn;
typedef struct cq_stream cq_stream;

/* ===================================================================== */
/* utilities                                                              */
/* ===================================================================== */

/* ---- small hash map: byte keys up to 24 bytes -> pointer (map.c) */
typedef struct cq_map_ent {
    struct cq_map_ent *next;
    uint64_t hash;
    size_t keylen;
    uint8_t key[24];
    void *val;
} cq_map_ent;

typedef struct cq_map {
    cq_map_ent **b;
    size_t nb, n;
    uint64_t seed; /* random, so client-chosen ids cannot be made to collide */
} cq_map;

int cq_map_init(cq_map *m);
void cq_map_free(cq_map *m);
void *cq_map_get(const cq_map *m, const void *key, size_t keylen);
int cq_map_put(cq_map *m, const void *key, size_t keylen, void *val);
void *cq_map_del(cq_map *m, const void *key, size_t keylen);

uint64_t cq_now(void);
void cq_log(cq_endpoint *ep, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A log line that packets can trigger (a flood would write one per
 * datagram): the first is logged, the next ones within CQ_RATELOG_NS are
 * counted and reported as one "... repeated N times" line at most that often. */
#define CQ_RATELOG_NS (5 * NGTCP2_SECONDS)
typedef struct cq_ratelog {
    uint64_t next;             /* before this, only count */
    unsigned long suppressed;
    int level;
    char msg[200];             /* the last message, for the summary line */
} cq_ratelog;
void cq_log_limited(cq_endpoint *ep, cq_ratelog *rl, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cq_log_limited_flush(cq_endpoint *ep, cq_ratelog *rl); /* at stop */

/* ===================================================================== */
/* endpoint                                                               */
/* ===================================================================== */

/* One datagram as it arrived (endpoint.c hands it to conns and roles). */
typedef struct cq_dgram {
    uint8_t *data;
    size_t len;
    struct sockaddr_storage *remote, *local;
    socklen_t remotelen, locallen;
} cq_dgram;

/* ---- cross-thread command: a role allocates one (its own struct with this
 * header first), fills it and posts it; the network thread calls apply and
 * then free()s it.  Dropped (freed without apply) when the endpoint stops. */
typedef struct cq_cmd {
    struct cq_cmd *next;
    void (*apply)(cq_endpoint *ep, struct cq_cmd *cmd);
} cq_cmd;

/* ---- what a role plugs into the endpoint.  Every connection carries the
 * role it was created by (c->role, c->role_ctx), so one endpoint could hold
 * client and server connections side by side. */
typedef struct cq_role {
    const char *name;
    /* A datagram whose Destination Connection ID is none of ours (server:
     * maybe a client Initial), or of a version we do not speak
     * (unsupported = 1).  Only the endpoint's acceptor gets these. */
    void (*accept)(cq_endpoint *ep, void *ctx, const cq_dgram *d, const ngtcp2_version_cid *vc,
                   int unsupported);
    /* The handshake completed: the connection may speak HTTP/3 now (keys
     * and the peer's transport parameters are known).  Create nghttp3 and
     * its control streams here, not earlier, so a connection that never
     * completes (a flood) never costs that.  0 or -1. */
    int (*handshake_completed)(cq_conn *c);
    /* After nghttp3 has read stream data (quic_cb.c) and the parsed bytes'
     * credit is back: the role's follow-up that must not run inside nghttp3
     * callbacks (nghttp3 is not re-entrant).  May be NULL. */
    void (*after_read)(cq_conn *c);
    /* The endpoint reset stream sid as a stream error (cq_conn_stream_error):
     * drop whatever the role holds for it.  May be NULL. */
    void (*stream_error)(cq_conn *c, int64_t sid);
    /* The connection is being freed: release the role's stream state (and
     * tell the application about streams it knew). */
    void (*conn_free)(cq_conn *c);
} cq_role;

/* Transport settings an endpoint applies to all its connections. */
typedef struct cq_ep_config {
    uint32_t idle_timeout_ms;
    uint32_t handshake_timeout_ms;
    size_t max_conn_recv_buffer;   /* receive credit cap per connection (budget.c) */
    size_t max_total_recv_buffer;  /* ... and over all connections */
    cq_log_cb on_log;
    void *user;
} cq_ep_config;

struct cq_endpoint {
    cq_ep_config cfg;
    int fd, family, epfd, evfd;
    uint16_t port;
    cq_map cids;   /* connection id bytes -> cq_conn */
    cq_map byid;   /* conn id (8 bytes) -> cq_conn */
    cq_conn *conns;
    size_t nconns;
    cq_conn *dirty;
    uint64_t next_conn_id;
    uint8_t *rxbuf;
    int ngtcp2_log;
    /* who gets datagrams for unknown connection ids (NULL: nobody) */
    const cq_role *acceptor;
    void *acceptor_ctx;
    /* receive budget (budget.c); atomics only so stats can be read anywhere */
    atomic_uint_fast64_t credit, held, rx_bytes, nkeepalive;
    cq_conn *starved, *starved_tail; /* FIFO: topped up in order */
    /* cross-thread part */
    pthread_mutex_t mu;
    cq_cmd *cmd_head, *cmd_tail; /* [mu] */
    atomic_int stopping;
    int stopped;                 /* [mu] no more commands accepted */
};

/* endpoint.c */
int cq_ep_init(cq_endpoint *ep, const cq_ep_config *cfg, const char *host, uint16_t port,
               char *err, size_t errlen);
void cq_ep_free(cq_endpoint *ep);   /* frees every connection too; not while running */
int cq_ep_run(cq_endpoint *ep);     /* the loop, until cq_ep_stop */
void cq_ep_stop(cq_endpoint *ep);   /* any thread, async-signal-safe */
void cq_ep_wake(cq_endpoint *ep);   /* any thread, async-signal-safe */
/* The command queue.  A role checks its own [mu] state and posts in one
 * critical section, so what a caller was told matches what gets applied. */
void cq_ep_lock(cq_endpoint *ep);
void cq_ep_unlock(cq_endpoint *ep);
void cq_ep_post_locked(cq_endpoint *ep, cq_cmd *cmd); /* caller then wakes */

/* udp.c */
int cq_udp_open(cq_endpoint *ep, const char *host, uint16_t port, char *err, size_t errlen);
ssize_t cq_udp_recv(cq_endpoint *ep, uint8_t *buf, size_t buflen,
                    struct sockaddr_storage *remote, socklen_t *remotelen,
                    struct sockaddr_storage *local, socklen_t *locallen);
void cq_udp_send(cq_endpoint *ep, const ngtcp2_addr *local, const ngtcp2_addr *remote,
                 const uint8_t *data, size_t len);
void cq_addr_text(const struct sockaddr *sa, char *out, size_t outlen);

/* ===================================================================== */
/* connection (endpoint side)                                             */
/* ===================================================================== */

/* ---- one chunk of response body, kept until nghttp3 reports it acked */
typedef struct cq_chunk {
    struct cq_chunk *next;
    size_t len;
    uint8_t data[];
} cq_chunk;

enum { CQ_ACTIVE, CQ_CLOSING, CQ_DRAINING, CQ_DEAD };

struct cq_conn {
    /* ---- endpoint part (conn.c, quic_cb.c, budget.c) */
    cq_endpoint *ep;
    const cq_role *role;
    void *role_ctx;         /* the role's object (server: cq_server) */
    uint64_t id;
    int state;
    ngtcp2_conn *qc;
    nghttp3_conn *h3;       /* created by role->handshake_completed */
    gnutls_session_t tls;   /* created by the role (server or client session) */
    ngtcp2_crypto_conn_ref conn_ref;
    struct sockaddr_storage local, remote;
    socklen_t locallen, remotelen;
    char peer[64];
    cq_ccerr ccerr;
    int ccerr_set;
    /* every connection id of ours that maps to this conn in ep->cids */
    ngtcp2_cid *cids;
    size_t ncids, capcids;
    /* closing period: the CONNECTION_CLOSE packet resent on incoming packets */
    uint8_t *closebuf;
    size_t closelen;
    unsigned close_rx;
    uint64_t close_deadline;
    uint64_t expiry;
    size_t nopen;           /* exchanges that may stay silent a long time (keep-alive) */
    int keepalive;          /* keep-alive timer armed */
    /* receive budget (budget.c) */
    uint64_t credit;        /* connection credit granted - bytes released */
    uint64_t held;          /* body bytes buffered by the role */
    uint64_t rx_body;       /* body bytes nghttp3 handed to the role (its
                               recv_data adds them), for credit accounting */
    int starved;            /* waiting in ep->starved for more credit */
    struct cq_conn *starved_next;
    struct cq_conn *next, *prev;  /* ep->conns */
    struct cq_conn *dirty_next;   /* ep->dirty: needs a write pass */
    int dirty;

    /* ---- server role part (server_h3.c, server_response.c) */
    cq_stream *streams;
    size_t nstreams;
    size_t ndelivered;      /* streams in the server's live table */
    int halfopen;           /* counted in the server's half-open connections */
    int validated;          /* came with a valid Retry token */
    uint8_t addrkey[16];    /* client IP, key of the server's per-address count */
    uint8_t addrkeylen;     /* 0: not counted per address */
    int stop_pending;       /* some stream has stop_code set */
};

/* quic_cb.c: the callbacks every connection needs, whatever its role; a
 * role adds its own (recv_client_initial, recv_retry ...) on a copy. */
void cq_callbacks_common(ngtcp2_callbacks *cb);
int cq_conn_add_cid(cq_conn *c, const ngtcp2_cid *cid);
void cq_conn_del_cid(cq_conn *c, const ngtcp2_cid *cid);

/* conn.c */
cq_conn *cq_conn_alloc(cq_endpoint *ep, const cq_role *role, void *role_ctx,
                       const struct sockaddr *local, socklen_t locallen,
                       const struct sockaddr *remote, socklen_t remotelen);
void cq_conn_settings(cq_conn *c, ngtcp2_settings *st); /* endpoint's defaults */
void cq_conn_params(cq_conn *c, ngtcp2_transport_params *p, uint64_t max_streams_bidi);
ngtcp2_path cq_conn_path(cq_conn *c);
int cq_conn_attach(cq_conn *c);      /* into the endpoint's tables and list */
void cq_conn_discard(cq_conn *c);    /* undo a cq_conn_alloc that never attached */
void cq_conn_read(cq_conn *c, const cq_dgram *d);
void cq_conn_write(cq_conn *c);
void cq_conn_on_expiry(cq_conn *c);
void cq_conn_resend_close(cq_conn *c);
void cq_conn_close_now(cq_conn *c);  /* endpoint stop: send CONNECTION_CLOSE */
void cq_conn_update_expiry(cq_conn *c);
void cq_conn_fail(cq_conn *c, int liberr); /* enter the closing period */
void cq_conn_fail_app(cq_conn *c, uint64_t app_error); /* ... with an HTTP/3 error */
void cq_conn_free(cq_conn *c);
void cq_conn_mark_dirty(cq_conn *c);
void cq_conn_set_open(cq_conn *c, int delta); /* +1/-1 open exchanges: keep-alive */
void cq_conn_stream_error(cq_conn *c, int64_t sid, uint64_t h3_error); /* reset both ways */

/* budget.c: connection receive credit (request bodies on a server,
 * response bodies on a client: whatever the role buffers) */
void cq_budget_conn_init(cq_conn *c);
void cq_budget_conn_start(cq_conn *c);

/* conn.c: the HTTP/3 set-up both roles share around their own nghttp3
 * constructor (server_new / client_new are versioned macros, so the role
 * calls its own between these two).  0 or -1. */
int cq_conn_h3_prepare(cq_conn *c, nghttp3_settings *st); /* peer allows 3 uni streams; our settings */
int cq_conn_h3_open_streams(cq_conn *c);                  /* control + QPACK streams; receive budget on */
void cq_budget_conn_free(cq_conn *c);
void cq_budget_hold(cq_conn *c, size_t n);
void cq_budget_unhold(cq_conn *c, size_t n);
void cq_budget_release(cq_conn *c, size_t n);
int cq_budget_jammed(cq_conn *c);
void cq_budget_run(cq_endpoint *ep);

/* ===================================================================== */
/* server role                                                            */
/* ===================================================================== */

/* ---- one request stream */
struct cq_stream {
    struct cq_stream *next, *prev;
    cq_conn *conn;
    int64_t id;
    /* request */
    char *method, *path, *authorization, *content_type;
    uint8_t *body;
    size_t body_len, body_cap;
    size_t held;            /* body bytes whose connection credit is not returned */
    int too_large, hdr_too_large, delivered, rejected;
    uint64_t stop_code;     /* STOP_SENDING with this once nghttp3 returns (0: none) */
    /* response */
    int responded, ended;
    int open;               /* delivered and the response not ended: keep alive */
    cq_chunk *head, *tail;  /* head: oldest unacked chunk */
    size_t head_acked;      /* bytes of head already acked */
    cq_chunk *send;         /* next chunk to hand to nghttp3 (NULL: none) */
    size_t send_off;
};

/* [mu] what any thread may know about a delivered stream */
typedef struct cq_live {
    int state;       /* 0 awaiting response, 1 open, 2 ended */
    size_t pending;  /* queued + unacked response bytes */
} cq_live;

struct cq_server {
    cq_endpoint ep;
    cq_config cfg;
    char *host, *cert_file, *key_file;
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    ngtcp2_callbacks callbacks;   /* cq_callbacks_common + the server's */
    atomic_uint_fast64_t rejected;
    cq_map live;                  /* [ep.mu] (conn id, stream id) -> cq_live */
    size_t live_per_conn;         /* delivered requests a connection may have
                                     at once (beyond: 503 + retry-after) */
    /* handshake floods (server_role.c) */
    uint8_t retry_secret[32];     /* random per start: Retry tokens die with it */
    atomic_uint_fast64_t halfopen, retries;
    cq_map halfopen_by_addr;      /* client IP -> unvalidated half-open count */
    cq_ratelog rl_refused, rl_retry, rl_token;
};

static inline cq_server *cq_srv(const cq_conn *c) { return (cq_server *)c->role_ctx; }

/* server_tls.c */
int cq_tls_init(cq_server *s, char *err, size_t errlen);
void cq_tls_free(cq_server *s);
int cq_tls_session_new(cq_server *s, cq_conn *c);

/* server_h3.c */
int cq_h3_setup(cq_conn *c);
void cq_h3_conn_free(cq_conn *c);
void cq_h3_after_read(cq_conn *c);
void cq_h3_stream_error(cq_conn *c, int64_t sid);
void cq_stream_free(cq_stream *st, int notify);
void cq_request_free(cq_stream *st);
void cq_stream_set_open(cq_stream *st, int open);
cq_stream *cq_stream_find(cq_conn *c, int64_t sid);

/* server_response.c */
int cq_h3_submit(cq_stream *st, int status, const char *ctype, const char *hname,
                 const char *hvalue, const uint8_t *body, size_t len, int end);
int cq_h3_append(cq_stream *st, const uint8_t *data, size_t len, int end);
int cq_h3_acked_stream_data(nghttp3_conn *h3, int64_t sid, uint64_t n, void *user,
                            void *stream_user);

/* server_api.c */
void cq_live_free_all(cq_server *s);
int cq_live_add(cq_server *s, uint64_t conn_id, int64_t sid);
void cq_live_del(cq_server *s, uint64_t conn_id, int64_t sid);
void cq_live_acked(cq_server *s, uint64_t conn_id, int64_t sid, size_t n);

#endif /* CQ_INTERNAL_H */
