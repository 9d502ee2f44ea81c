/* The stateful engine: alerts in event time.
 *
 * ll_rule_engine_push() keeps a copy of each matched step (a "match": time,
 * position, key, summary, evidence line) in a heap. ll_rule_engine_advance()
 * takes the matches the watermark has passed, in event-time order (time,
 * then rule and step, then line content, then position: never the order
 * lines arrived in, nor where they were read; a line never answers itself),
 * and runs each rule kind's small state machine:
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
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

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
static bool match_before(const struct match *a, const struct match *b)
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
static bool slot_before(const void *ctx, struct heap_slot a, struct heap_slot b)
{
    (void)ctx;
    return a.ts != b.ts ? a.ts < b.ts : match_before(a.m, b.m);
}

LL_HEAP(slots, struct heap_slot, const void *, slot_before, LL_HEAP_UNPLACED)

static void heap_push(struct mheap *h, struct match *m)
{
    slots_push(NULL, &h->v, &h->n, &h->cap, (struct heap_slot){m->ts, m});
}

static struct match *heap_pop(struct mheap *h)
{
    return slots_pop(NULL, h->v, &h->n).m;
}

/* ------------------------------------------------------------------------ */
/* Dispatch and timers                                                       */

static void process(ll_rule_engine *e, struct match *m)
{
    bool kept = false;
    if (m->step == e->rs->rules[m->rule].affects_step) {
        if (!ll__eng_on_affects(e, m))
            ll_pool_release(&e->pool, m);
        return;
    }
    switch (e->rs->rules[m->rule].kind) {
    case K_MATCH:
        if (e->rs->rules[m->rule].recovery) {
            kept = ll__eng_on_absence(e, m);
            break;
        }
        ll__eng_raise_alert(e, m, m, NULL, 0);
        break;
    case K_THRESHOLD: kept = ll__eng_on_threshold(e, m); break;
    case K_SEQUENCE: kept = ll__eng_on_sequence(e, m); break;
    case K_ABSENCE: kept = ll__eng_on_absence(e, m); break;
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
        return match_before(ma, mb) ? -1 : match_before(mb, ma);
    }
    return cmp_str(keystate_key(a), keystate_key(b));
}

static void fire(ll_rule_engine *e, struct timed *t)
{
    if (t->kind == T_ALERT) {
        struct alert *a = (struct alert *)t;
        ll_idmap_del(&e->alerts, a->hash, a);
        ll__eng_alert_last(e, a);
        ll__eng_alert_free(a);
    } else if (t->kind == T_KEYSTATE) {
        ll__eng_keystate_free(e, (struct keystate *)t);
    } else {
        struct pending *p = (struct pending *)t;
        struct rule_state *st = &e->state[p->m->rule];
        ll__eng_pending_unlink(e, st, p);
        ll__eng_raise_alert(e, p->m, p->m, NULL, 0);
        struct alert *a = ll__eng_open_alert(e, p->m);
        for (size_t i = 0; a && i < p->n_hits; i++)
            ll__eng_affect(e, a, p->hits[i]);
        ll__eng_pending_release(e, p);
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
            ll_idmap_init(&e->state[r].by_key, 64, ll__eng_pending_key);
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
        ll__eng_raise_alert(e, m, m, NULL, 0);
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
    ll__eng_write_grown(e, false);
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
    ll__eng_write_grown(e, true);
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
                    ll__eng_pending_free(e, &e->state[r], p);
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
        if (!ll__eng_rate_ok(e, ri, tl->start_ns))
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
            ll__eng_pending_free(e, &e->state[r], e->state[r].head);
        ll_idmap_free(&e->state[r].by_key);
    }
    for (size_t i = 0; i < e->alerts.n_slots; i++)
        if (e->alerts.slots[i].p)
            ll__eng_alert_free(e->alerts.slots[i].p);
    for (size_t i = 0; i < e->keys.n_slots; i++)
        while (e->keys.slots[i].p)
            ll__eng_keystate_free(e, e->keys.slots[i].p);
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
