/* The stateful engine: alerts in event time.
 *
 * push() keeps a copy of each matched step (a "match": time, position, key,
 * summary, evidence line) in a heap. advance() takes the matches the
 * watermark has passed, in event-time order (time, then rule and step, then
 * line content, then position: never the order lines arrived in, nor where
 * they were read; a line never answers itself), and runs each rule kind's
 * small state machine:
 *
 *   match      every match raises (or extends) an alert;
 *   threshold  N matches of a key within a window;
 *   sequence   steps A, B, ... of a key in order within a window;
 *   absence    A not followed by B of the same key within a window, or
 *              before an "until" event of the same scope plus a grace;
 *   timeline   a predicate on a closed workflow (ll_rule_engine_timeline).
 *
 * An alert is itself a session: matches of the same rule and key no more
 * than "suppress" apart fold into it (count, last_seen, evidence). It is
 * emitted when the watermark passes its last match plus suppress, or at the
 * end. Because everything runs in event order, the same input gives the
 * same alerts and ids whatever order events arrived in within the lateness.
 *
 * Live (the daemon), an alert is written the moment it opens and again as
 * it grows (at most once a second each, and once more when it closes), so
 * sinks upsert it as it happens. Matches of rules without a window do not
 * wait for the watermark: they are held for a short while (match_hold) in
 * event-time order, so that lines of one instant that arrive a little out
 * of order (from two processes' buffers) still open the alert on the same
 * line, with the same id, as replay.
 */
#include "rules_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EVIDENCE 5
#define MAX_LINE 2048
#define MAX_PENDING_ABSENCE 100000
#define MAX_AFFECTED 1000 /* correlation ids an alert names as its blast radius */

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

static struct ll_str m_key(const struct match *m)
{
    return (struct ll_str){m->data, m->key_len};
}

static struct ll_str m_corr(const struct match *m)
{
    return (struct ll_str){m->data + m->key_len, m->corr_len};
}

static struct ll_str m_svc(const struct match *m)
{
    return (struct ll_str){m->data + m->key_len + m->corr_len, m->svc_len};
}

static struct ll_str m_scope(const struct match *m)
{
    return (struct ll_str){m->data + m->key_len + m->corr_len + m->svc_len, m->scope_len};
}

static struct ll_str m_summary(const struct match *m)
{
    return (struct ll_str){m->data + m->key_len + m->corr_len + m->svc_len + m->scope_len,
                           m->sum_len};
}

static struct ll_str m_line(const struct match *m)
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

static struct ll_str alert_key(const void *p)
{
    const struct alert *a = p;
    return (struct ll_str){a->map_key, a->map_key_len};
}

static struct ll_str keystate_key(const void *p)
{
    const struct keystate *k = p;
    return (struct ll_str){k->map_key, k->map_key_len};
}

/* "<rule index>\x1f<key>" */
static size_t map_key(uint32_t rule, struct ll_str key, char *out, size_t size)
{
    int n = snprintf(out, size, "%u\x1f%.*s", rule, (int)key.len, key.ptr);
    return (size_t)n < size ? (size_t)n : size - 1;
}

/* ------------------------------------------------------------------------ */
/* Building a match                                                          */

/* Fields of one matched event, with the raw line read again (once, by the
 * caller's ll_rule_out.lazy) for the json.* paths that only summaries and
 * keys read. */
struct view {
    ll_rule_engine *e;
    const struct ll_event *ev;
    struct ll_event lazy; /* its extra values are the lazy paths */
    bool parsed, ok;
};

static struct ll__fval lazy_value(struct view *w, uint16_t i)
{
    if (!w->parsed) {
        w->parsed = true;
        w->ok = w->e->out.lazy && !(w->ev->flags & LL_EV_RAW) &&
                w->e->out.lazy(w->e->out.ctx, w->ev, &w->lazy);
    }
    if (!w->ok || i >= w->lazy.n_extra)
        return (struct ll__fval){0};
    const struct ll_value *v = &w->lazy.extra[i];
    if (v->type != LL_V_STRING && v->type != LL_V_NUMBER && v->type != LL_V_BOOL)
        return (struct ll__fval){0};
    return (struct ll__fval){.s = v->s, .present = true};
}

static struct ll__fval field(struct view *w, struct ll__fref f, char *scratch, size_t size)
{
    if (f.kind == FK_LAZY)
        return lazy_value(w, f.index);
    return ll__field_event(w->ev, f, scratch, size);
}

static void append_field(struct ll_buf *b, struct view *w, struct ll__fref f)
{
    char scratch[32];
    struct ll__fval v = field(w, f, scratch, sizeof scratch);
    if (v.present)
        ll_buf_append(b, v.s.ptr, v.s.len);
    else
        ll_buf_putc(b, '-');
}

/* The key of a step: its fields joined, or the correlation id (else the
 * service) when the rule names none. */
static void step_key(struct ll_buf *b, struct view *w, const struct ll__fref *key, size_t n)
{
    const struct ll_event *ev = w->ev;
    if (!n) {
        ll_buf_append(b, ev->corr_id.len ? ev->corr_id.ptr : ev->service.ptr,
                      ev->corr_id.len ? ev->corr_id.len : ev->service.len);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            ll_buf_putc(b, '\x1f');
        append_field(b, w, key[i]);
    }
}

/* Appends field @p f of @p subject; false (nothing appended) if absent. */
typedef bool tpl_field_fn(struct ll_buf *b, const void *subject, struct ll__fref f);

/* A rule's summary: "{a|b}" is the first of the alternatives present, else
 * "-"; an optional section is left out when a field in it is absent. */
