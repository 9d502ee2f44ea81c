/* Line framing over a plain file or a gzip stream.
 *
 * One buffer holds the unread tail of the previous read plus the next chunk;
 * it starts at two chunks and grows up to max_line + chunk only when a line
 * needs it. Lines are views into it until the next fill. A
 * line that outgrows max_line is reported once, with a copy of its first
 * bytes, when its end is found; its body is skipped without being buffered.
 *
 * A gzip stream may be inflated ahead on a thread of its own
 * (ll_reader_prefetch): it fills a ring of INFLATE_BLOCKS blocks, and a fill
 * copies from the oldest. Errors and the end come through the ring in
 * order, after the bytes before them. */
#include "logloom/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define TOO_LONG_PREFIX 1024
#define INFLATE_BLOCKS 4
#define INFLATE_BLOCK ((size_t)256 << 10)

/* Inflated bytes, or where the stream ended (len 0), or failed (rc). */
struct block {
    char *data;
    size_t len, off;
    int rc;
    uint64_t raw_pos; /* compressed bytes read after this block */
    char err[256];
};

struct inflater {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct block blk[INFLATE_BLOCKS];
    unsigned head, count; /* the oldest filled block; how many are filled */
    bool stop;
};

struct ll_reader {
    int fd;
    gzFile gz;
    struct inflater *inf; /* inflating ahead, if started */
    char *buf;
    size_t cap;
    size_t chunk;
    size_t max_line;
    size_t start; /* first unread byte */
    size_t scan;  /* no newline in [start, scan) */
    size_t end;   /* end of valid data */
    uint64_t base; /* stream offset of buf[0] */
    bool eof;
    bool skipping; /* inside a too-long line */
    uint64_t skip_offset;
    uint64_t skip_len;
    char prefix[TOO_LONG_PREFIX];
    size_t prefix_len;
    uint64_t raw_pos;
    char err[256];
};

/* zlib's message without the name it gives a stream opened by descriptor
 * ("<fd:3>: "): the caller names the file. */
static const char *gz_message(gzFile gz, int *zerr)
{
    const char *msg = gzerror(gz, zerr);
    if (!msg || !*msg)
        return "read error";
    const char *sep = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ">: ") : NULL;
    return sep ? sep + 3 : msg;
}

/* Up to @p room inflated bytes of @p gz into @p dst; @p err and an error
 * code if it fails. */
static int gz_read(gzFile gz, char *dst, size_t room, size_t *got, uint64_t *raw_pos,
                   char *err, size_t errsz)
{
    int n = gzread(gz, dst, (unsigned)(room > INT32_MAX ? INT32_MAX : room));
    if (n < 0 || (n == 0 && !gzeof(gz))) {
        int zerr;
        const char *msg = gz_message(gz, &zerr);
        snprintf(err, errsz, "gzip: %s", msg);
        return zerr == Z_ERRNO ? LL_EIO : LL_ECORRUPT;
    }
    /* zlib reports a stream cut short only once it has given out the
     * last bytes it could decode. */
    if (n == 0 && gzeof(gz)) {
        int zerr;
        const char *msg = gz_message(gz, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END) {
            snprintf(err, errsz, "gzip: %s", msg);
            return LL_ECORRUPT;
        }
    }
    *raw_pos = (uint64_t)gzoffset(gz);
    *got = (size_t)n;
    return LL_OK;
}

