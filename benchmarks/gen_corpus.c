/*
 * ll-gen-corpus: deterministic generator of realistic multi-service JSON
 * logs (pino / pino-http / winston style) for logloom benchmarks.
 *
 * The same --seed and options always produce byte-identical output: all
 * randomness comes from a splitmix64 stream, all timestamps from a
 * simulated clock that starts at 2026-01-15T08:00:00Z.
 *
 * Usage: ll-gen-corpus [--lines N] [--seed S] [--out FILE|-]
 *                      [--split --out DIR] [--concurrency K]
 *                      [--error-rate P]
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LL_AGENTS 8
#define LL_CHILDREN 6 /* worker pids per agent */
#define LL_NSVC (1 + LL_AGENTS + LL_AGENTS * LL_CHILDREN)
#define LL_SVC_MANAGER 0
#define LL_SVC_AGENT(a) (1 + (a))
#define LL_SVC_CHILD(a, c) (1u + LL_AGENTS + (a) * LL_CHILDREN + (c))
#define LL_HEADROOM 16384u /* far above the longest line we emit */
#define LL_BUF_SINGLE (8u << 20)
#define LL_BUF_SPLIT (256u << 10)
#define LL_BASE_EPOCH_MS 1768464000000ull /* 2026-01-15T08:00:00.000Z */
#define LL_MS_PER_DAY 86400000ull
#define LL_TICK_MEAN_US 600u /* ~1,700 lines per simulated second */
#define LL_BACKGROUND_RATE 0.02 /* lines without a correlation id */
#define LL_LIT(o, s) ll_put((o), (s), sizeof(s) - 1)
#define LL_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* PRNG                                                                */

typedef struct {
    uint64_t s;
} ll_rng;

static uint64_t ll_rng_next(ll_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) for n < 2^32 (multiply-shift, no modulo bias worth
 * caring about for a corpus generator). */
