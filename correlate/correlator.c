/* Timelines keyed by correlation id, in event time.
 *
 * A session is an open timeline: the events of one correlation id no more
 * than session_gap apart. Sessions of an id are chained newest first from
 * one slot of an id map; an event joins every session whose window it falls
 * in (merging them when it bridges two), or starts a new one. Each session
 * has an intrusive timer in a wheel driven by the watermark; extending a
 * session leaves its timer alone, and a timer that fires early is re-armed
 * (lazy extension, O(1) per event). Kept events are compact records whose
 * strings live in one buffer per session; past max_events_kept the first
 * half stays and the rest is a ring of the newest.
 *
 * Link keys (child pid, connection id) map to the session that taught them
 * and die with it. A key seen with two workflows is ambiguous and never
 * used; a pid learnt from a line's own "pid" is not used for lines of the
 * same service (a long-lived process logs its own pid on every line).
 * Events without an id that no key claims wait in a FIFO until the
 * watermark passes them, so a child that logs before its parent's spawn
 * line still finds its workflow. */
#include "corr_int.h"
#include "logloom/correlate.h"

#include <stdlib.h>
#include <string.h>

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

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* The correlation id: in the session's own block, so that looking a
 * session up reads no other memory. */
static const char *inline_id(const struct session *s)
{
    return (const char *)(s + 1);
}

/* The inline part of @p s, after its id. */
static struct svc_seen *inline_svcs(struct session *s)
{
    return (struct svc_seen *)((char *)(s + 1) + align8(s->corr_len));
}

static struct sev *inline_ev(struct session *s)
{
    return (struct sev *)(inline_svcs(s) + 1);
}

static char *inline_buf(struct session *s)
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

static void session_close(struct ll_correlator *c, struct session *s, enum ll_tl_reason why);
static void recent_forget(struct ll_correlator *c, const struct session *s);
static void claim_timeless(struct ll_correlator *c, struct session *s, struct ll_str pid,
                           const struct ll_event *teacher, uint32_t teacher_service);

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

static struct ll_str session_key(const void *p)
{
    const struct session *s = p;
    return (struct ll_str){inline_id(s), s->corr_len};
}

static struct ll_str link_key(const void *p)
{
    const struct link *l = p;
    return (struct ll_str){l->key, l->len};
}

static struct ll_str tomb_key(const void *p)
{
    const struct tomb *t = p;
    return (struct ll_str){t->id, t->len};
}

static struct ll_str session_id(const struct session *s)
{
    return (struct ll_str){inline_id(s), s->corr_len};
}

static uint64_t id_hash(struct ll_str id)
{
    return ll_hash_keyed(id.ptr, id.len);
}

/* A host only tells processes apart: its hash (0: none), not an interned
 * name, so that the hosts of a fleet's pods, which come and go, leave
 * nothing behind once their workflows are closed. */
static uint64_t host_of(const struct ll_event *ev)
{
    return ev->host.len ? ll_hash64(ev->host.ptr, ev->host.len, 0x686f7374) | 1 : 0;
}

static struct ll_str name_of(const struct ll_correlator *c, uint32_t id)
{
    return id == LL__NAME_NONE ? LL_STR("") : c->names.v[id].s;
}

/* Order of events everywhere: time, then source name, then offset. */
static int cmp_pos(const struct ll_correlator *c, int64_t ta, uint32_t sa, uint64_t oa,
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

static int cmp_sev(const void *a, const void *b, void *ctx)
{
    const struct sev *x = a, *y = b;
    return cmp_pos(ctx, x->ts, x->source, x->offset, y->ts, y->source, y->offset);
}

/* ------------------------------------------------------------------------ */
/* Session storage                                                           */

/* Copies @p v to @p d; returns the end. */
static char *put_str(char *d, struct ll_str v)
{
    if (v.len)
        memcpy(d, v.ptr, v.len);
    return d + v.len;
}

/* Moves @p p (@p used bytes of @p *cap in use) to a block of at least
 * @p want bytes; a part in the session's own block (@p in_line) is copied
 * out, not given back. */
static void *regrow(struct ll_correlator *c, void *p, bool in_line, size_t used, size_t want,
                    size_t *cap)
{
    if (!in_line)
        return ll_blocks_grow(&c->blocks, p, used, want, cap);
    void *q = ll_blocks_get(&c->blocks, want, cap);
    if (used)
        memcpy(q, p, used);
    return q;
}

/* Room for @p extra more bytes in the session's string buffer. */
static void buf_reserve(struct ll_correlator *c, struct session *s, size_t extra)
{
    if (s->buf_len + extra <= s->buf_cap)
        return;
    size_t cap = s->buf_cap;
    s->buf = regrow(c, s->buf, s->buf == inline_buf(s), s->buf_len,
                    (size_t)s->buf_len + extra, &cap);
    s->buf_cap = (uint32_t)cap;
}

static uint32_t buf_add(struct ll_correlator *c, struct session *s, struct ll_str v)
{
    buf_reserve(c, s, v.len);
    uint32_t at = s->buf_len;
    put_str(s->buf + at, v);
    s->buf_len += (uint32_t)v.len;
    return at;
}

static size_t sev_bytes(const struct sev *e)
{
    return (size_t)e->msg_len + e->code_len + e->via_len + e->line_len;
}

/* Rewrites the buffer with only what kept events use. */
static void buf_compact(struct ll_correlator *c, struct session *s)
{
    char *old = s->buf;
    size_t old_cap = s->buf_cap, need = 0, cap;
    for (uint32_t i = 0; i < s->n_kept; i++)
        need += sev_bytes(&s->ev[i]);
    s->buf = ll_blocks_get(&c->blocks, need, &cap);
    s->buf_len = s->garbage = 0;
    s->buf_cap = (uint32_t)cap;
    for (uint32_t i = 0; i < s->n_kept; i++)
        s->ev[i].str = buf_add(c, s, (struct ll_str){old + s->ev[i].str, sev_bytes(&s->ev[i])});
    if (old != inline_buf(s))
        ll_blocks_put(&c->blocks, old, old_cap);
}

/* Cuts @p v to at most @p max bytes without splitting a UTF-8 sequence. */
static struct ll_str cut(struct ll_str v, size_t max)
{
    if (v.len <= max)
        return v;
    size_t n = max;
    while (n && ((unsigned char)v.ptr[n] & 0xC0) == 0x80)
        n--;
    return (struct ll_str){v.ptr, n};
}

/* String bytes make_sev() will store for @p ev (via excluded: events with an
 * id have none). */
static size_t sev_size(const struct ll_correlator *c, const struct ll_event *ev)
{
    struct ll_str msg = cut(ev->msg.len ? ev->msg : ev->err_msg, c->conf.max_msg_bytes);
    return msg.len + cut(ev->err_code, MAX_CODE).len +
           (c->conf.keep_lines ? cut(ev->line, MAX_LINE).len : 0);
}

/* Writes the kept event for @p ev to @p e, its strings to the session's
 * buffer. Field by field, in place: a record assembled on the stack and
 * copied whole would be read back before its narrow stores have landed. */
static void make_sev(struct ll_correlator *c, struct session *s, struct sev *e,
                     const struct ll_event *ev, uint32_t source, uint32_t service,
                     struct ll_str via)
{
    struct ll_str msg = cut(ev->msg.len ? ev->msg : ev->err_msg, c->conf.max_msg_bytes);
    struct ll_str code = cut(ev->err_code, MAX_CODE);
    /* An event joined through a link key keeps its line anyway: it is the
     * evidence that its service logged without the id. */
    struct ll_str line = c->conf.keep_lines || via.len ? cut(ev->line, MAX_LINE) : LL_STR_NULL;
    via = cut(via, MAX_VIA);
    size_t total = msg.len + code.len + via.len + line.len;
    buf_reserve(c, s, total);
    e->ts = ev->ts_ns;
    e->offset = ev->pos.offset;
    e->source = source;
    e->service = service;
    e->str = s->buf_len;
    e->msg_len = (uint16_t)msg.len;
    e->line_len = (uint16_t)line.len;
    e->flags = (uint16_t)(ev->flags | (ev->match ? LL_EV_MATCHED : 0));
    e->code_len = (uint8_t)code.len;
    e->via_len = (uint8_t)via.len;
    e->level = ev->level;
    char *d = s->buf + s->buf_len;
    d = put_str(d, msg);
    d = put_str(d, code);
    d = put_str(d, via);
    put_str(d, line);
    s->buf_len += (uint32_t)total;
}

/* A session array of @p n elements of @p size bytes, full, moved to a block
 * about twice as large, for @p max elements at most (@p in_line: it is in
 * the session's own block). */
static void *grow_array(struct ll_correlator *c, void *p, bool in_line, uint32_t n, size_t size,
                        size_t max, uint32_t *cap_n)
{
    size_t want_n = 2 * ((size_t)n + 1);
    size_t want = (want_n < max ? want_n : max) * size, cap = (size_t)*cap_n * size;
    void *q = regrow(c, p, in_line, n * size, want, &cap);
    *cap_n = (uint32_t)(cap / size > UINT32_MAX ? UINT32_MAX : cap / size);
    return q;
}

/* Order of the kept event @p e against an event at (@p ts, @p source,
 * @p offset), as cmp_pos(). */
static int cmp_kept(const struct ll_correlator *c, const struct sev *e, int64_t ts,
                    uint32_t source, uint64_t offset)
{
    return cmp_pos(c, e->ts, e->source, e->offset, ts, source, offset);
}

/* Where an event at (@p ts, @p source, @p offset) is kept: sorted insertion
 * below the cap; past it, the first half stays sorted and the second half is
 * a ring of the newest arrivals. The event the slot held, if any, is let go.
 * The cap is at least 2 (ll_correlator_new), so neither half is empty. */
static struct sev *keep_slot(struct ll_correlator *c, struct session *s, int64_t ts,
                             uint32_t source, uint64_t offset)
{
    size_t cap = c->conf.max_events_kept;
    uint32_t pos;
    if (s->n_kept < cap) {
        if (s->n_kept == s->cap_kept)
            s->ev = grow_array(c, s->ev, s->ev == inline_ev(s), s->n_kept, sizeof *s->ev, cap,
                               &s->cap_kept);
        pos = s->n_kept++;
    } else {
        uint32_t head = (uint32_t)(cap / 2), tail = (uint32_t)cap - head;
        if (cmp_kept(c, &s->ev[head - 1], ts, source, offset) <= 0) {
            struct sev *victim = &s->ev[head + s->ring];
            s->garbage += (uint32_t)sev_bytes(victim);
            s->ring = (s->ring + 1) % tail;
            return victim;
        }
        /* Earlier than the kept head: it joins the head, whose last leaves. */
        s->garbage += (uint32_t)sev_bytes(&s->ev[head - 1]);
        pos = head - 1;
    }
    uint32_t end = pos;
    while (pos && cmp_kept(c, &s->ev[pos - 1], ts, source, offset) > 0)
        pos--;
    if (pos < end)
        memmove(s->ev + pos + 1, s->ev + pos, (end - pos) * sizeof *s->ev);
    return &s->ev[pos];
}

/* After an event was kept: the buffer rewritten once it is mostly strings
 * of events let go. */
static void keep_done(struct ll_correlator *c, struct session *s)
{
    if (s->garbage > 4096 && s->garbage > s->buf_len / 2)
        buf_compact(c, s);
}

static void keep_event(struct ll_correlator *c, struct session *s, const struct sev *e)
{
    *keep_slot(c, s, e->ts, e->source, e->offset) = *e;
    keep_done(c, s);
}

static int32_t pid32(const struct ll_event *ev)
{
    return (ev->flags & LL_EV_HAS_PID) && ev->pid >= 0 && ev->pid <= INT32_MAX ? (int32_t)ev->pid
                                                                               : -1;
}

static void note_service(struct session *s, uint32_t svc, const struct ll_event *ev,
                         uint32_t source, uint32_t via, struct ll_correlator *c)
{
    struct svc_seen seen = {ev->ts_ns, ev->pos.offset, svc, source, via, pid32(ev)};
    for (uint32_t i = 0; i < s->n_svcs; i++) {
        struct svc_seen *v = &s->svcs[i];
        if (v->name != svc)
            continue;
        if (cmp_pos(c, ev->ts_ns, source, ev->pos.offset, v->ts, v->source, v->offset) < 0)
            *v = seen;
        return;
    }
    if (s->n_svcs == s->cap_svcs)
        s->svcs = grow_array(c, s->svcs, s->svcs == inline_svcs(s), s->n_svcs,
                             sizeof *s->svcs, UINT32_MAX, &s->cap_svcs);
    if (s->n_svcs)
        c->names.v[svc].later++;
    else
        c->names.v[svc].first++;
    s->svcs[s->n_svcs++] = seen;
}

/* ------------------------------------------------------------------------ */
/* Deadlines and the activity list                                           */

static int64_t session_deadline(const struct ll_correlator *c, const struct session *s,
                                enum ll_tl_reason *why)
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

/* Arms the timer if the deadline came closer; a later deadline is found
 * when the timer fires (lazy extension). */
static void session_rearm(struct ll_correlator *c, struct session *s)
{
    int64_t d = ll_time_add(session_deadline(c, s, NULL), 1); /* once the watermark passes it */
    if (!ll_timer_armed(&s->timer) || d < ll_timer_deadline(&s->timer))
        ll_timerwheel_add(&c->wheel, &s->timer, d);
}

/* ------------------------------------------------------------------------ */
/* Links                                                                     */

static void link_unown(struct link *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        l->owner->links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->prev = l->next = NULL;
}

static void link_own(struct link *l, struct session *s)
{
    l->owner = s;
    l->prev = NULL;
    l->next = s->links;
    if (s->links)
        s->links->prev = l;
    s->links = l;
}

/* The name's field that points at @p l, which is cached. */
static void **cache_of(struct ll_correlator *c, const struct link *l)
{
    struct ll__name *n = &c->names.v[l->cached_by];
    return l->key[0] == LINK_SOURCE ? &n->link : &n->pid_link;
}

/* Points the name @p id's field @p slot at @p l, unless another name's
 * field points there already (keys are cut to MAX_KEY, and processes of
 * two services may share a pid): it then stays empty. */
static void cache_link(void **slot, struct link *l, uint32_t id)
{
    if (*slot)
        ((struct link *)*slot)->cached_by = LL__NAME_NONE;
    *slot = NULL;
    if (l->cached_by == LL__NAME_NONE) {
        l->cached_by = id;
        *slot = l;
    }
}

/* Whether @p l is the link of (@p kind, @p value), a value short enough
 * not to be cut (a pid). */
static bool has_key(const struct link *l, char kind, struct ll_str value)
{
    return l->len == value.len + 1 && l->key[0] == kind &&
           ll_mem_eq(l->key + 1, value.ptr, value.len);
}

/* Writes the key "p4318" / "cws-9" into @p out; returns its length. */
static size_t make_key(char kind, struct ll_str value, char *out, size_t size)
{
    out[0] = kind;
    if (value.len < size) {
        memcpy(out + 1, value.ptr, value.len);
        return value.len + 1;
    }
    /* Too long (a container log's path): its head and a hash of all of
     * it, so that values alike in their first bytes stay apart. */
    size_t head = size - 1 - 16;
    memcpy(out + 1, value.ptr, head);
    uint64_t h = ll_hash64(value.ptr, value.len, 0x6b);
    for (int i = 0; i < 16; i++)
        out[1 + head + i] = "0123456789abcdef"[(h >> (60 - 4 * i)) & 15];
    return size;
}

/* Decimal text of @p pid in @p buf (at least 21 bytes), without printf:
 * this runs for most lines. */
static struct ll_str pid_str(int64_t pid, char *buf, size_t size)
{
    char *end = buf + size, *p = end;
    uint64_t v = pid < 0 ? 0 - (uint64_t)pid : (uint64_t)pid;
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) && p > buf + 1);
    if (pid < 0)
        *--p = '-';
    return (struct ll_str){p, (size_t)(end - p)};
}

