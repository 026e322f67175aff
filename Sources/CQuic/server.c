/*
 * server.c - server lifecycle and the event loop.
 *
 * One network thread owns every QUIC/HTTP/3 object.  It sleeps in
 * epoll_wait on two descriptors (the UDP socket and an eventfd that other
 * threads write to) with a timeout taken from the earliest ngtcp2 expiry
 * (loss detection, ACK delay, pacing, idle and handshake timeouts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

uint64_t cq_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

void cq_log(cq_server *s, int level, const char *fmt, ...) {
    if (!s->cfg.on_log) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    s->cfg.on_log(s->cfg.user, level, buf);
}

static char *dup_or_null(const char *p) { return p ? strdup(p) : NULL; }

cq_server *cq_server_new(const cq_config *cfg, char *err, size_t errlen) {
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (!cfg || !cfg->on_request || !cfg->cert_file || !cfg->key_file) {
        snprintf(err, errlen, "config needs on_request, cert_file and key_file");
        return NULL;
    }
    cq_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = s->epfd = s->evfd = -1;
    s->cfg = *cfg;
    if (!s->cfg.max_body) s->cfg.max_body = 1u << 20;
    if (!s->cfg.idle_timeout_ms) s->cfg.idle_timeout_ms = 30000;
    if (!s->cfg.handshake_timeout_ms) s->cfg.handshake_timeout_ms = 10000;
    if (!s->cfg.max_connections) s->cfg.max_connections = 1024;
    if (!s->cfg.max_streams_per_conn) s->cfg.max_streams_per_conn = 100;
    if (!s->cfg.max_stream_buffer) s->cfg.max_stream_buffer = 4u << 20;
    /* By default two max-size uploads fit side by side (the floor covers
     * framing and the jam margin); one must always fit, or a lone upload
     * could stall.  The total must hold one connection. */
    size_t min_conn = s->cfg.max_body + CQ_CREDIT_FLOOR;
    if (!s->cfg.max_conn_body_buffer) s->cfg.max_conn_body_buffer = 2 * s->cfg.max_body + CQ_CREDIT_FLOOR;
    if (s->cfg.max_conn_body_buffer < min_conn) s->cfg.max_conn_body_buffer = min_conn;
    if (!s->cfg.max_total_body_buffer) s->cfg.max_total_body_buffer = 64u << 20;
    if (s->cfg.max_total_body_buffer < s->cfg.max_conn_body_buffer)
        s->cfg.max_total_body_buffer = s->cfg.max_conn_body_buffer;
    s->host = dup_or_null(cfg->host);
    s->cert_file = dup_or_null(cfg->cert_file);
    s->key_file = dup_or_null(cfg->key_file);
    s->cfg.host = s->host;
    s->cfg.cert_file = s->cert_file;
    s->cfg.key_file = s->key_file;
    const char *dbg = getenv("CQUIC_NGTCP2_LOG");
    s->ngtcp2_log = dbg && *dbg && strcmp(dbg, "0") != 0;
    pthread_mutex_init(&s->mu, NULL);
    s->rxbuf = malloc(CQ_RXBUF);
    if (!s->rxbuf || (cfg->host && !s->host) || !s->cert_file || !s->key_file ||
        cq_map_init(&s->cids) != 0 || cq_map_init(&s->byid) != 0 || cq_map_init(&s->live) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (cq_tls_init(s, err, errlen) != 0 || cq_udp_open(s, err, errlen) != 0) goto fail;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->epfd < 0 || s->evfd < 0) {
        snprintf(err, errlen, "epoll/eventfd: %s", strerror(errno));
        goto fail;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s->fd};
    struct epoll_event wv = {.events = EPOLLIN, .data.fd = s->evfd};
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->fd, &ev) != 0 ||
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->evfd, &wv) != 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    return s;
fail:
    cq_free(s);
    return NULL;
}

uint16_t cq_server_port(const cq_server *s) { return s ? s->port : 0; }

uint64_t cq_server_stat(const cq_server *s, int which) {
    if (!s) return 0;
    /* The counters are atomics, and cq_server_stat only reads them; the
     * casts drop a const that C11 atomic_load does not accept everywhere. */
    cq_server *m = (cq_server *)s;
    switch (which) {
    case CQ_STAT_BODY_BUFFERED: return atomic_load(&m->held);
    case CQ_STAT_BODY_CREDIT: return atomic_load(&m->credit);
    case CQ_STAT_RX_BYTES: return atomic_load(&m->rx_bytes);
    case CQ_STAT_REJECTED: return atomic_load(&m->rejected);
    case CQ_STAT_KEEPALIVE_CONNS: return atomic_load(&m->nkeepalive);
    default: return 0;
    }
}