static uint32_t ll_rng_below(ll_rng *r, uint32_t n)
{
    return (uint32_t)(((ll_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static uint32_t ll_rng_range(ll_rng *r, uint32_t lo, uint32_t hi)
{
    return lo + ll_rng_below(r, hi - lo + 1);
}

static uint64_t ll_prob_threshold(double p)
{
    if (p <= 0.0)
        return 0;
    if (p >= 1.0)
        return UINT64_MAX;
    return (uint64_t)(p * 18446744073709551616.0);
}

static int ll_rng_hit(ll_rng *r, uint64_t threshold)
{
    return ll_rng_next(r) < threshold;
}

/* ------------------------------------------------------------------ */
/* Output sinks                                                        */

typedef struct {
    int fd;
    char *buf;
    size_t len;
    size_t cap;
    uint64_t written;
} ll_sink;

static void ll_die(const char *what)
{
    fprintf(stderr, "ll-gen-corpus: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void ll_sink_flush(ll_sink *o)
{
    size_t off = 0;
    while (off < o->len) {
        ssize_t n = write(o->fd, o->buf + off, o->len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ll_die("write");
        }
        off += (size_t)n;
    }
    o->written += o->len;
    o->len = 0;
}

static void ll_sink_open(ll_sink *o, const char *path, size_t cap)
{
    if (path == NULL || strcmp(path, "-") == 0) {
        o->fd = STDOUT_FILENO;
    } else {
        o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (o->fd < 0)
            ll_die(path);
    }
    o->buf = malloc(cap);
    if (o->buf == NULL)
        ll_die("malloc");
    o->len = 0;
    o->cap = cap;
    o->written = 0;
}

static void ll_sink_close(ll_sink *o)
{
    ll_sink_flush(o);
    if (o->fd != STDOUT_FILENO && close(o->fd) != 0)
        ll_die("close");
    free(o->buf);
    o->buf = NULL;
}

static inline void ll_put(ll_sink *o, const char *s, size_t n)
{
    if (n > o->cap - o->len) {
        fprintf(stderr, "ll-gen-corpus: internal error: line too long\n");
        exit(1);
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static inline void ll_put_str(ll_sink *o, const char *s)
{
    ll_put(o, s, strlen(s));
}

static void ll_put_u64(ll_sink *o, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    ll_put(o, tmp + i, sizeof(tmp) - i);
}

/* Fixed-width, zero-padded decimal. */
static void ll_put_dec(ll_sink *o, unsigned v, unsigned width)
{
    char tmp[10];
    for (unsigned i = width; i > 0; i--) {
        tmp[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    ll_put(o, tmp, width);
}

static void ll_put_hex(ll_sink *o, uint64_t v, unsigned digits)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[16];
    for (unsigned i = digits; i > 0; i--) {
        tmp[i - 1] = hex[v & 15];
        v >>= 4;
    }
    ll_put(o, tmp, digits);
}

/* Milliseconds with microsecond fraction, e.g. 12.345 */
static void ll_put_ms(ll_sink *o, uint64_t us)
{
    ll_put_u64(o, us / 1000);
    LL_LIT(o, ".");
    ll_put_dec(o, (unsigned)(us % 1000), 3);
}

/* ------------------------------------------------------------------ */
/* Generator state                                                     */

enum ll_step {
    LL_S_HTTP_IN,
    LL_S_CREATED,
    LL_S_HTTP_OUT,
    LL_S_DISPATCH,
    LL_S_ACCEPT,
    LL_S_FETCH,
    LL_S_SPAWN,
    LL_S_CHILD_START,
    LL_S_CHILD_CHUNK,
    LL_S_CHILD_DONE,
    LL_S_EXIT,
    LL_S_REPORT,
    LL_S_RESULT_HTTP,
    LL_S_DONE,
    LL_S_AGENT_FAIL,
    LL_S_MGR_FAIL,
    LL_S_END
};

enum ll_level { LL_DEBUG, LL_INFO, LL_WARN, LL_ERROR, LL_FATAL };

typedef struct {
    char name[16];
    char host[40];
    uint32_t pid;
    int32_t skew_ms;
    uint8_t winston; /* primary logging style */
    uint8_t sink;
} ll_svc;

typedef struct {
    char cid[36];
    uint64_t wfid;
    uint64_t start_us;
    uint32_t task;
    uint32_t in_bytes;
    uint8_t step;
    uint8_t type;
    uint8_t agent;
    uint8_t child;
    uint8_t chunks;
    uint8_t chunk;
    uint8_t fail_kind;
} ll_wf;

typedef struct {
    ll_rng rng;
    uint64_t now_us;
    uint64_t lines;
    uint64_t limit;
    uint64_t err_lines;
    uint64_t err_threshold;
    uint64_t bg_threshold;
    uint32_t next_req_id;
    uint32_t next_task;
    ll_svc svc[LL_NSVC];
    ll_sink sink[LL_NSVC];
    unsigned nsinks;
    ll_wf *wf;
    uint32_t nwf;
    uint64_t day;
    char date[10]; /* cached "YYYY-MM-DD" for winston timestamps */
} ll_gen;

/* One line being written. */
typedef struct {
    ll_gen *g;
    ll_sink *o;
    const ll_svc *svc;
    const char *msg;
    uint64_t ms;
    int winston;
} ll_line;

/* ------------------------------------------------------------------ */
/* Time formatting                                                     */

static void ll_civil_from_days(uint64_t days, unsigned *y, unsigned *m,
                               unsigned *d)
{
    /* H. Hinnant's algorithm, restricted to dates after 1970. */
    uint64_t z = days + 719468;
    uint64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (unsigned)(yoe + era * 400) + (*m <= 2);
}

static void ll_update_date(ll_gen *g, uint64_t day)
{
    unsigned y, m, d;
    ll_sink tmp = {.fd = -1, .buf = g->date, .len = 0, .cap = 10};
    ll_civil_from_days(day, &y, &m, &d);
    ll_put_dec(&tmp, y, 4);
    LL_LIT(&tmp, "-");
    ll_put_dec(&tmp, m, 2);
    LL_LIT(&tmp, "-");
    ll_put_dec(&tmp, d, 2);
    g->day = day;
}

static void ll_put_iso(ll_gen *g, ll_sink *o, uint64_t ms)
{
    uint64_t day = ms / LL_MS_PER_DAY;
    unsigned in_day = (unsigned)(ms % LL_MS_PER_DAY);
    if (day != g->day)
        ll_update_date(g, day);
    ll_put(o, g->date, sizeof(g->date));
    LL_LIT(o, "T");
    ll_put_dec(o, in_day / 3600000, 2);
    LL_LIT(o, ":");
    ll_put_dec(o, in_day / 60000 % 60, 2);
    LL_LIT(o, ":");
    ll_put_dec(o, in_day / 1000 % 60, 2);
    LL_LIT(o, ".");
    ll_put_dec(o, in_day % 1000, 3);
    LL_LIT(o, "Z");
}

/* ------------------------------------------------------------------ */
/* Line framing: pino or winston                                       */

static const char *const ll_pino_levels[] = {"20", "30", "40", "50", "60"};
static const char *const ll_winston_levels[] = {"debug", "info", "warn",
                                                "error", "error"};

static void ll_begin_pino(ll_line *ln, enum ll_level lvl, const char *cid)
{
    ll_sink *o = ln->o;
    LL_LIT(o, "{\"level\":");
    ll_put_str(o, ll_pino_levels[lvl]);
    LL_LIT(o, ",\"time\":");
    ll_put_u64(o, ln->ms);
    LL_LIT(o, ",\"pid\":");
    ll_put_u64(o, ln->svc->pid);
    LL_LIT(o, ",\"hostname\":\"");
    ll_put_str(o, ln->svc->host);
    LL_LIT(o, "\",\"name\":\"");
    ll_put_str(o, ln->svc->name);
    LL_LIT(o, "\"");
    if (cid != NULL) {
        LL_LIT(o, ",\"correlationId\":\"");
        ll_put(o, cid, 36);
        LL_LIT(o, "\"");
    }
}

static void ll_begin_winston(ll_line *ln, enum ll_level lvl, const char *cid)
{
    ll_sink *o = ln->o;
    LL_LIT(o, "{\"level\":\"");
    ll_put_str(o, ll_winston_levels[lvl]);
    LL_LIT(o, "\",\"message\":\"");
    ll_put_str(o, ln->msg);
    LL_LIT(o, "\",\"service\":\"");
    ll_put_str(o, ln->svc->name);
    LL_LIT(o, "\"");
    if (cid != NULL) {
        LL_LIT(o, ",\"requestId\":\"");
        ll_put(o, cid, 36);
        LL_LIT(o, "\"");
    }
}

/* Starts a line for service `svc`. `msg` must already be JSON-escaped.
 * `cid` (36 chars) may be NULL for uncorrelated lines. */
static ll_sink *ll_begin(ll_line *ln, ll_gen *g, unsigned svc,
                         enum ll_level lvl, const char *msg, const char *cid)
{
    ln->g = g;
    ln->svc = &g->svc[svc];
    ln->o = &g->sink[ln->svc->sink];
    ln->msg = msg;
    ln->ms = (uint64_t)((int64_t)(LL_BASE_EPOCH_MS + g->now_us / 1000) +
                        ln->svc->skew_ms);
    ln->winston = ln->svc->winston;
    if (svc >= LL_SVC_AGENT(0) && svc < LL_SVC_CHILD(0, 0) &&
        ll_rng_below(&g->rng, 100) < 15)
        ln->winston = !ln->winston; /* a sub-module using the other logger */
    if (ln->o->cap - ln->o->len < LL_HEADROOM)
        ll_sink_flush(ln->o);
    if (ln->winston)
        ll_begin_winston(ln, lvl, cid);
    else
        ll_begin_pino(ln, lvl, cid);
    return ln->o;
}

static void ll_end(ll_line *ln)
{
    ll_sink *o = ln->o;
    if (ln->winston) {
        LL_LIT(o, ",\"timestamp\":\"");
        ll_put_iso(ln->g, o, ln->ms);
        LL_LIT(o, "\"}\n");
    } else {
        LL_LIT(o, ",\"msg\":\"");
        ll_put_str(o, ln->msg);
        LL_LIT(o, "\"}\n");
    }
    ln->g->lines++;
}

/* ------------------------------------------------------------------ */
/* Shared field helpers                                                */

static const char *const ll_types[] = {
    "transcode",    "thumbnail",   "index-document", "backup-db",
    "sync-inventory", "render-report", "ml-inference", "send-digest"};

static void ll_put_kv_str(ll_sink *o, const char *key, const char *val)
{
    LL_LIT(o, ",\"");
    ll_put_str(o, key);
    LL_LIT(o, "\":\"");
    ll_put_str(o, val);
    LL_LIT(o, "\"");
}

static void ll_put_kv_u64(ll_sink *o, const char *key, uint64_t val)
{
    LL_LIT(o, ",\"");
    ll_put_str(o, key);
    LL_LIT(o, "\":");
    ll_put_u64(o, val);
}

static void ll_put_kv_ms(ll_sink *o, const char *key, uint64_t us)
{
    LL_LIT(o, ",\"");
    ll_put_str(o, key);
    LL_LIT(o, "\":");
    ll_put_ms(o, us);
}

static void ll_put_task(ll_sink *o, const ll_wf *w)
{
    LL_LIT(o, ",\"taskId\":\"task-");
    ll_put_u64(o, w->task);
    LL_LIT(o, "\"");
}

static void ll_put_wfid(ll_sink *o, const ll_wf *w)
{
    LL_LIT(o, ",\"workflowId\":\"wf-");
    ll_put_hex(o, w->wfid, 16);
    LL_LIT(o, "\"");
}

static void ll_put_ip(ll_sink *o, ll_rng *r, unsigned subnet)
{
    LL_LIT(o, "10.0.");
    ll_put_u64(o, subnet);
    LL_LIT(o, ".");
    ll_put_u64(o, ll_rng_range(r, 2, 250));
}

/* pino-http style `req` object; x-request-id carries the correlation id. */
static void ll_put_req(ll_gen *g, ll_sink *o, const ll_wf *w, int result)
{
    LL_LIT(o, ",\"req\":{\"id\":");
    ll_put_u64(o, g->next_req_id++);
    if (result) {
        LL_LIT(o, ",\"method\":\"POST\",\"url\":\"/api/v1/workflows/wf-");
        ll_put_hex(o, w->wfid, 16);
        LL_LIT(o, "/result\",\"query\":{},\"params\":{\"id\":\"wf-");
        ll_put_hex(o, w->wfid, 16);
        LL_LIT(o, "\"},\"headers\":{\"host\":\"manager.internal:8080\","
                  "\"user-agent\":\"axios/1.6.7\",");
    } else {
        LL_LIT(o, ",\"method\":\"POST\",\"url\":\"/api/v1/workflows\","
                  "\"query\":{},\"params\":{},\"headers\":{\"host\":"
                  "\"manager.internal:8080\",\"user-agent\":"
                  "\"scheduler-client/2.3.1 node/20.11.1\",");
    }
    LL_LIT(o, "\"content-type\":\"application/json\",\"content-length\":\"");
    ll_put_u64(o, ll_rng_range(&g->rng, 80, 2400));
    LL_LIT(o, "\",\"x-request-id\":\"");
    ll_put(o, w->cid, 36);
    LL_LIT(o, "\"},\"remoteAddress\":\"::ffff:");
    ll_put_ip(o, &g->rng, 3 + w->agent);
    LL_LIT(o, "\",\"remotePort\":");
    ll_put_u64(o, ll_rng_range(&g->rng, 32768, 60999));
    LL_LIT(o, "}");
}

static void ll_put_res(ll_gen *g, ll_sink *o, const ll_wf *w, unsigned code)
{
    LL_LIT(o, ",\"res\":{\"statusCode\":");
    ll_put_u64(o, code);
    LL_LIT(o, ",\"headers\":{\"content-type\":\"application/json; "
              "charset=utf-8\",\"content-length\":\"");
    ll_put_u64(o, ll_rng_range(&g->rng, 20, 160));
    LL_LIT(o, "\",\"x-request-id\":\"");
    ll_put(o, w->cid, 36);
    LL_LIT(o, "\"}},\"responseTime\":");
    ll_put_u64(o, ll_rng_range(&g->rng, 1, 40));
}

static unsigned ll_child_svc(const ll_wf *w)
{
    return LL_SVC_CHILD(w->agent, w->child);
}

/* ------------------------------------------------------------------ */
/* Workflow steps: manager                                             */

static void ll_step_http_in(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_MANAGER, LL_INFO, "incoming request",
                          NULL);
    ll_put_req(g, o, w, 0);
    ll_end(&ln);
    w->step = LL_S_CREATED;
}

static void ll_step_created(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_MANAGER, LL_INFO, "workflow created",
                          w->cid);
    ll_put_wfid(o, w);
    ll_put_kv_str(o, "type", ll_types[w->type]);
    ll_put_kv_u64(o, "priority", ll_rng_range(&g->rng, 0, 9));
    ll_put_kv_str(o, "requestedBy", "svc-scheduler");
    ll_put_kv_u64(o, "inputBytes", w->in_bytes);
    ll_end(&ln);
    w->step = LL_S_HTTP_OUT;
}

static void ll_step_http_out(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_MANAGER, LL_INFO,
                          "request completed", NULL);
    ll_put_req(g, o, w, 0);
    ll_put_res(g, o, w, 202);
    ll_end(&ln);
    w->step = LL_S_DISPATCH;
}

static void ll_step_dispatch(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_MANAGER, LL_INFO,
                          "dispatching task to agent", w->cid);
    ll_put_wfid(o, w);
    ll_put_task(o, w);
    LL_LIT(o, ",\"agent\":\"");
    ll_put_str(o, g->svc[LL_SVC_AGENT(w->agent)].name);
    LL_LIT(o, "\",\"attempt\":1,\"queue\":\"default\"");
    ll_end(&ln);
    w->step = LL_S_ACCEPT;
}

static void ll_step_result_http(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_MANAGER, LL_INFO,
                          "request completed", NULL);
    ll_put_req(g, o, w, 1);
    ll_put_res(g, o, w, 200);
    ll_end(&ln);
    w->step = LL_S_DONE;
}

static void ll_step_done(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_MANAGER, LL_INFO,
                          "workflow completed", w->cid);
    ll_put_wfid(o, w);
    LL_LIT(o, ",\"status\":\"succeeded\"");
    ll_put_kv_ms(o, "durationMs", g->now_us - w->start_us);
    ll_put_kv_u64(o, "chunks", w->chunks);
    ll_end(&ln);
    w->step = LL_S_END;
}

/* ------------------------------------------------------------------ */
/* Workflow steps: agent                                               */

static void ll_step_accept(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_AGENT(w->agent), LL_INFO,
                          "task accepted", w->cid);
    ll_put_task(o, w);
    ll_put_wfid(o, w);
    ll_put_kv_str(o, "type", ll_types[w->type]);
    ll_put_kv_u64(o, "queueDepth", ll_rng_range(&g->rng, 0, 40));
    LL_LIT(o, ",\"slots\":{\"used\":");
    ll_put_u64(o, ll_rng_range(&g->rng, 1, LL_CHILDREN));
    LL_LIT(o, ",\"max\":6}");
    ll_end(&ln);
    w->step = LL_S_FETCH;
}

static void ll_step_fetch(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    int dbg = ll_rng_below(&g->rng, 100) < 30;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_AGENT(w->agent),
                          dbg ? LL_DEBUG : LL_INFO, "fetched job input",
                          w->cid);
    ll_put_task(o, w);
    LL_LIT(o, ",\"url\":\"s3://logloom-jobs/inputs/");
    ll_put_str(o, ll_types[w->type]);
    LL_LIT(o, "/wf-");
    ll_put_hex(o, w->wfid, 16);
    LL_LIT(o, ".json\"");
    ll_put_kv_u64(o, "bytes", w->in_bytes);
    ll_put_kv_ms(o, "durationMs", ll_rng_range(&g->rng, 2000, 900000));
    ll_end(&ln);
    w->step = LL_S_SPAWN;
}

static void ll_step_spawn(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_AGENT(w->agent), LL_INFO,
                          "spawned worker", w->cid);
    ll_put_task(o, w);
    LL_LIT(o, ",\"cmd\":\"node\",\"args\":[\"--max-old-space-size=2048\","
              "\"dist/worker.js\",\"--task\",\"task-");
    ll_put_u64(o, w->task);
    LL_LIT(o, "\",\"--type\",\"");
    ll_put_str(o, ll_types[w->type]);
    LL_LIT(o, "\"]");
    ll_put_kv_u64(o, "childPid", g->svc[ll_child_svc(w)].pid);
    ll_end(&ln);
    w->step = LL_S_CHILD_START;
}

