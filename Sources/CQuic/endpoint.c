/*
 * endpoint.c - the QUIC endpoint: one UDP socket, the epoll loop, ngtcp2
 * timers, the eventfd wake-up, the cross-thread command queue and the
 * connection tables.
 *
 * The split.  An endpoint moves datagrams and runs connections; it does not
 * decide what a connection is for.  That is a role's business (a cq_role
 * table, internal.h):
 *   - endpoint (this file, udp.c, conn.c, quic_cb.c, budget.c): sockets,
 *     the loop, routing datagrams by Destination Connection ID to a
 *     connection, timers and expiry, the dirty list (connections with
 *     something to send), closing/draining, keep-alive, receive credit,
 *     the command FIFO other threads post to, and stopping.
 *   - server role (server_*.c): what to do with a datagram for no known
 *     connection (a client Initial: create a server connection; Version
 *     Negotiation; CONNECTION_REFUSED), the TLS server session, nghttp3's
 *     server side, request assembly and delivery, responses and the public
 *     cq_server API of cquic.h.
 *   - a client role would add its own cq_role (no acceptor: it creates its
 *     connections itself with ngtcp2_conn_client_new and posts commands
 *     such as "send this request"), on this same endpoint code.
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

void cq_log(cq_endpoint *ep, int level, const char *fmt, ...) {
    if (!ep->cfg.on_log) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ep->cfg.on_log(ep->cfg.user, level, buf);
}

static void emit(cq_endpoint *ep, cq_ratelog *rl) {
    if (rl->suppressed)
        cq_log(ep, rl->level, "%s (... repeated %lu times)", rl->msg, rl->suppressed);
    else
        cq_log(ep, rl->level, "%s", rl->msg);
    rl->suppressed = 0;
}

void cq_log_limited(cq_endpoint *ep, cq_ratelog *rl, int level, const char *fmt, ...) {
    if (!ep->cfg.on_log) return;
    uint64_t now = cq_now();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rl->msg, sizeof(rl->msg), fmt, ap);
    va_end(ap);
    rl->level = level;
    if (now < rl->next) {
        rl->suppressed++;
        return;
    }
    /* The window is over: one line carries this message and the count of
     * those swallowed since the last one. */
    emit(ep, rl);
    rl->next = now + CQ_RATELOG_NS;
}

void cq_log_limited_flush(cq_endpoint *ep, cq_ratelog *rl) {
    if (rl->suppressed && ep->cfg.on_log) emit(ep, rl);
}

/* ---- lifecycle --------------------------------------------------------- */

