/*
 * quic_cb.c - the ngtcp2 callbacks every connection has, whatever its role:
 * connection-id bookkeeping (every id we issue must route to its
 * connection), crypto glue, and handing stream events to nghttp3 (which
 * then calls the role's nghttp3 callbacks).  A role copies this table and
 * adds what only it needs (server_role.c: recv_client_initial).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- connection ids ---------------------------------------------------- */

int cq_conn_add_cid(cq_conn *c, const ngtcp2_cid *cid) {
    if (c->ncids == c->capcids) {
        size_t cap = c->capcids ? c->capcids * 2 : 4;
        ngtcp2_cid *n = realloc(c->cids, cap * sizeof(*n));
        if (!n) return -1;
        c->cids = n;
        c->capcids = cap;
    }
    if (cq_map_put(&c->ep->cids, cid->data, cid->datalen, c) != 0) return -1;
    c->cids[c->ncids++] = *cid;
    return 0;
}

void cq_conn_del_cid(cq_conn *c, const ngtcp2_cid *cid) {
    for (size_t i = 0; i < c->ncids; i++) {
        if (ngtcp2_cid_eq(&c->cids[i], cid)) {
            /* Only remove the mapping if it is still ours. */
            if (cq_map_get(&c->ep->cids, cid->data, cid->datalen) == c)
                cq_map_del(&c->ep->cids, cid->data, cid->datalen);
            c->cids[i] = c->cids[--c->ncids];
            return;
        }
    }
}

/* ---- ngtcp2 callbacks ---------------------------------------------------- */

static void cb_rand(uint8_t *dest, size_t destlen, const ngtcp2_rand_ctx *ctx) {
    (void)ctx;
    if (gnutls_rnd(GNUTLS_RND_NONCE, dest, destlen) != 0) memset(dest, 0, destlen);
}