static void ll_step_exit(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_AGENT(w->agent), LL_INFO,
                          "worker exited", w->cid);
    ll_put_task(o, w);
    ll_put_kv_u64(o, "childPid", g->svc[ll_child_svc(w)].pid);
    LL_LIT(o, ",\"exitCode\":0,\"signal\":null");
    ll_put_kv_ms(o, "durationMs", g->now_us - w->start_us);
    ll_end(&ln);
    w->step = LL_S_REPORT;
}

static void ll_step_report(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_AGENT(w->agent), LL_INFO,
                          "reported result to manager", w->cid);
    ll_put_task(o, w);
    LL_LIT(o, ",\"method\":\"POST\",\"url\":\"http://manager.internal:8080"
              "/api/v1/workflows/wf-");
    ll_put_hex(o, w->wfid, 16);
    LL_LIT(o, "/result\",\"statusCode\":200");
    ll_put_kv_ms(o, "durationMs", ll_rng_range(&g->rng, 1500, 90000));
    ll_end(&ln);
    w->step = LL_S_RESULT_HTTP;
}

/* ------------------------------------------------------------------ */
/* Workflow steps: child worker                                        */

static const char *const ll_child_start_msgs[] = {
    "worker started", "worker started",
    "state transition queued \\u2192 running", /* escaped: unescape path */
    "état: démarrage du worker \xe2\x86\x92 ok", /* raw UTF-8 */
};

