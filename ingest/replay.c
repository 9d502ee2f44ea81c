/* The replay source: every input file is read and decoded a batch at a time,
 * and a binary heap merges the inputs by event time. Ties go to the input
 * that sorts first, then to file order, so the merged order depends only on
 * the inputs' contents and names.
 *
 * A batch is made in three steps:
 *   1. read: the next lines of one input are taken from its reader (copied
 *      out when other batches of it are alive), under that input's lock, and
 *      the batch takes the input's next sequence number;
 *   2. decode: the lines become events (JSON parse and the stateless rule
 *      steps) on whichever thread took the job; rejects are queued in the
 *      batch;
 *   3. settle: on the merging thread, in sequence order, the batch's
 *      counters and rejects are reported, and what depends on the lines
 *      before it (the service of raw lines, times inferred from the
 *      previous event) is filled in.
 * With one thread the merging thread does all three when it needs a batch;
 * with more, each input has several batch slots that worker threads fill
 * ahead, and the merging thread helps when it would otherwise wait. Steps 1
 * and 3 are sequential per input and step 2 depends on nothing but its
 * lines, so the output is the same for any number of threads. */
#include "logloom/ingest.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_BATCH 1024 /* events decoded ahead per batch */
#define MIN_BATCH 64
#define HEAD_PROBE_LINES 1024
#define MAX_CHUNK ((size_t)256 << 10)
#define MIN_CHUNK ((size_t)16 << 10)
#define READ_BUDGET ((size_t)64 << 20) /* read buffers of all inputs together */
#define MAX_SLOTS 8                    /* batches per input, with worker threads */

struct reject_rec {
    enum ll_reject why;
    struct ll_line line; /* ptr into the batch or the reader, as its lines */
    const char *detail;  /* in the batch's arena */
};

enum slot_state { SLOT_FREE, SLOT_READY };

struct batch {
    /* Step 1. */
    char *bytes; /* the lines' bytes, when copied */
    size_t bytes_cap;
    struct ll_line *lines;
    int64_t *frame_ts; /* per line: the container runtime's time, or LL_TIME_NONE */
    size_t n_lines;
    uint64_t read_bytes; /* bytes the reader took in for this batch */
    uint64_t raw_pos;    /* file position after it */
    int read_rc;         /* LL_OK, or the read error that ends the input */
    uint64_t reader_bytes; /* with read_rc: the bytes read before it */
    char read_err[256];
    bool last; /* the input ends with this batch */
    /* Step 2. */
    char shape[128]; /* of its first JSON line with an id, else its first, or "" */
    bool shape_id;   /* that line had an id */
    struct ll_event *ev;
    size_t n;
    struct reject_rec *rej;
    size_t n_rej, cap_rej; /* rare: grown on demand */
    uint64_t lines_counted, raw_events;
    struct ll_arena arena; /* too-long lines' first bytes, unescaped strings, match
                              bits, reject details */
    /* Under the replay's lock. */
    enum slot_state state;
    uint64_t seq;
};

struct input {
    uint32_t idx; /* in rp->in */
    pthread_mutex_t read_lock;
    ll_reader *rd;     /* under read_lock */
    ll_deframer *df;   /* under read_lock; NULL once the input is known plain */
    uint64_t held_off[2]; /* under read_lock: where each stream's held line began */
    uint64_t read_seq; /* the next batch step 1 makes; under read_lock */
    bool read_done;    /* under read_lock */
    struct ll_str source;  /* the path, owned by the replay */
    struct ll_str service; /* implied by the file name: a view into source */
    struct batch slot[MAX_SLOTS];
    /* The merging thread's. */
    uint64_t use_seq; /* the batch being merged */
    struct batch *b;  /* that batch once settled, or NULL */
    size_t cur;
    size_t rej_next; /* b's rejects before it were handed to on_reject */
    struct reject_rec *carry; /* rejects after the last event of a batch passed: they go
                                 out before the input's next event, or at its end */
    size_t n_carry, cap_carry;
    struct ll_arena carry_arena; /* their lines and details */
    int64_t last_ts;
    int64_t head_ts; /* first usable time near the start, for untimed head lines */
    char last_service[128]; /* of the last JSON line: raw lines are that process's too */
    char shape[128];        /* of its first JSON line with an id, else its first */
    bool shape_id;
    enum ll_frame_format framing; /* under read_lock until the deframer decides */
    size_t last_service_len;
    uint64_t raw_pos;
    bool done;
};

