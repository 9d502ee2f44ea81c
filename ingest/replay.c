/* The replay source: every input file is read and decoded a batch at a time,
 * and a binary heap merges the inputs by event time. Ties go to the input
 * that sorts first, then to file order, so the merged order depends only on
 * the inputs' contents and names. */
#include "logloom/ingest.h"

#include <string.h>
#include <sys/stat.h>

#define MAX_BATCH 1024 /* events decoded ahead per input */
#define MIN_BATCH 64
#define HEAD_PROBE_LINES 1024
#define MAX_CHUNK ((size_t)256 << 10)
#define MIN_CHUNK ((size_t)16 << 10)
#define READ_BUDGET ((size_t)64 << 20) /* read buffers of all inputs together */

struct input {
    ll_reader *rd;
    struct ll_str source;  /* the path, owned by the replay */
    struct ll_str service; /* implied by the file name: a view into source */
    struct ll_arena arena; /* unescaped strings of the current batch */
    struct ll_event *ev;
    size_t n, cur, cap;
    int64_t last_ts;
    int64_t head_ts; /* first usable time near the start, for untimed head lines */
    char last_service[128]; /* of the last JSON line: raw lines are that process's too */
    size_t last_service_len;
    bool done;
};

struct ll_replay {
    struct input **in;
    size_t n_in;
    uint32_t *heap;
    size_t n_heap;
    ll_decoder *dec;
    ll_decoder *probe; /* dec without the rules: for probe_head_time() */
    struct ll_stats st;
    ll_reject_fn *on_reject;
    void *ctx;
    bool raw_events;
    long popped; /* input whose head event was handed out last, or -1 */
    uint64_t total_size;
};

/* ------------------------------------------------------------------------ */
/* Batches                                                                   */

static bool is_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

static void report_reject(struct ll_replay *rp, struct input *in, enum ll_reject why,
                          const struct ll_line *line, const char *detail)
{
    rp->st.rejected[why]++;
    if (rp->on_reject) {
        struct ll_pos pos = {in->source, line->offset};
        rp->on_reject(rp->ctx, why, &pos, line, detail);
    }
}

static void decode_line(struct ll_replay *rp, struct input *in, const struct ll_line *line)
{
    if (line->flags & LL_LINE_TOO_LONG) {
        rp->st.lines++;
        char detail[96];
        snprintf(detail, sizeof detail, "line of %llu bytes exceeds the limit",
                 (unsigned long long)line->full_len);
        report_reject(rp, in, LL_REJECT_TOO_LONG, line, detail);
        return;
    }
    if (is_blank(line->ptr, line->len))
        return;
    rp->st.lines++;
    struct ll_event *ev = &in->ev[in->n];
    ev->pos = (struct ll_pos){in->source, line->offset};
    enum ll_reject why;
    if (ll_decoder_decode(rp->dec, line->ptr, line->len, &in->arena, ev, &why) != LL_OK) {
        report_reject(rp, in, why, line, ll_decoder_error(rp->dec));
        if (why != LL_REJECT_NOT_JSON || !rp->raw_events)
            return;
        /* Still the text a process printed: rules may know it. */
        ll_decoder_raw_event(rp->dec, line->ptr, line->len, &in->arena, ev);
        ev->pos = (struct ll_pos){in->source, line->offset};
        ev->service = (struct ll_str){in->last_service, in->last_service_len};
        rp->st.raw_events++;
    } else if (ev->service.len && ev->service.len <= sizeof in->last_service) {
        memcpy(in->last_service, ev->service.ptr, ev->service.len);
        in->last_service_len = ev->service.len;
    }
    if (!ev->service.len) {
        ev->service = in->service;
        ev->flags |= LL_EV_SERVICE_FROM_NAME;
    }
    in->n++;
}

/* Lines without a usable time take the previous event's time; at the head of
 * an input, where there is none, the first usable time near its start. */
static void infer_times(struct ll_replay *rp, struct input *in)
{
    for (size_t i = 0; i < in->n; i++) {
        struct ll_event *ev = &in->ev[i];
        if (ev->ts_ns != LL_TIME_NONE) {
            in->last_ts = ev->ts_ns;
            continue;
        }
        ev->flags |= LL_EV_TIME_INFERRED;
        rp->st.time_inferred++;
        ev->ts_ns = in->last_ts != LL_TIME_NONE ? in->last_ts : in->head_ts;
    }
}

