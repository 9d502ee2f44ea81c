/**
 * @file correlate.h
 * @brief logloom correlate: events → per-workflow timelines keyed by
 *        correlation id, in event time, with bounded memory.
 *
 * The correlator is the ordered stage of the pipeline. Time is the events'
 * own: each source's watermark is its newest event time minus the allowed
 * lateness, and the pipeline's watermark is the lowest over the sources that
 * are active (a source silent for idle_timeout of event time stops holding it
 * back). A timeline is a session of one correlation id: events at most
 * session_gap apart. It closes when the watermark passes its last event plus
 * the gap, passes a terminal event, or at a cap (max_span, max_events,
 * max_open_timelines); the record says why. Output depends only on the
 * events, not on how they were batched, and events displaced by less than
 * the allowed lateness give the same timelines as sorted input.
 *
 * Events without a correlation id join a workflow through link keys learned
 * from events that had one: a child's pid (a parent logs `childPid` with the
 * id; the child logs its own `pid`), or a connection id. Raw events (text a
 * process printed, such as a crash report) join the workflow their source
 * belongs to when that source has carried one workflow only. The rest are
 * orphans, counted per service. Events that arrive after their timeline closed are
 * handed out as late, never dropped silently.
 *
 * Ownership: push() copies what it keeps, so events need only live for the
 * call. Records handed to callbacks are borrowed for the call.
 */
#ifndef LOGLOOM_CORRELATE_H
#define LOGLOOM_CORRELATE_H

#include "logloom/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Decides whether an event ends its workflow (e.g. "workflow
 *         finished"); called for events that have a correlation id. */
typedef bool ll_terminal_fn(void *ctx, const struct ll_event *ev);

/** @brief The defaults of struct ll_corr_conf (a field left 0 takes its
 *         own); the configuration, `config show` and `--help` say these. */
#define LL_CORR_SESSION_GAP_NS (30 * LL_NS_PER_SEC)
#define LL_CORR_ALLOWED_LATENESS_NS (5 * LL_NS_PER_SEC)
#define LL_CORR_IDLE_TIMEOUT_NS (30 * LL_NS_PER_SEC)
#define LL_CORR_MAX_SPAN_NS (3600 * LL_NS_PER_SEC)
#define LL_CORR_MAX_EVENTS 100000
#define LL_CORR_MAX_EVENTS_KEPT 1000
#define LL_CORR_MAX_OPEN 1000000
#define LL_CORR_MAX_MSG_BYTES 4096

struct ll_corr_conf {
    int64_t session_gap_ns;      /**< 0: LL_CORR_SESSION_GAP_NS */
    int64_t allowed_lateness_ns; /**< 0: LL_CORR_ALLOWED_LATENESS_NS; negative: none */
    int64_t idle_timeout_ns;     /**< 0: LL_CORR_IDLE_TIMEOUT_NS */
    int64_t max_span_ns;         /**< 0: LL_CORR_MAX_SPAN_NS */
    uint64_t max_events;         /**< per timeline before it is cut; 0: LL_CORR_MAX_EVENTS */
    size_t max_events_kept;      /**< per timeline, first and last halves; 0: the default */
    size_t max_open_timelines;   /**< 0: LL_CORR_MAX_OPEN */
    size_t max_msg_bytes;        /**< message bytes kept per event; 0: LL_CORR_MAX_MSG_BYTES */
    bool keep_lines;             /**< keep each kept event's raw line (4096 bytes at most) */
    ll_terminal_fn *is_terminal; /**< NULL: no terminal events */
    void *terminal_ctx;
};

/** @brief The options of the configuration's correlation section, by
 *         field of struct ll_corr_conf (options.c). */
extern const struct ll_conf_field ll_corr_fields[];
extern const size_t ll_corr_n_fields;

/** @brief Where the correlator's output goes (records borrowed for the call). */
struct ll_corr_out {
    void (*timeline)(void *ctx, const struct ll_timeline *tl);
    void (*late)(void *ctx, const struct ll_late *late); /**< may be NULL */
    /** May be NULL. An event without an id that ll_correlator_push() did
     *  not join at once (it returned empty) is settled: it joined workflow
     *  @p corr_id after all, or none (empty, an orphan). @p seq: its read
     *  order. Every such event is settled once (at the latest by flush). */
    void (*settled)(void *ctx, uint64_t seq, struct ll_str corr_id);
    void *ctx;
};

