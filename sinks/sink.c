/* The generic part of a sink: construction, buffered writes, dispatch;
 * waiting for a connection's socket. */
#include "sink_int.h"

#include <errno.h>
#include <poll.h>

ll_sink *ll__sink_new(const struct ll__sink_ops *ops, FILE *out,
                      const struct ll_sink_opts *opts)
{
    ll_sink *s = ll_calloc(1, sizeof *s);
    s->ops = ops;
    s->out = out;
    if (opts)
        s->opts = *opts;
    return s;
}

int ll__sink_write(ll_sink *s)
{
    int rc = ll_buf_write(&s->buf, s->out);
    ll_buf_reset(&s->buf);
    return rc;
}

int ll_sink_timeline(ll_sink *s, const struct ll_timeline *tl)
{
    return s->ops->timeline(s, tl);
}

int ll_sink_alert(ll_sink *s, const struct ll_alert *a)
{
    return s->ops->alert(s, a);
}

int ll_sink_late(ll_sink *s, const struct ll_late *late)
{
    return s->ops->late(s, late);
}

int ll_sink_stats(ll_sink *s, const struct ll_stats *st, const struct ll_orphans *orphans,
                  size_t n_orphans)
{
    return s->ops->stats(s, st, orphans, n_orphans);
}

int ll_sink_flush(ll_sink *s)
{
    if (!s->out) /* a delivery sink: ll_sink_drain() */
        return LL_OK;
    return fflush(s->out) == 0 && !ferror(s->out) ? LL_OK : LL_EIO;
}

void ll_sink_destroy(ll_sink *s)
{
    if (!s)
        return;
    if (s->ops->destroy)
        s->ops->destroy(s);
    ll_buf_free(&s->buf);
    ll_free(s);
}

int ll__wait_fd(int fd, bool write, int64_t timeout_ns)
{
    struct pollfd p = {.fd = fd, .events = write ? POLLOUT : POLLIN};
    int64_t until = ll_clock_mono_ns() + timeout_ns;
    for (;;) {
        int64_t left = until - ll_clock_mono_ns();
        if (left <= 0)
            return 0;
        int rc = poll(&p, 1, (int)((left + LL_NS_PER_MS - 1) / LL_NS_PER_MS));
        if (rc >= 0)
            return rc > 0 ? 1 : 0;
        if (errno != EINTR)
            return -1;
    }
}
