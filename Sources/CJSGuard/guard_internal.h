#ifndef GUARD_INTERNAL_H
#define GUARD_INTERNAL_H
#include "jsguard.h"
#include <mujs.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

typedef struct jsg_block {
    struct jsg_block *prev, *next;
    size_t size;
    size_t pad; /* keeps the payload 16-byte aligned */
} jsg_block;

enum { JSG_STOP_NONE = 0, JSG_STOP_BUDGET = 1, JSG_STOP_WALL = 2, JSG_STOP_CANCEL = 3 };

struct jsg_group {
    _Atomic int cancelled;   /* written under the watchdog lock, read by VM threads */
};

struct jsg_vm {
    js_State *J;
    jsg_group *group;
    void *host;
    jsg_native_fn native;
    size_t limit, bytes;
    jsg_block *blocks;
    int spent, oom;

    /* Watchdog state. The timespecs, `paused` and `stop_reason` are written
     * under the watchdog lock; the flags are read lock-free by the VM thread
     * (also in the signal handler). The ones two threads touch are C11
     * atomics (lock-free for int, so also safe in the handler): a volatile
     * sig_atomic_t is only meant for one thread and its signal handler, and
     * TSan rightly reports it as a race. */
    pthread_t thread;
    _Atomic int armed;                 /* a guarded call is running */
    volatile sig_atomic_t in_critical; /* inside libc malloc or a native */
    volatile sig_atomic_t kill_pending;
    volatile sig_atomic_t killed;
    _Atomic int stop_reason;           /* JSG_STOP_*: the watchdog wants this call stopped */
    int paused;                        /* inside jsg_sleep or a wait: the budget does not run */
    int64_t budget_left_ns;            /* while paused */
    sigjmp_buf recover;
    struct timespec budget_deadline;   /* CLOCK_MONOTONIC; moved by jsg_sleep */
    struct timespec wall_deadline;     /* CLOCK_MONOTONIC; fixed for the call */
    struct timespec resignal_at;       /* while a stop is pending */
    pthread_cond_t wake;               /* jsg_sleep waits here (watchdog lock) */
    struct jsg_vm *wd_next;            /* watchdog list */
};

void *jsg_alloc(void *ctx, void *ptr, int size);
void jsg_free_all_blocks(jsg_vm *vm);
void jsg_check_deferred_kill(jsg_vm *vm);

/* 0 when armed; -1 when the VM's group is cancelled (nothing armed). */
int jsg_watchdog_arm(jsg_vm *vm, unsigned timeout_ms, unsigned wall_ms);
void jsg_wake_init(jsg_vm *vm);
void jsg_watchdog_disarm(jsg_vm *vm);
void jsg_watchdog_install(void);

#endif
