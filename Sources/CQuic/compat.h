/*
 * compat.h - every difference between ngtcp2 0.12 / nghttp3 0.8 (Debian 12)
 * and ngtcp2 1.x / nghttp3 1.x (Debian 13) lives here, so the rest of CQuic
 * is written once against these small wrappers.
 *
 * The versioned-struct entry points (ngtcp2_settings_default,
 * ngtcp2_conn_server_new, ngtcp2_conn_read_pkt, nghttp3_conn_server_new ...)
 * are function-like macros in both generations; they are only used from C
 * here, which is why Swift never needs them.
 */
#ifndef CQ_COMPAT_H
#define CQ_COMPAT_H

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <nghttp3/nghttp3.h>

#if !defined(NGTCP2_VERSION_NUM) || !defined(NGHTTP3_VERSION_NUM)
#error "ngtcp2/nghttp3 version macros missing"
#endif
#if NGTCP2_VERSION_NUM < 0x000c00
#error "CQuic needs ngtcp2 >= 0.12"
#endif

#if NGTCP2_VERSION_NUM >= 0x010000
#define CQ_NGTCP2_V1 1
#else
#define CQ_NGTCP2_V1 0
#endif

/* ---- connection close error: ngtcp2_connection_close_error -> ngtcp2_ccerr */
#if CQ_NGTCP2_V1
typedef ngtcp2_ccerr cq_ccerr;
static inline void cq_ccerr_default(cq_ccerr *e) { ngtcp2_ccerr_default(e); }
static inline void cq_ccerr_set_liberr(cq_ccerr *e, int rv) {
    ngtcp2_ccerr_set_liberr(e, rv, NULL, 0);
}
static inline void cq_ccerr_set_app(cq_ccerr *e, uint64_t code) {
    ngtcp2_ccerr_set_application_error(e, code, NULL, 0);
}
static inline void cq_ccerr_set_tls_alert(cq_ccerr *e, uint8_t alert) {
    ngtcp2_ccerr_set_tls_alert(e, alert, NULL, 0);
}
#else
typedef ngtcp2_connection_close_error cq_ccerr;
static inline void cq_ccerr_default(cq_ccerr *e) {
    ngtcp2_connection_close_error_default(e);
}
static inline void cq_ccerr_set_liberr(cq_ccerr *e, int rv) {
    ngtcp2_connection_close_error_set_transport_error_liberr(e, rv, NULL, 0);
}
static inline void cq_ccerr_set_app(cq_ccerr *e, uint64_t code) {
    ngtcp2_connection_close_error_set_application_error(e, code, NULL, 0);
}
static inline void cq_ccerr_set_tls_alert(cq_ccerr *e, uint8_t alert) {
    ngtcp2_connection_close_error_set_transport_error_tls_alert(e, alert, NULL, 0);
}
#endif

/* ---- closing / draining period: ngtcp2_conn_is_in_* -> ngtcp2_conn_in_* */
static inline int cq_in_closing(ngtcp2_conn *c) {
#if CQ_NGTCP2_V1
    return ngtcp2_conn_in_closing_period(c);
#else
    return ngtcp2_conn_is_in_closing_period(c);
#endif
}
static inline int cq_in_draining(ngtcp2_conn *c) {
#if CQ_NGTCP2_V1
    return ngtcp2_conn_in_draining_period(c);
#else
    return ngtcp2_conn_is_in_draining_period(c);
#endif
}

/* ---- stream shutdown gained a flags argument in 1.x */
static inline int cq_shutdown_stream_read(ngtcp2_conn *c, int64_t sid, uint64_t code) {
#if CQ_NGTCP2_V1
    return ngtcp2_conn_shutdown_stream_read(c, 0, sid, code);
#else
    return ngtcp2_conn_shutdown_stream_read(c, sid, code);
#endif
}
static inline int cq_shutdown_stream_write(ngtcp2_conn *c, int64_t sid, uint64_t code) {
#if CQ_NGTCP2_V1
    return ngtcp2_conn_shutdown_stream_write(c, 0, sid, code);
#else
    return ngtcp2_conn_shutdown_stream_write(c, sid, code);
#endif
}