/* The teacher of a key in one session: a line naming a child beats a
 * line's own pid; between equals, the earliest line. */
static bool better_teacher(struct ll_correlator *c, const struct link *l, bool own_pid,
                           const struct ll_event *ev, uint32_t source)
{
    if (l->own_pid != own_pid)
        return !own_pid;
    return cmp_pos(c, ev->ts_ns, source, ev->pos.offset, l->teach_ts, l->teach_src,
                   l->teach_off) < 0;
}

static void set_teacher(struct link *l, bool own_pid, const struct ll_event *ev,
                        uint32_t source, uint32_t service, uint64_t host)
{
    l->own_pid = own_pid;
    l->teach_ts = ev->ts_ns;
    l->teach_src = source;
    l->teach_off = ev->pos.offset;
    l->teacher_service = service;
    l->teacher_host = host;
}

/* Teaches @p s the key of @p l, which exists. */
static void reteach(struct ll_correlator *c, struct link *l, struct session *s, bool own_pid,
                    const struct ll_event *ev, uint32_t source, uint32_t service, uint64_t host)
{
    if (l->owner == s) {
        if (better_teacher(c, l, own_pid, ev, source))
            set_teacher(l, own_pid, ev, source, service, host);
        return;
    }
    /* Ambiguity is for good: no need to read the other workflow's id. */
    if (!l->ambiguous && !ll_str_eq(session_id(l->owner), session_id(s)))
        l->ambiguous = true;
    link_unown(l);
    link_own(l, s);
    set_teacher(l, own_pid, ev, source, service, host);
}

/* Teaches @p s the key (@p kind, @p value); returns its link, now owned by
 * @p s. */
static struct link *teach(struct ll_correlator *c, struct session *s, char kind,
                          struct ll_str value, bool own_pid, const struct ll_event *ev,
                          uint32_t source, uint32_t service, uint64_t host)
{
    char key[MAX_KEY];
    size_t len = make_key(kind, value, key, sizeof key);
    uint64_t hash = ll_hash_keyed(key, len);
    struct link *l = ll_idmap_get(&c->links, hash, (struct ll_str){key, len});
    if (!l) {
        size_t size;
        l = ll_blocks_get(&c->blocks, sizeof *l + len, &size);
        *l = (struct link){.hash = hash, .cached_by = LL__NAME_NONE, .len = (uint16_t)len};
        memcpy(l->key, key, len);
        set_teacher(l, own_pid, ev, source, service, host);
        link_own(l, s);
        ll_idmap_put(&c->links, hash, l);
    } else {
        reteach(c, l, s, own_pid, ev, source, service, host);
    }
    if (kind == LINK_PID && c->n_timeless && !l->ambiguous)
        claim_timeless(c, l->owner, value, ev, service);
    return l;
}

/* The line's own pid, taught to @p s. Most lines of a workflow come from
 * the process of the line before: its link is kept first in the session's
 * list (the order means nothing else), and found there without a lookup. */
static void teach_own_pid(struct ll_correlator *c, struct session *s, const struct ll_event *ev,
                          uint32_t source, uint32_t service, uint64_t host)
{
    char pbuf[24];
    struct ll_str pid = pid_str(ev->pid, pbuf, sizeof pbuf);
    struct link *l = s->links;
    if (l && has_key(l, LINK_PID, pid)) {
        if (better_teacher(c, l, true, ev, source))
            set_teacher(l, true, ev, source, service, host);
        return;
    }
    /* Else most often the link another workflow of the same process has. */
    struct ll__name *svc = &c->names.v[service];
    l = svc->pid_link;
    if (l && has_key(l, LINK_PID, pid)) {
        reteach(c, l, s, true, ev, source, service, host);
    } else {
        l = teach(c, s, LINK_PID, pid, true, ev, source, service, host);
        cache_link(&svc->pid_link, l, service);
    }
    if (l != s->links) {
        link_unown(l);
        link_own(l, s);
    }
}

