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
/* Configuration                                                             */

static const char *const options[] = {
    "receive", "batch", "linger", "queue", "retry_min", "retry_max", "connect_timeout",
    "io_timeout", "stream", "timeline_stream", "channel", "maxlen", "dedupe_ttl", "dedupe_bytes",
};

const char *const *ll_delivery_options(size_t *n)
{
    *n = sizeof options / sizeof options[0];
    return options;
}

void ll_delivery_conf_init(struct ll_delivery_conf *c, const char *url)
{
    *c = (struct ll_delivery_conf){
        .url = ll_strdup(url ? url : ""),
        .receive = LL_RECEIVE_ALERTS,
        .batch = 500,
        .linger_ns = 0, /* an alert goes now; under load, batches fill meanwhile */
        .queue = 10000,
        .retry_min_ns = 250 * LL_NS_PER_MS,
        .retry_max_ns = 30 * LL_NS_PER_SEC,
        .connect_timeout_ns = 30 * LL_NS_PER_SEC,
        .io_timeout_ns = 30 * LL_NS_PER_SEC,
        .stream = ll_strdup("logloom:alerts"),
        .timeline_stream = ll_strdup("logloom:timelines"),
        .channel = ll_strdup("logloom:alerts"),
        .maxlen = 1000000,
        .dedupe_ttl_ns = 7 * 24 * 3600 * LL_NS_PER_SEC,
        .dedupe_bytes = (uint64_t)64 << 20,
    };
}

void ll_delivery_conf_free(struct ll_delivery_conf *c)
{
    ll_free(c->url);
    ll_free(c->stream);
    ll_free(c->timeline_stream);
    ll_free(c->channel);
    *c = (struct ll_delivery_conf){0};
}

static int bad(char *err, size_t errsz, const char *name, const char *value, const char *want)
{
    snprintf(err, errsz, "sink option %s: '%s' is not %s", name, value, want);
    return LL_EINVAL;
}

static bool parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || n < min || n > max)
        return false;
    *out = n;
    return true;
}

static int parse_receive(const char *v, unsigned *out, char *err, size_t errsz)
{
    unsigned mask = 0;
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n == 6 && strncmp(p, "alerts", 6) == 0)
            mask |= LL_RECEIVE_ALERTS;
        else if (n == 9 && strncmp(p, "timelines", 9) == 0)
            mask |= LL_RECEIVE_TIMELINES;
        else if ((n == 4 && strncmp(p, "both", 4) == 0) || (n == 3 && strncmp(p, "all", 3) == 0))
            mask |= LL_RECEIVE_ALERTS | LL_RECEIVE_TIMELINES;
        else if (n)
            return bad(err, errsz, "receive", v, "alerts, timelines or both");
        p += n;
        p += strspn(p, ", ");
    }
    if (!mask)
        return bad(err, errsz, "receive", v, "alerts, timelines or both");
    *out = mask;
    return LL_OK;
}

static int set_duration(int64_t *out, const char *name, const char *v, bool zero_ok, char *err,
                        size_t errsz)
{
    int64_t d;
    if (ll_duration_parse(v, &d) != LL_OK || d < 0 || (d == 0 && !zero_ok))
        return bad(err, errsz, name, v, "a duration such as 200ms, 5s or 1m");
    *out = d;
    return LL_OK;
}

static void set_str(char **field, const char *v)
{
    ll_free(*field);
    *field = ll_strdup(v);
}

