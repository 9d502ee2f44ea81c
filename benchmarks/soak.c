/* The steady load of soak.sh: workflows that start and finish at the same
 * rate, so the number open stays flat, written to a log that `logloom run`
 * tails, and the latency of the alerts some of them raise, as a Redis
 * consumer sees them. Starts nothing itself: soak.sh starts Redis and the
 * daemon.
 *
 *   ll-bench-soak LOGFILE RATE SECONDS IN_FLIGHT MARKERS REDIS_SOCKET OUTDIR [CHANNEL]
 *
 * The writer (the main thread) appends JSON lines (pino-style: level, time,
 * pid, hostname, name, correlationId, msg) to LOGFILE at RATE lines/s for
 * SECONDS, in bursts every millisecond. IN_FLIGHT workflows are always in
 * progress: line i belongs to slot i % IN_FLIGHT, each slot's workflow has
 * WF_LINES lines, the last one "workflow finished" (soak.sh makes that a
 * terminal message), and the next line of the slot starts a new workflow
 * (correlation id "soak-<pid>-<n>"). The slots' first workflows are
 * shortened by different amounts, so workflows finish evenly, not in waves.
 * Event times are the wall clock.
 *
 * About MARKERS workflows a second (every K-th, K = RATE / WF_LINES /
 * MARKERS, at least 1) open with a "marker": a level-50 ECONNRESET error,
 * which the built-in rule econnreset raises an alert for at once. Its send
 * time is the monotonic clock right after the write(2) that ends at it. The
 * subscriber thread (SUBSCRIBE CHANNEL, default logloom:alerts, before the
 * first line) takes the correlation id out of each message; for each
 * marker's first alert it appends "<send time, s into the run> <latency ms>"
 * to OUTDIR/markers.tsv, one whole line per write. The writer keeps the
 * number of lines written so far in OUTDIR/progress (rewritten every 100 ms).
 *
 * After the last line it waits up to 10 s for stragglers, then prints
 * key=value lines: lines written, achieved rate, workflows, markers written,
 * received, missing, duplicates, and the latency p50/p99/max in ms (nearest
 * rank). Exit status: 0 every marker's alert came, 1 some are missing or a
 * file could not be written, 2 bad arguments or no Redis. */
#include "probe.h"

#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define WF_LINES 10                        /* lines per workflow, the last terminal */
#define PROGRESS_NS (100 * 1000 * 1000LL)  /* OUTDIR/progress rewritten this often */
#define STRAGGLERS_NS (10 * 1000000000LL)  /* how long to wait after the last line */

static const char *const services[] = {"manager", "agent-1", "agent-2", "worker"};
#define N_SERVICES (sizeof services / sizeof services[0])

struct slot {
    uint64_t wf;   /* the workflow in progress */
    unsigned line; /* its next line, 0 .. WF_LINES - 1 */
    bool first;    /* the next line is the first written of this workflow */
};

struct bench {
    const char *log_path, *out_dir;
    double rate, seconds;
    uint64_t n_lines, in_flight, every; /* every: a marker each this many workflows */
    uint64_t max_markers;               /* size of sent[] and recv[] */
    char prefix[48];                    /* "soak-<pid>-": correlation ids, then the number */
    struct slot *slots;
    uint64_t next_wf, workflows;        /* writer only */
    int64_t t0;                         /* the writer's start, monotonic ns */
    int64_t next_progress;              /* writer only: OUTDIR/progress rewritten then */
    _Atomic int64_t *sent;              /* per marker: monotonic ns after its write(2) */
    FILE *markers;                      /* OUTDIR/markers.tsv; subscriber only */
    int progress_fd;
    atomic_uint_fast64_t written_markers;
    uint64_t early;                     /* subscriber only, read after it is joined */
    struct probe_sub sub;               /* sub.recv: per marker, monotonic ns of its message */
};

/* ------------------------------------------------------------------------ */
/* Subscriber                                                                */

/* The marker of workflow @p wf, if it opens with one: see format_line(). */
static int64_t marker_of(void *arg, unsigned long long wf)
{
    const struct bench *b = arg;
    if (wf % b->every != 0 || wf / b->every >= b->max_markers)
        return -1;
    return (int64_t)(wf / b->every);
}