static void learn_links(struct ll_correlator *c, struct session *s, const struct ll_event *ev,
                        uint32_t source, uint32_t service, uint64_t host)
{
    char pbuf[24];
    /* Every line teaches: the teacher kept is the best one (see
     * better_teacher), whatever order the lines came in. */
    if (ev->flags & LL_EV_HAS_CHILD_PID)
        teach(c, s, LINK_PID, pid_str(ev->child_pid, pbuf, sizeof pbuf), false, ev, source,
              service, host);
    /* The source itself (the file a Kafka message names, if any), for raw
     * lines printed by the same process. */
    uint32_t file = ev->origin.len ? ll__names_intern(&c->names, ev->origin, &c->cache_origin)
                                   : source;
    struct ll__name *src = &c->names.v[file];
    if (src->taught_by != s->serial) {
        /* A source's key never changes: its link needs no key test. */
        if (src->link) {
            reteach(c, src->link, s, false, ev, source, service, host);
        } else {
            cache_link(&src->link,
                       teach(c, s, LINK_SOURCE, src->s, false, ev, source, service, host),
                       file);
        }
        src->taught_by = s->serial;
    }
    if (ev->conn_id.len)
        teach(c, s, LINK_CONN, ev->conn_id, false, ev, source, service, host);
    if (ev->flags & LL_EV_HAS_PID) /* last: its link stays first */
        teach_own_pid(c, s, ev, source, service, host);
}

static bool joinable(const struct ll_correlator *c, const struct session *s, int64_t ts)
{
    int64_t gap = c->conf.session_gap_ns;
    if (ts < ll_time_sub(s->start, gap) || ts > ll_time_add(s->end, gap))
        return false;
    int64_t lo = ts < s->start ? ts : s->start, hi = ts > s->end ? ts : s->end;
    return ll_time_sub(hi, lo) <= c->conf.max_span_ns;
}

/* The link that claims @p ev for an open session, or NULL. @p via receives
 * the key as text ("pid:4318"). */
struct key_try {
    char kind;
    struct ll_str value;
    const char *label;
};

/* The pid a file of text alone is named after (child-4312, a container
 * worker-4312): three digits or more after the last '-'. */
static bool pid_in_name(struct ll_str name, int64_t *pid)
{
    size_t d = 0;
    while (d < name.len && name.ptr[name.len - 1 - d] >= '0' && name.ptr[name.len - 1 - d] <= '9')
        d++;
    if (d < 3 || d > 18 || d == name.len || name.ptr[name.len - 1 - d] != '-')
        return false;
    int64_t v = 0;
    for (size_t i = name.len - d; i < name.len; i++)
        v = v * 10 + (name.ptr[i] - '0');
    *pid = v;
    return true;
}

