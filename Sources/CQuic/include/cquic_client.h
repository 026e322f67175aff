/*
 * cquic_client.h - the HTTP/3 client role of CQuic (the `autohome` CLI, its
 * `device` and `bench` commands).  Same endpoint code as the server: one
 * UDP socket, one epoll loop, ngtcp2 timers, a command queue; only the role
 * differs (client_role.c, client_tls.c, client_h3.c).
 *
 * A cq_client talks to one server (host name or address resolved once, at
 * cq_client_new) over any number of QUIC connections, each carrying any
 * number of concurrent requests.  The server certificate is checked against
 * a pin (the SHA-256 of its DER encoding, 64 lower-case hex digits) given
 * per connection; without a pin any certificate is accepted and its
 * fingerprint reported (trust on first use is the caller's policy).
 *
 * Threading model (as the server's, cquic.h)
 *   - cq_client_run() runs the network side on the calling thread; every
 *     callback is called on that thread.  Keep them short.
 *   - cq_client_connect(), cq_client_request(), cq_client_cancel(),
 *     cq_client_close() and cq_client_stop() may be called from ANY thread,
 *     including from inside the callbacks: they queue a command and wake
 *     the network thread.
 *   - cq_client_free() only after cq_client_run() returned (or never ran).
 */
#ifndef CQUIC_CLIENT_H
#define CQUIC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "cquic.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cq_client cq_client;

/* Why a connection ended (on_closed). */
#define CQC_CLOSED 0         /* closed by us (cq_client_close, cq_client_stop) */
#define CQC_UNREACHABLE 1    /* no handshake within handshake_timeout_ms */
#define CQC_PIN_MISMATCH 2   /* the server's certificate is not the pinned one */
#define CQC_HANDSHAKE 3      /* TLS/QUIC handshake failed (not an HTTP/3 server?) */
#define CQC_PEER_CLOSED 4    /* the server closed the connection (e.g. it stopped) */
#define CQC_IDLE 5           /* nothing heard from the server for idle_timeout_ms */
#define CQC_ERROR 6          /* protocol or internal error */

/* How a request ended (on_done). */
#define CQC_REQ_OK 0         /* the whole response arrived */
#define CQC_REQ_RESET 1      /* the server reset the stream */
#define CQC_REQ_CONN 2       /* the connection ended first (see on_closed) */
#define CQC_REQ_CANCELLED 3  /* cq_client_cancel */
#define CQC_REQ_NOMEM 4

/* Handshake done: fingerprint is the server certificate's SHA-256 (hex). */
typedef void (*cqc_connected_cb)(void *user, uint64_t conn, const char *fingerprint);
/* The connection is gone; every request on it got on_done(CQC_REQ_CONN)
 * before this.  fingerprint: the certificate seen ("" if none), so a pin
 * mismatch can show both. */
typedef void (*cqc_closed_cb)(void *user, uint64_t conn, int reason, const char *fingerprint,
                              const char *message);
/* The response header section.  content_type / retry_after may be NULL. */
typedef void (*cqc_headers_cb)(void *user, uint64_t req, int status, const char *content_type,
                               const char *retry_after);
/* A piece of response body, as it arrives (valid during the call). */
typedef void (*cqc_data_cb)(void *user, uint64_t req, const uint8_t *data, size_t len);
/* The request is finished, one way or the other (exactly once per request
 * that cq_client_request accepted). */
typedef void (*cqc_done_cb)(void *user, uint64_t req, int result);

typedef struct cq_client_config {
    const char *host;              /* server: a name or an IPv4/IPv6 literal (no brackets) */
    uint16_t port;
    uint32_t idle_timeout_ms;      /* 0 = 30000; connections with a request in flight
                                      send PINGs every half of it instead */
    uint32_t handshake_timeout_ms; /* 0 = 5000 */
    cqc_connected_cb on_connected; /* all callbacks optional */
    cqc_closed_cb on_closed;
    cqc_headers_cb on_headers;
    cqc_data_cb on_data;
    cqc_done_cb on_done;
    cq_log_cb on_log;
    void *user;
} cq_client_config;

/* Resolves the server and opens the UDP socket.  NULL + message on failure
 * (an unknown host name says so). */
cq_client *cq_client_new(const cq_client_config *cfg, char *err, size_t errlen);

/* The loop, until cq_client_stop(); every open connection is then closed
 * (CONNECTION_CLOSE, H3_NO_ERROR) and its callbacks run.  0, or -1. */
int cq_client_run(cq_client *cl);
void cq_client_stop(cq_client *cl);  /* any thread, async-signal-safe */
void cq_client_free(cq_client *cl);

/* Replaces cfg.user (before cq_client_run: the callbacks read it). */
void cq_client_set_user(cq_client *cl, void *user);

/* "1.2.3.4:4242" / "[::1]:4242": the address the name resolved to. */
const char *cq_client_peer(const cq_client *cl);

/* Starts a connection; returns its handle (> 0), or 0 when stopped/no
 * memory.  pin: 64 hex digits (either case, colons allowed) or NULL. */
uint64_t cq_client_connect(cq_client *cl, const char *pin);

/* Sends a request on conn (queued until the handshake is done, and while
 * the server's stream limit is reached).  req is the caller's id, echoed
 * in the callbacks.  authority, authorization, content_type may be NULL;
 * body is copied.  CQ_OK, CQ_ERR_ARG, CQ_ERR_NOMEM, CQ_ERR_STOPPED. */
int cq_client_request(cq_client *cl, uint64_t conn, uint64_t req, const char *method,
                      const char *path, const char *authority, const char *authorization,
                      const char *content_type, const void *body, size_t len);

/* Resets a request (on_done(CQC_REQ_CANCELLED) follows unless it ended). */
int cq_client_cancel(cq_client *cl, uint64_t conn, uint64_t req);

/* Closes a connection cleanly (its requests end with CQC_REQ_CONN). */
int cq_client_close(cq_client *cl, uint64_t conn);

/* Parses a pin ("sha256:" optional, hex with or without colons) into 64
 * lower-case hex digits + NUL.  0, or -1 if it is not a SHA-256. */
int cq_pin_normalize(const char *in, char out[65]);

#ifdef __cplusplus
}
#endif
#endif /* CQUIC_CLIENT_H */