int cq_ep_init(cq_endpoint *ep, const cq_ep_config *cfg, const char *host, uint16_t port,
               char *err, size_t errlen) {
    memset(ep, 0, sizeof(*ep));
    ep->fd = ep->epfd = ep->evfd = -1;
    ep->cfg = *cfg;
    const char *dbg = getenv("CQUIC_NGTCP2_LOG");
    ep->ngtcp2_log = dbg && *dbg && strcmp(dbg, "0") != 0;
    pthread_mutex_init(&ep->mu, NULL);
    ep->rxbuf = malloc(CQ_RXBUF);
    if (!ep->rxbuf || cq_map_init(&ep->cids) != 0 || cq_map_init(&ep->byid) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (cq_udp_open(ep, host, port, err, errlen) != 0) return -1;
    ep->epfd = epoll_create1(EPOLL_CLOEXEC);
    ep->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep->epfd < 0 || ep->evfd < 0) {
        snprintf(err, errlen, "epoll/eventfd: %s", strerror(errno));
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ep->fd};
    struct epoll_event wv = {.events = EPOLLIN, .data.fd = ep->evfd};
    if (epoll_ctl(ep->epfd, EPOLL_CTL_ADD, ep->fd, &ev) != 0 ||
        epoll_ctl(ep->epfd, EPOLL_CTL_ADD, ep->evfd, &wv) != 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Safe on a half-initialised endpoint (cq_ep_init failed part way), as
 * long as cq_ep_init ran. */
void cq_ep_free(cq_endpoint *ep) {
    while (ep->conns) cq_conn_free(ep->conns);
    ep->dirty = NULL;
    for (cq_cmd *c = ep->cmd_head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    ep->cmd_head = ep->cmd_tail = NULL;
    cq_map_free(&ep->cids);
    cq_map_free(&ep->byid);
    if (ep->fd >= 0) close(ep->fd);
    if (ep->epfd >= 0) close(ep->epfd);
    if (ep->evfd >= 0) close(ep->evfd);
    ep->fd = ep->epfd = ep->evfd = -1;
    pthread_mutex_destroy(&ep->mu);
    free(ep->rxbuf);
    ep->rxbuf = NULL;
}

void cq_ep_wake(cq_endpoint *ep) {
    uint64_t one = 1;
    /* Async-signal-safe; a full counter (EAGAIN) still means "awake". */
    ssize_t r = write(ep->evfd, &one, sizeof(one));
    (void)r;
}

void cq_ep_stop(cq_endpoint *ep) {
    atomic_store(&ep->stopping, 1);
    cq_ep_wake(ep);
}

/* ---- command queue ----------------------------------------------------- */

void cq_ep_lock(cq_endpoint *ep) { pthread_mutex_lock(&ep->mu); }
void cq_ep_unlock(cq_endpoint *ep) { pthread_mutex_unlock(&ep->mu); }

void cq_ep_post_locked(cq_endpoint *ep, cq_cmd *cmd) {
    cmd->next = NULL;
    if (ep->cmd_tail) ep->cmd_tail->next = cmd; else ep->cmd_head = cmd;
    ep->cmd_tail = cmd;
}

/* Detaches the whole queue under the lock, so it is applied without it. */
static cq_cmd *take_all(cq_endpoint *ep) {
    pthread_mutex_lock(&ep->mu);
    cq_cmd *cmd = ep->cmd_head;
    ep->cmd_head = ep->cmd_tail = NULL;
    pthread_mutex_unlock(&ep->mu);
    return cmd;
}

/* Network thread: apply everything queued so far, in order. */
static void run_queue(cq_endpoint *ep) {
    for (cq_cmd *cmd = take_all(ep), *next; cmd; cmd = next) {
        next = cmd->next;
        cmd->apply(ep, cmd);
        free(cmd);
    }
}

static void drop_queue(cq_endpoint *ep) {
    for (cq_cmd *cmd = take_all(ep), *next; cmd; cmd = next) {
        next = cmd->next;
        free(cmd);
    }
}

/* ---- datagrams --------------------------------------------------------- */

/* Routes one datagram: to the connection its Destination Connection ID
 * names, or to the acceptor role.  Garbage must never cost more than a
 * header decode and a hash lookup. */
static void dispatch(cq_endpoint *ep, const cq_dgram *d) {
    ngtcp2_version_cid vc;
    /* No QUIC packet is shorter than 21 bytes (RFC 9000 §10.3). */
    if (d->len < 21) return;
    int rv = ngtcp2_pkt_decode_version_cid(&vc, d->data, d->len, CQ_SCIDLEN);
    if (rv != 0 && rv != NGTCP2_ERR_VERSION_NEGOTIATION) return;
    cq_conn *c = rv == 0 ? cq_map_get(&ep->cids, vc.dcid, vc.dcidlen) : NULL;
    if (c) {
        switch (c->state) {
        case CQ_ACTIVE:
            cq_conn_read(c, d);
            cq_conn_mark_dirty(c);
            break;
        case CQ_CLOSING:
            cq_conn_resend_close(c);
            break;
        default: /* draining or dead: stay silent */
            break;
        }
        return;
    }
    if (ep->acceptor && !atomic_load(&ep->stopping))
        ep->acceptor->accept(ep, ep->acceptor_ctx, d, &vc, rv != 0);
}

/* Reads up to a batch of datagrams; level-triggered epoll brings us back
 * for the rest, so timers are never starved by a flood. */
static void read_socket(cq_endpoint *ep) {
    struct sockaddr_storage remote, local;
    cq_dgram d = {.data = ep->rxbuf, .remote = &remote, .local = &local};
    for (int i = 0; i < 256; i++) {
        ssize_t n = cq_udp_recv(ep, ep->rxbuf, CQ_RXBUF, &remote, &d.remotelen, &local, &d.locallen);
        if (n < 0) return;
        d.len = (size_t)n;
        atomic_fetch_add_explicit(&ep->rx_bytes, (uint64_t)n, memory_order_relaxed);
        dispatch(ep, &d);
    }
}

/* ---- timers and writes ------------------------------------------------- */

static void flush_dirty(cq_endpoint *ep) {
    while (ep->dirty) {
        cq_conn *c = ep->dirty;
        ep->dirty = c->dirty_next;
        c->dirty = 0;
        c->dirty_next = NULL;
        cq_conn_write(c);
        cq_conn_update_expiry(c);
    }
}

/* Runs due timers, frees dead connections and returns the epoll timeout. */
static int service_timers(cq_endpoint *ep) {
    uint64_t now = cq_now();
    for (cq_conn *c = ep->conns; c; c = c->next) {
        if (c->state != CQ_DEAD && c->expiry && c->expiry <= now) {
            cq_conn_on_expiry(c);
            cq_conn_update_expiry(c);
        }
    }
    flush_dirty(ep);
    for (cq_conn *c = ep->conns, *n; c; c = n) {
        n = c->next;
        if (c->state == CQ_DEAD) cq_conn_free(c);
    }
    /* Credit freed by dead connections goes to those waiting for it. */
    cq_budget_run(ep);
    flush_dirty(ep);
    uint64_t next = UINT64_MAX;
    for (cq_conn *c = ep->conns; c; c = c->next)
        if (c->expiry && c->expiry < next) next = c->expiry;
    if (next == UINT64_MAX) return -1;
    now = cq_now();
    if (next <= now) return 0;
    uint64_t ms = (next - now + NGTCP2_MILLISECONDS - 1) / NGTCP2_MILLISECONDS;
    return ms > 60000 ? 60000 : (int)ms;
}

static void shutdown_all(cq_endpoint *ep) {
    /* Best effort: responses queued before the stop still go out ahead of
     * the CONNECTION_CLOSE. */
    run_queue(ep);
    flush_dirty(ep);
    pthread_mutex_lock(&ep->mu);
    ep->stopped = 1; /* from now on the roles' APIs say CQ_ERR_STOPPED */
    pthread_mutex_unlock(&ep->mu);
    drop_queue(ep);
    while (ep->conns) {
        cq_conn *c = ep->conns;
        cq_conn_close_now(c);
        cq_conn_free(c);
    }
    ep->dirty = NULL;
}

int cq_ep_run(cq_endpoint *ep) {
    int timeout = -1, rc = 0;
    while (!atomic_load(&ep->stopping)) {
        struct epoll_event ev[4];
        int n = epoll_wait(ep->epfd, ev, 4, timeout);
        if (n < 0 && errno != EINTR) {
            cq_log(ep, 0, "epoll_wait: %s", strerror(errno));
            rc = -1;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == ep->evfd) {
                uint64_t v;
                ssize_t r = read(ep->evfd, &v, sizeof(v));
                (void)r;
            } else {
                read_socket(ep);
            }
        }
        if (atomic_load(&ep->stopping)) break;
        run_queue(ep);
        cq_budget_run(ep);
        flush_dirty(ep);
        timeout = service_timers(ep);
    }
    shutdown_all(ep);
    return rc;
}