typedef struct ll_correlator ll_correlator;

/** @brief Create a correlator. @p conf NULL means the defaults.
 *  @returns the correlator; free with ll_correlator_destroy(). */
ll_correlator *ll_correlator_new(const struct ll_corr_conf *conf,
                                 const struct ll_corr_out *out);
void ll_correlator_destroy(ll_correlator *c);

/** @brief Apply one event. May close (and emit) timelines the watermark has
 *         passed, before the event is applied (as ll_correlator_observe()
 *         and the two steps after it would).
 *  @returns the correlation id of the workflow the event joined: its own, or
 *           the one a link key led to; empty if it joined none (yet). Valid
 *           until the next call. */
struct ll_str ll_correlator_push(ll_correlator *c, const struct ll_event *ev);

/** @returns the read order (seq) of the oldest event still held: in an
 *           open timeline, or waiting for a link key; UINT64_MAX if none.
 *           Reading may resume there after a crash and rebuild the state. */
uint64_t ll_correlator_oldest_seq(const ll_correlator *c);

/** @brief Live sources: event time has reached @p now though no event says
 *         so (the daemon extrapolates it from the wall clock while sources
 *         are quiet). Sources silent for idle_timeout by then stop holding
 *         the watermark back, so quiet workflows still close. */
void ll_correlator_tick(ll_correlator *c, int64_t now);

/** @brief The input has ended: resolve waiting events and close every open
 *         timeline with reason "end", in order of their earliest event
 *         (ll_correlator_settle_all(), then ll_correlator_close_all()). */
void ll_correlator_flush(ll_correlator *c);

/* The same in steps, for a caller that keeps state in event time too (the
 * rules): it catches up between the steps, so that the alerts it opens are
 * noted on timelines before they close, and the correlator never calls it.
 *
 *   wm = ll_correlator_observe(c, ev);        or ll_correlator_quiet(c, now)
 *   if (wm != LL_TIME_NONE) {
 *       ll_correlator_advance(c, wm);         events waiting settle
 *       ...the caller's own state reaches wm...
 *       ll_correlator_close_passed(c);        timelines wm passed close
 *   }
 *   ll_correlator_push(c, ev);                applies it; nothing left to close
 */

/** @brief Notes the time of @p ev's source. @returns the watermark that
 *         brings when it rises, else LL_TIME_NONE. */
int64_t ll_correlator_observe(ll_correlator *c, const struct ll_event *ev);
/** @brief As ll_correlator_tick(), without its steps. @returns the
 *         watermark @p now brings when it rises, else LL_TIME_NONE. */
int64_t ll_correlator_quiet(ll_correlator *c, int64_t now);
/** @brief The watermark is @p wm: events waiting for a link key that it
 *         passed join their workflow or none. */
void ll_correlator_advance(ll_correlator *c, int64_t wm);
/** @brief Closes (and emits) the timelines the watermark passed. */
void ll_correlator_close_passed(ll_correlator *c);
/** @brief The input has ended: every waiting event settles. */
void ll_correlator_settle_all(ll_correlator *c);
/** @brief Closes every open timeline with reason "end". */
void ll_correlator_close_all(ll_correlator *c);

/** @brief Note alert @p alert_id on the open timeline of @p corr_id that
 *         holds time @p ts, so its record lists the alert.
 *  @returns that timeline's id, or 0 if none is open. */
uint64_t ll_correlator_note_alert(ll_correlator *c, struct ll_str corr_id, int64_t ts,
                                  uint64_t alert_id);

/** @returns the pipeline watermark (LL_TIME_NONE before the first event). */
int64_t ll_correlator_watermark(const ll_correlator *c);
/** @returns timelines currently open. */
size_t ll_correlator_open_count(const ll_correlator *c);

/** @brief Bytes the kept events of open timelines hold (their records and
 *         strings); the rest of the correlator's memory is its overhead. */
size_t ll_correlator_kept_bytes(const ll_correlator *c);

/** @brief Add the correlator's counters (timelines, orphans, linked, late,
 *         evicted, open_max) to @p st. */
void ll_correlator_stats(const ll_correlator *c, struct ll_stats *st);

/** @brief Orphans per service, services in name order, only those with
 *         orphans. @returns an array owned by the correlator, valid until the
 *         next call on it. */
const struct ll_orphans *ll_correlator_orphans(ll_correlator *c, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_CORRELATE_H */
