/* The tail source: files matching globs, followed as they grow, rotate and
 * are truncated, their lines deframed (docker, CRI) and decoded.
 *
 * Files are known by identity (device and inode, after following symlinks)
 * plus a fingerprint of their first bytes, never by name: a name is where a
 * file happens to be. When a path comes to name another file (rotation by
 * rename) or none (removal), the old file is read to its end and closed
 * after a quiet second; the new one is opened from its head. A file shorter
 * than what was read of it was truncated in place (copytruncate) and is read
 * again from 0.
 *
 * Files are read merged by event time, as replay merges its inputs: each
 * file with a complete line has its next event decoded ahead (its "head"),
 * and the earliest head goes out first (ties to the file whose name sorts
 * first). A file at its end holds nothing back: what it writes next is
 * newer. So a backlog over many files (a first start, a restart behind its
 * checkpoint) is read in the order the lines were written, as a replay of
 * the same files reads it, and memory stays one line per file.
 *
 * Every event gets a sequence number in read order when it is taken. A
 * checkpoint is cut at a boundary of the read order (every BOUNDARY-th seq),
 * where every file has an exact offset: each file notes, at the first event
 * it gives past a boundary, that event's offset (or an earlier one where a
 * piece of a split line is held). That is what makes resuming after a crash
 * neither lose nor repeat a line, whatever order the files took turns in. */
#include "logloom/ingest.h"

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

#define CHUNK (256 << 10)
#define FP_BYTES 256
#define BOUNDARY 512 /* a checkpoint is cut at seq 1, 513, 1025, ... */
#define HEAD_PROBE_LINES 1024
#define POLL_NS (250 * LL_NS_PER_MS)    /* reads without an inotify event */
#define POLL_BLIND_NS (50 * LL_NS_PER_MS) /* the same without inotify at all */
#define CLOSE_QUIET_NS (1 * LL_NS_PER_SEC) /* an orphaned file at EOF this long closes */

/* A file's first event past a boundary: its seq, where reading again for
 * a cut at that boundary starts, and, when that is a held piece of a split
 * line read before events taken earlier, the first of those (a cut must go
 * back there to re-read nothing from before it; else UINT64_MAX). */
struct mark {
    uint64_t seq, offset, low;
};

struct tfile {
    char *path;         /* where it is (rotation moves it) */
    const char *source; /* its name in event positions: where it was first seen (interned) */
    struct ll_str service; /* from the file name: a Kubernetes container, or the base name */
    uint64_t dev, ino, fp;
    uint32_t fp_len;
    int fd, wd;
    bool dirty;    /* inotify says it changed */
    bool orphaned; /* its path names another file now, or none */
    int64_t quiet_since;

    char *buf; /* bytes [head, len) not yet framed; buf[0] is at file offset off */
    size_t head, len, cap, scan;
    uint64_t off;
    bool skipping; /* discarding the rest of an over-long line */
    int64_t partial_since;
    /* Per stream (stdout, stderr): the start of the split line the
     * deframer holds, and since when. */
    uint64_t held_off[2];
    uint64_t held_after[2]; /* last_seq when it began to be held */
    int64_t held_since[2];
    bool held[2];
    ll_deframer *df;

    int64_t last_ts;
    char last_service[128];
    size_t last_service_len;
    uint64_t last_seq; /* of the last event taken from it (0: none yet) */
    struct mark *marks;
    size_t n_marks, cap_marks;

    struct ll_event ev; /* its next event, decoded ahead: while has_head */
    struct ll_arena arena;
    bool has_head;
    long heap_idx; /* in the merge heap while it has a head, else -1 */
};

struct ll_tail {
    char **paths, **exclude;
    size_t n_paths, n_exclude;
    bool start_at_tail, raw_events;
    enum ll_frame_format format;
    size_t max_line;
    int64_t rescan_ns, partial_timeout_ns;
    ll_reject_fn *on_reject;
    void *ctx;

    struct ll_tail_pos *resume;
    size_t n_resume;

