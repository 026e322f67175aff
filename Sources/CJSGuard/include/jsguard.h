/*
 * jsguard: runs MuJS under a memory cap and a wall-clock watchdog.
 *
 * MuJS has no interrupt hook, so a runaway script is stopped from outside:
 *  - every allocation of a VM goes through a counting allocator that refuses to
 *    grow past the VM's cap (MuJS then throws "out of memory"; the VM is marked
 *    spent so it is replaced after the call);
 *  - a single watchdog thread sends SIGUSR2 to the VM's thread when a call runs
 *    past its deadline; the handler siglongjmps back to the call's entry, unless
 *    the thread is inside libc's allocator or a native (Swift) callback, in
 *    which case the kill is deferred to the moment it leaves that section.
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
    JSG_TIMEOUT = 2,  /* watchdog stopped it; VM is spent */
    JSG_OOM = 3,      /* memory cap reached; VM is spent */
};

/* A native callback. argv are the string forms of the arguments (the prelude
 * only ever passes primitives). On success return 0 and optionally set
 * *result to a malloc'ed JSON text (NULL = undefined). On error return 1 and
 * set *error to a malloc'ed message; it is thrown as a JS Error. */
typedef int (*jsg_native_fn)(void *host, int fn_id, int argc, const char **argv,
                             char **result, char **error);

jsg_vm *jsg_new(size_t memory_limit, void *host, jsg_native_fn native);
void jsg_free(jsg_vm *vm);

/* Defines a global function `name` that calls native(host, fn_id, ...). */
void jsg_define_native(jsg_vm *vm, const char *name, int fn_id);

/* Compiles `source` as `filename` and runs its top level. */
int jsg_load(jsg_vm *vm, const char *filename, const char *source,
             unsigned timeout_ms, char **error);

/* Calls the global function `fn` with string arguments; *result is the
 * string form of its return value (malloc'ed, may be NULL for undefined). */
int jsg_invoke(jsg_vm *vm, const char *fn, int argc, const char **argv,
               unsigned timeout_ms, char **result, char **error);

/* A native that blocks on purpose (home.sleep) moves the deadline. */
void jsg_extend_deadline(jsg_vm *vm, unsigned ms);

/* True once the VM hit its cap or was killed: it must be replaced. */
int jsg_spent(const jsg_vm *vm);

#endif