static void ll_step_child_start(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    const char *msg = ll_child_start_msgs[ll_rng_below(
        &g->rng, LL_COUNT(ll_child_start_msgs))];
    ll_sink *o = ll_begin(&ln, g, ll_child_svc(w), LL_INFO, msg, w->cid);
    ll_put_task(o, w);
    LL_LIT(o, ",\"node\":\"v20.11.1\",\"memoryLimitMb\":2048,\"argv\":["
              "\"--task\",\"task-");
    ll_put_u64(o, w->task);
    LL_LIT(o, "\"],\"cwd\":\"/srv/agent/tasks/task-");
    ll_put_u64(o, w->task);
    LL_LIT(o, "\"");
    ll_end(&ln);
    w->step = LL_S_CHILD_CHUNK;
}

static void ll_step_child_chunk(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    unsigned roll = ll_rng_below(&g->rng, 100);
    enum ll_level lvl = roll < 8 ? LL_WARN : roll < 30 ? LL_DEBUG : LL_INFO;
    const char *msg = lvl == LL_WARN ? "chunk processing slow"
                                     : "processed chunk";
    ll_sink *o = ll_begin(&ln, g, ll_child_svc(w), lvl, msg, w->cid);
    ll_put_task(o, w);
    ll_put_kv_u64(o, "chunk", (uint64_t)w->chunk + 1);
    ll_put_kv_u64(o, "of", w->chunks);
    ll_put_kv_u64(o, "bytes", ll_rng_range(&g->rng, 4096, 4194304));
    ll_put_kv_ms(o, "durationMs", ll_rng_range(&g->rng, 800, 2500000));
    ll_put_kv_u64(o, "rss", ll_rng_range(&g->rng, 60, 1900) * 1048576ull);
    if (lvl == LL_WARN)
        LL_LIT(o, ",\"thresholdMs\":500");
    ll_end(&ln);
    if (++w->chunk >= w->chunks)
        w->step = LL_S_CHILD_DONE;
}

static void ll_step_child_done(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, ll_child_svc(w), LL_INFO, "worker finished",
                          w->cid);
    ll_put_task(o, w);
    ll_put_kv_u64(o, "outputBytes", ll_rng_range(&g->rng, 512, 90000000));
    ll_put_kv_u64(o, "chunks", w->chunks);
    LL_LIT(o, ",\"output\":\"s3://logloom-jobs/outputs/task-");
    ll_put_u64(o, w->task);
    LL_LIT(o, ".json\"");
    ll_end(&ln);
    w->step = LL_S_EXIT;
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

enum ll_errk {
    LL_E_ECONNRESET,
    LL_E_ECONNREFUSED,
    LL_E_ETIMEDOUT,
    LL_E_EAI_AGAIN,
    LL_E_EPIPE,
    LL_E_HTTP503,
    LL_E_DEADLOCK,
    LL_E_SPAWN_ENOENT,
    LL_E_SPAWN_EINVAL,
    LL_E_SIGKILL,
    LL_E_OOM
};

static const char *const ll_err_reason[] = {
    "ECONNRESET",       "ECONNREFUSED", "ETIMEDOUT", "EAI_AGAIN",
    "EPIPE",            "ERR_BAD_RESPONSE", "40P01", "ENOENT",
    "EINVAL",           "SIGKILL",      "ERR_WORKER_OOM"};

