/* The rule engine's threshold and sequence rules: per rule and key, the
 * recent matches within the rule's window. */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

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

void ll__eng_keystate_free(ll_rule_engine *e, struct keystate *k)
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
bool ll__eng_on_threshold(ll_rule_engine *e, struct match *m)
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
        ll__eng_raise_alert(e, m, k->win[k->n_win - r->threshold], k->win + k->n_win - r->threshold,
                    r->threshold);
    /* Only the last threshold - 1 matches can still start a window. */
    while (k->n_win > r->threshold) {
        ll_pool_release(&e->pool, k->win[0]);
        memmove(k->win, k->win + 1, (--k->n_win) * sizeof *k->win);
    }
    return true;
}

/* Sequence: stage i holds the earliest live run that has done steps 0..i. */
bool ll__eng_on_sequence(ll_rule_engine *e, struct match *m)
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
        ll__eng_raise_alert(e, m, k->stage[j - 1][0], k->stage[j - 1], k->stage_n[j - 1]);
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
