/* A guarded MuJS VM: creation, natives, loading and calling under the guard. */
#include "guard_internal.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NATIVE_ARGS 16

static void ignore_report(js_State *J, const char *message) { (void)J; (void)message; }

static void on_panic(js_State *J) {
    /* Only reachable if an error escapes every try; treat as a kill. */
    jsg_vm *vm = js_getcontext(J);
    if (vm && vm->armed) {
        vm->spent = 1;
        vm->armed = 0;
        siglongjmp(vm->recover, 1);
    }
    abort();
}

jsg_vm *jsg_new(size_t memory_limit, jsg_group *group, void *host, jsg_native_fn native) {
    jsg_watchdog_install();
    jsg_vm *vm = calloc(1, sizeof *vm);
    if (!vm) return NULL;
    jsg_wake_init(vm);
    vm->group = group;
    vm->limit = memory_limit;
    vm->host = host;
    vm->native = native;
    vm->J = js_newstate(jsg_alloc, vm, 0);
    if (!vm->J) { jsg_free_all_blocks(vm); pthread_cond_destroy(&vm->wake); free(vm); return NULL; }
    js_setcontext(vm->J, vm);
    js_atpanic(vm->J, on_panic);
    js_setreport(vm->J, ignore_report);
    return vm;
}

void jsg_free(jsg_vm *vm) {
    if (!vm) return;
    /* Never walk MuJS's structures: after a kill they may be torn. Every byte
     * the VM owns is on the allocator's list. */
    jsg_free_all_blocks(vm);
    pthread_cond_destroy(&vm->wake);
    free(vm);
}

int jsg_spent(const jsg_vm *vm) { return vm->spent; }

/* libc's allocator holds a lock: while a call is armed, every malloc/free of
 * ours runs as a critical section so a stop never lands inside it. */
static char *guarded_strdup(jsg_vm *vm, const char *s) {
    vm->in_critical++;
    char *p = strdup(s);
    vm->in_critical--;
    jsg_check_deferred_kill(vm);
    return p;
}

static void guarded_free(jsg_vm *vm, void *p) {
    vm->in_critical++;
    free(p);
    vm->in_critical--;
    jsg_check_deferred_kill(vm);
}

static void trampoline(js_State *J) {
    jsg_vm *vm = js_getcontext(J);
    int id = (int)(intptr_t)js_currentfunctiondata(J);
    int argc = js_gettop(J) - 1;
    if (argc > MAX_NATIVE_ARGS) argc = MAX_NATIVE_ARGS;
    const char *argv[MAX_NATIVE_ARGS];
    for (int i = 0; i < argc; i++)
        argv[i] = js_isundefined(J, i + 1) ? NULL : js_tostring(J, i + 1);
    char *result = NULL, *error = NULL;
    char msg[512];
    vm->in_critical++;
    int rc = vm->native(vm->host, id, argc, argv, &result, &error);
    if (rc != 0) {
        snprintf(msg, sizeof msg, "%s", error ? error : "native call failed");
        free(error);
        free(result);
        result = NULL;
    }
    /* The watchdog stopped the call while the native ran (or waited in
     * jsg_sleep): the stop lands right below; free what would leak. */
    if (vm->stop_reason || vm->kill_pending) { free(result); result = NULL; }
    vm->in_critical--;
    jsg_check_deferred_kill(vm);
    if (rc != 0) js_error(J, "%s", msg);
    if (result) {
        /* js_pushstring copies (through the guarded allocator); an OOM throw
         * inside it leaks `result`, and only from a VM that is spent anyway. */
        js_pushstring(J, result);
        guarded_free(vm, result);
    } else {
        js_pushundefined(J);
    }
}

/* MuJS keeps the name pointer of a C function (stack traces print it, as
 * "at name (native)", long after the definition), so the name must live as
 * long as the VM: a copy on the VM's own block list, freed with it.  The
 * caller's string is often a temporary. */
static const char *vm_owned_copy(jsg_vm *vm, const char *s) {
    size_t n = strlen(s) + 1;
    if (n > INT32_MAX) return NULL;
    char *copy = jsg_alloc(vm, NULL, (int)n);
    if (copy) memcpy(copy, s, n);
    return copy;
}

void jsg_define_native(jsg_vm *vm, const char *name, int fn_id) {
    js_State *J = vm->J;
    const char *owned = vm_owned_copy(vm, name);
    if (!owned) { vm->spent = 1; return; }
    if (js_try(J)) { js_pop(J, 1); vm->spent = 1; return; }
    js_newcfunctionx(J, trampoline, owned, 0, (void *)(intptr_t)fn_id, NULL);
    js_setglobal(J, name);
    js_endtry(J);
}