static struct link *resolve(struct ll_correlator *c, const struct ll_event *ev,
                            uint32_t service, uint64_t host, char *via, size_t via_size)
{
    char pbuf[24];
    struct key_try keys[3];
    int n = 0;
    if (ev->flags & LL_EV_RAW) {
        keys[n++] = (struct key_try){LINK_SOURCE, ev->origin.len ? ev->origin : ev->pos.source,
                                     "source"};
        /* A file named after its process (child-4312.log, a container
         * worker-4312) whose lines are all text: its pid is in the name. */
        struct ll_str name = c->names.v[service].s;
        int64_t pid;
        if (pid_in_name(name, &pid))
            keys[n++] = (struct key_try){LINK_PID, pid_str(pid, pbuf, sizeof pbuf), "pid"};
    } else if (ev->flags & LL_EV_HAS_PID)
        keys[n++] = (struct key_try){LINK_PID, pid_str(ev->pid, pbuf, sizeof pbuf), "pid"};
    if (ev->conn_id.len)
        keys[n++] = (struct key_try){LINK_CONN, ev->conn_id, "conn"};
    for (int i = 0; i < n; i++) {
        char key[MAX_KEY];
        size_t len = make_key(keys[i].kind, keys[i].value, key, sizeof key);
        struct link *l =
            ll_idmap_get(&c->links, ll_hash_keyed(key, len), (struct ll_str){key, len});
        if (!l || l->ambiguous || (l->own_pid && l->teacher_service == service))
            continue;
        if (l->teacher_host && host && l->teacher_host != host)
            continue;
        if (!joinable(c, l->owner, ev->ts_ns))
            continue;
        if (keys[i].kind == LINK_SOURCE)
            snprintf(via, via_size, "source");
        else
            snprintf(via, via_size, "%s:%.*s", keys[i].label, (int)keys[i].value.len,
                     keys[i].value.ptr);
        return l;
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Sessions                                                                  */

/* An event at @p ts whose line hashes to @p h may be the session's first
 * (@p only: it is its first event); ties go to the least hash, so that the
 * first event, and the id it gives, depend on content alone. */
static void note_first(struct session *s, int64_t ts, uint64_t h, bool only)
{
    if (only || ts < s->start) {
        s->start = ts;
        s->first_line = h;
    } else if (ts == s->start && h < s->first_line) {
        s->first_line = h;
    }
}

static void session_free(struct ll_correlator *c, struct session *s)
{
    recent_forget(c, s);
    if (s->buf != inline_buf(s))
        ll_blocks_put(&c->blocks, s->buf, s->buf_cap);
    if (s->ev != inline_ev(s))
        ll_blocks_put(&c->blocks, s->ev, (size_t)s->cap_kept * sizeof *s->ev);
    if (s->svcs != inline_svcs(s))
        ll_blocks_put(&c->blocks, s->svcs, (size_t)s->cap_svcs * sizeof *s->svcs);
    ll_free(s->alerts);
    ll_free(s);
}

/* Adds @p ev to @p s; @p via names the link key that brought it (NULL if
 * it had the id itself) and @p via_svc the service that taught that key;
 * @p lh is the hash of its whole line when ev->line is a cut copy (0:
 * hash ev->line when needed). */
static void session_add(struct ll_correlator *c, struct session *s, const struct ll_event *ev,
                        uint32_t source, uint32_t service, const char *via, uint32_t via_svc,
                        uint64_t lh)
{
    struct ll_str v = ll_str_c(via);
    if (v.len) { /* raw lines joined by source are crash output, not lost ids */
        if (!(ev->flags & LL_EV_RAW))
            s->n_linked++;
        c->linked++;
    }
    make_sev(c, s, keep_slot(c, s, ev->ts_ns, source, ev->pos.offset), ev, source, service, v);
    keep_done(c, s);
    note_service(s, service, ev, source, via_svc, c);
    if (ev->seq && (!s->seq_first || ev->seq < s->seq_first))
        s->seq_first = ev->seq;
    if (ev->seq > s->seq_last)
        s->seq_last = ev->seq;
    if (ll_event_is_error(ev))
        s->n_errors++;
    if (ev->ts_ns <= s->start || !s->n_events)
        note_first(s, ev->ts_ns, lh ? lh : ll_line_hash(ev->line), s->n_events == 0);
    s->n_events++;
    if (ev->ts_ns > s->end)
        s->end = ev->ts_ns;
    if (!v.len && ev->corr_id.len && c->conf.is_terminal &&
        c->conf.is_terminal(c->conf.terminal_ctx, ev) &&
        (s->terminal_ts == LL_TIME_NONE || ev->ts_ns > s->terminal_ts))
        s->terminal_ts = ev->ts_ns;
    session_rearm(c, s);
}

/* Closes a session the watermark would close first (among the least
 * recently active in event time, to the wheel's resolution) to make room
 * under max_open_timelines. O(1) amortised: the wheel is asked for a slot,
 * not scanned, and a session extended since its timer was armed is moved
 * to where it belongs once. */
static void evict_one(struct ll_correlator *c)
{
    for (;;) {
        struct session *s = (struct session *)ll_timerwheel_soonest(&c->wheel);
        if (!s)
            return;
        int64_t d = ll_time_add(session_deadline(c, s, NULL), 1);
        if (d > ll_timer_deadline(&s->timer)) { /* extended since armed: fix, look again */
            ll_timerwheel_add(&c->wheel, &s->timer, d);
            continue;
        }
        c->evicted++;
        session_close(c, s, LL_TL_CLOSED_EVICTED);
        /* The next to go, asked for now: by the next eviction it is in the
         * cache (eviction_ahead() reads its id). */
        const char *next = (const char *)ll_timerwheel_soonest(&c->wheel);
        if (next)
            for (size_t b = 0; b < sizeof(struct session) + 64; b += 64)
                __builtin_prefetch(next + b);
        return;
    }
}

/* A new id is coming and the table is full: the slot of the session the
 * eviction will close is asked for now, so that its miss overlaps the new
 * id's own lookup instead of following it. */
static void eviction_ahead(const struct ll_correlator *c)
{
    const struct session *s = (const struct session *)ll_timerwheel_soonest(&c->wheel);
    if (s)
        ll_idmap_prefetch(&c->sessions, id_hash(session_id(s)));
}

/* A new session for @p ev, sized so the first event fits inline. */
static struct session *session_new(struct ll_correlator *c, uint64_t hash,
                                   const struct ll_event *ev, size_t first_bytes)
{
    if (c->n_open >= c->conf.max_open_timelines)
        evict_one(c);
    struct ll_str id = cut(ev->corr_id, UINT16_MAX);
    /* Exactly sized, not from the blocks: one allocation per workflow, and
     * no room rounded up in the many workflows of one or two events. */
    size_t room = align8(first_bytes);
    struct session *s = ll_malloc(sizeof *s + align8(id.len) + sizeof(struct svc_seen) +
                                  sizeof(struct sev) + room);
    *s = (struct session){.start = ev->ts_ns, .end = ev->ts_ns, .terminal_ts = LL_TIME_NONE,
                          .corr_len = (uint16_t)id.len, .serial = ++c->serial,
                          .buf_cap = (uint32_t)room, .cap_kept = 1,
                          .cap_svcs = 1};
    ll_timer_init(&s->timer);
    if (id.len)
        memcpy((char *)inline_id(s), id.ptr, id.len);
    s->buf = inline_buf(s);
    s->ev = inline_ev(s);
    s->svcs = inline_svcs(s);
    struct session *newest = ll_idmap_get(&c->sessions, hash, id);
    if (newest) {
        s->older = newest;
        ll_idmap_replace(&c->sessions, hash, newest, s);
    } else {
        ll_idmap_put(&c->sessions, hash, s);
    }
    if (++c->n_open > c->open_max)
        c->open_max = c->n_open;
    return s;
}

/* Unhooks @p s from its id chain. */
static void chain_remove(struct ll_correlator *c, struct session *s)
{
    uint64_t hash = id_hash(session_id(s));
    struct session *head = ll_idmap_get(&c->sessions, hash, session_id(s));
    if (head == s) {
        if (s->older)
            ll_idmap_replace(&c->sessions, hash, s, s->older);
        else
            ll_idmap_del(&c->sessions, hash, s);
    } else {
        struct session *p = head;
        while (p->older != s)
            p = p->older;
        p->older = s->older;
    }
    s->older = NULL;
}

/* Moves everything of @p from into @p into (an event bridged them). */
static void session_merge(struct ll_correlator *c, struct session *into, struct session *from)
{
    for (uint32_t i = 0; i < from->n_kept; i++) {
        struct sev e = from->ev[i];
        e.str = buf_add(c, into, (struct ll_str){from->buf + e.str, sev_bytes(&e)});
        keep_event(c, into, &e);
    }
    for (uint32_t i = 0; i < from->n_svcs; i++) {
        struct svc_seen *v = &from->svcs[i];
        struct ll_event fake = {.ts_ns = v->ts, .pos = {LL_STR_NULL, v->offset}, .pid = v->pid,
                                .flags = v->pid >= 0 ? (uint32_t)LL_EV_HAS_PID : 0};
        note_service(into, v->name, &fake, v->source, v->via, c);
    }
    note_first(into, from->start, from->first_line, false);
    into->n_events += from->n_events;
    into->n_errors += from->n_errors;
    into->n_linked += from->n_linked;
    if (from->seq_first && (!into->seq_first || from->seq_first < into->seq_first))
        into->seq_first = from->seq_first;
    if (from->seq_last > into->seq_last)
        into->seq_last = from->seq_last;
    if (from->end > into->end)
        into->end = from->end;
    if (from->terminal_ts != LL_TIME_NONE &&
        (into->terminal_ts == LL_TIME_NONE || from->terminal_ts > into->terminal_ts))
        into->terminal_ts = from->terminal_ts;
    while (from->links) {
        struct link *l = from->links;
        link_unown(l);
        link_own(l, into);
    }
    ll_timerwheel_del(&c->wheel, &from->timer);
    chain_remove(c, from);
    c->n_open--;
    session_free(c, from);
    session_rearm(c, into);
}

/* The open session @p ev belongs to (merging sessions it bridges), or NULL. */
static struct session *find_session(struct ll_correlator *c, uint64_t hash,
                                    const struct ll_event *ev)
{
    struct session *joined = NULL;
    struct session *s = ll_idmap_get(&c->sessions, hash, ev->corr_id);
    while (s) {
        struct session *older = s->older;
        if (joinable(c, s, ev->ts_ns)) {
            if (!joined)
                joined = s;
            else
                session_merge(c, joined, s);
        }
        s = older;
    }
    if (joined && joined->n_events >= c->conf.max_events) {
        session_close(c, joined, LL_TL_CLOSED_EVENTS);
        joined = NULL;
    }
    return joined;
}

/* ------------------------------------------------------------------------ */
/* Emitting a closed timeline                                                */

/* Forgets the oldest tomb. */
static void tomb_pop(struct ll_correlator *c)
{
    struct tomb *t = c->tomb_head;
    c->tomb_head = t->fifo_next;
    if (!c->tomb_head)
        c->tomb_tail = NULL;
    ll_idmap_del(&c->tombs, t->hash, t);
    ll_blocks_put(&c->blocks, t, sizeof *t + t->len);
}

static int cmp_svc(const void *a, const void *b, void *ctx)
{
    const struct svc_seen *x = a, *y = b;
    return cmp_pos(ctx, x->ts, x->source, x->offset, y->ts, y->source, y->offset);
}

static void out_reserve(struct ll_correlator *c, size_t n_ev, size_t n_svc)
{
    if (n_ev > c->cap_o_ev) {
        c->cap_o_ev = n_ev;
        c->o_ev = ll_reallocarray(c->o_ev, n_ev, sizeof *c->o_ev);
    }
    if (n_svc > c->cap_o_svc) {
        c->cap_o_svc = n_svc;
        c->o_svc = ll_reallocarray(c->o_svc, n_svc, sizeof *c->o_svc);
        c->o_hop = ll_reallocarray(c->o_hop, n_svc, sizeof *c->o_hop);
    }
}

/* The service a joining service came from: the teacher of a link that
 * brought it (its pid was a child pid taught in this session), else the
 * service of the event just before its first one. */
static struct ll_str hop_from(struct ll_correlator *c, struct session *s,
                              const struct svc_seen *v)
{
    if (v->via != LL__NAME_NONE)
        return name_of(c, v->via);
    if (v->pid >= 0) {
        char pbuf[24];
        struct ll_str pid = pid_str(v->pid, pbuf, sizeof pbuf);
        for (struct link *l = s->links; l; l = l->next)
            if (has_key(l, LINK_PID, pid) && l->teacher_service != v->name)
                return name_of(c, l->teacher_service);
    }
    const struct sev *prev = NULL;
    for (uint32_t i = 0; i < s->n_kept; i++) {
        const struct sev *e = &s->ev[i];
        if (e->ts == v->ts && e->offset == v->offset && e->source == v->source)
            break;
        if (e->service != v->name)
            prev = e;
    }
    return prev ? name_of(c, prev->service) : LL_STR("");
}

/* The id a session's record will carry: its correlation id and its first
 * event (time and line), never where that was read from, so that replay,
 * the daemon and Kafka name a workflow alike. */
static uint64_t session_tl_id(const struct session *s)
{
    return ll_id_add_event(ll_hash64(inline_id(s), s->corr_len, 0), s->start, s->first_line);
}

static enum ll_tl_status session_status(const struct ll_correlator *c, const struct session *s,
                                        enum ll_tl_reason why)
{
    if (s->n_errors)
        return LL_TL_FAILED;
    if (why == LL_TL_CLOSED_SPAN || why == LL_TL_CLOSED_EVENTS || why == LL_TL_CLOSED_EVICTED)
        return LL_TL_TRUNCATED;
    if (c->conf.is_terminal && s->terminal_ts == LL_TIME_NONE)
        return LL_TL_INCOMPLETE;
    return LL_TL_OK;
}

static void emit(struct ll_correlator *c, struct session *s, enum ll_tl_reason why)
{
    size_t head = c->conf.max_events_kept / 2;
    if (s->n_events > s->n_kept) /* capped: the ring part is in arrival order */
        qsort_r(s->ev + head, s->n_kept - head, sizeof *s->ev, cmp_sev, c);
    qsort_r(s->svcs, s->n_svcs, sizeof *s->svcs, cmp_svc, c);
    out_reserve(c, s->n_kept, s->n_svcs);
    for (uint32_t i = 0; i < s->n_kept; i++) {
        const struct sev *e = &s->ev[i];
        const char *p = s->buf + e->str;
        c->o_ev[i] = (struct ll_tl_event){
            .ts_ns = e->ts,
            .offset = e->offset,
            .source = name_of(c, e->source),
            .service = name_of(c, e->service),
            .msg = {p, e->msg_len},
            .err_code = {p + e->msg_len, e->code_len},
            .via = {p + e->msg_len + e->code_len, e->via_len},
            .line = {p + e->msg_len + e->code_len + e->via_len, e->line_len},
            .flags = e->flags,
            .level = e->level,
        };
    }
    for (uint32_t i = 0; i < s->n_svcs; i++) {
        c->o_svc[i] = name_of(c, s->svcs[i].name);
        c->o_hop[i] = (struct ll_hop){i ? hop_from(c, s, &s->svcs[i]) : LL_STR(""),
                                      c->o_svc[i], s->svcs[i].ts};
    }
    /* The id names the workflow by its earliest event, whatever the order
     * events arrived in. */
    uint64_t id = session_tl_id(s);
    struct ll_timeline tl = {
        .id = id,
        .corr_id = session_id(s),
        .start_ns = s->start,
        .end_ns = s->end,
        .status = session_status(c, s, why),
        .reason = why,
        .services = c->o_svc,
        .n_services = s->n_svcs,
        .hops = c->o_hop,
        .n_hops = s->n_svcs,
        .events = c->o_ev,
        .n_events_kept = s->n_kept,
        .n_events = s->n_events,
        .n_errors = s->n_errors,
        .n_dropped = s->n_events - s->n_kept,
        .n_linked = s->n_linked,
        .terminal = s->terminal_ts != LL_TIME_NONE,
        .alerts = s->alerts,
        .n_alerts = s->n_alerts,
        .seq_first = s->seq_first,
        .seq_last = s->seq_last,
    };
    c->timelines++;
    c->out.timeline(c->out.ctx, &tl);
    /* Remember it, so events that come after can be told late; not an
     * evicted one: what comes after it continues it, as no tomb would have
     * it, and a flood of ids (what fills the table) costs no tomb each. */
    if (why == LL_TL_CLOSED_EVICTED)
        return;
    uint64_t hash = id_hash(session_id(s));
    struct tomb *t = ll_idmap_get(&c->tombs, hash, session_id(s));
    if (!t) {
        /* No more tombs than open timelines, even while event time stands
         * still and nothing expires (many ids in one instant). */
        if (c->tombs.n >= c->conf.max_open_timelines)
            tomb_pop(c);
        size_t size;
        t = ll_blocks_get(&c->blocks, sizeof *t + s->corr_len, &size);
        t->hash = hash;
        t->len = s->corr_len;
        memcpy(t->id, inline_id(s), s->corr_len);
        t->fifo_next = NULL;
        if (c->tomb_tail)
            c->tomb_tail->fifo_next = t;
        else
            c->tomb_head = t;
        c->tomb_tail = t;
        ll_idmap_put(&c->tombs, t->hash, t);
    }
    t->tl_id = id;
    t->start = s->start;
    t->end = s->end;
    t->expire = ll_time_add(ll_time_add(c->wm > s->end ? c->wm : s->end, c->conf.session_gap_ns),
                            c->conf.session_gap_ns);
    t->cap = why == LL_TL_CLOSED_SPAN || why == LL_TL_CLOSED_EVENTS ||
             why == LL_TL_CLOSED_EVICTED;
}

static void session_close(struct ll_correlator *c, struct session *s, enum ll_tl_reason why)
{
    ll_timerwheel_del(&c->wheel, &s->timer);
    chain_remove(c, s);
    c->n_open--;
    emit(c, s, why);
    while (s->links) {
        struct link *l = s->links;
        link_unown(l);
        ll_idmap_del(&c->links, l->hash, l);
        if (l->cached_by != LL__NAME_NONE)
            *cache_of(c, l) = NULL;
        ll_blocks_put(&c->blocks, l, sizeof *l + l->len);
    }
    session_free(c, s);
}

/* ------------------------------------------------------------------------ */
/* Late events and orphans                                                   */

static void emit_late(struct ll_correlator *c, const struct ll_event *ev, uint64_t tl_id,
                      uint32_t source, uint32_t service)
{
    c->late++;
    if (!c->out.late)
        return;
    struct ll_late late = {
        .timeline_id = tl_id,
        .corr_id = ev->corr_id,
        .ev = {.ts_ns = ev->ts_ns, .offset = ev->pos.offset, .source = name_of(c, source),
               .service = name_of(c, service),
               .msg = cut(ev->msg.len ? ev->msg : ev->err_msg, c->conf.max_msg_bytes),
               .err_code = ev->err_code, .line = ev->line, .flags = ev->flags,
               .level = ev->level},
    };
    c->out.late(c->out.ctx, &late);
}

static void count_orphan(struct ll_correlator *c, const struct ll_event *ev, uint32_t source,
                         uint32_t service)
{
    struct ll__name *n = &c->names.v[service];
    if (!n->orphans || ev->ts_ns < n->orphan_first)
        n->orphan_first = ev->ts_ns;
    if (!n->orphans || ev->ts_ns > n->orphan_last)
        n->orphan_last = ev->ts_ns;
    n->orphans++;
    c->orphans++;
    /* Keep the three earliest, whatever the order events arrived in. */
    size_t i = n->n_examples < 3 ? n->n_examples++ : 3;
    while (i > 0) {
        const struct ll__example *q = &n->examples[i - 1];
        if (cmp_pos(c, ev->ts_ns, source, ev->pos.offset, q->ts, q->source, q->offset) >= 0)
            break;
        if (i < 3)
            n->examples[i] = *q;
        i--;
    }
    if (i < 3)
        n->examples[i] = (struct ll__example){ev->ts_ns, source, ev->pos.offset};
}

static bool pending_less(const void *ctx, const struct pending *a, const struct pending *b)
{
    (void)ctx;
    return a->ts != b->ts ? a->ts < b->ts : a->seq < b->seq;
}

LL_HEAP(pendings, struct pending *, const void *, pending_less, LL_HEAP_UNPLACED)

static void pending_push(struct ll_correlator *c, struct pending *p)
{
    pendings_push(NULL, &c->pending, &c->n_pending, &c->cap_pending, p);
}

static struct pending *pending_pop(struct ll_correlator *c)
{
    return pendings_pop(NULL, c->pending, &c->n_pending);
}

/* @returns the workflow's id when @p ev joined one (valid until the next
 * change of sessions), else empty. */
/* ------------------------------------------------------------------------ */
/* Ids lost at a hop                                                         */

/* Two ways a workflow loses its id between processes leave no pid or
 * connection to join by:
 *   - a call sent without the id: the callee mints a new one, and the work
 *     goes on under it with no upstream. A new id whose first event is at a
 *     service that otherwise only ever joins workflows begun elsewhere is
 *     matched to the call: the latest event of another workflow, within
 *     HOP_WINDOW_NS before, that names that service and has not reached it.
 *     The new id's events join that workflow (via "new id ...").
 *   - a message whose id field was renamed on the way: the receiver logs
 *     it without an id, although its lines of that kind (service and
 *     message) nearly always have one. It joins the workflow whose latest
 *     event, within the window, is from a service the line names and
 *     shares another of its values (a workflow name, a task).
 * Both count as linked, so correlation-lost is raised on the workflow that
 * lost the id. The recent id-carrying events are a small ring holding the
 * first bytes of each line: only a rare event (a new id at a downstream
 * service, an orphan of a kind that has ids) looks into it. */

#define RECENT 512
#define RECENT_LINE 384
#define HOP_WINDOW_NS (10 * LL_NS_PER_SEC)
#define KINDS 4096 /* a small cache: kinds that fall out start counting again */
#define MAX_ALIASES 4096
#define MIN_KIND_WITH_ID 5 /* lines of a kind seen with an id before one without counts */

struct recent {
    int64_t ts;
    struct session *s; /* NULL once it closed */
    uint32_t service;
    uint16_t len;
    char line[RECENT_LINE];
};

struct kind {
    uint64_t key; /* 0: empty */
    uint32_t with, without;
};

struct alias {
    uint64_t hash;
    char *from, *to;
    uint16_t from_len, to_len;
};

static struct ll_str alias_key(const void *p)
{
    const struct alias *a = p;
    return (struct ll_str){a->from, a->from_len};
}

static void recent_add(struct ll_correlator *c, struct session *s, uint32_t service,
                       const struct ll_event *ev)
{
    struct recent *r = &c->recent[c->recent_next++ % RECENT];
    struct ll_str line = cut(ev->line, RECENT_LINE);
    r->ts = ev->ts_ns;
    r->s = s;
    r->service = service;
    r->len = (uint16_t)line.len;
    if (line.len)
        memcpy(r->line, line.ptr, line.len);
    s->recent_seq = (uint32_t)c->recent_next;
}

/* A session closes: no ring entry may name it after. Most have left the
 * ring long before (it holds the last RECENT lines). */
static void recent_forget(struct ll_correlator *c, const struct session *s)
{
    if (!s->recent_seq || (uint32_t)c->recent_next - s->recent_seq >= RECENT)
        return;
    for (size_t i = 0; i < RECENT; i++)
        if (c->recent[i].s == s)
            c->recent[i].s = NULL;
}

/* Whether line @p r holds @p v as a whole JSON string value: "v". */
static bool names_value(const struct recent *r, struct ll_str v)
{
    if (!v.len || v.len + 2 > r->len)
        return false;
    for (const char *p = r->line, *end = r->line + r->len - v.len - 1;
         (p = memchr(p, '"', (size_t)(end - p))) != NULL; p++)
        if (memcmp(p + 1, v.ptr, v.len) == 0 && p[v.len + 1] == '"' &&
            (p == r->line || p[-1] == ':' || p[-1] == ' ' || p[-1] == ',' || p[-1] == '['))
            return true;
    return false;
}

/* The string values of a JSON line without escapes in them, at most @p max. */
static size_t line_values(struct ll_str line, struct ll_str *out, size_t max)
{
    size_t n = 0;
    const char *p = line.ptr, *end = line.ptr + line.len;
    while (n < max && p + 2 < end && (p = memchr(p, ':', (size_t)(end - p))) != NULL) {
        p++;
        while (p < end && *p == ' ')
            p++;
        if (p >= end || *p != '"')
            continue;
        const char *v = ++p;
        while (p < end && *p != '"' && *p != '\\')
            p++;
        if (p < end && *p == '"')
            out[n++] = (struct ll_str){v, (size_t)(p - v)};
    }
    return n;
}

static bool has_service(const struct session *s, uint32_t service)
{
    for (uint32_t i = 0; i < s->n_svcs; i++)
        if (s->svcs[i].name == service)
            return true;
    return false;
}

/* The kind of @p ev (its service and message), counted as with an id or
 * not; @returns it as it was before this line. */
static struct kind kind_count(struct ll_correlator *c, uint32_t service,
                              const struct ll_event *ev, bool with_id)
{
    struct ll_str msg = ev->msg.len ? ev->msg : ev->err_msg;
    if (!msg.len || (ev->flags & LL_EV_RAW))
        return (struct kind){0};
    /* Cheap, as it runs for every line: the length, the first and last
     * eight bytes; messages alike there are one kind. */
    uint64_t head = 0, tail = 0;
    memcpy(&head, msg.ptr, msg.len < 8 ? msg.len : 8);
    memcpy(&tail, msg.ptr + (msg.len > 8 ? msg.len - 8 : 0), msg.len < 8 ? msg.len : 8);
    uint64_t key = ((head * 0x9E3779B97F4A7C15ULL) ^ (tail * 0xC2B2AE3D27D4EB4FULL) ^
                    ((uint64_t)service << 32 | msg.len)) | 1;
    key ^= key >> 29;
    /* Four slots a kind may take; a new one replaces the least seen. */
    struct kind *k = NULL, *least = NULL;
    for (size_t i = 0; i < 4 && !k; i++) {
        struct kind *x = &c->kinds[(key + i) % KINDS];
        if (x->key == key)
            k = x;
        else if (!least || x->with + x->without < least->with + least->without)
            least = x;
    }
    if (!k) {
        k = least;
        *k = (struct kind){.key = key};
    }
    struct kind before = *k;
    if (with_id)
        k->with++;
    else
        k->without++;
    return before;
}

/* Joins @p ev to @p s as linked through @p via. */
static struct ll_str join_lost(struct ll_correlator *c, struct session *s,
                               const struct ll_event *ev, uint32_t source, uint32_t service,
                               const char *via)
{
    struct ll_event linked = *ev;
    linked.flags |= LL_EV_LINKED;
    session_add(c, s, &linked, source, service, via, LL__NAME_NONE, 0);
    return session_id(s);
}

static bool level_name(struct ll_str v)
{
    return ll_level_from_name(v.ptr, v.len) != LL_LEVEL_NONE;
}

/* The values of @p v (@p n of them) that line @p r holds too, beyond the
 * names of services @p a and @p b: a workflow's name, a task. */
static size_t shared_values(const struct recent *r, const struct ll_str *v, size_t n,
                            struct ll_str a, struct ll_str b, struct ll_str *first)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].len >= 6 && !ll_str_eq(v[i], a) && !ll_str_eq(v[i], b) && !level_name(v[i]) &&
            names_value(r, v[i]) && !k++)
            *first = v[i];
    return k;
}

