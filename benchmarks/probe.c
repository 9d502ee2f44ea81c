/* The Redis subscriber and the log writer of ll-bench-latency and
 * ll-bench-soak (see probe.h). */
#include "probe.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS (1000 * 1000LL) /* the writer's burst period */
#define POLL_MS 50              /* the subscriber checks for the end this often */
#define BUF_SIZE (256 * 1024)

int64_t probe_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long probe_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* Subscriber                                                                */

bool probe_subscribe(struct probe_sub *s)
{
    s->redis = redisConnectUnix(s->socket_path);
    if (!s->redis || s->redis->err) {
        fprintf(stderr, "%s: %s: %s\n", s->prog, s->socket_path,
                s->redis ? s->redis->errstr : "out of memory");
        return false;
    }
    redisReply *r = redisCommand(s->redis, "SUBSCRIBE %s", s->channel);
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
              r->element[0]->type == REDIS_REPLY_STRING &&
              strcmp(r->element[0]->str, "subscribe") == 0;
    if (!ok)
        fprintf(stderr, "%s: SUBSCRIBE %s: %s\n", s->prog, s->channel,
                r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
                  : s->redis->errstr);
    freeReplyObject(r);
    return ok;
}

/* One pub/sub reply: a message naming one of our markers is noted at @p at. */
static void on_reply(struct probe_sub *s, const redisReply *r, int64_t at)
{
    static const char key[] = "\"correlation_id\":\"";
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0 ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return;
    const char *id = strstr(r->element[2]->str, key);
    size_t plen = strlen(s->prefix);
    if (!id || strncmp(id + sizeof key - 1, s->prefix, plen) != 0) {
        s->foreign++;
        return;
    }
    char *end;
    errno = 0;
    unsigned long long n = strtoull(id + sizeof key - 1 + plen, &end, 10);
    int64_t k = errno || *end != '"' ? -1 : s->marker_of(s->ctx, n);
    if (k < 0) {
        s->foreign++;
        return;
    }
    if (s->recv[k]) {
        s->duplicates++;
        return;
    }
    s->recv[k] = at;
    if (s->on_first)
        s->on_first(s->ctx, (uint64_t)k, at);
    atomic_fetch_add(&s->received, 1);
}

/* The thread: reads messages until told to stop; the reply parser is
 * drained before each wait, since one read may bring several. */
static void *subscriber(void *arg)
{
    struct probe_sub *s = arg;
    redisContext *c = s->redis;
    int64_t at = probe_mono_ns();
    while (!atomic_load(&s->stop)) {
        void *reply = NULL;
        if (redisGetReplyFromReader(c, &reply) != REDIS_OK)
            goto failed;
        if (reply) {
            on_reply(s, reply, at);
            freeReplyObject(reply);
            continue;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int n = poll(&p, 1, POLL_MS);
        if (n < 0 && errno != EINTR)
            goto failed;
        if (n <= 0)
            continue;
        if (redisBufferRead(c) != REDIS_OK)
            goto failed;
        at = probe_mono_ns();
    }
    return NULL;
failed:
    fprintf(stderr, "%s: redis: %s\n", s->prog, c->errstr[0] ? c->errstr : strerror(errno));
    s->failed = true;
    return NULL;
}

bool probe_start(struct probe_sub *s)
{
    s->running = pthread_create(&s->thread, NULL, subscriber, s) == 0;
    return s->running;
}

void probe_stop(struct probe_sub *s, uint64_t want, int64_t ns)
{
    for (int64_t until = probe_mono_ns() + ns;
         atomic_load(&s->received) < want && probe_mono_ns() < until;)
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    if (s->running) {
        atomic_store(&s->stop, true);
        pthread_join(s->thread, NULL);
        s->running = false;
    }
}

void probe_sub_free(struct probe_sub *s)
{
    probe_stop(s, 0, 0);
    redisFree(s->redis);
    free(s->recv);
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Writes the lines from *@p next up to @p due: one write(2) per marker (it
 * ends there) and one for the rest. */
static bool write_burst(const struct probe_writer *w, char *buf, uint64_t *next, uint64_t due)
{
    size_t len = 0;
    long long ms = probe_wall_ms();
    for (uint64_t i = *next; i < due; i++) {
        int64_t marker;
        len += w->format(w->ctx, i, ms, buf + len, &marker);
        if (marker >= 0) {
            if (!write_all(w->fd, buf, len))
                return false;
            w->sent(w->ctx, (uint64_t)marker, probe_mono_ns());
            len = 0;
        } else if (len > BUF_SIZE - PROBE_LINE_MAX) {
            if (!write_all(w->fd, buf, len))
                return false;
            len = 0;
        }
    }
    *next = due;
    return len == 0 || write_all(w->fd, buf, len);
}

double probe_run_writer(const struct probe_writer *w)
{
    char *buf = malloc(BUF_SIZE);
    if (!buf)
        return -1;
    uint64_t next = 0;
    bool ok = true;
    while (ok && next < w->n_lines) {
        int64_t now = probe_mono_ns();
        /* Line i is due at t0 + i / rate. */
        uint64_t due = (uint64_t)((double)(now - w->t0) * w->rate / 1e9) + 1;
        ok = write_burst(w, buf, &next, due < w->n_lines ? due : w->n_lines);
        if (w->progress)
            w->progress(w->ctx, next, false);
        int64_t wake = w->t0 + ((probe_mono_ns() - w->t0) / TICK_NS + 1) * TICK_NS;
        struct timespec ts = {wake / 1000000000LL, wake % 1000000000LL};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
    }
    if (w->progress)
        w->progress(w->ctx, next, true);
    free(buf);
    if (!ok)
        perror(w->log_path);
    return ok ? (double)(probe_mono_ns() - w->t0) / 1e9 : -1;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void probe_sort(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
}

double probe_pct(const double *v, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    return v[rank ? rank - 1 : 0];
}
