/*
 * server_tls.c - the server role's TLS 1.3 for QUIC through GnuTLS and
 * ngtcp2_crypto_gnutls: the server credentials (loaded once) and one server
 * session per connection.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* QUIC needs TLS 1.3 only, and the middlebox-compatibility mode of TLS over
 * TCP must be off (RFC 9001 §8.4). */
#define CQ_PRIORITY "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3"

static const char h3_alpn[] = "h3";

int cq_tls_init(cq_server *s, char *err, size_t errlen) {
    int rv = gnutls_certificate_allocate_credentials(&s->cred);
    if (rv != 0) {
        snprintf(err, errlen, "gnutls credentials: %s", gnutls_strerror(rv));
        return -1;
    }
    rv = gnutls_certificate_set_x509_key_file(s->cred, s->cert_file, s->key_file,
                                              GNUTLS_X509_FMT_PEM);
    if (rv < 0) {
        snprintf(err, errlen, "cannot load certificate '%s' / key '%s': %s",
                 s->cert_file, s->key_file, gnutls_strerror(rv));
        return -1;
    }
    const char *where = NULL;
    rv = gnutls_priority_init(&s->prio, CQ_PRIORITY, &where);
    if (rv != 0) {
        snprintf(err, errlen, "gnutls priority (at '%s'): %s", where ? where : "?",
                 gnutls_strerror(rv));
        return -1;
    }
    return 0;
}

void cq_tls_free(cq_server *s) {
    if (s->prio) gnutls_priority_deinit(s->prio);
    if (s->cred) gnutls_certificate_free_credentials(s->cred);
    s->prio = NULL;
    s->cred = NULL;
}

/* After the ClientHello: make sure h3 really was negotiated before the
 * handshake goes on (belt and braces next to GNUTLS_ALPN_MANDATORY). */
static int client_hello_cb(gnutls_session_t session, unsigned int htype, unsigned when,
                           unsigned int incoming, const gnutls_datum_t *msg) {
    (void)htype; (void)when; (void)incoming; (void)msg;
    gnutls_datum_t alpn;
    if (gnutls_alpn_get_selected_protocol(session, &alpn) != 0) return -1;
    if (alpn.size != sizeof(h3_alpn) - 1 || memcmp(alpn.data, h3_alpn, alpn.size) != 0) return -1;
    return 0;
}

int cq_tls_session_new(cq_server *s, cq_conn *c) {
    /* No session tickets and no 0-RTT: every request is fresh 1-RTT data, so
     * replayed early data can never reach the API. */
    int rv = gnutls_init(&c->tls, GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET |
                                      GNUTLS_NO_END_OF_EARLY_DATA);
    if (rv != 0) {
        c->tls = NULL;
        return -1;
    }
    gnutls_datum_t alpn = {.data = (unsigned char *)h3_alpn, .size = sizeof(h3_alpn) - 1};
    if (gnutls_priority_set(c->tls, s->prio) != 0 ||
        ngtcp2_crypto_gnutls_configure_server_session(c->tls) != 0 ||
        gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, s->cred) != 0 ||
        gnutls_alpn_set_protocols(c->tls, &alpn, 1,
                                  GNUTLS_ALPN_MANDATORY | GNUTLS_ALPN_SERVER_PRECEDENCE) != 0) {
        cq_log(&s->ep, 1, "TLS session setup failed");
        return -1;
    }
    gnutls_handshake_set_hook_function(c->tls, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST,
                                       client_hello_cb);
    gnutls_session_set_ptr(c->tls, &c->conn_ref);
    return 0;
}
