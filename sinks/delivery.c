/* Delivery sinks: a bounded queue, a thread, batches, backoff, acks.
 *
 * The pipeline hands alerts and timelines to ll_sink_alert/_timeline, which
 * serialise them and queue the record; a full queue makes the caller wait,
 * which is how back-pressure reaches the sources (replay stops reading). The
 * sink's thread takes up to `batch` records (what is queued when it comes
 * round, or what arrived within `linger` of the first), gives them to its driver, and acknowledges them only when
 * the driver says they are durable. Failures never drop a record:
 *
 *   transient (deadlock)        retry the batch on the same connection;
 *   outage (server gone)        reconnect with exponential backoff and
 *                               jitter, keeping the batch, one log line when
 *                               it starts and one when it ends;
 *   rejected data               the one record is logged and counted, the
 *                               rest of the batch goes on.
 *
 * Records are acknowledged in queue order, so "acked" is a count: every
 * record up to it is durable. That is what checkpoints wait for. */
#include "delivery_int.h"
#include "sink_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAUSE_LOG_NS (1 * LL_NS_PER_SEC) /* a wait this long is worth a log line */

/* ------------------------------------------------------------------------ */
/* The sink                                                                  */

struct delivery {
    struct ll_delivery_conf conf;
    const struct ll__driver_ops *ops;
    void *drv;
    char name[300]; /* kind and masked URL, for logs and reports */
    bool connected;
    uint64_t rng;

    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t items, space, acked_cv, wake;
    struct ll__rec **ring; /* queued, not yet taken */
    size_t cap, head, n;
    struct ll__rec **inflight; /* the batch being delivered */
    size_t n_inflight;
    uint64_t pushed, acked;
    bool closing; /* drain: deliver partial batches now */
    bool stop;    /* destroy: the thread leaves */
    struct ll_delivery_report rep;
    struct ll_buf scratch;
};

static int64_t mono_now(void)
{
    return ll_clock_mono_ns();
}

static struct timespec deadline_in(int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t t = (int64_t)ts.tv_sec * LL_NS_PER_SEC + ts.tv_nsec + ns;
    return (struct timespec){.tv_sec = t / LL_NS_PER_SEC, .tv_nsec = t % LL_NS_PER_SEC};
}

static void cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

/* Exponential backoff with jitter: a random time in [d/2, d], where d
 * doubles from retry_min per attempt up to retry_max. */
static int64_t backoff(struct delivery *d, unsigned attempt)
{
    int64_t base = d->conf.retry_min_ns;
    for (unsigned i = 0; i < attempt && base < d->conf.retry_max_ns; i++)
        base *= 2;
    if (base > d->conf.retry_max_ns)
        base = d->conf.retry_max_ns;
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return base / 2 + (int64_t)(d->rng % (uint64_t)(base / 2 + 1));
}

/* Sleeps @p ns unless the sink is being destroyed; @returns false then. */
static bool sleep_unless_stopped(struct delivery *d, int64_t ns)
{
    struct timespec until = deadline_in(ns);
    pthread_mutex_lock(&d->mu);
    while (!d->stop && pthread_cond_timedwait(&d->wake, &d->mu, &until) != ETIMEDOUT) {
    }
    bool go_on = !d->stop;
    pthread_mutex_unlock(&d->mu);
    return go_on;
}

static bool stopping(struct delivery *d)
{
    pthread_mutex_lock(&d->mu);
    bool s = d->stop;
    pthread_mutex_unlock(&d->mu);
    return s;
}

static void count(struct delivery *d, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&d->mu);
    *field += n;
    pthread_mutex_unlock(&d->mu);
}

/* Delivers one batch until it is durable (or the sink is destroyed); a
 * rejected record is freed and its slot at the end set to NULL. */
