/*
 * ll-decode-only: the parse ceiling for logloom.
 *
 * Reads a JSONL file with read(2), splits lines with memchr and runs
 * yajl's callback parser over each line, extracting (as pointer+length
 * views, copied only when yajl hands out its unescape buffer) the fields
 * logloom needs. No correlation, no output per line, no allocation per
 * line: whatever logloom does on top of this is its own cost.
 *
 * With --scan, each line goes first to logloom's line scanner
 * (ingest/json_scan.h), which makes the same callbacks, and to yajl only
 * when the scanner leaves it: the ceiling of logloom's own decoder.
 *
 * Usage: ll-decode-only [--scan] [--no-validate-utf8] [-v] [--dump] FILE
 * Prints: lines=N bad=M bytes=B checksum=X
 * --dump also writes the resolved fields of every good line, tab
 * separated, to stderr (for checking the extraction, not for timing).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "../ingest/json_scan.h"

#define LL_READ_BUF (4u << 20) /* initial read buffer; grows for huge lines */
#define LL_MAX_DEPTH 32        /* deeper containers are parsed, not tracked */
#define LL_FNV_PRIME 0x100000001b3ull
#define LL_FNV_BASIS 0xcbf29ce484222325ull
#define LL_KEY_IS(k, n, lit) \
    ((n) == sizeof(lit) - 1 && memcmp((k), (lit), sizeof(lit) - 1) == 0)

typedef struct {
    const char *p;
    size_t n;
} ll_sv;

/* Fields extracted per line, as the raw key they came from. */
enum ll_field {
    LL_F_TIME,
    LL_F_TIMESTAMP,
    LL_F_LEVEL,
    LL_F_MSG,
    LL_F_MESSAGE,
    LL_F_SERVICE,
    LL_F_NAME,
    LL_F_PID,
    LL_F_HOSTNAME,
    LL_F_CORRELATION_ID,
    LL_F_REQUEST_ID,
    LL_F_X_REQUEST_ID,
    LL_F_ERR_CODE,
    LL_F_ERR_MESSAGE,
    LL_F_ERR_SYSCALL,
    LL_F_COUNT,
    LL_F_NONE = LL_F_COUNT
};

/* Where in the document a container sits. */
enum ll_ctx {
    LL_C_SKIP,   /* not interesting (arrays, unknown objects) */
    LL_C_ROOT,   /* the top-level object */
    LL_C_REQ,    /* root.req */
    LL_C_HEADERS, /* root.req.headers */
    LL_C_ERR     /* root.err */
};

typedef struct {
    uint8_t ctx;   /* enum ll_ctx of the container at this depth */
    uint8_t field; /* enum ll_field the pending value goes to */
    uint8_t sub;   /* enum ll_ctx for a container value under the key */
} ll_frame;

typedef struct {
    /* current line */
    const char *line;
    size_t len;
    /* copies of unescaped strings; sized to the read buffer, so the
     * unescaped strings of one line always fit */
    char *arena;
    size_t arena_cap;
    size_t arena_used;
    /* key-path tracking */
    unsigned depth;
    unsigned top_values;
    int top_not_object;
    ll_frame stack[LL_MAX_DEPTH + 1];
    /* extracted fields; valid where the bit in `seen` is set */
    uint32_t seen;
    ll_sv f[LL_F_COUNT];
} ll_state;

typedef struct {
    uint64_t lines;
    uint64_t bad;
    uint64_t bytes;
    uint64_t checksum;
    uint64_t with_corr;
    uint64_t with_err;
    uint64_t copies;
    int dump;
} ll_totals;

