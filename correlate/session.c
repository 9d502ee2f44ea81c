/* A session's storage: its kept events (compact records whose strings
 * live in one buffer per session; past max_events_kept the first half stays
 * and the rest is a ring of the newest), the services it saw, its deadline
 * and timer, and the id chain it hangs from. Adding an event, merging two
 * sessions and freeing one happen here; which session an event joins is
 * the correlator's. */
#include "corr_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Session storage                                                           */

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

/* String bytes make_sev() will store for @p ev (via excluded: events with an
 * id have none). */
size_t ll__corr_sev_size(const struct ll_correlator *c, const struct ll_event *ev)
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

/* Arms the timer if the deadline came closer; a later deadline is found
 * when the timer fires (lazy extension). */
static void session_rearm(struct ll_correlator *c, struct session *s)
{
    int64_t d = ll_time_add(session_deadline(c, s, NULL), 1); /* once the watermark passes it */
    if (!ll_timer_armed(&s->timer) || d < ll_timer_deadline(&s->timer))
        ll_timerwheel_add(&c->wheel, &s->timer, d);
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

void ll__corr_session_free(struct ll_correlator *c, struct session *s)
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
void ll__corr_session_add(struct ll_correlator *c, struct session *s, const struct ll_event *ev,
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

/* Unhooks @p s from its id chain. */
void ll__corr_chain_remove(struct ll_correlator *c, struct session *s)
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
void ll__corr_session_merge(struct ll_correlator *c, struct session *into, struct session *from)
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
        ll__corr_link_unown(l);
        ll__corr_link_own(l, into);
    }
    ll_timerwheel_del(&c->wheel, &from->timer);
    ll__corr_chain_remove(c, from);
    c->n_open--;
    ll__corr_session_free(c, from);
    session_rearm(c, into);
}
