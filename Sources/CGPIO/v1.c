/* libgpiod v1 (Debian 12): lines belong to their chip; debounce in software. */
#include "internal.h"
#ifdef AHGPIO_V1

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct ahgpio_line {
    struct gpiod_line *line;
    int output;
    int event_fd;          /* the kernel's line event fd (inputs) */
    int epoll_fd;          /* debounce: event_fd + timer_fd; else -1 */
    int timer_fd;
    ahgpio_debouncer deb;
    int debounced;
};

int ahgpio_api_major(void) { return 1; }
const char *ahgpio_library_version(void) { return gpiod_version_string(); }

ahgpio_chip *ahgpio__open_path(const char *path) {
    struct gpiod_chip *g = gpiod_chip_open(path);
    if (!g) return NULL;
    ahgpio_chip *c = calloc(1, sizeof *c);
    if (!c) { gpiod_chip_close(g); errno = ENOMEM; return NULL; }
    c->chip = g;
    ahgpio__copy(c->name, sizeof c->name, gpiod_chip_name(g));
    ahgpio__copy(c->label, sizeof c->label, gpiod_chip_label(g));
    ahgpio__copy(c->path, sizeof c->path, path);
    c->num_lines = gpiod_chip_num_lines(g);
    return c;
}

void ahgpio_chip_close(ahgpio_chip *c) {
    if (!c) return;
    gpiod_chip_close(c->chip);
    free(c);
}

int ahgpio_chip_find_line(ahgpio_chip *c, const char *name) {
    struct gpiod_line *l = gpiod_chip_find_line(c->chip, name);
    if (!l) { errno = ENOENT; return -1; }
    return (int)gpiod_line_offset(l);
}

int ahgpio_chip_line_consumer(ahgpio_chip *c, unsigned offset, char *buf, size_t len) {
    struct gpiod_line *l = gpiod_chip_get_line(c->chip, offset);
    if (!l) return -1;
    if (gpiod_line_update(l) != 0) return -1;
    if (!gpiod_line_is_used(l)) return 0;
    ahgpio__copy(buf, len, gpiod_line_consumer(l));
    return 1;
}

static int bias_flags(int bias) {
    switch (bias) {
    case AHGPIO_BIAS_PULL_UP: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
    case AHGPIO_BIAS_PULL_DOWN: return GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
    case AHGPIO_BIAS_DISABLED: return GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
    default: return 0;
    }
}

ahgpio_line *ahgpio_request_input(ahgpio_chip *c, unsigned offset, const char *consumer,
                                  const ahgpio_input_settings *s) {
    struct gpiod_line *l = gpiod_chip_get_line(c->chip, offset);
    if (!l) return NULL;
    ahgpio_line *r = calloc(1, sizeof *r);
    if (!r) { errno = ENOMEM; return NULL; }
    r->line = l;
    r->epoll_fd = r->timer_fd = r->event_fd = -1;
    r->debounced = s->debounce_ms > 0;
    struct gpiod_line_request_config cfg = { .consumer = consumer, .flags = bias_flags(s->bias) };
    if (s->active_low) cfg.flags |= GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW;
    /* The debouncer must see both edges to know when the line settled. */
    int edge = r->debounced ? AHGPIO_EDGE_BOTH : s->edge;
    cfg.request_type = edge == AHGPIO_EDGE_RISING ? GPIOD_LINE_REQUEST_EVENT_RISING_EDGE
                     : edge == AHGPIO_EDGE_FALLING ? GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE
                     : GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
    if (gpiod_line_request(l, &cfg, 0) != 0) { int e = errno; free(r); errno = e; return NULL; }
    r->event_fd = gpiod_line_event_get_fd(l);
    if (r->event_fd < 0 || ahgpio__set_nonblock(r->event_fd) != 0) goto fail;
    if (r->debounced) {
        int level = gpiod_line_get_value(l);
        if (level < 0) goto fail;
        ahgpio_debounce_init(&r->deb, level, s->edge, s->debounce_ms);
        r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (r->timer_fd < 0 || r->epoll_fd < 0) goto fail;
        struct epoll_event ev = { .events = EPOLLIN };
        ev.data.fd = r->event_fd;
        if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, r->event_fd, &ev) != 0) goto fail;
        ev.data.fd = r->timer_fd;
        if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, r->timer_fd, &ev) != 0) goto fail;
    }
    return r;