int ll_delivery_conf_set(struct ll_delivery_conf *c, const char *name, const char *v, char *err,
                         size_t errsz)
{
    uint64_t n;
    if (strcmp(name, "receive") == 0)
        return parse_receive(v, &c->receive, err, errsz);
    if (strcmp(name, "batch") == 0 || strcmp(name, "queue") == 0) {
        if (!parse_u64(v, 1, 1000000, &n))
            return bad(err, errsz, name, v, "a count from 1 to 1000000");
        *(strcmp(name, "batch") == 0 ? &c->batch : &c->queue) = (size_t)n;
        return LL_OK;
    }
    if (strcmp(name, "maxlen") == 0) {
        if (!parse_u64(v, 0, UINT64_MAX / 2, &n))
            return bad(err, errsz, name, v, "a count (0: no cap)");
        c->maxlen = n;
        return LL_OK;
    }
    if (strcmp(name, "dedupe_bytes") == 0) {
        if (ll_size_parse(v, &c->dedupe_bytes) != LL_OK)
            return bad(err, errsz, name, v, "a size (64M, 512K; 0: none)");
        return LL_OK;
    }
    if (strcmp(name, "linger") == 0)
        return set_duration(&c->linger_ns, name, v, true, err, errsz);
    if (strcmp(name, "retry_min") == 0)
        return set_duration(&c->retry_min_ns, name, v, false, err, errsz);
    if (strcmp(name, "retry_max") == 0)
        return set_duration(&c->retry_max_ns, name, v, false, err, errsz);
    if (strcmp(name, "connect_timeout") == 0)
        return set_duration(&c->connect_timeout_ns, name, v, false, err, errsz);
    if (strcmp(name, "io_timeout") == 0)
        return set_duration(&c->io_timeout_ns, name, v, false, err, errsz);
    if (strcmp(name, "dedupe_ttl") == 0)
        return set_duration(&c->dedupe_ttl_ns, name, v, false, err, errsz);
    if (strcmp(name, "stream") == 0 || strcmp(name, "timeline_stream") == 0) {
        if (!*v || strlen(v) > 256)
            return bad(err, errsz, name, v, "a key name of 1 to 256 bytes");
        set_str(strcmp(name, "stream") == 0 ? &c->stream : &c->timeline_stream, v);
        return LL_OK;
    }
    if (strcmp(name, "channel") == 0) {
        set_str(&c->channel, v);
        return LL_OK;
    }
    const char *hint = ll_closest(ll_str_c(name), options, sizeof options / sizeof options[0]);
    snprintf(err, errsz, "unknown sink option '%s'%s%s%s", name, hint ? " (did you mean '" : "",
             hint ? hint : "", hint ? "'?)" : "");
    return LL_EINVAL;
}

/* "a=1&b=2": every part names an option. */
static bool looks_like_options(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        if (!eq || eq == p)
            return false;
        p += n + (p[n] == '&');
    }
    return true;
}

int ll_delivery_conf_parse(struct ll_delivery_conf *c, const char *spec, char *err,
                           size_t errsz)
{
    const char *hash = strrchr(spec, '#');
    if (!hash || !looks_like_options(hash + 1)) {
        ll_delivery_conf_init(c, spec);
        return LL_OK;
    }
    char *url = ll_strndup(spec, (size_t)(hash - spec));
    ll_delivery_conf_init(c, url);
    ll_free(url);
    char *opts = ll_strdup(hash + 1);
    int rc = LL_OK;
    for (char *save = NULL, *part = strtok_r(opts, "&", &save); part && rc == LL_OK;
         part = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(part, '=');
        *eq = '\0';
        rc = ll_delivery_conf_set(c, part, eq + 1, err, errsz);
    }
    ll_free(opts);
    if (rc != LL_OK)
        ll_delivery_conf_free(c);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Masking                                                                   */

/* @p n bytes of @p k contain @p part, ignoring case. */
static bool key_has(const char *k, size_t n, const char *part)
{
    size_t m = strlen(part);
    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(k + i, part, m) == 0)
            return true;
    return false;
}

/* password (libpq, Redis), sslpassword (libpq), sasl.password,
 * ssl.key.password, ssl.keystore.password, sasl.oauthbearer.client.secret,
 * sasl.oauthbearer.config, ssl.key.pem (librdkafka), pass, pwd. */
bool ll_secret_key(const char *k, size_t n)
{
    return key_has(k, n, "password") || key_has(k, n, "secret") ||
           key_has(k, n, "oauthbearer.config") || key_has(k, n, "ssl.key.pem") ||
           (n == 4 && strncasecmp(k, "pass", 4) == 0) || (n == 3 && strncasecmp(k, "pwd", 3) == 0);
}

static void put(struct ll_buf *b, const char *p, size_t n)
{
    ll_buf_append(b, p, n);
}

/* "k=v&k=v" after a '?' of a URI: secret values masked. */
static void mask_query(struct ll_buf *b, const char *q)
{
    while (*q) {
        size_t n = strcspn(q, "&#");
        const char *eq = memchr(q, '=', n);
        if (eq && ll_secret_key(q, (size_t)(eq - q))) {
            put(b, q, (size_t)(eq - q) + 1);
            ll_buf_puts(b, "***");
        } else {
            put(b, q, n);
        }
        q += n;
        if (*q == '#') {
            ll_buf_puts(b, q);
            return;
        }
        if (*q)
            ll_buf_putc(b, *q++);
    }
}

