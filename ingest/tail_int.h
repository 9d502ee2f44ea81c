/* Private to ingest/: the tail source's state (tail.c) and its files,
 * found, opened and read (tail_files.c). */
#ifndef LOGLOOM_TAIL_INT_H
#define LOGLOOM_TAIL_INT_H

#include "logloom/ingest.h"

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

/* tail_files.c: what tail.c takes from it (see each there). */
void ll__tail_file_close_fd(struct ll_tail *t, struct tfile *f);
void ll__tail_file_free(struct tfile *f);
void ll__tail_scan(struct ll_tail *t, bool first);
void ll__tail_find_rotated(struct ll_tail *t);
uint64_t ll__tail_next_offset(const struct tfile *f);
size_t ll__tail_fill(struct ll_tail *t, struct tfile *f);
void ll__tail_redecode(struct ll_tail *t, struct tfile *f);
int ll__tail_from_file(struct ll_tail *t, struct tfile *f, bool flush);

#endif
