/*
 * internal.h - structures shared by the CQuic C files (not seen by Swift).
 *
 * Ownership: everything below belongs to the network thread, except the
 * fields marked [mu], which any thread may touch while holding srv->mu.
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

/* ---- one chunk of response body, kept until nghttp3 reports it acked */
typedef struct cq_chunk {
    struct cq_chunk *next;
    size_t len;
    uint8_t data[];
} cq_chunk;

typedef struct cq_conn cq_conn;

/* ---- one request stream */
typedef struct cq_stream {
    struct cq_stream *next, *prev;
    cq_conn *conn;
    int64_t id;
    /* request */
    char *method, *path, *authorization, *content_type;
    uint8_t *body;
    size_t body_len, body_cap;
    size_t held;            /* body bytes whose connection credit is not returned */
    int too_large, hdr_too_large, delivered, rejected;
    /* response */
    int responded, ended;
    int open;               /* delivered and the response not ended: keep alive */
    cq_chunk *head, *tail;  /* head: oldest unacked chunk */
    size_t head_acked;      /* bytes of head already acked */
    cq_chunk *send;         /* next chunk to hand to nghttp3 (NULL: none) */
    size_t send_off;
} cq_stream;

enum { CQ_ACTIVE, CQ_CLOSING, CQ_DRAINING, CQ_DEAD };

struct cq_conn {
    cq_server *srv;
    uint64_t id;
    int state;
    ngtcp2_conn *qc;
    nghttp3_conn *h3;
    gnutls_session_t tls;
    ngtcp2_crypto_conn_ref conn_ref;
    struct sockaddr_storage local, remote;
    socklen_t locallen, remotelen;
    char peer[64];
    cq_ccerr ccerr;
    int ccerr_set;
    /* every connection id of ours that maps to this conn in srv->cids */
    ngtcp2_cid *cids;
    size_t ncids, capcids;
    /* closing period: the CONNECTION_CLOSE packet resent on incoming packets */
    uint8_t *closebuf;
    size_t closelen;
    unsigned close_rx;
    uint64_t close_deadline;
    uint64_t expiry;
    cq_stream *streams;
    size_t nstreams;
    size_t nopen;           /* streams with open set */
    int keepalive;          /* keep-alive timer armed */
    int64_t stop_sid;       /* stream to STOP_SENDING once nghttp3 returns */
    /* receive budget (budget.c) */
    uint64_t credit;        /* connection credit granted - bytes released */
    uint64_t held;          /* sum of the streams' held */
    int starved;            /* waiting in srv->starved for more credit */
    struct cq_conn *starved_next;
    struct cq_conn *next, *prev;  /* srv->conns */
    struct cq_conn *dirty_next;   /* srv->dirty: needs a write pass */
    int dirty;
};

/* ---- cross-thread command (queue.c) */
enum { CQ_CMD_RESPOND, CQ_CMD_WRITE, CQ_CMD_END };

typedef struct cq_cmd {
    struct cq_cmd *next;
    int type, status, end;
    uint64_t conn_id;
    int64_t stream_id;
    char *ctype, *hname, *hvalue; /* point into data[] after the body, or NULL */
    size_t len;
    uint8_t data[];
} cq_cmd;

/* [mu] what any thread may know about a delivered stream */
typedef struct cq_live {
    int state;       /* 0 awaiting response, 1 open, 2 ended */
    size_t pending;  /* queued + unacked response bytes */
} cq_live;

struct cq_server {
    cq_config cfg;
    char *host, *cert_file, *key_file;
    int fd, family, epfd, evfd;
    uint16_t port;
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    cq_map cids;   /* connection id bytes -> cq_conn */
    cq_map byid;   /* conn id (8 bytes) -> cq_conn */
    cq_conn *conns;
    size_t nconns;
    cq_conn *dirty;
    uint64_t next_conn_id;
    uint8_t *rxbuf;
    int ngtcp2_log;
    /* receive budget (budget.c); atomics only so cq_server_stat can read */
    atomic_uint_fast64_t credit, held, rejected, rx_bytes, nkeepalive;
    cq_conn *starved, *starved_tail; /* FIFO: topped up in order */
    /* cross-thread part */
    pthread_mutex_t mu;
    cq_cmd *cmd_head, *cmd_tail; /* [mu] */
    cq_map live;                 /* [mu] (conn id, stream id) -> cq_live */
    atomic_int stopping;
    int stopped;                 /* [mu] no more commands accepted */
};