/* Marker @p k's alert came at @p at: its latency into OUTDIR/markers.tsv. */
static void on_first(void *arg, uint64_t k, int64_t at)
{
    struct bench *b = arg;
    int64_t sent = atomic_load(&b->sent[k]);
    double ms = 0;
    if (!sent || at < sent) /* here before the writer read the clock after its write(2) */
        b->early++;
    else
        ms = (double)(at - sent) / 1e6;
    double t = (double)((sent ? sent : at) - b->t0) / 1e9;
    fprintf(b->markers, "%.3f %.3f\n", t, ms);
    fflush(b->markers);
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */

static void init_slots(struct bench *b)
{
    for (uint64_t s = 0; s < b->in_flight; s++)
        /* Shortened first workflows (at least two lines each), so that they
         * finish one slot after another from the start. */
        b->slots[s] = (struct slot){.wf = s, .line = (unsigned)(s % (WF_LINES - 1)),
                                    .first = true};
    b->next_wf = b->in_flight;
    b->workflows = b->in_flight;
}

/* Line @p line (of the whole run), time @p ms, into @p out; @returns its
 * length, and in *@p marker the marker's number, or -1 (also for markers
 * past b->max_markers, which are not timed). */
static size_t format_line(void *arg, uint64_t line, long long ms, char *out, int64_t *marker)
{
    struct bench *b = arg;
    struct slot *s = &b->slots[line % b->in_flight];
    const char *svc = services[s->line % N_SERVICES];
    int pid = 4000 + (int)(s->line % N_SERVICES);
    unsigned long long wf = (unsigned long long)s->wf;
    int n;
    *marker = -1;
    if (s->first && s->wf % b->every == 0 && s->line < WF_LINES - 1) {
        n = snprintf(out, PROBE_LINE_MAX,
                     "{\"level\":50,\"time\":%lld,\"pid\":%d,\"hostname\":\"node-1\","
                     "\"name\":\"%s\",\"correlationId\":\"%s%llu\",\"err\":{\"type\":\"Error\","
                     "\"code\":\"ECONNRESET\",\"message\":\"read ECONNRESET\",\"syscall\":"
                     "\"read\"},\"msg\":\"call failed\"}\n",
                     ms, pid, svc, b->prefix, wf);
        if (s->wf / b->every < b->max_markers)
            *marker = (int64_t)(s->wf / b->every);
    } else if (s->line == WF_LINES - 1) {
        n = snprintf(out, PROBE_LINE_MAX,
                     "{\"level\":30,\"time\":%lld,\"pid\":%d,\"hostname\":\"node-1\","
                     "\"name\":\"%s\",\"correlationId\":\"%s%llu\",\"msg\":\"workflow "
                     "finished\"}\n",
                     ms, pid, svc, b->prefix, wf);
    } else {
        n = snprintf(out, PROBE_LINE_MAX,
                     "{\"level\":30,\"time\":%lld,\"pid\":%d,\"hostname\":\"node-1\","
                     "\"name\":\"%s\",\"correlationId\":\"%s%llu\",\"step\":%u,\"msg\":\"step "
                     "done\"}\n",
                     ms, pid, svc, b->prefix, wf, s->line);
    }
    s->first = false;
    if (++s->line == WF_LINES) {
        *s = (struct slot){.wf = b->next_wf++, .line = 0, .first = true};
        b->workflows++;
    }
    return (size_t)n;
}

static void on_sent(void *arg, uint64_t k, int64_t at)
{
    struct bench *b = arg;
    atomic_store(&b->sent[k], at);
    atomic_fetch_add(&b->written_markers, 1);
}

static void write_progress(struct bench *b, uint64_t lines)
{
    char text[32];
    int n = snprintf(text, sizeof text, "%20llu\n", (unsigned long long)lines);
    if (pwrite(b->progress_fd, text, (size_t)n, 0) != n)
        perror("ll-bench-soak: progress");
}

/* After each burst: OUTDIR/progress every PROGRESS_NS, and at the end. */
static void on_progress(void *arg, uint64_t lines, bool last)
{
    struct bench *b = arg;
    if (last) {
        write_progress(b, lines);
    } else if (probe_mono_ns() >= b->next_progress) {
        write_progress(b, lines);
        b->next_progress += PROGRESS_NS;
    }
}

/* Appends b->n_lines lines at b->rate; @returns the seconds it took, or a
 * negative number if writing failed. */
static double run_writer(struct bench *b, int fd)
{
    b->next_progress = b->t0 + PROGRESS_NS;
    struct probe_writer w = {.log_path = b->log_path, .fd = fd, .rate = b->rate,
                             .n_lines = b->n_lines, .t0 = b->t0, .format = format_line,
                             .sent = on_sent, .progress = on_progress, .ctx = b};
    return probe_run_writer(&w);
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */

/* Prints the figures; @returns how many markers written have no alert. */
static uint64_t report(const struct bench *b, double secs)
{
    double *lat = malloc((b->max_markers ? b->max_markers : 1) * sizeof *lat);
    size_t n = 0;
    uint64_t written = 0;
    for (uint64_t k = 0; k < b->max_markers; k++) {
        int64_t sent = atomic_load(&b->sent[k]);
        if (!sent)
            continue;
        written++;
        if (!b->sub.recv[k])
            continue;
        lat[n++] = b->sub.recv[k] > sent ? (double)(b->sub.recv[k] - sent) / 1e6 : 0;
    }
    printf("lines=%llu seconds=%.3f rate=%.1f target=%.1f workflows=%llu in_flight=%llu\n",
           (unsigned long long)b->n_lines, secs, (double)b->n_lines / secs, b->rate,
           (unsigned long long)b->workflows, (unsigned long long)b->in_flight);
    printf("markers=%llu received=%zu missing=%llu duplicates=%llu foreign=%llu early=%llu\n",
           (unsigned long long)written, n, (unsigned long long)(written - n),
           (unsigned long long)b->sub.duplicates, (unsigned long long)b->sub.foreign,
           (unsigned long long)b->early);
    if (n) {
        probe_sort(lat, n);
        printf("latency_ms p50=%.3f p99=%.3f max=%.3f\n", probe_pct(lat, n, 0.50),
               probe_pct(lat, n, 0.99), lat[n - 1]);
    }
    free(lat);
    return written - n;
}

/* ------------------------------------------------------------------------ */

static bool parse_args(int argc, char **argv, struct bench *b)
{
    if (argc < 8 || argc > 9)
        return false;
    char *e1, *e2, *e3, *e4;
    double markers;
    *b = (struct bench){.log_path = argv[1], .out_dir = argv[7],
                        .rate = strtod(argv[2], &e1), .seconds = strtod(argv[3], &e2),
                        .in_flight = strtoull(argv[4], &e3, 10), .progress_fd = -1,
                        .sub = {.prog = "ll-bench-soak", .socket_path = argv[6],
                                .channel = argc == 9 ? argv[8] : "logloom:alerts",
                                .prefix = b->prefix, .marker_of = marker_of,
                                .on_first = on_first, .ctx = b}};
    markers = strtod(argv[5], &e4);
    if (*e1 || *e2 || *e3 || *e4 || !(b->rate >= 1 && b->rate <= 1e7) ||
        !(b->seconds > 0 && b->seconds < 1e7) || b->in_flight < 1 || b->in_flight > 10000000 ||
        !(markers > 0 && markers <= 1e6))
        return false;
    b->n_lines = (uint64_t)llround(b->rate * b->seconds);
    double every = b->rate / WF_LINES / markers;
    b->every = every < 1 ? 1 : (uint64_t)llround(every);
    /* Every line could start a workflow at most. */
    b->max_markers = (b->in_flight + b->n_lines) / b->every + 1;
    snprintf(b->prefix, sizeof b->prefix, "soak-%d-", (int)getpid());
    return b->n_lines > 0;
}

/* Creates @p dir/@p name, empty; @returns its descriptor, or -1 (said why). */
static int open_out(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        perror(path);
    return fd;
}

int main(int argc, char **argv)
{
    struct bench b;
    int status = 2, fd = -1;
    if (!parse_args(argc, argv, &b)) {
        fprintf(stderr, "usage: ll-bench-soak LOGFILE RATE SECONDS IN_FLIGHT MARKERS "
                        "REDIS_SOCKET OUTDIR [CHANNEL]\n"
                        "  (RATE lines/s for SECONDS, IN_FLIGHT workflows of %d lines in "
                        "progress, about MARKERS alerts/s)\n",
                WF_LINES);
        return 2;
    }
    if (!probe_subscribe(&b.sub))
        goto done;
    status = 1;
    b.sent = calloc(b.max_markers, sizeof *b.sent);
    b.sub.recv = calloc(b.max_markers, sizeof *b.sub.recv);
    b.slots = calloc(b.in_flight, sizeof *b.slots);
    if (!b.sent || !b.sub.recv || !b.slots) {
        fprintf(stderr, "ll-bench-soak: out of memory\n");
        goto done;
    }
    int mfd = open_out(b.out_dir, "markers.tsv");
    if (mfd >= 0 && !(b.markers = fdopen(mfd, "w"))) {
        perror("ll-bench-soak: markers.tsv");
        close(mfd);
    }
    if (!b.markers || (b.progress_fd = open_out(b.out_dir, "progress")) < 0)
        goto done;
    init_slots(&b);
    write_progress(&b, 0);
    if ((fd = open(b.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        perror(b.log_path);
        goto done;
    }
    b.t0 = probe_mono_ns(); /* before the subscriber starts: it reads it */
    if (!probe_start(&b.sub)) {
        fprintf(stderr, "ll-bench-soak: cannot start a thread\n");
        goto done;
    }
    double secs = run_writer(&b, fd);
    probe_stop(&b.sub, secs > 0 ? atomic_load(&b.written_markers) : 0, STRAGGLERS_NS);
    if (secs > 0 && report(&b, secs) == 0 && !b.sub.failed)
        status = 0;
done:
    probe_sub_free(&b.sub); /* the subscriber writes markers.tsv */
    if (b.markers)
        fclose(b.markers);
    if (b.progress_fd >= 0)
        close(b.progress_fd);
    if (fd >= 0)
        close(fd);
    free(b.sent);
    free(b.slots);
    return status;
}