struct ll_replay {
    struct input **in;
    size_t n_in;
    size_t n_slots; /* per input */
    size_t cap;     /* lines per batch */
    uint32_t *heap;
    size_t n_heap;
    ll_decoder **dec; /* one per thread; [0] is the merging thread's */
    ll_decoder *probe; /* dec without the rules: for probe_head_time() */
    struct ll_stats st;
    ll_reject_fn *on_reject;
    void *ctx;
    bool raw_events;
    long popped; /* input whose head event was handed out last, or -1 */
    uint64_t total_size;
    struct ll_source_shape *shapes; /* for the stats, made when asked */

    /* Jobs: an input index per batch slot to fill, first in first out. */
    pthread_mutex_t mu;
    pthread_cond_t work_cv;  /* a job was queued, or stop */
    pthread_cond_t ready_cv; /* a batch is ready */
    uint32_t *jobs;
    size_t jobs_cap, job_head, n_jobs;
    bool stop;
    pthread_t *workers;
    size_t n_workers;
    size_t n_dec;
    size_t n_inflating; /* gzip inputs inflated ahead */
};

/* ------------------------------------------------------------------------ */
/* Step 1: read                                                              */

/* A line whose bytes the batch's arena holds already. */
#define LINE_OWNED (1u << 31)

/* The lines of @p b point into the reader: copy their bytes into the
 * batch (too-long and unframed lines have theirs already). */
static void batch_own_lines(struct batch *b)
{
    size_t need = 0;
    for (size_t i = 0; i < b->n_lines; i++)
        if (!(b->lines[i].flags & (LL_LINE_TOO_LONG | LINE_OWNED)))
            need += b->lines[i].len;
    if (need > b->bytes_cap) {
        b->bytes_cap = need + need / 4;
        ll_free(b->bytes);
        b->bytes = ll_malloc(b->bytes_cap);
    }
    char *p = b->bytes;
    for (size_t i = 0; i < b->n_lines; i++) {
        struct ll_line *l = &b->lines[i];
        if (l->flags & (LL_LINE_TOO_LONG | LINE_OWNED))
            continue;
        if (l->len)
            memcpy(p, l->ptr, l->len);
        l->ptr = p;
        p += l->len;
    }
}

/* Logical line @p fr, which began at @p off, as line @p n of @p b: a view
 * when the deframer handed out the physical line itself, else copied
 * before the deframer reuses its buffer. */
static void add_frame(struct batch *b, size_t n, const struct ll_frame *fr,
                      const struct ll_line *phys, uint64_t off)
{
    struct ll_line *l = &b->lines[n];
    *l = (struct ll_line){fr->line.ptr, fr->line.len, off,
                          phys->flags & LL_LINE_TOO_LONG ? phys->full_len : fr->line.len,
                          phys->flags};
    b->frame_ts[n] = fr->ts_ns;
    if (fr->too_long) { /* its pieces were dropped unread: no size to tell */
        l->flags |= LL_LINE_TOO_LONG;
        l->full_len = 0;
    }
    bool view = fr->line.ptr >= phys->ptr && fr->line.ptr + fr->line.len <= phys->ptr + phys->len;
    if (!view || (l->flags & LL_LINE_TOO_LONG)) {
        l->ptr = ll_arena_dup(&b->arena, fr->line).ptr;
        l->flags |= LINE_OWNED;
    }
}

/* Physical line @p phys through the input's deframer (docker json-file and
 * CRI logs become the lines the application printed, as `run` reads
 * them). @returns whether it completed a logical line, now line @p n. */
