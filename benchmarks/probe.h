/* What ll-bench-latency and ll-bench-soak share (probe.c, compiled into
 * both): the clocks, the Redis subscriber that notes when each message
 * arrived, and the writer that appends JSON lines to a log at a steady rate
 * in bursts every millisecond, ending a write(2) at each marker line and
 * noting when that write returned. */
#ifndef LL_BENCH_PROBE_H
#define LL_BENCH_PROBE_H

#include <hiredis/hiredis.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_LINE_MAX 512 /* the longest line a writer's format may make */

int64_t probe_mono_ns(void);
long long probe_wall_ms(void);

/* ------------------------------------------------------------------------ */
/* Subscriber                                                                */

/* The subscriber: SUBSCRIBE channel, then in a thread of its own
 * (probe_start() to probe_stop()) the correlation id out of each message's
 * alert, and for each marker the monotonic time right after the read that
 * brought its first alert. The fields up to ctx are the caller's to set
 * (recv calloc'ed: probe_sub_free() frees it). */
struct probe_sub {
    const char *prog;                /* for messages */
    const char *socket_path, *channel;
    const char *prefix;              /* our correlation ids: the prefix, then a number */
    int64_t *recv;                   /* per marker: monotonic ns of its first alert */
    /* The marker whose alert has correlation id number @p id; -1 if none. */
    int64_t (*marker_of)(void *ctx, unsigned long long id);
    /* Marker @p k's first alert came at @p at (recv[k] is set); NULL for
     * nothing more to do. */
    void (*on_first)(void *ctx, uint64_t k, int64_t at);
    void *ctx;
    redisContext *redis;
    atomic_uint_fast64_t received;   /* markers whose alert came */
    atomic_bool stop;
    /* the thread's, read after it is joined */
    uint64_t duplicates, foreign;    /* alerts of markers seen before, of no marker */
    bool failed;                     /* reading failed (said why) */
    pthread_t thread;
    bool running;
};

/* Connects to s->socket_path and subscribes; @returns false (said why) if
 * that fails. s->redis is set even then: redisFree() it. */
bool probe_subscribe(struct probe_sub *s);

/* Starts the thread; @returns false if it cannot. */
bool probe_start(struct probe_sub *s);

/* Waits up to @p ns until s->received reaches @p want, then stops the
 * thread (if it runs) and joins it. */
void probe_stop(struct probe_sub *s, uint64_t want, int64_t ns);

/* Stops the thread if it runs, and frees the connection and recv. */
void probe_sub_free(struct probe_sub *s);

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */

struct probe_writer {
    const char *log_path; /* for messages */
    int fd;               /* the log, open to append */
    double rate;          /* lines/s */
    uint64_t n_lines;
    int64_t t0;           /* monotonic ns: line i is due at t0 + i / rate */
    /* Line @p line, event time @p ms, into @p out; @returns its length,
     * and in *@p marker the marker's number (a write ends after it) or -1. */
    size_t (*format)(void *ctx, uint64_t line, long long ms, char *out, int64_t *marker);
    /* Marker @p k is written: @p at, monotonic ns right after its write(2). */
    void (*sent)(void *ctx, uint64_t k, int64_t at);
    /* After each burst, the lines written so far, and (@p last) once more
     * at the end; NULL for none. */
    void (*progress)(void *ctx, uint64_t lines, bool last);
    void *ctx;
};

/* Appends w->n_lines lines at w->rate; @returns the seconds since w->t0,
 * or a negative number if writing failed (said why). */
double probe_run_writer(const struct probe_writer *w);

/* ------------------------------------------------------------------------ */
/* Results                                                                   */

/* Sorts @p v[@p n] in place. */
void probe_sort(double *v, size_t n);

/* Nearest rank: the smallest value of sorted @p v with at least @p q of
 * them at or below. */
double probe_pct(const double *v, size_t n, double q);

#endif