static void deliver(struct delivery *d, struct ll__rec **recs, size_t n)
{
    unsigned attempt = 0;
    bool down = false, failing = false;
    int64_t down_since = 0;
    char err[512];
    while (n && !stopping(d)) {
        if (!d->connected) {
            if (d->ops->connect(d->drv, err, sizeof err) != LL_OK) {
                if (!down) {
                    ll_log(LL_LEVEL_WARN, "sink", "%s: unreachable: %s; retrying with backoff, "
                           "nothing is dropped", d->name, err);
                    count(d, &d->rep.outages, 1);
                    down = true;
                    down_since = mono_now();
                }
                sleep_unless_stopped(d, backoff(d, attempt++));
                continue;
            }
            d->connected = true;
            if (down) {
                ll_log(LL_LEVEL_INFO, "sink", "%s: reconnected after %.1fs (%u attempts)",
                       d->name, (double)(mono_now() - down_since) / 1e9, attempt);
                down = false;
                attempt = 0;
            }
        }
        size_t badi = 0;
        enum ll__wr wr = d->ops->write(d->drv, recs, n, &badi, err, sizeof err);
        switch (wr) {
        case WR_OK:
            if (failing)
                ll_log(LL_LEVEL_INFO, "sink", "%s: writing again", d->name);
            count(d, &d->rep.batches, 1);
            return;
        case WR_RETRY:
            if (!failing)
                ll_log(LL_LEVEL_WARN, "sink", "%s: a batch failed (%s); retrying", d->name, err);
            failing = true;
            count(d, &d->rep.retries, 1);
            sleep_unless_stopped(d, backoff(d, attempt++));
            break;
        case WR_OUTAGE:
            d->ops->disconnect(d->drv);
            d->connected = false;
            if (!down) {
                ll_log(LL_LEVEL_WARN, "sink", "%s: connection lost: %s; retrying with backoff, "
                       "nothing is dropped", d->name, err);
                count(d, &d->rep.outages, 1);
                down = true;
                down_since = mono_now();
            }
            count(d, &d->rep.retries, 1);
            sleep_unless_stopped(d, backoff(d, attempt++));
            break;
        case WR_REJECT:
            ll_log(LL_LEVEL_ERROR, "sink", "%s: %s %s rejected: %s", d->name,
                   recs[badi]->kind == LL_RECEIVE_ALERTS ? "alert" : "timeline", recs[badi]->id,
                   err);
            count(d, &d->rep.rejected, 1);
            ll_free(recs[badi]);
            memmove(recs + badi, recs + badi + 1, (n - badi - 1) * sizeof *recs);
            recs[--n] = NULL;
            break;
        }
    }
}

/* A server that closes the connection while we write must not kill the
 * process with SIGPIPE: the write fails with EPIPE instead, an outage. The
 * signal is synchronous, so blocking it in the writing thread is enough;
 * one already raised is consumed before the mask is restored. */
static void block_sigpipe(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void restore_sigpipe(const sigset_t *old)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
        struct timespec none = {0, 0};
        sigtimedwait(&set, NULL, &none);
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static void *run(void *arg)
{
    struct delivery *d = arg;
    sigset_t old;
    block_sigpipe(&old); /* for the thread's life: pending ones are harmless */
    struct ll__rec **batch = ll_calloc(d->conf.batch, sizeof *batch);
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->n && !d->stop)
            pthread_cond_wait(&d->items, &d->mu);
        if (d->stop)
            break;
        /* A partial batch waits up to linger for company. */
        struct timespec until = deadline_in(d->conf.linger_ns);
        while (d->n < d->conf.batch && !d->closing && !d->stop &&
               pthread_cond_timedwait(&d->items, &d->mu, &until) != ETIMEDOUT) {
        }
        if (d->stop)
            break;
        size_t k = d->n < d->conf.batch ? d->n : d->conf.batch;
        for (size_t i = 0; i < k; i++) {
            batch[i] = d->ring[d->head];
            d->head = (d->head + 1) % d->cap;
        }
        d->n -= k;
        d->inflight = batch;
        d->n_inflight = k;
        pthread_cond_broadcast(&d->space);
        pthread_mutex_unlock(&d->mu);

        deliver(d, batch, k);

        pthread_mutex_lock(&d->mu);
        if (d->stop)
            break; /* the batch is abandoned: destroy frees what is left */
        for (size_t i = 0; i < k; i++) {
            ll_free(batch[i]);
            batch[i] = NULL;
        }
        d->n_inflight = 0;
        d->acked += k;
        d->rep.delivered = d->acked - d->rep.rejected;
        pthread_cond_broadcast(&d->acked_cv);
    }
    pthread_mutex_unlock(&d->mu);
    for (size_t i = 0; i < d->conf.batch; i++)
        ll_free(batch[i]);
    ll_free(batch);
    return NULL;
}

