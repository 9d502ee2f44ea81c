/* Id map: see core.h. */
#include "logloom/core.h"

#include <string.h>

void ll_idmap_init(struct ll_idmap *m, size_t n_slots, ll_idmap_key_fn *key)
{
    m->n_slots = n_slots;
    m->slots = ll_calloc(n_slots, sizeof *m->slots);
    m->n = 0;
    m->key = key;
}

void ll_idmap_free(struct ll_idmap *m)
{
    ll_free(m->slots);
    m->slots = NULL;
    m->n = m->n_slots = 0;
}

void *ll_idmap_get(const struct ll_idmap *m, uint64_t hash, struct ll_str key)
{
    size_t mask = m->n_slots - 1;
    for (size_t h = hash & mask; m->slots[h].p; h = (h + 1) & mask)
        if (m->slots[h].hash == hash && ll_str_eq(m->key(m->slots[h].p), key))
            return m->slots[h].p;
    return NULL;
}

static void insert_slot(struct ll_idslot *slots, size_t n_slots, struct ll_idslot s)
{
    size_t h = s.hash & (n_slots - 1);
    while (slots[h].p)
        h = (h + 1) & (n_slots - 1);
    slots[h] = s;
}

void ll_idmap_put(struct ll_idmap *m, uint64_t hash, void *p)
{
    if ((m->n + 1) * 2 > m->n_slots) { /* keep the load at most one half */
        size_t n_new = m->n_slots * 2;
        struct ll_idslot *ns = ll_calloc(n_new, sizeof *ns);
        for (size_t i = 0; i < m->n_slots; i++)
            if (m->slots[i].p)
                insert_slot(ns, n_new, m->slots[i]);
        ll_free(m->slots);
        m->slots = ns;
        m->n_slots = n_new;
    }
    insert_slot(m->slots, m->n_slots, (struct ll_idslot){hash, p});
    m->n++;
}

static size_t slot_of(const struct ll_idmap *m, uint64_t hash, const void *p)
{
    size_t mask = m->n_slots - 1;
    size_t h = hash & mask;
    while (m->slots[h].p != p)
        h = (h + 1) & mask;
    return h;
}

void ll_idmap_replace(struct ll_idmap *m, uint64_t hash, const void *old, void *p)
{
    m->slots[slot_of(m, hash, old)].p = p;
}

void ll_idmap_del(struct ll_idmap *m, uint64_t hash, const void *p)
{
    size_t mask = m->n_slots - 1;
    size_t i = slot_of(m, hash, p);
    m->slots[i] = (struct ll_idslot){0};
    for (size_t j = (i + 1) & mask; m->slots[j].p; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        /* Move j into the hole at i unless its home lies in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            m->slots[i] = m->slots[j];
            m->slots[j] = (struct ll_idslot){0};
            i = j;
        }
    }
    m->n--;
}

size_t ll_idmap_footprint(const struct ll_idmap *m)
{
    return m->n_slots * sizeof *m->slots;
}