static void render(struct ll_buf *b, const struct ll__rule *r, tpl_field_fn *field_of,
                   const void *subject)
{
    size_t start = b->len, mark = 0;
    bool in_section = false, missing = false;
    for (size_t i = 0; i < r->n_tpl; i++) {
        const struct ll__tpl_part *p = &r->tpl[i];
        size_t k = 0;
        switch (p->kind) {
        case TPL_TEXT: ll_buf_append(b, p->text.ptr, p->text.len); break;
        case TPL_OPEN:
            mark = b->len;
            in_section = true;
            missing = false;
            break;
        case TPL_CLOSE:
            if (missing)
                b->len = mark;
            in_section = false;
            break;
        default:
            while (k < p->n_f && !field_of(b, subject, p->f[k]))
                k++;
            if (k == p->n_f && in_section)
                missing = true;
            else if (k == p->n_f)
                ll_buf_putc(b, '-');
        }
    }
    if (!r->n_tpl)
        ll_buf_puts(b, r->title);
    /* A NUL from a JSON "\u0000" would end the summary wherever it is kept
     * as a C string: show it as U+FFFD. */
    for (size_t i = start; i < b->len; i++)
        if (b->data[i] == '\0') {
            struct ll_buf rest = {0};
            ll_buf_append(&rest, b->data + i + 1, b->len - i - 1);
            b->len = i;
            ll_buf_append(b, "\xEF\xBF\xBD", 3);
            ll_buf_append(b, rest.data ? rest.data : "", rest.len);
            ll_buf_free(&rest);
            i += 2;
        }
}

static bool event_field(struct ll_buf *b, const void *subject, struct ll__fref f)
{
    char scratch[32];
    struct ll__fval v = field((struct view *)subject, f, scratch, sizeof scratch);
    if (v.present)
        ll_buf_append(b, v.s.ptr, v.s.len);
    return v.present;
}

/* Timeline field @p f as text (lists joined with ", "); false if absent. */
static bool timeline_field(struct ll_buf *b, const void *subject, struct ll__fref f)
{
    const struct ll_timeline *tl = subject;
    if (f.index == TF_SERVICES) {
        for (size_t i = 0; i < tl->n_services; i++) {
            if (i)
                ll_buf_puts(b, ", ");
            ll_buf_append(b, tl->services[i].ptr, tl->services[i].len);
        }
        return tl->n_services > 0;
    }
    if (f.index == TF_LINKED_SERVICES) {
        struct ll_str seen[8];
        size_t n = 0;
        for (size_t i = 0; i < tl->n_events_kept && n < 8; i++) {
            struct ll_str svc = tl->events[i].service;
            bool dup = false;
            for (size_t k = 0; k < n && !dup; k++)
                dup = ll_str_eq(seen[k], svc);
            if (!ll__tl_linked(&tl->events[i]) || dup)
                continue;
            if (n)
                ll_buf_puts(b, ", ");
            ll_buf_append(b, svc.ptr, svc.len);
            seen[n++] = svc;
        }
        return n > 0;
    }
    char scratch[32];
    struct ll__fval v = ll__field_timeline(tl, f, scratch, sizeof scratch);
    if (v.present)
        ll_buf_append(b, v.s.ptr, v.s.len);
    return v.present;
}

static struct ll_str cut(struct ll_str s, size_t max)
{
    if (s.len <= max)
        return s;
    size_t n = max;
    while (n && ((unsigned char)s.ptr[n] & 0xC0) == 0x80)
        n--;
    return (struct ll_str){s.ptr, n};
}

static struct match *make_match(ll_rule_engine *e, const struct ll_event *ev, uint32_t rule,
                                uint8_t step)
{
    const struct ll__rule *r = &e->rs->rules[rule];
    struct ll_buf *key = &e->key, *scope = &e->scope, *sum = &e->sum;
    key->len = scope->len = sum->len = 0;
    struct view w = {.e = e, .ev = ev};
    step_key(key, &w, r->steps[step].key, r->steps[step].n_key);
    if (r->n_scope)
        step_key(scope, &w, r->scope, r->n_scope);
    render(sum, r, event_field, &w);
    struct ll_str k = cut((struct ll_str){key->data, key->len}, UINT16_MAX);
    struct ll_str sc = cut((struct ll_str){scope->data, scope->len}, UINT16_MAX);
    struct ll_str su = cut((struct ll_str){sum->data, sum->len}, 1024);
    struct ll_str corr = cut(ev->corr_id, UINT16_MAX), svc = cut(ev->service, UINT16_MAX);
    struct ll_str line = cut(ev->line, MAX_LINE);
    size_t len = k.len + corr.len + svc.len + sc.len + su.len + line.len;
    struct match *m = ll_pool_alloc(&e->pool, sizeof *m + len);
    *m = (struct match){.ts = ev->ts_ns, .line_hash = ll_line_hash(ev->line),
                        .offset = ev->pos.offset, .seq = e->seq++,
                        .ev_seq = ev->seq,
                        .source = ev->pos.source, .rule = rule, .step = step,
                        .key_len = (uint16_t)k.len, .corr_len = (uint16_t)corr.len,
                        .svc_len = (uint16_t)svc.len, .scope_len = (uint16_t)sc.len,
                        .sum_len = (uint32_t)su.len, .line_len = (uint32_t)line.len};
    char *d = m->data;
    struct ll_str parts[] = {k, corr, svc, sc, su, line};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (parts[i].len)
            memcpy(d, parts[i].ptr, parts[i].len);
        d += parts[i].len;
    }
    return m;
}

/* ------------------------------------------------------------------------ */
/* The heap of matches                                                       */

static int cmp_str(struct ll_str a, struct ll_str b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int r = n ? memcmp(a.ptr, b.ptr, n) : 0;
    return r ? r : (a.len > b.len) - (a.len < b.len);
}

/* Event time, then rule and step (at one instant, the steps of different
 * lines are taken in the rule's order), then the line's content, so that
 * the order, and the ids it decides, do not depend on where lines were
 * read from; position last. */
static bool before(const struct match *a, const struct match *b)
{
    if (a->ts != b->ts)
        return a->ts < b->ts;
    if (a->rule != b->rule)
        return a->rule < b->rule;
    if (a->step != b->step)
        return a->step < b->step;
    if (a->line_hash != b->line_hash)
        return a->line_hash < b->line_hash;
    int r = cmp_str(a->source, b->source);
    if (r)
        return r < 0;
    if (a->offset != b->offset)
        return a->offset < b->offset;
    return a->seq < b->seq;
}