/* Writes a Node system error; the err object is left open. */
static void ll_err_syscall(ll_sink *o, const char *msg, const char *code,
                           int errnum, const char *sys, const char *frame)
{
    LL_LIT(o, ",\"err\":{\"type\":\"Error\",\"message\":\"");
    ll_put_str(o, msg);
    LL_LIT(o, "\",\"stack\":\"Error: ");
    ll_put_str(o, msg);
    LL_LIT(o, "\\n    at ");
    ll_put_str(o, frame);
    LL_LIT(o, "\",\"errno\":-");
    ll_put_u64(o, (uint64_t)errnum);
    LL_LIT(o, ",\"code\":\"");
    ll_put_str(o, code);
    LL_LIT(o, "\",\"syscall\":\"");
    ll_put_str(o, sys);
    LL_LIT(o, "\"");
}

static void ll_err_connect(ll_gen *g, ll_sink *o, const char *code,
                           int errnum, unsigned port)
{
    char addr[64];
    char msg[96];
    ll_sink a = {.fd = -1, .buf = addr, .len = 0, .cap = sizeof(addr) - 1};
    ll_put_ip(&a, &g->rng, port == 5432 ? 2 : 4);
    addr[a.len] = '\0';
    snprintf(msg, sizeof(msg), "connect %s %s:%u", code, addr, port);
    ll_err_syscall(o, msg, code, errnum, "connect",
                   "TCPConnectWrap.afterConnect [as oncomplete] "
                   "(node:net:1555:16)");
    LL_LIT(o, ",\"address\":\"");
    ll_put_str(o, addr);
    LL_LIT(o, "\",\"port\":");
    ll_put_u64(o, port);
    LL_LIT(o, "}");
}

static void ll_err_deadlock(ll_gen *g, ll_sink *o)
{
    uint32_t p1 = ll_rng_range(&g->rng, 20000, 90000);
    uint32_t tx = ll_rng_range(&g->rng, 1000000, 9000000);
    LL_LIT(o, ",\"err\":{\"type\":\"DatabaseError\",\"message\":\"deadlock "
              "detected\",\"stack\":\"error: deadlock detected\\n    at "
              "Parser.parseErrorMessage (/app/node_modules/pg-protocol/dist/"
              "parser.js:283:98)\\n    at Parser.handlePacket (/app/"
              "node_modules/pg-protocol/dist/parser.js:122:29)\\n    at "
              "Parser.parse (/app/node_modules/pg-protocol/dist/parser.js:"
              "35:38)\",\"length\":316,\"name\":\"error\",\"severity\":"
              "\"ERROR\",\"code\":\"40P01\",\"detail\":\"Process ");
    ll_put_u64(o, p1);
    LL_LIT(o, " waits for ShareLock on transaction ");
    ll_put_u64(o, tx);
    LL_LIT(o, "; blocked by process ");
    ll_put_u64(o, p1 + 7);
    LL_LIT(o, ".\",\"hint\":\"See server log for query details.\",\"where\":"
              "\"while updating tuple (12,7) in relation \\\"workflow_steps"
              "\\\"\",\"file\":\"deadlock.c\",\"line\":\"1148\",\"routine\":"
              "\"DeadLockReport\"}");
}

static void ll_err_spawn(ll_sink *o, int enoent)
{
    if (!enoent) {
        ll_err_syscall(o, "spawn EINVAL", "EINVAL", 22, "spawn",
                       "ChildProcess.spawn (node:internal/child_process:"
                       "421:11)\\n    at Object.spawn (node:child_process:"
                       "761:9)\\n    at Runner.start (/app/dist/agent/"
                       "runner.js:88:27)");
        LL_LIT(o, "}");
        return;
    }
    ll_err_syscall(o, "spawn ffmpeg ENOENT", "ENOENT", 2, "spawn ffmpeg",
                   "ChildProcess._handle.onexit (node:internal/"
                   "child_process:284:19)\\n    at onErrorNT (node:internal/"
                   "child_process:477:16)\\n    at process.processTicksAnd"
                   "Rejections (node:internal/process/task_queues:82:21)");
    LL_LIT(o, ",\"path\":\"ffmpeg\",\"spawnargs\":[\"-i\",\"input.mp4\","
              "\"-y\",\"output.webm\"]}");
}

static void ll_err_sigkill(ll_sink *o, const ll_wf *w)
{
    LL_LIT(o, ",\"exitCode\":null,\"signal\":\"SIGKILL\",\"err\":{\"type\":"
              "\"Error\",\"message\":\"Command failed: node dist/worker.js "
              "--task task-");
    ll_put_u64(o, w->task);
    LL_LIT(o, "\\n\",\"stack\":\"Error: Command failed: node dist/worker.js"
              "\\n    at ChildProcess.exithandler (node:child_process:422:12)"
              "\\n    at ChildProcess.emit (node:events:517:28)\\n    at "
              "maybeClose (node:internal/child_process:1098:16)\",\"code\":"
              "null,\"killed\":true,\"signal\":\"SIGKILL\"}");
}

static void ll_err_oom(ll_gen *g, ll_sink *o, const ll_wf *w)
{
    uint32_t pid = g->svc[ll_child_svc(w)].pid;
    LL_LIT(o, ",\"exitCode\":null,\"signal\":\"SIGABRT\",\"err\":{\"type\":"
              "\"Error\",\"message\":\"worker ");
    ll_put_u64(o, pid);
    LL_LIT(o, " crashed: FATAL ERROR: Reached heap limit Allocation failed "
              "- JavaScript heap out of memory\",\"stack\":\"Error: worker ");
    ll_put_u64(o, pid);
    LL_LIT(o, " crashed: FATAL ERROR: Reached heap limit Allocation failed "
              "- JavaScript heap out of memory\\n    at ChildProcess."
              "<anonymous> (/app/dist/agent/runner.js:142:19)\\n    at "
              "ChildProcess.emit (node:events:517:28)\",\"code\":"
              "\"ERR_WORKER_OOM\"}");
}

static void ll_err_http503(ll_sink *o)
{
    LL_LIT(o, ",\"err\":{\"type\":\"AxiosError\",\"message\":\"Request failed "
              "with status code 503\",\"stack\":\"AxiosError: Request failed "
              "with status code 503\\n    at settle (/app/node_modules/axios/"
              "dist/node/axios.cjs:1966:12)\\n    at IncomingMessage."
              "handleStreamEnd (/app/node_modules/axios/dist/node/axios.cjs:"
              "3065:11)\",\"code\":\"ERR_BAD_RESPONSE\",\"status\":503}");
}

