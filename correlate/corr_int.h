/* Private to correlate/: the containers the correlator is built from, and
 * the parts of the correlator that its files share. */
#ifndef LOGLOOM_CORR_INT_H
#define LOGLOOM_CORR_INT_H

#include "logloom/core.h"
#include "logloom/correlate.h"

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

/* ------------------------------------------------------------------------ */
/* The correlator's parts (correlator.c, links.c, emit.c, waiting.c, lost.c):
 * its types, the small helpers they share, and what each file lends the
 * others. */

#define MAX_CODE 64
#define MAX_VIA 48
#define MAX_LINE 4096
#define MAX_KEY 80 /* a link key: its kind byte and up to 79 bytes of value */

enum link_kind { LINK_PID = 'p', LINK_CONN = 'c', LINK_SOURCE = 's' };

/* A kept event; its strings are at buf + str: msg, code, via, line. */
struct sev {
    int64_t ts;
    uint64_t offset;
    uint32_t source, service; /* name ids */
    uint32_t str;
    uint16_t msg_len, line_len;
    uint16_t flags;
    uint8_t code_len, via_len;
    uint8_t level;
};

/* First event of a service in a session, for service order and hops. */
struct svc_seen {
    int64_t ts;
    uint64_t offset;
    uint32_t name, source;
    uint32_t via; /* teacher service if that event was linked, else NONE */
    int32_t pid;  /* -1: none, or beyond 32 bits */
};

struct link;

/* An open timeline. One allocation holds it and, after it, its correlation
 * id and room for its first service, first event and the strings of both
 * (the "inline" part): most sessions never grow out of it. The fields every
 * event reads come first, and the id right after them, so that an event
 * reads as few cache lines of its session as can be. */
struct session {
    struct ll_timer timer; /* first: timer callbacks cast back */
    struct session *older; /* open sessions of the same id */
    int64_t start, end, terminal_ts;
    char *buf; /* the kept events' strings */
    struct sev *ev;
    struct svc_seen *svcs;
    struct link *links; /* links this session taught, the last own pid's first */
    uint64_t seq_first, seq_last; /* read order span (live sources; 0 in replay) */
    uint64_t first_line; /* content hash of the earliest event's line (the least, on ties) */
    uint32_t n_events, n_errors;
    uint32_t buf_len, buf_cap, garbage;
    uint32_t n_kept, cap_kept;
    uint32_t n_svcs, cap_svcs;
    uint32_t serial;   /* unique per session: cheap "already taught" marks */
    uint16_t corr_len; /* of the correlation id, in the inline part */
    /* Seldom read. */
    uint32_t n_linked;
    uint32_t ring; /* next tail slot to overwrite once the cap is reached */
    uint32_t recent_seq; /* the ring's count of lines after its last one there (0: none) */
    uint32_t n_alerts;
    uint64_t *alerts; /* ids of alerts noted on it */
};

static inline size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* The correlation id: in the session's own block, so that looking a
 * session up reads no other memory. */
static inline const char *inline_id(const struct session *s)
{
    return (const char *)(s + 1);
}

/* The inline part of @p s, after its id. */
static inline struct svc_seen *inline_svcs(struct session *s)
{
    return (struct svc_seen *)((char *)(s + 1) + align8(s->corr_len));
}

static inline struct sev *inline_ev(struct session *s)
{
    return (struct sev *)(inline_svcs(s) + 1);
}

static inline char *inline_buf(struct session *s)
{
    return (char *)(inline_ev(s) + 1);
}

struct link {
    struct link *prev, *next; /* in the owner's list */
    struct session *owner;
    uint64_t hash;
    int64_t teach_ts; /* the teaching event: the earliest, so order does not matter */
    uint64_t teach_off;
    uint32_t teach_src;
    uint32_t teacher_service;
    uint64_t teacher_host; /* host_of() the teacher */
    uint32_t cached_by; /* the name whose link or pid_link this is, or NONE */
    bool ambiguous, own_pid;
    uint16_t len;
    char key[]; /* kind byte, then the value */
};

/* A closed timeline remembered for a while, to tell late events apart. */
struct tomb {
    struct tomb *fifo_next;
    uint64_t hash, tl_id;
    int64_t start, end, expire;
    bool cap; /* closed by a cap: later events start a continuation */
    uint16_t len;
    char id[];
};

/* An event without an id waiting for the watermark (strings follow it). */
struct pending {
    int64_t ts, pid;
    uint64_t seq;     /* arrival order: ties in the heap */
    uint64_t ev_seq;  /* the event's read order (live sources) */
    uint64_t offset;
    uint64_t host;
    uint64_t line_hash; /* of the whole line, when only a cut of it is kept; else 0 */
    uint32_t source, service, flags;
    uint32_t msg_len, code_len, conn_len, line_len;
    uint8_t level;
};

struct closing {
    struct session *s;
    int64_t deadline;
};

/* The ring of the last id-carrying lines (lost.c reads it to find a lost
 * id's workflow; session.c clears a closing session out of it). */