/* Whether two matches are steps of one line: a line never answers itself
 * (it cannot be both the start and the end of a sequence, nor an absence's
 * "after" and what it waits for). */
static bool same_event(const struct match *a, const struct match *b)
{
    return a->ts == b->ts && a->line_hash == b->line_hash && a->offset == b->offset &&
           ll_str_eq(a->source, b->source);
}

static bool slot_before(struct heap_slot a, struct heap_slot b)
{
    return a.ts != b.ts ? a.ts < b.ts : before(a.m, b.m);
}

static void heap_push(struct mheap *h, struct match *m)
{
    LL_GROW(h->v, h->n, h->cap, 64);
    struct heap_slot x = {m->ts, m};
    size_t i = h->n++;
    while (i && slot_before(x, h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = x;
}

static struct match *heap_pop(struct mheap *h)
{
    struct match *top = h->v[0].m;
    struct heap_slot last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = l;
        if (l >= h->n)
            break;
        if (l + 1 < h->n && slot_before(h->v[l + 1], h->v[l]))
            m = l + 1;
        if (!slot_before(h->v[m], last))
            break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

/* ------------------------------------------------------------------------ */
/* Alerts                                                                    */

static void evidence_add(struct alert *a, const struct match *m)
{
    if (a->n_ev == MAX_EVIDENCE)
        return;
    struct ll_str line = m_line(m);
    a->ev[a->n_ev++] = (struct ll_evidence){{m->source, m->offset}, m->ts,
                                            {ll_strndup(line.ptr, line.len), line.len}};
}

#define UPDATE_EVERY_NS LL_NS_PER_SEC /* live: an alert growing is written this often */

static void alert_emit(ll_rule_engine *e, struct alert *a, enum ll_alert_state state)
{
    const struct ll__rule *r = &e->rs->rules[a->rule];
    struct ll_alert rec = {
        .id = a->id,
        .rule = ll_str_c(r->id),
        .symptom = ll_str_c(r->symptom),
        .playbook = ll_str_c(r->playbook),
        .severity = ll_str_c(r->severity),
        .title = ll_str_c(r->title),
        .summary = ll_str_c(a->summary),
        .corr_id = ll_str_c(a->corr),
        .service = ll_str_c(a->service),
        .remediation = ll_str_c(r->remediation),
        .first_ns = a->first,
        .last_ns = a->last,
        .count = a->count,
        .timeline_id = a->timeline_id,
        .evidence = a->ev,
        .n_evidence = a->n_ev,
        .affected = a->affected,
        .n_affected = a->n_affected,
        .seq_first = a->seq_first,
        .seq_last = a->seq_last,
        .state = state,
    };
    a->emitted = a->count;
    a->emitted_at = e->clock;
    e->out.alert(e->out.ctx, &rec);
}

/* Takes @p a off the list of alerts grown since written. */
static void undirty(ll_rule_engine *e, struct alert *a)
{
    if (!a->dirty)
        return;
    a->dirty = false;
    for (struct alert **p = &e->dirty; *p; p = &(*p)->next_dirty)
        if (*p == a) {
            *p = a->next_dirty;
            return;
        }
}

/* Live: the alerts that grew are written, each at most every
 * UPDATE_EVERY_NS (@p all: at once). */
static void write_grown(ll_rule_engine *e, bool all)
{
    for (struct alert **p = &e->dirty; *p;) {
        struct alert *a = *p;
        if (!all && e->clock - a->emitted_at < UPDATE_EVERY_NS) {
            p = &a->next_dirty;
            continue;
        }
        *p = a->next_dirty;
        a->dirty = false;
        alert_emit(e, a, LL_ALERT_GREW);
    }
}

/* An alert closes: its last record, or, live, word that nothing changed
 * since the last one. */
static void alert_last(ll_rule_engine *e, struct alert *a)
{
    undirty(e, a);
    alert_emit(e, a, !a->emitted                 ? LL_ALERT_ONCE
                     : a->count != a->emitted ? LL_ALERT_CLOSED
                                              : LL_ALERT_CLOSED_SAME);
}

static void alert_free(struct alert *a)
{
    for (size_t i = 0; i < a->n_ev; i++)
        ll_free((char *)a->ev[i].line.ptr);
    for (size_t i = 0; i < a->n_affected; i++)
        ll_free((char *)a->affected[i].ptr);
    ll_free(a->affected);
    ll_free(a->map_key);
    ll_free(a->corr);
    ll_free(a->service);
    ll_free(a->summary);
    ll_free(a);
}

static void alert_close(ll_rule_engine *e, struct alert *a)
{
    ll_timerwheel_del(&e->wheel, &a->t.timer);
    ll_idmap_del(&e->alerts, a->hash, a);
    alert_last(e, a);
    alert_free(a);
}

/* A rule's rate cap, in event time: at most rate_n new alerts per window. */
static bool rate_ok(ll_rule_engine *e, uint32_t rule, int64_t ts)
{
    const struct ll__rule *r = &e->rs->rules[rule];
    struct rule_state *st = &e->state[rule];
    if (!st->rate_count || ll_time_sub(ts, st->rate_start) >= r->rate_window_ns) {
        st->rate_start = ts;
        st->rate_count = 0;
        st->rate_said = false;
    }
    if (st->rate_count >= r->rate_n) {
        if (!st->rate_said) {
            st->rate_said = true;
            char per[32];
            ll_duration_format(r->rate_window_ns, per);
            ll_log(LL_LEVEL_WARN, "rules", "rule %s reached its rate_limit of %u alerts per %s: "
                   "more in this window are held back (counted, not written)", r->id, r->rate_n,
                   per);
        }
        e->rate_limited++;
        return false;
    }
    st->rate_count++;
    return true;
}

/* One more match @p m in open alert @p a: counted, kept as evidence, and
 * the alert stays open its suppress window past it. */
static void alert_grow(ll_rule_engine *e, struct alert *a, const struct match *m)
{
    a->count++;
    if (m->ts > a->last)
        a->last = m->ts;
    if (m->ev_seq > a->seq_last)
        a->seq_last = m->ev_seq;
    evidence_add(a, m);
    ll_timerwheel_add(&e->wheel, &a->t.timer,
                      ll_time_add(ll_time_add(a->last, e->rs->rules[a->rule].suppress_ns), 1));
    if (e->live && !a->dirty) {
        a->dirty = true;
        a->next_dirty = e->dirty;
        e->dirty = a;
    }
}

/* Rule, key and the opening event (time and line): content only, never a
 * position, so every mode names an alert alike. */
static uint64_t alert_id(const struct ll__rule *r, struct ll_str key, const struct match *opener)
{
    uint64_t h = ll_hash64(r->id, strlen(r->id), 0x5a);
    return ll_id_add_event(ll_hash64(key.ptr, key.len, h), opener->ts, opener->line_hash);
}

/* Raise (or extend) the alert of @p m's rule and key. @p opener is the match
 * that starts it (the first of a threshold window or a sequence); @p more are
 * further evidence. */
static void raise_alert(ll_rule_engine *e, const struct match *m, const struct match *opener,
                        struct match *const *more, size_t n_more)
{
    const struct ll__rule *r = &e->rs->rules[m->rule];
    char key[1024];
    size_t klen = map_key(m->rule, m_key(m), key, sizeof key);
    uint64_t hash = ll_hash_keyed(key, klen);
    struct alert *a = ll_idmap_get(&e->alerts, hash, (struct ll_str){key, klen});
    if (a && m->ts > ll_time_add(a->last, r->suppress_ns)) {
        alert_close(e, a);
        a = NULL;
    }
    if (a) {
        alert_grow(e, a, m);
        e->suppressed++;
        return;
    }
    if (!rate_ok(e, m->rule, opener->ts))
        return;
    a = ll_calloc(1, sizeof *a);
    a->t.kind = T_ALERT;
    ll_timer_init(&a->t.timer);
    a->rule = m->rule;
    a->hash = hash;
    a->map_key = ll_strndup(key, klen);
    a->map_key_len = klen;
    a->first = opener->ts;
    a->last = m->ts;
    a->count = 1;
    a->seq_first = opener->ev_seq;
    a->seq_last = m->ev_seq > opener->ev_seq ? m->ev_seq : opener->ev_seq;
    a->id = alert_id(r, m_key(m), opener);
    a->corr = ll_strndup(m_corr(opener).ptr, m_corr(opener).len);
    a->service = ll_strndup(m_svc(opener).ptr, m_svc(opener).len);
    a->summary = ll_strndup(m_summary(opener).ptr, m_summary(opener).len);
    evidence_add(a, opener);
    for (size_t i = 0; i < n_more; i++)
        if (more[i] != opener)
            evidence_add(a, more[i]);
    if (opener != m)
        evidence_add(a, m);
    ll_idmap_put(&e->alerts, hash, a);
    ll_timerwheel_add(&e->wheel, &a->t.timer,
                      ll_time_add(ll_time_add(a->last, r->suppress_ns), 1));
    e->raised++;
    if (e->out.opened && a->corr[0])
        a->timeline_id = e->out.opened(e->out.ctx, a->id, ll_str_c(a->corr), a->first);
    if (e->live)
        alert_emit(e, a, LL_ALERT_OPEN); /* at once; again as it grows and closes */
}

/* The open alert of @p m's rule and key, or NULL. */
static struct alert *open_alert(ll_rule_engine *e, const struct match *m)
{
    char key[1024];
    size_t klen = map_key(m->rule, m_key(m), key, sizeof key);
    struct alert *a = ll_idmap_get(&e->alerts, ll_hash_keyed(key, klen), (struct ll_str){key, klen});
    if (a && m->ts > ll_time_add(a->last, e->rs->rules[m->rule].suppress_ns))
        return NULL; /* over: its timer has not fired yet */
    return a;
}

/* A workflow hit open alert @p a (@p m, an event of the "affects" step):
 * it joins the blast radius, its timeline lists the alert, and the alert
 * lasts while workflows keep hitting it. */
static void affect(ll_rule_engine *e, struct alert *a, const struct match *m)
{
    struct ll_str corr = m_corr(m);
    bool known = false;
    for (size_t i = 0; i < a->n_affected && !known; i++)
        known = ll_str_eq(a->affected[i], corr);
    if (!known && corr.len && ll_str_eq(corr, ll_str_c(a->corr)))
        known = true; /* the alert's own workflow */
    if (!known && corr.len && a->n_affected < MAX_AFFECTED) {
        LL_GROW(a->affected, a->n_affected, a->cap_affected, 8);
        a->affected[a->n_affected++] = (struct ll_str){ll_strndup(corr.ptr, corr.len), corr.len};
        if (e->out.opened)
            e->out.opened(e->out.ctx, a->id, corr, m->ts);
    }
    alert_grow(e, a, m); /* an occurrence like any other */
}

static struct pending *pending_of(ll_rule_engine *e, const struct match *m);

/* An event of a rule's "affects" step: noted on the open alert of its key,
 * or kept with the absence of that key still waiting to be raised.
 * @returns true if @p m was kept. */
static bool on_affects(ll_rule_engine *e, struct match *m)
{
    struct alert *a = open_alert(e, m);
    if (a) {
        affect(e, a, m);
        return false;
    }
    struct pending *p = pending_of(e, m);
    if (!p || p->n_hits == MAX_AFFECTED)
        return false;
    LL_GROW(p->hits, p->n_hits, p->cap_hits, 8);
    p->hits[p->n_hits++] = m;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Threshold and sequence state                                              */

static struct keystate *keystate_get(ll_rule_engine *e, const struct match *m)
{
    char key[1024];
    size_t klen = map_key(m->rule, m_key(m), key, sizeof key);
    uint64_t hash = ll_hash_keyed(key, klen);
    struct keystate *k = ll_idmap_get(&e->keys, hash, (struct ll_str){key, klen});
    if (!k) {
        k = ll_calloc(1, sizeof *k);
        k->t.kind = T_KEYSTATE;
        ll_timer_init(&k->t.timer);
        k->hash = hash;
        k->rule = m->rule;
        k->map_key = ll_strndup(key, klen);
        k->map_key_len = klen;
        ll_idmap_put(&e->keys, hash, k);
    }
    k->last = m->ts;
    ll_timerwheel_add(&e->wheel, &k->t.timer,
                      ll_time_add(ll_time_add(m->ts, e->rs->rules[m->rule].window_ns), 1));
    return k;
}

static void stage_clear(ll_rule_engine *e, struct keystate *k, size_t i)
{
    for (size_t j = 0; j < k->stage_n[i]; j++)
        ll_pool_release(&e->pool, k->stage[i][j]);
    k->stage_n[i] = 0;
}

static void keystate_free(ll_rule_engine *e, struct keystate *k)
{
    ll_timerwheel_del(&e->wheel, &k->t.timer);
    ll_idmap_del(&e->keys, k->hash, k);
    for (size_t i = 0; i < k->n_win; i++)
        ll_pool_release(&e->pool, k->win[i]);
    for (size_t i = 0; i < LL__MAX_STEPS; i++)
        stage_clear(e, k, i);
    ll_free(k->win);
    ll_free(k->map_key);
    ll_free(k);
}

/* Returns true if @p m was kept (in the window). */
static bool on_threshold(ll_rule_engine *e, struct match *m)
{
    const struct ll__rule *r = &e->rs->rules[m->rule];
    struct keystate *k = keystate_get(e, m);
    size_t drop = 0;
    while (drop < k->n_win && k->win[drop]->ts < ll_time_sub(m->ts, r->window_ns))
        ll_pool_release(&e->pool, k->win[drop++]);
    if (drop) {
        memmove(k->win, k->win + drop, (k->n_win - drop) * sizeof *k->win);
        k->n_win -= drop;
    }
    LL_GROW(k->win, k->n_win, k->cap_win, 4);
    k->win[k->n_win++] = m;
    if (k->n_win >= r->threshold)
        raise_alert(e, m, k->win[k->n_win - r->threshold], k->win + k->n_win - r->threshold,
                    r->threshold);
    /* Only the last threshold - 1 matches can still start a window. */
    while (k->n_win > r->threshold) {
        ll_pool_release(&e->pool, k->win[0]);
        memmove(k->win, k->win + 1, (--k->n_win) * sizeof *k->win);
    }
    return true;
}

/* Sequence: stage i holds the earliest live run that has done steps 0..i. */
static bool on_sequence(ll_rule_engine *e, struct match *m)
{
    const struct ll__rule *r = &e->rs->rules[m->rule];
    struct keystate *k = keystate_get(e, m);
    size_t n = r->affects_step == LL__NO_STEP ? r->n_steps : r->affects_step;
    size_t j = m->step, last = n - 1;
    for (size_t i = 0; i < last; i++) /* runs that outlived the window */
        if (k->stage_n[i] && ll_time_sub(m->ts, k->stage[i][0]->ts) > r->window_ns)
            stage_clear(e, k, i);
    if (j == 0) {
        if (k->stage_n[0])
            return false; /* an earlier live start wins */
        k->stage[0][0] = m;
        k->stage_n[0] = 1;
        return true;
    }
    if (!k->stage_n[j - 1] || same_event(k->stage[j - 1][k->stage_n[j - 1] - 1], m))
        return false;
    if (j == last) {
        raise_alert(e, m, k->stage[j - 1][0], k->stage[j - 1], k->stage_n[j - 1]);
        for (size_t i = 0; i < last; i++)
            stage_clear(e, k, i);
        return false;
    }
    if (k->stage_n[j])
        return false;
    for (size_t i = 0; i < k->stage_n[j - 1]; i++)
        k->stage[j][i] = k->stage[j - 1][i];
    k->stage[j][k->stage_n[j - 1]] = m;
    k->stage_n[j] = k->stage_n[j - 1] + 1;
    /* The run moved on; stage j - 1 no longer owns its matches. */
    k->stage_n[j - 1] = 0;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Absence                                                                   */

static struct ll_str pending_key(const void *p)
{
    return m_key(((const struct pending *)p)->m);
}

static void pending_index(struct rule_state *st, struct pending *p)
{
    struct ll_str key = m_key(p->m);
    p->key_hash = ll_hash_keyed(key.ptr, key.len);
    struct pending *head = ll_idmap_get(&st->by_key, p->key_hash, key);
    if (!head) {
        ll_idmap_put(&st->by_key, p->key_hash, p);
        return;
    }
    p->same_prev = head;
    p->same_next = head->same_next;
    if (p->same_next)
        p->same_next->same_prev = p;
    head->same_next = p;
}

static void pending_unindex(struct rule_state *st, struct pending *p)
{
    if (p->same_prev)
        p->same_prev->same_next = p->same_next;
    else if (p->same_next)
        ll_idmap_replace(&st->by_key, p->key_hash, p, p->same_next);
    else
        ll_idmap_del(&st->by_key, p->key_hash, p);
    if (p->same_next)
        p->same_next->same_prev = p->same_prev;
}

static void pending_unlink(ll_rule_engine *e, struct rule_state *st, struct pending *p)
{
    pending_unindex(st, p);
    if (p->prev)
        p->prev->next = p->next;
    else
        st->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        st->tail = p->prev;
    st->n_pending--;
    ll_timerwheel_del(&e->wheel, &p->t.timer);
}

static void pending_release(ll_rule_engine *e, struct pending *p)
{
    for (size_t i = 0; i < p->n_hits; i++)
        ll_pool_release(&e->pool, p->hits[i]);
    ll_free(p->hits);
    ll_pool_release(&e->pool, p->m);
    ll_pool_release(&e->pool, p);
}

static void pending_free(ll_rule_engine *e, struct rule_state *st, struct pending *p)
{
    pending_unlink(e, st, p);
    pending_release(e, p);
}

/* The earliest absence of @p m's rule and key still waiting, begun no
 * later than @p m. */
static struct pending *pending_of(ll_rule_engine *e, const struct match *m)
{
    struct rule_state *st = &e->state[m->rule];
    if (!st->n_pending)
        return NULL;
    struct ll_str key = m_key(m);
    for (struct pending *p = ll_idmap_get(&st->by_key, ll_hash_keyed(key.ptr, key.len), key); p;
         p = p->same_next)
        if (p->m->ts <= m->ts && !same_event(p->m, m))
            return p;
    return NULL;
}

static bool on_absence(ll_rule_engine *e, struct match *m)
{
    const struct ll__rule *r = &e->rs->rules[m->rule];
    struct rule_state *st = &e->state[m->rule];
    if (m->step == ST_EXPECT) { /* the awaited event: the waits of its key end */
        struct ll_str key = m_key(m);
        for (struct pending *p = ll_idmap_get(&st->by_key, ll_hash_keyed(key.ptr, key.len), key),
                            *next;
             p; p = next) {
            next = p->same_next;
            if (p->m->ts <= m->ts && p->deadline >= m->ts && !same_event(p->m, m)) {
                pending_free(e, st, p);
                e->recovered += r->recovery;
            }
        }
        return false;
    }
    if (m->step == ST_UNTIL) { /* the scope ends: what still waits has grace left */
        for (struct pending *p = st->head; p; p = p->next)
            if (p->m->ts <= m->ts && ll_str_eq(m_scope(p->m), m_scope(m)) &&
                ll_time_add(m->ts, r->grace_ns) < p->deadline && !same_event(p->m, m)) {
                p->deadline = ll_time_add(m->ts, r->grace_ns);
                p->ended = true;
                ll_timerwheel_add(&e->wheel, &p->t.timer, ll_time_add(p->deadline, 1));
            }
        return false;
    }
    if (st->n_pending == MAX_PENDING_ABSENCE)
        pending_free(e, st, st->head);
    struct pending *p = ll_pool_alloc(&e->pool, sizeof *p);
    *p = (struct pending){0};
    p->t.kind = T_ABSENCE;
    ll_timer_init(&p->t.timer);
    p->m = m;
    p->deadline = ll_time_add(m->ts, r->window_ns);
    p->ended = r->recovery; /* no recovery seen before the logs end: a failure */
    p->prev = st->tail;
    if (st->tail)
        st->tail->next = p;
    else
        st->head = p;
    st->tail = p;
    st->n_pending++;
    pending_index(st, p);
    ll_timerwheel_add(&e->wheel, &p->t.timer, ll_time_add(p->deadline, 1));
    return true;
}

/* ------------------------------------------------------------------------ */
/* Dispatch and timers                                                       */

static void process(ll_rule_engine *e, struct match *m)
{
    bool kept = false;
    if (m->step == e->rs->rules[m->rule].affects_step) {
        if (!on_affects(e, m))
            ll_pool_release(&e->pool, m);
        return;
    }
    switch (e->rs->rules[m->rule].kind) {
    case K_MATCH:
        if (e->rs->rules[m->rule].recovery) {
            kept = on_absence(e, m);
            break;
        }
        raise_alert(e, m, m, NULL, 0);
        break;
    case K_THRESHOLD: kept = on_threshold(e, m); break;
    case K_SEQUENCE: kept = on_sequence(e, m); break;
    case K_ABSENCE: kept = on_absence(e, m); break;
    default: break;
    }
    if (!kept)
        ll_pool_release(&e->pool, m);
}

static void on_timer(void *ctx, struct ll_timer *t)
{
    ll_rule_engine *e = ctx;
    LL_GROW(e->fired, e->n_fired, e->cap_fired, 32);
    e->fired[e->n_fired++] = (struct timed *)t;
}

/* Expired timers in a fixed order: deadline, kind, then what they time. */
static int cmp_fired(const void *x, const void *y)
{
    const struct timed *a = *(struct timed *const *)x, *b = *(struct timed *const *)y;
    int64_t da = ll_timer_deadline(&a->timer), db = ll_timer_deadline(&b->timer);
    if (da != db)
        return da < db ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->kind == T_ALERT) {
        uint64_t ia = ((const struct alert *)a)->id, ib = ((const struct alert *)b)->id;
        return (ia > ib) - (ia < ib);
    }
    if (a->kind == T_ABSENCE) {
        const struct match *ma = ((const struct pending *)a)->m, *mb = ((const struct pending *)b)->m;
        return before(ma, mb) ? -1 : before(mb, ma);
    }
    return cmp_str(keystate_key(a), keystate_key(b));
}

static void fire(ll_rule_engine *e, struct timed *t)
{
    if (t->kind == T_ALERT) {
        struct alert *a = (struct alert *)t;
        ll_idmap_del(&e->alerts, a->hash, a);
        alert_last(e, a);
        alert_free(a);
    } else if (t->kind == T_KEYSTATE) {
        keystate_free(e, (struct keystate *)t);
    } else {
        struct pending *p = (struct pending *)t;
        struct rule_state *st = &e->state[p->m->rule];
        pending_unlink(e, st, p);
        raise_alert(e, p->m, p->m, NULL, 0);
        struct alert *a = open_alert(e, p->m);
        for (size_t i = 0; a && i < p->n_hits; i++)
            affect(e, a, p->hits[i]);
        pending_release(e, p);
    }
}

static void run_timers(ll_rule_engine *e, int64_t wm)
{
    ll_timerwheel_advance(&e->wheel, wm, on_timer, e);
    if (e->n_fired > 1)
        qsort(e->fired, e->n_fired, sizeof *e->fired, cmp_fired);
    size_t n = e->n_fired;
    e->n_fired = 0;
    for (size_t i = 0; i < n; i++)
        fire(e, e->fired[i]);
}

/* ------------------------------------------------------------------------ */
/* API                                                                       */

ll_rule_engine *ll_rule_engine_new(const ll_ruleset *rs, const struct ll_rule_out *out)
{
    ll_rule_engine *e = ll_calloc(1, sizeof *e);
    e->rs = rs;
    e->out = *out;
    e->state = ll_calloc(rs->n_rules ? rs->n_rules : 1, sizeof *e->state);
    for (size_t r = 0; r < rs->n_rules; r++)
        if (rs->rules[r].kind == K_ABSENCE || rs->rules[r].recovery)
            ll_idmap_init(&e->state[r].by_key, 64, pending_key);
    ll_idmap_init(&e->alerts, 256, alert_key);
    ll_idmap_init(&e->keys, 256, keystate_key);
    e->eval = ll_rule_eval_new(rs);
    e->wm = INT64_MIN;
    return e;
}

void ll_rule_engine_set_live(ll_rule_engine *e, bool live, int64_t hold_ns)
{
    e->live = live;
    e->hold_ns = hold_ns > 0 ? hold_ns : 0;
}

/* The wheel starts at the first time the engine sees. */
static void wheel_from(ll_rule_engine *e, int64_t ts)
{
    if (!e->wheel_ready) {
        ll_timerwheel_init(&e->wheel, ts, LL_NS_PER_MS);
        e->wheel_ready = true;
    }
}

void ll_rule_engine_set_part(ll_rule_engine *e, enum ll_rule_part part)
{
    e->part = part;
}

/* Whether step @p step of rule @p r keeps its state per service (else per
 * workflow) for @p ev. */
static bool service_scoped(const struct ll__rule *r, uint8_t step, const struct ll_event *ev)
{
    return r->n_group || r->n_scope || r->steps[step].n_key || !ev->corr_id.len;
}

bool ll_rule_engine_push(ll_rule_engine *e, const struct ll_event *ev)
{
    if (!ev->match)
        return false;
    bool other = false;
    for (size_t b = 0; b < e->rs->n_bits; b++) {
        if (!(ev->match[b / 64] & (UINT64_C(1) << (b % 64))))
            continue;
        uint32_t rule = e->rs->bits[b].rule;
        if (e->part != LL_RULES_ALL &&
            service_scoped(&e->rs->rules[rule], e->rs->bits[b].step, ev) !=
                (e->part == LL_RULES_SERVICE)) {
            other = true;
            continue;
        }
        struct match *m = make_match(e, ev, rule, e->rs->bits[b].step);
        m->arrived = e->clock;
        /* Live, a rule without a window waits only for its hold. */
        const struct ll__rule *r = &e->rs->rules[rule];
        heap_push(e->live && r->kind == K_MATCH && !r->recovery ? &e->hold : &e->heap, m);
    }
    return other;
}

/* Raises the held matches up to @p upto (event time), earliest first. */
static void raise_held(ll_rule_engine *e, int64_t upto)
{
    while (e->hold.n && e->hold.v[0].ts <= upto) {
        struct match *m = heap_pop(&e->hold);
        wheel_from(e, m->ts);
        raise_alert(e, m, m, NULL, 0);
        ll_pool_release(&e->pool, m);
    }
}

void ll_rule_engine_release(ll_rule_engine *e, int64_t now)
{
    e->clock = now;
    /* Everything held its while, and whatever is earlier than that. */
    int64_t upto = INT64_MIN;
    for (size_t i = 0; i < e->hold.n; i++)
        if (now - e->hold.v[i].m->arrived >= e->hold_ns && e->hold.v[i].ts > upto)
            upto = e->hold.v[i].ts;
    raise_held(e, upto);
    write_grown(e, false);
}

int64_t ll_rule_engine_next_release(const ll_rule_engine *e)
{
    int64_t due = INT64_MAX;
    for (size_t i = 0; i < e->hold.n; i++)
        if (e->hold.v[i].m->arrived + e->hold_ns < due)
            due = e->hold.v[i].m->arrived + e->hold_ns;
    for (const struct alert *a = e->dirty; a; a = a->next_dirty)
        if (a->emitted_at + UPDATE_EVERY_NS < due)
            due = a->emitted_at + UPDATE_EVERY_NS;
    return due;
}

void ll_rule_engine_settle(ll_rule_engine *e)
{
    raise_held(e, INT64_MAX);
    write_grown(e, true);
}

/* The oldest read order @p m holds back. */
static void oldest_of(const struct match *m, uint64_t *oldest)
{
    if (m && m->ev_seq && m->ev_seq < *oldest)
        *oldest = m->ev_seq;
}

uint64_t ll_rule_engine_oldest_seq(const ll_rule_engine *e)
{
    uint64_t oldest = UINT64_MAX;
    for (size_t i = 0; i < e->heap.n; i++)
        oldest_of(e->heap.v[i].m, &oldest);
    for (size_t i = 0; i < e->hold.n; i++)
        oldest_of(e->hold.v[i].m, &oldest);
    for (size_t i = 0; i < e->alerts.n_slots; i++) {
        const struct alert *a = e->alerts.slots[i].p;
        if (a && a->seq_first && a->seq_first < oldest)
            oldest = a->seq_first;
    }
    for (size_t i = 0; i < e->keys.n_slots; i++) {
        const struct keystate *k = e->keys.slots[i].p;
        for (size_t w = 0; k && w < k->n_win; w++)
            oldest_of(k->win[w], &oldest);
        for (size_t a = 0; k && a < LL__MAX_STEPS; a++)
            for (size_t b = 0; b < k->stage_n[a]; b++)
                oldest_of(k->stage[a][b], &oldest);
    }
    for (size_t r = 0; r < e->rs->n_rules; r++)
        for (const struct pending *p = e->state[r].head; p; p = p->next)
            oldest_of(p->m, &oldest);
    return oldest;
}

void ll_rule_engine_advance(ll_rule_engine *e, int64_t wm, bool final)
{
    if (!e->wheel_ready) {
        int64_t start = e->heap.n ? e->heap.v[0].ts : wm;
        ll_timerwheel_init(&e->wheel, start < wm ? start : wm, LL_NS_PER_MS);
        e->wheel_ready = true;
    }
    raise_held(e, final ? INT64_MAX : wm);
    /* Matches and timers interleave in time: a timer due before the next
     * match must fire first (an alert closes before a later match reopens). */
    while (e->heap.n && (final || e->heap.v[0].ts <= wm)) {
        struct match *m = heap_pop(&e->heap);
        run_timers(e, ll_time_sub(m->ts, 1));
        process(e, m);
    }
    if (final) {
        /* An absence whose scope ended (the parent shut down) and whose
         * awaited event never came before the logs end is raised: nothing
         * can follow. Others could yet have been met: never guess. */
        size_t n = 0;
        for (size_t r = 0; r < e->rs->n_rules; r++)
            for (struct pending *p = e->state[r].head; p; p = p->next)
                n += p->ended;
        struct timed **ended = ll_calloc(n + 1, sizeof *ended);
        n = 0;
        for (size_t r = 0; r < e->rs->n_rules; r++)
            for (struct pending *p = e->state[r].head, *next; p; p = next) {
                next = p->next;
                if (p->ended)
                    ended[n++] = &p->t;
                else
                    pending_free(e, &e->state[r], p);
            }
        if (n > 1)
            qsort(ended, n, sizeof *ended, cmp_fired);
        for (size_t i = 0; i < n; i++)
            fire(e, ended[i]);
        ll_free(ended);
        return;
    }
    if (wm > e->wm) {
        run_timers(e, wm);
        e->wm = wm;
    }
}

size_t ll_rule_engine_timeline(ll_rule_engine *e, const struct ll_timeline *tl, uint64_t *ids,
                               size_t max)
{
    size_t n = 0;
    for (uint32_t ri = 0; ri < e->rs->n_rules && n < max; ri++) {
        const struct ll__rule *r = &e->rs->rules[ri];
        if (r->kind != K_TIMELINE)
            continue;
        if (!ll__cond_eval_timeline(e->rs, r->tl_cond, tl, e->eval->md, e->eval->mctx,
                                    &e->eval->limit_hits))
            continue;
        if (!rate_ok(e, ri, tl->start_ns))
            continue;
        /* Evidence: the events that joined without the id, else errors. */
        struct ll_evidence ev[MAX_EVIDENCE];
        size_t n_ev = 0;
        for (int pass = 0; pass < 2 && n_ev < MAX_EVIDENCE; pass++)
            for (size_t i = 0; i < tl->n_events_kept && n_ev < MAX_EVIDENCE; i++) {
                const struct ll_tl_event *te = &tl->events[i];
                bool want = pass == 0 ? ll__tl_linked(te)
                                      : (te->level >= LL_LEVEL_ERROR && !n_ev);
                if (want)
                    ev[n_ev++] = (struct ll_evidence){{te->source, te->offset}, te->ts_ns,
                                                      te->line};
            }
        unsigned char tid[8];
        for (int i = 0; i < 8; i++)
            tid[i] = (unsigned char)(tl->id >> (8 * i));
        uint64_t id = ll_hash64(tid, sizeof tid, ll_hash64(r->id, strlen(r->id), 0x7b));
        struct ll_buf sum = {0};
        render(&sum, r, timeline_field, tl);
        struct ll_alert rec = {
            .id = id, .rule = ll_str_c(r->id), .symptom = ll_str_c(r->symptom),
            .playbook = ll_str_c(r->playbook), .severity = ll_str_c(r->severity),
            .title = ll_str_c(r->title), .summary = {sum.data, sum.len},
            .corr_id = tl->corr_id,
            .service = tl->n_services ? tl->services[tl->n_services - 1] : LL_STR(""),
            .remediation = ll_str_c(r->remediation), .first_ns = tl->start_ns,
            .last_ns = tl->end_ns, .count = 1, .timeline_id = tl->id, .evidence = ev,
            .n_evidence = n_ev,
        };
        e->raised++;
        e->out.alert(e->out.ctx, &rec);
        ll_buf_free(&sum);
        ids[n++] = id;
    }
    return n;
}

void ll_rule_engine_flush(ll_rule_engine *e)
{
    ll_rule_engine_advance(e, INT64_MAX, true);
    /* Close what is left, in the order the timers would have. */
    size_t n = 0;
    struct timed **all = ll_calloc(e->alerts.n + e->keys.n + 1, sizeof *all);
    for (size_t i = 0; i < e->alerts.n_slots; i++)
        if (e->alerts.slots[i].p)
            all[n++] = e->alerts.slots[i].p;
    for (size_t i = 0; i < e->keys.n_slots; i++)
        if (e->keys.slots[i].p)
            all[n++] = e->keys.slots[i].p;
    if (n > 1)
        qsort(all, n, sizeof *all, cmp_fired);
    for (size_t i = 0; i < n; i++) {
        ll_timerwheel_del(&e->wheel, &all[i]->timer);
        fire(e, all[i]);
    }
    ll_free(all);
}

void ll_rule_engine_stats(const ll_rule_engine *e, struct ll_stats *st)
{
    st->alerts += e->raised;
    st->alerts_suppressed += e->suppressed;
    st->recovered += e->recovered;
    st->alerts_rate_limited += e->rate_limited;
}

void ll_rule_engine_destroy(ll_rule_engine *e)
{
    if (!e)
        return;
    while (e->heap.n)
        ll_pool_release(&e->pool, heap_pop(&e->heap));
    while (e->hold.n)
        ll_pool_release(&e->pool, heap_pop(&e->hold));
    for (size_t r = 0; r < e->rs->n_rules; r++) {
        while (e->state[r].head)
            pending_free(e, &e->state[r], e->state[r].head);
        ll_idmap_free(&e->state[r].by_key);
    }
    for (size_t i = 0; i < e->alerts.n_slots; i++)
        if (e->alerts.slots[i].p)
            alert_free(e->alerts.slots[i].p);
    for (size_t i = 0; i < e->keys.n_slots; i++)
        while (e->keys.slots[i].p)
            keystate_free(e, e->keys.slots[i].p);
    ll_idmap_free(&e->alerts);
    ll_idmap_free(&e->keys);
    ll_pool_free(&e->pool);
    ll_rule_eval_destroy(e->eval);
    ll_free(e->heap.v);
    ll_free(e->hold.v);
    ll_free(e->fired);
    ll_free(e->state);
    ll_buf_free(&e->key);
    ll_buf_free(&e->scope);
    ll_buf_free(&e->sum);
    ll_free(e);
}
