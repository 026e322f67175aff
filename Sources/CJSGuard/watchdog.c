/* One watchdog thread for all VMs: sleeps until the earliest deadline of an
 * armed VM, then signals that VM's thread. Idle when nothing is armed. */
#include "guard_internal.h"
#include <errno.h>
#include <stdlib.h>

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond;
static jsg_vm *wd_list;
static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static __thread jsg_vm *tls_vm;

static int ts_before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void ts_add_ms(struct timespec *t, unsigned ms) {
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) { t->tv_sec++; t->tv_nsec -= 1000000000L; }
}

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
    if (!vm || !vm->armed) return;
    if (vm->in_critical) { vm->kill_pending = 1; return; }
    kill_now(vm);
}

void jsg_check_deferred_kill(jsg_vm *vm) {
    if (vm->kill_pending && vm->armed && !vm->in_critical) kill_now(vm);
}

static void *watchdog_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&wd_lock);
    for (;;) {
        struct timespec now, next = {0, 0};
        int have_next = 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (jsg_vm *vm = wd_list; vm; vm = vm->wd_next) {
            if (!ts_before(&now, &vm->deadline)) {
                pthread_kill(vm->thread, SIGUSR2);
                /* Deferred kills happen when the thread leaves its critical
                 * section; re-signal now and then in case it was missed. */
                vm->deadline = now;
                ts_add_ms(&vm->deadline, 100);
            }
            if (!have_next || ts_before(&vm->deadline, &next)) { next = vm->deadline; have_next = 1; }
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

void jsg_watchdog_arm(jsg_vm *vm, unsigned timeout_ms) {
    tls_vm = vm;
    vm->thread = pthread_self();
    vm->kill_pending = 0;
    vm->killed = 0;
    clock_gettime(CLOCK_MONOTONIC, &vm->deadline);
    ts_add_ms(&vm->deadline, timeout_ms);
    pthread_mutex_lock(&wd_lock);
    vm->wd_next = wd_list;
    wd_list = vm;
    pthread_cond_signal(&wd_cond);
    pthread_mutex_unlock(&wd_lock);
    /* Make sure SIGUSR2 can reach this thread (Swift threads inherit masks). */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

void jsg_watchdog_disarm(jsg_vm *vm) {
    vm->armed = 0;
    pthread_mutex_lock(&wd_lock);
    for (jsg_vm **p = &wd_list; *p; p = &(*p)->wd_next) {
        if (*p == vm) { *p = vm->wd_next; break; }
    }
    pthread_mutex_unlock(&wd_lock);
    vm->kill_pending = 0;
    tls_vm = NULL;
}

void jsg_extend_deadline(jsg_vm *vm, unsigned ms) {
    pthread_mutex_lock(&wd_lock);
    ts_add_ms(&vm->deadline, ms);
    pthread_mutex_unlock(&wd_lock);
}
