/* The correlator's interned names. */
#include "corr_int.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Names                                                                     */

void ll__names_init(struct ll__names *t)
{
    *t = (struct ll__names){0};
    t->n_slots = 64;
    t->slots = ll_calloc(t->n_slots, sizeof *t->slots);
    ll_arena_init(&t->bytes, 4096);
}

void ll__names_free(struct ll__names *t)
{
    ll_free(t->v);
    ll_free(t->slots);
    ll_arena_free(&t->bytes);
    *t = (struct ll__names){0};
}

static void names_rehash(struct ll__names *t)
{
    ll_free(t->slots);
    t->n_slots *= 2;
    t->slots = ll_calloc(t->n_slots, sizeof *t->slots);
    for (size_t i = 0; i < t->n; i++) {
        size_t h = t->v[i].hash & (t->n_slots - 1);
        while (t->slots[h])
            h = (h + 1) & (t->n_slots - 1);
        t->slots[h] = (uint32_t)i + 1;
    }
}

uint32_t ll__names_find(const struct ll__names *t, struct ll_str s)
{
    uint64_t hash = ll_hash_keyed(s.ptr, s.len);
    size_t mask = t->n_slots - 1;
    for (size_t h = hash & mask; t->slots[h]; h = (h + 1) & mask) {
        const struct ll__name *nm = &t->v[t->slots[h] - 1];
        if (nm->hash == hash && ll_str_eq(nm->s, s))
            return t->slots[h] - 1;
    }
    return LL__NAME_NONE;
}

uint32_t ll__names_intern(struct ll__names *t, struct ll_str s, uint32_t *cache)
{
    if (cache && *cache < t->n && ll_str_eq(t->v[*cache].s, s))
        return *cache;
    uint32_t id = LL__NAME_NONE;
    uint64_t hash = ll_hash_keyed(s.ptr, s.len);
    size_t mask = t->n_slots - 1;
    size_t h = hash & mask;
    for (; t->slots[h]; h = (h + 1) & mask) {
        const struct ll__name *nm = &t->v[t->slots[h] - 1];
        if (nm->hash == hash && ll_str_eq(nm->s, s)) {
            id = t->slots[h] - 1;
            goto found;
        }
    }
    LL_GROW(t->v, t->n, t->cap, 16);
    id = (uint32_t)t->n++;
    t->v[id] = (struct ll__name){.s = ll_arena_dup(&t->bytes, s), .hash = hash,
                                 .newest = INT64_MIN, .heap_idx = -1};
    t->slots[h] = id + 1;
    if (t->n * 2 > t->n_slots)
        names_rehash(t);
found:
    if (cache)
        *cache = id;
    return id;
}

