/*
 * fuzz_h3.c - libFuzzer harness for CQuic's HTTP/3 request path.
 *
 * A real server (cq_server_new: certificate, TLS, the server role, nghttp3)
 * and a real ngtcp2 + GnuTLS client talk over memory: the endpoint's
 * datagram routing (dispatch) gets the client's packets, and cq_udp_send
 * hands the server's packets back instead of writing to the socket.  Each
 * input is one fresh connection: handshake, then the input, read as
 * records, is written on the client's streams:
 *
 *   op (1 byte)   bits 0-2: stream  0-3 request streams (bidi 0, 4, 8, 12;
 *                                   with bit 7: the next four, 16 ... 28),
 *                                   4-6 client uni streams (the fuzzer
 *                                   writes the stream type itself: 0x00
 *                                   control, 0x02 QPACK encoder, ...),
 *                                   7   no stream: only bits 3-5 apply
 *                 bit 3: FIN after this record
 *                 bit 4: reset the stream (RESET_STREAM) instead of writing
 *                 bit 5: exchange packets now (else after every 8 records)
 *                 bit 6: the data 64 times over (bodies big enough to fill
 *                        a connection's body budget: 64 KiB + 2 * max_body)
 *                 bit 7: see bits 0-2
 *   len (1 byte), then len bytes of stream data.
 *
 * Requests that reach on_request are answered like the daemon does: a JSON
 * body at once, or (path "/s...") an open stream written to and ended in
 * later exchanges, so server_response.c and server_api.c run too.
 *
 * Checked: no crash, no sanitizer report, no leak (libFuzzer's -detect_leaks),
 * and after each connection the budget accounting is back to zero (no
 * request-body bytes buffered, no live streams).  The harness build only:
 * udp.c and endpoint.c are compiled into this file (to reach the static
 * dispatch/flush functions and to replace cq_udp_send); the product is not
 * changed.
 */
#define cq_udp_send cq_udp_send_socket
#include "../../../Sources/CQuic/udp.c"
#undef cq_udp_send
#include "../../../Sources/CQuic/endpoint.c"

#include <stdlib.h>
#include <unistd.h>

/* ---- the wire: server -> client packets ---------------------------------- */

#define MAX_PKTS 512
static struct { uint8_t data[CQ_MAX_PKT]; size_t len; } to_client[MAX_PKTS];
static size_t n_to_client;

void cq_udp_send(cq_endpoint *ep, const ngtcp2_addr *local, const ngtcp2_addr *remote,
                 const uint8_t *data, size_t len);
void cq_udp_send(cq_endpoint *ep, const ngtcp2_addr *local, const ngtcp2_addr *remote,
                 const uint8_t *data, size_t len) {
    (void)ep; (void)local; (void)remote;
    if (n_to_client == MAX_PKTS || len > CQ_MAX_PKT) return; /* "lost" */
    memcpy(to_client[n_to_client].data, data, len);
    to_client[n_to_client++].len = len;
}

/* ---- the server ---------------------------------------------------------- */

static cq_server *server;
static struct sockaddr_in server_addr, client_addr;

typedef struct pending { uint64_t conn; int64_t sid; int open; } pending;
static pending answers[64];
static size_t n_answers;

static int verbose; /* FUZZ_H3_VERBOSE=1: print what reaches on_request */

static void on_request(void *user, const cq_request *req) {
    (void)user;
    if (verbose)
        fprintf(stderr, "fuzz_h3: request %s %s (%zu body bytes%s)\n", req->method, req->path,
                req->body_len, req->body_too_large ? ", too large" : "");
    if (req->body_too_large) {
        static const char m[] = "{\"error\": \"too large\"}";
        cq_respond(server, req->conn_id, req->stream_id, 413, "application/json", m, sizeof m - 1,
                   NULL, NULL, 1);
        return;
    }
    if (strncmp(req->path, "/s", 2) == 0 && n_answers < 64) {
        cq_respond(server, req->conn_id, req->stream_id, 200, "application/x-ndjson", NULL, 0,
                   "cache-control", "no-store", 0);
        answers[n_answers++] = (pending){req->conn_id, req->stream_id, 1};
        return;
    }
    char body[96];
    int n = snprintf(body, sizeof body, "{\"method\": \"%.16s\", \"bytes\": %zu}", req->method,
                     req->body_len);
    cq_respond(server, req->conn_id, req->stream_id, 200, "application/json", body, (size_t)n,
               NULL, NULL, 1);
}