static bool frame_line(struct input *in, struct batch *b, size_t n, const struct ll_line *phys)
{
    if (!in->df) {
        b->lines[n] = *phys;
        b->frame_ts[n] = LL_TIME_NONE;
        if (phys->flags & LL_LINE_TOO_LONG) {
            b->lines[n].ptr = ll_arena_dup(&b->arena, (struct ll_str){phys->ptr, phys->len}).ptr;
            b->lines[n].flags |= LINE_OWNED;
        }
        return true;
    }
    struct ll_frame fr;
    int done = ll_deframer_push(in->df, phys->ptr, phys->len, &fr);
    int s = fr.stderr_stream;
    if (!done) {
        if (fr.chunks == 1)
            in->held_off[s] = phys->offset;
        return false;
    }
    add_frame(b, n, &fr, phys, fr.chunks > 1 ? in->held_off[s] : phys->offset);
    in->framing = ll_deframer_format(in->df);
    if (in->framing == LL_FRAME_PLAIN) { /* nothing to unwrap, ever */
        ll_deframer_destroy(in->df);
        in->df = NULL;
    }
    return true;
}

/* The next lines of @p in into @p b: views into the reader (valid until it
 * fills again), copied if other batches of the input may be read meanwhile
 * (@p own); a too-long line's first bytes and unwrapped container lines at
 * once, as the reader and the deframer keep theirs for one line only. At
 * the end of the input, the pieces of a split line whose last piece never
 * came go out as they are. Under in->read_lock. */
static void read_batch(struct input *in, size_t cap, bool own, struct batch *b)
{
    ll_arena_reset(&b->arena);
    size_t n = 0;
    uint64_t before = ll_reader_bytes(in->rd);
    b->read_rc = LL_OK;
    b->last = false;
    while (n < cap) {
        struct ll_line phys;
        int rc = ll_reader_next(in->rd, &phys);
        if (rc == LL_OK) {
            if (frame_line(in, b, n, &phys))
                n++;
            continue;
        }
        if (n > 0)
            break; /* filling would invalidate the lines read */
        rc = ll_reader_fill(in->rd);
        if (rc == LL_EOF) {
            struct ll_frame fr;
            while (n < cap && in->df && ll_deframer_flush(in->df, &fr)) {
                struct ll_line end = {.flags = LL_LINE_NO_NEWLINE};
                add_frame(b, n++, &fr, &end, in->held_off[fr.stderr_stream]);
            }
            b->last = n < cap;
            break;
        }
        if (rc != LL_OK) { /* the reader still gives what it holds, then ends */
            b->read_rc = rc;
            b->reader_bytes = ll_reader_bytes(in->rd);
            snprintf(b->read_err, sizeof b->read_err, "%s", ll_reader_error(in->rd));
        }
    }
    b->n_lines = n;
    if (own)
        batch_own_lines(b);
    b->read_bytes = ll_reader_bytes(in->rd) - before;
    b->raw_pos = ll_reader_raw_pos(in->rd);
    in->read_done = b->last;
}

/* ------------------------------------------------------------------------ */
/* Step 2: decode                                                            */

static void queue_reject(struct batch *b, enum ll_reject why, const struct ll_line *line,
                         const char *detail)
{
    size_t len = strlen(detail);
    char *d = ll_arena_alloc(&b->arena, len + 1);
    memcpy(d, detail, len + 1);
    LL_GROW(b->rej, b->n_rej, b->cap_rej, 8);
    b->rej[b->n_rej++] = (struct reject_rec){why, *line, d};
}