static void ll_put_err(ll_gen *g, ll_sink *o, const ll_wf *w,
                       enum ll_errk k)
{
    switch (k) {
    case LL_E_ECONNRESET:
        ll_err_syscall(o, "read ECONNRESET", "ECONNRESET", 104, "read",
                       "TLSWrap.onStreamRead (node:internal/"
                       "stream_base_commons:217:20)");
        LL_LIT(o, "}");
        break;
    case LL_E_ECONNREFUSED:
        ll_err_connect(g, o, "ECONNREFUSED", 111, 5432);
        break;
    case LL_E_ETIMEDOUT:
        ll_err_connect(g, o, "ETIMEDOUT", 110, 443);
        break;
    case LL_E_EAI_AGAIN:
        ll_err_syscall(o, "getaddrinfo EAI_AGAIN manager.internal",
                       "EAI_AGAIN", 3001, "getaddrinfo",
                       "GetAddrInfoReqWrap.onlookup [as oncomplete] "
                       "(node:dns:107:26)");
        LL_LIT(o, "}");
        break;
    case LL_E_EPIPE:
        ll_err_syscall(o, "write EPIPE", "EPIPE", 32, "write",
                       "afterWriteDispatched (node:internal/"
                       "stream_base_commons:160:15)");
        LL_LIT(o, "}");
        break;
    case LL_E_HTTP503:
        ll_err_http503(o);
        break;
    case LL_E_DEADLOCK:
        ll_err_deadlock(g, o);
        break;
    case LL_E_SPAWN_ENOENT:
    case LL_E_SPAWN_EINVAL:
        ll_err_spawn(o, k == LL_E_SPAWN_ENOENT);
        break;
    case LL_E_SIGKILL:
        ll_err_sigkill(o, w);
        break;
    case LL_E_OOM:
        ll_err_oom(g, o, w);
        break;
    }
}

static int ll_step_is_manager(unsigned step)
{
    return step <= LL_S_DISPATCH || step == LL_S_RESULT_HTTP ||
           step == LL_S_DONE;
}

static int ll_step_is_child(unsigned step)
{
    return step >= LL_S_CHILD_START && step <= LL_S_CHILD_DONE;
}

/* Chooses the error kind and the service that logs it for the step. */
static enum ll_errk ll_pick_err(ll_gen *g, const ll_wf *w, unsigned *svc)
{
    static const enum ll_errk mgr[] = {LL_E_DEADLOCK, LL_E_DEADLOCK,
                                       LL_E_ECONNREFUSED, LL_E_ETIMEDOUT,
                                       LL_E_ECONNRESET};
    static const enum ll_errk net[] = {LL_E_ECONNRESET, LL_E_ECONNRESET,
                                       LL_E_ETIMEDOUT, LL_E_EAI_AGAIN,
                                       LL_E_HTTP503};
    static const enum ll_errk child[] = {LL_E_ECONNRESET, LL_E_ETIMEDOUT,
                                         LL_E_ECONNREFUSED, LL_E_EPIPE,
                                         LL_E_EAI_AGAIN};
    ll_rng *r = &g->rng;
    *svc = LL_SVC_AGENT(w->agent);
    if (ll_step_is_manager(w->step)) {
        *svc = LL_SVC_MANAGER;
        return mgr[ll_rng_below(r, LL_COUNT(mgr))];
    }
    if (w->step == LL_S_SPAWN)
        return ll_rng_below(r, 3) ? LL_E_SPAWN_ENOENT : LL_E_SPAWN_EINVAL;
    if (ll_step_is_child(w->step)) {
        unsigned roll = ll_rng_below(r, 10);
        if (roll < 2)
            return roll ? LL_E_SIGKILL : LL_E_OOM;
        *svc = ll_child_svc(w);
        return child[ll_rng_below(r, LL_COUNT(child))];
    }
    return net[ll_rng_below(r, LL_COUNT(net))];
}

static const char *ll_err_msg(enum ll_errk k)
{
    switch (k) {
    case LL_E_DEADLOCK:
        return "failed to persist workflow state";
    case LL_E_SPAWN_ENOENT:
    case LL_E_SPAWN_EINVAL:
        return "failed to spawn worker";
    case LL_E_SIGKILL:
        return "worker killed";
    case LL_E_OOM:
        return "worker crashed";
    case LL_E_HTTP503:
        return "request to manager failed";
    default:
        return "upstream request failed";
    }
}

static int ll_err_fatal(ll_gen *g, enum ll_errk k)
{
    if (k >= LL_E_SPAWN_ENOENT)
        return 1;
    return ll_rng_below(&g->rng, 4) == 0;
}

static void ll_emit_error(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    unsigned svc;
    enum ll_errk k = ll_pick_err(g, w, &svc);
    ll_sink *o = ll_begin(&ln, g, svc, LL_ERROR, ll_err_msg(k), w->cid);
    if (svc == LL_SVC_MANAGER)
        ll_put_wfid(o, w);
    else
        ll_put_task(o, w);
    ll_put_err(g, o, w, k);
    ll_end(&ln);
    g->err_lines++;
    if (!ll_err_fatal(g, k))
        return;
    w->fail_kind = (uint8_t)k;
    w->step = w->step < LL_S_ACCEPT ? LL_S_MGR_FAIL : LL_S_AGENT_FAIL;
}

static void ll_step_agent_fail(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_AGENT(w->agent), LL_ERROR,
                          "task failed", w->cid);
    ll_put_task(o, w);
    ll_put_wfid(o, w);
    ll_put_kv_str(o, "reason", ll_err_reason[w->fail_kind]);
    LL_LIT(o, ",\"retryable\":false");
    ll_end(&ln);
    w->step = LL_S_MGR_FAIL;
}

static void ll_step_mgr_fail(ll_gen *g, ll_wf *w)
{
    ll_line ln;
    ll_sink *o = ll_begin(&ln, g, LL_SVC_MANAGER, LL_ERROR,
                          "workflow failed", w->cid);
    ll_put_wfid(o, w);
    LL_LIT(o, ",\"status\":\"failed\"");
    ll_put_kv_str(o, "reason", ll_err_reason[w->fail_kind]);
    ll_put_kv_ms(o, "durationMs", g->now_us - w->start_us);
    ll_end(&ln);
    w->step = LL_S_END;
}

/* ------------------------------------------------------------------ */
/* Background (uncorrelated) lines                                     */

