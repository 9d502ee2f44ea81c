/**
 * @file records.h
 * @brief logloom records: the event, the timeline and its alerts, the late event,
 *        rejected lines, and a run's statistics: what every module hands on.
 *
 * Part of the core (logloom/core.h includes it).
 */
#ifndef LOGLOOM_RECORDS_H
#define LOGLOOM_RECORDS_H

#include "logloom/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Events                                                                    */

/** @brief Stable position of a line: the source's name and the byte offset
 *         of the line's first byte in the (decompressed) stream. */
struct ll_pos {
    struct ll_str source; /**< lives as long as the pipeline */
    uint64_t offset;
};

enum ll_event_flag {
    LL_EV_TIME_INFERRED = 1u << 0, /**< no usable time: taken from a neighbour */
    LL_EV_HAS_ERR = 1u << 1,       /**< the line carried an error object */
    LL_EV_HAS_PID = 1u << 2,
    LL_EV_HAS_EXIT_CODE = 1u << 3,
    LL_EV_HAS_ERRNO = 1u << 4,
    LL_EV_SERVICE_FROM_NAME = 1u << 5, /**< service taken from the file name */
    LL_EV_HAS_CHILD_PID = 1u << 6,     /**< the line names a child process's pid */
    LL_EV_LINKED = 1u << 7,            /**< joined its workflow through a link key */
    LL_EV_RAW = 1u << 8,               /**< not JSON: the text of a line a process printed */
    LL_EV_MATCHED = 1u << 9,           /**< matched a step of a loaded rule */
};

/** @brief Kind of a JSON value taken from a line. */
enum ll_vtype {
    LL_V_NONE = 0, /**< absent */
    LL_V_STRING,
    LL_V_NUMBER, /**< the number's text as written */
    LL_V_BOOL,   /**< "true" or "false" */
    LL_V_NULL,
    LL_V_OBJECT, /**< present, an object or array (no text) */
};

/** @brief A value at a field path (borrowed like the event's strings). */
struct ll_value {
    struct ll_str s;
    uint8_t type; /**< enum ll_vtype */
};

/** @brief A decoded log line. Every view points into the raw line or into the
 *         decoder's batch arena and lives as long as the batch. */
struct ll_event {
    int64_t ts_ns;
    struct ll_pos pos;
    struct ll_str line; /**< the raw line, without its line ending */
    struct ll_str origin; /**< the file the line was written to, when the source is not
                               that file (a Kafka message's file header); else empty */
    struct ll_str msg;
    struct ll_str service;
    struct ll_str host;
    struct ll_str corr_id;
    struct ll_str err_type;
    struct ll_str err_msg;
    struct ll_str err_code;    /**< "ECONNRESET", "40P01", ... */
    struct ll_str err_syscall; /**< "spawn", "connect", ... */
    struct ll_str err_stack;   /**< first line of the stack only */
    struct ll_str signal;      /**< "SIGKILL", ... */
    struct ll_str conn_id;     /**< a connection or session id (link key) */
    int64_t pid;
    int64_t child_pid; /**< a spawned child's pid (link key) */
    int64_t err_errno;
    int64_t exit_code;
    const struct ll_value *extra; /**< further paths the decoder was asked for */
    const uint64_t *match;        /**< bits of the stateless rule steps that matched */
    uint32_t n_extra;
    uint32_t flags; /**< enum ll_event_flag */
    uint8_t level;  /**< enum ll_level */
    uint64_t seq;   /**< live sources: read order, from 1 (checkpoints); 0 otherwise */
};

/** @returns true if the event is error-level or carries an error object. */
bool ll_event_is_error(const struct ll_event *ev);

/* ------------------------------------------------------------------------ */
/* Timelines                                                                 */

enum ll_tl_status {
    LL_TL_OK = 0,
    LL_TL_FAILED,
    LL_TL_INCOMPLETE,
    LL_TL_TRUNCATED,
};

enum ll_tl_reason {
    LL_TL_CLOSED_GAP = 0, /**< the watermark passed the last event + gap */
    LL_TL_CLOSED_END,     /**< the input ended */
    LL_TL_CLOSED_TERMINAL,
    LL_TL_CLOSED_SPAN,
    LL_TL_CLOSED_EVENTS,
    LL_TL_CLOSED_EVICTED,
};

