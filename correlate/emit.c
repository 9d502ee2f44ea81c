/* A closed session becomes an ll_timeline: its events in order, its
 * services and hops, its status; and a tomb that tells late events of it
 * apart for a while. */
#include "corr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Emitting a closed timeline                                                */

/* Forgets the oldest tomb. */
void ll__corr_tomb_pop(struct ll_correlator *c)
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
        struct ll_str pid = ll__corr_pid_str(v->pid, pbuf, sizeof pbuf);
        for (struct link *l = s->links; l; l = l->next)
            if (ll__corr_has_key(l, LINK_PID, pid) && l->teacher_service != v->name)
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
uint64_t ll__corr_session_tl_id(const struct session *s)
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
    uint64_t id = ll__corr_session_tl_id(s);
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
            ll__corr_tomb_pop(c);
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

void ll__corr_session_close(struct ll_correlator *c, struct session *s, enum ll_tl_reason why)
{
    ll_timerwheel_del(&c->wheel, &s->timer);
    ll__corr_chain_remove(c, s);
    c->n_open--;
    emit(c, s, why);
    while (s->links) {
        struct link *l = s->links;
        ll__corr_link_unown(l);
        ll_idmap_del(&c->links, l->hash, l);
        if (l->cached_by != LL__NAME_NONE)
            *ll__corr_cache_of(c, l) = NULL;
        ll_blocks_put(&c->blocks, l, sizeof *l + l->len);
    }
    ll__corr_session_free(c, s);
}