    struct tfile **f;
    size_t n;
    struct tfile **heap; /* files with a head, earliest first */
    size_t n_heap, cap_heap;
    struct tfile *taken; /* its head went out last: read it on at once */
    uint64_t last_taken; /* seq of the last event taken */
    bool look_all;       /* every file without a head is looked at again */
    int ino;             /* inotify descriptor, -1 without */
    bool rescan_now;
    int64_t next_scan, next_poll;

    char **names; /* every source name: events' positions point here for good */
    size_t n_names;
    ll_decoder *dec;
    uint64_t *seq, own_seq; /* the read order counter: shared by sources, or own */
    struct ll_tail_stats st;
    struct ll_tail_pos *pos; /* ll_tail_positions' answer */
    size_t cap_pos;
};

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

static void file_close_fd(struct ll_tail *t, struct tfile *f)
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

static void file_free(struct tfile *f)
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
static void scan(struct ll_tail *t, bool first)
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
static void find_rotated(struct ll_tail *t)
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
static uint64_t next_offset(const struct tfile *f)
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
static size_t fill(struct ll_tail *t, struct tfile *f)
{
    if (truncated(f)) {
        /* What was read but not yet delivered is lost with the buffer: the
         * copy, if there is one, has it from here. */
        uint64_t done = next_offset(f);
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
static void redecode(struct ll_tail *t, struct tfile *f)
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
static int from_file(struct ll_tail *t, struct tfile *f, bool flush)
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

/* ------------------------------------------------------------------------ */
/* The merge                                                                 */

static int cmp_str(const char *a, const char *b)
{
    return a == b ? 0 : strcmp(a, b);
}

/* Earlier event first; at one instant, the file whose name sorts first. */
static bool head_before(const struct ll_tail *t, const struct tfile *a, const struct tfile *b)
{
    (void)t;
    if (a->ev.ts_ns != b->ev.ts_ns)
        return a->ev.ts_ns < b->ev.ts_ns;
    return cmp_str(a->source, b->source) < 0;
}

#define HEAP_PLACED(t, f, i) ((f)->heap_idx = (long)(i))
LL_HEAP(heads, struct tfile *, const struct ll_tail *, head_before, HEAP_PLACED)

static void heap_push(struct ll_tail *t, struct tfile *f)
{
    heads_push(t, &t->heap, &t->n_heap, &t->cap_heap, f);
}

/* Takes @p f (which has a head) out of the heap. */
static void heap_remove(struct ll_tail *t, struct tfile *f)
{
    heads_remove(t, t->heap, &t->n_heap, (size_t)f->heap_idx);
    f->heap_idx = -1;
}

/* Gives @p f a head if it can: from its buffer, and (@p read) from the
 * file once the buffer is spent, until a read finds nothing. */
static void refill(struct ll_tail *t, struct tfile *f, bool read, int64_t now)
{
    if (f->has_head || f->fd < 0)
        return;
    bool flush = f->orphaned && f->quiet_since && now - f->quiet_since >= CLOSE_QUIET_NS;
    for (;;) {
        if (from_file(t, f, flush) == LL_OK) {
            heap_push(t, f);
            return;
        }
        if (!read || !fill(t, f))
            break;
        f->quiet_since = 0;
    }
    f->dirty = false;
}

/* An orphaned file at its end for a quiet while is done with: the writer
 * moved on. Anything it still held goes out first. */
static bool retire(struct ll_tail *t, struct tfile *f, int64_t now)
{
    if (!f->orphaned || f->fd < 0 || f->len > f->head)
        return false;
    if (!f->quiet_since) {
        f->quiet_since = now;
        return false;
    }
    if (now - f->quiet_since < CLOSE_QUIET_NS)
        return false;
    file_close_fd(t, f);
    return true;
}

/* Drains inotify: marks changed files, asks for a rescan on directory
 * changes. */
static void drain_inotify(struct ll_tail *t)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(t->ino, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            bool found = false;
            for (size_t i = 0; i < t->n && !found; i++)
                if (t->f[i]->wd == e->wd) {
                    t->f[i]->dirty = true;
                    t->look_all = true;
                    found = true;
                    if (e->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_ATTRIB))
                        t->rescan_now = true;
                }
            if (!found)
                t->rescan_now = true; /* a directory: something came or went */
            p += sizeof *e + e->len;
        }
    }
}

