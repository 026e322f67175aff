/* Finding and opening a chip: the same for both libgpiod versions. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "internal.h"

uint64_t ahgpio__now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ahgpio__copy(char *dst, size_t len, const char *src) {
    if (!len) return;
    snprintf(dst, len, "%s", src ? src : "");
}

int ahgpio__set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return -1;
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int status_for_errno(int e) {
    switch (e) {
    case ENOENT: case ENXIO: return AHGPIO_OPEN_MISSING;
    case ENOTTY: case ENODEV: case EINVAL: case ENOTDIR: return AHGPIO_OPEN_INVALID;
    default: return AHGPIO_OPEN_ERROR;
    }
}

static ahgpio_chip *open_path(const char *path, int *status) {
    struct stat st;
    if (stat(path, &st) != 0) { *status = status_for_errno(errno); return NULL; }
    if (!S_ISCHR(st.st_mode)) { *status = AHGPIO_OPEN_INVALID; errno = ENOTTY; return NULL; }
    ahgpio_chip *c = ahgpio__open_path(path);
    if (!c) { *status = status_for_errno(errno); return NULL; }
    *status = AHGPIO_OPEN_OK;
    return c;
}

/* A chip whose label is `label`: every /dev/gpiochip* in name order. */
static ahgpio_chip *open_by_label(const char *label, int *status) {
    struct dirent **list = NULL;
    int n = scandir("/dev", &list, NULL, alphasort);
    ahgpio_chip *found = NULL;
    int sawDenied = 0;
    for (int i = 0; i < n; i++) {
        if (!found && strncmp(list[i]->d_name, "gpiochip", 8) == 0) {
            char path[300];
            snprintf(path, sizeof path, "/dev/%s", list[i]->d_name);
            int st;
            ahgpio_chip *c = open_path(path, &st);
            if (c && strcmp(c->label, label) == 0) found = c;
            else if (c) ahgpio_chip_close(c);
            else if (st == AHGPIO_OPEN_ERROR) sawDenied = 1;
        }
        free(list[i]);
    }
    free(list);
    if (found) { *status = AHGPIO_OPEN_OK; return found; }
    /* A chip we may not open might be the one: say so rather than "missing". */
    *status = sawDenied ? AHGPIO_OPEN_ERROR : AHGPIO_OPEN_MISSING;
    errno = sawDenied ? EACCES : ENOENT;
    return NULL;
}

ahgpio_chip *ahgpio_chip_open(const char *spec, int *status) {
    int dummy;
    if (!status) status = &dummy;
    if (!spec || !*spec) { *status = AHGPIO_OPEN_INVALID; errno = EINVAL; return NULL; }
    if (strchr(spec, '/')) return open_path(spec, status);
    char path[300];
    snprintf(path, sizeof path, "/dev/%s", spec);
    struct stat st;
    if (strncmp(spec, "gpiochip", 8) == 0 || stat(path, &st) == 0) {
        ahgpio_chip *c = open_path(path, status);
        if (c || *status != AHGPIO_OPEN_MISSING || strncmp(spec, "gpiochip", 8) == 0) return c;
    }
    return open_by_label(spec, status);
}

const char *ahgpio_chip_name(ahgpio_chip *c) { return c->name; }
const char *ahgpio_chip_label(ahgpio_chip *c) { return c->label; }
const char *ahgpio_chip_path(ahgpio_chip *c) { return c->path; }
unsigned ahgpio_chip_num_lines(ahgpio_chip *c) { return c->num_lines; }
