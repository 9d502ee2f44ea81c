/* Private to sinks/: the operations table behind the opaque ll_sink. */
#ifndef LOGLOOM_SINK_INT_H
#define LOGLOOM_SINK_INT_H

#include "logloom/sinks.h"

struct ll__sink_ops {
    int (*timeline)(ll_sink *s, const struct ll_timeline *tl);
    int (*late)(ll_sink *s, const struct ll_late *late);
    int (*alert)(ll_sink *s, const struct ll_alert *a);
    int (*stats)(ll_sink *s, const struct ll_stats *st, const struct ll_orphans *orphans,
                 size_t n_orphans);
    void (*destroy)(ll_sink *s); /* frees priv; may be NULL */
};

struct ll_sink {
    const struct ll__sink_ops *ops;
    FILE *out;
    struct ll_sink_opts opts;
    struct ll_buf buf; /* one record at a time */
    void *priv;        /* state of the sink kind */
};

ll_sink *ll__sink_new(const struct ll__sink_ops *ops, FILE *out,
                      const struct ll_sink_opts *opts);
/* Write s->buf to s->out and reset it. */
int ll__sink_write(ll_sink *s);

/* Waits for @p fd to be readable (@p write: writable) for at most
 * @p timeout_ns. @returns 1 ready, 0 timed out, -1 error. */
int ll__wait_fd(int fd, bool write, int64_t timeout_ns);

#endif