/* The first usable time among the first HEAD_PROBE_LINES lines of @p path,
 * or 0. Read separately so the answer does not depend on batch sizes. */
static int64_t probe_head_time(struct ll_replay *rp, const char *path, size_t max_line)
{
    ll_reader *r;
    char err[256];
    int64_t ts = 0;
    if (ll_reader_open(path, max_line, 0, &r, err, sizeof err) != LL_OK)
        return 0;
    struct ll_arena arena;
    ll_arena_init(&arena, 4096);
    size_t lines = 0;
    bool found = false;
    while (!found && lines < HEAD_PROBE_LINES) {
        struct ll_line line;
        int rc = ll_reader_next(r, &line);
        if (rc == LL_EAGAIN) {
            if (ll_reader_fill(r) != LL_OK)
                break;
            continue;
        }
        if ((line.flags & LL_LINE_TOO_LONG) || is_blank(line.ptr, line.len))
            continue;
        lines++;
        struct ll_event ev = {0};
        enum ll_reject why;
        if (ll_decoder_decode(rp->probe, line.ptr, line.len, &arena, &ev, &why) == LL_OK &&
            ev.ts_ns != LL_TIME_NONE) {
            ts = ev.ts_ns;
            found = true;
        }
        ll_arena_reset(&arena);
    }
    ll_arena_free(&arena);
    ll_reader_close(r);
    return ts;
}

static void input_fail(struct ll_replay *rp, struct input *in, int rc)
{
    rp->st.input_errors++;
    ll_log(LL_LEVEL_ERROR, "replay", "%.*s: %s after %llu bytes (%s); the lines before are kept",
           (int)in->source.len, in->source.ptr, ll_reader_error(in->rd),
           (unsigned long long)ll_reader_bytes(in->rd), ll_err_str(rc));
}

/* Decode the next batch of @p in. Sets in->done when the input is exhausted. */
static void fill_batch(struct ll_replay *rp, struct input *in)
{
    ll_arena_reset(&in->arena);
    in->n = in->cur = 0;
    while (in->n < in->cap && !in->done) {
        struct ll_line line;
        int rc = ll_reader_next(in->rd, &line);
        if (rc == LL_OK) {
            decode_line(rp, in, &line);
            continue;
        }
        if (in->n > 0)
            break; /* filling would invalidate the lines of this batch */
        uint64_t before = ll_reader_bytes(in->rd);
        rc = ll_reader_fill(in->rd);
        rp->st.bytes += ll_reader_bytes(in->rd) - before;
        if (rc == LL_EOF)
            in->done = true;
        else if (rc != LL_OK)
            input_fail(rp, in, rc);
    }
    infer_times(rp, in);
    rp->st.events += in->n;
}

/* ------------------------------------------------------------------------ */
/* Heap                                                                      */

static bool heap_less(const struct ll_replay *rp, uint32_t a, uint32_t b)
{
    const struct input *ia = rp->in[a], *ib = rp->in[b];
    int64_t ta = ia->ev[ia->cur].ts_ns, tb = ib->ev[ib->cur].ts_ns;
    return ta != tb ? ta < tb : a < b;
}

static void sift_down(struct ll_replay *rp, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < rp->n_heap && heap_less(rp, rp->heap[l], rp->heap[m]))
            m = l;
        if (r < rp->n_heap && heap_less(rp, rp->heap[r], rp->heap[m]))
            m = r;
        if (m == i)
            return;
        uint32_t t = rp->heap[i];
        rp->heap[i] = rp->heap[m];
        rp->heap[m] = t;
        i = m;
    }
}

/* ------------------------------------------------------------------------ */
/* API                                                                       */

