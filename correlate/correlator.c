/* Timelines keyed by correlation id, in event time.
 *
 * A session is an open timeline: the events of one correlation id no more
 * than session_gap apart. Sessions of an id are chained newest first from
 * one slot of an id map; an event joins every session whose window it falls
 * in (merging them when it bridges two), or starts a new one. Each session
 * has an intrusive timer in a wheel driven by the watermark; extending a
 * session leaves its timer alone, and a timer that fires early is re-armed
 * (lazy extension, O(1) per event). A session's storage is session.c's.
 *
 * Link keys (child pid, connection id) map to the session that taught them
 * and die with it. A key seen with two workflows is ambiguous and never
 * used; a pid learnt from a line's own "pid" is not used for lines of the
 * same service (a long-lived process logs its own pid on every line).
 * Events without an id that no key claims wait in a FIFO until the
 * watermark passes them, so a child that logs before its parent's spawn
 * line still finds its workflow. */
#include "corr_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Sessions                                                                  */

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
        ll__corr_session_close(c, s, LL_TL_CLOSED_EVICTED);
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

/* The open session @p ev belongs to (merging sessions it bridges), or NULL. */
struct session *ll__corr_find_session(struct ll_correlator *c, uint64_t hash,
                                      const struct ll_event *ev)
{
    struct session *joined = NULL;
    struct session *s = ll_idmap_get(&c->sessions, hash, ev->corr_id);
    while (s) {
        struct session *older = s->older;
        if (ll__corr_joinable(c, s, ev->ts_ns)) {
            if (!joined)
                joined = s;
            else
                ll__corr_session_merge(c, joined, s);
        }
        s = older;
    }
    if (joined && joined->n_events >= c->conf.max_events) {
        ll__corr_session_close(c, joined, LL_TL_CLOSED_EVENTS);
        joined = NULL;
    }
    return joined;
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
        ll__corr_tomb_pop(c);
}

/* The watermark moved: waiting events first, as they may still join a
 * session about to close. */
void ll_correlator_advance(ll_correlator *c, int64_t wm)
{
    c->wm = wm;
    if (c->wheel_ready)
        ll__corr_drain_pending(c, false);
}

/* Then what it passed closes, in a fixed order. */
void ll_correlator_close_passed(ll_correlator *c)
{
    if (!c->wheel_ready)
        return;
    ll_timerwheel_advance(&c->wheel, c->wm, on_timer, c);
    if (c->n_closing) {
        qsort_r(c->closing, c->n_closing, sizeof *c->closing, cmp_closing, c);
        for (size_t i = 0; i < c->n_closing; i++) {
            enum ll_tl_reason why;
            session_deadline(c, c->closing[i].s, &why);
            ll__corr_session_close(c, c->closing[i].s, why);
        }
        c->n_closing = 0;
    }
    expire_tombs(c);
}

/* A source delivered an event at @p ts: update its watermark and retire
 * sources that went idle. @returns the pipeline's watermark if it rose. */
static int64_t source_seen(struct ll_correlator *c, uint32_t src, int64_t ts)
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
    }
    return wm > c->wm ? wm : LL_TIME_NONE;
}