/* ---- keep-alive: both generations have ngtcp2_conn_set_keep_alive_timeout,
 * but "off" is 0 in 0.x and UINT64_MAX in 1.x (where 0 is reserved; and
 * UINT64_MAX in 0.x would overflow its expiry).  timeout 0 = off here. */
static inline void cq_set_keep_alive(ngtcp2_conn *c, ngtcp2_duration timeout) {
#if CQ_NGTCP2_V1
    ngtcp2_conn_set_keep_alive_timeout(c, timeout ? timeout : UINT64_MAX);
#else
    ngtcp2_conn_set_keep_alive_timeout(c, timeout);
#endif
}

/* ---- number of source connection ids: get_num_scid -> get_scid(conn, NULL) */
static inline size_t cq_num_scid(ngtcp2_conn *c) {
#if CQ_NGTCP2_V1
    return ngtcp2_conn_get_scid(c, NULL);
#else
    return ngtcp2_conn_get_num_scid(c);
#endif
}

/* ---- transport parameters: 1.x only sends original_dcid when told to,
 * and a server that omits it fails every client's validation. */
static inline void cq_params_set_odcid(ngtcp2_transport_params *p, const ngtcp2_cid *odcid) {
    p->original_dcid = *odcid;
#if CQ_NGTCP2_V1
    p->original_dcid_present = 1;
#endif
}

/* ---- pacing before the first RTT sample.  ngtcp2 0.x paces the packets
 * sent before any RTT sample at cwnd / initial_rtt (333 ms): the server's
 * first flight (~1 KB) then pushes the next send ~21 ms out, and our first
 * 1-RTT packets (HANDSHAKE_DONE and the first response) wait for that timer
 * although the client's ACK has long given a ~0.1 ms RTT.  1.x assumes 1 ms
 * instead.  So on 0.x the first flight is not paced (it is bounded by the
 * congestion window and the anti-amplification limit anyway): the bytes
 * stay counted and are paced with the first real RTT at the next call. */
static inline void cq_update_pkt_tx_time(ngtcp2_conn *c, ngtcp2_tstamp ts) {
#if !CQ_NGTCP2_V1
    ngtcp2_conn_stat cs;
    ngtcp2_conn_get_conn_stat(c, &cs);
    if (cs.first_rtt_sample_ts == UINT64_MAX) return;
#endif
    ngtcp2_conn_update_pkt_tx_time(c, ts);
}

/* Connection-level receive credit (budget.c) relies on behaviour shared by
 * both generations: settings.max_window = 0 turns window auto-tuning off,
 * and MAX_DATA goes out once the unsent increase exceeds a fraction (1/2 in
 * 0.x, 1/4 in 1.x) of initial_max_data. */

/* ---- Retry tokens (server_role.c).  ngtcp2_crypto_generate_retry_token /
 * ngtcp2_crypto_verify_retry_token / ngtcp2_crypto_write_retry have the
 * same signatures in both generations; what moved is where a token lives:
 * an ngtcp2_vec in 0.x, pointer + length (and a token type in settings) in
 * 1.x.  NEW_TOKEN tokens are never issued, so only Retry tokens occur.
 * The handshake timeout has no default in 1.x (UINT64_MAX), so conn.c
 * always sets one. */
static inline void cq_hd_token(const ngtcp2_pkt_hd *hd, const uint8_t **token, size_t *len) {
#if CQ_NGTCP2_V1
    *token = hd->token;
    *len = hd->tokenlen;
#else
    *token = hd->token.base;
    *len = hd->token.len;
#endif
}

/* The client's Initial carried a valid Retry token: its address is
 * validated, so ngtcp2 lifts the 3x anti-amplification limit at once. */
static inline void cq_settings_set_retry_token(ngtcp2_settings *st, const uint8_t *token,
                                               size_t len) {
#if CQ_NGTCP2_V1
    st->token = token;
    st->tokenlen = len;
    st->token_type = NGTCP2_TOKEN_TYPE_RETRY;
#else
    st->token.base = (uint8_t *)token; /* ngtcp2_conn_server_new copies it */
    st->token.len = len;
#endif
}

static inline void cq_params_set_retry_scid(ngtcp2_transport_params *p, const ngtcp2_cid *scid) {
    p->retry_scid = *scid;
    p->retry_scid_present = 1;
}

#endif /* CQ_COMPAT_H */
