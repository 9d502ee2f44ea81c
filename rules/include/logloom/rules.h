/**
 * @file rules.h
 * @brief logloom rules: rule files (YAML), their compiler and linter, the
 *        stateless matchers that run during decode, and the stateful engine
 *        that raises alerts in event time.
 *
 * Three handles:
 * - ll_ruleset: the compiled rules, immutable once loaded; shared by every
 *   thread that decodes and by the engine.
 * - ll_rule_eval: the per-thread state the stateless matchers need (regex
 *   match data). Its ll_rule_eval_match() is the decoder's match hook.
 * - ll_rule_engine: the ordered, stateful part: suppression, thresholds,
 *   sequences, absences and timeline predicates. It sees events with their
 *   match bits, buffers the (few) matches until the watermark passes them,
 *   and processes them in event-time order, so its alerts do not depend on
 *   arrival order within the allowed lateness.
 *
 * Ownership: handles are freed with their _destroy (NULL accepted). Records
 * handed to callbacks are borrowed for the call. Strings in diagnostics
 * belong to the diagnostics list.
 */
#ifndef LOGLOOM_RULES_H
#define LOGLOOM_RULES_H

#include "logloom/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Symptoms                                                                  */

/** @brief A failure the playbooks describe. */
struct ll_symptom {
    const char *id;       /**< e.g. "spawn-einval" */
    const char *playbook; /**< playbook section, e.g. "1.1" */
    const char *title;    /**< one line, in the project's words */
};

/** @returns the built-in symptom named @p id, or NULL. */
const struct ll_symptom *ll_symptom_find(struct ll_str id);
/** @returns the built-in symptoms; @p n receives their number. */
const struct ll_symptom *ll_symptoms(size_t *n);

/* ------------------------------------------------------------------------ */
/* Diagnostics                                                               */

/** @brief One problem found in a rule file. */
struct ll_diag {
    char *file;
    int line, column; /**< 1-based; 0 when not tied to a place */
    char *rule;       /**< the rule's id, or NULL */
    char *message;
    bool warning;     /**< true: does not stop the load */
};

struct ll_diags {
    struct ll_diag *v;
    size_t n, cap;
    size_t errors;
};

/** @brief Write every diagnostic as "file:line:column: error: [rule] message". */
void ll_diags_print(const struct ll_diags *d, FILE *out);
void ll_diags_free(struct ll_diags *d);

/* ------------------------------------------------------------------------ */
/* Rule sets                                                                 */

typedef struct ll_ruleset ll_ruleset;

/** @brief Load and compile rules from YAML files and directories (files
 *         ending in .yaml or .yml), plus the built-in pack when @p builtin.
 *         Every problem is reported into @p diags (file, line, column, rule
 *         id), not only the first.
 *  @returns LL_OK and the rule set, or LL_EINVAL (NULL set) when any error
 *           was found. Free with ll_ruleset_destroy(). */
int ll_ruleset_load(const char *const *paths, size_t n, bool builtin, ll_ruleset **out,
                    struct ll_diags *diags);
void ll_ruleset_destroy(ll_ruleset *rs);

/** @returns the number of rules. */
size_t ll_ruleset_count(const ll_ruleset *rs);
/** @brief Print one line per rule: id, kind, symptom, playbook section,
 *         severity, title. */
void ll_ruleset_list(const ll_ruleset *rs, FILE *out);
/** @returns the number of stateless steps (bits of ev->match). */
size_t ll_ruleset_steps(const ll_ruleset *rs);
/** @returns the id of the rule that step @p bit belongs to. */
const char *ll_ruleset_step_rule(const ll_ruleset *rs, size_t bit);
/** @returns raw JSON paths the rules read (their "json." fields), which the
 *           decoder must extract into ev->extra in this order. */
const char *const *ll_ruleset_extra_paths(const ll_ruleset *rs, size_t *n);
/** @returns raw JSON paths that only alert summaries and keys read: not
 *           extracted from every line, but from a matched one's again
 *           (ll_rule_out.lazy), in this order. */
const char *const *ll_ruleset_lazy_paths(const ll_ruleset *rs, size_t *n);

/** @brief An example a rule carries: lines to feed through a pipeline and the
 *         number of alerts the rule must raise on them. */
struct ll_rule_example {
    const char *rule;
    const char *file;
    int line;
    const char *const *lines;
    size_t n_lines;
    size_t alerts; /**< alerts of this rule expected */
    bool at_least; /**< true: at least that many (match examples) */
};

/** @returns the examples of all rules; @p n receives their number. */
const struct ll_rule_example *ll_ruleset_examples(const ll_ruleset *rs, size_t *n);

/* ------------------------------------------------------------------------ */
/* Stateless matching (decode time)                                          */

typedef struct ll_rule_eval ll_rule_eval;

/** @brief Per-thread evaluation state for @p rs (which must outlive it). */
ll_rule_eval *ll_rule_eval_new(const ll_ruleset *rs);
void ll_rule_eval_destroy(ll_rule_eval *e);

/** @brief The decoder's match hook (ll_match_fn): evaluates every rule step on
 *         @p ev and sets ev->match (NULL when nothing matched; else a bit
 *         array allocated from @p arena). @p ctx is an ll_rule_eval. */