/* The workflow an event of @p service that lost its id belongs to: among
 * the recent events of other workflows, within the window before it, those
 * that @p accept, the one sharing most of its values (the latest on a tie).
 * With no value shared, only a sole candidate within SOLE_WINDOW_NS is
 * taken. @p shared receives the first value the chosen one shares. */
#define SOLE_WINDOW_NS (2 * LL_NS_PER_SEC)

static struct session *lost_from(struct ll_correlator *c, uint32_t service,
                                 const struct ll_event *ev, const struct ll_str *v, size_t nv,
                                 bool (*accept)(struct ll_correlator *, const struct recent *,
                                                uint32_t, const struct ll_str *, size_t),
                                 struct ll_str *shared)
{
    size_t n_cand = 0, best_k = 0;
    struct session *best = NULL, *cand[2];
    int64_t best_ts = 0;
    *shared = LL_STR_NULL;
    for (size_t i = 1; i <= RECENT; i++) {
        struct recent *r = &c->recent[(c->recent_next - i) % RECENT];
        if (!r->s || r->ts > ev->ts_ns || r->service == service)
            continue;
        if (ll_time_add(r->ts, HOP_WINDOW_NS) < ev->ts_ns)
            break;
        if (!accept(c, r, service, v, nv))
            continue;
        if (n_cand < 2 && (!n_cand || cand[0] != r->s))
            cand[n_cand++] = r->s;
        struct ll_str first = LL_STR_NULL;
        size_t k = shared_values(r, v, nv, c->names.v[service].s, c->names.v[r->service].s,
                                 &first);
        if (!best || k > best_k) {
            best = r->s;
            best_k = k;
            best_ts = r->ts;
            *shared = first;
        }
    }
    if (!best || best_k)
        return best;
    return n_cand == 1 && ll_time_add(best_ts, SOLE_WINDOW_NS) >= ev->ts_ns ? best : NULL;
}

