/* The ordered stage: events reach the rule engine (which keeps only what
 * matched) and the correlator; when the correlator's watermark rises, the
 * stage orders the steps (waiting events settle, the engine catches up,
 * timelines close), so alerts the engine opens are noted on their
 * timelines before those close and neither module calls the other; a
 * closing timeline is offered to timeline rules, and goes out with every
 * alert raised on it. */
#include "logloom/runner.h"

#include <string.h>

/* Timeline rules that may fire on one workflow at most. */
#define LL__TIMELINE_ALERTS_MAX 64

static uint64_t on_opened(void *ctx, uint64_t alert_id, struct ll_str corr_id, int64_t ts)
{
    struct ll__stage *st = ctx;
    return ll_correlator_note_alert(st->corr, corr_id, ts, alert_id);
}

static void on_alert(void *ctx, const struct ll_alert *a)
{
    struct ll__stage *st = ctx;
    st->out.alert(st->out.ctx, a);
}

static void on_timeline(void *ctx, const struct ll_timeline *tl)
{
    struct ll__stage *st = ctx;
    if (!st->eng) {
        st->out.timeline(st->out.ctx, tl);
        return;
    }
    size_t room = tl->n_alerts + LL__TIMELINE_ALERTS_MAX;
    if (room > st->cap_ids) {
        st->cap_ids = room;
        st->ids = ll_reallocarray(st->ids, room, sizeof *st->ids);
    }
    if (tl->n_alerts)
        memcpy(st->ids, tl->alerts, tl->n_alerts * sizeof *st->ids);
    size_t n = tl->n_alerts + ll_rule_engine_timeline(st->eng, tl, st->ids + tl->n_alerts,
                                                      LL__TIMELINE_ALERTS_MAX);
    struct ll_timeline with = *tl;
    with.alerts = st->ids;
    with.n_alerts = n;
    st->out.timeline(st->out.ctx, &with);
}

static void on_late(void *ctx, const struct ll_late *late)
{
    struct ll__stage *st = ctx;
    if (st->out.late)
        st->out.late(st->out.ctx, late);
}

/* The json.* paths that only alert summaries and keys read, from a
 * matched event's line (the same streaming decoder every line went
 * through: the values a condition on the path would see, and no tree). */
static bool on_lazy(void *ctx, const struct ll_event *ev, struct ll_event *out)
{
    struct ll__stage *st = ctx;
    if (!st->lazy)
        return false;
    ll_arena_reset(&st->lazy_arena);
    enum ll_reject why;
    out->pos = ev->pos;
    return ll_decoder_decode(st->lazy, ev->line.ptr, ev->line.len, &st->lazy_arena, out, &why) ==
           LL_OK;
}

static void lazy_free(struct ll__stage *st)
{
    if (!st->lazy)
        return;
    ll_decoder_destroy(st->lazy);
    ll_arena_free(&st->lazy_arena);
    st->lazy = NULL;
}

void ll__stage_init(struct ll__stage *st, const struct ll_corr_conf *conf, const ll_ruleset *rs,
                    const struct ll__stage_out *out)
{
    *st = (struct ll__stage){.out = *out, .wm = INT64_MIN};
    struct ll_corr_conf c = *conf;
    st->lateness_ns = c.allowed_lateness_ns < 0   ? 0
                      : c.allowed_lateness_ns == 0 ? LL_CORR_ALLOWED_LATENESS_NS
                                                   : c.allowed_lateness_ns;
    ll__stage_set_rules(st, rs, LL__NOT_LIVE);
    struct ll_corr_out co = {on_timeline, on_late, NULL, st};
    st->corr = ll_correlator_new(&c, &co);
}

void ll__stage_set_rules(struct ll__stage *st, const ll_ruleset *rs, int64_t hold_ns)
{
    if (st->eng) {
        ll_rule_engine_settle(st->eng); /* what arrived is raised by the rules it matched */
        ll_rule_engine_stats(st->eng, &st->before);
    }
    ll_rule_engine_destroy(st->eng);
    st->eng = NULL;
    lazy_free(st);
    if (!rs)
        return;
    size_t n_lazy;
    const char *const *lazy = ll_ruleset_lazy_paths(rs, &n_lazy);
    if (n_lazy) {
        struct ll_decode_conf dc = {.extra_paths = lazy, .n_extra_paths = n_lazy};
        char err[256];
        if ((st->lazy = ll_decoder_new(&dc, err, sizeof err)))
            ll_arena_init(&st->lazy_arena, 4096);
        else
            ll_log(LL_LEVEL_ERROR, "rules", "the json.* fields of summaries and keys stay "
                   "empty: %s", err);
    }
    struct ll_rule_out ro = {on_alert, on_opened, on_lazy, st};
    st->eng = ll_rule_engine_new(rs, &ro);
    ll_rule_engine_set_live(st->eng, hold_ns != LL__NOT_LIVE, hold_ns);
    ll_rule_engine_set_part(st->eng, st->part);
}

