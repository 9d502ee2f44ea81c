/* The file driver: JSON lines appended to a file (mode 0600, it holds log
 * text), each batch written whole and fsync'ed before it is acknowledged.
 * A batch that fails half-way (a full disk) is cut back off the file before
 * it is written again, so a retry leaves no partial line behind.
 *
 * Records are deterministic (ids and contents come from the logs), and
 * after a restart the daemon makes again those behind its checkpoint (a
 * Kafka member, those of a partition that comes back to it). So the sink
 * reads the last dedupe_bytes of the file when it is made and notes each
 * whole line, then each line it appends: a record that is byte for byte
 * one of them is acknowledged without being written again. An alert written
 * again with a higher count is a new line, and is written. */
#include "delivery_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct filed {
    char *path;
    int fd;
    struct ll_buf b;
    struct ll_lineset seen; /* the lines the file ends with */
    uint64_t skipped;
};

static int file_open(const struct ll_delivery_conf *c, void **out, char *err, size_t errsz)
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
    ll_lineset_load(&f->seen, f->path, c->dedupe_bytes);
    *out = f;
    return LL_OK;
}

static int file_connect(void *v, char *err, size_t errsz)
{
    struct filed *f = v;
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (f->fd >= 0)
        return LL_OK;
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
        if (ll_lineset_has(&f->seen, recs[i]->json.ptr, recs[i]->json.len)) {
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
    for (size_t i = 0; i < n; i++)
        ll_lineset_add(&f->seen, recs[i]->json.ptr, recs[i]->json.len);
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
    ll_lineset_free(&f->seen);
    ll_buf_free(&f->b);
    ll_free(f->path);
    ll_free(f);
}

const struct ll__driver_ops ll__file_ops = {"file", file_open, file_connect, file_write, file_disconnect,
                                            file_destroy};