static void ll_die(const char *what)
{
    fprintf(stderr, "ll-decode-only: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ------------------------------------------------------------------ */
/* Key classification                                                  */

static void ll_key_root(ll_frame *fr, const char *k, size_t n)
{
    switch (n) {
    case 3:
        if (memcmp(k, "msg", 3) == 0)
            fr->field = LL_F_MSG;
        else if (memcmp(k, "pid", 3) == 0)
            fr->field = LL_F_PID;
        else if (memcmp(k, "req", 3) == 0)
            fr->sub = LL_C_REQ;
        else if (memcmp(k, "err", 3) == 0)
            fr->sub = LL_C_ERR;
        break;
    case 4:
        if (memcmp(k, "time", 4) == 0)
            fr->field = LL_F_TIME;
        else if (memcmp(k, "name", 4) == 0)
            fr->field = LL_F_NAME;
        break;
    case 5:
        if (memcmp(k, "level", 5) == 0)
            fr->field = LL_F_LEVEL;
        break;
    case 7:
        if (memcmp(k, "message", 7) == 0)
            fr->field = LL_F_MESSAGE;
        else if (memcmp(k, "service", 7) == 0)
            fr->field = LL_F_SERVICE;
        break;
    case 8:
        if (memcmp(k, "hostname", 8) == 0)
            fr->field = LL_F_HOSTNAME;
        break;
    case 9:
        if (memcmp(k, "timestamp", 9) == 0)
            fr->field = LL_F_TIMESTAMP;
        else if (memcmp(k, "requestId", 9) == 0)
            fr->field = LL_F_REQUEST_ID;
        break;
    case 13:
        if (memcmp(k, "correlationId", 13) == 0)
            fr->field = LL_F_CORRELATION_ID;
        break;
    default:
        break;
    }
}

static void ll_key_err(ll_frame *fr, const char *k, size_t n)
{
    if (LL_KEY_IS(k, n, "code"))
        fr->field = LL_F_ERR_CODE;
    else if (LL_KEY_IS(k, n, "message"))
        fr->field = LL_F_ERR_MESSAGE;
    else if (LL_KEY_IS(k, n, "syscall"))
        fr->field = LL_F_ERR_SYSCALL;
}

static ll_frame *ll_top(ll_state *st)
{
    return st->depth <= LL_MAX_DEPTH ? &st->stack[st->depth] : NULL;
}

/* ------------------------------------------------------------------ */
/* yajl callbacks                                                      */

static int ll_on_key(void *ctx, const unsigned char *key, size_t n)
{
    ll_frame *fr = ll_top(ctx);
    const char *k = (const char *)key;
    if (fr == NULL)
        return 1;
    fr->field = LL_F_NONE;
    fr->sub = LL_C_SKIP;
    switch (fr->ctx) {
    case LL_C_ROOT:
        ll_key_root(fr, k, n);
        break;
    case LL_C_REQ:
        if (LL_KEY_IS(k, n, "headers"))
            fr->sub = LL_C_HEADERS;
        break;
    case LL_C_HEADERS:
        if (LL_KEY_IS(k, n, "x-request-id"))
            fr->field = LL_F_X_REQUEST_ID;
        break;
    case LL_C_ERR:
        ll_key_err(fr, k, n);
        break;
    default:
        break;
    }
    return 1;
}

static void ll_push(ll_state *st, enum ll_ctx c)
{
    st->depth++;
    if (st->depth <= LL_MAX_DEPTH)
        st->stack[st->depth] =
            (ll_frame){.ctx = (uint8_t)c, .field = LL_F_NONE, .sub = LL_C_SKIP};
}

static int ll_on_start_map(void *ctx)
{
    ll_state *st = ctx;
    ll_frame *fr = ll_top(st);
    enum ll_ctx c = LL_C_SKIP;
    if (st->depth == 0) {
        st->top_values++;
        c = LL_C_ROOT;
    } else if (fr != NULL) {
        c = (enum ll_ctx)fr->sub;
        fr->field = LL_F_NONE;
        fr->sub = LL_C_SKIP;
    }
    ll_push(st, c);
    return 1;
}

static int ll_on_start_array(void *ctx)
{
    ll_state *st = ctx;
    ll_frame *fr = ll_top(st);
    if (st->depth == 0) {
        st->top_values++;
        st->top_not_object = 1;
    } else if (fr != NULL) {
        fr->field = LL_F_NONE;
        fr->sub = LL_C_SKIP;
    }
    ll_push(st, LL_C_SKIP);
    return 1;
}

static int ll_on_end(void *ctx)
{
    ll_state *st = ctx;
    st->depth--;
    return 1;
}

/* Stores a scalar for the pending field; copies it when yajl handed us
 * its own (unescape or lexer) buffer instead of a view into the line. */
static void ll_scalar(ll_state *st, const char *p, size_t n)
{
    ll_frame *fr = ll_top(st);
    unsigned f;
    if (st->depth == 0) {
        st->top_values++;
        st->top_not_object = 1;
        return;
    }
    if (fr == NULL || fr->field == LL_F_NONE)
        return;
    f = fr->field;
    fr->field = LL_F_NONE;
    if (p < st->line || p + n > st->line + st->len) {
        if (n > st->arena_cap - st->arena_used)
            return; /* cannot happen: unescaped text is never longer */
        memcpy(st->arena + st->arena_used, p, n);
        p = st->arena + st->arena_used;
        st->arena_used += n;
    }
    st->f[f] = (ll_sv){.p = p, .n = n};
    st->seen |= 1u << f;
}

static int ll_on_string(void *ctx, const unsigned char *s, size_t n)
{
    ll_scalar(ctx, (const char *)s, n);
    return 1;
}

static int ll_on_number(void *ctx, const char *s, size_t n)
{
    ll_scalar(ctx, s, n);
    return 1;
}

/* null and booleans carry nothing we keep; they still end a pending key */
static int ll_on_null(void *ctx)
{
    ll_state *st = ctx;
    ll_frame *fr = ll_top(st);
    if (st->depth == 0) {
        st->top_values++;
        st->top_not_object = 1;
    } else if (fr != NULL) {
        fr->field = LL_F_NONE;
    }
    return 1;
}

static int ll_on_bool(void *ctx, int v)
{
    (void)v;
    return ll_on_null(ctx);
}

static const yajl_callbacks ll_callbacks = {
    .yajl_null = ll_on_null,
    .yajl_boolean = ll_on_bool,
    .yajl_integer = NULL,
    .yajl_double = NULL,
    .yajl_number = ll_on_number,
    .yajl_string = ll_on_string,
    .yajl_start_map = ll_on_start_map,
    .yajl_map_key = ll_on_key,
    .yajl_end_map = ll_on_end,
    .yajl_start_array = ll_on_start_array,
    .yajl_end_array = ll_on_end,
};

/* ------------------------------------------------------------------ */
/* Per-line work                                                       */

static yajl_handle ll_yajl_new(ll_state *st, int no_validate)
{
    yajl_handle h = yajl_alloc(&ll_callbacks, NULL, st);
    if (h == NULL) {
        fprintf(stderr, "ll-decode-only: yajl_alloc failed\n");
        exit(1);
    }
    if (!yajl_config(h, yajl_allow_multiple_values, 1) ||
        (no_validate && !yajl_config(h, yajl_dont_validate_strings, 1))) {
        fprintf(stderr, "ll-decode-only: yajl_config failed\n");
        exit(1);
    }
    return h;
}

static const ll_sv *ll_pick(const ll_state *st, unsigned a, unsigned b)
{
    if (st->seen & (1u << a))
        return &st->f[a];
    if (st->seen & (1u << b))
        return &st->f[b];
    return NULL;
}

static void ll_fold(uint64_t *ck, const ll_sv *v)
{
    size_t n = v != NULL ? v->n : SIZE_MAX;
    unsigned char c = (v != NULL && v->n > 0) ? (unsigned char)v->p[0] : 0;
    *ck = (*ck ^ (uint64_t)n) * LL_FNV_PRIME;
    *ck = (*ck ^ c) * LL_FNV_PRIME;
}

static void ll_dump(const ll_sv *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == NULL)
            fputs("-", stderr);
        else
            fwrite(v[i]->p, 1, v[i]->n, stderr);
        fputc(i + 1 < n ? '\t' : '\n', stderr);
    }
}

