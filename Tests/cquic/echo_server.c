/*
 * echo_server.c - test harness for CQuic (not part of the product).
 *
 *   GET  /ping          -> 200 "pong" (answered inside the callback)
 *   POST /echo          -> 200, body echoed, x-body-length: N
 *                          (answered from a worker thread: cross-thread queue)
 *                          413 when the body was over --max-body
 *   GET  /stream?n=K    -> 200, open ndjson stream, one line every 100 ms from
 *                          a ticker thread; ends after K lines (0 = never)
 *   GET  /hold          -> 200 headers, then silence: the response stays open
 *                          until the client or the server goes away
 *   ANY  /headers...    -> JSON of method, path, authorization, content-type
 *   GET  /retry         -> 503 with retry-after: 7
 *   GET  /stats         -> {"requests":..,"closed":..,"gone":.., and the
 *                          cq_server_stat counters "buffered", "credit",
 *                          "rx", "rejected", "keepalive", "halfopen", "retries"}
 *   anything else       -> 404
 *
 * Prints "PORT <n>" and "FP <sha256 fingerprint>" on stdout once listening.
 * SIGTERM/SIGINT stop the server; the exit status is cq_server_run's.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cquic.h"

static cq_server *srv;
static atomic_long n_requests, n_closed, n_gone;
static atomic_int quitting;
static int verbose;

/* ---- worker queue for /echo ---- */
typedef struct job {
    struct job *next;
    uint64_t conn;
    int64_t stream;
    size_t len;
    uint8_t body[];
} job;
static job *jobs_head, *jobs_tail;
static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv = PTHREAD_COND_INITIALIZER;

/* ---- open streams for /stream ---- */
typedef struct open_stream {
    struct open_stream *next;
    uint64_t conn;
    int64_t stream;
    long sent, limit;
} open_stream;
static open_stream *streams;
static pthread_mutex_t streams_mu = PTHREAD_MUTEX_INITIALIZER;

static void respond_text(const cq_request *r, int status, const char *ctype, const char *text) {
    int rv = cq_respond(srv, r->conn_id, r->stream_id, status, ctype, text, strlen(text), NULL, NULL, 1);
    if (rv != CQ_OK) fprintf(stderr, "cq_respond: %d\n", rv);
}

static void on_request(void *user, const cq_request *r) {
    (void)user;
    atomic_fetch_add(&n_requests, 1);
    if (verbose)
        fprintf(stderr, "req conn=%llu stream=%lld %s %s len=%zu big=%d peer=%s auth=%s\n",
                (unsigned long long)r->conn_id, (long long)r->stream_id, r->method, r->path,
                r->body_len, r->body_too_large, r->peer, r->authorization ? r->authorization : "-");
    if (!strcmp(r->method, "GET") && !strcmp(r->path, "/ping")) {
        respond_text(r, 200, "text/plain", "pong");
    } else if (!strcmp(r->method, "POST") && !strcmp(r->path, "/echo")) {
        if (r->body_too_large) {
            respond_text(r, 413, "application/json", "{\"error\": \"body too large\"}");
            return;
        }
        job *j = malloc(sizeof(*j) + r->body_len);
        j->next = NULL;
        j->conn = r->conn_id;
        j->stream = r->stream_id;
        j->len = r->body_len;
        if (r->body_len) memcpy(j->body, r->body, r->body_len);
        pthread_mutex_lock(&jobs_mu);
        if (jobs_tail) jobs_tail->next = j; else jobs_head = j;
        jobs_tail = j;
        pthread_cond_signal(&jobs_cv);
        pthread_mutex_unlock(&jobs_mu);
    } else if (!strcmp(r->method, "GET") && !strncmp(r->path, "/stream", 7)) {
        const char *q = strstr(r->path, "n=");
        open_stream *o = calloc(1, sizeof(*o));
        o->conn = r->conn_id;
        o->stream = r->stream_id;
        o->limit = q ? atol(q + 2) : 0;
        cq_respond(srv, r->conn_id, r->stream_id, 200, "application/x-ndjson", NULL, 0, NULL, NULL, 0);
        pthread_mutex_lock(&streams_mu);
        o->next = streams;
        streams = o;
        pthread_mutex_unlock(&streams_mu);
    } else if (!strcmp(r->method, "GET") && !strcmp(r->path, "/hold")) {
        cq_respond(srv, r->conn_id, r->stream_id, 200, "text/plain", NULL, 0, NULL, NULL, 0);
    } else if (!strncmp(r->path, "/headers", 8)) {
        char buf[1024];
        snprintf(buf, sizeof(buf),
                 "{\"method\": \"%s\", \"path\": \"%s\", \"auth\": \"%s\", \"ctype\": \"%s\", \"len\": %zu}",
                 r->method, r->path, r->authorization ? r->authorization : "",
                 r->content_type ? r->content_type : "", r->body_len);
        respond_text(r, 200, "application/json", buf);
    } else if (!strcmp(r->path, "/retry")) {
        cq_respond(srv, r->conn_id, r->stream_id, 503, "application/json", "{\"error\": \"full\"}", 17,
                   "Retry-After", "7", 1);
    } else if (!strcmp(r->path, "/stats")) {
        char buf[512];
        snprintf(buf, sizeof(buf),
                 "{\"requests\": %ld, \"closed\": %ld, \"gone\": %ld, \"buffered\": %llu, "
                 "\"credit\": %llu, \"rx\": %llu, \"rejected\": %llu, \"keepalive\": %llu, "
                 "\"halfopen\": %llu, \"retries\": %llu}",
                 atomic_load(&n_requests), atomic_load(&n_closed), atomic_load(&n_gone),
                 (unsigned long long)cq_server_stat(srv, CQ_STAT_BODY_BUFFERED),
                 (unsigned long long)cq_server_stat(srv, CQ_STAT_BODY_CREDIT),
                 (unsigned long long)cq_server_stat(srv, CQ_STAT_RX_BYTES),
                 (unsigned long long)cq_server_stat(srv, CQ_STAT_REJECTED),
                 (unsigned long long)cq_server_stat(srv, CQ_STAT_KEEPALIVE_CONNS),
                 (unsigned long long)cq_server_stat(srv, CQ_STAT_HALFOPEN),
                 (unsigned long long)cq_server_stat(srv, CQ_STAT_RETRIES));
        respond_text(r, 200, "application/json", buf);
    } else {
        respond_text(r, 404, "application/json", "{\"error\": \"not found\"}");
    }
}

