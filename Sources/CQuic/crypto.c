/*
 * crypto.c - GnuTLS-backed helpers exported to Swift, so the Swift side
 * needs no crypto library of its own: self-signed certificate creation,
 * certificate fingerprint, SHA-256, secure random bytes, version string.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "internal.h"

int cq_random(void *buf, size_t len) {
    if (len == 0) return 0;
    return gnutls_rnd(GNUTLS_RND_RANDOM, buf, len) == 0 ? 0 : -1;
}

static void hex(const uint8_t *in, size_t n, char *out, int colons) {
    static const char digits[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
    const char *d = colons ? upper : digits;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        if (colons && i) *p++ = ':';
        *p++ = d[in[i] >> 4];
        *p++ = d[in[i] & 15];
    }
    *p = '\0';
}

int cq_sha256_hex(const void *data, size_t len, char out[65]) {
    uint8_t md[32];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, md) != 0) return -1;
    hex(md, sizeof(md), out, 0);
    return 0;
}

int cq_cert_fingerprint_sha256(const char *cert_path, char out[96]) {
    gnutls_datum_t pem = {NULL, 0};
    gnutls_x509_crt_t crt = NULL;
    uint8_t md[32];
    size_t mdlen = sizeof(md);
    int rv = -1;
    if (gnutls_load_file(cert_path, &pem) != 0) return -1;
    if (gnutls_x509_crt_init(&crt) == 0 &&
        gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) == 0 &&
        gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md, &mdlen) == 0 && mdlen == 32) {
        hex(md, 32, out, 1);
        rv = 0;
    }
    if (crt) gnutls_x509_crt_deinit(crt);
    gnutls_free(pem.data);
    return rv;
}

/* Writes data to path through a temporary file + fsync + rename, so a crash
 * never leaves a half-written key or certificate behind. */
static int write_file(const char *path, const gnutls_datum_t *d, mode_t mode, char *err, size_t errlen) {
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return -1;
    snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    fchmod(fd, mode); /* umask must not widen or narrow it */
    size_t off = 0;
    while (off < d->size) {
        ssize_t w = write(fd, d->data + off, d->size - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    int ok = off == d->size && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* GnuTLS 3.7 writes the private scalar with a sign byte when its top bit is
 * set (33 bytes) and without padding when its top byte is zero (31 bytes);
 * RFC 5915 wants exactly 32, and strict readers (e.g. Python cryptography)
 * refuse anything else.  Drawing again until the scalar is naturally 32
 * bytes long costs two tries on average and keeps the key portable. */
static int generate_p256(gnutls_x509_privkey_t *key) {
    for (int i = 0;; i++) {
        gnutls_ecc_curve_t curve;
        gnutls_datum_t x = {NULL, 0}, y = {NULL, 0}, k = {NULL, 0};
        /* a fresh object per try: generating into a used one leaks */
        *key = NULL;
        if (gnutls_x509_privkey_init(key) != 0) return -1;
        if (gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) != 0 ||
            gnutls_x509_privkey_export_ecc_raw(*key, &curve, &x, &y, &k) != 0)
            return -1;
        int ok = k.size == 32 && k.data[0] != 0;
        gnutls_free(x.data);
        gnutls_free(y.data);
        gnutls_memset(k.data, 0, k.size);
        gnutls_free(k.data);
        if (ok || i == 63) return 0; /* after 64 draws keep it: GnuTLS reads it fine */
        gnutls_x509_privkey_deinit(*key);
        *key = NULL;
    }
}

int cq_make_self_signed(const char *cert_path, const char *key_path, const char *common_name,
                        char *err, size_t errlen) {
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t kpem = {NULL, 0}, cpem = {NULL, 0};
    uint8_t serial[16], keyid[64];
    size_t keyidlen = sizeof(keyid);
    const char *cn = common_name && *common_name ? common_name : "autohome";
    const char *step = "key generation";
    int rv = -1;
    time_t now = time(NULL);

    if (generate_p256(&key) != 0) goto out;
    step = "certificate";
    if (gnutls_x509_crt_init(&crt) != 0 || cq_random(serial, sizeof(serial)) != 0) goto out;
    serial[0] &= 0x7f; /* a positive INTEGER */
    if (gnutls_x509_crt_set_version(crt, 3) != 0 ||
        gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) != 0 ||
        gnutls_x509_crt_set_activation_time(crt, now - 3600) != 0 ||
        gnutls_x509_crt_set_expiration_time(crt, now + 3650L * 24 * 3600) != 0 ||
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                      (unsigned)strlen(cn)) != 0 ||
        gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, cn, (unsigned)strlen(cn),
                                             GNUTLS_FSAN_SET) != 0 ||
        gnutls_x509_crt_set_key(crt, key) != 0 ||
        gnutls_x509_crt_set_basic_constraints(crt, 0, -1) != 0 ||
        gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) != 0 ||
        gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) != 0)
        goto out;
    if (gnutls_x509_crt_get_key_id(crt, 0, keyid, &keyidlen) == 0)
        gnutls_x509_crt_set_subject_key_id(crt, keyid, keyidlen);
    step = "signing";
    if (gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) != 0) goto out;
    step = "export";
    if (gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &kpem) != 0 ||
        gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem) != 0)
        goto out;
    /* Key first: a certificate without its key would be unusable. */
    if (write_file(key_path, &kpem, 0600, err, errlen) != 0 ||
        write_file(cert_path, &cpem, 0644, err, errlen) != 0)
        step = NULL;
    else
        rv = 0;
out:
    if (rv != 0 && step) snprintf(err, errlen, "self-signed certificate: %s failed", step);
    if (kpem.data) {
        gnutls_memset(kpem.data, 0, kpem.size);
        gnutls_free(kpem.data);
    }
    gnutls_free(cpem.data);
    if (crt) gnutls_x509_crt_deinit(crt);
    if (key) gnutls_x509_privkey_deinit(key);
    return rv;
}

static char versions[128];

static void fill_versions(void) {
    snprintf(versions, sizeof(versions), "ngtcp2 %s nghttp3 %s gnutls %s",
             ngtcp2_version(0)->version_str, nghttp3_version(0)->version_str,
             gnutls_check_version(NULL));
}

const char *cq_versions(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fill_versions);
    return versions;
}