/* Queues one record; waits while the queue is full. */
static void enqueue(struct delivery *d, struct ll__rec *r)
{
    pthread_mutex_lock(&d->mu);
    if (d->n == d->cap) {
        int64_t t0 = mono_now();
        bool logged = false;
        d->rep.waits++;
        while (d->n == d->cap && !d->stop) {
            struct timespec until = deadline_in(PAUSE_LOG_NS);
            if (pthread_cond_timedwait(&d->space, &d->mu, &until) == ETIMEDOUT && !logged) {
                ll_log(LL_LEVEL_WARN, "sink", "%s: queue full (%zu records): input paused until "
                       "it drains", d->name, d->cap);
                logged = true;
            }
        }
        int64_t waited = mono_now() - t0;
        d->rep.waited_ns += waited;
        if (logged)
            ll_log(LL_LEVEL_INFO, "sink", "%s: input resumed after %.1fs", d->name,
                   (double)waited / 1e9);
    }
    if (d->stop) {
        pthread_mutex_unlock(&d->mu);
        ll_free(r);
        return;
    }
    r->seq = ++d->pushed;
    d->rep.queued++;
    d->ring[(d->head + d->n) % d->cap] = r;
    d->n++;
    pthread_cond_signal(&d->items);
    pthread_mutex_unlock(&d->mu);
}

/* A record holding @p json (without its newline) and @p compact. */
static struct ll__rec *make_rec(unsigned kind, uint64_t id, uint64_t version, uint64_t src_seq,
                                struct ll_str json, struct ll_str compact)
{
    struct ll__rec *r = ll_malloc(sizeof *r + json.len + compact.len + 2);
    char *p = (char *)(r + 1);
    memcpy(p, json.ptr, json.len);
    p[json.len] = '\0';
    memcpy(p + json.len + 1, compact.ptr, compact.len);
    p[json.len + 1 + compact.len] = '\0';
    *r = (struct ll__rec){.kind = kind, .src_seq = src_seq, .version = version,
                          .json = {p, json.len},
                          .compact = {p + json.len + 1, compact.len}};
    ll_id_format(id, r->id);
    return r;
}

static struct ll_str without_newline(const struct ll_buf *b)
{
    size_t n = b->len;
    while (n && b->data[n - 1] == '\n')
        n--;
    return (struct ll_str){b->data, n};
}

static void json_field(struct ll_buf *b, const char *name, struct ll_str v)
{
    ll_buf_printf(b, ",\"%s\":", name);
    ll_buf_json_opt(b, v);
}

static int delivery_alert(ll_sink *s, const struct ll_alert *a)
{
    struct delivery *d = s->priv;
    if (!(d->conf.receive & LL_RECEIVE_ALERTS))
        return LL_OK;
    ll_buf_reset(&s->buf);
    ll_alert_to_json(&s->buf, a);
    /* What a live subscriber needs to decide whether to look. */
    struct ll_buf *c = &d->scratch;
    ll_buf_reset(c);
    char id[17], first[LL_TIME_BUFSZ];
    ll_id_format(a->id, id);
    ll_time_format(a->first_ns, first);
    ll_buf_printf(c, "{\"id\":\"%s\"", id);
    json_field(c, "symptom", a->symptom);
    json_field(c, "severity", a->severity);
    json_field(c, "service", a->service);
    json_field(c, "correlation_id", a->corr_id);
    json_field(c, "title", a->title);
    json_field(c, "first_seen", ll_str_c(first));
    ll_buf_putc(c, '}');
    enqueue(d, make_rec(LL_RECEIVE_ALERTS, a->id, a->count, a->seq_first, without_newline(&s->buf),
                        (struct ll_str){c->data, c->len}));
    return LL_OK;
}

static int delivery_timeline(ll_sink *s, const struct ll_timeline *tl)
{
    struct delivery *d = s->priv;
    if (!(d->conf.receive & LL_RECEIVE_TIMELINES))
        return LL_OK;
    ll_buf_reset(&s->buf);
    ll_timeline_to_json(&s->buf, tl, false);
    enqueue(d, make_rec(LL_RECEIVE_TIMELINES, tl->id, 1, tl->seq_first, without_newline(&s->buf),
                        LL_STR("")));
    return LL_OK;
}

static int delivery_late(ll_sink *s, const struct ll_late *late)
{
    (void)s;
    (void)late;
    return LL_OK;
}

static int delivery_stats(ll_sink *s, const struct ll_stats *st,
                          const struct ll_orphans *orphans, size_t n_orphans)
{
    (void)s;
    (void)st;
    (void)orphans;
    (void)n_orphans;
    return LL_OK;
}