/* A call to @p service that has not reached it: a line naming it, of a
 * workflow without events there yet. */
static bool calls(struct ll_correlator *c, const struct recent *r, uint32_t service,
                  const struct ll_str *v, size_t n)
{
    (void)v;
    (void)n;
    return !has_service(r->s, service) && names_value(r, c->names.v[service].s);
}

/* A sender the line names. */
static bool sent(struct ll_correlator *c, const struct recent *r, uint32_t service,
                 const struct ll_str *v, size_t n)
{
    (void)service;
    for (size_t k = 0; k < n; k++)
        if (ll_str_eq(v[k], c->names.v[r->service].s))
            return true;
    return false;
}

/* A new id at @p service: the workflow whose call it continues, or NULL. */
static struct session *minted_from(struct ll_correlator *c, uint32_t service,
                                   const struct ll_event *ev)
{
    const struct ll__name *n = &c->names.v[service];
    if (n->later < 5 || n->first * 20 > n->later)
        return NULL; /* not a service that only joins workflows begun elsewhere */
    struct ll_str v[24], shared;
    size_t nv = line_values(ev->line, v, 24);
    return lost_from(c, service, ev, v, nv, calls, &shared);
}

/* An orphan of a kind that has ids: the workflow it belongs to, or NULL. */
static struct session *renamed_from(struct ll_correlator *c, uint32_t service,
                                    const struct ll_event *ev, struct ll_str *shared)
{
    /* Only a line that names a service logging ids can name its sender. */
    struct ll_str v[24];
    size_t nv = line_values(ev->line, v, 24);
    bool names = false;
    for (size_t k = 0; k < nv && !names; k++) {
        uint32_t id = ll__names_find(&c->names, v[k]);
        names = id != LL__NAME_NONE && id != service && c->names.v[id].with_id;
    }
    if (!names)
        return NULL;
    struct session *s = lost_from(c, service, ev, v, nv, sent, shared);
    return s && shared->len ? s : NULL; /* a sender named is not enough */
}

/* The workflow a minted id @p ev carries continues (already known, or
 * found now), or NULL. */
static struct session *alias_of(struct ll_correlator *c, uint64_t hash, uint32_t service,
                                const struct ll_event *ev)
{
    struct alias *a = ll_idmap_get(&c->aliases, hash, ev->corr_id);
    if (a) {
        struct ll_event to = *ev;
        to.corr_id = (struct ll_str){a->to, a->to_len};
        return find_session(c, id_hash(to.corr_id), &to);
    }
    struct session *s = minted_from(c, service, ev);
    if (!s)
        return NULL;
    if (c->n_aliases == MAX_ALIASES) { /* the oldest goes */
        struct alias *old = c->alias_fifo[c->alias_head];
        ll_idmap_del(&c->aliases, old->hash, old);
        ll_free(old);
        c->alias_head = (c->alias_head + 1) % MAX_ALIASES;
        c->n_aliases--;
    }
    struct ll_str to = session_id(s), from = ev->corr_id;
    a = ll_malloc(sizeof *a + from.len + to.len);
    *a = (struct alias){.hash = hash, .from = (char *)(a + 1), .from_len = (uint16_t)from.len,
                        .to_len = (uint16_t)to.len};
    a->to = a->from + from.len;
    memcpy(a->from, from.ptr, from.len);
    memcpy(a->to, to.ptr, to.len);
    ll_idmap_put(&c->aliases, hash, a);
    c->alias_fifo[(c->alias_head + c->n_aliases++) % MAX_ALIASES] = a;
    return s;
}

/* An event without an id kept for later: its strings after it, the line
 * cut to MAX_LINE (kept if a key claims it). */
static struct pending *pending_make(struct ll_correlator *c, const struct ll_event *ev,
                                    uint32_t source, uint32_t service, uint64_t host)
{
    struct ll_str line = cut(ev->line, MAX_LINE);
    size_t extra = ev->msg.len + ev->err_code.len + ev->conn_id.len + line.len;
    struct pending *p = ll_pool_alloc(&c->pending_pool, sizeof *p + extra);
    struct ll_str msg = ev->msg.len ? ev->msg : ev->err_msg;
    *p = (struct pending){.ts = ev->ts_ns, .pid = ev->pid, .seq = c->pending_seq++,
                          .ev_seq = ev->seq, .offset = ev->pos.offset,
                          .source = source, .service = service, .host = host,
                          .flags = ev->flags, .msg_len = (uint32_t)msg.len,
                          .code_len = (uint32_t)ev->err_code.len,
                          .conn_len = (uint32_t)ev->conn_id.len,
                          .line_len = (uint32_t)line.len,
                          .line_hash = line.len < ev->line.len ? ll_line_hash(ev->line) : 0,
                          .level = ev->level};
    char *d = (char *)(p + 1);
    d = put_str(d, msg);
    d = put_str(d, ev->err_code);
    d = put_str(d, ev->conn_id);
    put_str(d, line);
    return p;
}

/* The event @p p keeps, its strings views into it. */
static struct ll_event pending_event(const struct ll_correlator *c, const struct pending *p)
{
    const char *d = (const char *)(p + 1);
    return (struct ll_event){
        .ts_ns = p->ts,
        .pos = {name_of(c, p->source), p->offset},
        .msg = {d, p->msg_len},
        .err_code = {d + p->msg_len, p->code_len},
        .conn_id = {d + p->msg_len + p->code_len, p->conn_len},
        .line = {d + p->msg_len + p->code_len + p->conn_len, p->line_len},
        .service = name_of(c, p->service),
        .pid = p->pid,
        .flags = p->flags,
        .level = p->level,
        .seq = p->ev_seq,
    };
}

#define MAX_TIMELESS 10000

/* An event push() left waiting has its workflow at last (@p id), or none. */
static void settle(struct ll_correlator *c, uint64_t seq, struct ll_str id)
{
    if (c->out.settled)
        c->out.settled(c->out.ctx, seq, id);
}

/* Pid @p pid was just taught to @p s by @p teacher: the lines without any
 * time waiting for it join there, at the teacher's time. */
static void claim_timeless(struct ll_correlator *c, struct session *s, struct ll_str pid,
                           const struct ll_event *teacher, uint32_t teacher_service)
{
    int64_t v = 0;
    for (size_t i = 0; i < pid.len; i++) {
        if (pid.ptr[i] < '0' || pid.ptr[i] > '9' || i == 18)
            return; /* no pid a file name could give */
        v = v * 10 + (pid.ptr[i] - '0');
    }
    char via[MAX_VIA + 8];
    snprintf(via, sizeof via, "pid:%.*s", (int)pid.len, pid.ptr);
    size_t kept = 0;
    for (size_t i = 0; i < c->n_timeless; i++) {
        struct pending *p = c->timeless[i];
        if (p->pid != v) {
            c->timeless[kept++] = p;
            continue;
        }
        struct ll_event ev = pending_event(c, p);
        ev.ts_ns = teacher->ts_ns;
        ev.pid = 0;
        ev.flags |= LL_EV_LINKED;
        session_add(c, s, &ev, p->source, p->service, via, teacher_service, p->line_hash);
        settle(c, p->ev_seq, session_id(s));
        ll_pool_release(&c->pending_pool, p);
    }
    c->n_timeless = kept;
}

