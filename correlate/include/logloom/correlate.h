/**
 * @file correlate.h
 * @brief logloom correlate: events → per-workflow timelines keyed by
 *        correlation id, in event time.
 *
 * The correlator is the ordered stage of the pipeline: events are pushed in
 * (roughly) event-time order, and a timeline closes when the watermark (the
 * newest event time seen minus the allowed lateness) passes its last event
 * plus the session gap, or when the input ends. Closed timelines are handed
 * to a callback; the record is borrowed for the duration of the call.
 *
 * Ownership: push() copies what it keeps, so events need only live for the
 * call. Names handed out (services, orphan counts) live as long as the
 * correlator.
 */
#ifndef LOGLOOM_CORRELATE_H
#define LOGLOOM_CORRELATE_H

#include "logloom/core.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ll_corr_conf {
    int64_t session_gap_ns;      /**< 0: 30 s */
    int64_t allowed_lateness_ns; /**< 0: 5 s; negative: none */
    size_t max_msg_bytes;        /**< message bytes kept per event; 0: 4096 */
};

typedef void ll_timeline_fn(void *ctx, const struct ll_timeline *tl);

typedef struct ll_correlator ll_correlator;

/** @brief Create a correlator that hands closed timelines to @p emit.
 *  @param conf NULL for the defaults. Free with ll_correlator_destroy(). */
ll_correlator *ll_correlator_new(const struct ll_corr_conf *conf, ll_timeline_fn *emit,
                                 void *ctx);
void ll_correlator_destroy(ll_correlator *c);

/** @brief Apply one event; may close (and emit) timelines the watermark has
 *         passed. An event without a correlation id is counted as an orphan
 *         of its service. */
void ll_correlator_push(ll_correlator *c, const struct ll_event *ev);

/** @brief The input has ended: close every open timeline, oldest activity
 *         first, with reason "end". */
void ll_correlator_flush(ll_correlator *c);

/** @returns timelines emitted so far. */
uint64_t ll_correlator_timelines(const ll_correlator *c);
/** @returns timelines currently open. */
size_t ll_correlator_open_count(const ll_correlator *c);
/** @returns events without a correlation id so far. */
uint64_t ll_correlator_orphans(const ll_correlator *c);

/** @brief Orphan events per service, sorted by service name.
 *  @param OUT n number of entries. @returns an array owned by the correlator,
 *           valid until the next push or destroy. */
const struct ll_count *ll_correlator_orphans_by_service(ll_correlator *c, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_CORRELATE_H */
