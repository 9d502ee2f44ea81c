/* Private to correlate/: the containers the correlator is built from. */
#ifndef LOGLOOM_CORR_INT_H
#define LOGLOOM_CORR_INT_H

#include "logloom/core.h"

/* ------------------------------------------------------------------------ */
/* Interned names (services, sources): stable small ids, each with the
 * per-name state the correlator keeps. Names live as long as the table. */

#define LL__NAME_NONE UINT32_MAX

struct ll__name {
    struct ll_str s;
    uint64_t hash;
    /* As a service. */
    uint64_t with_id;
    uint64_t first, later; /* workflows it began, and joined after another service */
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
    long heap_idx;      /* in the active-source heap, or -1 */
    uint32_t taught_by; /* serial of the session that last taught it as a key */
    void *link;         /* its link as a key, while there is one */
    /* As a service: the link of the last pid it logged. Links found here
     * need no lookup; they are correlate's own (struct link). */
    void *pid_link;
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
/* Id of @p s, or LL__NAME_NONE when it was never interned. */
uint32_t ll__names_find(const struct ll__names *t, struct ll_str s);

#endif
