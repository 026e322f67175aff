/* libgpiod v2 (Debian 13): line requests stand alone; debounce in the kernel. */
#include "internal.h"
#ifdef AHGPIO_V2

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ahgpio_line {
    struct gpiod_line_request *req;
    struct gpiod_edge_event_buffer *buf;
    unsigned offset;
    int output;
};

int ahgpio_api_major(void) { return 2; }
const char *ahgpio_library_version(void) { return gpiod_api_version(); }

ahgpio_chip *ahgpio__open_path(const char *path) {
    struct gpiod_chip *g = gpiod_chip_open(path);
    if (!g) return NULL;
    struct gpiod_chip_info *info = gpiod_chip_get_info(g);
    if (!info) { int e = errno; gpiod_chip_close(g); errno = e; return NULL; }
    ahgpio_chip *c = calloc(1, sizeof *c);
    if (!c) { gpiod_chip_info_free(info); gpiod_chip_close(g); errno = ENOMEM; return NULL; }
    c->chip = g;
    ahgpio__copy(c->name, sizeof c->name, gpiod_chip_info_get_name(info));
    ahgpio__copy(c->label, sizeof c->label, gpiod_chip_info_get_label(info));
    ahgpio__copy(c->path, sizeof c->path, path);
    c->num_lines = (unsigned)gpiod_chip_info_get_num_lines(info);
    gpiod_chip_info_free(info);
    return c;
}

void ahgpio_chip_close(ahgpio_chip *c) {
    if (!c) return;
    gpiod_chip_close(c->chip);
    free(c);
}

int ahgpio_chip_find_line(ahgpio_chip *c, const char *name) {
    int off = gpiod_chip_get_line_offset_from_name(c->chip, name);
    if (off < 0) errno = ENOENT;
    return off;
}

int ahgpio_chip_line_consumer(ahgpio_chip *c, unsigned offset, char *buf, size_t len) {
    struct gpiod_line_info *info = gpiod_chip_get_line_info(c->chip, offset);
    if (!info) return -1;
    int used = gpiod_line_info_is_used(info) ? 1 : 0;
    if (used) ahgpio__copy(buf, len, gpiod_line_info_get_consumer(info));
    gpiod_line_info_free(info);
    return used;
}

static enum gpiod_line_bias bias_of(int bias) {
    switch (bias) {
    case AHGPIO_BIAS_PULL_UP: return GPIOD_LINE_BIAS_PULL_UP;
    case AHGPIO_BIAS_PULL_DOWN: return GPIOD_LINE_BIAS_PULL_DOWN;
    case AHGPIO_BIAS_DISABLED: return GPIOD_LINE_BIAS_DISABLED;
    default: return GPIOD_LINE_BIAS_AS_IS;
    }
}

static enum gpiod_line_edge edge_of(int edge) {
    switch (edge) {
    case AHGPIO_EDGE_RISING: return GPIOD_LINE_EDGE_RISING;
    case AHGPIO_EDGE_FALLING: return GPIOD_LINE_EDGE_FALLING;
    default: return GPIOD_LINE_EDGE_BOTH;
    }
}

/* One line, one request: settings -> line config -> request. */
static ahgpio_line *request(ahgpio_chip *c, unsigned offset, const char *consumer,
                            struct gpiod_line_settings *settings, int output) {
    struct gpiod_line_config *lcfg = gpiod_line_config_new();
    struct gpiod_request_config *rcfg = gpiod_request_config_new();
    ahgpio_line *r = calloc(1, sizeof *r);
    int e = ENOMEM;
    if (!lcfg || !rcfg || !r) goto out;
    gpiod_request_config_set_consumer(rcfg, consumer);
    if (gpiod_line_config_add_line_settings(lcfg, &offset, 1, settings) != 0) { e = errno; goto out; }
    r->req = gpiod_chip_request_lines(c->chip, rcfg, lcfg);
    if (!r->req) { e = errno; goto out; }
    r->offset = offset;
    r->output = output;
    if (!output) {
        r->buf = gpiod_edge_event_buffer_new(16);
        if (!r->buf || ahgpio__set_nonblock(gpiod_line_request_get_fd(r->req)) != 0) {
            e = r->buf ? errno : ENOMEM;
            goto out;
        }
    }
    gpiod_line_config_free(lcfg);
    gpiod_request_config_free(rcfg);
    return r;
out:
    if (lcfg) gpiod_line_config_free(lcfg);
    if (rcfg) gpiod_request_config_free(rcfg);
    if (r) ahgpio_line_release(r);
    errno = e;
    return NULL;
}