static void decode_line(const struct ll_replay *rp, const struct input *in, ll_decoder *dec,
                        struct batch *b, size_t i)
{
    const struct ll_line *line = &b->lines[i];
    if (line->flags & LL_LINE_TOO_LONG) {
        b->lines_counted++;
        char detail[96] = "joined line exceeds the limit";
        if (line->full_len)
            snprintf(detail, sizeof detail, "line of %llu bytes exceeds the limit",
                     (unsigned long long)line->full_len);
        queue_reject(b, LL_REJECT_TOO_LONG, line, detail);
        return;
    }
    if (ll_line_blank(line->ptr, line->len))
        return;
    b->lines_counted++;
    struct ll_event *ev = &b->ev[b->n];
    ev->pos = (struct ll_pos){in->source, line->offset};
    enum ll_reject why;
    if (ll_decoder_decode(dec, line->ptr, line->len, &b->arena, ev, &why) != LL_OK) {
        queue_reject(b, why, line, ll_decoder_error(dec));
        if (why != LL_REJECT_NOT_JSON || !rp->raw_events)
            return;
        /* Still the text a process printed: rules may know it. */
        ll_decoder_raw_event(dec, line->ptr, line->len, &b->arena, ev);
        ev->pos = (struct ll_pos){in->source, line->offset};
        b->raw_events++;
    } else if (!b->shape_id) {
        ll_decoder_shape(dec, b->shape, sizeof b->shape);
        b->shape_id = ev->corr_id.len > 0;
    }
    if (ev->ts_ns == LL_TIME_NONE)
        ev->ts_ns = b->frame_ts[i]; /* when the runtime wrote it: close enough */
    b->n++;
}

static void decode_batch(const struct ll_replay *rp, const struct input *in, ll_decoder *dec,
                         struct batch *b)
{
    b->n = b->n_rej = 0;
    b->lines_counted = b->raw_events = 0;
    b->shape[0] = '\0';
    b->shape_id = false;
    for (size_t i = 0; i < b->n_lines; i++)
        decode_line(rp, in, dec, b, i);
}

/* Steps 1 and 2 for the next batch of input @p idx, unless it has ended. */
static void run_job(struct ll_replay *rp, uint32_t idx, ll_decoder *dec)
{
    struct input *in = rp->in[idx];
    pthread_mutex_lock(&in->read_lock);
    if (in->read_done) {
        pthread_mutex_unlock(&in->read_lock);
        return;
    }
    uint64_t seq = in->read_seq++;
    struct batch *b = &in->slot[seq % rp->n_slots];
    /* With one slot per input, the next read waits until this batch is
     * done with: its lines can stay in the reader (no second copy of the
     * read buffers, 64 MB at most). */
    read_batch(in, rp->cap, rp->n_slots > 1, b);
    pthread_mutex_unlock(&in->read_lock);
    decode_batch(rp, in, dec, b);
    pthread_mutex_lock(&rp->mu);
    b->seq = seq;
    b->state = SLOT_READY;
    pthread_cond_broadcast(&rp->ready_cv);
    pthread_mutex_unlock(&rp->mu);
}

/* Under rp->mu. */
static void push_job(struct ll_replay *rp, uint32_t idx)
{
    rp->jobs[(rp->job_head + rp->n_jobs++) % rp->jobs_cap] = idx;
    pthread_cond_signal(&rp->work_cv);
}

static uint32_t pop_job(struct ll_replay *rp)
{
    uint32_t idx = rp->jobs[rp->job_head];
    rp->job_head = (rp->job_head + 1) % rp->jobs_cap;
    rp->n_jobs--;
    return idx;
}

struct worker_arg {
    struct ll_replay *rp;
    size_t id;
};

