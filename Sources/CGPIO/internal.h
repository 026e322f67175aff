/* Shared between the version-specific halves of CGPIO. */
#ifndef AHGPIO_INTERNAL_H
#define AHGPIO_INTERNAL_H

#include <gpiod.h>
#include "ahgpio.h"

/* libgpiod v1's gpiod.h defines GPIOD_LINE_BULK_MAX_LINES; v2 has no line
 * bulks at all. This is the one compile-time version test. */
#ifdef GPIOD_LINE_BULK_MAX_LINES
#define AHGPIO_V1 1
#else
#define AHGPIO_V2 1
#endif

struct ahgpio_chip {
    struct gpiod_chip *chip;
    char name[64];
    char label[64];
    char path[256];
    unsigned num_lines;
};

/* Version-specific: open one path; fills name/label/num_lines. NULL + errno. */
ahgpio_chip *ahgpio__open_path(const char *path);
uint64_t ahgpio__now_ns(void);
void ahgpio__copy(char *dst, size_t len, const char *src);
int ahgpio__set_nonblock(int fd);

#endif