#define RECENT 512
#define RECENT_LINE 384
struct recent {
    int64_t ts;
    struct session *s; /* NULL once it closed */
    uint32_t service;
    uint16_t len;
    char line[RECENT_LINE];
};

struct ll_correlator {
    struct ll_corr_conf conf;
    struct ll_corr_out out;

    struct ll_idmap sessions; /* newest session of each id */
    struct ll_idmap links;
    struct ll_idmap tombs;
    struct tomb *tomb_head, *tomb_tail;
    struct ll__names names;
    size_t n_open;

    struct ll_timerwheel wheel;
    bool wheel_ready;
    int64_t wm;     /* pipeline watermark */
    int64_t newest; /* newest event time of any source */
    uint32_t *heap; /* active sources, min-heap on newest */
    size_t n_heap, cap_heap;

    struct ll_blocks blocks;     /* sessions, their growing arrays, links, tombs */
    struct ll_pool pending_pool; /* events without an id waiting for the watermark */
    struct pending **pending;     /* min-heap on (ts, arrival) */
    size_t n_pending, cap_pending;
    uint64_t pending_seq;
    struct closing *closing;
    size_t n_closing, cap_closing;

    /* Output scratch, reused. */
    struct ll_tl_event *o_ev;
    size_t cap_o_ev;
    struct ll_str *o_svc;
    struct ll_hop *o_hop;
    size_t cap_o_svc;
    struct ll_orphans *o_orph;

    uint32_t cache_source, cache_service, cache_origin; /* last names interned */
    uint32_t serial; /* of the last session opened */

    uint64_t timelines, orphans, linked, late, evicted, open_max;

    /* Ids lost at a hop (see there). */
    struct recent *recent; /* a ring: the last id-carrying events */
    size_t recent_next;
    struct kind *kinds;        /* per service and message: with an id or not */
    struct ll_idmap aliases;   /* a minted id -> the workflow it continues */
    struct alias **alias_fifo; /* oldest first, to bound them */
    size_t alias_head, n_aliases;
    /* Lines with no time at all (a file of text alone) whose file is named
     * after a pid: they wait, without a time, for that pid to be taught. */
    struct pending **timeless;
    size_t n_timeless, cap_timeless;
};

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

static inline struct ll_str session_key(const void *p)
{
    const struct session *s = p;
    return (struct ll_str){inline_id(s), s->corr_len};
}

static inline struct ll_str link_key(const void *p)
{
    const struct link *l = p;
    return (struct ll_str){l->key, l->len};
}

static inline struct ll_str tomb_key(const void *p)
{
    const struct tomb *t = p;
    return (struct ll_str){t->id, t->len};
}

static inline struct ll_str session_id(const struct session *s)
{
    return (struct ll_str){inline_id(s), s->corr_len};
}

static inline uint64_t id_hash(struct ll_str id)
{
    return ll_hash_keyed(id.ptr, id.len);
}

/* A host only tells processes apart: its hash (0: none), not an interned
 * name, so that the hosts of a fleet's pods, which come and go, leave
 * nothing behind once their workflows are closed. */
static inline uint64_t host_of(const struct ll_event *ev)
{
    return ev->host.len ? ll_hash64(ev->host.ptr, ev->host.len, 0x686f7374) | 1 : 0;
}

static inline struct ll_str name_of(const struct ll_correlator *c, uint32_t id)
{
    return id == LL__NAME_NONE ? LL_STR("") : c->names.v[id].s;
}

/* Order of events everywhere: time, then source name, then offset. */
static inline int cmp_pos(const struct ll_correlator *c, int64_t ta, uint32_t sa, uint64_t oa,
                   int64_t tb, uint32_t sb, uint64_t ob)
{
    if (ta != tb)
        return ta < tb ? -1 : 1;
    if (sa != sb) {
        struct ll_str x = name_of(c, sa), y = name_of(c, sb);
        size_t n = x.len < y.len ? x.len : y.len;
        int r = n ? memcmp(x.ptr, y.ptr, n) : 0;
        if (r || x.len != y.len)
            return r ? r : (x.len < y.len ? -1 : 1);
    }
    return oa < ob ? -1 : oa > ob ? 1 : 0;
}

static inline int cmp_sev(const void *a, const void *b, void *ctx)
{
    const struct sev *x = a, *y = b;
    return cmp_pos(ctx, x->ts, x->source, x->offset, y->ts, y->source, y->offset);
}

/* Copies @p v to @p d; returns the end. */
static inline char *put_str(char *d, struct ll_str v)
{
    if (v.len)
        memcpy(d, v.ptr, v.len);
    return d + v.len;
}
/* Cuts @p v to at most @p max bytes without splitting a UTF-8 sequence. */
static inline struct ll_str cut(struct ll_str v, size_t max)
{
    if (v.len <= max)
        return v;
    size_t n = max;
    while (n && ((unsigned char)v.ptr[n] & 0xC0) == 0x80)
        n--;
    return (struct ll_str){v.ptr, n};
}

