/* The file driver: JSON lines appended to a file (mode 0600, it holds log
 * text), each batch written whole and fsync'ed before it is acknowledged.
 * A batch that fails half-way (a full disk) is cut back off the file before
 * it is written again, so a retry leaves no partial line behind.
 *
 * Records are deterministic (ids and contents come from the logs), and
 * after a restart the daemon makes again those behind its checkpoint. So
 * the first connection reads the last dedupe_bytes of the file and notes a
 * hash of each whole line: a record that is byte for byte one of them is
 * acknowledged without being written again. An alert written again with a
 * higher count is a new line, and is written. */
#include "delivery_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)1 << 20)

struct filed {
    char *path;
    int fd;
    struct ll_buf b;
    uint64_t dedupe_bytes;
    bool loaded;     /* the lines already there were noted */
    uint64_t *seen;  /* their hashes, open addressing (0: empty) */
    size_t n_seen, seen_slots;
    uint64_t skipped;
};

int ll__file_new(const struct ll_delivery_conf *c, void **out, char *err, size_t errsz)
{
    const char *path = c->url + 5; /* file:PATH */
    if (strncmp(path, "//", 2) == 0)
        path += 2; /* file:///abs/path */
    if (!*path) {
        snprintf(err, errsz, "file: needs a path (file:alerts.jsonl)");
        return LL_EINVAL;
    }
    struct filed *f = ll_calloc(1, sizeof *f);
    f->path = ll_strdup(path);
    f->fd = -1;
    f->dedupe_bytes = c->dedupe_bytes;
    *out = f;
    return LL_OK;
}

static uint64_t line_hash(const char *p, size_t n)
{
    uint64_t h = ll_hash64(p, n, 0x66696c65);
    return h ? h : 1;
}

static bool seen(const struct filed *f, uint64_t h)
{
    if (!f->n_seen)
        return false;
    size_t mask = f->seen_slots - 1;
    for (size_t i = h & mask; f->seen[i]; i = (i + 1) & mask)
        if (f->seen[i] == h)
            return true;
    return false;
}

static void note(struct filed *f, uint64_t h)
{
    if ((f->n_seen + 1) * 2 > f->seen_slots) {
        size_t n = f->seen_slots ? f->seen_slots * 2 : 1024;
        uint64_t *old = f->seen;
        size_t n_old = f->seen_slots;
        f->seen = ll_calloc(n, sizeof *f->seen);
        f->seen_slots = n;
        f->n_seen = 0;
        for (size_t i = 0; i < n_old; i++)
            if (old[i])
                note(f, old[i]);
        ll_free(old);
    }
    size_t mask = f->seen_slots - 1, i = h & mask;
    for (; f->seen[i]; i = (i + 1) & mask)
        if (f->seen[i] == h)
            return;
    f->seen[i] = h;
    f->n_seen++;
}

/* Notes the whole lines in the last dedupe_bytes of a regular file (read
 * from the byte before, so that a cut line is recognised and skipped). */
static void load_seen(struct filed *f)
{
    f->loaded = true;
    int fd = f->dedupe_bytes ? open(f->path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    uint64_t size = (uint64_t)st.st_size;
    uint64_t at = size > f->dedupe_bytes ? size - f->dedupe_bytes - 1 : 0;
    bool cut = at > 0; /* the first piece ends a line begun before */
    char *chunk = ll_malloc(READ_CHUNK);
    struct ll_buf line = {0};
    while (at < size) {
        ssize_t n = pread(fd, chunk, READ_CHUNK, (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        at += (uint64_t)n;
        for (const char *p = chunk, *end = chunk + n; p < end;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            ll_buf_append(&line, p, (size_t)((nl ? nl : end) - p));
            if (!nl)
                break;
            if (!cut)
                note(f, line_hash(line.data ? line.data : "", line.len));
            cut = false;
            ll_buf_reset(&line);
            p = nl + 1;
        }
    }
    ll_buf_free(&line);
    ll_free(chunk);
    close(fd);
}

static int file_connect(void *v, char *err, size_t errsz)
{
    struct filed *f = v;
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (f->fd >= 0) {
        if (!f->loaded)
            load_seen(f);
        return LL_OK;
    }
    int e = errno;
    snprintf(err, errsz, "cannot open %s: %s", f->path, strerror(e));
    /* A missing directory or a forbidden path will not fix itself. */
    return e == ENOENT || e == EACCES || e == EISDIR || e == ENOTDIR || e == EROFS ? LL_EINVAL
                                                                                 : LL_EAGAIN;
}

static enum ll__wr file_write(void *v, struct ll__rec *const *recs, size_t n, size_t *bad,
                              char *err, size_t errsz)
{
    struct filed *f = v;
    (void)bad;
    ll_buf_reset(&f->b);
    for (size_t i = 0; i < n; i++) {
        if (seen(f, line_hash(recs[i]->json.ptr, recs[i]->json.len))) {
            if (!f->skipped++)
                ll_log(LL_LEVEL_INFO, "sink", "file:%s: records made again (read again after "
                       "a restart) that the file holds already are not written twice", f->path);
            continue;
        }
        ll_buf_append(&f->b, recs[i]->json.ptr, recs[i]->json.len);
        ll_buf_putc(&f->b, '\n');
    }
    if (!f->b.len)
        return WR_OK;
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        snprintf(err, errsz, "%s: %s", f->path, strerror(errno));
        return WR_OUTAGE;
    }
    int e = ll_write_all(f->fd, f->b.data, f->b.len);
    if (e) {
        snprintf(err, errsz, "writing %s: %s", f->path, strerror(e));
        if (ftruncate(f->fd, st.st_size) != 0) /* reopen and try again later */
            return WR_OUTAGE;
        return WR_RETRY;
    }
    if (fsync(f->fd) != 0) {
        snprintf(err, errsz, "fsync %s: %s", f->path, strerror(errno));
        return WR_OUTAGE; /* after a failed fsync the page cache cannot be trusted */
    }
    return WR_OK;
}

static void file_disconnect(void *v)
{
    struct filed *f = v;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static void file_destroy(void *v)
{
    struct filed *f = v;
    file_disconnect(f);
    if (f->skipped)
        ll_log(LL_LEVEL_INFO, "sink", "file:%s: %llu records were in the file already", f->path,
               (unsigned long long)f->skipped);
    ll_free(f->seen);
    ll_buf_free(&f->b);
    ll_free(f->path);
    ll_free(f);
}

const struct ll__driver_ops ll__file_ops = {"file", file_connect, file_write, file_disconnect,
                                            file_destroy};
