/* The dead-letter file: see logloom/runner.h, "Dead letters". */
#include "logloom/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEDUPE_BYTES ((uint64_t)64 << 20) /* read back without a cap */

/* The directory @p path is in. */
static void dir_of(const char *path, char *dir, size_t size)
{
    snprintf(dir, size, "%s", path);
    ll_path_cut_last(dir, size);
}

static bool open_file(struct ll__dead_letter *dl)
{
    char dir[4096];
    dir_of(dl->path, dir, sizeof dir);
    int e = ll_dirs_make(dir, 0700);
    if (e) {
        errno = e;
        return false;
    }
    dl->fd = open(dl->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (dl->fd >= 0 && (dl->size = lseek(dl->fd, 0, SEEK_END)) >= 0)
        return true;
    e = errno;
    if (dl->fd >= 0)
        close(dl->fd);
    dl->fd = -1;
    errno = e;
    return false;
}

bool ll__dead_letter_check(const char *path, char *err, size_t errsz)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return true;
    }
    if (errno != ENOENT) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return false;
    }
    /* Made at start, its directory too. */
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    return ll_dir_makeable(dir, err, errsz) == LL_OK;
}

bool ll__dead_letter_open(struct ll__dead_letter *dl, const char *path, uint64_t max_bytes,
                          const char *component)
{
    *dl = (struct ll__dead_letter){.path = path, .component = component, .fd = -1,
                                   .max_bytes = max_bytes};
    if (!open_file(dl))
        return false;
    ll_lineset_load(&dl->seen, path, max_bytes ? max_bytes : DEDUPE_BYTES);
    return true;
}

/* The file is full: it becomes PATH.1 and a new one starts. If that fails,
 * writing goes on where it was (nothing is lost for the cap). */
static void rotate(struct ll__dead_letter *dl)
{
    struct ll_buf old = {0};
    ll_buf_printf(&old, "%s.1", dl->path);
    int fd = dl->fd;
    off_t size = dl->size;
    if (rename(dl->path, old.data) == 0 && open_file(dl)) {
        close(fd);
    } else {
        ll_log(LL_LEVEL_ERROR, dl->component, "dead-letter file %s: cannot start a new one "
               "past its cap (%s): %s; writing on", dl->path, old.data, strerror(errno));
        dl->fd = fd;
        dl->size = size;
        dl->max_bytes = 0; /* said once */
    }
    ll_buf_free(&old);
}

static void append(struct ll__dead_letter *dl)
{
    if (dl->max_bytes && dl->size && (uint64_t)dl->size + dl->rec.len > dl->max_bytes)
        rotate(dl);
    int e = ll_write_all(dl->fd, dl->rec.data, dl->rec.len);
    if (!e) {
        dl->size += (off_t)dl->rec.len;
        ll_lineset_add(&dl->seen, dl->rec.data, dl->rec.len - 1);
        if (dl->failing)
            ll_log(LL_LEVEL_WARN, dl->component,
                   "dead-letter file %s: writing again; %llu rejected lines were not written",
                   dl->path, (unsigned long long)dl->failing);
        dl->failing = 0;
        dl->written++;
        return;
    }
    if (ftruncate(dl->fd, dl->size) != 0) /* a part may have been written */
        ll_log(LL_LEVEL_ERROR, dl->component,
               "dead-letter file %s: cannot cut a partial record back off: %s", dl->path,
               strerror(errno));
    if (!dl->failing++)
        ll_log(LL_LEVEL_ERROR, dl->component,
               "dead-letter file %s: %s; rejected lines are counted, not written, until it "
               "works again",
               dl->path, strerror(e));
    dl->lost++;
}

void ll__dead_letter_write(struct ll__dead_letter *dl, enum ll_reject reason,
                           const struct ll_pos *pos, const struct ll_line *line,
                           const char *detail)
{
    if (dl->fd < 0)
        return;
    struct ll_buf *b = &dl->rec;
    ll_buf_reset(b);
    ll_buf_printf(b, "{\"reason\":\"%s\",\"source\":", ll_reject_name(reason));
    ll_buf_json_str(b, pos->source.ptr, pos->source.len);
    ll_buf_printf(b, ",\"offset\":%llu,\"detail\":", (unsigned long long)pos->offset);
    ll_buf_json_str(b, detail, strlen(detail));
    if (line->flags & LL_LINE_TOO_LONG)
        ll_buf_printf(b, ",\"truncated\":true,\"length\":%llu",
                      (unsigned long long)line->full_len);
    if (ll_utf8_valid(line->ptr, line->len)) {
        ll_buf_puts(b, ",\"line\":");
        ll_buf_json_str(b, line->ptr, line->len);
    } else {
        ll_buf_puts(b, ",\"line_base64\":\"");
        ll_buf_base64(b, line->ptr, line->len);
        ll_buf_putc(b, '"');
    }
    ll_buf_puts(b, "}\n");
    if (ll_lineset_has(&dl->seen, b->data, b->len - 1)) {
        dl->repeated++;
        return;
    }
    append(dl);
}

void ll__dead_letter_close(struct ll__dead_letter *dl)
{
    if (dl->repeated)
        ll_log(LL_LEVEL_INFO, dl->component,
               "dead-letter file %s: %llu records of lines read again were there already, not "
               "written twice",
               dl->path, (unsigned long long)dl->repeated);
    dl->repeated = 0;
    if (dl->fd >= 0)
        close(dl->fd);
    dl->fd = -1;
    ll_lineset_free(&dl->seen);
    ll_buf_free(&dl->rec);
}
