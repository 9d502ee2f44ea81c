/* The files of a tail source (tail.c): found by glob and known by
 * identity and fingerprint, opened, followed through rotation and
 * truncation, read in chunks and their lines deframed and decoded. */
#include "tail_int.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

static uint64_t fingerprint(int fd, uint32_t *len)
{
    char b[FP_BYTES];
    ssize_t n = pread(fd, b, sizeof b, 0);
    *len = n > 0 ? (uint32_t)n : 0;
    return ll_hash64(b, *len, 0x66);
}

/* A copy of @p name that lives as long as the source. */
static const char *intern(struct ll_tail *t, const char *name)
{
    for (size_t i = 0; i < t->n_names; i++)
        if (strcmp(t->names[i], name) == 0)
            return t->names[i];
    t->names = ll_reallocarray(t->names, t->n_names + 1, sizeof *t->names);
    return t->names[t->n_names++] = ll_strdup(name);
}

static bool excluded(const struct ll_tail *t, const char *path)
{
    for (size_t i = 0; i < t->n_exclude; i++)
        if (fnmatch(t->exclude[i], path, 0) == 0)
            return true;
    return false;
}

static struct tfile *find_identity(const struct ll_tail *t, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->f[i]->dev == dev && t->f[i]->ino == ino && t->f[i]->fd >= 0)
            return t->f[i];
    return NULL;
}

static void file_service(struct tfile *f)
{
    f->service = ll_service_from_path(f->path);
}