static inline int64_t session_deadline(const struct ll_correlator *c,
                                       const struct session *s, enum ll_tl_reason *why)
{
    int64_t gap = ll_time_add(s->end, c->conf.session_gap_ns);
    int64_t span = ll_time_add(s->start, c->conf.max_span_ns);
    int64_t d = gap;
    enum ll_tl_reason r = LL_TL_CLOSED_GAP;
    if (span < d) {
        d = span;
        r = LL_TL_CLOSED_SPAN;
    }
    if (s->terminal_ts != LL_TIME_NONE && s->terminal_ts <= d) {
        d = s->terminal_ts;
        r = LL_TL_CLOSED_TERMINAL;
    }
    if (why)
        *why = r;
    return d;
}

/* The files call one way, each only files after it: correlator.c ->
 * waiting.c -> lost.c -> session.c -> links.c, and emit.c (closing) from
 * correlator.c to session.c and links.c. */

/* correlator.c */
struct session *ll__corr_find_session(struct ll_correlator *c, uint64_t hash,
                                      const struct ll_event *ev);

/* session.c */
void ll__corr_chain_remove(struct ll_correlator *c, struct session *s);
void ll__corr_session_add(struct ll_correlator *c, struct session *s, const struct ll_event *ev,
                          uint32_t source, uint32_t service, const char *via, uint32_t via_svc,
                          uint64_t lh);
void ll__corr_session_free(struct ll_correlator *c, struct session *s);
void ll__corr_session_merge(struct ll_correlator *c, struct session *into, struct session *from);
size_t ll__corr_sev_size(const struct ll_correlator *c, const struct ll_event *ev);

/* emit.c */
void ll__corr_session_close(struct ll_correlator *c, struct session *s, enum ll_tl_reason why);
uint64_t ll__corr_session_tl_id(const struct session *s);
void ll__corr_tomb_pop(struct ll_correlator *c);

/* links.c. Learning a line's keys notes the pids it taught (at most its
 * child's and its own) while lines without time wait: the caller then lets
 * ll__corr_claim_timeless() join them, so links.c never calls waiting.c. */
struct taught {
    size_t n;
    uint8_t len[2];
    char pid[2][24];
};
void **ll__corr_cache_of(struct ll_correlator *c, const struct link *l);
bool ll__corr_has_key(const struct link *l, char kind, struct ll_str value);
bool ll__corr_joinable(const struct ll_correlator *c, const struct session *s, int64_t ts);
void ll__corr_learn_links(struct ll_correlator *c, struct session *s, const struct ll_event *ev,
                          uint32_t source, uint32_t service, uint64_t host,
                          struct taught *taught);
void ll__corr_link_own(struct link *l, struct session *s);
void ll__corr_link_unown(struct link *l);
bool ll__corr_pid_in_name(struct ll_str name, int64_t *pid);
struct ll_str ll__corr_pid_str(int64_t pid, char *buf, size_t size);
struct link *ll__corr_resolve(struct ll_correlator *c, const struct ll_event *ev,
                              uint32_t service, uint64_t host, char *via, size_t via_size);

/* lost.c */
/* Lines of a kind (a service and message), with an id and without. */
#define MIN_KIND_WITH_ID 5 /* lines of a kind seen with an id before one without counts */
struct kind {
    uint64_t key; /* 0: empty */
    uint32_t with, without;
};

/* Its ring, kinds and aliases: made and freed with the correlator. */
void ll__corr_lost_init(struct ll_correlator *c);
void ll__corr_lost_free(struct ll_correlator *c);
struct session *ll__corr_alias_of(struct ll_correlator *c, uint64_t hash, uint32_t service,
                                  const struct ll_event *ev, struct ll_str *known);
struct ll_str ll__corr_join_lost(struct ll_correlator *c, struct session *s,
                                 const struct ll_event *ev, uint32_t source, uint32_t service,
                                 const char *via);
struct kind ll__corr_kind_count(struct ll_correlator *c, uint32_t service,
                                const struct ll_event *ev, bool with_id);
void ll__corr_recent_add(struct ll_correlator *c, struct session *s, uint32_t service,
                         const struct ll_event *ev);
struct session *ll__corr_renamed_from(struct ll_correlator *c, uint32_t service,
                                      const struct ll_event *ev, struct ll_str *shared);

/* waiting.c */
struct ll_str ll__corr_attach_or_orphan(struct ll_correlator *c, const struct ll_event *ev,
                                        uint32_t source, uint32_t service, uint64_t host,
                                        bool arriving, bool final, uint64_t lh);
void ll__corr_claim_timeless(struct ll_correlator *c, struct session *s, struct ll_str pid,
                             const struct ll_event *teacher, uint32_t teacher_service);
void ll__corr_count_orphan(struct ll_correlator *c, const struct ll_event *ev, uint32_t source,
                           uint32_t service);
void ll__corr_drain_pending(struct ll_correlator *c, bool all);
void ll__corr_emit_late(struct ll_correlator *c, const struct ll_event *ev, uint64_t tl_id,
                        uint32_t source, uint32_t service);
struct ll_event ll__corr_pending_event(const struct ll_correlator *c, const struct pending *p);
struct pending *ll__corr_pending_pop(struct ll_correlator *c);
void ll__corr_settle(struct ll_correlator *c, uint64_t seq, struct ll_str id);

#endif