static void *worker_main(void *arg)
{
    struct ll_replay *rp = ((struct worker_arg *)arg)->rp;
    ll_decoder *dec = rp->dec[((struct worker_arg *)arg)->id];
    ll_free(arg);
    pthread_mutex_lock(&rp->mu);
    while (!rp->stop) {
        if (!rp->n_jobs) {
            pthread_cond_wait(&rp->work_cv, &rp->mu);
            continue;
        }
        uint32_t idx = pop_job(rp);
        pthread_mutex_unlock(&rp->mu);
        run_job(rp, idx, dec);
        pthread_mutex_lock(&rp->mu);
    }
    pthread_mutex_unlock(&rp->mu);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Step 3: settle                                                            */

static void report_reject(struct ll_replay *rp, const struct input *in,
                          const struct reject_rec *r)
{
    if (rp->on_reject) {
        struct ll_pos pos = {in->source, r->line.offset};
        rp->on_reject(rp->ctx, r->why, &pos, &r->line, r->detail);
    }
}

/* Rejected lines go to on_reject in merge order, as if they were events:
 * those of @p in before offset @p upto, just before its event there is
 * handed out (so the order depends on neither batch sizes nor threads). */
static void report_upto(struct ll_replay *rp, struct input *in, uint64_t upto)
{
    for (size_t i = 0; i < in->n_carry; i++)
        report_reject(rp, in, &in->carry[i]);
    if (in->n_carry) {
        in->n_carry = 0;
        ll_arena_reset(&in->carry_arena);
    }
    const struct batch *b = in->b;
    while (b && in->rej_next < b->n_rej && b->rej[in->rej_next].line.offset <= upto)
        report_reject(rp, in, &b->rej[in->rej_next++]);
}

/* The rejects of in->b after its last event, copied: the batch goes back
 * to be filled again. */
static void carry_rejects(struct input *in)
{
    const struct batch *b = in->b;
    for (; in->rej_next < b->n_rej; in->rej_next++) {
        LL_GROW(in->carry, in->n_carry, in->cap_carry, 16);
        struct reject_rec r = b->rej[in->rej_next];
        r.line.ptr = ll_arena_dup(&in->carry_arena, (struct ll_str){r.line.ptr, r.line.len}).ptr;
        size_t dl = strlen(r.detail) + 1;
        r.detail = memcpy(ll_arena_alloc(&in->carry_arena, dl), r.detail, dl);
        in->carry[in->n_carry++] = r;
    }
}

/* Raw lines are the service of the JSON line before them; lines without a
 * service are the file name's. Lines without a usable time take the
 * previous event's time; at the head of an input, where there is none, the
 * first usable time near its start. */
static void settle_events(struct ll_replay *rp, struct input *in, struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct ll_event *ev = &b->ev[i];
        if (ev->flags & LL_EV_RAW) {
            ev->service = ll_arena_dup(&b->arena,
                                       (struct ll_str){in->last_service, in->last_service_len});
        } else if (ev->service.len && ev->service.len <= sizeof in->last_service) {
            memcpy(in->last_service, ev->service.ptr, ev->service.len);
            in->last_service_len = ev->service.len;
        }
        if (!ev->service.len) {
            ev->service = in->service;
            ev->flags |= LL_EV_SERVICE_FROM_NAME;
        }
        if (ev->ts_ns != LL_TIME_NONE) {
            in->last_ts = ev->ts_ns;
            continue;
        }
        ev->flags |= LL_EV_TIME_INFERRED;
        rp->st.time_inferred++;
        ev->ts_ns = in->last_ts != LL_TIME_NONE ? in->last_ts : in->head_ts;
    }
}

static void settle(struct ll_replay *rp, struct input *in, struct batch *b)
{
    rp->st.bytes += b->read_bytes;
    in->raw_pos = b->raw_pos;
    /* The lines of a batch that met a read error come after it. */
    if (b->read_rc != LL_OK) {
        rp->st.input_errors++;
        ll_log(LL_LEVEL_ERROR, "replay",
               "%.*s: %s after %llu bytes (%s); the lines before are kept",
               (int)in->source.len, in->source.ptr, b->read_err,
               (unsigned long long)b->reader_bytes, ll_err_str(b->read_rc));
    }
    for (size_t i = 0; i < b->n_rej; i++)
        rp->st.rejected[b->rej[i].why]++;
    in->rej_next = 0;
    if (!in->shape_id && b->shape[0] && (b->shape_id || !in->shape[0])) {
        memcpy(in->shape, b->shape, sizeof in->shape);
        in->shape_id = b->shape_id;
    }
    rp->st.lines += b->lines_counted;
    rp->st.raw_events += b->raw_events;
    settle_events(rp, in, b);
    rp->st.events += b->n;
}