static void *inflate_main(void *arg)
{
    struct ll_reader *r = arg;
    struct inflater *f = r->inf;
    for (bool last = false; !last;) {
        pthread_mutex_lock(&f->mu);
        while (f->count == INFLATE_BLOCKS && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
        bool stop = f->stop;
        struct block *b = &f->blk[(f->head + f->count) % INFLATE_BLOCKS];
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
        /* Filled whole (gzread stops short only at the end), or it fails. */
        b->off = b->len = 0;
        b->err[0] = '\0';
        b->rc = gz_read(r->gz, b->data, INFLATE_BLOCK, &b->len, &b->raw_pos, b->err,
                        sizeof b->err);
        last = b->rc != LL_OK || b->len == 0;
        pthread_mutex_lock(&f->mu);
        f->count++;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

/* The next bytes from the inflating thread: the oldest block's rest, or
 * the end or error it holds (those stay, for the calls after). */
static int read_inflated(struct ll_reader *r, char *dst, size_t room, size_t *got)
{
    struct inflater *f = r->inf;
    pthread_mutex_lock(&f->mu);
    while (f->count == 0)
        pthread_cond_wait(&f->cv, &f->mu);
    struct block *b = &f->blk[f->head];
    pthread_mutex_unlock(&f->mu);
    if (b->off == b->len) { /* only a block that ends the stream stays empty */
        *got = 0;
        if (b->rc != LL_OK)
            snprintf(r->err, sizeof r->err, "%s", b->err);
        return b->rc;
    }
    size_t n = b->len - b->off < room ? b->len - b->off : room;
    memcpy(dst, b->data + b->off, n);
    b->off += n;
    *got = n;
    if (b->off == b->len) {
        r->raw_pos = b->raw_pos;
        pthread_mutex_lock(&f->mu);
        f->head = (f->head + 1) % INFLATE_BLOCKS;
        f->count--;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    return LL_OK;
}

static int read_more(struct ll_reader *r, char *dst, size_t room, size_t *got)
{
    if (r->inf)
        return read_inflated(r, dst, room, got);
    if (r->gz)
        return gz_read(r->gz, dst, room, got, &r->raw_pos, r->err, sizeof r->err);
    ssize_t n;
    do
        n = read(r->fd, dst, room);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        snprintf(r->err, sizeof r->err, "read: %s", strerror(errno));
        return LL_EIO;
    }
    r->raw_pos += (uint64_t)n;
    *got = (size_t)n;
    return LL_OK;
}

static void free_inflater(struct inflater *f)
{
    for (int i = 0; i < INFLATE_BLOCKS; i++)
        ll_free(f->blk[i].data);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    ll_free(f);
}

int ll_reader_open(const char *path, size_t max_line, size_t chunk, ll_reader **out,
                   char *errstr, size_t errstr_size)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? LL_ENOENT : LL_EIO;
    }
    unsigned char magic[2];
    ssize_t m = pread(fd, magic, 2, 0);
    if (m < 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        close(fd);
        return LL_EIO;
    }
    struct ll_reader *r = ll_calloc(1, sizeof *r);
    r->fd = fd;
    r->max_line = max_line ? max_line : (size_t)1 << 20;
    r->chunk = chunk ? chunk : (size_t)256 << 10;
    r->cap = 2 * r->chunk < r->max_line + r->chunk ? 2 * r->chunk : r->max_line + r->chunk;
    r->buf = ll_malloc(r->cap + 1);
    if (m == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        r->gz = gzdopen(fd, "rb");
        if (!r->gz) {
            snprintf(errstr, errstr_size, "%s: cannot open gzip stream", path);
            ll_reader_close(r);
            return LL_EIO;
        }
        r->fd = -1; /* owned by gz now */
        gzbuffer(r->gz, 128u << 10);
    }
    *out = r;
    return LL_OK;
}

bool ll_reader_prefetch(ll_reader *r)
{
    if (!r->gz || r->inf)
        return r->inf != NULL;
    struct inflater *f = r->inf = ll_calloc(1, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    for (int i = 0; i < INFLATE_BLOCKS; i++)
        f->blk[i].data = ll_malloc(INFLATE_BLOCK);
    if (pthread_create(&f->thread, NULL, inflate_main, r) == 0)
        return true;
    free_inflater(f);
    r->inf = NULL;
    return false;
}

void ll_reader_close(ll_reader *r)
{
    if (!r)
        return;
    if (r->inf) {
        pthread_mutex_lock(&r->inf->mu);
        r->inf->stop = true;
        pthread_cond_broadcast(&r->inf->cv);
        pthread_mutex_unlock(&r->inf->mu);
        pthread_join(r->inf->thread, NULL);
        free_inflater(r->inf);
    }
    if (r->gz)
        gzclose(r->gz);
    if (r->fd >= 0)
        close(r->fd);
    ll_free(r->buf);
    ll_free(r);
}

const char *ll_reader_error(const ll_reader *r)
{
    return r->err;
}

bool ll_line_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

uint64_t ll_reader_raw_pos(const ll_reader *r)
{
    return r->raw_pos;
}

uint64_t ll_reader_bytes(const ll_reader *r)
{
    return r->base + r->end;
}

static void emit_too_long(struct ll_reader *r, struct ll_line *line, uint32_t extra)
{
    *line = (struct ll_line){.ptr = r->prefix, .len = r->prefix_len, .offset = r->skip_offset,
                             .full_len = r->skip_len, .flags = LL_LINE_TOO_LONG | extra};
    r->skipping = false;
}

/* Skipping a too-long line: drop bytes up to and including its newline. */
static int skip_line(struct ll_reader *r, struct ll_line *line)
{
    char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
    if (!nl) {
        r->skip_len += r->end - r->start;
        r->start = r->scan = r->end;
        if (r->eof) {
            emit_too_long(r, line, LL_LINE_NO_NEWLINE);
            return LL_OK;
        }
        return LL_EAGAIN;
    }
    size_t n = (size_t)(nl - (r->buf + r->start));
    r->skip_len += n;
    r->start = r->scan = n + 1 + r->start;
    emit_too_long(r, line, 0);
    return LL_OK;
}

static void begin_skip(struct ll_reader *r)
{
    r->skipping = true;
    r->skip_offset = r->base + r->start;
    r->prefix_len = r->end - r->start < TOO_LONG_PREFIX ? r->end - r->start : TOO_LONG_PREFIX;
    memcpy(r->prefix, r->buf + r->start, r->prefix_len);
    r->skip_len = 0;
}

int ll_reader_next(ll_reader *r, struct ll_line *line)
{
    if (r->skipping)
        return skip_line(r, line);
    char *from = r->buf + r->scan;
    char *nl = memchr(from, '\n', r->end - r->scan);
    size_t len;
    uint32_t flags = 0;
    if (nl) {
        len = (size_t)(nl - (r->buf + r->start));
    } else if (r->end - r->start > r->max_line) {
        begin_skip(r);
        return skip_line(r, line);
    } else if (r->eof && r->end > r->start) {
        len = r->end - r->start;
        flags = LL_LINE_NO_NEWLINE;
    } else {
        r->scan = r->end;
        return LL_EAGAIN;
    }
    if (len > r->max_line) {
        begin_skip(r);
        return skip_line(r, line);
    }
    const char *p = r->buf + r->start;
    *line = (struct ll_line){.ptr = p, .len = len, .offset = r->base + r->start,
                             .full_len = len, .flags = flags};
    if (len && p[len - 1] == '\r') {
        line->len--;
        line->flags |= LL_LINE_CRLF;
    }
    r->start += len + (nl != NULL);
    r->scan = r->start;
    return LL_OK;
}

int ll_reader_fill(ll_reader *r)
{
    if (r->eof)
        return LL_EOF;
    /* Keep the unread tail, move it to the front. */
    size_t keep = r->end - r->start;
    if (r->start) {
        memmove(r->buf, r->buf + r->start, keep);
        r->base += r->start;
        r->scan -= r->start;
        r->start = 0;
        r->end = keep;
    }
    /* The buffer grows only as far as the longest line needs. */
    if (r->cap - r->end < r->chunk) {
        size_t cap = r->cap * 2 > r->end + r->chunk ? r->cap * 2 : r->end + r->chunk;
        if (cap > r->max_line + r->chunk)
            cap = r->max_line + r->chunk;
        r->buf = ll_realloc(r->buf, cap + 1);
        r->cap = cap;
    }
    size_t got = 0;
    int rc = read_more(r, r->buf + r->end, r->cap - r->end, &got);
    if (rc != LL_OK) {
        r->eof = true; /* what was read stays readable */
        return rc;
    }
    r->end += got;
    if (got == 0)
        r->eof = true;
    return LL_OK;
}