void ll__stage_set_part(struct ll__stage *st, enum ll_rule_part part)
{
    st->part = part;
    if (st->eng)
        ll_rule_engine_set_part(st->eng, part);
}

uint64_t ll__stage_oldest_seq(const struct ll__stage *st)
{
    uint64_t c = ll_correlator_oldest_seq(st->corr);
    uint64_t e = st->eng ? ll_rule_engine_oldest_seq(st->eng) : UINT64_MAX;
    return c < e ? c : e;
}

/* The watermark rose to @p wm (LL_TIME_NONE: it did not): events waiting
 * for a workflow settle, the rules catch up, and only then do the
 * timelines it passed close, so the alerts the rules open are noted on
 * them. */
static void catch_up(struct ll__stage *st, int64_t wm)
{
    if (wm == LL_TIME_NONE)
        return;
    ll_correlator_advance(st->corr, wm);
    if (st->eng)
        ll_rule_engine_advance(st->eng, wm, false);
    ll_correlator_close_passed(st->corr);
}

void ll__stage_push(struct ll__stage *st, const struct ll_event *ev)
{
    if (st->part == LL_RULES_SERVICE) {
        if (ev->ts_ns < st->wm && st->out.late_fact)
            st->out.late_fact(st->out.ctx, ev, st->wm);
        if (st->eng)
            ll_rule_engine_push(st->eng, ev);
        return;
    }
    catch_up(st, ll_correlator_observe(st->corr, ev));
    struct ll_str joined = ll_correlator_push(st->corr, ev);
    if (!st->eng || !ev->match)
        return;
    /* A line that joined a workflow without its id (a child's line through
     * its pid, a crash report through its file, a new id minted at a hop)
     * raises its alerts there. */
    struct ll_event with = *ev;
    if (joined.len)
        with.corr_id = joined;
    if (ll_rule_engine_push(st->eng, &with) && st->out.fact)
        st->out.fact(st->out.ctx, &with);
}

void ll__stage_tick(struct ll__stage *st, int64_t now)
{
    if (st->part != LL_RULES_SERVICE) {
        catch_up(st, ll_correlator_quiet(st->corr, now));
        return;
    }
    int64_t wm = ll_time_sub(now, st->lateness_ns);
    if (st->eng && wm > st->wm)
        ll_rule_engine_advance(st->eng, wm, false);
    if (wm > st->wm)
        st->wm = wm;
}

void ll__stage_release(struct ll__stage *st, int64_t clock)
{
    if (st->eng)
        ll_rule_engine_release(st->eng, clock);
}

int64_t ll__stage_next_release(const struct ll__stage *st)
{
    return st->eng ? ll_rule_engine_next_release(st->eng) : INT64_MAX;
}

void ll__stage_flush(struct ll__stage *st)
{
    ll_correlator_settle_all(st->corr);
    if (st->eng)
        ll_rule_engine_advance(st->eng, INT64_MAX, true);
    ll_correlator_close_all(st->corr);
    if (st->eng)
        ll_rule_engine_flush(st->eng);
}

void ll__stage_stats(const struct ll__stage *st, struct ll_stats *out)
{
    ll_correlator_stats(st->corr, out);
    if (st->eng)
        ll_rule_engine_stats(st->eng, out);
    out->alerts += st->before.alerts;
    out->alerts_suppressed += st->before.alerts_suppressed;
    out->alerts_rate_limited += st->before.alerts_rate_limited;
    out->recovered += st->before.recovered;
}

void ll__stage_destroy(struct ll__stage *st)
{
    ll_correlator_destroy(st->corr);
    ll_rule_engine_destroy(st->eng);
    lazy_free(st);
    ll_free(st->ids);
}

ll_ruleset *ll__load_rules(const char *const *rules, size_t n_rules, struct ll_diags *diags)
{
    const char **paths = ll_calloc(n_rules ? n_rules : 1, sizeof *paths);
    size_t n = 0;
    bool builtin = n_rules == 0;
    for (size_t i = 0; i < n_rules; i++) {
        if (strcmp(rules[i], "builtin") == 0)
            builtin = true;
        else
            paths[n++] = rules[i];
    }
    ll_ruleset *rs = NULL;
    ll_ruleset_load(paths, n, builtin, &rs, diags);
    ll_free(paths);
    return rs;
}

bool ll__terminal_match(const char *const *terminal, size_t n, struct ll_str msg)
{
    for (size_t i = 0; i < n; i++) {
        struct ll_str t = ll_str_c(terminal[i]);
        bool prefix = t.len && t.ptr[t.len - 1] == '*';
        if (prefix)
            t.len--;
        if (prefix ? msg.len >= t.len && memcmp(msg.ptr, t.ptr, t.len) == 0 : ll_str_eq(msg, t))
            return true;
    }
    return false;
}
