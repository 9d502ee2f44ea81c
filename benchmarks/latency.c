/* How long a log line takes to become an alert in Redis, as `logloom run`
 * delivers it. Starts nothing itself: latency.sh starts Redis and the
 * daemon, which tails LOGFILE and has a Redis sink on REDIS_SOCKET.
 *
 *   ll-bench-latency LOGFILE RATE SECONDS REDIS_SOCKET [CHANNEL]
 *
 * The writer (the main thread) appends JSON lines to LOGFILE at RATE
 * lines/s for SECONDS, in bursts every millisecond (the lines due by then):
 * healthy pino lines, and every 100th line a "marker", an ECONNRESET error
 * with a correlation id of its own that the built-in rule econnreset raises
 * an alert for. Event times are the wall clock, so the daemon sees live
 * data. A write(2) ends at each marker, and the monotonic time right after
 * it returns is the marker's send time.
 *
 * The subscriber thread (SUBSCRIBE CHANNEL, default logloom:alerts, over the
 * unix socket; subscribed before the first line is written) takes the
 * correlation id out of each message and notes when it arrived: the
 * monotonic time right after the read that brought it.
 *
 * After the last line it waits up to 5 s for stragglers, then prints lines
 * written, achieved rate, markers, alerts received, missing, and the
 * latency p50/p90/p99/max in ms (nearest rank). Exit status: 0 every
 * marker's alert came, 1 some are missing or the log could not be written,
 * 2 bad arguments or no Redis. */
#include <hiredis/hiredis.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MARKER_EVERY 100                   /* every 100th line is a marker */
#define LINES_PER_WORKFLOW 10              /* healthy lines share a correlation id */
#define TICK_NS (1000 * 1000LL)            /* the writer's burst period */
#define STRAGGLERS_NS (5 * 1000000000LL)   /* how long to wait after the last line */
#define POLL_MS 50                         /* the subscriber checks for the end this often */
#define BUF_SIZE (256 * 1024)
#define LINE_MAX_BYTES 512