static int cb_get_new_cid(ngtcp2_conn *qc, ngtcp2_cid *cid, uint8_t *token,
                          size_t cidlen, void *user) {
    (void)qc;
    cq_conn *c = user;
    cid->datalen = cidlen;
    /* Stateless reset is not supported, so the token is just random. */
    if (cq_random(token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
    do {
        if (cq_random(cid->data, cidlen) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
    } while (cq_map_get(&c->ep->cids, cid->data, cidlen));
    return cq_conn_add_cid(c, cid) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int cb_remove_cid(ngtcp2_conn *qc, const ngtcp2_cid *cid, void *user) {
    (void)qc;
    cq_conn_del_cid(user, cid);
    return 0;
}

static int cb_handshake_completed(ngtcp2_conn *qc, void *user) {
    (void)qc;
    cq_conn *c = user;
    return c->role->handshake_completed(c) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int cb_recv_stream_data(ngtcp2_conn *qc, uint32_t flags, int64_t sid,
                               uint64_t offset, const uint8_t *data, size_t len,
                               void *user, void *stream_user) {
    (void)qc; (void)offset; (void)stream_user;
    cq_conn *c = user;
    /* No stream data before the handshake completed (ngtcp2 holds back a
     * server's 1-RTT packets until then, RFC 9001 §5.7; there is no 0-RTT),
     * so nghttp3 exists here; dropping would be the only safe answer anyway. */
    if (!c->h3) return 0;
    uint64_t body_before = c->rx_body;
    nghttp3_ssize n = nghttp3_conn_read_stream(c->h3, sid, data, len,
                                               (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
    if (n == NGHTTP3_ERR_MALFORMED_HTTP_MESSAGING && ngtcp2_is_bidi_stream(sid)) {
        /* A message that breaks HTTP's rules (content-length not matching
         * the DATA frames) is a stream error of type H3_MESSAGE_ERROR (RFC
         * 9114 §4.1.2), not a connection error: the other requests of this
         * connection go on.  nghttp3 returned no count, so give back the
         * credit of every byte of this chunk it did not hand over as body. */
        cq_log(c->ep, 3, "conn %llu stream %lld: malformed message, resetting the stream",
               (unsigned long long)c->id, (long long)sid);
        uint64_t body = c->rx_body - body_before;
        cq_budget_release(c, len > body ? len - (size_t)body : 0);
        cq_conn_stream_error(c, sid, NGHTTP3_H3_MESSAGE_ERROR);
        return 0;
    }
    if (n < 0) {
        cq_log(c->ep, 3, "conn %llu: nghttp3_conn_read_stream: %s",
               (unsigned long long)c->id, nghttp3_strerror((int)n));
        cq_ccerr_set_app(&c->ccerr, nghttp3_err_infer_quic_app_error_code((int)n));
        c->ccerr_set = 1;
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    /* What nghttp3 parsed and did not keep (framing, headers, control and
     * QPACK streams, dropped body bytes): all its credit back at once. */
    ngtcp2_conn_extend_max_stream_offset(c->qc, sid, (uint64_t)n);
    cq_budget_release(c, (size_t)n);
    if (c->role->after_read) c->role->after_read(c);
    return 0;
}

static int cb_acked_stream_data(ngtcp2_conn *qc, int64_t sid, uint64_t offset,
                                uint64_t datalen, void *user, void *stream_user) {
    (void)qc; (void)offset; (void)stream_user;
    cq_conn *c = user;
    if (!c->h3) return 0;
    int rv = nghttp3_conn_add_ack_offset(c->h3, sid, datalen);
    if (rv != 0) {
        cq_ccerr_set_app(&c->ccerr, nghttp3_err_infer_quic_app_error_code(rv));
        c->ccerr_set = 1;
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

static int cb_stream_close(ngtcp2_conn *qc, uint32_t flags, int64_t sid,
                           uint64_t app_error_code, void *user, void *stream_user) {
    (void)stream_user;
    cq_conn *c = user;
    if (!c->h3) return 0;
    if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET)) app_error_code = NGHTTP3_H3_NO_ERROR;
    int rv = nghttp3_conn_close_stream(c->h3, sid, app_error_code);
    if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
        /* nghttp3 never saw it (e.g. reset before any header): give the
         * client its stream credit back ourselves. */
        if (ngtcp2_is_bidi_stream(sid)) ngtcp2_conn_extend_max_streams_bidi(qc, 1);
        return 0;
    }
    if (rv != 0) {
        cq_ccerr_set_app(&c->ccerr, nghttp3_err_infer_quic_app_error_code(rv));
        c->ccerr_set = 1;
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

/* The peer reset its sending side or asked us to stop sending: either way
 * nghttp3 must stop expecting more of this request. */
static int shutdown_read(cq_conn *c, int64_t sid) {
    if (!c->h3) return 0;
    return nghttp3_conn_shutdown_stream_read(c->h3, sid) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int cb_stream_reset(ngtcp2_conn *qc, int64_t sid, uint64_t final_size,
                           uint64_t app_error_code, void *user, void *stream_user) {
    (void)qc; (void)final_size; (void)app_error_code; (void)stream_user;
    return shutdown_read(user, sid);
}

static int cb_stream_stop_sending(ngtcp2_conn *qc, int64_t sid, uint64_t app_error_code,
                                  void *user, void *stream_user) {
    (void)qc; (void)app_error_code; (void)stream_user;
    return shutdown_read(user, sid);
}

static int cb_extend_max_stream_data(ngtcp2_conn *qc, int64_t sid, uint64_t max_data,
                                     void *user, void *stream_user) {
    (void)qc; (void)max_data; (void)stream_user;
    cq_conn *c = user;
    if (c->h3 && nghttp3_conn_unblock_stream(c->h3, sid) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
    return 0;
}

void cq_callbacks_common(ngtcp2_callbacks *cb) {
    memset(cb, 0, sizeof(*cb));
    cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
    cb->encrypt = ngtcp2_crypto_encrypt_cb;
    cb->decrypt = ngtcp2_crypto_decrypt_cb;
    cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb->recv_stream_data = cb_recv_stream_data;
    cb->acked_stream_data_offset = cb_acked_stream_data;
    cb->stream_close = cb_stream_close;
    cb->rand = cb_rand;
    cb->get_new_connection_id = cb_get_new_cid;
    cb->remove_connection_id = cb_remove_cid;
    cb->update_key = ngtcp2_crypto_update_key_cb;
    cb->stream_reset = cb_stream_reset;
    cb->extend_max_stream_data = cb_extend_max_stream_data;
    cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb->stream_stop_sending = cb_stream_stop_sending;
    cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    cb->handshake_completed = cb_handshake_completed;
}
