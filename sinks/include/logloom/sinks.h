/**
 * @file sinks.h
 * @brief logloom sinks: where closed timelines and run statistics go.
 *
 * A sink is an opaque handle with a few verbs. The terminal-facing ones are
 * JSON lines (the stable machine contract), a text view for people and an
 * HTML report file. Delivery sinks (PostgreSQL, Redis, a JSONL file) each
 * run on their own thread behind a bounded queue, write in batches, and
 * acknowledge a record only once it is durable. Records passed in are
 * borrowed for the call.
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

/* ------------------------------------------------------------------------ */
/* Delivery sinks                                                            */

/** @brief What a delivery sink receives (a mask). */
enum ll_receive { LL_RECEIVE_ALERTS = 1, LL_RECEIVE_TIMELINES = 2 };

/** @brief Where and how a delivery sink writes. Set up with
 *         ll_delivery_conf_init(), then options by name (ll_delivery_conf_set)
 *         or from a "URL#name=value&..." spec (ll_delivery_conf_parse). */
struct ll_delivery_conf {
    char *url;                /**< postgresql://, a libpq "key=value" string,
                                   redis://, unix://, file: */
    unsigned receive;         /**< enum ll_receive mask (alerts) */
    size_t batch;             /**< records per batch (500) */
    int64_t linger_ns;        /**< a partial batch waits this long for more (0) */
    size_t queue;             /**< records queued before the pipeline waits (10000) */
    int64_t retry_min_ns;     /**< first backoff (250 ms), doubling, with jitter... */
    int64_t retry_max_ns;     /**< ...up to this (30 s) */
    int64_t connect_timeout_ns; /**< at start: how long to keep trying (30 s) */
    int64_t io_timeout_ns;    /**< a write or reply taking longer is an outage (30 s) */
    char *stream;             /**< Redis: stream of alerts ("logloom:alerts") */
    char *timeline_stream;    /**< Redis: stream of timelines ("logloom:timelines") */
    char *channel;            /**< Redis: channel for live alerts ("logloom:alerts"; "" none) */
    uint64_t maxlen;          /**< Redis: approximate cap of each stream (1000000; 0 none) */
    int64_t dedupe_ttl_ns;    /**< Redis: how long a delivered id is remembered (7 days) */
    uint64_t dedupe_bytes;    /**< file: how much of its end is read at start, so that a
                                   record already there is not written again (64 MiB; 0
                                   none) */
};

/** @brief Defaults, and a copy of @p url. */
void ll_delivery_conf_init(struct ll_delivery_conf *c, const char *url);
/** @brief Sets option @p name ("receive", "batch", "linger", "queue",
 *         "retry_min", "retry_max", "connect_timeout", "io_timeout", "stream",
 *         "timeline_stream", "channel", "maxlen", "dedupe_ttl", "dedupe_bytes").
 *  @returns LL_OK, or LL_EINVAL with the reason in @p err. */
int ll_delivery_conf_set(struct ll_delivery_conf *c, const char *name, const char *value,
                         char *err, size_t errsz);
/** @brief "URL" or "URL#name=value&name=value": init plus options. */
int ll_delivery_conf_parse(struct ll_delivery_conf *c, const char *spec, char *err,
                           size_t errsz);
void ll_delivery_conf_free(struct ll_delivery_conf *c);
/** @brief Every option of a delivery sink: its default and its meaning. */
extern const struct ll_conf_field ll_delivery_fields[];
extern const size_t ll_delivery_n_fields;
/** @brief @p url with any password replaced by "***" (URIs, libpq key=value
 *         strings, redis://, unix:// queries). Never fails; truncates. */
void ll_url_mask(const char *url, char *out, size_t size);
/** @brief Whether the option or property named by @p n bytes of @p k holds
 *         a secret (password, secret, sasl.oauthbearer.config, ssl.key.pem;
 *         any case), to be shown as "***". */
bool ll_secret_key(const char *k, size_t n);
/** @brief Whether @p url names a kind of sink logloom has (by its scheme;
 *         nothing is parsed further or connected), so that a configuration
 *         check finds an unknown one before a run does.
 *  @returns LL_OK, or LL_EINVAL with the reason (password masked) in @p err. */
int ll_delivery_url_check(const char *url, char *err, size_t errsz);
/** @brief Prints the kinds of sink a URL may name, one per line, each after
 *         @p indent (for --help). */
void ll_delivery_usage(FILE *out, const char *indent);

/** @brief Opens a delivery sink: connects (retrying what may pass, such as a
 *         server still starting, for connect_timeout), creates or migrates the
 *         schema (PostgreSQL) or loads the script (Redis), and starts its
 *         thread. Alerts and timelines given to it are queued; a full queue
 *         makes the caller wait (back-pressure). Late events and stats are
 *         ignored.
 *  @returns LL_OK; LL_EINVAL if it cannot work as configured (bad URL,
 *           authentication, no TLS support); LL_EIO if the server stayed
 *           unreachable. @p err holds the reason, passwords masked. */
int ll_sink_delivery_open(const struct ll_delivery_conf *c, ll_sink **out, char *err,
                          size_t errsz);
/** @returns the number of records acknowledged durable: every record handed
 *           to the sink up to that count is (they are acknowledged in order). */
uint64_t ll_sink_acked(ll_sink *s);
/** @brief Waits until every queued record is durable, or until @p *stop
 *         becomes true (looked at every 100 ms; may be NULL).
 *  @returns LL_OK, or LL_EAGAIN when stopped with records not yet durable. */
int ll_sink_drain(ll_sink *s, volatile const int *stop);
/** @returns the read order (seq) of the oldest event a record not yet
 *           durable derives from (live sources), UINT64_MAX if none: reading
 *           must resume there after a crash for it to be made again. */
uint64_t ll_sink_oldest_seq(ll_sink *s);
/** @brief ll_sink_drain() that gives up when ll_clock_mono_ns() passes
 *         @p deadline. @returns LL_OK or LL_EAGAIN. */
int ll_sink_drain_until(ll_sink *s, int64_t deadline);
/** @brief Counters so far; the name stays valid while the sink lives. */
void ll_sink_report(ll_sink *s, struct ll_delivery_report *out);

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
