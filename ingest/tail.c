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
        if (ll__tail_from_file(t, f, flush) == LL_OK) {
            heap_push(t, f);
            return;
        }
        if (!read || !ll__tail_fill(t, f))
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
    ll__tail_file_close_fd(t, f);
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
        ll__tail_scan(t, false);
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
            ll__tail_file_free(f);
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
        f->has_head = true; /* ll__tail_next_offset(): this event's start, or a held piece's */
        f->marks[f->n_marks++] = (struct mark){f->ev.seq, ll__tail_next_offset(f), held_low(f)};
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
    return m < f->n_marks ? f->marks[m].offset : ll__tail_next_offset(f);
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
            ll__tail_file_free(f);
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
        ll__tail_redecode(t, t->heap[i]);
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

#define TAIL(field, name, type, help) {name, type, help, offsetof(struct ll_tail_stats, field)}

const struct ll_metric_field ll_tail_metrics[] = {
    TAIL(bytes, "logloom_read_bytes_total", "counter", "Bytes read from files"),
    TAIL(files_open, "logloom_files_open", "gauge", "Files being tailed"),
    TAIL(rotations, "logloom_rotations_total", "counter", "Files rotated or removed"),
    TAIL(truncations, "logloom_truncations_total", "counter", "Files truncated in place"),
    TAIL(partial_lines, "logloom_partial_lines_total", "counter",
         "Last lines given up waiting for a newline"),
};

const size_t ll_tail_n_metrics = sizeof ll_tail_metrics / sizeof ll_tail_metrics[0];

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
    ll__tail_scan(t, true);
    ll__tail_find_rotated(t);
    *out = t;
    return LL_OK;
}

void ll_tail_close(ll_tail *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        ll__tail_file_close_fd(t, t->f[i]);
        ll__tail_file_free(t->f[i]);
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