static void watch(struct ll_tail *t, struct tfile *f)
{
    f->wd = -1;
    if (t->ino < 0)
        return;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
    /* The open file, wherever its name goes: through /proc, so a symlink
     * path watches the file it points to. */
    f->wd = inotify_add_watch(t->ino, proc, IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
}

/* Opens @p path (identity @p st) at @p offset; NULL on failure (logged). */
static struct tfile *file_open(struct ll_tail *t, const char *path, const char *source,
                               const struct stat *st, uint64_t offset)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        ll_log(LL_LEVEL_WARN, "tail", "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct tfile *f = ll_calloc(1, sizeof *f);
    f->path = ll_strdup(path);
    f->source = intern(t, source);
    file_service(f);
    f->dev = (uint64_t)st->st_dev;
    f->ino = (uint64_t)st->st_ino;
    f->fd = fd;
    f->fp = fingerprint(fd, &f->fp_len);
    f->off = offset;
    f->last_ts = LL_TIME_NONE;
    f->df = ll_deframer_new(t->format, t->max_line);
    f->dirty = true;
    f->heap_idx = -1;
    ll_arena_init(&f->arena, 4096);
    t->look_all = true;
    watch(t, f);
    t->f = ll_reallocarray(t->f, t->n + 1, sizeof *t->f);
    t->f[t->n++] = f;
    t->st.files_open++;
    t->st.files_seen++;
    return f;
}

void ll__tail_file_close_fd(struct ll_tail *t, struct tfile *f)
{
    if (f->fd < 0)
        return;
    if (f->wd >= 0 && t->ino >= 0)
        inotify_rm_watch(t->ino, f->wd);
    close(f->fd);
    f->fd = -1;
    f->wd = -1;
    t->st.files_open--;
}

void ll__tail_file_free(struct tfile *f)
{
    ll_deframer_destroy(f->df);
    ll_free(f->buf);
    ll_free(f->marks);
    ll_arena_free(&f->arena);
    ll_free(f->path);
    ll_free(f);
}

/* The checkpoint of a file seen for the first time, if it has one. */
static const struct ll_tail_pos *resume_of(const struct ll_tail *t, int fd,
                                           const struct stat *st)
{
    for (size_t i = 0; i < t->n_resume; i++) {
        const struct ll_tail_pos *r = &t->resume[i];
        if (r->dev != (uint64_t)st->st_dev || r->ino != (uint64_t)st->st_ino)
            continue;
        char b[FP_BYTES];
        ssize_t n = pread(fd, b, r->fp_len, 0);
        if (n == (ssize_t)r->fp_len && ll_hash64(b, r->fp_len, 0x66) == r->fp)
            return r;
    }
    return NULL;
}

/* A path the globs found: new files are opened, a path naming another file
 * than before orphans the old one. */
static void consider(struct ll_tail *t, const char *path, bool first_scan)
{
    struct stat st;
    if (excluded(t, path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    if (find_identity(t, (uint64_t)st.st_dev, (uint64_t)st.st_ino))
        return;
    for (size_t i = 0; i < t->n; i++)
        if (t->f[i]->fd >= 0 && !t->f[i]->orphaned && strcmp(t->f[i]->path, path) == 0) {
            t->f[i]->orphaned = true; /* rotated: the path names a new file */
            t->st.rotations++;
        }
    int probe = open(path, O_RDONLY | O_CLOEXEC);
    if (probe < 0)
        return;
    const struct ll_tail_pos *r = resume_of(t, probe, &st);
    close(probe);
    uint64_t offset = r                                   ? r->offset
                      : first_scan && t->start_at_tail ? (uint64_t)st.st_size
                                                        : 0;
    struct tfile *f = file_open(t, path, r ? r->source : path, &st, offset);
    if (f && r)
        ll_log(LL_LEVEL_INFO, "tail", "%s: resuming at byte %llu", path,
               (unsigned long long)offset);
}

/* Reads the globs again; paths that vanished orphan their files. */
void ll__tail_scan(struct ll_tail *t, bool first)
{
    for (size_t i = 0; i < t->n_paths; i++) {
        glob_t g;
        if (glob(t->paths[i], GLOB_NOSORT, NULL, &g) == 0)
            for (size_t k = 0; k < g.gl_pathc; k++)
                consider(t, g.gl_pathv[k], first);
        globfree(&g);
    }
    for (size_t i = 0; i < t->n; i++) {
        struct tfile *f = t->f[i];
        struct stat st;
        if (f->fd < 0 || f->orphaned)
            continue;
        if (stat(f->path, &st) != 0 || (uint64_t)st.st_ino != f->ino ||
            (uint64_t)st.st_dev != f->dev) {
            f->orphaned = true; /* removed, or renamed without a successor yet */
            t->st.rotations++;
        }
    }
    t->next_scan = ll_clock_mono_ns() + t->rescan_ns;
    t->rescan_now = false;
}

/* Files checkpointed but not found by the globs: rotated away (renamed in
 * their directory) before they were read to the end. */
void ll__tail_find_rotated(struct ll_tail *t)
{
    for (size_t i = 0; i < t->n_resume; i++) {
        const struct ll_tail_pos *r = &t->resume[i];
        if (find_identity(t, r->dev, r->ino))
            continue;
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", r->path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        DIR *d = opendir(dir);
        struct dirent *de;
        bool found = false;
        while (d && !found && (de = readdir(d))) {
            if ((uint64_t)de->d_ino != r->ino)
                continue;
            char path[PATH_MAX + NAME_MAX + 2];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            struct stat st;
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd >= 0 && fstat(fd, &st) == 0 && resume_of(t, fd, &st) == r) {
                struct tfile *f = file_open(t, path, r->source, &st, r->offset);
                if (f) {
                    f->orphaned = true; /* read it to its end, then close */
                    ll_log(LL_LEVEL_INFO, "tail", "%s: rotated to %s; resuming at byte %llu",
                           r->path, path, (unsigned long long)r->offset);
                    found = true;
                }
            }
            if (fd >= 0)
                close(fd);
        }
        if (d)
            closedir(d);
        if (!found) {
            t->st.lost_files++;
            ll_log(LL_LEVEL_WARN, "tail", "%s: checkpointed at byte %llu but gone (removed "
                   "before it was read to the end)", r->path, (unsigned long long)r->offset);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */

/* Where reading @p f again gives its next event and everything after:
 * that event's start (its head, or what is left in its buffer), or a held
 * piece of a split line before it. */
uint64_t ll__tail_next_offset(const struct tfile *f)
{
    uint64_t off = f->has_head ? f->ev.pos.offset : f->off + f->head;
    for (int s = 0; s < 2; s++)
        if (f->held[s] && f->held_off[s] < off)
            off = f->held_off[s];
    return off;
}

/* After a copytruncate, the lines written between our last delivery and
 * the truncation live only in the copy: find it in the same directory (same
 * first bytes, at least as long as what we delivered) and read its rest. */
static void drain_copy(struct ll_tail *t, const struct tfile *f, uint64_t read_to)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", f->path);
    char *slash = strrchr(f->path, '/');
    if (slash)
        dir[slash - f->path] = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    const char *base = slash ? slash + 1 : f->path;
    size_t base_len = strlen(base);
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        /* logrotate names a copy after its file: app.log.1, app.log-20261127 */
        if (strncmp(de->d_name, base, base_len) != 0 || !strchr(".-_", de->d_name[base_len]) ||
            !de->d_name[base_len])
            continue;
        char path[PATH_MAX + NAME_MAX + 2];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < read_to ||
            (uint64_t)st.st_ino == f->ino || find_identity(t, (uint64_t)st.st_dev,
                                                           (uint64_t)st.st_ino))
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        char b[FP_BYTES];
        bool same = pread(fd, b, f->fp_len, 0) == (ssize_t)f->fp_len &&
                    ll_hash64(b, f->fp_len, 0x66) == f->fp;
        close(fd);
        if (!same)
            continue;
        struct tfile *c = file_open(t, path, path, &st, read_to);
        if (c) {
            c->orphaned = true;
            ll_log(LL_LEVEL_INFO, "tail", "%s: reading the rest of its copy %s from byte %llu",
                   f->path, path, (unsigned long long)read_to);
        }
        break;
    }
    if (d)
        closedir(d);
}

/* Whether @p f was cut shorter, or rewritten from the start, in place (cut
 * and written past where we read before we looked: its first bytes
 * changed). */
static bool truncated(struct tfile *f)
{
    struct stat st;
    if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < f->off + f->len)
        return true;
    if (!f->fp_len)
        return false;
    char b[FP_BYTES];
    return pread(f->fd, b, f->fp_len, 0) == (ssize_t)f->fp_len &&
           ll_hash64(b, f->fp_len, 0x66) != f->fp;
}

/* Reads what the file has beyond its buffer. @returns bytes read. */
size_t ll__tail_fill(struct ll_tail *t, struct tfile *f)
{
    if (truncated(f)) {
        /* What was read but not yet delivered is lost with the buffer: the
         * copy, if there is one, has it from here. */
        uint64_t done = ll__tail_next_offset(f);
        ll_log(LL_LEVEL_INFO, "tail", "%s: truncated in place after %llu bytes; reading it "
               "again from the start", f->path, (unsigned long long)(f->off + f->len));
        t->st.truncations++;
        drain_copy(t, f, done);
        f->off = 0;
        f->head = f->len = f->scan = 0;
        f->skipping = false;
        f->partial_since = 0;
        f->held[0] = f->held[1] = false;
        ll_deframer_destroy(f->df);
        f->df = ll_deframer_new(t->format, t->max_line);
        f->fp = fingerprint(f->fd, &f->fp_len);
    }
    if (f->head && f->head == f->len) {
        f->off += f->len;
        f->head = f->len = f->scan = 0;
    } else if (f->head > f->cap / 2) {
        memmove(f->buf, f->buf + f->head, f->len - f->head);
        f->off += f->head;
        f->len -= f->head;
        f->scan -= f->head;
        f->head = 0;
    }
    if (f->cap - f->len < CHUNK / 4) {
        f->cap = f->cap ? f->cap * 2 : CHUNK;
        f->buf = ll_realloc(f->buf, f->cap);
    }
    ssize_t n;
    do
        n = pread(f->fd, f->buf + f->len, f->cap - f->len, (off_t)(f->off + f->len));
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return 0;
    f->len += (size_t)n;
    t->st.bytes += (uint64_t)n;
    if (f->fp_len < FP_BYTES && f->off + f->len > f->fp_len)
        f->fp = fingerprint(f->fd, &f->fp_len); /* it was shorter than the fingerprint */
    return (size_t)n;
}

static void reject(struct ll_tail *t, struct tfile *f, enum ll_reject why, const char *p,
                   size_t len, uint64_t off, uint64_t full_len, uint32_t flags,
                   const char *detail)
{
    t->st.rejected[why]++;
    if (!t->on_reject)
        return;
    struct ll_pos pos = {ll_str_c(f->source), off};
    struct ll_line line = {p, len, off, full_len, flags};
    t->on_reject(t->ctx, why, &pos, &line, detail);
}

/* The next physical line of @p f from its buffer: LL_OK, or LL_EAGAIN when
 * it holds no complete line (an over-long one is cut, reported, and its
 * rest skipped; a last line without newline waits, then goes out flagged). */
static int physical(struct ll_tail *t, struct tfile *f, struct ll_line *line)
{
    for (;;) {
        char *start = f->buf + f->head;
        size_t avail = f->len - f->head;
        char *nl = f->scan < f->len ? memchr(f->buf + f->scan, '\n', f->len - f->scan) : NULL;
        if (f->skipping) {
            if (!nl) {
                f->head = f->scan = f->len; /* still inside it */
                return LL_EAGAIN;
            }
            f->skipping = false;
            f->head = f->scan = (size_t)(nl - f->buf) + 1;
            continue;
        }
        if (nl) {
            size_t n = (size_t)(nl - start);
            uint64_t off = f->off + f->head;
            f->head = f->scan = (size_t)(nl - f->buf) + 1;
            f->partial_since = 0;
            if (n > t->max_line) {
                reject(t, f, LL_REJECT_TOO_LONG, start, t->max_line, off, n,
                       LL_LINE_TOO_LONG, "line exceeds the limit");
                continue;
            }
            uint32_t flags = 0;
            if (n && start[n - 1] == '\r')
                n--, flags = LL_LINE_CRLF;
            *line = (struct ll_line){start, n, off, n, flags};
            return LL_OK;
        }
        f->scan = f->len;
        if (avail > t->max_line) {
            reject(t, f, LL_REJECT_TOO_LONG, start, t->max_line, f->off + f->head, avail,
                   LL_LINE_TOO_LONG, "line exceeds the limit");
            f->skipping = true;
            f->head = f->len;
            continue;
        }
        if (!avail)
            return LL_EAGAIN;
        int64_t now = ll_clock_mono_ns();
        if (!f->partial_since) {
            f->partial_since = now;
            return LL_EAGAIN;
        }
        if (now - f->partial_since < t->partial_timeout_ns)
            return LL_EAGAIN;
        /* Its newline never came: the writer died mid-line, or wrote no
         * newline at the end. Deliver what there is, flagged. */
        t->st.partial_lines++;
        f->partial_since = 0;
        *line = (struct ll_line){start, avail, f->off + f->head, avail, LL_LINE_NO_NEWLINE};
        f->head = f->scan = f->len;
        return LL_OK;
    }
}

/* The time of the first line after the current one in @p f's buffer that
 * has one (up to HEAD_PROBE_LINES lines), else the epoch: for a line
 * without a time at the head of a file (a crash report before the first log
 * line), as replay borrows it. Never the clock, nor what other files said:
 * the answer would depend on when and in what order files were read. */
static int64_t probe_time(struct ll_tail *t, struct tfile *f)
{
    struct ll_arena arena;
    ll_arena_init(&arena, 4096);
    int64_t ts = LL_TIME_NONE;
    const char *p = f->buf + f->head, *end = f->buf + f->len;
    for (int n = 0; ts == LL_TIME_NONE && n < HEAD_PROBE_LINES && p < end; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        struct ll_event ev = {0};
        enum ll_reject why;
        if (!ll_line_blank(p, (size_t)(nl - p)) &&
            ll_decoder_decode(t->dec, p, (size_t)(nl - p), &arena, &ev, &why) == LL_OK)
            ts = ev.ts_ns;
        ll_arena_reset(&arena);
        p = nl + 1;
    }
    ll_arena_free(&arena);
    return ts != LL_TIME_NONE ? ts : 0;
}

/* The service of @p f's head: its own, a raw line's file's last, else the
 * file's name. */
static void head_service(struct tfile *f)
{
    struct ll_event *ev = &f->ev;
    if (!(ev->flags & LL_EV_RAW) && ev->service.len &&
        ev->service.len <= sizeof f->last_service) {
        memcpy(f->last_service, ev->service.ptr, ev->service.len);
        f->last_service_len = ev->service.len;
    }
    if ((ev->flags & LL_EV_RAW) && f->last_service_len)
        ev->service = (struct ll_str){f->last_service, f->last_service_len};
    if (!ev->service.len) {
        ev->service = f->service;
        ev->flags |= LL_EV_SERVICE_FROM_NAME;
    }
}

/* Makes the decoded (or raw) event of @p fr from @p f its head: position,
 * service and time. */
static void finish_event(struct ll_tail *t, struct tfile *f, const struct ll_frame *fr,
                         uint64_t off)
{
    struct ll_event *ev = &f->ev;
    ev->pos = (struct ll_pos){ll_str_c(f->source), off};
    head_service(f);
    if (ev->ts_ns == LL_TIME_NONE && fr->ts_ns != LL_TIME_NONE)
        ev->ts_ns = fr->ts_ns; /* when the runtime wrote it: close enough */
    if (ev->ts_ns == LL_TIME_NONE) {
        ev->ts_ns = f->last_ts != LL_TIME_NONE ? f->last_ts : probe_time(t, f);
        ev->flags |= LL_EV_TIME_INFERRED;
        t->st.time_inferred++;
    }
    f->last_ts = ev->ts_ns;
    f->has_head = true;
}

/* Decodes @p f's head again with the source's (new) decoder: its line is
 * still where it was read (nothing is read into a file with a head), and
 * its position and time stay. */
void ll__tail_redecode(struct ll_tail *t, struct tfile *f)
{
    struct ll_event old = f->ev;
    ll_arena_reset(&f->arena);
    enum ll_reject why;
    if ((old.flags & LL_EV_RAW) ||
        ll_decoder_decode(t->dec, old.line.ptr, old.line.len, &f->arena, &f->ev, &why) != LL_OK)
        ll_decoder_raw_event(t->dec, old.line.ptr, old.line.len, &f->arena, &f->ev);
    f->ev.pos = old.pos;
    f->ev.ts_ns = old.ts_ns;
    f->ev.flags |= old.flags & LL_EV_TIME_INFERRED;
    head_service(f);
}

/* Decodes logical line @p fr (starting at @p off) into @p f's head.
 * @returns false when it makes no event (blank, too long, rejected). */
static bool decode_frame(struct ll_tail *t, struct tfile *f, const struct ll_frame *fr,
                         uint64_t off, uint32_t line_flags)
{
    if (ll_line_blank(fr->line.ptr, fr->line.len))
        return false;
    t->st.lines++;
    if (fr->too_long) {
        reject(t, f, LL_REJECT_TOO_LONG, fr->line.ptr, fr->line.len, off, fr->line.len,
               LL_LINE_TOO_LONG, "joined line exceeds the limit");
        return false;
    }
    ll_arena_reset(&f->arena);
    enum ll_reject why;
    f->ev.pos = (struct ll_pos){ll_str_c(f->source), off};
    if (ll_decoder_decode(t->dec, fr->line.ptr, fr->line.len, &f->arena, &f->ev, &why) !=
        LL_OK) {
        reject(t, f, why, fr->line.ptr, fr->line.len, off, fr->line.len, line_flags,
               ll_decoder_error(t->dec));
        if (why != LL_REJECT_NOT_JSON || !t->raw_events)
            return false;
        ll_decoder_raw_event(t->dec, fr->line.ptr, fr->line.len, &f->arena, &f->ev);
        t->st.raw_events++;
    }
    finish_event(t, f, fr, off);
    return true;
}

/* Decodes @p f's next event into its head: LL_OK, or LL_EAGAIN when its
 * buffer is spent. A line the deframer holds (a split line whose last piece
 * never came) goes out when @p flush, or when it has waited the partial
 * timeout. */
int ll__tail_from_file(struct ll_tail *t, struct tfile *f, bool flush)
{
    struct ll_line line;
    struct ll_frame fr;
    while (physical(t, f, &line) == LL_OK) {
        int done = ll_deframer_push(f->df, line.ptr, line.len, &fr);
        int s = fr.stderr_stream;
        if (!done) { /* a piece of a split line, held for its stream */
            if (!f->held[s]) {
                f->held[s] = true;
                f->held_off[s] = line.offset;
                f->held_after[s] = f->last_seq;
                f->held_since[s] = ll_clock_mono_ns();
            }
            continue;
        }
        uint64_t off = line.offset;
        if (fr.chunks > 1 && f->held[s]) {
            off = f->held_off[s];
            f->held[s] = false;
        }
        if (decode_frame(t, f, &fr, off, line.flags))
            return LL_OK;
    }
    int64_t now = ll_clock_mono_ns();
    bool overdue = (f->held[0] && now - f->held_since[0] >= t->partial_timeout_ns) ||
                   (f->held[1] && now - f->held_since[1] >= t->partial_timeout_ns);
    if ((flush || overdue) && ll_deframer_flush(f->df, &fr)) {
        int s = fr.stderr_stream;
        uint64_t off = f->held[s] ? f->held_off[s] : f->off + f->head;
        f->held[s] = false;
        t->st.partial_lines++;
        if (decode_frame(t, f, &fr, off, LL_LINE_NO_NEWLINE))
            return LL_OK;
    }
    return LL_EAGAIN;
}
