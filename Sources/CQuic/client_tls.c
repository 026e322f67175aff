/*
 * client_tls.c - the client role's TLS 1.3 through GnuTLS and
 * ngtcp2_crypto_gnutls: credentials without any trust store (the daemon's
 * certificate is self-signed; we trust a pin, not a CA) and one client
 * session per connection whose certificate check compares the SHA-256 of
 * the server's certificate with the connection's pin.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "client_internal.h"

#define CQ_CLIENT_PRIORITY "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3"

static const char h3_alpn[] = "h3";

int cq_pin_normalize(const char *in, char out[65]) {
    if (!in) return -1;
    if (strncasecmp(in, "sha256:", 7) == 0) in += 7;
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        char ch = *p;
        if (ch == ':') continue;
        if (ch >= 'A' && ch <= 'F') ch = (char)(ch - 'A' + 'a');
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return -1;
        if (n == 64) return -1;
        out[n++] = ch;
    }
    if (n != 64) return -1;
    out[64] = '\0';
    return 0;
}

/* GnuTLS calls this once the server's Certificate (and CertificateVerify)
 * arrived: the pin decides, nothing else (no CA, no host name). */
static int verify_cb(gnutls_session_t session) {
    ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(session);
    cq_conn *c = ref->user_data;
    cq_cconn *cc = cq_cc(c);
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
    if (!certs || n == 0) return GNUTLS_E_CERTIFICATE_ERROR;
    if (cq_sha256_hex(certs[0].data, certs[0].size, cc->fingerprint) != 0)
        return GNUTLS_E_CERTIFICATE_ERROR;
    if (cc->pin[0] && strcmp(cc->pin, cc->fingerprint) != 0) {
        cc->pin_failed = 1;
        cq_log(c->ep, 2, "conn %llu: server certificate sha256:%s is not the pinned sha256:%s",
               (unsigned long long)c->id, cc->fingerprint, cc->pin);
        return GNUTLS_E_CERTIFICATE_ERROR;
    }
    return 0;
}

int cq_ctls_init(cq_client *cl, char *err, size_t errlen) {
    int rv = gnutls_certificate_allocate_credentials(&cl->cred);
    if (rv != 0) {
        snprintf(err, errlen, "gnutls credentials: %s", gnutls_strerror(rv));
        return -1;
    }
    gnutls_certificate_set_verify_function(cl->cred, verify_cb);
    const char *where = NULL;
    rv = gnutls_priority_init(&cl->prio, CQ_CLIENT_PRIORITY, &where);
    if (rv != 0) {
        snprintf(err, errlen, "gnutls priority (at '%s'): %s", where ? where : "?", gnutls_strerror(rv));
        return -1;
    }
    return 0;
}

void cq_ctls_free(cq_client *cl) {
    if (cl->prio) gnutls_priority_deinit(cl->prio);
    if (cl->cred) gnutls_certificate_free_credentials(cl->cred);
    cl->prio = NULL;
    cl->cred = NULL;
}

static int is_ip_literal(const char *h) {
    unsigned char buf[16];
    return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

int cq_ctls_session_new(cq_client *cl, cq_conn *c) {
    /* No early data, no resumption: every connection is a full handshake,
     * so the pin is checked every time. */
    int rv = gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NO_END_OF_EARLY_DATA);
    if (rv != 0) {
        c->tls = NULL;
        return -1;
    }
    gnutls_datum_t alpn = {.data = (unsigned char *)h3_alpn, .size = sizeof(h3_alpn) - 1};
    if (gnutls_priority_set(c->tls, cl->prio) != 0 ||
        ngtcp2_crypto_gnutls_configure_client_session(c->tls) != 0 ||
        gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, cl->cred) != 0 ||
        gnutls_alpn_set_protocols(c->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY) != 0) {
        cq_log(&cl->ep, 1, "TLS client session setup failed");
        return -1;
    }
    /* SNI only for names (RFC 6066 forbids literal addresses). */
    if (cl->host && !is_ip_literal(cl->host))
        gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, cl->host, strlen(cl->host));
    gnutls_session_set_ptr(c->tls, &c->conn_ref);
    return 0;
}