static void delivery_destroy(ll_sink *s)
{
    struct delivery *d = s->priv;
    if (d->started) {
        pthread_mutex_lock(&d->mu);
        d->stop = true;
        pthread_cond_broadcast(&d->items);
        pthread_cond_broadcast(&d->space);
        pthread_cond_broadcast(&d->wake);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
    }
    for (size_t i = 0; i < d->n; i++)
        ll_free(d->ring[(d->head + i) % d->cap]);
    if (d->connected)
        d->ops->disconnect(d->drv);
    if (d->drv)
        d->ops->destroy(d->drv);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->items);
    pthread_cond_destroy(&d->space);
    pthread_cond_destroy(&d->acked_cv);
    pthread_cond_destroy(&d->wake);
    ll_free(d->ring);
    ll_buf_free(&d->scratch);
    ll_delivery_conf_free(&d->conf);
    ll_free(d);
}

static const struct ll__sink_ops delivery_ops = {delivery_timeline, delivery_late,
                                                 delivery_alert, delivery_stats,
                                                 delivery_destroy};

static struct ll_delivery_conf conf_copy(const struct ll_delivery_conf *c)
{
    struct ll_delivery_conf k = *c;
    k.url = ll_strdup(c->url);
    k.stream = ll_strdup(c->stream);
    k.timeline_stream = ll_strdup(c->timeline_stream);
    k.channel = ll_strdup(c->channel);
    if (k.queue < k.batch)
        k.batch = k.queue;
    if (k.retry_max_ns < k.retry_min_ns)
        k.retry_max_ns = k.retry_min_ns;
    return k;
}

/* The drivers, by the URL schemes they take; a libpq key=value string has
 * none (any "name=value" with no scheme). The usage and the error for an
 * unknown sink are written from this table. */
static const struct driver {
    const char *schemes[3];
    bool key_value;
    const char *usage;
    const struct ll__driver_ops *ops;
} drivers[] = {
    {{"postgresql://", "postgres://"}, true,
     "postgresql://... or a libpq 'host=... dbname=...' string", &ll__pg_ops},
    {{"redis://", "rediss://", "unix://"}, false, "redis://... or unix:///path/redis.sock",
     &ll__redis_ops},
    {{"kafka://"}, false, "kafka://BROKER[,BROKER...]/TOPIC", &ll__kafka_ops},
    {{"file:"}, false, "file:PATH", &ll__file_ops},
};

#define N_DRIVERS (sizeof drivers / sizeof drivers[0])

/* The driver @p u names; NULL if none does. */
static const struct ll__driver_ops *driver_of(const char *u)
{
    for (size_t i = 0; i < N_DRIVERS; i++)
        for (size_t k = 0; k < 3 && drivers[i].schemes[k]; k++)
            if (strncmp(u, drivers[i].schemes[k], strlen(drivers[i].schemes[k])) == 0)
                return drivers[i].ops;
    bool scheme = strstr(u, "://") || strncmp(u, "file:", 5) == 0;
    for (size_t i = 0; i < N_DRIVERS; i++)
        if (drivers[i].key_value && strchr(u, '=') && !scheme)
            return drivers[i].ops;
    return NULL;
}

void ll_delivery_usage(FILE *out, const char *indent)
{
    for (size_t i = 0; i < N_DRIVERS; i++)
        fprintf(out, "%s%s\n", indent, drivers[i].usage);
}

int ll_delivery_url_check(const char *url, char *err, size_t errsz)
{
    if (driver_of(url))
        return LL_OK;
    char masked[256]; /* as in the sink's name */
    ll_url_mask(url, masked, sizeof masked);
    int n = snprintf(err, errsz, "unknown sink '%s': use", masked);
    for (size_t i = 0; i < N_DRIVERS && n >= 0 && (size_t)n < errsz; i++)
        n += snprintf(err + n, errsz - (size_t)n, "%s%s", i ? "; " : " ", drivers[i].usage);
    return LL_EINVAL;
}

/* The driver for @p url's scheme. */
static int pick_driver(struct delivery *d, char *err, size_t errsz)
{
    if (!(d->ops = driver_of(d->conf.url)))
        return ll_delivery_url_check(d->conf.url, err, errsz);
    return d->ops->open(&d->conf, &d->drv, err, errsz);
}

/* Connects, retrying what may pass for connect_timeout. */
static int first_connect(struct delivery *d, char *err, size_t errsz)
{
    int64_t give_up = mono_now() + d->conf.connect_timeout_ns;
    for (unsigned attempt = 0;; attempt++) {
        int rc = d->ops->connect(d->drv, err, errsz);
        if (rc == LL_OK) {
            d->connected = true;
            return LL_OK;
        }
        if (rc != LL_EAGAIN)
            return rc;
        int64_t wait = backoff(d, attempt);
        if (mono_now() + wait > give_up) {
            char *last = ll_strdup(err);
            snprintf(err, errsz, "still unreachable after %.0fs: %.400s",
                     (double)d->conf.connect_timeout_ns / 1e9, last);
            ll_free(last);
            return LL_EIO;
        }
        if (attempt == 0)
            ll_log(LL_LEVEL_WARN, "sink", "%s: %s; trying again for up to %.0fs", d->name, err,
                   (double)d->conf.connect_timeout_ns / 1e9);
        struct timespec ts = {.tv_sec = wait / LL_NS_PER_SEC, .tv_nsec = wait % LL_NS_PER_SEC};
        nanosleep(&ts, NULL);
    }
}