static struct ll_str attach_or_orphan(struct ll_correlator *c, const struct ll_event *ev,
                                      uint32_t source, uint32_t service, uint64_t host,
                                      bool arriving, bool final, uint64_t lh)
{
    char via[MAX_VIA + 8];
    struct link *l = resolve(c, ev, service, host, via, sizeof via);
    if (l) {
        struct ll_event linked = *ev;
        linked.flags |= LL_EV_LINKED;
        session_add(c, l->owner, &linked, source, service, via, l->teacher_service, lh);
        return session_id(l->owner);
    }
    if (arriving) {
        struct kind k = kind_count(c, service, ev, false);
        struct ll_str shared;
        struct session *s = k.with >= MIN_KIND_WITH_ID && k.with >= 4 * k.without
                                ? renamed_from(c, service, ev, &shared)
                                : NULL;
        if (s) {
            snprintf(via, sizeof via, "value %.*s", (int)shared.len, shared.ptr);
            return join_lost(c, s, ev, source, service, via);
        }
    }
    int64_t name_pid;
    if (arriving && ev->ts_ns == 0 && (ev->flags & LL_EV_TIME_INFERRED) &&
        pid_in_name(c->names.v[service].s, &name_pid) && c->n_timeless < MAX_TIMELESS) {
        struct pending *p = pending_make(c, ev, source, service, host);
        p->pid = name_pid;
        LL_GROW(c->timeless, c->n_timeless, c->cap_timeless, 16);
        c->timeless[c->n_timeless++] = p;
        return LL_STR_NULL;
    }
    if (!final) {
        pending_push(c, pending_make(c, ev, source, service, host));
        return LL_STR_NULL;
    }
    count_orphan(c, ev, source, service);
    return LL_STR_NULL;
}

/* Gives every waiting event the watermark has passed its final chance, in
 * event-time order. */
static void drain_pending(struct ll_correlator *c, bool all)
{
    while (c->n_pending && (all || c->pending[0]->ts <= c->wm)) {
        struct pending *p = pending_pop(c);
        struct ll_event ev = pending_event(c, p);
        settle(c, p->ev_seq,
               attach_or_orphan(c, &ev, p->source, p->service, p->host, false, true,
                                p->line_hash));
        ll_pool_release(&c->pending_pool, p);
    }
}

/* ------------------------------------------------------------------------ */
/* Watermark                                                                 */

/* The sources by their newest event, the one furthest behind first; each
 * knows its place (heap_idx) as its newest moves on. */
static bool behind(const struct ll_correlator *c, uint32_t a, uint32_t b)
{
    return c->names.v[a].newest < c->names.v[b].newest;
}

#define SOURCE_PLACED(c, src, i) ((c)->names.v[src].heap_idx = (long)(i))
LL_HEAP(sources, uint32_t, struct ll_correlator *, behind, SOURCE_PLACED)

static void heap_pop(struct ll_correlator *c)
{
    c->names.v[sources_pop(c, c->heap, &c->n_heap)].heap_idx = -1;
}

static int cmp_closing(const void *a, const void *b, void *ctx)
{
    const struct closing *x = a, *y = b;
    if (x->deadline != y->deadline)
        return x->deadline < y->deadline ? -1 : 1;
    const struct sev *ex = &x->s->ev[0], *ey = &y->s->ev[0];
    int r = cmp_pos(ctx, x->s->start, ex->source, ex->offset, y->s->start, ey->source,
                    ey->offset);
    if (r)
        return r;
    struct ll_str ix = session_id(x->s), iy = session_id(y->s);
    size_t n = ix.len < iy.len ? ix.len : iy.len;
    r = n ? memcmp(ix.ptr, iy.ptr, n) : 0;
    return r ? r : (ix.len > iy.len) - (ix.len < iy.len);
}

static void on_timer(void *ctx, struct ll_timer *t)
{
    struct ll_correlator *c = ctx;
    struct session *s = (struct session *)t;
    int64_t d = session_deadline(c, s, NULL);
    if (d >= c->wm) { /* extended since it was armed */
        ll_timerwheel_add(&c->wheel, &s->timer, ll_time_add(d, 1));
        return;
    }
    LL_GROW(c->closing, c->n_closing, c->cap_closing, 64);
    c->closing[c->n_closing++] = (struct closing){s, d};
}

static void expire_tombs(struct ll_correlator *c)
{
    while (c->tomb_head &&
           (c->tomb_head->expire < c->wm || c->tombs.n > c->conf.max_open_timelines))
        tomb_pop(c);
}

/* The watermark moved to @p wm: close what it passed, in a fixed order. */
static void advance(struct ll_correlator *c, int64_t wm)
{
    c->wm = wm;
    if (!c->wheel_ready)
        return;
    /* Waiting events first: they may still join a session about to close;
     * then whoever else keeps state in event time (rules). */
    drain_pending(c, false);
    if (c->conf.on_advance)
        c->conf.on_advance(c->conf.advance_ctx, wm, false);
    ll_timerwheel_advance(&c->wheel, wm, on_timer, c);
    if (c->n_closing) {
        qsort_r(c->closing, c->n_closing, sizeof *c->closing, cmp_closing, c);
        for (size_t i = 0; i < c->n_closing; i++) {
            enum ll_tl_reason why;
            session_deadline(c, c->closing[i].s, &why);
            session_close(c, c->closing[i].s, why);
        }
        c->n_closing = 0;
    }
    expire_tombs(c);
}

/* A source delivered an event at @p ts: update its watermark, retire sources
 * that went idle, and move the pipeline watermark if it rose. */
static void source_seen(struct ll_correlator *c, uint32_t src, int64_t ts)
{
    struct ll__name *n = &c->names.v[src];
    if (ts > n->newest)
        n->newest = ts;
    if (n->heap_idx < 0)
        sources_push(c, &c->heap, &c->n_heap, &c->cap_heap, src);
    else
        sources_down(c, c->heap, c->n_heap, (size_t)n->heap_idx);
    if (ts > c->newest)
        c->newest = ts;
    while (c->n_heap > 1 &&
           c->names.v[c->heap[0]].newest < ll_time_sub(c->newest, c->conf.idle_timeout_ns))
        heap_pop(c);
    int64_t low = c->names.v[c->heap[0]].newest;
    int64_t wm = ll_time_sub(low, c->conf.allowed_lateness_ns);
    if (!c->wheel_ready) {
        ll_timerwheel_init(&c->wheel, wm, LL_NS_PER_MS);
        c->wheel_ready = true;
        c->wm = wm;
    } else if (wm > c->wm) {
        advance(c, wm);
    }
}

/* ------------------------------------------------------------------------ */
/* API                                                                       */

ll_correlator *ll_correlator_new(const struct ll_corr_conf *conf,
                                 const struct ll_corr_out *out)
{
    ll_correlator *c = ll_calloc(1, sizeof *c);
    if (conf)
        c->conf = *conf;
    struct ll_corr_conf *k = &c->conf;
    k->session_gap_ns = k->session_gap_ns > 0 ? k->session_gap_ns : LL_CORR_SESSION_GAP_NS;
    k->allowed_lateness_ns = k->allowed_lateness_ns == 0   ? LL_CORR_ALLOWED_LATENESS_NS
                             : k->allowed_lateness_ns < 0 ? 0
                                                          : k->allowed_lateness_ns;
    k->idle_timeout_ns = k->idle_timeout_ns > 0 ? k->idle_timeout_ns : LL_CORR_IDLE_TIMEOUT_NS;
    k->max_span_ns = k->max_span_ns > 0 ? k->max_span_ns : LL_CORR_MAX_SPAN_NS;
    k->max_events = k->max_events ? k->max_events : LL_CORR_MAX_EVENTS;
    k->max_events_kept = k->max_events_kept ? k->max_events_kept : LL_CORR_MAX_EVENTS_KEPT;
    if (k->max_events_kept < 2)
        k->max_events_kept = 2;
    k->max_open_timelines = k->max_open_timelines ? k->max_open_timelines : LL_CORR_MAX_OPEN;
    k->max_msg_bytes = k->max_msg_bytes ? k->max_msg_bytes : LL_CORR_MAX_MSG_BYTES;
    if (k->max_msg_bytes > UINT16_MAX)
        k->max_msg_bytes = UINT16_MAX;
    c->out = *out;
    ll_idmap_init(&c->sessions, 1024, session_key);
    ll_idmap_init(&c->links, 256, link_key);
    ll_idmap_init(&c->tombs, 1024, tomb_key);
    ll_idmap_init(&c->aliases, 64, alias_key);
    c->alias_fifo = ll_calloc(MAX_ALIASES, sizeof *c->alias_fifo);
    c->recent = ll_calloc(RECENT, sizeof *c->recent);
    c->kinds = ll_calloc(KINDS, sizeof *c->kinds);
    ll__names_init(&c->names);
    c->wm = LL_TIME_NONE;
    c->newest = INT64_MIN;
    return c;
}

