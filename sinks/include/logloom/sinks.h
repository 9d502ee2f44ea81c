/**
 * @file sinks.h
 * @brief logloom sinks: where closed timelines and run statistics go.
 *
 * A sink is an opaque handle with a few verbs. This header offers the
 * terminal-facing ones: JSON lines (the stable machine contract) and a text
 * view for people, plus an HTML report file. Records passed in are borrowed
 * for the call.
 */
#ifndef LOGLOOM_SINKS_H
#define LOGLOOM_SINKS_H

#include "logloom/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ll_sink ll_sink;

struct ll_sink_opts {
    bool events; /**< jsonl: add "event_list" to timeline records */
    bool color;  /**< text: ANSI colours */
};

/** @brief JSON lines on @p out (not closed by the sink). */
ll_sink *ll_sink_jsonl_new(FILE *out, const struct ll_sink_opts *opts);
/** @brief A readable timeline per workflow on @p out (not closed). */
ll_sink *ll_sink_text_new(FILE *out, const struct ll_sink_opts *opts);
/** @brief A self-contained HTML post-mortem report on @p out (not closed):
 *         one page with inline CSS and JS, no external assets, for offline
 *         viewing. Timelines and late events are copied (with the raw lines
 *         the correlator kept) and the page is written when the run's stats
 *         arrive; nothing is written before. @p opts is unused (may be NULL).
 *  @returns the sink; free with ll_sink_destroy(). */
ll_sink *ll_sink_html_new(FILE *out, const struct ll_sink_opts *opts);

/** @brief Deliver a closed timeline. @returns LL_OK or LL_EIO. */
int ll_sink_timeline(ll_sink *s, const struct ll_timeline *tl);
/** @brief Deliver an alert. @returns LL_OK or LL_EIO. */
int ll_sink_alert(ll_sink *s, const struct ll_alert *a);
/** @brief Deliver an event that arrived after its workflow closed.
 *  @returns LL_OK or LL_EIO. */
int ll_sink_late(ll_sink *s, const struct ll_late *late);
/** @brief Deliver the end of a run: the orphan summary per service, then the
 *  final statistics. @returns LL_OK or LL_EIO. */
int ll_sink_stats(ll_sink *s, const struct ll_stats *st, const struct ll_orphans *orphans,
                  size_t n_orphans);
/** @brief Flush buffered output. @returns LL_OK or LL_EIO. */
int ll_sink_flush(ll_sink *s);
void ll_sink_destroy(ll_sink *s);

/** @brief Append the JSON line of a timeline record (with a trailing newline)
 *         to @p b. Shared by every sink that writes the JSONL contract. */
void ll_timeline_to_json(struct ll_buf *b, const struct ll_timeline *tl, bool events);
/** @brief Append the JSON line of an alert record to @p b. */
void ll_alert_to_json(struct ll_buf *b, const struct ll_alert *a);
/** @brief Append the JSON line of a late event record to @p b. */
void ll_late_to_json(struct ll_buf *b, const struct ll_late *late);
/** @brief Append the JSON line of one service's orphan summary to @p b. */
void ll_orphans_to_json(struct ll_buf *b, const struct ll_orphans *o);
/** @brief Append the JSON line of the stats record to @p b. */
void ll_stats_to_json(struct ll_buf *b, const struct ll_stats *st,
                      const struct ll_orphans *orphans, size_t n_orphans);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_SINKS_H */