static void on_log(void *user, int level, const char *msg) {
    (void)user;
    fprintf(stderr, "fuzz_h3: log %d: %s\n", level, msg);
}

/* Later exchanges: a line on every open stream, ended on the second. */
static void answer_open_streams(void) {
    for (size_t i = 0; i < n_answers; i++) {
        if (!answers[i].open) continue;
        if (cq_stream_write(server, answers[i].conn, answers[i].sid, "{}\n", 3) != CQ_OK ||
            answers[i].open++ >= 2) {
            cq_stream_end(server, answers[i].conn, answers[i].sid);
            answers[i].open = 0;
        }
    }
}

static void make_cert(char *cert, char *key, size_t n) {
    char dir[] = "/tmp/fuzz-h3-XXXXXX";
    if (!mkdtemp(dir)) abort();
    snprintf(cert, n, "%s/cert.pem", dir);
    snprintf(key, n, "%s/key.pem", dir);
    char err[256];
    if (cq_make_self_signed(cert, key, "localhost", err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_h3: %s\n", err);
        abort();
    }
}

/* ---- the client ---------------------------------------------------------- */

typedef struct client {
    ngtcp2_conn *qc;
    gnutls_session_t tls;
    ngtcp2_crypto_conn_ref ref;
    int64_t bidi[8], uni[3];        /* out[0-7]: bidi, out[8-10]: uni */
    struct { const uint8_t *data; size_t len; int fin; } out[11];
} client;

static gnutls_certificate_credentials_t client_cred;

static ngtcp2_conn *client_get_conn(ngtcp2_crypto_conn_ref *ref) { return ((client *)ref->user_data)->qc; }

static void client_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx) {
    (void)ctx;
    gnutls_rnd(GNUTLS_RND_NONCE, dest, len);
}

static int client_new_cid(ngtcp2_conn *qc, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *user) {
    (void)qc; (void)user;
    cid->datalen = cidlen;
    gnutls_rnd(GNUTLS_RND_NONCE, cid->data, cidlen);
    gnutls_rnd(GNUTLS_RND_NONCE, token, NGTCP2_STATELESS_RESET_TOKENLEN);
    return 0;
}

static ngtcp2_path client_path(void) {
    ngtcp2_path p = {
        .local = {.addr = (ngtcp2_sockaddr *)&client_addr, .addrlen = sizeof client_addr},
        .remote = {.addr = (ngtcp2_sockaddr *)&server_addr, .addrlen = sizeof server_addr},
    };
    return p;
}

static int client_init(client *cl) {
    memset(cl, 0, sizeof *cl);
    for (int i = 0; i < 8; i++) cl->bidi[i] = -1;
    for (int i = 0; i < 3; i++) cl->uni[i] = -1;
    ngtcp2_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.client_initial = ngtcp2_crypto_client_initial_cb;
    cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
    cb.encrypt = ngtcp2_crypto_encrypt_cb;
    cb.decrypt = ngtcp2_crypto_decrypt_cb;
    cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
    cb.rand = client_rand;
    cb.get_new_connection_id = client_new_cid;
    cb.update_key = ngtcp2_crypto_update_key_cb;
    cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    ngtcp2_cid dcid, scid;
    dcid.datalen = 18;
    scid.datalen = 18;
    gnutls_rnd(GNUTLS_RND_NONCE, dcid.data, dcid.datalen);
    gnutls_rnd(GNUTLS_RND_NONCE, scid.data, scid.datalen);
    ngtcp2_settings st;
    ngtcp2_settings_default(&st);
    st.initial_ts = cq_now();
    ngtcp2_transport_params p;
    ngtcp2_transport_params_default(&p);
    p.initial_max_streams_uni = 3;
    p.initial_max_stream_data_uni = 256u << 10;
    p.initial_max_stream_data_bidi_local = 256u << 10;
    p.initial_max_data = 4u << 20;
    ngtcp2_path path = client_path();
    if (ngtcp2_conn_client_new(&cl->qc, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cb, &st, &p,
                               NULL, cl) != 0)
        return -1;
    static const char prio[] = "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3";
    gnutls_datum_t alpn = {.data = (unsigned char *)"h3", .size = 2};
    if (gnutls_init(&cl->tls, GNUTLS_CLIENT | GNUTLS_NO_END_OF_EARLY_DATA) != 0) return -1;
    if (gnutls_priority_set_direct(cl->tls, prio, NULL) != 0 ||
        ngtcp2_crypto_gnutls_configure_client_session(cl->tls) != 0 ||
        gnutls_credentials_set(cl->tls, GNUTLS_CRD_CERTIFICATE, client_cred) != 0 ||
        gnutls_alpn_set_protocols(cl->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY) != 0 ||
        gnutls_server_name_set(cl->tls, GNUTLS_NAME_DNS, "localhost", 9) != 0)
        return -1;
    cl->ref.get_conn = client_get_conn;
    cl->ref.user_data = cl;
    gnutls_session_set_ptr(cl->tls, &cl->ref);
    ngtcp2_conn_set_tls_native_handle(cl->qc, cl->tls);
    return 0;
}