static void ll_emit_background(ll_gen *g)
{
    ll_line ln;
    unsigned roll = ll_rng_below(&g->rng, 3);
    if (roll == 0) {
        unsigned a = ll_rng_below(&g->rng, LL_AGENTS);
        ll_sink *o = ll_begin(&ln, g, LL_SVC_AGENT(a), LL_DEBUG,
                              "heartbeat sent", NULL);
        ll_put_kv_u64(o, "activeTasks", ll_rng_range(&g->rng, 0, 6));
        ll_put_kv_ms(o, "loadAvg", ll_rng_range(&g->rng, 10, 8000));
    } else if (roll == 1) {
        ll_sink *o = ll_begin(&ln, g, LL_SVC_MANAGER, LL_INFO,
                              "db pool stats", NULL);
        LL_LIT(o, ",\"pool\":{\"total\":20,\"idle\":");
        ll_put_u64(o, ll_rng_range(&g->rng, 0, 20));
        LL_LIT(o, ",\"waiting\":");
        ll_put_u64(o, ll_rng_range(&g->rng, 0, 3));
        LL_LIT(o, "}");
    } else {
        ll_sink *o = ll_begin(&ln, g, LL_SVC_MANAGER, LL_INFO,
                              "request completed", NULL);
        LL_LIT(o, ",\"req\":{\"id\":");
        ll_put_u64(o, g->next_req_id++);
        LL_LIT(o, ",\"method\":\"GET\",\"url\":\"/healthz\",\"headers\":{"
                  "\"host\":\"10.0.1.4:8080\",\"user-agent\":"
                  "\"kube-probe/1.29\"}},\"res\":{\"statusCode\":200},"
                  "\"responseTime\":1");
    }
    ll_end(&ln);
}

/* ------------------------------------------------------------------ */
/* Workflow lifecycle                                                  */

typedef void (*ll_step_fn)(ll_gen *, ll_wf *);

static const ll_step_fn ll_steps[LL_S_END] = {
    [LL_S_HTTP_IN] = ll_step_http_in,
    [LL_S_CREATED] = ll_step_created,
    [LL_S_HTTP_OUT] = ll_step_http_out,
    [LL_S_DISPATCH] = ll_step_dispatch,
    [LL_S_ACCEPT] = ll_step_accept,
    [LL_S_FETCH] = ll_step_fetch,
    [LL_S_SPAWN] = ll_step_spawn,
    [LL_S_CHILD_START] = ll_step_child_start,
    [LL_S_CHILD_CHUNK] = ll_step_child_chunk,
    [LL_S_CHILD_DONE] = ll_step_child_done,
    [LL_S_EXIT] = ll_step_exit,
    [LL_S_REPORT] = ll_step_report,
    [LL_S_RESULT_HTTP] = ll_step_result_http,
    [LL_S_DONE] = ll_step_done,
    [LL_S_AGENT_FAIL] = ll_step_agent_fail,
    [LL_S_MGR_FAIL] = ll_step_mgr_fail,
};

static void ll_make_uuid(ll_rng *r, char out[36])
{
    ll_sink s = {.fd = -1, .buf = out, .len = 0, .cap = 36};
    uint64_t a = ll_rng_next(r);
    uint64_t b = ll_rng_next(r);
    ll_put_hex(&s, a >> 32, 8);
    LL_LIT(&s, "-");
    ll_put_hex(&s, a >> 16, 4);
    LL_LIT(&s, "-4");
    ll_put_hex(&s, a, 3);
    LL_LIT(&s, "-");
    ll_put_hex(&s, 8 | (b >> 62), 1);
    ll_put_hex(&s, b >> 48, 3);
    LL_LIT(&s, "-");
    ll_put_hex(&s, b, 12);
}

static void ll_wf_init(ll_gen *g, ll_wf *w, unsigned step)
{
    ll_rng *r = &g->rng;
    ll_make_uuid(r, w->cid);
    w->wfid = ll_rng_next(r);
    w->start_us = g->now_us;
    w->task = g->next_task++;
    w->in_bytes = ll_rng_range(r, 200, 50000000);
    w->step = (uint8_t)step;
    w->type = (uint8_t)ll_rng_below(r, LL_COUNT(ll_types));
    w->agent = (uint8_t)ll_rng_below(r, LL_AGENTS);
    w->child = (uint8_t)ll_rng_below(r, LL_CHILDREN);
    w->chunks = (uint8_t)ll_rng_range(r, 2, 10);
    w->chunk = 0;
    w->fail_kind = 0;
}

static void ll_tick(ll_gen *g)
{
    g->now_us += ll_rng_below(&g->rng, 2 * LL_TICK_MEAN_US + 1);
}

static void ll_run(ll_gen *g)
{
    while (g->lines < g->limit) {
        ll_wf *w;
        if (ll_rng_hit(&g->rng, g->bg_threshold)) {
            ll_emit_background(g);
            ll_tick(g);
            continue;
        }
        w = &g->wf[ll_rng_below(&g->rng, g->nwf)];
        if (w->step < LL_S_AGENT_FAIL && ll_rng_hit(&g->rng, g->err_threshold))
            ll_emit_error(g, w);
        else
            ll_steps[w->step](g, w);
        if (w->step == LL_S_END)
            ll_wf_init(g, w, LL_S_HTTP_IN);
        ll_tick(g);
    }
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */

static void ll_make_host(ll_rng *r, char *out, size_t cap, const char *pre)
{
    static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    ll_sink s = {.fd = -1, .buf = out, .len = 0, .cap = cap - 1};
    ll_put_str(&s, pre);
    LL_LIT(&s, "-");
    ll_put_hex(&s, ll_rng_next(r), 9);
    LL_LIT(&s, "-");
    for (int i = 0; i < 5; i++)
        ll_put(&s, &b36[ll_rng_below(r, 36)], 1);
    out[s.len] = '\0';
}

static void ll_init_services(ll_gen *g, int split)
{
    ll_rng *r = &g->rng;
    ll_svc *m = &g->svc[LL_SVC_MANAGER];
    snprintf(m->name, sizeof(m->name), "manager");
    ll_make_host(r, m->host, sizeof(m->host), "manager");
    m->pid = ll_rng_range(r, 7, 40);
    m->skew_ms = 0;
    m->winston = 0;
    for (unsigned a = 0; a < LL_AGENTS; a++) {
        ll_svc *s = &g->svc[LL_SVC_AGENT(a)];
        snprintf(s->name, sizeof(s->name), "agent-%u", a + 1);
        ll_make_host(r, s->host, sizeof(s->host), s->name);
        s->pid = ll_rng_range(r, 7, 40);
        s->skew_ms = (int32_t)ll_rng_below(r, 9) - 4;
        s->winston = (a % 2) == 0;
        for (unsigned c = 0; c < LL_CHILDREN; c++) {
            ll_svc *k = &g->svc[LL_SVC_CHILD(a, c)];
            snprintf(k->name, sizeof(k->name), "worker");
            memcpy(k->host, s->host, sizeof(k->host));
            /* unique per (agent, slot): split mode names files by pid */
            k->pid = ll_rng_range(r, 100, 9999) * 100 + a * LL_CHILDREN + c;
            k->skew_ms = s->skew_ms;
            k->winston = 0;
        }
    }
    for (unsigned i = 0; i < LL_NSVC; i++)
        g->svc[i].sink = (uint8_t)(split ? i : 0);
}

static void ll_open_split(ll_gen *g, const char *dir)
{
    char path[4096];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        ll_die(dir);
    for (unsigned i = 0; i < LL_NSVC; i++) {
        const ll_svc *s = &g->svc[i];
        int n = i < LL_SVC_CHILD(0, 0)
                    ? snprintf(path, sizeof(path), "%s/%s.log", dir, s->name)
                    : snprintf(path, sizeof(path), "%s/child-%u.log", dir,
                               (unsigned)s->pid);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            fprintf(stderr, "ll-gen-corpus: output path too long\n");
            exit(1);
        }
        ll_sink_open(&g->sink[i], path, LL_BUF_SPLIT);
    }
    g->nsinks = LL_NSVC;
}

