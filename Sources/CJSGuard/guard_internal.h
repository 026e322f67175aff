#ifndef GUARD_INTERNAL_H
#define GUARD_INTERNAL_H
#include "jsguard.h"
#include <mujs.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

typedef struct jsg_block {
    struct jsg_block *prev, *next;
    size_t size;
    size_t pad; /* keeps the payload 16-byte aligned */
} jsg_block;

struct jsg_vm {
    js_State *J;
    void *host;
    jsg_native_fn native;
    size_t limit, bytes;
    jsg_block *blocks;
    int spent, oom;

    /* Watchdog state; written by the VM thread, read by the watchdog. */
    pthread_t thread;
    volatile sig_atomic_t armed;       /* a guarded call is running */
    volatile sig_atomic_t in_critical; /* inside libc malloc or a native */
    volatile sig_atomic_t kill_pending;
    volatile sig_atomic_t killed;
    sigjmp_buf recover;
    struct timespec deadline;          /* CLOCK_MONOTONIC */
    struct jsg_vm *wd_next;            /* watchdog list */
};

void *jsg_alloc(void *ctx, void *ptr, int size);
void jsg_free_all_blocks(jsg_vm *vm);
void jsg_check_deferred_kill(jsg_vm *vm);

void jsg_watchdog_arm(jsg_vm *vm, unsigned timeout_ms);
void jsg_watchdog_disarm(jsg_vm *vm);
void jsg_watchdog_install(void);

#endif
