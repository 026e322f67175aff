/* One watchdog thread for all VMs: sleeps until the earliest limit of an armed
 * VM, then stops that VM's call. Idle when nothing is armed.
 *
 * A call has two limits: the budget (timeout_ms, which does not run while the
 * call is inside jsg_sleep) and the wall limit (wall_ms, which always runs).
 * Stopping a call means: mark it (stop_reason), wake it if it sleeps in
 * jsg_sleep, and send SIGUSR2 to its thread. The handler jumps back to the
 * call's entry at once if the thread runs MuJS code, or leaves kill_pending
 * for the moment it leaves libc's allocator or a native. */
#include "guard_internal.h"
#include <errno.h>
#include <stdlib.h>

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond;
static jsg_vm *wd_list;
static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static __thread jsg_vm *tls_vm;

#define RESIGNAL_MS 100

static int ts_before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void ts_add_ms(struct timespec *t, unsigned ms) {
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) { t->tv_sec++; t->tv_nsec -= 1000000000L; }
}

/* a - b in nanoseconds (may be negative). */
static int64_t ts_diff_ns(const struct timespec *a, const struct timespec *b) {
    return (int64_t)(a->tv_sec - b->tv_sec) * 1000000000LL + (a->tv_nsec - b->tv_nsec);
}

static void ts_add_ns(struct timespec *t, int64_t ns) {
    t->tv_sec += ns / 1000000000LL;
    t->tv_nsec += ns % 1000000000LL;
    if (t->tv_nsec >= 1000000000L) { t->tv_sec++; t->tv_nsec -= 1000000000L; }
    if (t->tv_nsec < 0) { t->tv_sec--; t->tv_nsec += 1000000000L; }
}

static void now_mono(struct timespec *t) { clock_gettime(CLOCK_MONOTONIC, t); }

static void kill_now(jsg_vm *vm) {
    vm->armed = 0;
    vm->kill_pending = 0;
    vm->killed = 1;
    vm->spent = 1;
    siglongjmp(vm->recover, 1);
}

static void on_signal(int sig) {
    (void)sig;
    jsg_vm *vm = tls_vm;
    /* A signal meant for an earlier call of this thread finds no stop_reason
     * (arming clears it) and is ignored. */
    if (!vm || !vm->armed || !vm->stop_reason) return;
    if (vm->in_critical) { vm->kill_pending = 1; return; }
    kill_now(vm);
}

void jsg_check_deferred_kill(jsg_vm *vm) {
    if (vm->armed && !vm->in_critical && (vm->kill_pending || vm->stop_reason)) kill_now(vm);
}

/* Caller holds wd_lock. */
static void request_stop(jsg_vm *vm, int reason, const struct timespec *now) {
    vm->stop_reason = reason;
    pthread_cond_broadcast(&vm->wake);
    pthread_kill(vm->thread, SIGUSR2);
    vm->resignal_at = *now;
    ts_add_ms(&vm->resignal_at, RESIGNAL_MS);
}

static void *watchdog_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&wd_lock);
    for (;;) {
        struct timespec now, next = {0, 0};
        int have_next = 0;
        now_mono(&now);
        for (jsg_vm *vm = wd_list; vm; vm = vm->wd_next) {
            if (!vm->stop_reason) {
                if (!vm->paused && !ts_before(&now, &vm->budget_deadline)) request_stop(vm, JSG_STOP_BUDGET, &now);
                else if (!ts_before(&now, &vm->wall_deadline)) request_stop(vm, JSG_STOP_WALL, &now);
            } else if (!ts_before(&now, &vm->resignal_at)) {
                /* The stop lands when the thread leaves its critical section;
                 * signal again now and then in case the first one was missed
                 * (sent before the call set `armed`). */
                pthread_kill(vm->thread, SIGUSR2);
                vm->resignal_at = now;
                ts_add_ms(&vm->resignal_at, RESIGNAL_MS);
            }
            const struct timespec *due;
            if (vm->stop_reason) due = &vm->resignal_at;
            else if (vm->paused || ts_before(&vm->wall_deadline, &vm->budget_deadline)) due = &vm->wall_deadline;
            else due = &vm->budget_deadline;
            if (!have_next || ts_before(due, &next)) { next = *due; have_next = 1; }
        }
        if (have_next) pthread_cond_timedwait(&wd_cond, &wd_lock, &next);
        else pthread_cond_wait(&wd_cond, &wd_lock);
    }
    return NULL;
}

static void install_once(void) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd_cond, &ca);
    pthread_condattr_destroy(&ca);
    struct sigaction sa;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The watchdog must not receive SIGUSR2 itself. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (pthread_create(&t, &attr, watchdog_main, NULL) != 0) abort();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
}

void jsg_watchdog_install(void) { pthread_once(&wd_once, install_once); }

void jsg_wake_init(jsg_vm *vm) {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&vm->wake, &ca);
    pthread_condattr_destroy(&ca);
}