static void watch_dirs(struct ll_tail *t)
{
    for (size_t i = 0; i < t->n_paths && t->ino >= 0; i++) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", t->paths[i]);
        char *slash = strrchr(dir, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else
            *slash = '\0';
        if (!strpbrk(dir, "*?[")) /* a wildcard directory: the rescan finds its files */
            inotify_add_watch(t->ino, *dir ? dir : "/",
                              IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE);
    }
}

/* Files without a head get one where they can: the one taken from last
 * (read on at once: it may have a backlog), those inotify named, and on a
 * poll every one; orphaned files done with are closed and, once nothing
 * of them is needed, dropped. */
static void look(struct ll_tail *t, int64_t now)
{
    if (t->rescan_now || now >= t->next_scan)
        scan(t, false);
    bool poll_all = now >= t->next_poll;
    if (poll_all) {
        t->next_poll = now + (t->ino >= 0 ? POLL_NS : POLL_BLIND_NS);
        t->look_all = true;
    }
    if (t->taken) {
        refill(t, t->taken, true, now);
        t->taken = NULL;
    }
    if (!t->look_all)
        return;
    t->look_all = false;
    for (size_t i = 0; i < t->n;) {
        struct tfile *f = t->f[i];
        refill(t, f, f->dirty || poll_all || f->orphaned, now);
        if (!f->has_head && retire(t, f, now) && !f->n_marks && !f->last_seq) {
            file_free(f);
            t->f[i] = t->f[--t->n];
            continue;
        }
        i++;
    }
}

int ll_tail_peek(ll_tail *t, const struct ll_event **ev, int64_t timeout_ns)
{
    int64_t deadline = ll_clock_mono_ns() + timeout_ns;
    bool drained = false;
    for (;;) {
        int64_t now = ll_clock_mono_ns();
        look(t, now);
        if (t->n_heap) {
            *ev = &t->heap[0]->ev;
            return LL_OK;
        }
        now = ll_clock_mono_ns();
        if (now >= deadline) {
            /* Out of time: but what inotify says costs no waiting. */
            if (t->ino < 0 || drained)
                return LL_EAGAIN;
            drained = true;
            drain_inotify(t);
            continue;
        }
        int64_t wait = deadline - now;
        if (t->next_poll - now < wait)
            wait = t->next_poll - now;
        if (t->next_scan - now < wait)
            wait = t->next_scan - now;
        if (wait < 0)
            wait = 0;
        struct pollfd p = {.fd = t->ino, .events = POLLIN};
        if (t->ino >= 0 && poll(&p, 1, (int)((wait + LL_NS_PER_MS - 1) / LL_NS_PER_MS)) > 0)
            drain_inotify(t);
        else if (t->ino < 0)
            nanosleep(&(struct timespec){wait / LL_NS_PER_SEC, wait % LL_NS_PER_SEC}, NULL);
    }
}

/* The first seq that re-reading @p f from a held piece would read again
 * although it was taken before the piece's line ends (UINT64_MAX: none). */
static uint64_t held_low(const struct tfile *f)
{
    uint64_t low = UINT64_MAX;
    for (int s = 0; s < 2; s++)
        if (f->held[s] && f->held_after[s] + 1 < low)
            low = f->held_after[s] + 1;
    return low;
}

/* The first boundary at or after @p seq. */
static uint64_t boundary_from(uint64_t seq)
{
    return seq <= 1 ? 1 : ((seq - 2) / BOUNDARY + 1) * BOUNDARY + 1;
}

