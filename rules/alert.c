/* The rule engine's alerts: an alert is a session of its rule and key
 * (matches no more than "suppress" apart fold into it), opened, grown,
 * written live, capped by the rule's rate, and closed; the workflows it
 * affects (its blast radius). */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

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
void ll__eng_write_grown(ll_rule_engine *e, bool all)
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
void ll__eng_alert_last(ll_rule_engine *e, struct alert *a)
{
    undirty(e, a);
    alert_emit(e, a, !a->emitted                 ? LL_ALERT_ONCE
                     : a->count != a->emitted ? LL_ALERT_CLOSED
                                              : LL_ALERT_CLOSED_SAME);
}

void ll__eng_alert_free(struct alert *a)
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
    ll__eng_alert_last(e, a);
    ll__eng_alert_free(a);
}

/* A rule's rate cap, in event time: at most rate_n new alerts per window. */
bool ll__eng_rate_ok(ll_rule_engine *e, uint32_t rule, int64_t ts)
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
void ll__eng_raise_alert(ll_rule_engine *e, const struct match *m, const struct match *opener,
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
    if (!ll__eng_rate_ok(e, m->rule, opener->ts))
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
struct alert *ll__eng_open_alert(ll_rule_engine *e, const struct match *m)
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
void ll__eng_affect(ll_rule_engine *e, struct alert *a, const struct match *m)
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

/* An event of a rule's "affects" step: noted on the open alert of its key,
 * or kept with the absence of that key still waiting to be raised.
 * @returns true if @p m was kept. */
bool ll__eng_on_affects(ll_rule_engine *e, struct match *m)
{
    struct alert *a = ll__eng_open_alert(e, m);
    if (a) {
        ll__eng_affect(e, a, m);
        return false;
    }
    struct pending *p = ll__eng_pending_of(e, m);
    if (!p || p->n_hits == MAX_AFFECTED)
        return false;
    LL_GROW(p->hits, p->n_hits, p->cap_hits, 8);
    p->hits[p->n_hits++] = m;
    return true;
}