static void client_free(client *cl) {
    if (cl->qc) ngtcp2_conn_del(cl->qc);
    if (cl->tls) gnutls_deinit(cl->tls);
}

/* One client packet into the server, the way the endpoint's loop does it. */
static void to_server(const uint8_t *data, size_t len) {
    static uint8_t buf[CQ_MAX_PKT];
    memcpy(buf, data, len); /* the endpoint reads into its own buffer too */
    cq_dgram d = {
        .data = buf, .len = len,
        .remote = (struct sockaddr_storage *)&client_addr, .remotelen = sizeof client_addr,
        .local = (struct sockaddr_storage *)&server_addr, .locallen = sizeof server_addr,
    };
    dispatch(&server->ep, &d);
}

/* Everything the client has to send: pending stream data first, then
 * ACKs and control frames.  Returns the number of packets sent. */
static int client_write(client *cl) {
    uint8_t buf[CQ_MAX_PKT];
    ngtcp2_path path = client_path();
    ngtcp2_pkt_info pi;
    int sent = 0;
    for (int guard = 0; guard < 256; guard++) {
        int64_t sid = -1;
        int k = -1;
        for (int i = 0; i < 11 && sid < 0; i++) {
            int64_t s = i < 8 ? cl->bidi[i] : cl->uni[i - 8];
            if (s >= 0 && (cl->out[i].len || cl->out[i].fin)) { sid = s; k = i; }
        }
        ngtcp2_vec v = {0};
        uint32_t flags = 0;
        if (k >= 0) {
            v.base = (uint8_t *)cl->out[k].data;
            v.len = cl->out[k].len;
            if (cl->out[k].fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
        }
        ngtcp2_ssize ndata = -1;
        ngtcp2_ssize n = ngtcp2_conn_writev_stream(cl->qc, &path, &pi, buf, sizeof buf, &ndata, flags,
                                                   sid, k >= 0 ? &v : NULL, k >= 0 ? 1 : 0, cq_now());
        if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED || n == NGTCP2_ERR_STREAM_SHUT_WR ||
            n == NGTCP2_ERR_STREAM_NOT_FOUND) {
            if (k >= 0) { cl->out[k].len = 0; cl->out[k].fin = 0; } /* give up on it */
            continue;
        }
        if (n < 0) return -1;
        if (k >= 0 && ndata >= 0) {
            cl->out[k].data += ndata;
            cl->out[k].len -= (size_t)ndata;
            if (cl->out[k].len == 0) cl->out[k].fin = 0;
        }
        if (n == 0) break;
        to_server(buf, (size_t)n);
        sent++;
    }
    return sent;
}

/* The server's loop body (endpoint.c), then its packets into the client. */
static int exchange(client *cl) {
    for (int round = 0; round < 16; round++) {
        int moved = client_write(cl);
        if (moved < 0) return -1;
        run_queue(&server->ep);
        cq_budget_run(&server->ep);
        flush_dirty(&server->ep);
        size_t n = n_to_client;
        n_to_client = 0;
        ngtcp2_path path = client_path();
        ngtcp2_pkt_info pi;
        memset(&pi, 0, sizeof pi);
        for (size_t i = 0; i < n; i++) {
            int rv = ngtcp2_conn_read_pkt(cl->qc, &path, &pi, to_client[i].data, to_client[i].len, cq_now());
            if (rv != 0) return -1; /* the server closed the connection: fine, done */
        }
        if (moved == 0 && n == 0) break;
    }
    return 0;
}

/* Repeated records (bit 6) are copied out; freed after the connection. */
static uint8_t *repeats[64];
static size_t n_repeats;