struct bench {
    const char *log_path, *socket_path, *channel;
    double rate, seconds;
    uint64_t n_lines, n_markers;
    char prefix[48];  /* "lat-<pid>-": markers' correlation ids, then their number */
    int64_t *sent;    /* per marker: monotonic ns after its write(2); writer only */
    int64_t *recv;    /* per marker: monotonic ns of its message; subscriber only */
    redisContext *redis;
    atomic_uint_fast64_t received;
    atomic_bool stop;
    /* subscriber only, read after it is joined */
    uint64_t duplicates, foreign;
    bool sub_failed;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* Subscriber                                                                */

/* One pub/sub reply: a message naming one of our markers is noted at @p at. */
static void on_reply(struct bench *b, const redisReply *r, int64_t at)
{
    static const char key[] = "\"correlation_id\":\"";
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0 ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return;
    const char *id = strstr(r->element[2]->str, key);
    size_t plen = strlen(b->prefix);
    if (!id || strncmp(id + sizeof key - 1, b->prefix, plen) != 0) {
        b->foreign++;
        return;
    }
    char *end;
    errno = 0;
    unsigned long long k = strtoull(id + sizeof key - 1 + plen, &end, 10);
    if (errno || *end != '"' || k >= b->n_markers) {
        b->foreign++;
        return;
    }
    if (b->recv[k]) {
        b->duplicates++;
        return;
    }
    b->recv[k] = at;
    atomic_fetch_add(&b->received, 1);
}

/* Reads messages until told to stop; the reply parser is drained before
 * each wait, since one read may bring several. */
static void *subscriber(void *arg)
{
    struct bench *b = arg;
    redisContext *c = b->redis;
    int64_t at = mono_ns();
    while (!atomic_load(&b->stop)) {
        void *reply = NULL;
        if (redisGetReplyFromReader(c, &reply) != REDIS_OK)
            goto failed;
        if (reply) {
            on_reply(b, reply, at);
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
        at = mono_ns();
    }
    return NULL;
failed:
    fprintf(stderr, "ll-bench-latency: redis: %s\n", c->errstr[0] ? c->errstr : strerror(errno));
    b->sub_failed = true;
    return NULL;
}

/* Connects to @p b->socket_path and subscribes; @returns false (said why)
 * if that fails. */
static bool subscribe(struct bench *b)
{
    b->redis = redisConnectUnix(b->socket_path);
    if (!b->redis || b->redis->err) {
        fprintf(stderr, "ll-bench-latency: %s: %s\n", b->socket_path,
                b->redis ? b->redis->errstr : "out of memory");
        return false;
    }
    redisReply *r = redisCommand(b->redis, "SUBSCRIBE %s", b->channel);
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
              r->element[0]->type == REDIS_REPLY_STRING &&
              strcmp(r->element[0]->str, "subscribe") == 0;
    if (!ok)
        fprintf(stderr, "ll-bench-latency: SUBSCRIBE %s: %s\n", b->channel,
                r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply")
                  : b->redis->errstr);
    freeReplyObject(r);
    return ok;
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

static bool is_marker(uint64_t line)
{
    return line % MARKER_EVERY == MARKER_EVERY - 1;
}

/* Line number @p line, time @p ms, into @p out; @returns its length. */
static size_t format_line(const struct bench *b, uint64_t line, long long ms, char *out)
{
    int n;
    if (is_marker(line))
        n = snprintf(out, LINE_MAX_BYTES,
                     "{\"level\":50,\"time\":%lld,\"name\":\"agent-1\",\"correlationId\":"
                     "\"%s%llu\",\"err\":{\"code\":\"ECONNRESET\",\"message\":\"read "
                     "ECONNRESET\",\"syscall\":\"read\"},\"msg\":\"call failed\"}\n",
                     ms, b->prefix, (unsigned long long)(line / MARKER_EVERY));
    else
        n = snprintf(out, LINE_MAX_BYTES,
                     "{\"level\":30,\"time\":%lld,\"name\":\"agent-1\",\"correlationId\":"
                     "\"wf-%d-%llu\",\"msg\":\"step done\"}\n",
                     ms, (int)getpid(), (unsigned long long)(line / LINES_PER_WORKFLOW));
    return (size_t)n;
}

/* Writes the lines from *@p next up to @p due: one write(2) per marker (it
 * ends there) and one for the rest. */
static bool write_burst(struct bench *b, int fd, char *buf, uint64_t *next, uint64_t due)
{
    size_t len = 0;
    long long ms = wall_ms();
    for (uint64_t i = *next; i < due; i++) {
        len += format_line(b, i, ms, buf + len);
        if (is_marker(i)) {
            if (!write_all(fd, buf, len))
                return false;
            b->sent[i / MARKER_EVERY] = mono_ns();
            len = 0;
        } else if (len > BUF_SIZE - LINE_MAX_BYTES) {
            if (!write_all(fd, buf, len))
                return false;
            len = 0;
        }
    }
    *next = due;
    return len == 0 || write_all(fd, buf, len);
}

/* Appends b->n_lines lines at b->rate; @returns the seconds it took, or a
 * negative number if writing failed. */
static double run_writer(struct bench *b, int fd)
{
    char *buf = malloc(BUF_SIZE);
    if (!buf)
        return -1;
    int64_t t0 = mono_ns();
    uint64_t next = 0;
    bool ok = true;
    while (ok && next < b->n_lines) {
        int64_t now = mono_ns();
        /* Line i is due at t0 + i / rate. */
        uint64_t due = (uint64_t)((double)(now - t0) * b->rate / 1e9) + 1;
        ok = write_burst(b, fd, buf, &next, due < b->n_lines ? due : b->n_lines);
        int64_t wake = t0 + ((mono_ns() - t0) / TICK_NS + 1) * TICK_NS;
        struct timespec ts = {wake / 1000000000LL, wake % 1000000000LL};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
    }
    free(buf);
    if (!ok)
        perror(b->log_path);
    return ok ? (double)(mono_ns() - t0) / 1e9 : -1;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least @p q of them at or below. */
static double pct(const double *v, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    return v[rank ? rank - 1 : 0];
}

/* Prints the figures; @returns how many markers have no alert. */
static uint64_t report(const struct bench *b, double secs)
{
    double *lat = malloc((b->n_markers ? b->n_markers : 1) * sizeof *lat);
    size_t n = 0, worst_i = 0;
    uint64_t early = 0, worst = 0;
    for (uint64_t k = 0; k < b->n_markers; k++) {
        if (!b->recv[k] || !b->sent[k])
            continue;
        double ms = (double)(b->recv[k] - b->sent[k]) / 1e6;
        if (ms < 0) /* the writer was preempted between write(2) and the clock */
            early++, ms = 0;
        if (!n || ms > lat[worst_i])
            worst = k, worst_i = n;
        lat[n++] = ms;
    }
    double worst_at = n ? (double)(b->sent[worst] - b->sent[0]) / 1e9 : 0;
    printf("lines=%llu seconds=%.3f rate=%.1f target=%.1f\n", (unsigned long long)b->n_lines,
           secs, (double)b->n_lines / secs, b->rate);
    printf("markers=%llu received=%zu missing=%llu duplicates=%llu foreign=%llu early=%llu\n",
           (unsigned long long)b->n_markers, n, (unsigned long long)(b->n_markers - n),
           (unsigned long long)b->duplicates, (unsigned long long)b->foreign,
           (unsigned long long)early);
    if (n) {
        qsort(lat, n, sizeof *lat, cmp_double);
        printf("latency_ms p50=%.3f p90=%.3f p99=%.3f max=%.3f (max at t=%.2fs)\n",
               pct(lat, n, 0.50), pct(lat, n, 0.90), pct(lat, n, 0.99), lat[n - 1], worst_at);
    }
    free(lat);
    return b->n_markers - n;
}

/* ------------------------------------------------------------------------ */

static bool parse_args(int argc, char **argv, struct bench *b)
{
    if (argc < 5 || argc > 6)
        return false;
    char *e1, *e2;
    *b = (struct bench){.log_path = argv[1], .socket_path = argv[4],
                        .channel = argc == 6 ? argv[5] : "logloom:alerts",
                        .rate = strtod(argv[2], &e1), .seconds = strtod(argv[3], &e2)};
    if (*e1 || *e2 || !(b->rate >= 1 && b->rate <= 1e7) || !(b->seconds > 0 && b->seconds < 1e6))
        return false;
    b->n_lines = (uint64_t)llround(b->rate * b->seconds);
    b->n_markers = b->n_lines / MARKER_EVERY;
    snprintf(b->prefix, sizeof b->prefix, "lat-%d-", (int)getpid());
    return b->n_markers > 0;
}

int main(int argc, char **argv)
{
    struct bench b;
    int status = 2, fd = -1;
    bool started = false;
    pthread_t th;
    if (!parse_args(argc, argv, &b)) {
        fprintf(stderr, "usage: ll-bench-latency LOGFILE RATE SECONDS REDIS_SOCKET [CHANNEL]\n"
                        "  (RATE lines/s for SECONDS: at least %d lines)\n",
                MARKER_EVERY);
        return 2;
    }
    if (!subscribe(&b))
        goto done;
    b.sent = calloc(b.n_markers, sizeof *b.sent);
    b.recv = calloc(b.n_markers, sizeof *b.recv);
    if (!b.sent || !b.recv || pthread_create(&th, NULL, subscriber, &b) != 0) {
        fprintf(stderr, "ll-bench-latency: out of memory or threads\n");
        goto done;
    }
    started = true;
    status = 1;
    if ((fd = open(b.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        perror(b.log_path);
        goto done;
    }
    double secs = run_writer(&b, fd);
    for (int64_t until = mono_ns() + STRAGGLERS_NS;
         secs > 0 && atomic_load(&b.received) < b.n_markers && mono_ns() < until;)
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    atomic_store(&b.stop, true);
    pthread_join(th, NULL);
    started = false;
    if (secs > 0 && report(&b, secs) == 0 && !b.sub_failed)
        status = 0;
done:
    if (started) {
        atomic_store(&b.stop, true);
        pthread_join(th, NULL);
    }
    if (fd >= 0)
        close(fd);
    redisFree(b.redis);
    free(b.sent);
    free(b.recv);
    return status;
}