/* Error text with script location: "<toString()>" followed by MuJS's
 * stackTrace ("\n\tat name (file:line)" frames). Runs while still guarded. */
static char *describe_error(jsg_vm *vm) {
    js_State *J = vm->J;
    if (js_try(J)) { js_pop(J, 1); return guarded_strdup(vm, "error (unprintable)"); }
    /* js_tostring converts the slot in place: read the trace first. Both
     * strings stay on the JS stack (GC-safe) while we join them. */
    int has_trace = 0;
    if (js_isobject(J, -1)) {
        js_getproperty(J, -1, "stackTrace");
        if (js_isstring(J, -1)) { has_trace = 1; js_rot2(J); } else js_pop(J, 1);
    }
    js_tostring(J, -1);            /* may run a user toString(): still guarded */
    if (has_trace) { js_rot2(J); js_concat(J); }
    char *out = guarded_strdup(vm, js_tostring(J, -1));
    js_endtry(J);                  /* the caller pops the (converted) error */
    return out;
}

/* The body of a guarded call: runs inside js_try, may throw. */
typedef void (*guarded_body)(jsg_vm *vm, void *ctx);

/* Runs `body` with the watchdog armed. The recovery point lives in this frame,
 * which stays on the stack for the whole call, so the watchdog can jump here. */
static int stop_code(const jsg_vm *vm) {
    if (vm->oom) return JSG_OOM;
    int reason = vm->stop_reason;  /* an atomic load; older clangs refuse one in `switch` */
    switch (reason) {
    case JSG_STOP_WALL: return JSG_WALL_TIMEOUT;
    case JSG_STOP_CANCEL: return JSG_CANCELLED;
    default: return JSG_TIMEOUT;
    }
}

static int run_guarded(jsg_vm *vm, unsigned timeout_ms, unsigned wall_ms, guarded_body body, void *ctx,
                       char **error, const char *what) {
    *error = NULL;
    if (vm->group && vm->group->cancelled) { *error = strdup("cancelled"); return JSG_CANCELLED; }
    if (vm->spent) { *error = strdup("VM is spent"); return JSG_OOM; }
    js_State *J = vm->J;
    if (sigsetjmp(vm->recover, 1)) {
        jsg_watchdog_disarm(vm);
        int code = stop_code(vm);
        char msg[96];
        snprintf(msg, sizeof msg, "%s%s", code == JSG_OOM ? "out of memory" : code == JSG_CANCELLED ? "cancelled" : "timed out", what);
        *error = strdup(msg);
        return code;
    }
    if (jsg_watchdog_arm(vm, timeout_ms, wall_ms) != 0) { *error = strdup("cancelled"); return JSG_CANCELLED; }
    vm->armed = 1;
    volatile int rc = JSG_OK;
    if (js_try(J)) {
        *error = describe_error(vm);
        js_pop(J, 1);
        rc = JSG_THROWN;
    } else {
        body(vm, ctx);
        js_endtry(J);
    }
    jsg_watchdog_disarm(vm);
    return vm->oom ? JSG_OOM : rc;
}

struct load_ctx { const char *filename, *source; };

static void load_body(jsg_vm *vm, void *p) {
    struct load_ctx *c = p;
    js_loadstring(vm->J, c->filename, c->source);
    js_pushundefined(vm->J);
    js_call(vm->J, 0);
    js_pop(vm->J, 1);
}

int jsg_load(jsg_vm *vm, const char *filename, const char *source,
             unsigned timeout_ms, unsigned wall_ms, char **error) {
    struct load_ctx c = { filename, source };
    return run_guarded(vm, timeout_ms, wall_ms, load_body, &c, error, " while loading");
}

struct invoke_ctx { const char *fn; int argc; const char **argv; char **result; };

static void invoke_body(jsg_vm *vm, void *p) {
    struct invoke_ctx *c = p;
    js_State *J = vm->J;
    js_getglobal(J, c->fn);
    js_pushundefined(J);
    for (int i = 0; i < c->argc; i++) {
        if (c->argv[i]) js_pushstring(J, c->argv[i]); else js_pushundefined(J);
    }
    js_call(J, c->argc);
    if (!js_isundefined(J, -1) && js_isprimitive(J, -1)) *c->result = guarded_strdup(vm, js_tostring(J, -1));
    js_pop(J, 1);
}

int jsg_invoke(jsg_vm *vm, const char *fn, int argc, const char **argv,
               unsigned timeout_ms, unsigned wall_ms, char **result, char **error) {
    *result = NULL;
    struct invoke_ctx c = { fn, argc, argv, result };
    return run_guarded(vm, timeout_ms, wall_ms, invoke_body, &c, error, "");
}