static void on_stream_closed(void *user, uint64_t conn, int64_t stream) {
    (void)user;
    atomic_fetch_add(&n_closed, 1);
    if (verbose) fprintf(stderr, "closed conn=%llu stream=%lld\n", (unsigned long long)conn, (long long)stream);
}

static void on_log(void *user, int level, const char *msg) {
    (void)user;
    if (level <= 2 || verbose) fprintf(stderr, "cquic[%d]: %s\n", level, msg);
}

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&jobs_mu);
        while (!jobs_head && !atomic_load(&quitting)) pthread_cond_wait(&jobs_cv, &jobs_mu);
        job *j = jobs_head;
        if (j) {
            jobs_head = j->next;
            if (!jobs_head) jobs_tail = NULL;
        }
        pthread_mutex_unlock(&jobs_mu);
        if (!j) return NULL;
        char len[32];
        snprintf(len, sizeof(len), "%zu", j->len);
        int rv = cq_respond(srv, j->conn, j->stream, 200, "application/octet-stream", j->body, j->len,
                            "X-Body-Length", len, 1);
        if (rv == CQ_ERR_GONE) atomic_fetch_add(&n_gone, 1);
        free(j);
    }
}

static void *ticker(void *arg) {
    (void)arg;
    while (!atomic_load(&quitting)) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&streams_mu);
        for (open_stream **pp = &streams; *pp;) {
            open_stream *o = *pp;
            char line[64];
            int n = snprintf(line, sizeof(line), "{\"n\": %ld}\n", o->sent);
            int rv = cq_stream_write(srv, o->conn, o->stream, line, (size_t)n);
            if (rv == CQ_OK) o->sent++;
            if (rv == CQ_OK && o->limit && o->sent >= o->limit) rv = cq_stream_end(srv, o->conn, o->stream) == CQ_OK ? 1 : -1;
            if (rv == CQ_ERR_GONE) atomic_fetch_add(&n_gone, 1);
            if (rv != CQ_OK && rv != CQ_ERR_FULL) {
                *pp = o->next;
                free(o);
            } else {
                pp = &o->next;
            }
        }
        pthread_mutex_unlock(&streams_mu);
    }
    return NULL;
}

static void on_signal(int sig) {
    (void)sig;
    cq_server_stop(srv);
}

int main(int argc, char **argv) {
    cq_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    const char *dir = "/tmp";
    cfg.host = "127.0.0.1";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--host")) cfg.host = argv[i + 1];
        else if (!strcmp(argv[i], "--port")) cfg.port = (uint16_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dir")) dir = argv[i + 1];
        else if (!strcmp(argv[i], "--max-body")) cfg.max_body = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--idle-ms")) cfg.idle_timeout_ms = (uint32_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--max-conns")) cfg.max_connections = (uint32_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--conn-budget")) cfg.max_conn_body_buffer = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--total-budget")) cfg.max_total_body_buffer = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--retry-halfopen")) cfg.retry_halfopen = (uint32_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--verbose")) verbose = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    char cert[512], key[512], err[256], fp[96];
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    if (access(cert, R_OK) != 0 && cq_make_self_signed(cert, key, "localhost", err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (cq_cert_fingerprint_sha256(cert, fp) != 0) return 1;
    cfg.cert_file = cert;
    cfg.key_file = key;
    cfg.on_request = on_request;
    cfg.on_stream_closed = on_stream_closed;
    cfg.on_log = on_log;
    srv = cq_server_new(&cfg, err, sizeof(err));
    if (!srv) {
        fprintf(stderr, "cq_server_new: %s\n", err);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_t w, t;
    pthread_create(&w, NULL, worker, NULL);
    pthread_create(&t, NULL, ticker, NULL);
    printf("PORT %u\nFP %s\n", (unsigned)cq_server_port(srv), fp);
    fflush(stdout);
    int rc = cq_server_run(srv);
    atomic_store(&quitting, 1);
    pthread_mutex_lock(&jobs_mu);
    pthread_cond_broadcast(&jobs_cv);
    pthread_mutex_unlock(&jobs_mu);
    pthread_join(w, NULL);
    pthread_join(t, NULL);
    /* After stop the API must refuse politely, not crash. */
    if (cq_respond(srv, 1, 0, 200, NULL, NULL, 0, NULL, NULL, 1) != CQ_ERR_STOPPED) rc = 3;
    cq_free(srv);
    while (jobs_head) {
        job *j = jobs_head;
        jobs_head = j->next;
        free(j);
    }
    while (streams) {
        open_stream *o = streams;
        streams = o->next;
        free(o);
    }
    fprintf(stderr, "echo_server: exit %d\n", rc);
    return rc;
}