/* The batch after the current one of @p in, settled; helps with the queued
 * jobs rather than wait for it. */
static struct batch *next_batch(struct ll_replay *rp, struct input *in)
{
    struct batch *b = &in->slot[in->use_seq % rp->n_slots];
    pthread_mutex_lock(&rp->mu);
    while (b->state != SLOT_READY || b->seq != in->use_seq) {
        if (!rp->n_jobs) {
            pthread_cond_wait(&rp->ready_cv, &rp->mu);
            continue;
        }
        uint32_t idx = pop_job(rp);
        pthread_mutex_unlock(&rp->mu);
        run_job(rp, idx, rp->dec[0]);
        pthread_mutex_lock(&rp->mu);
    }
    pthread_mutex_unlock(&rp->mu);
    settle(rp, in, b);
    return b;
}

/* Done with in->b: its slot goes back to be filled again. Moves to the next
 * batch with events, or marks the input done. */
static void advance(struct ll_replay *rp, struct input *in)
{
    for (;;) {
        bool last = in->b->last;
        carry_rejects(in);
        pthread_mutex_lock(&rp->mu);
        in->b->state = SLOT_FREE;
        if (!last)
            push_job(rp, in->idx);
        pthread_mutex_unlock(&rp->mu);
        in->b = NULL;
        if (last) {
            in->done = true;
            report_upto(rp, in, UINT64_MAX); /* the lines after its last event */
            return;
        }
        in->use_seq++;
        in->b = next_batch(rp, in);
        in->cur = 0;
        if (in->b->n)
            return;
    }
}

/* ------------------------------------------------------------------------ */
/* Heap                                                                      */

/* The input whose next event is the earliest (ties to the first). */
static bool heap_less(const struct ll_replay *rp, uint32_t a, uint32_t b)
{
    const struct input *ia = rp->in[a], *ib = rp->in[b];
    int64_t ta = ia->b->ev[ia->cur].ts_ns, tb = ib->b->ev[ib->cur].ts_ns;
    return ta != tb ? ta < tb : a < b;
}

LL_HEAP(inputs, uint32_t, const struct ll_replay *, heap_less, LL_HEAP_UNPLACED)

/* ------------------------------------------------------------------------ */
/* API                                                                       */

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
    ll_deframer *df = ll_deframer_new(LL_FRAME_AUTO, max_line);
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
        struct ll_frame fr;
        if ((line.flags & LL_LINE_TOO_LONG) || ll_line_blank(line.ptr, line.len) ||
            !ll_deframer_push(df, line.ptr, line.len, &fr))
            continue;
        lines++;
        struct ll_event ev = {0};
        enum ll_reject why;
        if (ll_decoder_decode(rp->probe, fr.line.ptr, fr.line.len, &arena, &ev, &why) != LL_OK ||
            ev.ts_ns == LL_TIME_NONE)
            ev.ts_ns = fr.ts_ns;
        if (ev.ts_ns != LL_TIME_NONE) {
            ts = ev.ts_ns;
            found = true;
        }
        ll_arena_reset(&arena);
    }
    ll_deframer_destroy(df);
    ll_arena_free(&arena);
    ll_reader_close(r);
    return ts;
}

