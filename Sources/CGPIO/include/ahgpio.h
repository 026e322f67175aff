/* CGPIO: one small C API over libgpiod v1 (Debian 12) and v2 (Debian 13).
 *
 * Every difference between the two libgpiod generations stays inside this
 * target; the Swift side sees only these calls. The version is picked at
 * compile time from gpiod.h itself (v1 defines GPIOD_LINE_BULK_MAX_LINES, v2
 * does not), so the same source builds on the host and in the cross chroot.
 *
 * Edge events reach the caller through one file descriptor per input line,
 * to be polled for POLLIN in the caller's own poll loop (no thread per line,
 * no polling of values). Debounce is native in v2 (the kernel's debouncer);
 * in v1 the same rule is applied here in software: an edge is reported once
 * the line has been stable for the debounce period, and only if its level
 * differs from the last level reported. The v1 descriptor is then an epoll
 * set holding the line's event fd and a timerfd, so it is still one fd.
 *
 * Values are logical: with active_low set, 1 means "active" (line low).
 * Functions returning int give -1 and set errno on failure. Not thread-safe
 * per object: the caller serialises calls on one chip or line.
 */
#ifndef AHGPIO_H
#define AHGPIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ahgpio_chip ahgpio_chip;
typedef struct ahgpio_line ahgpio_line;

enum ahgpio_bias { AHGPIO_BIAS_AS_IS = 0, AHGPIO_BIAS_PULL_UP = 1, AHGPIO_BIAS_PULL_DOWN = 2, AHGPIO_BIAS_DISABLED = 3 };
enum ahgpio_edge { AHGPIO_EDGE_BOTH = 0, AHGPIO_EDGE_RISING = 1, AHGPIO_EDGE_FALLING = 2 };

typedef struct {
    int active_low;           /* 0 or 1 */
    int bias;                 /* enum ahgpio_bias */
    int edge;                 /* enum ahgpio_edge */
    unsigned debounce_ms;     /* 0: none */
} ahgpio_input_settings;

typedef struct {
    int rising;               /* 1: the line became active, 0: inactive */
    uint64_t timestamp_ns;    /* CLOCK_MONOTONIC */
} ahgpio_event;

/* libgpiod's API generation the target was built against: 1 or 2. */
int ahgpio_api_major(void);
/* libgpiod's own version string ("1.6.3", "2.2.1"). */
const char *ahgpio_library_version(void);

/* Result of ahgpio_chip_open. */
enum ahgpio_open_status {
    AHGPIO_OPEN_OK = 0,
    AHGPIO_OPEN_MISSING = 1,  /* no such chip now (it may appear later) */
    AHGPIO_OPEN_INVALID = 2,  /* the path exists but is not a GPIO chip */
    AHGPIO_OPEN_ERROR = 3,    /* permission or other error (errno) */
};

/* Opens a chip by name ("gpiochip0"), path ("/dev/gpiochip0") or label
 * ("9030000.pl061"); *status says why when NULL is returned. */
ahgpio_chip *ahgpio_chip_open(const char *spec, int *status);
void ahgpio_chip_close(ahgpio_chip *chip);
const char *ahgpio_chip_name(ahgpio_chip *chip);
const char *ahgpio_chip_label(ahgpio_chip *chip);
const char *ahgpio_chip_path(ahgpio_chip *chip);
unsigned ahgpio_chip_num_lines(ahgpio_chip *chip);
/* The offset of the line called `name`, or -1 (errno ENOENT). */
int ahgpio_chip_find_line(ahgpio_chip *chip, const char *name);
/* 1 if someone holds the line (its consumer copied into buf), 0 if free, -1 on error. */
int ahgpio_chip_line_consumer(ahgpio_chip *chip, unsigned offset, char *buf, size_t len);

/* Requests one line. NULL + errno on failure (EBUSY: already in use). */
ahgpio_line *ahgpio_request_input(ahgpio_chip *chip, unsigned offset, const char *consumer,
                                  const ahgpio_input_settings *settings);
ahgpio_line *ahgpio_request_output(ahgpio_chip *chip, unsigned offset, const char *consumer,
                                   int active_low, int initial);

/* The descriptor to poll for POLLIN (input lines; -1 for outputs). Owned by the line. */
int ahgpio_line_fd(ahgpio_line *line);
/* Reads what is ready without blocking: up to `max` events, returns how many
 * (0 when nothing is ready or a v1 debounce period is still running). */
int ahgpio_line_read_events(ahgpio_line *line, ahgpio_event *out, int max);
/* The line's current value as read from the chip (0/1), or -1. */
int ahgpio_line_get(ahgpio_line *line);
/* Drives an output line (0/1). */
int ahgpio_line_set(ahgpio_line *line, int value);
/* Releases the line (before its chip is closed). */
void ahgpio_line_release(ahgpio_line *line);

/* The software debouncer used with libgpiod v1, exposed so it can be tested
 * without hardware. Feed it raw edges and let it fire when the period ends. */
typedef struct {
    int level;                /* last level reported (or read at request) */
    int edge;                 /* enum ahgpio_edge: which edges are reported */
    uint64_t period_ns;
    uint64_t deadline_ns;     /* 0: no period running */
} ahgpio_debouncer;

void ahgpio_debounce_init(ahgpio_debouncer *d, int level, int edge, unsigned period_ms);
/* A raw edge at `now`: (re)starts the period. */
void ahgpio_debounce_edge(ahgpio_debouncer *d, uint64_t now_ns);
/* The period ended at `now` and the line reads `level`: 1 and *out filled
 * when that is an edge to report, else 0. */
int ahgpio_debounce_settle(ahgpio_debouncer *d, int level, uint64_t now_ns, ahgpio_event *out);

#ifdef __cplusplus
}
#endif
#endif
