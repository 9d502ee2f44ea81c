/* Private to sinks/: the drivers behind a delivery sink. delivery.c owns the
 * queue, the thread, batching, backoff and acknowledgements; a driver only
 * connects and writes one batch, and says what kind of failure it met. */
#ifndef LOGLOOM_DELIVERY_INT_H
#define LOGLOOM_DELIVERY_INT_H

#include "logloom/sinks.h"

/* One queued record: an alert or a timeline as its JSON line (no newline),
 * and for alerts a compact JSON for live subscribers. */
struct ll__rec {
    uint64_t seq;     /* queue order */
    uint64_t src_seq; /* read order of the oldest event it derives from (live sources) */
    unsigned kind;   /* LL_RECEIVE_ALERTS or LL_RECEIVE_TIMELINES */
    uint64_t version; /* an alert's count (a record of it with a larger one replaces it) */
    char id[17];     /* the record's id, hex */
    struct ll_str json, compact;
};

/* What a failed write means for the batch. */
enum ll__wr {
    WR_OK,     /* durable */
    WR_RETRY,  /* transient (deadlock, serialisation): same connection, after a backoff */
    WR_OUTAGE, /* the server is gone or refuses work: reconnect with backoff */
    WR_REJECT, /* record *bad cannot be stored (the server says its data is wrong) */
};

struct ll__driver_ops {
    const char *kind; /* "postgres", "redis", "file", "kafka" */
    /* Parses the URL (LL_EINVAL with a reason if it cannot), without
     * connecting. */
    int (*open)(const struct ll_delivery_conf *c, void **d, char *err, size_t errsz);
    /* LL_OK; LL_EAGAIN when trying again may help (server down, starting,
     * too many connections); LL_EINVAL when it cannot work as configured
     * (authentication, missing database). */
    int (*connect)(void *d, char *err, size_t errsz);
    enum ll__wr (*write)(void *d, struct ll__rec *const *recs, size_t n, size_t *bad, char *err,
                         size_t errsz);
    void (*disconnect)(void *d);
    void (*destroy)(void *d);
};

extern const struct ll__driver_ops ll__pg_ops, ll__redis_ops, ll__file_ops, ll__kafka_ops;

#endif
