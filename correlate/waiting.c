/* Events without an id: those no key claims wait in a heap until the
 * watermark passes them (a child may log before its parent's spawn line),
 * then join a workflow or are counted as orphans; lines with no time at all
 * wait for their pid to be taught. Late events are reported here too. */
#include "corr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Late events and orphans                                                   */

void ll__corr_emit_late(struct ll_correlator *c, const struct ll_event *ev, uint64_t tl_id,
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

void ll__corr_count_orphan(struct ll_correlator *c, const struct ll_event *ev, uint32_t source,
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

struct pending *ll__corr_pending_pop(struct ll_correlator *c)
{
    return pendings_pop(NULL, c->pending, &c->n_pending);
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
struct ll_event ll__corr_pending_event(const struct ll_correlator *c, const struct pending *p)
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
void ll__corr_settle(struct ll_correlator *c, uint64_t seq, struct ll_str id)
{
    if (c->out.settled)
        c->out.settled(c->out.ctx, seq, id);
}

/* Pid @p pid was just taught to @p s by @p teacher: the lines without any
 * time waiting for it join there, at the teacher's time. */
void ll__corr_claim_timeless(struct ll_correlator *c, struct session *s, struct ll_str pid,
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
        struct ll_event ev = ll__corr_pending_event(c, p);
        ev.ts_ns = teacher->ts_ns;
        ev.pid = 0;
        ev.flags |= LL_EV_LINKED;
        ll__corr_session_add(c, s, &ev, p->source, p->service, via, teacher_service, p->line_hash);
        ll__corr_settle(c, p->ev_seq, session_id(s));
        ll_pool_release(&c->pending_pool, p);
    }
    c->n_timeless = kept;
}

/* @returns the workflow's id when @p ev joined one (valid until the next
 * change of sessions), else empty. */
struct ll_str ll__corr_attach_or_orphan(struct ll_correlator *c, const struct ll_event *ev,
                                        uint32_t source, uint32_t service, uint64_t host,
                                        bool arriving, bool final, uint64_t lh)
{
    char via[MAX_VIA + 8];
    struct link *l = ll__corr_resolve(c, ev, service, host, via, sizeof via);
    if (l) {
        struct ll_event linked = *ev;
        linked.flags |= LL_EV_LINKED;
        ll__corr_session_add(c, l->owner, &linked, source, service, via, l->teacher_service, lh);
        return session_id(l->owner);
    }
    if (arriving) {
        struct kind k = ll__corr_kind_count(c, service, ev, false);
        struct ll_str shared;
        struct session *s = k.with >= MIN_KIND_WITH_ID && k.with >= 4 * k.without
                                ? ll__corr_renamed_from(c, service, ev, &shared)
                                : NULL;
        if (s) {
            snprintf(via, sizeof via, "value %.*s", (int)shared.len, shared.ptr);
            return ll__corr_join_lost(c, s, ev, source, service, via);
        }
    }
    int64_t name_pid;
    if (arriving && ev->ts_ns == 0 && (ev->flags & LL_EV_TIME_INFERRED) &&
        ll__corr_pid_in_name(c->names.v[service].s, &name_pid) && c->n_timeless < MAX_TIMELESS) {
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
    ll__corr_count_orphan(c, ev, source, service);
    return LL_STR_NULL;
}

/* Gives every waiting event the watermark has passed its final chance, in
 * event-time order. */
void ll__corr_drain_pending(struct ll_correlator *c, bool all)
{
    while (c->n_pending && (all || c->pending[0]->ts <= c->wm)) {
        struct pending *p = ll__corr_pending_pop(c);
        struct ll_event ev = ll__corr_pending_event(c, p);
        ll__corr_settle(c, p->ev_seq,
                        ll__corr_attach_or_orphan(c, &ev, p->source, p->service, p->host, false,
                                                  true, p->line_hash));
        ll_pool_release(&c->pending_pool, p);
    }
}
