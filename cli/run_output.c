/* What `logloom run`'s stages give (run.c): alerts and timelines to the
 * sinks, once each across restarts (the lane's delivered records), facts
 * to the service stage, and the counts and logs of late events, late facts
 * and rejected lines. */
#include "daemon.h"

#include <stdio.h>

#define REJECTS_LOGGED 10 /* rejected lines logged one by one per window, */
#define REJECTS_WINDOW_NS (60 * LL_NS_PER_SEC) /* the others counted and summed up */

/* ------------------------------------------------------------------------ */
/* Output                                                                    */

static void count_alert(struct daemon *d, const struct ll_alert *a)
{
    for (size_t i = 0; i < d->n_alerts_rules; i++)
        if (ll_str_eq(a->rule, ll_str_c(d->alerts[i].name))) {
            d->alerts[i].n++;
            return;
        }
    d->alerts = ll_reallocarray(d->alerts, d->n_alerts_rules + 1, sizeof *d->alerts);
    d->alerts[d->n_alerts_rules++] =
        (struct count){ll_strndup(a->rule.ptr, a->rule.len),
                       ll_strndup(a->symptom.ptr, a->symptom.len), 1};
}

/* Live, an alert comes as it opens, as it grows and when it closes: each
 * record goes to the sinks (they upsert by id); the last is remembered for
 * the tombstones of what straddles a checkpoint. */
static void on_alert(void *ctx, const struct ll_alert *a)
{
    struct lane *l = ctx;
    struct daemon *d = l->d;
    if (ll__closed_seen_alert(&l->closed, a))
        return;
    struct ll_alert named;
    uint64_t tl = ll__closed_timeline_id(&l->closed, a);
    if (tl && tl != a->timeline_id) { /* a workflow read again in part */
        named = *a;
        named.timeline_id = tl;
        a = &named;
    }
    bool last = a->state == LL_ALERT_ONCE || a->state == LL_ALERT_CLOSED ||
                a->state == LL_ALERT_CLOSED_SAME;
    if (last)
        ll__closed_alert(&l->closed, a);
    if (a->state == LL_ALERT_ONCE || a->state == LL_ALERT_OPEN)
        count_alert(d, a);
    if (a->state == LL_ALERT_CLOSED_SAME)
        return;
    for (size_t i = 0; i < d->n_sinks; i++)
        ll_sink_alert(d->sinks[i], a);
    if (d->out) {
        ll_sink_alert(d->out, a);
        ll_sink_flush(d->out);
    }
}

static void on_timeline(void *ctx, const struct ll_timeline *tl)
{
    struct lane *l = ctx;
    struct daemon *d = l->d;
    if (ll__closed_seen_timeline(&l->closed, tl))
        return;
    ll__closed_timeline(&l->closed, tl);
    d->timelines++;
    for (size_t i = 0; i < d->n_sinks; i++)
        ll_sink_timeline(d->sinks[i], tl);
}

/* The correlating stage: a line for the service stage. */
static void on_fact(void *ctx, const struct ll_event *ev)
{
    struct lane *l = ctx;
    struct daemon *d = l->d;
    /* A mark sent said how far this partition got: a fact more than the
     * allowed lateness behind it will be late at the service stage. */
    if (l->marked != LL_TIME_NONE &&
        ev->ts_ns < ll_time_sub(l->marked, l->stage.lateness_ns)) {
        int64_t now = ll_clock_mono_ns();
        if (!d->facts_behind_mark++ || now - d->facts_behind_logged >= 60 * LL_NS_PER_SEC) {
            d->facts_behind_logged = now;
            ll_log(LL_LEVEL_WARN, "facts", "%.*s at offset %llu: a fact %.3f s behind the "
                   "last mark sent for its partition, more than the allowed lateness",
                   (int)ev->pos.source.len,
                   ev->pos.source.ptr, (unsigned long long)ev->pos.offset,
                   (double)(l->marked - ev->ts_ns) / 1e9);
        }
    }
    ll__facts_send(d->facts, ev);
}

/* The service stage: a fact behind its watermark. Counted; the first of
 * each minute is logged. */
static void on_late_fact(void *ctx, const struct ll_event *ev, int64_t wm)
{
    struct daemon *d = ((struct lane *)ctx)->d;
    int64_t now = ll_clock_mono_ns();
    if (!d->facts_late++ || now - d->facts_late_logged >= 60 * LL_NS_PER_SEC) {
        d->facts_late_logged = now;
        ll_log(LL_LEVEL_WARN, "facts", "%.*s at offset %llu came %.3f s behind the watermark "
               "(logloom_facts_late_total)", (int)ev->pos.source.len, ev->pos.source.ptr,
               (unsigned long long)ev->pos.offset, (double)(wm - ev->ts_ns) / 1e9);
    }
}

static void on_late(void *ctx, const struct ll_late *late)
{
    struct lane *l = ctx;
    (void)late;
    l->d->late++;
}

/* Closes the window of logged rejected lines once it is over (@p last: in
 * any case), saying how many more there were. */
void ll__run_rejects_window(struct daemon *d, int64_t now, bool last)
{
    if (!d->rejects_seen || (!last && now - d->rejects_since < REJECTS_WINDOW_NS))
        return;
    if (d->rejects_seen > REJECTS_LOGGED)
        ll_log(LL_LEVEL_WARN, "decode", "%llu more lines rejected in %.0fs, not logged one by one "
               "(logloom_rejected_lines_total%s%s)",
               (unsigned long long)(d->rejects_seen - REJECTS_LOGGED),
               (double)(now - d->rejects_since) / 1e9, d->dead.path ? "; all in " : "",
               d->dead.path ? d->dead.path : "");
    d->rejects_seen = 0;
}

/* A line that is no event: counted by the source, written to the
 * dead-letter file, and logged, the first REJECTS_LOGGED of a window one by
 * one. */
void ll__run_on_reject(void *ctx, enum ll_reject reason, const struct ll_pos *pos,
                       const struct ll_line *line, const char *detail)
{
    struct daemon *d = ctx;
    ll__dead_letter_write(&d->dead, reason, pos, line, detail);
    int64_t now = ll_clock_mono_ns();
    ll__run_rejects_window(d, now, false);
    if (!d->rejects_seen++)
        d->rejects_since = now;
    if (d->rejects_seen <= REJECTS_LOGGED)
        ll_log(LL_LEVEL_WARN, "decode", "%.*s at offset %llu: line rejected, %s: %s%s",
               (int)pos->source.len, pos->source.ptr, (unsigned long long)pos->offset,
               ll_reject_name(reason), detail,
               d->rejects_seen == REJECTS_LOGGED ? " (more in this minute are counted, not "
                                                   "logged one by one)"
                                                 : "");
}

struct ll__stage_out ll__run_lane_out(struct lane *l)
{
    const struct daemon *d = l->d;
    return (struct ll__stage_out){
        .timeline = on_timeline,
        .late = on_late,
        .alert = on_alert,
        .fact = d->rc.stage == LL__STAGE_CORRELATE ? on_fact : NULL,
        .late_fact = d->rc.stage == LL__STAGE_SERVICE ? on_late_fact : NULL,
        .ctx = l,
    };
}