static const uint8_t *repeat64(const uint8_t *data, size_t len) {
    if (n_repeats == 64 || len == 0) return data;
    uint8_t *b = malloc(64 * len);
    if (!b) abort();
    for (int i = 0; i < 64; i++) memcpy(b + (size_t)i * len, data, len);
    repeats[n_repeats++] = b;
    return b;
}

static int64_t stream_of(client *cl, int k) {
    int64_t *slot = k < 8 ? &cl->bidi[k] : &cl->uni[k - 8];
    if (*slot >= 0) return *slot;
    int rv = k < 8 ? ngtcp2_conn_open_bidi_stream(cl->qc, slot, NULL)
                   : ngtcp2_conn_open_uni_stream(cl->qc, slot, NULL);
    if (rv != 0) *slot = -1;
    return *slot;
}

/* ---- libFuzzer ----------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    verbose = getenv("FUZZ_H3_VERBOSE") != NULL;
    char cert[64], key[64], err[256];
    make_cert(cert, key, sizeof cert);
    cq_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "127.0.0.1";
    cfg.cert_file = cert;
    cfg.key_file = key;
    /* 16 KiB: 413 is reachable, and so is a jammed connection budget
     * (64 KiB + 2 * max_body): six half-sent bodies of 15 KiB fill it. */
    cfg.max_body = 16384;
    cfg.max_streams_per_conn = 8;
    cfg.on_request = on_request;
    if (verbose) cfg.on_log = on_log;
    server = cq_server_new(&cfg, err, sizeof err);
    if (!server) {
        fprintf(stderr, "fuzz_h3: %s\n", err);
        abort();
    }
    if (gnutls_certificate_allocate_credentials(&client_cred) != 0) abort();
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons(cq_server_port(server));
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    client_addr = server_addr;
    client_addr.sin_port = htons(40000);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    client cl;
    n_to_client = 0;
    n_answers = 0;
    if (client_init(&cl) != 0) abort();
    int ok = exchange(&cl) == 0 && ngtcp2_conn_get_handshake_completed(cl.qc);
    if (!ok) {
        fprintf(stderr, "fuzz_h3: the handshake did not complete\n");
        abort();
    }
    size_t i = 0;
    int records = 0;
    while (ok && i + 2 <= size) {
        uint8_t op = data[i], len = data[i + 1];
        i += 2;
        if (len > size - i) len = (uint8_t)(size - i);
        int s = op & 7, k = s < 4 ? s + ((op & 0x80) ? 4 : 0) : 8 + (s - 4);
        if (s < 7) {
            int64_t sid = stream_of(&cl, k);
            /* One pending chunk per stream: send what is queued first. */
            if (sid >= 0 && (cl.out[k].len || cl.out[k].fin)) ok = exchange(&cl) == 0;
            if (!ok) break;
            if (sid >= 0 && (op & 0x10)) {
                ngtcp2_conn_shutdown_stream_write(cl.qc, sid, NGHTTP3_H3_REQUEST_CANCELLED);
            } else if (sid >= 0) {
                int big = (op & 0x40) && len > 0 && n_repeats < 64;
                cl.out[k].data = big ? repeat64(data + i, len) : data + i;
                cl.out[k].len = big ? 64 * (size_t)len : len;
                cl.out[k].fin = (op & 0x08) != 0;
            }
        }
        i += len;
        if ((op & 0x20) || ++records % 8 == 0) {
            ok = exchange(&cl) == 0;
            answer_open_streams();
        }
    }
    if (ok) {
        exchange(&cl);
        answer_open_streams();
        exchange(&cl);
    }
    client_free(&cl);
    while (n_repeats) free(repeats[--n_repeats]);
    /* The connection goes away the way a stop takes it (shutdown_all). */
    cq_endpoint *ep = &server->ep;
    run_queue(ep);
    while (ep->conns) {
        cq_conn *c = ep->conns;
        cq_conn_close_now(c);
        cq_conn_free(c);
    }
    ep->dirty = NULL;
    n_to_client = 0;
    if (atomic_load(&ep->held) != 0) {
        fprintf(stderr, "fuzz_h3: %llu body bytes still counted as buffered\n",
                (unsigned long long)atomic_load(&ep->held));
        abort();
    }
    if (server->live.n != 0) {
        fprintf(stderr, "fuzz_h3: %zu streams still in the live table\n", server->live.n);
        abort();
    }
    return 0;
}