int jsg_watchdog_arm(jsg_vm *vm, unsigned timeout_ms, unsigned wall_ms) {
    pthread_mutex_lock(&wd_lock);
    if (vm->group && vm->group->cancelled) {
        pthread_mutex_unlock(&wd_lock);
        return -1;
    }
    tls_vm = vm;
    vm->thread = pthread_self();
    vm->kill_pending = 0;
    vm->killed = 0;
    vm->stop_reason = JSG_STOP_NONE;
    vm->paused = 0;
    now_mono(&vm->budget_deadline);
    vm->wall_deadline = vm->budget_deadline;
    ts_add_ms(&vm->budget_deadline, timeout_ms);
    ts_add_ms(&vm->wall_deadline, wall_ms);
    vm->wd_next = wd_list;
    wd_list = vm;
    pthread_cond_signal(&wd_cond);
    pthread_mutex_unlock(&wd_lock);
    /* Make sure SIGUSR2 can reach this thread (Swift threads inherit masks). */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    return 0;
}

void jsg_watchdog_disarm(jsg_vm *vm) {
    vm->armed = 0;
    pthread_mutex_lock(&wd_lock);
    for (jsg_vm **p = &wd_list; *p; p = &(*p)->wd_next) {
        if (*p == vm) { *p = vm->wd_next; break; }
    }
    vm->paused = 0;
    pthread_mutex_unlock(&wd_lock);
    vm->kill_pending = 0;
    tls_vm = NULL;
}

/* Caller holds wd_lock. Acts on a limit already passed that the watchdog has
 * not seen yet (the budget would not run during the wait), then, unless the
 * call is being stopped, pauses the budget. Returns 0 when stopping. */
static int pause_budget_locked(jsg_vm *vm, struct timespec *now) {
    now_mono(now);
    if (vm->paused) return !vm->stop_reason; /* natives do not nest; be safe anyway */
    if (!vm->stop_reason && !ts_before(now, &vm->budget_deadline)) request_stop(vm, JSG_STOP_BUDGET, now);
    if (!vm->stop_reason && !ts_before(now, &vm->wall_deadline)) request_stop(vm, JSG_STOP_WALL, now);
    if (vm->stop_reason) return 0;
    /* Keep what is left of the budget; it is given back from the moment the
     * wait ends, however it ends. */
    vm->budget_left_ns = ts_diff_ns(&vm->budget_deadline, now);
    vm->paused = 1;
    return 1;
}

/* Caller holds wd_lock. */
static void resume_budget_locked(jsg_vm *vm) {
    if (!vm->paused) return;
    vm->paused = 0;
    now_mono(&vm->budget_deadline);
    ts_add_ns(&vm->budget_deadline, vm->budget_left_ns);
    pthread_cond_signal(&wd_cond); /* the watchdog's next wake-up may be earlier now */
}

/* Only from a native (in_critical): a stop must never jump out of these
 * while the watchdog lock is held. */
int jsg_sleep(jsg_vm *vm, unsigned ms) {
    if (!vm->armed || !vm->in_critical) return 0;
    pthread_mutex_lock(&wd_lock);
    struct timespec now;
    if (ms > 0 && pause_budget_locked(vm, &now)) {
        struct timespec until = now;
        ts_add_ms(&until, ms);
        while (!vm->stop_reason && ts_before(&now, &until)) {
            pthread_cond_timedwait(&vm->wake, &wd_lock, &until);
            now_mono(&now);
        }
        resume_budget_locked(vm);
    }
    int stopped = vm->stop_reason != JSG_STOP_NONE;
    pthread_mutex_unlock(&wd_lock);
    return stopped;
}

long jsg_wait_begin(jsg_vm *vm) {
    if (!vm->armed || !vm->in_critical) return -1;
    pthread_mutex_lock(&wd_lock);
    struct timespec now;
    long left = 0;
    if (pause_budget_locked(vm, &now)) {
        int64_t ns = ts_diff_ns(&vm->wall_deadline, &now);
        left = ns <= 0 ? 0 : (long)((ns + 999999) / 1000000);
    }
    pthread_mutex_unlock(&wd_lock);
    return left;
}

void jsg_wait_end(jsg_vm *vm) {
    if (!vm->armed) return;
    pthread_mutex_lock(&wd_lock);
    resume_budget_locked(vm);
    pthread_mutex_unlock(&wd_lock);
}

int jsg_stop_requested(const jsg_vm *vm) { return vm->armed && vm->stop_reason != JSG_STOP_NONE; }

jsg_group *jsg_group_new(void) { return calloc(1, sizeof(jsg_group)); }

void jsg_group_free(jsg_group *g) { free(g); }

void jsg_group_cancel(jsg_group *g) {
    if (!g) return;
    jsg_watchdog_install();
    pthread_mutex_lock(&wd_lock);
    g->cancelled = 1;
    struct timespec now;
    now_mono(&now);
    for (jsg_vm *vm = wd_list; vm; vm = vm->wd_next) {
        if (vm->group == g && !vm->stop_reason) request_stop(vm, JSG_STOP_CANCEL, &now);
    }
    pthread_cond_signal(&wd_cond);
    pthread_mutex_unlock(&wd_lock);
}