ahgpio_line *ahgpio_request_input(ahgpio_chip *c, unsigned offset, const char *consumer,
                                  const ahgpio_input_settings *s) {
    struct gpiod_line_settings *set = gpiod_line_settings_new();
    if (!set) { errno = ENOMEM; return NULL; }
    gpiod_line_settings_set_direction(set, GPIOD_LINE_DIRECTION_INPUT);
    gpiod_line_settings_set_edge_detection(set, edge_of(s->edge));
    gpiod_line_settings_set_bias(set, bias_of(s->bias));
    gpiod_line_settings_set_active_low(set, s->active_low != 0);
    gpiod_line_settings_set_debounce_period_us(set, (unsigned long)s->debounce_ms * 1000u);
    gpiod_line_settings_set_event_clock(set, GPIOD_LINE_CLOCK_MONOTONIC);
    ahgpio_line *r = request(c, offset, consumer, set, 0);
    int e = errno;
    gpiod_line_settings_free(set);
    errno = e;
    return r;
}

ahgpio_line *ahgpio_request_output(ahgpio_chip *c, unsigned offset, const char *consumer,
                                   int active_low, int initial) {
    struct gpiod_line_settings *set = gpiod_line_settings_new();
    if (!set) { errno = ENOMEM; return NULL; }
    gpiod_line_settings_set_direction(set, GPIOD_LINE_DIRECTION_OUTPUT);
    gpiod_line_settings_set_active_low(set, active_low != 0);
    gpiod_line_settings_set_output_value(set, initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    ahgpio_line *r = request(c, offset, consumer, set, 1);
    int e = errno;
    gpiod_line_settings_free(set);
    errno = e;
    return r;
}

int ahgpio_line_fd(ahgpio_line *r) { return r->output ? -1 : gpiod_line_request_get_fd(r->req); }

int ahgpio_line_read_events(ahgpio_line *r, ahgpio_event *out, int max) {
    if (r->output || max <= 0) return 0;
    size_t cap = gpiod_edge_event_buffer_get_capacity(r->buf);
    int n = gpiod_line_request_read_edge_events(r->req, r->buf, (size_t)max < cap ? (size_t)max : cap);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    for (int i = 0; i < n; i++) {
        struct gpiod_edge_event *ev = gpiod_edge_event_buffer_get_event(r->buf, (unsigned long)i);
        out[i].rising = gpiod_edge_event_get_event_type(ev) == GPIOD_EDGE_EVENT_RISING_EDGE;
        out[i].timestamp_ns = gpiod_edge_event_get_timestamp_ns(ev);
    }
    return n;
}

int ahgpio_line_get(ahgpio_line *r) {
    enum gpiod_line_value v = gpiod_line_request_get_value(r->req, r->offset);
    if (v == GPIOD_LINE_VALUE_ERROR) return -1;
    return v == GPIOD_LINE_VALUE_ACTIVE ? 1 : 0;
}

int ahgpio_line_set(ahgpio_line *r, int value) {
    if (!r->output) { errno = EPERM; return -1; }
    return gpiod_line_request_set_value(r->req, r->offset, value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
}

void ahgpio_line_release(ahgpio_line *r) {
    if (!r) return;
    if (r->buf) gpiod_edge_event_buffer_free(r->buf);
    if (r->req) gpiod_line_request_release(r->req);
    free(r);
}

#endif
