/* Private to correlate/: the containers the correlator is built from. */
#ifndef LOGLOOM_CORR_INT_H
#define LOGLOOM_CORR_INT_H

#include "logloom/core.h"

/* ------------------------------------------------------------------------ */
/* Hash map of records that carry their own key: open addressing, linear
 * probing, the hash stored beside the pointer so probing never touches the
 * records, deletion by backward shift (no tombstones). */

struct ll__idslot {
    uint64_t hash;
    void *p;
};

/* Returns the key of a record stored in the map. */
typedef struct ll_str ll__idmap_key_fn(const void *p);

struct ll__idmap {
    struct ll__idslot *slots;
    size_t n_slots; /* a power of two */
    size_t n;
    ll__idmap_key_fn *key;
};

void ll__idmap_init(struct ll__idmap *m, size_t n_slots, ll__idmap_key_fn *key);
void ll__idmap_free(struct ll__idmap *m);
/* The record with this key, or NULL. */
void *ll__idmap_get(const struct ll__idmap *m, uint64_t hash, struct ll_str key);
/* Adds a record whose key is not in the map yet. */
void ll__idmap_put(struct ll__idmap *m, uint64_t hash, void *p);
/* Points the slot of @p old (same key) at @p p instead. */
void ll__idmap_replace(struct ll__idmap *m, uint64_t hash, const void *old, void *p);
/* Removes the record @p p (by identity). */
void ll__idmap_del(struct ll__idmap *m, uint64_t hash, const void *p);
/* Bytes the table itself holds. */
size_t ll__idmap_footprint(const struct ll__idmap *m);

/* ------------------------------------------------------------------------ */
/* Interned names (services, sources, hosts): stable small ids, each with the
 * per-name state the correlator keeps. Names live as long as the table. */

#define LL__NAME_NONE UINT32_MAX

struct ll__name {
    struct ll_str s;
    uint64_t hash;
    /* As a service. */
    uint64_t with_id;
    uint64_t orphans;
    int64_t orphan_first, orphan_last;
    struct ll__example {
        int64_t ts;
        uint32_t source;
        uint64_t offset;
    } examples[3]; /* the earliest orphans, by event order */
    size_t n_examples;
    /* As a source. */
    int64_t newest;
    long heap_idx; /* in the active-source heap, or -1 */
};

struct ll__names {
    struct ll__name *v;
    size_t n, cap;
    uint32_t *slots; /* index + 1, 0 = empty */
    size_t n_slots;
    struct ll_arena bytes;
};

void ll__names_init(struct ll__names *t);
void ll__names_free(struct ll__names *t);
/* Id of @p s, added if new. @p cache (may be NULL) remembers the last id
 * found through it: consecutive events mostly share a source or service. */
uint32_t ll__names_intern(struct ll__names *t, struct ll_str s, uint32_t *cache);

/* ------------------------------------------------------------------------ */
/* Pool of variable-size records allocated in order and released in any
 * order: chunks are freed once every record in them is released, so records
 * that live about as long as each other cost no allocation each. */

struct ll__pool {
    struct ll__pool_chunk *head, *tail, *spare;
    size_t live;
};

/* @p size bytes, 8-aligned, valid until released. */
void *ll__pool_alloc(struct ll__pool *p, size_t size);
void ll__pool_release(struct ll__pool *p, void *rec);
void ll__pool_free(struct ll__pool *p);

#endif