/* The three steps with nothing between them. */
static void advance(struct ll_correlator *c, int64_t wm)
{
    if (wm == LL_TIME_NONE)
        return;
    ll_correlator_advance(c, wm);
    ll_correlator_close_passed(c);
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
    ll__corr_lost_init(c);
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
    advance(c, source_seen(c, source, ev->ts_ns));
    uint32_t service = ll__names_intern(&c->names, ev->service, &c->cache_service);
    uint64_t host = host_of(ev);
    if (!ev->corr_id.len) {
        struct ll_str joined =
            ll__corr_attach_or_orphan(c, ev, source, service, host, true, ev->ts_ns <= c->wm, 0);
        if (!joined.len && ev->ts_ns <= c->wm)
            ll__corr_settle(c, ev->seq, joined); /* an orphan at once */
        return joined;
    }
    c->names.v[service].with_id++;
    ll__corr_kind_count(c, service, ev, true);
    if (c->n_open >= c->conf.max_open_timelines)
        eviction_ahead(c);
    uint64_t hash = id_hash(ev->corr_id);
    struct session *s = ll__corr_find_session(c, hash, ev);
    if (!s) {
        struct tomb *t = ll_idmap_get(&c->tombs, hash, ev->corr_id);
        int64_t gap = c->conf.session_gap_ns;
        if (t && !t->cap && ev->ts_ns <= ll_time_add(t->end, gap) &&
            ev->ts_ns >= ll_time_sub(t->start, gap)) {
            ll__corr_emit_late(c, ev, t->tl_id, source, service);
            return ev->corr_id;
        }
        if (ll_time_add(ev->ts_ns, gap) < c->wm) { /* its session would be closed already */
            ll__corr_emit_late(c, ev, 0, source, service);
            return ev->corr_id;
        }
        /* A new id: perhaps minted by a callee that was sent none. */
        struct ll_str known;
        struct session *to = ll__corr_alias_of(c, hash, service, ev, &known);
        if (known.len) {
            struct ll_event aliased = *ev;
            aliased.corr_id = known;
            to = ll__corr_find_session(c, id_hash(known), &aliased);
        }
        if (to) {
            char via[MAX_VIA + 8];
            snprintf(via, sizeof via, "new id %.*s", (int)ev->corr_id.len, ev->corr_id.ptr);
            return ll__corr_join_lost(c, to, ev, source, service, via);
        }
        s = session_new(c, hash, ev, ll__corr_sev_size(c, ev));
    }
    ll__corr_session_add(c, s, ev, source, service, NULL, LL__NAME_NONE, 0);
    struct taught taught;
    ll__corr_learn_links(c, s, ev, source, service, host, &taught);
    for (size_t i = 0; i < taught.n; i++)
        ll__corr_claim_timeless(c, s, (struct ll_str){taught.pid[i], taught.len[i]}, ev,
                                service);
    ll__corr_recent_add(c, s, service, ev);
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

int64_t ll_correlator_observe(ll_correlator *c, const struct ll_event *ev)
{
    uint32_t source = ll__names_intern(&c->names, ev->pos.source, &c->cache_source);
    return source_seen(c, source, ev->ts_ns);
}

void ll_correlator_settle_all(ll_correlator *c)
{
    ll__corr_drain_pending(c, true);
    for (size_t i = 0; i < c->n_timeless; i++) { /* their pid was never taught */
        struct ll_event ev = ll__corr_pending_event(c, c->timeless[i]);
        ev.pid = 0;
        ll__corr_count_orphan(c, &ev, c->timeless[i]->source, c->timeless[i]->service);
        ll__corr_settle(c, c->timeless[i]->ev_seq, LL_STR_NULL);
        ll_pool_release(&c->pending_pool, c->timeless[i]);
    }
    c->n_timeless = 0;
}

void ll_correlator_close_all(ll_correlator *c)
{
    size_t n;
    struct session **all = all_sessions(c, &n);
    struct start_key *keys = ll_calloc(n ? n : 1, sizeof *keys);
    for (size_t i = 0; i < n; i++)
        keys[i] = (struct start_key){all[i]->ev[0].ts, all[i]->ev[0].offset,
                                     all[i]->ev[0].source, all[i]};
    ll_free(all);
    qsort_r(keys, n, sizeof *keys, cmp_start, c);
    for (size_t i = 0; i < n; i++)
        ll__corr_session_close(c, keys[i].s, LL_TL_CLOSED_END);
    ll_free(keys);
}

void ll_correlator_flush(ll_correlator *c)
{
    ll_correlator_settle_all(c);
    ll_correlator_close_all(c);
}

uint64_t ll_correlator_note_alert(ll_correlator *c, struct ll_str corr_id, int64_t ts,
                                  uint64_t alert_id)
{
    if (!corr_id.len)
        return 0;
    corr_id = cut(corr_id, UINT16_MAX); /* as ll_correlator_push() keeps it */
    struct session *s = ll_idmap_get(&c->sessions, id_hash(corr_id), corr_id);
    while (s && !ll__corr_joinable(c, s, ts))
        s = s->older;
    if (!s)
        return 0;
    for (uint32_t i = 0; i < s->n_alerts; i++)
        if (s->alerts[i] == alert_id)
            return ll__corr_session_tl_id(s);
    s->alerts = ll_reallocarray(s->alerts, s->n_alerts + 1, sizeof *s->alerts);
    s->alerts[s->n_alerts++] = alert_id;
    return ll__corr_session_tl_id(s);
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
            ll__corr_link_unown(l);
            ll_blocks_put(&c->blocks, l, sizeof *l + l->len);
        }
        ll__corr_session_free(c, s);
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
    ll__corr_lost_free(c);
    for (size_t i = 0; i < c->n_timeless; i++)
        ll_pool_release(&c->pending_pool, c->timeless[i]);
    ll_free(c->timeless);
    ll__names_free(&c->names);
    while (c->n_pending)
        ll_pool_release(&c->pending_pool, ll__corr_pending_pop(c));
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

int64_t ll_correlator_quiet(ll_correlator *c, int64_t now)
{
    if (!c->wheel_ready || now <= c->newest)
        return LL_TIME_NONE;
    c->newest = now;
    /* Every source quiet since before now - idle_timeout stops holding the
     * watermark back; if all are, nothing does. */
    while (c->n_heap && c->names.v[c->heap[0]].newest < ll_time_sub(now, c->conf.idle_timeout_ns))
        heap_pop(c);
    int64_t low = c->n_heap ? c->names.v[c->heap[0]].newest : now;
    int64_t wm = ll_time_sub(low, c->conf.allowed_lateness_ns);
    return wm > c->wm ? wm : LL_TIME_NONE;
}

void ll_correlator_tick(ll_correlator *c, int64_t now)
{
    advance(c, ll_correlator_quiet(c, now));
}