static int input_open(struct ll_replay *rp, const struct ll_replay_conf *conf, size_t i,
                      size_t chunk, char *errstr, size_t errstr_size)
{
    const char *path = conf->files[i];
    struct input *in = rp->in[i] = ll_calloc(1, sizeof *in);
    in->idx = (uint32_t)i;
    pthread_mutex_init(&in->read_lock, NULL);
    char *copy = ll_strdup(path);
    in->source = ll_str_c(copy);
    in->service = ll_service_from_path(copy);
    in->last_ts = LL_TIME_NONE;
    ll_arena_init(&in->carry_arena, 4096);
    for (size_t s = 0; s < rp->n_slots; s++) {
        struct batch *b = &in->slot[s];
        b->lines = ll_calloc(rp->cap, sizeof *b->lines);
        b->frame_ts = ll_calloc(rp->cap, sizeof *b->frame_ts);
        b->ev = ll_calloc(rp->cap, sizeof *b->ev);
        ll_arena_init(&b->arena, 16 << 10);
    }
    struct stat st;
    if (stat(path, &st) == 0)
        rp->total_size += (uint64_t)st.st_size;
    int rc = ll_reader_open(path, conf->max_line, chunk, &in->rd, errstr, errstr_size);
    if (rc == LL_OK) {
        in->df = ll_deframer_new(LL_FRAME_AUTO, conf->max_line);
        in->head_ts = probe_head_time(rp, path, conf->max_line);
        /* With threads to decode, gzip inputs inflate ahead on threads of
         * their own: at most one per decoding thread. */
        if (rp->n_dec > 1 && rp->n_inflating < rp->n_dec && ll_reader_prefetch(in->rd))
            rp->n_inflating++;
    }
    return rc;
}

static bool start_workers(struct ll_replay *rp)
{
    rp->workers = ll_calloc(rp->n_dec, sizeof *rp->workers);
    for (size_t w = 1; w < rp->n_dec; w++) {
        struct worker_arg *a = ll_malloc(sizeof *a);
        *a = (struct worker_arg){rp, w};
        if (pthread_create(&rp->workers[rp->n_workers], NULL, worker_main, a) != 0) {
            ll_free(a);
            return false;
        }
        rp->n_workers++;
    }
    return true;
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
    pthread_mutex_init(&rp->mu, NULL);
    pthread_cond_init(&rp->work_cv, NULL);
    pthread_cond_init(&rp->ready_cv, NULL);
    size_t threads = conf->threads ? conf->threads : 1;
    rp->n_slots = threads == 1 ? 1 : 2 * threads > MAX_SLOTS ? MAX_SLOTS : 2 * threads;
    rp->dec = ll_calloc(threads, sizeof *rp->dec);
    struct ll_decode_conf dconf = conf->decode ? *conf->decode : (struct ll_decode_conf){0};
    for (size_t t = 0; t < threads; t++) {
        if (conf->match_ctx)
            dconf.match_ctx = conf->match_ctx[t];
        if (!(rp->dec[t] = ll_decoder_new(&dconf, errstr, errstr_size)))
            break;
        rp->n_dec++;
    }
    /* The head probe only wants times: without the rules' hook, no rule
     * runs twice on a line (or counts its regex limits twice). */
    dconf.match = NULL;
    rp->probe = rp->n_dec == threads ? ll_decoder_new(&dconf, errstr, errstr_size) : NULL;
    if (!rp->probe) {
        ll_replay_close(rp);
        return LL_EINVAL;
    }
    size_t slots = (conf->n_files ? conf->n_files : 1) * rp->n_slots;
    size_t chunk = READ_BUDGET / slots;
    chunk = chunk > MAX_CHUNK ? MAX_CHUNK : chunk < MIN_CHUNK ? MIN_CHUNK : chunk;
    rp->cap = chunk / 256; /* about the lines one read brings */
    rp->cap = rp->cap > MAX_BATCH ? MAX_BATCH : rp->cap < MIN_BATCH ? MIN_BATCH : rp->cap;
    if (conf->batch_events)
        rp->cap = conf->batch_events;
    rp->in = ll_calloc(conf->n_files, sizeof *rp->in);
    rp->heap = ll_calloc(conf->n_files, sizeof *rp->heap);
    rp->jobs_cap = slots;
    rp->jobs = ll_calloc(slots, sizeof *rp->jobs);
    for (size_t i = 0; i < conf->n_files; i++) {
        rp->n_in++;
        int rc = input_open(rp, conf, i, chunk, errstr, errstr_size);
        if (rc != LL_OK) {
            ll_replay_close(rp);
            return rc;
        }
    }
    rp->st.inputs = rp->n_in;
    for (size_t i = 0; i < rp->n_in; i++)
        for (size_t s = 0; s < rp->n_slots; s++)
            push_job(rp, (uint32_t)i);
    if (!start_workers(rp)) {
        snprintf(errstr, errstr_size, "cannot start a decoding thread");
        ll_replay_close(rp);
        return LL_EIO;
    }
    for (size_t i = 0; i < rp->n_in; i++) {
        struct input *in = rp->in[i];
        in->b = next_batch(rp, in);
        in->cur = 0;
        if (!in->b->n)
            advance(rp, in);
        if (!in->done)
            rp->heap[rp->n_heap++] = (uint32_t)i;
    }
    inputs_heapify(rp, rp->heap, rp->n_heap);
    *out = rp;
    return LL_OK;
}

