/*
 * cquic.h - the HTTP/3 server core of autohomed (QUIC via ngtcp2, HTTP/3 via
 * nghttp3, TLS 1.3 via GnuTLS).  This is the only header Swift sees, so it
 * exposes no ngtcp2/nghttp3/GnuTLS types and no function-like macros.
 *
 * Threading model
 *   - cq_server_run() runs the whole network side on the calling thread (the
 *     "network thread"): one UDP socket, epoll, ngtcp2 timers, an eventfd for
 *     wake-ups.  on_request and on_stream_closed are called on that thread;
 *     keep them short (hand the work to another thread).
 *   - cq_respond(), cq_stream_write(), cq_stream_end() and cq_server_stop()
 *     may be called from ANY thread, including from inside the callbacks.
 *     They copy their arguments into a queue and wake the network thread.
 *     cq_server_stat() too (it reads atomic counters).
 *   - cq_free() only after cq_server_run() has returned (or was never run).
 *
 * Policy (routing, auth, status codes) lives in Swift; this layer only moves
 * requests in and responses out, with bounded memory.
 *
 * Inside, a cq_server is an endpoint (the UDP socket, the loop, timers, the
 * eventfd, the command queue behind cq_respond & co., the connection
 * tables: the transport) with the server role on it (accepting clients,
 * the TLS server session, assembling requests and sending responses).
 * In cq_config, [endpoint] marks what the transport uses (the same for a
 * future client role); everything else is the server role's.
 */
#ifndef CQUIC_H
#define CQUIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes of the response functions (and of a few helpers). */
#define CQ_OK 0
#define CQ_ERR_GONE (-1)    /* connection or stream no longer exists (client left) */
#define CQ_ERR_STATE (-2)   /* respond twice, write before respond, write after end */
#define CQ_ERR_FULL (-3)    /* stream buffer cap reached; the client reads too slowly */
#define CQ_ERR_NOMEM (-4)
#define CQ_ERR_ARG (-5)     /* bad status, header with CR/LF, NULL server ... */
#define CQ_ERR_STOPPED (-6) /* server is stopping or stopped */

typedef struct cq_server cq_server;

/* One complete request, valid only during the on_request callback. */
typedef struct cq_request {
    uint64_t conn_id;          /* server-local, never reused within a cq_server */
    int64_t stream_id;         /* QUIC stream id, unique within conn_id */
    const char *method;        /* e.g. "GET" (never NULL) */
    const char *path;          /* :path including the query, e.g. "/v1/x?wait=1" */
    const char *authorization; /* value of the authorization header, or NULL */
    const char *content_type;  /* value of the content-type header, or NULL */
    const uint8_t *body;       /* request body (NULL when empty or too large) */
    size_t body_len;
    int body_too_large;        /* 1: body exceeded max_body; body is NULL/0 and the
                                  request is delivered as soon as the cap is
                                  crossed (answer 413; the client is told to stop
                                  sending the rest: STOP_SENDING H3_NO_ERROR) */
    const char *peer;          /* client address as text, "1.2.3.4:5" / "[::1]:5" */
} cq_request;

typedef void (*cq_request_cb)(void *user, const cq_request *req);
/* Called once for every delivered request whose stream is gone (finished,
 * reset by the client, connection closed or timed out, server stopping).
 * After it, responses to (conn_id, stream_id) return CQ_ERR_GONE. */
typedef void (*cq_stream_closed_cb)(void *user, uint64_t conn_id, int64_t stream_id);
/* level: 0 error, 1 warning, 2 info, 3 debug. */
typedef void (*cq_log_cb)(void *user, int level, const char *msg);