void ll_rule_eval_match(void *ctx, struct ll_event *ev, struct ll_arena *arena);

/** @returns regex evaluations a match or depth limit stopped so far. */
uint64_t ll_rule_eval_limit_hits(const ll_rule_eval *e);

/* ------------------------------------------------------------------------ */
/* The stateful engine                                                       */

/** @brief Where the engine's output goes. */
struct ll_rule_out {
    /** An alert closed (its suppression window passed, or the input ended);
     *  live, also as it opens and grows (see ll_rule_engine_set_live()). */
    void (*alert)(void *ctx, const struct ll_alert *a);
    /** An alert opened on a workflow; @returns the workflow's timeline id (0 if
     *  unknown). Called in event-time order as the watermark passes. */
    uint64_t (*opened)(void *ctx, uint64_t alert_id, struct ll_str corr_id, int64_t ts);
    /** May be NULL (those fields are then empty). Reads the lazy paths
     *  (ll_ruleset_lazy_paths()) of matched event @p ev's line into
     *  @p out->extra, in that order, in memory that lasts until the next
     *  call; @returns false if the line cannot be read again. */
    bool (*lazy)(void *ctx, const struct ll_event *ev, struct ll_event *out);
    void *ctx;
};

typedef struct ll_rule_engine ll_rule_engine;

/** @brief An engine for @p rs (which must outlive it). */
ll_rule_engine *ll_rule_engine_new(const ll_ruleset *rs, const struct ll_rule_out *out);
void ll_rule_engine_destroy(ll_rule_engine *e);

/** @brief Live sources: each alert is written as it opens, again as it
 *         grows (at most once a second, on ll_rule_engine_release()) and
 *         once more when it closes (ll_alert.state tells which). Matches of
 *         rules without a window (kind match) do not wait for the watermark:
 *         they are held for @p hold_ns of the caller's clock and raised in
 *         event-time order, so lines of one alert that arrive that much out
 *         of order still open it on its earliest line, as replay does. The
 *         other kinds wait for the watermark. */
void ll_rule_engine_set_live(ll_rule_engine *e, bool live, int64_t hold_ns);
/** @brief Live: the caller's clock reads @p now (monotonic ns): matches held
 *         long enough are raised, and alerts that grew are written. */
void ll_rule_engine_release(ll_rule_engine *e, int64_t now);
/** @returns live: when (the caller's clock) ll_rule_engine_release() next
 *           has something to do (a held match due, a grown alert to write),
 *           INT64_MAX if nothing waits: a caller that sleeps wakes by then. */
int64_t ll_rule_engine_next_release(const ll_rule_engine *e);
/** @brief Live: raises every held match and writes every alert that grew,
 *         now: before the engine is replaced (a rule reload), so that what
 *         arrived is not lost with it. */
void ll_rule_engine_settle(ll_rule_engine *e);
/** @returns the read order (seq) of the oldest event the engine's state
 *           still holds (matches waiting, open alerts, windows), UINT64_MAX
 *           if none. */
uint64_t ll_rule_engine_oldest_seq(const ll_rule_engine *e);

/** @brief Offer an event; only its matched steps are kept (copied).
 *  @returns whether it matched a step of the part the engine does not keep
 *           (ll_rule_engine_set_part()): the caller passes it on. */
bool ll_rule_engine_push(ll_rule_engine *e, const struct ll_event *ev);

/** @brief Which rule state an engine keeps: all of it (one process sees
 *         every line), or one stage of a Kafka topology's two. A step's
 *         state is the workflow's when its rule keys by correlation id (no
 *         group_by, no scope, no step key) and the event has one (its own or
 *         the one it joined); else it is the service's. */
enum ll_rule_part {
    LL_RULES_ALL = 0,
    LL_RULES_WORKFLOW, /**< the correlating stage: timeline rules and workflows' steps */
    LL_RULES_SERVICE,  /**< the service stage: the other steps */
};
/** @brief Keeps only @p part's state (ll_rule_engine_push() then says
 *         whether an event matched steps of the other part). */
void ll_rule_engine_set_part(ll_rule_engine *e, enum ll_rule_part part);

/** @brief The watermark rose to @p wm: process the matches it passed in
 *         event-time order and expire windows. With @p final (end of input)
 *         every match is processed; windows that could still have been
 *         satisfied (absences) are dropped, never guessed. */
void ll_rule_engine_advance(ll_rule_engine *e, int64_t wm, bool final);

/** @brief Evaluate timeline rules on a closing workflow.
 *  @param OUT ids receives the ids of alerts raised (at most @p max).
 *  @returns the number raised. */
size_t ll_rule_engine_timeline(ll_rule_engine *e, const struct ll_timeline *tl, uint64_t *ids,
                               size_t max);

/** @brief Close every open alert (end of input). */
void ll_rule_engine_flush(ll_rule_engine *e);

/** @brief Add alert counters (raised, suppressed, rate-limited) to @p st. */
void ll_rule_engine_stats(const ll_rule_engine *e, struct ll_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_RULES_H */