/* Resolves field aliases the way logloom does and folds the result. */
static void ll_account(const ll_state *st, ll_totals *t)
{
    const ll_sv *corr = ll_pick(st, LL_F_CORRELATION_ID, LL_F_REQUEST_ID);
    const ll_sv *err = ll_pick(st, LL_F_ERR_CODE, LL_F_ERR_MESSAGE);
    const ll_sv *v[10];
    if (corr == NULL)
        corr = ll_pick(st, LL_F_X_REQUEST_ID, LL_F_X_REQUEST_ID);
    v[0] = ll_pick(st, LL_F_TIME, LL_F_TIMESTAMP);
    v[1] = ll_pick(st, LL_F_LEVEL, LL_F_LEVEL);
    v[2] = ll_pick(st, LL_F_MSG, LL_F_MESSAGE);
    v[3] = ll_pick(st, LL_F_SERVICE, LL_F_NAME);
    v[4] = ll_pick(st, LL_F_PID, LL_F_PID);
    v[5] = ll_pick(st, LL_F_HOSTNAME, LL_F_HOSTNAME);
    v[6] = corr;
    v[7] = ll_pick(st, LL_F_ERR_CODE, LL_F_ERR_CODE);
    v[8] = ll_pick(st, LL_F_ERR_MESSAGE, LL_F_ERR_MESSAGE);
    v[9] = ll_pick(st, LL_F_ERR_SYSCALL, LL_F_ERR_SYSCALL);
    for (size_t i = 0; i < 10; i++)
        ll_fold(&t->checksum, v[i]);
    if (t->dump)
        ll_dump(v, 10);
    t->with_corr += corr != NULL;
    t->with_err += err != NULL;
    t->copies += st->arena_used != 0;
}

