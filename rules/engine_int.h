/* Private to the rule engine (engine.c; alert.c, window.c, absence.c):
 * matches, alerts and per-key state, and what its parts share. */
#ifndef LOGLOOM_RULES_ENGINE_INT_H
#define LOGLOOM_RULES_ENGINE_INT_H

#include "rules_int.h"

#include <stdio.h>
#include <string.h>

#define MAX_EVIDENCE 5
#define MAX_LINE 2048
#define MAX_PENDING_ABSENCE 100000
#define MAX_AFFECTED 1000 /* correlation ids an alert names as its blast radius */
#define UPDATE_EVERY_NS LL_NS_PER_SEC /* live: an alert growing is written this often */

/* ------------------------------------------------------------------------ */
/* Matches                                                                   */

struct match {
    int64_t ts;
    int64_t arrived; /* live: the engine's clock when it was pushed */
    uint64_t line_hash; /* of the event's whole line: ties and ids go by content */
    uint64_t offset;
    uint64_t seq;    /* arrival: the last tie-break */
    uint64_t ev_seq; /* the event's read order (live sources; 0 in replay) */
    struct ll_str source; /* lives as long as the pipeline */
    uint32_t rule;
    uint8_t step;
    uint16_t key_len, corr_len, svc_len, scope_len;
    uint32_t sum_len, line_len;
    char data[]; /* key, corr, service, scope, summary, line */
};

static inline struct ll_str m_key(const struct match *m)
{
    return (struct ll_str){m->data, m->key_len};
}

static inline struct ll_str m_corr(const struct match *m)
{
    return (struct ll_str){m->data + m->key_len, m->corr_len};
}

static inline struct ll_str m_svc(const struct match *m)
{
    return (struct ll_str){m->data + m->key_len + m->corr_len, m->svc_len};
}

static inline struct ll_str m_scope(const struct match *m)
{
    return (struct ll_str){m->data + m->key_len + m->corr_len + m->svc_len, m->scope_len};
}

static inline struct ll_str m_summary(const struct match *m)
{
    return (struct ll_str){m->data + m->key_len + m->corr_len + m->svc_len + m->scope_len,
                           m->sum_len};
}

static inline struct ll_str m_line(const struct match *m)
{
    return (struct ll_str){m->data + m->key_len + m->corr_len + m->svc_len + m->scope_len +
                               m->sum_len,
                           m->line_len};
}

/* ------------------------------------------------------------------------ */
/* State                                                                     */

enum timed_kind { T_ALERT, T_KEYSTATE, T_ABSENCE };

struct timed {
    struct ll_timer timer; /* first */
    uint8_t kind;
};

struct alert {
    struct timed t;
    uint64_t id, timeline_id, hash;
    uint32_t rule;
    int64_t first, last;
    uint64_t count;
    uint64_t emitted;             /* live: the count last written out */
    int64_t emitted_at;           /* live: when (the engine's clock) */
    struct alert *next_dirty;     /* live: grown since written, in the engine's list */
    bool dirty;
    uint64_t seq_first, seq_last; /* read order of the opening and the last match */
    char *map_key; /* rule index and key: the map's key */
    size_t map_key_len;
    char *corr, *service, *summary;
    struct ll_evidence ev[MAX_EVIDENCE];
    size_t n_ev;
    struct ll_str *affected; /* owned copies, in the order they were hit */
    size_t n_affected, cap_affected;
};

/* Per rule and key: the recent matches of a threshold or sequence rule. */
struct keystate {
    struct timed t;
    uint64_t hash;
    uint32_t rule;
    int64_t last;
    char *map_key;
    size_t map_key_len;
    struct match **win; /* threshold: matches in the window, oldest first */
    size_t n_win, cap_win;
    struct match *stage[LL__MAX_STEPS][LL__MAX_STEPS]; /* sequence: partial runs */
    size_t stage_n[LL__MAX_STEPS];
};

/* An "after" of an absence rule waiting for its "expect". */
struct pending {
    struct timed t;
    struct pending *prev, *next; /* in the rule's list */
    struct pending *same_prev, *same_next; /* waiting with the same key */
    uint64_t key_hash;
    struct match *m;
    struct match **hits; /* "affects" matches while it waits, raised with it */
    size_t n_hits, cap_hits;
    int64_t deadline;
    bool ended; /* its scope's "until" came: only the grace is left */
};

