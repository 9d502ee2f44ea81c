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
#include "probe.h"

#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MARKER_EVERY 100                   /* every 100th line is a marker */
#define LINES_PER_WORKFLOW 10              /* healthy lines share a correlation id */
#define STRAGGLERS_NS (5 * 1000000000LL)   /* how long to wait after the last line */

struct bench {
    const char *log_path;
    double rate, seconds;
    uint64_t n_lines, n_markers;
    char prefix[48];  /* "lat-<pid>-": markers' correlation ids, then their number */
    int64_t *sent;    /* per marker: monotonic ns after its write(2); writer only */
    struct probe_sub sub; /* sub.recv: per marker, monotonic ns of its message */
};

/* ------------------------------------------------------------------------ */
/* Subscriber                                                                */

/* Marker @p k's alert has correlation id "<prefix>k". */
static int64_t marker_of(void *arg, unsigned long long k)
{
    const struct bench *b = arg;
    return k < b->n_markers ? (int64_t)k : -1;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */

static bool is_marker(uint64_t line)
{
    return line % MARKER_EVERY == MARKER_EVERY - 1;
}

/* Line number @p line, time @p ms, into @p out; @returns its length, and
 * in *@p marker the marker's number, or -1. */
static size_t format_line(void *arg, uint64_t line, long long ms, char *out, int64_t *marker)
{
    const struct bench *b = arg;
    int n;
    *marker = is_marker(line) ? (int64_t)(line / MARKER_EVERY) : -1;
    if (is_marker(line))
        n = snprintf(out, PROBE_LINE_MAX,
                     "{\"level\":50,\"time\":%lld,\"name\":\"agent-1\",\"correlationId\":"
                     "\"%s%llu\",\"err\":{\"code\":\"ECONNRESET\",\"message\":\"read "
                     "ECONNRESET\",\"syscall\":\"read\"},\"msg\":\"call failed\"}\n",
                     ms, b->prefix, (unsigned long long)(line / MARKER_EVERY));
    else
        n = snprintf(out, PROBE_LINE_MAX,
                     "{\"level\":30,\"time\":%lld,\"name\":\"agent-1\",\"correlationId\":"
                     "\"wf-%d-%llu\",\"msg\":\"step done\"}\n",
                     ms, (int)getpid(), (unsigned long long)(line / LINES_PER_WORKFLOW));
    return (size_t)n;
}

static void on_sent(void *arg, uint64_t k, int64_t at)
{
    struct bench *b = arg;
    b->sent[k] = at;
}

/* Appends b->n_lines lines at b->rate; @returns the seconds it took, or a
 * negative number if writing failed. */
static double run_writer(struct bench *b, int fd)
{
    struct probe_writer w = {.log_path = b->log_path, .fd = fd, .rate = b->rate,
                             .n_lines = b->n_lines, .t0 = probe_mono_ns(),
                             .format = format_line, .sent = on_sent, .ctx = b};
    return probe_run_writer(&w);
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */

/* Prints the figures; @returns how many markers have no alert. */
static uint64_t report(const struct bench *b, double secs)
{
    double *lat = malloc((b->n_markers ? b->n_markers : 1) * sizeof *lat);
    size_t n = 0, worst_i = 0;
    uint64_t early = 0, worst = 0;
    for (uint64_t k = 0; k < b->n_markers; k++) {
        if (!b->sub.recv[k] || !b->sent[k])
            continue;
        double ms = (double)(b->sub.recv[k] - b->sent[k]) / 1e6;
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
           (unsigned long long)b->sub.duplicates, (unsigned long long)b->sub.foreign,
           (unsigned long long)early);
    if (n) {
        probe_sort(lat, n);
        printf("latency_ms p50=%.3f p90=%.3f p99=%.3f max=%.3f (max at t=%.2fs)\n",
               probe_pct(lat, n, 0.50), probe_pct(lat, n, 0.90), probe_pct(lat, n, 0.99),
               lat[n - 1], worst_at);
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
    *b = (struct bench){.log_path = argv[1], .rate = strtod(argv[2], &e1),
                        .seconds = strtod(argv[3], &e2),
                        .sub = {.prog = "ll-bench-latency", .socket_path = argv[4],
                                .channel = argc == 6 ? argv[5] : "logloom:alerts",
                                .prefix = b->prefix, .marker_of = marker_of, .ctx = b}};
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
    if (!parse_args(argc, argv, &b)) {
        fprintf(stderr, "usage: ll-bench-latency LOGFILE RATE SECONDS REDIS_SOCKET [CHANNEL]\n"
                        "  (RATE lines/s for SECONDS: at least %d lines)\n",
                MARKER_EVERY);
        return 2;
    }
    if (!probe_subscribe(&b.sub))
        goto done;
    b.sent = calloc(b.n_markers, sizeof *b.sent);
    b.sub.recv = calloc(b.n_markers, sizeof *b.sub.recv);
    if (!b.sent || !b.sub.recv || !probe_start(&b.sub)) {
        fprintf(stderr, "ll-bench-latency: out of memory or threads\n");
        goto done;
    }
    status = 1;
    if ((fd = open(b.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        perror(b.log_path);
        goto done;
    }
    double secs = run_writer(&b, fd);
    probe_stop(&b.sub, secs > 0 ? b.n_markers : 0, STRAGGLERS_NS);
    if (secs > 0 && report(&b, secs) == 0 && !b.sub.failed)
        status = 0;
done:
    probe_sub_free(&b.sub);
    if (fd >= 0)
        close(fd);
    free(b.sent);
    return status;
}