typedef struct cq_config {
    const char *host;       /* [endpoint] IPv4 or IPv6 literal; "::" is dual-stack. NULL = "0.0.0.0" */
    uint16_t port;          /* [endpoint] 0 = pick a free port (see cq_server_port) */
    const char *cert_file;  /* PEM certificate (chain) */
    const char *key_file;   /* PEM private key */
    size_t max_body;        /* request body cap in bytes; 0 = 1 MiB */
    uint32_t idle_timeout_ms;      /* [endpoint] 0 = 30000.  A connection with a delivered
                                      request whose response has not ended (long
                                      poll, open stream) sends keep-alive PINGs
                                      every half idle timeout instead */
    uint32_t handshake_timeout_ms; /* [endpoint] 0 = 10000 */
    uint32_t max_connections;      /* 0 = 1024; beyond it new clients get CONNECTION_REFUSED */
    uint32_t max_streams_per_conn; /* concurrent requests per connection; 0 = 100 */
    size_t max_stream_buffer;      /* queued + unacknowledged response bytes per stream
                                      before cq_stream_write says CQ_ERR_FULL; 0 = 4 MiB */
    cq_request_cb on_request;      /* required */
    cq_stream_closed_cb on_stream_closed; /* optional */
    cq_log_cb on_log;              /* [endpoint] optional; NULL = silent */
    void *user;
    /* Request bodies are buffered whole until delivered.  These cap what
     * clients can make us buffer: flow-control credit is only granted within
     * them, so a client that sends more is flow-controlled (and, if it jams a
     * connection with several half-sent bodies, its newest request is reset
     * with H3_REQUEST_REJECTED, which clients may retry). */
    size_t max_conn_body_buffer;   /* [endpoint] per connection; 0 = 2 * max_body + 64 KiB
                                      (never below max_body + 64 KiB) */
    size_t max_total_body_buffer;  /* [endpoint] all connections; 0 = 64 MiB.  Each
                                      connection still gets 64 KiB beyond it so
                                      small requests never starve */
    /* Handshake floods (client Initials from spoofed addresses that never
     * answer).  Connections still in their handshake ("half-open") are
     * counted; beyond these limits an Initial without a valid token gets a
     * Retry (RFC 9000 §8.1.2): a real client comes back at once with the
     * token, proving its address, and only then gets a connection.  A
     * spoofed source never does, and costs one small stateless packet. */
    uint32_t retry_halfopen;        /* half-open connections beyond which every
                                       client must validate; 0 = 64 */
    uint32_t max_halfopen_per_addr; /* unvalidated half-open connections per
                                       client IP beyond which it must; 0 = 8 */
} cq_config;

/* Creates the server: loads the certificate, binds the UDP socket.  Returns
 * NULL and a message in err on failure. */
cq_server *cq_server_new(const cq_config *cfg, char *err, size_t errlen);

/* The bound UDP port (useful with port 0). */
uint16_t cq_server_port(const cq_server *s);

/* Runs the event loop on the calling thread until cq_server_stop().  On stop
 * every connection gets a CONNECTION_CLOSE (H3_NO_ERROR), every delivered
 * stream gets on_stream_closed, and it returns 0.  -1 on a fatal error. */
int cq_server_run(cq_server *s);

/* Thread- and async-signal-safe (an atomic store and an eventfd write). */
void cq_server_stop(cq_server *s);

/* Frees everything.  Not while cq_server_run() is running. */
void cq_free(cq_server *s);

/* Starts the response of a delivered request.  content_type and the extra
 * header (e.g. "retry-after", "60") may be NULL.  With end_stream=1 the
 * response is complete; with end_stream=0 the stream stays open and
 * cq_stream_write() appends body bytes until cq_stream_end(). */
int cq_respond(cq_server *s, uint64_t conn_id, int64_t stream_id, int status,
               const char *content_type, const void *body, size_t len,
               const char *extra_header_name, const char *extra_header_value,
               int end_stream);

/* Appends to an open response (after cq_respond(..., end_stream=0)). */
int cq_stream_write(cq_server *s, uint64_t conn_id, int64_t stream_id,
                    const void *data, size_t len);

/* Ends an open response. */
int cq_stream_end(cq_server *s, uint64_t conn_id, int64_t stream_id);

/* Counters for monitoring (and the tests); any thread. */
#define CQ_STAT_BODY_BUFFERED 0  /* request-body bytes buffered, not yet delivered */
#define CQ_STAT_BODY_CREDIT 1    /* connection-level receive credit granted and not
                                    yet returned: the bound on the above */
#define CQ_STAT_RX_BYTES 2       /* UDP payload bytes received since start */
#define CQ_STAT_REJECTED 3       /* requests reset because a body budget was full */
#define CQ_STAT_KEEPALIVE_CONNS 4 /* connections currently sending keep-alive PINGs */
#define CQ_STAT_HALFOPEN 5       /* connections still in their handshake */
#define CQ_STAT_RETRIES 6        /* Retry packets sent since start */
/* 0 for an unknown counter or a NULL server. */
uint64_t cq_server_stat(const cq_server *s, int which);

/* ---- helpers so Swift needs no crypto library (all GnuTLS-backed) ---- */

/* Creates an ECDSA P-256 self-signed certificate (10 years) and its key as
 * PEM files; the key file is written with mode 0600.  0 or -1 with err. */
int cq_make_self_signed(const char *cert_path, const char *key_path,
                        const char *common_name, char *err, size_t errlen);

/* SHA-256 fingerprint of the first certificate in a PEM file, as
 * "AB:CD:...": 95 characters + NUL.  0 or -1. */
int cq_cert_fingerprint_sha256(const char *cert_path, char out[96]);

/* Lower-case hex SHA-256 of data: 64 characters + NUL.  0 or -1. */
int cq_sha256_hex(const void *data, size_t len, char out[65]);

/* Cryptographically strong random bytes (gnutls_rnd).  0 or -1. */
int cq_random(void *buf, size_t len);

/* "ngtcp2 X nghttp3 Y gnutls Z" of the libraries linked at run time. */
const char *cq_versions(void);

#ifdef __cplusplus
}
#endif
#endif /* CQUIC_H */