static int input_open(struct ll_replay *rp, const struct ll_replay_conf *conf, size_t i,
                      size_t chunk, char *errstr, size_t errstr_size)
{
    const char *path = conf->files[i];
    struct input *in = rp->in[i] = ll_calloc(1, sizeof *in);
    char *copy = ll_strdup(path);
    in->source = ll_str_c(copy);
    in->service = ll_service_from_path(copy);
    in->last_ts = LL_TIME_NONE;
    in->cap = chunk / 256; /* about the lines one read brings */
    in->cap = in->cap > MAX_BATCH ? MAX_BATCH : in->cap < MIN_BATCH ? MIN_BATCH : in->cap;
    if (conf->batch_events)
        in->cap = conf->batch_events;
    in->ev = ll_calloc(in->cap, sizeof *in->ev);
    ll_arena_init(&in->arena, 16 << 10);
    struct stat st;
    if (stat(path, &st) == 0)
        rp->total_size += (uint64_t)st.st_size;
    int rc = ll_reader_open(path, conf->max_line, chunk, &in->rd, errstr, errstr_size);
    if (rc == LL_OK)
        in->head_ts = probe_head_time(rp, path, conf->max_line);
    return rc;
}

int ll_replay_open(const struct ll_replay_conf *conf, ll_replay **out, char *errstr,
                   size_t errstr_size)
{
    *out = NULL;
    struct ll_replay *rp = ll_calloc(1, sizeof *rp);
    rp->on_reject = conf->on_reject;
    rp->ctx = conf->ctx;
    rp->raw_events = conf->raw_events;
    rp->popped = -1;
    rp->dec = ll_decoder_new(conf->decode, errstr, errstr_size);
    /* The head probe only wants times: without the rules' hook, no rule
     * runs twice on a line (or counts its regex limits twice). */
    struct ll_decode_conf probe = conf->decode ? *conf->decode : (struct ll_decode_conf){0};
    probe.match = NULL;
    rp->probe = rp->dec ? ll_decoder_new(&probe, errstr, errstr_size) : NULL;
    if (!rp->probe) {
        ll_replay_close(rp);
        return LL_EINVAL;
    }
    size_t chunk = conf->n_files ? READ_BUDGET / conf->n_files : MAX_CHUNK;
    chunk = chunk > MAX_CHUNK ? MAX_CHUNK : chunk < MIN_CHUNK ? MIN_CHUNK : chunk;
    rp->in = ll_calloc(conf->n_files, sizeof *rp->in);
    rp->heap = ll_calloc(conf->n_files, sizeof *rp->heap);
    for (size_t i = 0; i < conf->n_files; i++) {
        rp->n_in++;
        int rc = input_open(rp, conf, i, chunk, errstr, errstr_size);
        if (rc != LL_OK) {
            ll_replay_close(rp);
            return rc;
        }
    }
    rp->st.inputs = rp->n_in;
    for (size_t i = 0; i < rp->n_in; i++) {
        fill_batch(rp, rp->in[i]);
        if (rp->in[i]->n)
            rp->heap[rp->n_heap++] = (uint32_t)i;
    }
    for (size_t i = rp->n_heap / 2; i-- > 0;)
        sift_down(rp, i);
    *out = rp;
    return LL_OK;
}

int ll_replay_next(ll_replay *rp, const struct ll_event **ev)
{
    if (rp->popped >= 0) {
        struct input *in = rp->in[rp->popped];
        if (++in->cur == in->n)
            fill_batch(rp, in);
        if (in->n == 0)
            rp->heap[0] = rp->heap[--rp->n_heap];
        sift_down(rp, 0);
        rp->popped = -1;
    }
    if (rp->n_heap == 0)
        return LL_EOF;
    uint32_t top = rp->heap[0];
    *ev = &rp->in[top]->ev[rp->in[top]->cur];
    rp->popped = (long)top;
    return LL_OK;
}

void ll_replay_progress(const ll_replay *rp, uint64_t *done, uint64_t *total)
{
    uint64_t d = 0;
    for (size_t i = 0; i < rp->n_in; i++)
        d += ll_reader_raw_pos(rp->in[i]->rd);
    *done = d;
    *total = rp->total_size;
}

const struct ll_stats *ll_replay_stats(const ll_replay *rp)
{
    return &rp->st;
}

void ll_replay_close(ll_replay *rp)
{
    if (!rp)
        return;
    for (size_t i = 0; i < rp->n_in; i++) {
        struct input *in = rp->in[i];
        ll_reader_close(in->rd);
        ll_arena_free(&in->arena);
        ll_free(in->ev);
        ll_free((char *)in->source.ptr);
        ll_free(in);
    }
    ll_free(rp->in);
    ll_free(rp->heap);
    ll_decoder_destroy(rp->dec);
    ll_decoder_destroy(rp->probe);
    ll_free(rp);
}