void cq_server_stop(cq_server *s) {
    if (!s) return;
    atomic_store(&s->stopping, 1);
    cq_wake(s);
}

/* Reads up to a batch of datagrams; level-triggered epoll brings us back
 * for the rest, so timers are never starved by a flood. */
static void read_socket(cq_server *s) {
    struct sockaddr_storage remote, local;
    socklen_t remotelen, locallen;
    for (int i = 0; i < 256; i++) {
        ssize_t n = cq_udp_recv(s, s->rxbuf, CQ_RXBUF, &remote, &remotelen, &local, &locallen);
        if (n < 0) return;
        atomic_fetch_add_explicit(&s->rx_bytes, (uint64_t)n, memory_order_relaxed);
        cq_dispatch(s, s->rxbuf, (size_t)n, &remote, remotelen, &local, locallen);
    }
}

static void flush_dirty(cq_server *s) {
    while (s->dirty) {
        cq_conn *c = s->dirty;
        s->dirty = c->dirty_next;
        c->dirty = 0;
        c->dirty_next = NULL;
        cq_conn_write(c);
        cq_conn_update_expiry(c);
    }
}

/* Runs due timers, frees dead connections and returns the epoll timeout. */
static int service_timers(cq_server *s) {
    uint64_t now = cq_now();
    for (cq_conn *c = s->conns; c; c = c->next) {
        if (c->state != CQ_DEAD && c->expiry && c->expiry <= now) {
            cq_conn_on_expiry(c);
            cq_conn_update_expiry(c);
        }
    }
    flush_dirty(s);
    for (cq_conn *c = s->conns, *n; c; c = n) {
        n = c->next;
        if (c->state == CQ_DEAD) cq_conn_free(c);
    }
    /* Credit freed by dead connections goes to those waiting for it. */
    cq_budget_run(s);
    flush_dirty(s);
    uint64_t next = UINT64_MAX;
    for (cq_conn *c = s->conns; c; c = c->next)
        if (c->expiry && c->expiry < next) next = c->expiry;
    if (next == UINT64_MAX) return -1;
    now = cq_now();
    if (next <= now) return 0;
    uint64_t ms = (next - now + NGTCP2_MILLISECONDS - 1) / NGTCP2_MILLISECONDS;
    return ms > 60000 ? 60000 : (int)ms;
}

static void shutdown_all(cq_server *s) {
    /* Best effort: responses Swift queued before the stop still go out
     * ahead of the CONNECTION_CLOSE. */
    cq_queue_run(s);
    flush_dirty(s);
    pthread_mutex_lock(&s->mu);
    s->stopped = 1; /* from now on the response API says CQ_ERR_STOPPED */
    pthread_mutex_unlock(&s->mu);
    cq_queue_drop_all(s);
    while (s->conns) {
        cq_conn *c = s->conns;
        cq_conn_close_now(c);
        cq_conn_free(c);
    }
    s->dirty = NULL;
}

int cq_server_run(cq_server *s) {
    if (!s || s->fd < 0) return -1;
    cq_log(s, 2, "HTTP/3 listening on UDP port %u (%s)", (unsigned)s->port, cq_versions());
    int timeout = -1, rc = 0;
    while (!atomic_load(&s->stopping)) {
        struct epoll_event ev[4];
        int n = epoll_wait(s->epfd, ev, 4, timeout);
        if (n < 0 && errno != EINTR) {
            cq_log(s, 0, "epoll_wait: %s", strerror(errno));
            rc = -1;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == s->evfd) {
                uint64_t v;
                ssize_t r = read(s->evfd, &v, sizeof(v));
                (void)r;
            } else {
                read_socket(s);
            }
        }
        if (atomic_load(&s->stopping)) break;
        cq_queue_run(s);
        cq_budget_run(s);
        flush_dirty(s);
        timeout = service_timers(s);
    }
    shutdown_all(s);
    cq_log(s, 2, "HTTP/3 server stopped");
    return rc;
}

void cq_free(cq_server *s) {
    if (!s) return;
    while (s->conns) cq_conn_free(s->conns);
    cq_queue_drop_all(s);
    if (s->live.b) {
        /* values are cq_live allocations */
        for (size_t i = 0; i < s->live.nb; i++)
            for (cq_map_ent *e = s->live.b[i]; e; e = e->next) free(e->val);
    }
    cq_map_free(&s->live);
    cq_map_free(&s->cids);
    cq_map_free(&s->byid);
    cq_tls_free(s);
    if (s->fd >= 0) close(s->fd);
    if (s->epfd >= 0) close(s->epfd);
    if (s->evfd >= 0) close(s->evfd);
    pthread_mutex_destroy(&s->mu);
    free(s->rxbuf);
    free(s->host);
    free(s->cert_file);
    free(s->key_file);
    free(s);
}