struct ll_str ll_correlator_push(ll_correlator *c, const struct ll_event *ev)
{
    /* A session keeps 64 KiB of its id; a longer one is cut here, once, so
     * that every lookup hashes and compares what the session stored. */
    struct ll_event cut_id;
    if (ev->corr_id.len > UINT16_MAX) {
        cut_id = *ev;
        cut_id.corr_id = cut(ev->corr_id, UINT16_MAX);
        ev = &cut_id;
    }
    uint32_t source = ll__names_intern(&c->names, ev->pos.source, &c->cache_source);
    source_seen(c, source, ev->ts_ns);
    uint32_t service = ll__names_intern(&c->names, ev->service, &c->cache_service);
    uint64_t host = host_of(ev);
    if (!ev->corr_id.len) {
        struct ll_str joined =
            attach_or_orphan(c, ev, source, service, host, true, ev->ts_ns <= c->wm, 0);
        if (!joined.len && ev->ts_ns <= c->wm)
            settle(c, ev->seq, joined); /* an orphan at once */
        return joined;
    }
    c->names.v[service].with_id++;
    kind_count(c, service, ev, true);
    if (c->n_open >= c->conf.max_open_timelines)
        eviction_ahead(c);
    uint64_t hash = id_hash(ev->corr_id);
    struct session *s = find_session(c, hash, ev);
    if (!s) {
        struct tomb *t = ll_idmap_get(&c->tombs, hash, ev->corr_id);
        int64_t gap = c->conf.session_gap_ns;
        if (t && !t->cap && ev->ts_ns <= ll_time_add(t->end, gap) &&
            ev->ts_ns >= ll_time_sub(t->start, gap)) {
            emit_late(c, ev, t->tl_id, source, service);
            return ev->corr_id;
        }
        if (ll_time_add(ev->ts_ns, gap) < c->wm) { /* its session would be closed already */
            emit_late(c, ev, 0, source, service);
            return ev->corr_id;
        }
        /* A new id: perhaps minted by a callee that was sent none. */
        struct session *to = alias_of(c, hash, service, ev);
        if (to) {
            char via[MAX_VIA + 8];
            snprintf(via, sizeof via, "new id %.*s", (int)ev->corr_id.len, ev->corr_id.ptr);
            return join_lost(c, to, ev, source, service, via);
        }
        s = session_new(c, hash, ev, sev_size(c, ev));
    }
    session_add(c, s, ev, source, service, NULL, LL__NAME_NONE, 0);
    learn_links(c, s, ev, source, service, host);
    recent_add(c, s, service, ev);
    return ev->corr_id;
}

/* A session's first kept event, copied out: sorting a million open
 * sessions compares these without reading the sessions themselves. */
struct start_key {
    int64_t ts;
    uint64_t offset;
    uint32_t source;
    struct session *s;
};

static int cmp_start(const void *a, const void *b, void *ctx)
{
    const struct start_key *x = a, *y = b;
    return cmp_pos(ctx, x->ts, x->source, x->offset, y->ts, y->source, y->offset);
}

/* Every open session, from the id map and its chains; @p n receives the
 * count. The caller frees the array. */
static struct session **all_sessions(const struct ll_correlator *c, size_t *n)
{
    struct session **all = ll_calloc(c->n_open ? c->n_open : 1, sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < c->sessions.n_slots; i++)
        for (struct session *s = c->sessions.slots[i].p; s; s = s->older)
            all[k++] = s;
    *n = k;
    return all;
}

void ll_correlator_flush(ll_correlator *c)
{
    drain_pending(c, true);
    for (size_t i = 0; i < c->n_timeless; i++) { /* their pid was never taught */
        struct ll_event ev = pending_event(c, c->timeless[i]);
        ev.pid = 0;
        count_orphan(c, &ev, c->timeless[i]->source, c->timeless[i]->service);
        settle(c, c->timeless[i]->ev_seq, LL_STR_NULL);
        ll_pool_release(&c->pending_pool, c->timeless[i]);
    }
    c->n_timeless = 0;
    if (c->conf.on_advance)
        c->conf.on_advance(c->conf.advance_ctx, INT64_MAX, true);
    size_t n;
    struct session **all = all_sessions(c, &n);
    struct start_key *keys = ll_calloc(n ? n : 1, sizeof *keys);
    for (size_t i = 0; i < n; i++)
        keys[i] = (struct start_key){all[i]->ev[0].ts, all[i]->ev[0].offset,
                                     all[i]->ev[0].source, all[i]};
    ll_free(all);
    qsort_r(keys, n, sizeof *keys, cmp_start, c);
    for (size_t i = 0; i < n; i++)
        session_close(c, keys[i].s, LL_TL_CLOSED_END);
    ll_free(keys);
}

uint64_t ll_correlator_note_alert(ll_correlator *c, struct ll_str corr_id, int64_t ts,
                                  uint64_t alert_id)
{
    if (!corr_id.len)
        return 0;
    corr_id = cut(corr_id, UINT16_MAX); /* as ll_correlator_push() keeps it */
    struct session *s = ll_idmap_get(&c->sessions, id_hash(corr_id), corr_id);
    while (s && !joinable(c, s, ts))
        s = s->older;
    if (!s)
        return 0;
    for (uint32_t i = 0; i < s->n_alerts; i++)
        if (s->alerts[i] == alert_id)
            return session_tl_id(s);
    s->alerts = ll_reallocarray(s->alerts, s->n_alerts + 1, sizeof *s->alerts);
    s->alerts[s->n_alerts++] = alert_id;
    return session_tl_id(s);
}

int64_t ll_correlator_watermark(const ll_correlator *c)
{
    return c->wm;
}

size_t ll_correlator_open_count(const ll_correlator *c)
{
    return c->n_open;
}

size_t ll_correlator_kept_bytes(const ll_correlator *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->sessions.n_slots; i++)
        for (const struct session *s = c->sessions.slots[i].p; s; s = s->older)
            n += s->n_kept * sizeof *s->ev + (s->buf_len - s->garbage);
    return n;
}

void ll_correlator_stats(const ll_correlator *c, struct ll_stats *st)
{
    st->timelines += c->timelines;
    st->orphans += c->orphans;
    st->linked += c->linked;
    st->late += c->late;
    st->evicted += c->evicted;
    if (c->open_max > st->open_max)
        st->open_max = c->open_max;
}

static int cmp_orphans(const void *a, const void *b)
{
    const struct ll_orphans *x = a, *y = b;
    size_t n = x->service.len < y->service.len ? x->service.len : y->service.len;
    int r = n ? memcmp(x->service.ptr, y->service.ptr, n) : 0;
    return r ? r : (x->service.len > y->service.len) - (x->service.len < y->service.len);
}

const struct ll_orphans *ll_correlator_orphans(ll_correlator *c, size_t *n)
{
    c->o_orph = ll_reallocarray(c->o_orph, c->names.n ? c->names.n : 1, sizeof *c->o_orph);
    size_t k = 0;
    for (size_t i = 0; i < c->names.n; i++) {
        const struct ll__name *nm = &c->names.v[i];
        if (!nm->orphans)
            continue;
        struct ll_orphans *o = &c->o_orph[k++];
        *o = (struct ll_orphans){.service = nm->s, .n = nm->orphans, .n_with_id = nm->with_id,
                                 .first_ns = nm->orphan_first, .last_ns = nm->orphan_last,
                                 .n_examples = nm->n_examples};
        for (size_t e = 0; e < nm->n_examples; e++)
            o->examples[e] = (struct ll_pos){name_of(c, nm->examples[e].source),
                                             nm->examples[e].offset};
    }
    qsort(c->o_orph, k, sizeof *c->o_orph, cmp_orphans);
    *n = k;
    return c->o_orph;
}

void ll_correlator_destroy(ll_correlator *c)
{
    if (!c)
        return;
    size_t n;
    struct session **all = all_sessions(c, &n);
    for (size_t i = 0; i < n; i++) {
        struct session *s = all[i];
        while (s->links) {
            struct link *l = s->links;
            link_unown(l);
            ll_blocks_put(&c->blocks, l, sizeof *l + l->len);
        }
        session_free(c, s);
    }
    ll_free(all);
    for (struct tomb *t = c->tomb_head; t;) {
        struct tomb *next = t->fifo_next;
        ll_blocks_put(&c->blocks, t, sizeof *t + t->len);
        t = next;
    }
    ll_idmap_free(&c->sessions);
    ll_idmap_free(&c->links);
    ll_idmap_free(&c->tombs);
    for (size_t i = 0; i < c->n_aliases; i++)
        ll_free(c->alias_fifo[(c->alias_head + i) % MAX_ALIASES]);
    ll_idmap_free(&c->aliases);
    ll_free(c->alias_fifo);
    ll_free(c->recent);
    ll_free(c->kinds);
    for (size_t i = 0; i < c->n_timeless; i++)
        ll_pool_release(&c->pending_pool, c->timeless[i]);
    ll_free(c->timeless);
    ll__names_free(&c->names);
    while (c->n_pending)
        ll_pool_release(&c->pending_pool, pending_pop(c));
    ll_pool_free(&c->pending_pool);
    ll_free(c->pending);
    ll_free(c->heap);
    ll_free(c->closing);
    ll_free(c->o_ev);
    ll_free(c->o_svc);
    ll_free(c->o_hop);
    ll_free(c->o_orph);
    ll_blocks_free(&c->blocks);
    ll_free(c);
}

uint64_t ll_correlator_oldest_seq(const ll_correlator *c)
{
    uint64_t oldest = UINT64_MAX;
    for (size_t i = 0; i < c->sessions.n_slots; i++)
        for (const struct session *s = c->sessions.slots[i].p; s; s = s->older)
            if (s->seq_first && s->seq_first < oldest)
                oldest = s->seq_first;
    for (size_t i = 0; i < c->n_pending; i++)
        if (c->pending[i]->ev_seq && c->pending[i]->ev_seq < oldest)
            oldest = c->pending[i]->ev_seq;
    return oldest;
}

void ll_correlator_tick(ll_correlator *c, int64_t now)
{
    if (!c->wheel_ready || now <= c->newest)
        return;
    c->newest = now;
    /* Every source quiet since before now - idle_timeout stops holding the
     * watermark back; if all are, nothing does. */
    while (c->n_heap && c->names.v[c->heap[0]].newest < ll_time_sub(now, c->conf.idle_timeout_ns))
        heap_pop(c);
    int64_t low = c->n_heap ? c->names.v[c->heap[0]].newest : now;
    int64_t wm = ll_time_sub(low, c->conf.allowed_lateness_ns);
    if (wm > c->wm)
        advance(c, wm);
}