int ll_replay_next(ll_replay *rp, const struct ll_event **ev)
{
    if (rp->popped >= 0) {
        struct input *in = rp->in[rp->popped];
        if (++in->cur == in->b->n)
            advance(rp, in);
        if (in->done)
            inputs_pop(rp, rp->heap, &rp->n_heap);
        else
            inputs_down(rp, rp->heap, rp->n_heap, 0);
        rp->popped = -1;
    }
    if (rp->n_heap == 0)
        return LL_EOF;
    uint32_t top = rp->heap[0];
    struct input *in = rp->in[top];
    *ev = &in->b->ev[in->cur];
    report_upto(rp, in, (*ev)->pos.offset);
    rp->popped = (long)top;
    return LL_OK;
}

void ll_replay_progress(const ll_replay *rp, uint64_t *done, uint64_t *total)
{
    uint64_t d = 0;
    for (size_t i = 0; i < rp->n_in; i++)
        d += rp->in[i]->raw_pos;
    *done = d;
    *total = rp->total_size;
}

const struct ll_stats *ll_replay_stats(ll_replay *rp)
{
    if (!rp->shapes && rp->n_in) {
        rp->shapes = ll_calloc(rp->n_in, sizeof *rp->shapes);
        for (size_t i = 0; i < rp->n_in; i++) {
            const struct input *in = rp->in[i];
            enum ll_frame_format f = in->framing == LL_FRAME_AUTO ? LL_FRAME_PLAIN : in->framing;
            rp->shapes[i] = (struct ll_source_shape){in->source, ll_frame_format_name(f),
                                                     in->shape};
        }
        rp->st.shapes = rp->shapes;
        rp->st.n_shapes = rp->n_in;
    }
    return &rp->st;
}

void ll_replay_close(ll_replay *rp)
{
    if (!rp)
        return;
    pthread_mutex_lock(&rp->mu);
    rp->stop = true;
    pthread_cond_broadcast(&rp->work_cv);
    pthread_mutex_unlock(&rp->mu);
    for (size_t w = 0; w < rp->n_workers; w++)
        pthread_join(rp->workers[w], NULL);
    for (size_t i = 0; i < rp->n_in; i++) {
        struct input *in = rp->in[i];
        ll_reader_close(in->rd);
        ll_deframer_destroy(in->df);
        ll_free(in->carry);
        ll_arena_free(&in->carry_arena);
        for (size_t s = 0; s < rp->n_slots; s++) {
            struct batch *b = &in->slot[s];
            ll_free(b->bytes);
            ll_free(b->lines);
            ll_free(b->frame_ts);
            ll_free(b->ev);
            ll_free(b->rej);
            ll_arena_free(&b->arena);
        }
        pthread_mutex_destroy(&in->read_lock);
        ll_free((char *)in->source.ptr);
        ll_free(in);
    }
    for (size_t t = 0; t < rp->n_dec; t++)
        ll_decoder_destroy(rp->dec[t]);
    ll_free(rp->dec);
    ll_decoder_destroy(rp->probe);
    ll_free(rp->workers);
    ll_free(rp->jobs);
    ll_free(rp->in);
    ll_free(rp->shapes);
    ll_free(rp->heap);
    pthread_mutex_destroy(&rp->mu);
    pthread_cond_destroy(&rp->work_cv);
    pthread_cond_destroy(&rp->ready_cv);
    ll_free(rp);
}