struct rule_state {
    struct pending *head, *tail; /* absence: waiting afters */
    struct ll_idmap by_key; /* absence: key -> first pending of that key */
    size_t n_pending;
    int64_t rate_start;
    uint32_t rate_count;
    bool rate_said; /* the cap held an alert back in this window, and it was logged */
};

/* A heap entry carries its match's time: most comparisons end there,
 * without reading the match. */
struct heap_slot {
    int64_t ts;
    struct match *m;
};

/* Matches in event order (before()): the earliest first. */
struct mheap {
    struct heap_slot *v;
    size_t n, cap;
};

struct ll_rule_engine {
    const ll_ruleset *rs;
    struct ll_rule_out out;
    struct ll_pool pool;
    struct mheap heap;         /* matches waiting for the watermark */
    uint64_t seq;
    struct ll_timerwheel wheel;
    bool wheel_ready;
    int64_t wm;
    struct ll_idmap alerts, keys;
    struct rule_state *state;
    struct timed **fired;
    size_t n_fired, cap_fired;
    struct ll_rule_eval *eval; /* for timeline predicates */
    struct mheap hold;         /* live: matches of rules without a window, held */
    struct alert *dirty;       /* live: alerts grown since written */
    int64_t clock;             /* live: the caller's clock (ll_rule_engine_release) */
    int64_t hold_ns;
    struct ll_buf key, scope, sum; /* make_match() scratch, reused */
    uint64_t raised, suppressed, rate_limited, recovered;
    bool live; /* alerts written as they open and grow; match rules held briefly */
    enum ll_rule_part part;
};

static inline struct ll_str alert_key(const void *p)
{
    const struct alert *a = p;
    return (struct ll_str){a->map_key, a->map_key_len};
}

static inline struct ll_str keystate_key(const void *p)
{
    const struct keystate *k = p;
    return (struct ll_str){k->map_key, k->map_key_len};
}

/* "<rule index>\x1f<key>" */
static inline size_t map_key(uint32_t rule, struct ll_str key, char *out, size_t size)
{
    int n = snprintf(out, size, "%u\x1f%.*s", rule, (int)key.len, key.ptr);
    return (size_t)n < size ? (size_t)n : size - 1;
}

/* Whether two matches are of one event (a line at one place). */
static inline bool same_event(const struct match *a, const struct match *b)
{
    return a->ts == b->ts && a->line_hash == b->line_hash && a->offset == b->offset &&
           ll_str_eq(a->source, b->source);
}

/* alert.c: an alert opened, raised (opened or grown) on a match, its blast
 * radius, its last write, the rule's rate cap, the grown ones written. */
struct alert *ll__eng_open_alert(ll_rule_engine *e, const struct match *m);
void ll__eng_raise_alert(ll_rule_engine *e, const struct match *m, const struct match *opener,
                         struct match *const *more, size_t n_more);
void ll__eng_affect(ll_rule_engine *e, struct alert *a, const struct match *m);
bool ll__eng_on_affects(ll_rule_engine *e, struct match *m);
void ll__eng_alert_last(ll_rule_engine *e, struct alert *a);
void ll__eng_alert_free(struct alert *a);
bool ll__eng_rate_ok(ll_rule_engine *e, uint32_t rule, int64_t ts);
void ll__eng_write_grown(ll_rule_engine *e, bool all);

/* window.c: a threshold or sequence rule's match; a key's state gone. */
bool ll__eng_on_threshold(ll_rule_engine *e, struct match *m);
bool ll__eng_on_sequence(ll_rule_engine *e, struct match *m);
void ll__eng_keystate_free(ll_rule_engine *e, struct keystate *k);

/* absence.c: an absence rule's match; its waiting "after"s. */
bool ll__eng_on_absence(ll_rule_engine *e, struct match *m);
struct pending *ll__eng_pending_of(ll_rule_engine *e, const struct match *m);
struct ll_str ll__eng_pending_key(const void *p);
void ll__eng_pending_release(ll_rule_engine *e, struct pending *p);
void ll__eng_pending_unlink(ll_rule_engine *e, struct rule_state *st, struct pending *p);
void ll__eng_pending_free(ll_rule_engine *e, struct rule_state *st, struct pending *p);

#endif