/** @returns "ok", "failed", "incomplete" or "truncated". */
const char *ll_tl_status_name(enum ll_tl_status s);
/** @returns "gap", "end", "terminal", "max_span", "max_events", "evicted". */
const char *ll_tl_reason_name(enum ll_tl_reason r);

/** @brief One event kept in a timeline. Strings are owned by the correlator
 *         and borrowed for the duration of the sink call. */
struct ll_tl_event {
    int64_t ts_ns;
    uint64_t offset;
    struct ll_str source;
    struct ll_str service;
    struct ll_str msg;
    struct ll_str err_code;
    struct ll_str line; /**< the raw line, when the correlator keeps lines */
    struct ll_str via;  /**< link key that attached it ("pid:4318"), else empty */
    uint32_t flags;     /**< enum ll_event_flag */
    uint8_t level;
};

/** @brief One hop of a workflow: a service joining it, and from where. */
struct ll_hop {
    struct ll_str from; /**< empty for the first service */
    struct ll_str to;
    int64_t ts_ns; /**< the joining service's first event */
};

/** @brief A closed workflow, handed to sinks. Borrowed for the duration of the
 *         sink call; everything it points to belongs to the correlator. */
struct ll_timeline {
    uint64_t id; /**< hash of correlation id and the earliest event (time, line bytes) */
    struct ll_str corr_id;
    int64_t start_ns;
    int64_t end_ns;
    enum ll_tl_status status;
    enum ll_tl_reason reason;
    const struct ll_str *services; /**< in order of first appearance */
    size_t n_services;
    const struct ll_hop *hops; /**< one per service, in joining order */
    size_t n_hops;
    const struct ll_tl_event *events; /**< kept events, in event-time order */
    size_t n_events_kept;
    uint64_t n_events;  /**< all events, kept or not */
    uint64_t n_errors;
    uint64_t n_dropped; /**< events counted but not kept (the middle of a long one) */
    uint64_t n_linked;  /**< events joined through link keys */
    bool terminal;      /**< a terminal event was seen */
    const uint64_t *alerts; /**< ids of the alerts raised on its events */
    size_t n_alerts;
    uint64_t seq_first, seq_last; /**< live sources: its events' read order span */
};

/** @brief An event that arrived after its workflow closed. */
struct ll_late {
    uint64_t timeline_id; /**< the closed timeline it belongs to, or 0 if forgotten */
    struct ll_str corr_id;
    struct ll_tl_event ev;
};

/** @brief A line an alert cites. */
struct ll_evidence {
    struct ll_pos pos;
    int64_t ts_ns;
    struct ll_str line;
};

/** @brief A raised alert, as sinks receive it (borrowed for the call). */
/** @brief Which record of an alert this is. Replay writes an alert once,
 *         when it closes; live sources write it as it opens, as it grows, and
 *         once more when it closes. Sinks upsert by id, so each record
 *         replaces the one before (a larger count, a later last_seen). */
enum ll_alert_state {
    LL_ALERT_ONCE = 0,   /**< its only record: decided and closed (replay) */
    LL_ALERT_OPEN,       /**< live: its first record; more follow */
    LL_ALERT_GREW,       /**< live: more matches folded in since the last record */
    LL_ALERT_CLOSED,     /**< live: its last record */
    LL_ALERT_CLOSED_SAME /**< live: it closed with nothing new since the last record
                              (for bookkeeping: not to be delivered again) */
};

struct ll_alert {
    uint64_t id; /**< hash of rule, group key and the opening event (time, line bytes) */
    struct ll_str rule;
    struct ll_str symptom;
    struct ll_str playbook; /**< playbook section, e.g. "5.1" */
    struct ll_str severity; /**< "info", "warning", "error" or "critical" */
    struct ll_str title;
    struct ll_str summary;
    struct ll_str corr_id; /**< empty when the events had none */
    struct ll_str service;
    struct ll_str remediation;
    int64_t first_ns, last_ns;
    uint64_t count;
    uint64_t timeline_id; /**< 0 when not tied to a workflow */
    const struct ll_evidence *evidence;
    size_t n_evidence;
    const struct ll_str *affected; /**< service-level: the correlation ids of the workflows
                                        it hit while it lasted (its blast radius) */
    size_t n_affected;
    uint64_t seq_first, seq_last; /**< live sources: read order of its opening and last match */
    enum ll_alert_state state;
};

