/* The counting allocator behind every VM: a doubly linked list of blocks so a
 * killed VM can be freed without walking MuJS's (possibly torn) structures. */
#include "guard_internal.h"
#include <stdlib.h>
#include <string.h>

static void *raw_alloc(jsg_vm *vm, void *old, size_t size) {
    /* libc's allocator holds a lock: never interrupt inside it. */
    vm->in_critical++;
    void *p = old ? realloc(old, size) : malloc(size);
    vm->in_critical--;
    return p;
}

static void raw_free(jsg_vm *vm, void *p) {
    vm->in_critical++;
    free(p);
    vm->in_critical--;
}

static void unlink_block(jsg_vm *vm, jsg_block *b) {
    if (b->prev) b->prev->next = b->next; else vm->blocks = b->next;
    if (b->next) b->next->prev = b->prev;
}

static void link_block(jsg_vm *vm, jsg_block *b) {
    b->prev = NULL;
    b->next = vm->blocks;
    if (vm->blocks) vm->blocks->prev = b;
    vm->blocks = b;
}

/* The whole of it runs as a critical section: a stop that landed between
 * unlinking a block and relinking it would lose the block from the list that
 * frees a killed VM. The deferred stop fires on the way out. */
static void *alloc_locked(jsg_vm *vm, void *ptr, int size);

void *jsg_alloc(void *ctx, void *ptr, int size) {
    jsg_vm *vm = ctx;
    vm->in_critical++;
    void *p = alloc_locked(vm, ptr, size);
    vm->in_critical--;
    jsg_check_deferred_kill(vm);
    return p;
}

static void *alloc_locked(jsg_vm *vm, void *ptr, int size) {
    jsg_block *old = ptr ? (jsg_block *)ptr - 1 : NULL;
    if (size <= 0) {
        if (old) {
            unlink_block(vm, old);
            vm->bytes -= old->size;
            raw_free(vm, old);
        }
        return NULL;
    }
    size_t oldsize = old ? old->size : 0;
    if (vm->spent || vm->bytes - oldsize + (size_t)size > vm->limit) {
        vm->spent = 1;
        vm->oom = 1;
        return NULL; /* MuJS throws "out of memory" */
    }
    if (old) unlink_block(vm, old);
    jsg_block *b = raw_alloc(vm, old, sizeof(jsg_block) + (size_t)size);
    if (!b) {
        if (old) link_block(vm, old);
        vm->spent = 1;
        vm->oom = 1;
        return NULL;
    }
    b->size = (size_t)size;
    link_block(vm, b);
    vm->bytes = vm->bytes - oldsize + (size_t)size;
    return b + 1;
}

void jsg_free_all_blocks(jsg_vm *vm) {
    jsg_block *b = vm->blocks;
    while (b) {
        jsg_block *n = b->next;
        free(b);
        b = n;
    }
    vm->blocks = NULL;
    vm->bytes = 0;
}
