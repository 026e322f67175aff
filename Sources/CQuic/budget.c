/*
 * budget.c - bounds the memory clients can make us spend on request bodies.
 *
 * Bodies are buffered whole until the request is delivered, and QUIC flow
 * control is credit handed out in advance: once granted, the peer may send
 * that many bytes and we have to take them.  So the bound has to be on
 * credit, not on what happened to arrive.  Per connection we track
 *     credit = connection-level limit granted - bytes released,
 * which covers everything the peer can make us hold (buffered bodies, data
 * ngtcp2 holds out of order, data nghttp3 holds while QPACK-blocked) plus
 * what it may still send.  Framing, header and discarded bytes are released
 * as soon as nghttp3 has parsed them; body bytes only when the request was
 * delivered and its body freed.  Stream-level windows are returned at once:
 * the connection window is what bounds memory, and a stream never keeps more
 * than max_body + 1 body bytes anyway.
 *
 * A connection keeps CQ_CREDIT_HEADROOM of credit ahead of what it buffers,
 * up to max_conn_body_buffer.  Growth beyond CQ_CREDIT_FLOOR comes out of the
 * server-wide max_total_body_buffer; connections that cannot get what they
 * want queue in a FIFO and are topped up in order as others release.
 */
#include "internal.h"

static uint64_t target(const cq_conn *c) {
    uint64_t t = c->held + CQ_CREDIT_HEADROOM, max = c->ep->cfg.max_conn_recv_buffer;
    return t < max ? t : max;
}

/* Extends c's credit towards its target as far as the total allows (and to
 * the floor regardless); floor_only when others are queued ahead of it.
 * Returns 1 when c has its target. */
static int grant(cq_conn *c, int floor_only) {
    cq_endpoint *s = c->ep;
    uint64_t want = target(c), total = atomic_load(&s->credit), add;
    if (c->credit >= want) return 1;
    uint64_t room = total < s->cfg.max_total_recv_buffer ? s->cfg.max_total_recv_buffer - total : 0;
    add = floor_only ? 0 : want - c->credit;
    if (add > room) add = room;
    if (c->credit + add < CQ_CREDIT_FLOOR) add = CQ_CREDIT_FLOOR - c->credit; /* want >= floor */
    if (add) {
        ngtcp2_conn_extend_max_offset(c->qc, add);
        c->credit += add;
        atomic_fetch_add(&s->credit, add);
        cq_conn_mark_dirty(c); /* so the MAX_DATA goes out */
    }
    return c->credit >= want;
}

static void enqueue(cq_conn *c) {
    cq_endpoint *s = c->ep;
    if (c->starved) return;
    c->starved = 1;
    c->starved_next = NULL;
    if (s->starved_tail) s->starved_tail->starved_next = c; else s->starved = c;
    s->starved_tail = c;
}

static void dequeue(cq_conn *c) {
    cq_endpoint *s = c->ep;
    if (!c->starved) return;
    cq_conn **pp = &s->starved, *prev = NULL;
    while (*pp != c) {
        prev = *pp;
        pp = &(*pp)->starved_next;
    }
    *pp = c->starved_next;
    if (s->starved_tail == c) s->starved_tail = prev;
    c->starved = 0;
    c->starved_next = NULL;
}

/* Whenever c's buffered bytes or credit changed.  Not before HTTP/3 is set
 * up: until ngtcp2 has committed our transport parameters it resets the
 * limit to initial_max_data, dropping earlier extensions. */
static void balance(cq_conn *c) {
    if (c->state != CQ_ACTIVE || !c->h3) return;
    /* Queue behind connections already waiting, so a busy client releasing
     * and re-filling cannot keep the total to itself. */
    int behind = c->ep->starved && !c->starved;
    if (!grant(c, behind || c->starved)) enqueue(c);
}

void cq_budget_conn_init(cq_conn *c) {
    c->credit = CQ_CREDIT_INIT; /* initial_max_data, see conn.c */
    atomic_fetch_add(&c->ep->credit, c->credit);
}

/* HTTP/3 is up (1-RTT keys, transport parameters committed): the first
 * real grant, sent as MAX_DATA with our first 1-RTT packets. */
void cq_budget_conn_start(cq_conn *c) { balance(c); }

void cq_budget_conn_free(cq_conn *c) {
    dequeue(c);
    atomic_fetch_sub(&c->ep->credit, c->credit);
    atomic_fetch_sub(&c->ep->held, c->held);
    c->credit = c->held = 0;
}

/* The role keeps n more body bytes (and tracks them per stream itself). */
void cq_budget_hold(cq_conn *c, size_t n) {
    c->held += n;
    atomic_fetch_add(&c->ep->held, n);
    balance(c);
}

/* The role freed n body bytes it had kept with cq_budget_hold. */
void cq_budget_unhold(cq_conn *c, size_t n) {
    if (!n) return;
    c->held -= n;
    atomic_fetch_sub(&c->ep->held, n);
    cq_budget_release(c, n);
}

/* n bytes the peer sent are no longer in our memory.  (Stream-level credit
 * is the caller's business.) */
void cq_budget_release(cq_conn *c, size_t n) {
    if (!n) return;
    c->credit = n < c->credit ? c->credit - n : 0;
    atomic_fetch_sub(&c->ep->credit, n);
    balance(c);
}

/* Network thread, once per loop turn: top up the waiting, oldest first. */
void cq_budget_run(cq_endpoint *s) {
    while (s->starved) {
        cq_conn *c = s->starved;
        if (c->state == CQ_ACTIVE && !grant(c, 0)) return;
        dequeue(c);
    }
}

/* The peer has (almost) no credit left and we may not give more, so only a
 * finished exchange would free some; with two or more half-sent bodies none
 * may ever finish.  The role then rejects one (server_h3.c: the newest
 * request, H3_REQUEST_REJECTED) so the others can complete. */
int cq_budget_jammed(cq_conn *c) {
    cq_endpoint *s = c->ep;
    if (c->state != CQ_ACTIVE || c->credit - c->held >= CQ_CREDIT_JAM) return 0;
    return c->credit >= s->cfg.max_conn_recv_buffer || c->starved;
}