fail: {
        int e = errno;
        ahgpio_line_release(r);
        errno = e;
        return NULL;
    }
}

ahgpio_line *ahgpio_request_output(ahgpio_chip *c, unsigned offset, const char *consumer,
                                   int active_low, int initial) {
    struct gpiod_line *l = gpiod_chip_get_line(c->chip, offset);
    if (!l) return NULL;
    ahgpio_line *r = calloc(1, sizeof *r);
    if (!r) { errno = ENOMEM; return NULL; }
    r->line = l;
    r->output = 1;
    r->epoll_fd = r->timer_fd = r->event_fd = -1;
    int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
    if (gpiod_line_request_output_flags(l, consumer, flags, initial ? 1 : 0) != 0) {
        int e = errno; free(r); errno = e; return NULL;
    }
    return r;
}

int ahgpio_line_fd(ahgpio_line *r) {
    if (r->output) return -1;
    return r->debounced ? r->epoll_fd : r->event_fd;
}

static int read_raw(ahgpio_line *r, struct gpiod_line_event *evs, int max) {
    int n = gpiod_line_event_read_fd_multiple(r->event_fd, evs, (unsigned)max);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n;
}

int ahgpio_line_read_events(ahgpio_line *r, ahgpio_event *out, int max) {
    if (r->output || max <= 0) return 0;
    struct gpiod_line_event evs[16];
    int cap = max < 16 ? max : 16;
    if (!r->debounced) {
        int n = read_raw(r, evs, cap);
        if (n < 0) return -1;
        for (int i = 0; i < n; i++) {
            out[i].rising = evs[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE;
            out[i].timestamp_ns = (uint64_t)evs[i].ts.tv_sec * 1000000000u + (uint64_t)evs[i].ts.tv_nsec;
        }
        return n;
    }
    /* Drain the raw edges: each one restarts the period. */
    int n;
    while ((n = read_raw(r, evs, 16)) > 0) ahgpio_debounce_edge(&r->deb, ahgpio__now_ns());
    if (n < 0) return -1;
    uint64_t expirations;
    while (read(r->timer_fd, &expirations, sizeof expirations) > 0) {}
    uint64_t now = ahgpio__now_ns();
    if (r->deb.deadline_ns && now >= r->deb.deadline_ns) {
        int level = gpiod_line_get_value(r->line);
        if (level < 0) return -1;
        return ahgpio_debounce_settle(&r->deb, level, now, out);
    }
    if (r->deb.deadline_ns) {
        struct itimerspec it = { 0 };
        it.it_value.tv_sec = (time_t)(r->deb.deadline_ns / 1000000000u);
        it.it_value.tv_nsec = (long)(r->deb.deadline_ns % 1000000000u);
        if (timerfd_settime(r->timer_fd, TFD_TIMER_ABSTIME, &it, NULL) != 0) return -1;
    }
    return 0;
}

int ahgpio_line_get(ahgpio_line *r) { return gpiod_line_get_value(r->line); }

int ahgpio_line_set(ahgpio_line *r, int value) {
    if (!r->output) { errno = EPERM; return -1; }
    return gpiod_line_set_value(r->line, value ? 1 : 0);
}

void ahgpio_line_release(ahgpio_line *r) {
    if (!r) return;
    if (r->epoll_fd >= 0) close(r->epoll_fd);
    if (r->timer_fd >= 0) close(r->timer_fd);
    if (r->line && gpiod_line_is_requested(r->line)) gpiod_line_release(r->line);
    free(r);
}

#endif
