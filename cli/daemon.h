/* Private to `logloom run` (run.c; its metrics in run_metrics.c, its
 * stages' output in run_output.c, its checkpoints in run_checkpoint.c):
 * the daemon's state. */
#ifndef LOGLOOM_CLI_DAEMON_H
#define LOGLOOM_CLI_DAEMON_H

#include "logloom/core.h"
#include "logloom/ingest.h"
#include "logloom/rules.h"
#include "logloom/runner.h"
#include "logloom/sinks.h"

struct count {
    char *name, *symptom;
    uint64_t n;
};

struct daemon;

/* An ordered stage with what it delivered, for a part of the input: the
 * files share one; each Kafka partition has its own, dropped when the
 * partition goes to another member of the group (which rebuilds it). */
struct lane {
    struct daemon *d;
    struct ll__stage stage;
    struct ll__closed closed; /* delivered, while a checkpoint could read them again */
    uint64_t committed;
    int64_t busy_wall; /* when any event last came (Kafka: by the partition's clock) */
    int64_t newest_ts, newest_wall; /* event time, and when it was seen (Kafka: by the
                                     * partition's reachable clock) */
    int64_t through; /* Kafka: tombstones loaded serve up to this offset (-1: none) */
    int64_t ticked;  /* event time by the clock while quiet (the last tick) */
    int64_t marked;  /* correlating stage: the time its last mark said (LL_TIME_NONE: none) */
};

/* The event time of Kafka lane @p l: its newest event's, or the clock's
 * while it is quiet; LL_TIME_NONE if it has none. */
static inline int64_t lane_time(const struct lane *l)
{
    if (!l->newest_ts)
        return LL_TIME_NONE;
    return l->ticked > l->newest_ts ? l->ticked : l->newest_ts;
}

struct daemon {
    struct ll__run_conf rc;
    ll_ruleset *rules;
    size_t threads;                      /* decoding Kafka messages */
    ll_rule_eval *eval[LL__MAX_THREADS]; /* one per thread; [0]: this one's (files too) */
    struct ll_decode_conf dconf;
    ll_tail **tails;
    size_t n_tails;
    uint64_t seq; /* read order, shared by the sources */
    struct lane files;
    ll_kafka *kafka;
    struct lane **lanes; /* by Kafka slot; NULL: free */
    int n_lanes;
    struct ll_stats gone; /* counters of lanes dropped */
    ll__facts *facts;     /* the correlating stage's, to the service stage */
    int n_inputs;         /* its input partitions in all (0: not known yet) */
    int64_t next_mark, mark_sent;
    struct ll_buf mark_was; /* what the last marks said */
    bool failed;          /* stopping: exit 1 */
    ll_sink **sinks;
    size_t n_sinks;
    ll_sink *out; /* no sinks configured: alerts as JSON lines on stdout */
    ll__endpoint *metrics;

    int64_t next_checkpoint, next_metrics, published;
    uint64_t checkpoint_failures; /* checkpoints that could not be written */
    int64_t checkpoint_at;        /* when the last one was (monotonic; 0: none yet) */
    bool unpublished; /* events read since metrics were last published */

    struct count *alerts; /* by rule */
    size_t n_alerts_rules;
    uint64_t timelines, late;
    uint64_t facts_late; /* the service stage's, behind its watermark */
    int64_t facts_late_logged;
    uint64_t facts_behind_mark; /* the correlating stage's, behind a mark it sent */
    int64_t facts_behind_logged;
    struct ll_buf text;

    struct ll__dead_letter dead; /* decode.dead_letter */
    int64_t rejects_since;       /* the window of rejected lines being logged */
    uint64_t rejects_seen;       /* in it */
};

/* Renders the daemon's counters for /metrics (Prometheus text) and
 * publishes them. */
void ll__run_publish_metrics(struct daemon *d);

/* run_checkpoint.c: a checkpoint of the files and the Kafka commits; one
 * partition's commit set aside; whether the facts allow a commit now (a
 * fact lost for good sets d->failed, which stops the run). */
void ll__run_checkpoint(struct daemon *d);
void ll__run_stage_commit(struct daemon *d, int slot);
bool ll__run_facts_safe(struct daemon *d);

/* run_output.c: what lane @p l's stage gives goes to the sinks, the facts
 * topic and the counters. */
struct ll__stage_out ll__run_lane_out(struct lane *l);
/* A rejected line (ll_tail_conf, ll_kafka_conf on_reject; ctx: the daemon). */
void ll__run_on_reject(void *ctx, enum ll_reject reason, const struct ll_pos *pos,
                       const struct ll_line *line, const char *detail);
/* Says how many rejected lines went unlogged once their window is over
 * (@p last: now). */
void ll__run_rejects_window(struct daemon *d, int64_t now, bool last);

#endif