/* util */
uint64_t cq_now(void);
void cq_log(cq_server *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cq_live_key(uint8_t key[16], uint64_t conn_id, int64_t stream_id);

/* udp.c */
int cq_udp_open(cq_server *s, char *err, size_t errlen);
ssize_t cq_udp_recv(cq_server *s, uint8_t *buf, size_t buflen,
                    struct sockaddr_storage *remote, socklen_t *remotelen,
                    struct sockaddr_storage *local, socklen_t *locallen);
void cq_udp_send(cq_server *s, const ngtcp2_addr *local, const ngtcp2_addr *remote,
                 const uint8_t *data, size_t len);
void cq_addr_text(const struct sockaddr *sa, char *out, size_t outlen);

/* dispatch.c */
void cq_dispatch(cq_server *s, uint8_t *data, size_t len,
                 struct sockaddr_storage *remote, socklen_t remotelen,
                 struct sockaddr_storage *local, socklen_t locallen);

/* quic_cb.c */
extern const ngtcp2_callbacks cq_callbacks;

/* conn.c */
cq_conn *cq_conn_new(cq_server *s, const ngtcp2_pkt_hd *hd,
                     const struct sockaddr *local, socklen_t locallen,
                     const struct sockaddr *remote, socklen_t remotelen);
void cq_conn_read(cq_conn *c, const struct sockaddr *local, socklen_t locallen,
                  const struct sockaddr *remote, socklen_t remotelen,
                  const uint8_t *data, size_t len);
void cq_conn_write(cq_conn *c);
void cq_conn_on_expiry(cq_conn *c);
void cq_conn_resend_close(cq_conn *c);
void cq_conn_close_now(cq_conn *c);  /* server stop: send CONNECTION_CLOSE */
void cq_conn_update_expiry(cq_conn *c);
void cq_conn_fail(cq_conn *c, int liberr); /* enter the closing period */
void cq_conn_free(cq_conn *c);
void cq_conn_mark_dirty(cq_conn *c);
void cq_conn_keepalive(cq_conn *c);
int cq_conn_add_cid(cq_conn *c, const ngtcp2_cid *cid);
void cq_conn_del_cid(cq_conn *c, const ngtcp2_cid *cid);

/* budget.c */
void cq_budget_conn_init(cq_conn *c);
void cq_budget_conn_start(cq_conn *c);
void cq_budget_conn_free(cq_conn *c);
void cq_budget_hold(cq_stream *st, size_t n);
void cq_budget_release(cq_conn *c, size_t n);
void cq_budget_check_jam(cq_conn *c);
void cq_budget_run(cq_server *s);

/* h3.c */
int cq_h3_setup(cq_conn *c);
int cq_h3_recv_stream_data(cq_conn *c, int64_t sid, const uint8_t *data,
                           size_t len, int fin);
void cq_stream_free(cq_stream *st, int notify);
void cq_request_free(cq_stream *st);
void cq_stream_set_open(cq_stream *st, int open);
cq_stream *cq_stream_find(cq_conn *c, int64_t sid);

/* response.c */
int cq_h3_submit(cq_stream *st, int status, const char *ctype, const char *hname,
                 const char *hvalue, const uint8_t *body, size_t len, int end);
int cq_h3_append(cq_stream *st, const uint8_t *data, size_t len, int end);
int cq_h3_acked_stream_data(nghttp3_conn *h3, int64_t sid, uint64_t n, void *user,
                            void *stream_user);

/* queue.c */
void cq_queue_run(cq_server *s);
void cq_queue_drop_all(cq_server *s);
int cq_live_add(cq_server *s, uint64_t conn_id, int64_t sid);
void cq_live_del(cq_server *s, uint64_t conn_id, int64_t sid);
void cq_live_acked(cq_server *s, uint64_t conn_id, int64_t sid, size_t n);
void cq_wake(cq_server *s);

/* tls.c */
int cq_tls_init(cq_server *s, char *err, size_t errlen);
void cq_tls_free(cq_server *s);
int cq_tls_session_new(cq_conn *c);

#endif /* CQ_INTERNAL_H */