/** @brief Events of one service that no workflow could claim. */
struct ll_orphans {
    struct ll_str service;
    uint64_t n;         /**< orphan events */
    uint64_t n_with_id; /**< events of the same service that had an id */
    int64_t first_ns, last_ns;
    struct ll_pos examples[3];
    size_t n_examples;
};

/** @brief Write the 16-hex-digit form of a record id. @p out holds 17 bytes. */
void ll_id_format(uint64_t id, char out[17]);

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */

/** @brief How a source's lines were read: the container framing and what
 *         its first JSON line said of its logger, time and id field. */
struct ll_source_shape {
    struct ll_str source;
    const char *framing; /**< "plain", "docker", "cri" or "timestamps" */
    const char *shape;   /**< "pino (time: time epoch, id: traceId)"; "" without JSON */
};

/** @brief Why a line was not turned into an event. */
enum ll_reject {
    LL_REJECT_NOT_JSON = 0,
    LL_REJECT_NOT_OBJECT,
    LL_REJECT_INVALID_UTF8,
    LL_REJECT_TOO_LONG,
    LL_REJECT_NUL_BYTE,
    LL_REJECT__COUNT
};

/** @returns "not_json", "not_object", "invalid_utf8", "too_long", "nul_byte". */
const char *ll_reject_name(enum ll_reject r);

/* ------------------------------------------------------------------------ */
/* Statistics of a run                                                      */

/** @brief What a delivery sink (PostgreSQL, Redis, a JSONL file) did. */
struct ll_delivery_report {
    const char *name;   /**< kind and URL, password masked */
    uint64_t queued;    /**< records handed to it */
    uint64_t delivered; /**< records acknowledged durable */
    uint64_t rejected;  /**< records the server refused as data (logged, counted) */
    uint64_t batches;   /**< batches made durable */
    uint64_t retries;   /**< batches written again after a transient error */
    uint64_t outages;   /**< times the server became unreachable */
    uint64_t waits;     /**< times the pipeline waited on a full queue */
    int64_t waited_ns;  /**< total time the pipeline waited */
};

/** @brief Counters of one run, reported as the final "stats" record. */
struct ll_stats {
    uint64_t inputs;
    uint64_t input_errors; /**< inputs that ended early (truncated .gz, EIO) */
    uint64_t bytes;        /**< decompressed bytes read */
    uint64_t lines;        /**< non-blank lines seen */
    uint64_t events;       /**< events delivered, raw ones included */
    uint64_t raw_events;   /**< lines that are not JSON, delivered as raw events */
    uint64_t rejected[LL_REJECT__COUNT];
    uint64_t time_inferred;
    uint64_t filtered; /**< events outside --from/--to */
    uint64_t timelines;
    uint64_t orphans;  /**< events no workflow could claim */
    uint64_t linked;   /**< events without an id joined through link keys */
    uint64_t late;     /**< events that arrived after their workflow closed */
    uint64_t evicted;  /**< timelines closed early by max_open_timelines */
    uint64_t open_max; /**< most timelines open at once */
    uint64_t alerts;   /**< alerts raised */
    uint64_t alerts_suppressed;   /**< matches folded into an open alert */
    uint64_t alerts_rate_limited; /**< alerts a rule's rate cap held back */
    uint64_t recovered;           /**< failures their service recovered from in time */
    uint64_t regex_limit_hits;    /**< regex evaluations stopped by a limit */
    const struct ll_source_shape *shapes; /**< replay: what each input's lines were
                                               understood as (borrowed) */
    size_t n_shapes;
    const struct ll_delivery_report *sinks; /**< one per delivery sink (borrowed) */
    size_t n_sinks;
};


/** @brief A named counter, e.g. orphan events of one service. */
struct ll_count {
    struct ll_str name;
    uint64_t n;
};

/** @returns the sum of all rejected counters. */
uint64_t ll_stats_rejected_total(const struct ll_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_RECORDS_H */