static void ll_line_reset(ll_state *st, const char *p, size_t n)
{
    st->line = p;
    st->len = n;
    st->arena_used = 0;
    st->depth = 0;
    st->top_values = 0;
    st->top_not_object = 0;
    st->seen = 0;
    st->stack[0] = (ll_frame){.ctx = LL_C_SKIP, .field = LL_F_NONE,
                              .sub = LL_C_SKIP};
}

static int ll_use_scan;
static struct ll_buf ll_scratch;

static void ll_do_line(yajl_handle *h, ll_state *st, ll_totals *t,
                       const char *p, size_t n, int no_validate)
{
    yajl_status s;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n == 0)
        return; /* blank lines are not records */
    ll_line_reset(st, p, n);
    if (ll_use_scan && ll__json_scan(p, n, &ll_callbacks, st, &ll_scratch)) {
        s = yajl_status_ok;
    } else {
        ll_line_reset(st, p, n);
        s = yajl_parse(*h, (const unsigned char *)p, n);
        if (s == yajl_status_ok)
            s = yajl_complete_parse(*h);
    }
    if (s != yajl_status_ok) {
        t->lines++;
        t->bad++;
        yajl_free(*h); /* the handle is stuck in its error state */
        *h = ll_yajl_new(st, no_validate);
        return;
    }
    if (st->top_values == 0)
        return; /* whitespace only */
    t->lines++;
    if (st->top_values != 1 || st->top_not_object) {
        t->bad++;
        return;
    }
    ll_account(st, t);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

typedef struct {
    char *buf;
    size_t cap;
    size_t have;
} ll_reader;

/* Handles every complete line in the buffer; returns bytes consumed. */
static size_t ll_scan(yajl_handle *h, ll_state *st, ll_totals *t,
                      const ll_reader *rd, int no_validate)
{
    size_t pos = 0;
    for (;;) {
        const char *nl = memchr(rd->buf + pos, '\n', rd->have - pos);
        if (nl == NULL)
            return pos;
        ll_do_line(h, st, t, rd->buf + pos, (size_t)(nl - (rd->buf + pos)),
                   no_validate);
        pos = (size_t)(nl - rd->buf) + 1;
    }
}