int ll_sink_delivery_open(const struct ll_delivery_conf *c, ll_sink **out, char *err,
                          size_t errsz)
{
    *out = NULL;
    struct delivery *d = ll_calloc(1, sizeof *d);
    d->conf = conf_copy(c);
    pthread_mutex_init(&d->mu, NULL);
    cond_init(&d->items);
    cond_init(&d->space);
    cond_init(&d->acked_cv);
    cond_init(&d->wake);
    d->cap = d->conf.queue;
    d->ring = ll_calloc(d->cap, sizeof *d->ring);
    d->rng = (uint64_t)mono_now() ^ (uint64_t)(uintptr_t)d ^ ((uint64_t)getpid() << 32);
    d->rng |= 1;
    char masked[256], reason[512];
    ll_url_mask(d->conf.url, masked, sizeof masked);
    int rc = pick_driver(d, reason, sizeof reason);
    snprintf(d->name, sizeof d->name, "%s %s", d->ops ? d->ops->kind : "sink", masked);
    d->rep.name = d->name;
    if (rc == LL_OK) {
        sigset_t old;
        block_sigpipe(&old);
        rc = first_connect(d, reason, sizeof reason);
        restore_sigpipe(&old);
    }
    ll_sink *s = ll__sink_new(&delivery_ops, NULL, NULL);
    s->priv = d;
    if (rc == LL_OK && pthread_create(&d->thread, NULL, run, d) != 0) {
        snprintf(reason, sizeof reason, "cannot start a thread: %s", strerror(errno));
        rc = LL_EIO;
    }
    if (rc != LL_OK) {
        snprintf(err, errsz, "%s: %s", d->name, reason);
        ll_sink_destroy(s);
        return rc;
    }
    d->started = true;
    *out = s;
    return LL_OK;
}

uint64_t ll_sink_acked(ll_sink *s)
{
    struct delivery *d = s->priv;
    pthread_mutex_lock(&d->mu);
    uint64_t n = d->acked;
    pthread_mutex_unlock(&d->mu);
    return n;
}

/* Waits until everything queued is durable, @p *stop is set, or the
 * monotonic clock passes @p deadline (0: never). */
static int drain(ll_sink *s, volatile const int *stop, int64_t deadline)
{
    struct delivery *d = s->priv;
    pthread_mutex_lock(&d->mu);
    d->closing = true;
    pthread_cond_broadcast(&d->items);
    while (d->acked < d->pushed && !(stop && *stop) && !(deadline && mono_now() >= deadline)) {
        struct timespec until = deadline_in(100 * LL_NS_PER_MS);
        pthread_cond_timedwait(&d->acked_cv, &d->mu, &until);
    }
    int rc = d->acked == d->pushed ? LL_OK : LL_EAGAIN;
    d->closing = false;
    pthread_mutex_unlock(&d->mu);
    return rc;
}

uint64_t ll_sink_oldest_seq(ll_sink *s)
{
    struct delivery *d = s->priv;
    uint64_t oldest = UINT64_MAX;
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->n; i++) {
        uint64_t q = d->ring[(d->head + i) % d->cap]->src_seq;
        if (q && q < oldest)
            oldest = q;
    }
    for (size_t i = 0; i < d->n_inflight; i++)
        if (d->inflight[i] && d->inflight[i]->src_seq && d->inflight[i]->src_seq < oldest)
            oldest = d->inflight[i]->src_seq;
    pthread_mutex_unlock(&d->mu);
    return oldest;
}

int ll_sink_drain(ll_sink *s, volatile const int *stop)
{
    return drain(s, stop, 0);
}

int ll_sink_drain_until(ll_sink *s, int64_t deadline)
{
    return drain(s, NULL, deadline);
}

void ll_sink_report(ll_sink *s, struct ll_delivery_report *out)
{
    struct delivery *d = s->priv;
    pthread_mutex_lock(&d->mu);
    *out = d->rep;
    pthread_mutex_unlock(&d->mu);
}
