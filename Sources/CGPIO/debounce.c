/* The software debouncer for libgpiod v1: the rule of the kernel's own
 * debouncer (gpiolib-cdev), so v1 and v2 report the same edges. Every raw
 * edge restarts the period; when it ends the line is read, and an edge is
 * reported only if the level differs from the last one reported (a glitch
 * that came and went is nothing) and the configured edge selects it. */
#include "ahgpio.h"

void ahgpio_debounce_init(ahgpio_debouncer *d, int level, int edge, unsigned period_ms) {
    d->level = level ? 1 : 0;
    d->edge = edge;
    d->period_ns = (uint64_t)period_ms * 1000000u;
    d->deadline_ns = 0;
}

void ahgpio_debounce_edge(ahgpio_debouncer *d, uint64_t now_ns) {
    d->deadline_ns = now_ns + d->period_ns;
    if (d->deadline_ns == 0) d->deadline_ns = 1;
}

int ahgpio_debounce_settle(ahgpio_debouncer *d, int level, uint64_t now_ns, ahgpio_event *out) {
    if (d->deadline_ns == 0 || now_ns < d->deadline_ns) return 0;
    d->deadline_ns = 0;
    level = level ? 1 : 0;
    if (level == d->level) return 0;
    d->level = level;
    if ((level && d->edge == AHGPIO_EDGE_FALLING) || (!level && d->edge == AHGPIO_EDGE_RISING)) return 0;
    out->rising = level;
    out->timestamp_ns = now_ns;
    return 1;
}
