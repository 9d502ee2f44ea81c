/* Private to the logloom executable: the ordered stage of a pipeline, the
 * correlator and the rule engine wired together. Decoded events go in;
 * timelines (with their alert ids), late events and alerts come out. */
#ifndef LOGLOOM_CLI_STAGE_H
#define LOGLOOM_CLI_STAGE_H

#include "logloom/correlate.h"
#include "logloom/rules.h"

struct ll__stage_out {
    void (*timeline)(void *ctx, const struct ll_timeline *tl);
    void (*late)(void *ctx, const struct ll_late *late);
    void (*alert)(void *ctx, const struct ll_alert *a);
    /* A Kafka topology's correlating stage: @p ev (its correlation id the
     * one it joined) matched steps that the service stage keeps. */
    void (*fact)(void *ctx, const struct ll_event *ev);
    /* The service stage: fact @p ev came with its time behind the
     * watermark @p wm (its absences and windows may have been decided
     * without it). */
    void (*late_fact)(void *ctx, const struct ll_event *ev, int64_t wm);
    void *ctx;
};

struct ll__stage {
    ll_correlator *corr;
    ll_rule_engine *eng; /* NULL without rules */
    struct ll__stage_out out;
    uint64_t *ids; /* scratch: a timeline's alert ids */
    size_t cap_ids;
    struct ll_stats before; /* alert counters of engines replaced by reloads */
    enum ll_rule_part part;
    int64_t lateness_ns; /* the service stage's watermark trails its input's time by this */
    int64_t wm;          /* the service stage's */
};

/* Builds the stage; @p rs may be NULL (no rules). @p conf is copied; its
 * on_advance hook is taken by the stage. */
void ll__stage_init(struct ll__stage *st, const struct ll_corr_conf *conf, const ll_ruleset *rs,
                    const struct ll__stage_out *out);
/* One stage of a Kafka topology (LL_RULES_ALL: not). The service stage's
 * events go to its rules only (their correlation ids are those the
 * correlating stage joined them to), and its watermark follows
 * ll__stage_tick() alone. Before the first event. */
void ll__stage_set_part(struct ll__stage *st, enum ll_rule_part part);
/* Not live: alerts when the watermark decides them (replay). */
#define LL__NOT_LIVE (-1)

/* Replaces the rule engine (its windows start over) with one for @p rs
 * (NULL: none). @p hold_ns: live (the daemon), alerts are written as they
 * open and grow, and windowless rules' matches are held this long (see
 * ll_rule_engine_set_live()); LL__NOT_LIVE: they wait for the watermark. */
void ll__stage_set_rules(struct ll__stage *st, const ll_ruleset *rs, int64_t hold_ns);
/* The read order of the oldest event the stage still holds (UINT64_MAX:
 * none). */
uint64_t ll__stage_oldest_seq(const struct ll__stage *st);
void ll__stage_push(struct ll__stage *st, const struct ll_event *ev);
/* Live sources are quiet: event time has reached @p now anyway. */
void ll__stage_tick(struct ll__stage *st, int64_t now);
/* Live: the clock reads @p clock (monotonic ns): held matches go on, grown
 * alerts are written (ll_rule_engine_release()). */
void ll__stage_release(struct ll__stage *st, int64_t clock);
/* Live: when ll__stage_release() next has work (INT64_MAX: none). */
int64_t ll__stage_next_release(const struct ll__stage *st);
/* The input ended: everything open closes. */
void ll__stage_flush(struct ll__stage *st);
void ll__stage_stats(const struct ll__stage *st, struct ll_stats *out);
void ll__stage_destroy(struct ll__stage *st);

/* Whether @p msg ends its workflow: it equals one of the @p n terminal
 * messages, or starts with one written "TEXT*" (--terminal,
 * correlation.terminal). */
bool ll__terminal_match(const char *const *terminal, size_t n, struct ll_str msg);

/* Rule files and directories (none, or "builtin" among them: the built-in
 * pack too); problems into @p diags. @returns NULL if there were errors. */
ll_ruleset *ll__load_rules(const char *const *rules, size_t n_rules, struct ll_diags *diags);

#endif
