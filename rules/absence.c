/* The rule engine's absence rules: an "after" waits for its "expect" of
 * the same key within the window (or an "until" of the same scope plus a
 * grace), and raises when it does not come. */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Absence                                                                   */

struct ll_str ll__eng_pending_key(const void *p)
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

void ll__eng_pending_unlink(ll_rule_engine *e, struct rule_state *st, struct pending *p)
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

void ll__eng_pending_release(ll_rule_engine *e, struct pending *p)
{
    for (size_t i = 0; i < p->n_hits; i++)
        ll_pool_release(&e->pool, p->hits[i]);
    ll_free(p->hits);
    ll_pool_release(&e->pool, p->m);
    ll_pool_release(&e->pool, p);
}

void ll__eng_pending_free(ll_rule_engine *e, struct rule_state *st, struct pending *p)
{
    ll__eng_pending_unlink(e, st, p);
    ll__eng_pending_release(e, p);
}

/* The earliest absence of @p m's rule and key still waiting, begun no
 * later than @p m. */
struct pending *ll__eng_pending_of(ll_rule_engine *e, const struct match *m)
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

bool ll__eng_on_absence(ll_rule_engine *e, struct match *m)
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
                ll__eng_pending_free(e, st, p);
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
        ll__eng_pending_free(e, st, st->head);
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
