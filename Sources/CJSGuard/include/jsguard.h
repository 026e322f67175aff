/*
 * jsguard: runs MuJS under a memory cap and a wall-clock watchdog.
 *
 * MuJS has no interrupt hook, so a runaway script is stopped from outside:
 *  - every allocation of a VM goes through a counting allocator that refuses to
 *    grow past the VM's cap (MuJS then throws "out of memory"; the VM is marked
 *    spent so it is replaced after the call);
 *  - a single watchdog thread watches two limits of every running call: a
 *    budget (timeout_ms, not counting time spent in jsg_sleep) and a wall
 *    limit (wall_ms, everything counted). Past either it stops the call: it
 *    wakes a jsg_sleep in progress and sends SIGUSR2 to the VM's thread; the
 *    handler siglongjmps back to the call's entry, unless the thread is inside
 *    libc's allocator or a native (Swift) callback, in which case the kill is
 *    deferred to the moment it leaves that section (a native that blocks must
 *    therefore wait through jsg_sleep, or poll jsg_stop_requested);
 *  - all VMs of a group (one engine) can be stopped at once for shutdown.
 *  After a kill the js_State is never touched again: all of its memory is freed
 *  block by block from the allocator's own list.
 *
 * Swift never touches js_State: natives receive strings and return JSON text.
 */
#ifndef JSGUARD_H
#define JSGUARD_H
#include <stddef.h>

typedef struct jsg_vm jsg_vm;

enum {
    JSG_OK = 0,       /* call returned; result set */
    JSG_THROWN = 1,   /* script threw; error set */
    JSG_TIMEOUT = 2,  /* ran past timeout_ms (sleeps not counted); VM is spent */
    JSG_OOM = 3,      /* memory cap reached; VM is spent */
    JSG_WALL_TIMEOUT = 4, /* lasted past wall_ms (everything counted); VM is spent */
    JSG_CANCELLED = 5,    /* its group was cancelled: stopped (VM spent) or never started */
};

/* VMs that are stopped together (one engine's pool). */
typedef struct jsg_group jsg_group;

jsg_group *jsg_group_new(void);
/* Only once every VM of the group is freed. */
void jsg_group_free(jsg_group *g);
/* For good: stops every running call of the group's VMs (also inside
 * jsg_sleep) and makes every later load or call return JSG_CANCELLED. */
void jsg_group_cancel(jsg_group *g);

/* A native callback. argv are the string forms of the arguments (the prelude
 * only ever passes primitives). On success return 0 and optionally set
 * *result to a malloc'ed JSON text (NULL = undefined). On error return 1 and
 * set *error to a malloc'ed message; it is thrown as a JS Error. */
typedef int (*jsg_native_fn)(void *host, int fn_id, int argc, const char **argv,
                             char **result, char **error);

/* `group` may be NULL. */
jsg_vm *jsg_new(size_t memory_limit, jsg_group *group, void *host, jsg_native_fn native);
void jsg_free(jsg_vm *vm);

/* Defines a global function `name` that calls native(host, fn_id, ...). */
void jsg_define_native(jsg_vm *vm, const char *name, int fn_id);

/* Compiles `source` as `filename` and runs its top level. timeout_ms is the
 * call's budget without the time spent in jsg_sleep; wall_ms bounds the
 * whole call. */
int jsg_load(jsg_vm *vm, const char *filename, const char *source,
             unsigned timeout_ms, unsigned wall_ms, char **error);

/* Calls the global function `fn` with string arguments; *result is the
 * string form of its return value (malloc'ed, may be NULL for undefined). */
int jsg_invoke(jsg_vm *vm, const char *fn, int argc, const char **argv,
               unsigned timeout_ms, unsigned wall_ms, char **result, char **error);

/* For a native of a running call (home.sleep): blocks up to `ms`, and that
 * time does not count against timeout_ms (it does against wall_ms). Returns 1
 * as soon as the watchdog (or a group cancel) stops the call: the native
 * should return at once, and the stop lands as it does. Else 0. Outside a
 * native of a guarded call it returns 0 at once. */
int jsg_sleep(jsg_vm *vm, unsigned ms);

/* For a native that waits on something else (a plugin call) and cannot use
 * jsg_sleep: between jsg_wait_begin and jsg_wait_end the budget does not run.
 * jsg_wait_begin returns the milliseconds left before the wall limit (the
 * native should wait no longer; 0: the call is being stopped, return at once)
 * or -1 outside a native of a guarded call (then no limit applies). A stop
 * that comes during the wait lands as the native returns. */
long jsg_wait_begin(jsg_vm *vm);
void jsg_wait_end(jsg_vm *vm);

/* True once the running call was told to stop (for natives that wait). */
int jsg_stop_requested(const jsg_vm *vm);

/* True once the VM hit its cap or was killed: it must be replaced. */
int jsg_spent(const jsg_vm *vm);

#endif