static void mask_uri(struct ll_buf *b, const char *url, const char *sep)
{
    const char *auth = sep + 3;
    size_t auth_len = strcspn(auth, "/?#");
    put(b, url, (size_t)(auth - url));
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++)
        if (*p == '@')
            at = p; /* the last '@': passwords may hold an encoded one */
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) {
            put(b, auth, (size_t)(colon - auth) + 1);
            ll_buf_puts(b, "***");
        } else if (strncmp(url, "redis", 5) == 0) {
            ll_buf_puts(b, "***"); /* redis://password@host, as redis-cli reads it */
        } else {
            put(b, auth, (size_t)(at - auth));
        }
        put(b, at, (size_t)(auth + auth_len - at));
    } else {
        put(b, auth, auth_len);
    }
    const char *rest = auth + auth_len;
    const char *q = strchr(rest, '?');
    if (!q) {
        ll_buf_puts(b, rest);
        return;
    }
    put(b, rest, (size_t)(q + 1 - rest));
    mask_query(b, q + 1);
}

/* libpq's "key=value key='quoted value'" form. */
static void mask_keyvalue(struct ll_buf *b, const char *s)
{
    const char *p = s;
    while (*p) {
        size_t ws = strspn(p, " \t\n");
        put(b, p, ws);
        p += ws;
        size_t klen = strcspn(p, "= \t\n");
        const char *key = p;
        put(b, p, klen);
        p += klen;
        size_t sp = strspn(p, " \t\n");
        put(b, p, sp);
        p += sp;
        if (*p != '=')
            continue;
        ll_buf_putc(b, '=');
        p++;
        sp = strspn(p, " \t\n");
        put(b, p, sp);
        p += sp;
        const char *v = p;
        if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (*p)
                p++;
        } else {
            p += strcspn(p, " \t\n");
        }
        if (ll_secret_key(key, klen))
            ll_buf_puts(b, "***");
        else
            put(b, v, (size_t)(p - v));
    }
}

void ll_url_mask(const char *url, char *out, size_t size)
{
    struct ll_buf b = {0};
    const char *sep = strstr(url, "://");
    size_t scheme = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (sep && url + scheme == sep)
        mask_uri(&b, url, sep);
    else if (strchr(url, '='))
        mask_keyvalue(&b, url);
    else
        ll_buf_puts(&b, url);
    snprintf(out, size, "%s", b.data ? b.data : "");
    ll_buf_free(&b);
}

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
    if (v.len)
        ll_buf_json_str(b, v.ptr, v.len);
    else
        ll_buf_puts(b, "null");
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

/* The driver @p u names by its scheme (a libpq key=value string has none);
 * NULL if none does. */
static const struct ll__driver_ops *driver_of(const char *u)
{
    if (strncmp(u, "postgresql://", 13) == 0 || strncmp(u, "postgres://", 11) == 0 ||
        (strchr(u, '=') && !strstr(u, "://") && strncmp(u, "file:", 5) != 0))
        return &ll__pg_ops;
    if (strncmp(u, "redis://", 8) == 0 || strncmp(u, "rediss://", 9) == 0 ||
        strncmp(u, "unix://", 7) == 0)
        return &ll__redis_ops;
    if (strncmp(u, "file:", 5) == 0)
        return &ll__file_ops;
    if (strncmp(u, "kafka://", 8) == 0)
        return &ll__kafka_ops;
    return NULL;
}

int ll_delivery_url_check(const char *url, char *err, size_t errsz)
{
    if (driver_of(url))
        return LL_OK;
    char masked[256]; /* as in the sink's name */
    ll_url_mask(url, masked, sizeof masked);
    snprintf(err, errsz, "unknown sink '%s': use postgresql://..., a libpq "
             "'host=... dbname=...' string, redis://..., unix:///path/redis.sock, "
             "kafka://BROKERS/TOPIC or file:PATH",
             masked);
    return LL_EINVAL;
}

/* The driver for @p url's scheme. */
static int pick_driver(struct delivery *d, char *err, size_t errsz)
{
    d->ops = driver_of(d->conf.url);
    if (d->ops == &ll__pg_ops)
        return ll__pg_new(&d->conf, &d->drv, err, errsz);
    if (d->ops == &ll__redis_ops)
        return ll__redis_new(&d->conf, &d->drv, err, errsz);
    if (d->ops == &ll__file_ops)
        return ll__file_new(&d->conf, &d->drv, err, errsz);
    if (d->ops == &ll__kafka_ops)
        return ll__kafka_new(&d->conf, &d->drv, err, errsz);
    return ll_delivery_url_check(d->conf.url, err, errsz);
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