static void ll_grow(ll_reader *rd, ll_state *st)
{
    size_t cap = rd->cap * 2;
    char *b = realloc(rd->buf, cap);
    char *a;
    if (b == NULL)
        ll_die("realloc");
    rd->buf = b;
    a = realloc(st->arena, cap);
    if (a == NULL)
        ll_die("realloc");
    st->arena = a;
    rd->cap = cap;
    st->arena_cap = cap;
}

static ssize_t ll_read(int fd, char *p, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, p, n);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

static void ll_decode_fd(int fd, ll_totals *t, int no_validate)
{
    ll_reader rd = {.buf = malloc(LL_READ_BUF), .cap = LL_READ_BUF, .have = 0};
    ll_state *st = calloc(1, sizeof(*st));
    yajl_handle h;
    if (rd.buf == NULL || st == NULL || !(st->arena = malloc(LL_READ_BUF)))
        ll_die("malloc");
    st->arena_cap = LL_READ_BUF;
    h = ll_yajl_new(st, no_validate);
    for (;;) {
        size_t used;
        ssize_t r = ll_read(fd, rd.buf + rd.have, rd.cap - rd.have);
        if (r < 0)
            ll_die("read");
        if (r == 0)
            break;
        t->bytes += (uint64_t)r;
        rd.have += (size_t)r;
        used = ll_scan(&h, st, t, &rd, no_validate);
        memmove(rd.buf, rd.buf + used, rd.have - used);
        rd.have -= used;
        if (rd.have == rd.cap)
            ll_grow(&rd, st);
    }
    if (rd.have > 0) /* last line without a trailing newline */
        ll_do_line(&h, st, t, rd.buf, rd.have, no_validate);
    yajl_free(h);
    free(st->arena);
    free(st);
    free(rd.buf);
}

typedef struct {
    const char *path;
    int no_validate;
    int verbose;
    int dump;
} ll_args;

static int ll_parse_args(int argc, char **argv, ll_args *a)
{
    *a = (ll_args){.path = NULL};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scan") == 0)
            ll_use_scan = 1;
        else if (strcmp(argv[i], "--no-validate-utf8") == 0)
            a->no_validate = 1;
        else if (strcmp(argv[i], "-v") == 0)
            a->verbose = 1;
        else if (strcmp(argv[i], "--dump") == 0)
            a->dump = 1;
        else if (a->path == NULL && argv[i][0] != '-')
            a->path = argv[i];
        else
            return -1;
    }
    return a->path != NULL ? 0 : -1;
}

int main(int argc, char **argv)
{
    ll_args a;
    ll_totals t = {.checksum = LL_FNV_BASIS};
    int fd;

    if (ll_parse_args(argc, argv, &a) != 0) {
        fprintf(stderr,
                "usage: ll-decode-only [--scan] [--no-validate-utf8] [-v] [--dump] "
                "FILE\n");
        return 2;
    }
    t.dump = a.dump;
    fd = open(a.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        ll_die(a.path);
    ll_decode_fd(fd, &t, a.no_validate);
    if (close(fd) != 0)
        ll_die("close");
    printf("lines=%llu bad=%llu bytes=%llu checksum=%016llx\n",
           (unsigned long long)t.lines, (unsigned long long)t.bad,
           (unsigned long long)t.bytes, (unsigned long long)t.checksum);
    if (a.verbose)
        fprintf(stderr, "with_correlation_id=%llu with_err=%llu "
                        "lines_with_unescape_copies=%llu\n",
                (unsigned long long)t.with_corr,
                (unsigned long long)t.with_err,
                (unsigned long long)t.copies);
    return fflush(stdout) == 0 ? 0 : 1;
}
