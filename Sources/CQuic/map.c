/*
 * map.c - a small chained hash map from short byte keys (connection ids,
 * (conn id, stream id) pairs) to pointers.
 *
 * Clients choose their initial Destination Connection ID, so the hash is
 * keyed with a random seed: a peer cannot precompute colliding ids to turn
 * lookups into linear scans.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t mix(uint64_t x) {
    /* splitmix64 finaliser: cheap and avalanches every input bit */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t hash(const cq_map *m, const uint8_t *k, size_t len) {
    uint64_t h = m->seed ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len > 0) {
        uint64_t w = 0;
        size_t n = len < 8 ? len : 8;
        memcpy(&w, k, n);
        h = mix(h ^ w);
        k += n;
        len -= n;
    }
    return h;
}

int cq_map_init(cq_map *m) {
    memset(m, 0, sizeof(*m));
    m->nb = 64;
    m->b = calloc(m->nb, sizeof(*m->b));
    if (!m->b) return -1;
    if (cq_random(&m->seed, sizeof(m->seed)) != 0) m->seed = (uint64_t)(uintptr_t)m ^ cq_now();
    return 0;
}

void cq_map_free(cq_map *m) {
    if (!m->b) return;
    for (size_t i = 0; i < m->nb; i++) {
        cq_map_ent *e = m->b[i];
        while (e) {
            cq_map_ent *n = e->next;
            free(e);
            e = n;
        }
    }
    free(m->b);
    m->b = NULL;
    m->n = m->nb = 0;
}

static cq_map_ent **find(const cq_map *m, const uint8_t *k, size_t len, uint64_t h) {
    cq_map_ent **pp = &m->b[h & (m->nb - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->keylen == len && memcmp((*pp)->key, k, len) == 0)
            return pp;
    return pp;
}

void *cq_map_get(const cq_map *m, const void *key, size_t keylen) {
    if (keylen > sizeof(((cq_map_ent *)0)->key)) return NULL;
    cq_map_ent **pp = find(m, key, keylen, hash(m, key, keylen));
    return *pp ? (*pp)->val : NULL;
}

static void grow(cq_map *m) {
    size_t nb = m->nb * 2;
    cq_map_ent **b = calloc(nb, sizeof(*b));
    if (!b) return; /* keep working with longer chains */
    for (size_t i = 0; i < m->nb; i++) {
        cq_map_ent *e = m->b[i];
        while (e) {
            cq_map_ent *n = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
            e = n;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

/* Inserts or replaces.  0 or -1 (no memory / key too long). */
int cq_map_put(cq_map *m, const void *key, size_t keylen, void *val) {
    if (keylen > sizeof(((cq_map_ent *)0)->key)) return -1;
    uint64_t h = hash(m, key, keylen);
    cq_map_ent **pp = find(m, key, keylen, h);
    if (*pp) {
        (*pp)->val = val;
        return 0;
    }
    cq_map_ent *e = malloc(sizeof(*e));
    if (!e) return -1;
    e->next = NULL;
    e->hash = h;
    e->keylen = keylen;
    memcpy(e->key, key, keylen);
    e->val = val;
    *pp = e;
    if (++m->n > m->nb) grow(m);
    return 0;
}

/* Removes the key; returns its value or NULL. */
void *cq_map_del(cq_map *m, const void *key, size_t keylen) {
    if (keylen > sizeof(((cq_map_ent *)0)->key)) return NULL;
    cq_map_ent **pp = find(m, key, keylen, hash(m, key, keylen));
    cq_map_ent *e = *pp;
    if (!e) return NULL;
    void *v = e->val;
    *pp = e->next;
    free(e);
    m->n--;
    return v;
}
