/* The correlator's containers: id map, interned names, chunked FIFO. */
#include "corr_int.h"

#include <string.h>

/* ------------------------------------------------------------------------ */
/* Id map                                                                    */

void ll__idmap_init(struct ll__idmap *m, size_t n_slots, ll__idmap_key_fn *key)
{
    m->n_slots = n_slots;
    m->slots = ll_calloc(n_slots, sizeof *m->slots);
    m->n = 0;
    m->key = key;
}

void ll__idmap_free(struct ll__idmap *m)
{
    ll_free(m->slots);
    m->slots = NULL;
    m->n = m->n_slots = 0;
}

void *ll__idmap_get(const struct ll__idmap *m, uint64_t hash, struct ll_str key)
{
    size_t mask = m->n_slots - 1;
    for (size_t h = hash & mask; m->slots[h].p; h = (h + 1) & mask)
        if (m->slots[h].hash == hash && ll_str_eq(m->key(m->slots[h].p), key))
            return m->slots[h].p;
    return NULL;
}

static void insert_slot(struct ll__idslot *slots, size_t n_slots, struct ll__idslot s)
{
    size_t h = s.hash & (n_slots - 1);
    while (slots[h].p)
        h = (h + 1) & (n_slots - 1);
    slots[h] = s;
}

void ll__idmap_put(struct ll__idmap *m, uint64_t hash, void *p)
{
    if ((m->n + 1) * 2 > m->n_slots) { /* keep the load at most one half */
        size_t n_new = m->n_slots * 2;
        struct ll__idslot *ns = ll_calloc(n_new, sizeof *ns);
        for (size_t i = 0; i < m->n_slots; i++)
            if (m->slots[i].p)
                insert_slot(ns, n_new, m->slots[i]);
        ll_free(m->slots);
        m->slots = ns;
        m->n_slots = n_new;
    }
    insert_slot(m->slots, m->n_slots, (struct ll__idslot){hash, p});
    m->n++;
}

static size_t slot_of(const struct ll__idmap *m, uint64_t hash, const void *p)
{
    size_t mask = m->n_slots - 1;
    size_t h = hash & mask;
    while (m->slots[h].p != p)
        h = (h + 1) & mask;
    return h;
}

void ll__idmap_replace(struct ll__idmap *m, uint64_t hash, const void *old, void *p)
{
    m->slots[slot_of(m, hash, old)].p = p;
}

void ll__idmap_del(struct ll__idmap *m, uint64_t hash, const void *p)
{
    size_t mask = m->n_slots - 1;
    size_t i = slot_of(m, hash, p);
    m->slots[i] = (struct ll__idslot){0};
    for (size_t j = (i + 1) & mask; m->slots[j].p; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        /* Move j into the hole at i unless its home lies in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            m->slots[i] = m->slots[j];
            m->slots[j] = (struct ll__idslot){0};
            i = j;
        }
    }
    m->n--;
}

size_t ll__idmap_footprint(const struct ll__idmap *m)
{
    return m->n_slots * sizeof *m->slots;
}

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

uint32_t ll__names_intern(struct ll__names *t, struct ll_str s, uint32_t *cache)
{
    if (cache && *cache < t->n && ll_str_eq(t->v[*cache].s, s))
        return *cache;
    uint32_t id = LL__NAME_NONE;
    uint64_t hash = ll_hash64(s.ptr, s.len, 0);
    size_t mask = t->n_slots - 1;
    size_t h = hash & mask;
    for (; t->slots[h]; h = (h + 1) & mask) {
        const struct ll__name *nm = &t->v[t->slots[h] - 1];
        if (nm->hash == hash && ll_str_eq(nm->s, s)) {
            id = t->slots[h] - 1;
            goto found;
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = ll_reallocarray(t->v, t->cap, sizeof *t->v);
    }
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

/* ------------------------------------------------------------------------ */
/* Pool                                                                      */

#define CHUNK_SIZE ((size_t)64 << 10)

struct ll__pool_chunk {
    struct ll__pool_chunk *next;
    size_t size, used, live;
    max_align_t data[];
};

/* Each record is preceded by a pointer to its chunk. */
void *ll__pool_alloc(struct ll__pool *p, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    size_t need = size + sizeof(struct ll__pool_chunk *);
    struct ll__pool_chunk *c = p->tail;
    if (!c || c->size - c->used < need) {
        if (p->spare && p->spare->size >= need) {
            c = p->spare;
            p->spare = NULL;
        } else {
            size_t sz = need > CHUNK_SIZE ? need : CHUNK_SIZE;
            c = ll_malloc(sizeof *c + sz);
            c->size = sz;
        }
        c->next = NULL;
        c->used = c->live = 0;
        if (p->tail)
            p->tail->next = c;
        else
            p->head = c;
        p->tail = c;
    }
    char *at = (char *)c->data + c->used;
    memcpy(at, &c, sizeof c);
    c->used += need;
    c->live++;
    p->live++;
    return at + sizeof c;
}

void ll__pool_release(struct ll__pool *p, void *rec)
{
    struct ll__pool_chunk *c;
    memcpy(&c, (char *)rec - sizeof c, sizeof c);
    c->live--;
    p->live--;
    /* Free chunks from the head while they hold nothing live. */
    while (p->head && p->head->live == 0) {
        struct ll__pool_chunk *h = p->head;
        if (h == p->tail) {
            h->used = 0; /* empty: reuse from the start */
            break;
        }
        p->head = h->next;
        ll_free(p->spare);
        p->spare = h;
    }
}

void ll__pool_free(struct ll__pool *p)
{
    for (struct ll__pool_chunk *c = p->head; c;) {
        struct ll__pool_chunk *next = c->next;
        ll_free(c);
        c = next;
    }
    ll_free(p->spare);
    *p = (struct ll__pool){0};
}