const struct ll_event *ll_tail_take(ll_tail *t)
{
    assert(t->n_heap);
    struct tfile *f = t->heap[0];
    heap_remove(t, f);
    f->has_head = false;
    f->ev.seq = ++*t->seq;
    /* The first event past a boundary: a cut there resumes here. */
    if (!f->last_seq || boundary_from(f->last_seq + 1) <= f->ev.seq) {
        LL_GROW(f->marks, f->n_marks, f->cap_marks, 8);
        f->has_head = true; /* next_offset(): this event's start, or a held piece's */
        f->marks[f->n_marks++] = (struct mark){f->ev.seq, next_offset(f), held_low(f)};
        f->has_head = false;
    }
    f->last_seq = t->last_taken = f->ev.seq;
    t->taken = f;
    t->st.events++;
    return &f->ev;
}

int ll_tail_next(ll_tail *t, const struct ll_event **ev, int64_t timeout_ns)
{
    int rc = ll_tail_peek(t, ev, timeout_ns);
    if (rc == LL_OK)
        *ev = ll_tail_take(t);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Positions                                                                 */

/* The first of @p f's marks at or after @p seq (n_marks: none). */
static size_t mark_at(const struct tfile *f, uint64_t seq)
{
    size_t lo = 0, hi = f->n_marks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->marks[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t ll_tail_cut(const ll_tail *t, uint64_t seq)
{
    /* Past every event taken from these files, or else the boundary at or
     * before it; lowered while a file would have to re-read, from a held
     * piece, events taken before it. */
    for (;;) {
        uint64_t b = seq > t->last_taken ? seq
                     : seq <= 1          ? seq
                                         : ((seq - 1) / BOUNDARY) * BOUNDARY + 1;
        uint64_t low = b;
        for (size_t i = 0; i < t->n; i++) {
            const struct tfile *f = t->f[i];
            size_t m = mark_at(f, b);
            uint64_t l = m < f->n_marks ? f->marks[m].low : held_low(f);
            if (l < low)
                low = l;
        }
        if (low >= b)
            return b;
        seq = low;
    }
}

/* The offset of @p f's first event at or after boundary @p seq, else where
 * it reads on. */
static uint64_t offset_at(const struct tfile *f, uint64_t seq)
{
    size_t m = mark_at(f, seq);
    return m < f->n_marks ? f->marks[m].offset : next_offset(f);
}

size_t ll_tail_positions(ll_tail *t, uint64_t seq, const struct ll_tail_pos **out)
{
    if (t->cap_pos < t->n) {
        t->cap_pos = t->n;
        t->pos = ll_reallocarray(t->pos, t->cap_pos, sizeof *t->pos);
    }
    for (size_t i = 0; i < t->n; i++) {
        struct tfile *f = t->f[i];
        /* Where the file is now, if it moved since it was found. */
        if (f->fd >= 0) {
            char proc[64], real[PATH_MAX];
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
            ssize_t n = readlink(proc, real, sizeof real - 1);
            if (n > 0 && real[0] == '/' && !strstr(real, " (deleted)")) {
                real[n] = '\0';
                if (strcmp(real, f->path) != 0 && f->orphaned) {
                    ll_free(f->path);
                    f->path = ll_strdup(real);
                }
            }
        }
        t->pos[i] = (struct ll_tail_pos){f->path, f->source, f->dev, f->ino, f->fp, f->fp_len,
                                        offset_at(f, seq)};
    }
    *out = t->pos;
    return t->n;
}

void ll_tail_forget(ll_tail *t, uint64_t seq)
{
    for (size_t i = 0; i < t->n;) {
        struct tfile *f = t->f[i];
        size_t drop = 0;
        while (drop < f->n_marks && f->marks[drop].seq < seq)
            drop++;
        if (drop) {
            memmove(f->marks, f->marks + drop, (f->n_marks - drop) * sizeof *f->marks);
            f->n_marks -= drop;
        }
        if (f->fd < 0 && !f->n_marks && !f->has_head && f->last_seq < seq) {
            if (t->taken == f)
                t->taken = NULL;
            file_free(f);
            t->f[i] = t->f[--t->n];
            continue;
        }
        i++;
    }
}

uint64_t ll_tail_seq(const ll_tail *t)
{
    return *t->seq;
}

int ll_tail_set_decode(ll_tail *t, const struct ll_decode_conf *decode, char *err, size_t errsz)
{
    ll_decoder *d = ll_decoder_new(decode, err, errsz);
    if (!d)
        return LL_EINVAL;
    ll_decoder_destroy(t->dec);
    t->dec = d;
    for (size_t i = 0; i < t->n_heap; i++)
        redecode(t, t->heap[i]);
    return LL_OK;
}

int ll_tail_fd(const ll_tail *t)
{
    return t->ino;
}

int64_t ll_tail_deadline(const ll_tail *t)
{
    return t->next_poll < t->next_scan ? t->next_poll : t->next_scan;
}

const struct ll_tail_stats *ll_tail_stats(const ll_tail *t)
{
    return &t->st;
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                            */

static char **copy_list(const char *const *v, size_t n)
{
    char **c = ll_calloc(n ? n : 1, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = ll_strdup(v[i]);
    return c;
}

int ll_tail_open(const struct ll_tail_conf *conf, ll_tail **out, char *err, size_t errsz)
{
    *out = NULL;
    if (!conf->n_paths) {
        snprintf(err, errsz, "a tail source needs at least one path (a glob)");
        return LL_EINVAL;
    }
    ll_tail *t = ll_calloc(1, sizeof *t);
    t->paths = copy_list(conf->paths, conf->n_paths);
    t->n_paths = conf->n_paths;
    t->exclude = copy_list(conf->exclude, conf->n_exclude);
    t->n_exclude = conf->n_exclude;
    t->start_at_tail = conf->start_at_tail;
    t->raw_events = conf->raw_events;
    t->format = conf->format;
    t->max_line = conf->max_line ? conf->max_line : (size_t)1 << 20;
    t->rescan_ns = conf->rescan_ns ? conf->rescan_ns : 5 * LL_NS_PER_SEC;
    t->partial_timeout_ns = conf->partial_timeout_ns ? conf->partial_timeout_ns
                                                     : 5 * LL_NS_PER_SEC;
    t->on_reject = conf->on_reject;
    t->ctx = conf->ctx;
    t->seq = conf->seq ? conf->seq : &t->own_seq;
    t->resume = ll_calloc(conf->n_resume ? conf->n_resume : 1, sizeof *t->resume);
    for (size_t i = 0; i < conf->n_resume; i++) {
        t->resume[i] = conf->resume[i];
        t->resume[i].path = ll_strdup(conf->resume[i].path);
        t->resume[i].source = ll_strdup(conf->resume[i].source ? conf->resume[i].source
                                                               : conf->resume[i].path);
    }
    t->n_resume = conf->n_resume;
    t->dec = ll_decoder_new(conf->decode, err, errsz);
    if (!t->dec) {
        ll_tail_close(t);
        return LL_EINVAL;
    }
    t->ino = conf->poll_only ? -1 : inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (t->ino < 0 && !conf->poll_only)
        ll_log(LL_LEVEL_WARN, "tail", "no inotify (%s): polling every %lld ms", strerror(errno),
               (long long)(POLL_BLIND_NS / LL_NS_PER_MS));
    watch_dirs(t);
    scan(t, true);
    find_rotated(t);
    *out = t;
    return LL_OK;
}

void ll_tail_close(ll_tail *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        file_close_fd(t, t->f[i]);
        file_free(t->f[i]);
    }
    ll_free(t->f);
    for (size_t i = 0; i < t->n_paths; i++)
        ll_free(t->paths[i]);
    for (size_t i = 0; i < t->n_exclude; i++)
        ll_free(t->exclude[i]);
    ll_free(t->paths);
    ll_free(t->exclude);
    for (size_t i = 0; i < t->n_resume; i++) {
        ll_free((char *)t->resume[i].path);
        ll_free((char *)t->resume[i].source);
    }
    ll_free(t->resume);
    ll_free(t->pos);
    for (size_t i = 0; i < t->n_names; i++)
        ll_free(t->names[i]);
    ll_free(t->names);
    if (t->ino >= 0)
        close(t->ino);
    ll_decoder_destroy(t->dec);
    ll_free(t->heap);
    ll_free(t);
}