typedef struct {
    uint64_t lines;
    uint64_t seed;
    uint32_t concurrency;
    double error_rate;
    const char *out;
    int split;
} ll_opts;

static void ll_usage(FILE *f)
{
    fprintf(f,
            "usage: ll-gen-corpus [--lines N] [--seed S] [--out FILE|-]\n"
            "                     [--split --out DIR] [--concurrency K]\n"
            "                     [--error-rate P]\n"
            "  --lines N        lines to write (default 2000000)\n"
            "  --seed S         PRNG seed (default 1)\n"
            "  --out FILE       output file, '-' = stdout (default)\n"
            "  --split          --out is a directory; one file per service\n"
            "  --concurrency K  interleaved open workflows (default 2000)\n"
            "  --error-rate P   share of lines carrying an err object "
            "(default 0.01)\n");
}

static uint64_t ll_parse_u64(const char *opt, const char *s, uint64_t max)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
        fprintf(stderr, "ll-gen-corpus: bad value for %s: '%s'\n", opt, s);
        exit(2);
    }
    return v;
}

static double ll_parse_prob(const char *opt, const char *s)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0)) {
        fprintf(stderr, "ll-gen-corpus: bad value for %s: '%s'\n", opt, s);
        exit(2);
    }
    return v;
}

static const char *ll_arg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "ll-gen-corpus: %s needs a value\n", argv[*i]);
        exit(2);
    }
    return argv[++*i];
}

static void ll_parse_opts(int argc, char **argv, ll_opts *op)
{
    *op = (ll_opts){.lines = 2000000, .seed = 1, .concurrency = 2000,
                    .error_rate = 0.01, .out = "-", .split = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--lines") == 0)
            op->lines = ll_parse_u64(a, ll_arg(argc, argv, &i), UINT64_MAX);
        else if (strcmp(a, "--seed") == 0)
            op->seed = ll_parse_u64(a, ll_arg(argc, argv, &i), UINT64_MAX);
        else if (strcmp(a, "--concurrency") == 0)
            op->concurrency = (uint32_t)ll_parse_u64(
                a, ll_arg(argc, argv, &i), 1000000);
        else if (strcmp(a, "--error-rate") == 0)
            op->error_rate = ll_parse_prob(a, ll_arg(argc, argv, &i));
        else if (strcmp(a, "--out") == 0)
            op->out = ll_arg(argc, argv, &i);
        else if (strcmp(a, "--split") == 0)
            op->split = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            ll_usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "ll-gen-corpus: unknown option '%s'\n", a);
            ll_usage(stderr);
            exit(2);
        }
    }
    if (op->concurrency == 0 || (op->split && strcmp(op->out, "-") == 0)) {
        fprintf(stderr, "ll-gen-corpus: --concurrency must be >= 1 and "
                        "--split needs --out DIR\n");
        exit(2);
    }
}

static void ll_gen_init(ll_gen *g, const ll_opts *op)
{
    memset(g, 0, sizeof(*g));
    g->rng.s = op->seed;
    g->limit = op->lines;
    g->err_threshold = ll_prob_threshold(op->error_rate);
    g->bg_threshold = ll_prob_threshold(LL_BACKGROUND_RATE);
    g->next_req_id = 1;
    g->next_task = 100000;
    g->day = UINT64_MAX;
    ll_init_services(g, op->split);
    if (op->split) {
        ll_open_split(g, op->out);
    } else {
        ll_sink_open(&g->sink[0], op->out, LL_BUF_SINGLE);
        g->nsinks = 1;
    }
    g->nwf = op->concurrency;
    g->wf = calloc(g->nwf, sizeof(*g->wf));
    if (g->wf == NULL)
        ll_die("calloc");
    /* Start mid-stream, like a rotated log: open workflows at any step. */
    for (uint32_t i = 0; i < g->nwf; i++)
        ll_wf_init(g, &g->wf[i], ll_rng_below(&g->rng, LL_S_DONE + 1));
}

static double ll_now_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        ll_die("clock_gettime");
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    ll_opts op;
    ll_gen *g;
    double t0;
    double dt;
    uint64_t bytes = 0;

    ll_parse_opts(argc, argv, &op);
    g = malloc(sizeof(*g));
    if (g == NULL)
        ll_die("malloc");
    t0 = ll_now_s();
    ll_gen_init(g, &op);
    ll_run(g);
    for (unsigned i = 0; i < g->nsinks; i++) {
        ll_sink_close(&g->sink[i]);
        bytes += g->sink[i].written;
    }
    dt = ll_now_s() - t0;
    fprintf(stderr,
            "ll-gen-corpus: lines=%llu bytes=%llu error_lines=%llu files=%u "
            "seconds=%.3f lines_per_s=%.0f\n",
            (unsigned long long)g->lines, (unsigned long long)bytes,
            (unsigned long long)g->err_lines, g->nsinks, dt,
            dt > 0 ? (double)g->lines / dt : 0.0);
    free(g->wf);
    free(g);
    return 0;
}
