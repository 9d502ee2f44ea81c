/* The tail source: lines appended as a writer writes them, partial lines,
 * rotation by rename and by copytruncate under a fast writer (every line
 * exactly once), resuming from checkpoints without loss or repetition, and
 * container framing with Kubernetes names. */
#define LL_TMPDIR
#include "../testutil.h"

#include "logloom/ingest.h"

#include <pthread.h>
#include <time.h>

static char *path_of(const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void append(const char *path, const char *text)
{
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static ll_tail *open_tail(const char *pattern, const struct ll_tail_pos *resume, size_t n_resume,
                          int64_t partial_timeout)
{
    const char *paths[] = {pattern};
    struct ll_tail_conf c = {.paths = paths, .n_paths = 1, .rescan_ns = 50 * LL_NS_PER_MS,
                             .partial_timeout_ns = partial_timeout, .resume = resume,
                             .n_resume = n_resume, .raw_events = true};
    ll_tail *t;
    char err[256];
    assert_int_equal(ll_tail_open(&c, &t, err, sizeof err), LL_OK);
    return t;
}

/* The next event's message, or NULL if none comes within @p ms. */
static const struct ll_event *next(ll_tail *t, long ms)
{
    const struct ll_event *ev;
    return ll_tail_next(t, &ev, ms * LL_NS_PER_MS) == LL_OK ? ev : NULL;
}

static void follows_a_growing_file_and_holds_a_partial_line(void **state)
{
    (void)state;
    char *p = path_of("grow.log");
    append(p, "{\"time\":1,\"msg\":\"one\"}\n{\"time\":2,\"msg\":\"two\"}\n");
    ll_tail *t = open_tail(p, NULL, 0, 300 * LL_NS_PER_MS);
    const struct ll_event *ev = next(t, 500);
    assert_non_null(ev);
    assert_memory_equal(ev->msg.ptr, "one", 3);
    assert_int_equal(ev->seq, 1);
    assert_int_equal(ev->pos.offset, 0);
    ev = next(t, 500);
    assert_memory_equal(ev->msg.ptr, "two", 3);
    assert_int_equal(ev->pos.offset, 23);
    assert_null(next(t, 100));
    /* Half a line waits for its newline... */
    append(p, "{\"time\":3,\"msg\":\"thr");
    assert_null(next(t, 100));
    append(p, "ee\"}\n");
    ev = next(t, 500);
    assert_non_null(ev);
    assert_int_equal(ev->msg.len, 5);
    assert_memory_equal(ev->msg.ptr, "three", 5);
    /* ...but not for ever: the writer may have died mid-line. */
    append(p, "{\"time\":4,\"msg\":\"no newline\"}");
    ev = next(t, 1000);
    assert_non_null(ev);
    assert_memory_equal(ev->msg.ptr, "no newline", 10);
    assert_int_equal(ll_tail_stats(t)->partial_lines, 1);
    /* The service comes from the file name; the time from the line. */
    assert_memory_equal(ev->service.ptr, "grow", 4);
    assert_true(ev->ts_ns == 4 * LL_NS_PER_SEC);
    ll_tail_close(t);
    free(p);
}

/* A write larger than the read buffer is read to its end at once, not a
 * buffer per poll: with inotify (the event stands for all of it) and
 * without (watch: poll, every 50 ms). */
static void one_big_write_is_read_without_waiting(void **state)
{
    (void)state;
    enum { LINES = 30000 };
    struct ll_buf b = {0};
    for (int i = 0; i < LINES; i++)
        ll_buf_printf(&b, "{\"time\":%d,\"msg\":\"line %d of a big write\"}\n", i, i);
    assert_true(b.len > (1 << 20)); /* several read buffers */
    for (int poll_only = 0; poll_only < 2; poll_only++) {
        char name[32];
        snprintf(name, sizeof name, "big-%d.log", poll_only);
        char *p = path_of(name);
        append(p, "");
        const char *paths[] = {p};
        struct ll_tail_conf c = {.paths = paths, .n_paths = 1, .poll_only = poll_only,
                                 .raw_events = true};
        ll_tail *t;
        char err[256];
        assert_int_equal(ll_tail_open(&c, &t, err, sizeof err), LL_OK);
        assert_null(next(t, 0));
        int fd = open(p, O_WRONLY | O_APPEND);
        assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
        close(fd);
        int n = next(t, 500) ? 1 : 0; /* the next poll, without inotify */
        while (next(t, 0))
            n++;
        assert_int_equal(n, LINES);
        ll_tail_close(t);
        free(p);
    }
    ll_buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Rotation under load                                                       */

struct writer {
    char *path;
    int lines, per_file;
    bool copytruncate;
};

/* Writes numbered lines as fast as it can, rotating every per_file lines:
 * renaming the file away and starting a new one, or copying it away and
 * truncating it in place (the writer keeps its descriptor, as an
 * application under copytruncate does; no line is written between the copy
 * and the truncation, which logrotate cannot promise). */
static void *write_lines(void *arg)
{
    struct writer *w = arg;
    int fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    char line[128], rotated[700];
    for (int i = 0; i < w->lines; i++) {
        int n = snprintf(line, sizeof line, "{\"time\":%d,\"msg\":\"%d\"}\n", 1700000000 + i, i);
        assert_int_equal(write(fd, line, (size_t)n), n);
        if ((i + 1) % w->per_file)
            continue;
        snprintf(rotated, sizeof rotated, "%s.%d", w->path, (i + 1) / w->per_file);
        /* Rotations come every 20 ms, not between two lines: a file created
         * and rotated away before the reader ever looked (or truncated
         * before it read a byte) is invisible to any reader. */
        nanosleep(&(struct timespec){0, 20 * 1000000}, NULL);
        if (w->copytruncate) {
            size_t len;
            char *all = read_file(w->path, &len);
            int c = open(rotated, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            assert_int_equal(write(c, all, len), (ssize_t)len);
            close(c);
            free(all);
            assert_int_equal(ftruncate(fd, 0), 0);
        } else {
            close(fd);
            assert_int_equal(rename(w->path, rotated), 0);
            fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        }
    }
    close(fd);
    return NULL;
}

static void every_line_once_through_rotations(bool copytruncate)
{
    enum { LINES = 60000, PER_FILE = 2000 };
    char name[32];
    snprintf(name, sizeof name, "rot-%d.log", copytruncate);
    struct writer w = {path_of(name), LINES, PER_FILE, copytruncate};
    append(w.path, "");
    ll_tail *t = open_tail(w.path, NULL, 0, 5 * LL_NS_PER_SEC);
    pthread_t th;
    pthread_create(&th, NULL, write_lines, &w);
    unsigned char *seen = calloc(LINES, 1);
    int got = 0, dups = 0, idle = 0;
    while (got < LINES && idle < 40) {
        const struct ll_event *ev = next(t, 100);
        if (!ev) {
            idle++;
            continue;
        }
        idle = 0;
        int n = atoi(ev->msg.ptr);
        assert_true(n >= 0 && n < LINES);
        if (seen[n]++)
            dups++;
        else
            got++;
    }
    pthread_join(th, NULL);
    int missing = 0;
    for (int i = 0; i < LINES; i++)
        missing += !seen[i];
    if (missing || dups)
        fail_msg("%s: %d lines missing, %d twice (of %d; %llu rotations, %llu truncations)",
                 copytruncate ? "copytruncate" : "rename", missing, dups, LINES,
                 (unsigned long long)ll_tail_stats(t)->rotations,
                 (unsigned long long)ll_tail_stats(t)->truncations);
    if (copytruncate)
        assert_true(ll_tail_stats(t)->truncations >= LINES / PER_FILE / 2);
    else
        assert_true(ll_tail_stats(t)->rotations >= LINES / PER_FILE / 2);
    free(seen);
    ll_tail_close(t);
    free(w.path);
}

static void rotation_by_rename_under_load(void **state)
{
    (void)state;
    every_line_once_through_rotations(false);
}

static void rotation_by_copytruncate_under_load(void **state)
{
    (void)state;
    every_line_once_through_rotations(true);
}

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                               */

static void resumes_from_a_checkpoint_without_loss_or_repeat(void **state)
{
    (void)state;
    char *a = path_of("ck-a.log"), *b = path_of("ck-b.log"), *ckdir = path_of("ckpt");
    char pattern[600];
    snprintf(pattern, sizeof pattern, "%s/ck-*.log", dir);
    for (int i = 0; i < 1000; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"time\":%d,\"msg\":\"a%d\"}\n", i, i);
        append(a, line);
        snprintf(line, sizeof line, "{\"time\":%d,\"msg\":\"b%d\"}\n", i, i);
        append(b, line);
    }
    ll_tail *t = open_tail(pattern, NULL, 0, 5 * LL_NS_PER_SEC);
    /* Read some, cut at a seq inside what was read. */
    unsigned char seen[2][1000] = {{0}};
    for (int i = 0; i < 1300; i++) {
        const struct ll_event *ev = next(t, 500);
        assert_non_null(ev);
        seen[ev->msg.ptr[0] - 'a'][atoi(ev->msg.ptr + 1)]++;
    }
    uint64_t cut = ll_tail_cut(t, 700);
    assert_true(cut <= 700 && cut >= 1);
    const struct ll_tail_pos *pos;
    size_t n = ll_tail_positions(t, cut, &pos);
    assert_int_equal(n, 2);
    char err[256];
    assert_int_equal(ll_checkpoints_save(ckdir, pos, n, err, sizeof err), LL_OK);
    /* Which lines were read before the cut? Those must not come again. */
    ll_tail_close(t);

    struct ll_tail_pos *loaded;
    size_t n_loaded;
    assert_int_equal(ll_checkpoints_load(ckdir, &loaded, &n_loaded, err, sizeof err), LL_OK);
    assert_int_equal(n_loaded, 2);
    t = open_tail(pattern, loaded, n_loaded, 5 * LL_NS_PER_SEC);
    unsigned char again[2][1000] = {{0}};
    const struct ll_event *ev;
    size_t resumed = 0;
    while ((ev = next(t, 300))) {
        again[ev->msg.ptr[0] - 'a'][atoi(ev->msg.ptr + 1)]++;
        resumed++;
    }
    /* Exactly the lines from the cut on: read before with seq >= cut, or
     * never read. Each file resumes at a line boundary, in order. */
    assert_int_equal(resumed, 2000 - (cut - 1));
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < 1000; i++)
            assert_true(again[f][i] <= 1);
    ll_tail_close(t);
    ll_checkpoints_free(loaded, n_loaded);
    struct stat st;
    char ck[700];
    snprintf(ck, sizeof ck, "%s", ckdir);
    assert_int_equal(stat(ck, &st), 0);
    free(a);
    free(b);
    free(ckdir);
}

/* Reads @p path from the checkpoint at cut @p seq of @p t; @returns how
 * many events come again and whether @p msg is among them. */
static size_t resume_at(ll_tail *t, const char *path, uint64_t seq, const char *msg, bool *found)
{
    const struct ll_tail_pos *pos;
    size_t n = ll_tail_positions(t, seq, &pos);
    assert_int_equal(n, 1);
    ll_tail *again = open_tail(path, pos, n, 5 * LL_NS_PER_SEC);
    const struct ll_event *ev;
    size_t count = 0;
    *found = false;
    while ((ev = next(again, 300))) {
        count++;
        *found |= ev->msg.len == strlen(msg) && memcmp(ev->msg.ptr, msg, ev->msg.len) == 0;
    }
    ll_tail_close(again);
    return count;
}

/* A file read alone can still be cut in the middle, but never while a piece
 * of a split line waits for its end: resuming there would lose the piece. */
static void a_single_file_is_cut_between_split_lines_only(void **state)
{
    (void)state;
    char *plain = path_of("alone.log");
    for (int i = 0; i < 1200; i++) {
        char line[64];
        snprintf(line, sizeof line, "{\"time\":%d,\"msg\":\"%d\"}\n", i, i);
        append(plain, line);
    }
    ll_tail *t = open_tail(plain, NULL, 0, 5 * LL_NS_PER_SEC);
    for (int i = 0; i < 1200; i++)
        assert_non_null(next(t, 500));
    uint64_t cut = ll_tail_cut(t, 1000);
    assert_true(cut > 1 && cut <= 1000);
    bool found;
    assert_int_equal(resume_at(t, plain, cut, "999", &found), 1200 - (cut - 1));
    assert_true(found);
    ll_tail_close(t);

    char *cri = path_of("split.log");
    append(cri, "2026-11-27T10:00:00Z stderr P {\"msg\":\"jo\n");
    for (int i = 0; i < 1200; i++) {
        char line[96];
        snprintf(line, sizeof line, "2026-11-27T10:00:01Z stdout F {\"msg\":\"%d\"}\n", i);
        append(cri, line);
    }
    append(cri, "2026-11-27T10:00:02Z stderr F ined\"}\n");
    t = open_tail(cri, NULL, 0, 5 * LL_NS_PER_SEC);
    for (int i = 0; i < 1201; i++)
        assert_non_null(next(t, 500));
    assert_int_equal(ll_tail_cut(t, 1000), 1); /* the piece was held all along */
    assert_int_equal(resume_at(t, cri, 1, "joined", &found), 1201);
    assert_true(found);
    ll_tail_close(t);
    free(plain);
    free(cri);
}

/* Issue 19: a backlog over many files (a first start, a restart behind its
 * checkpoint) is read merged by event time, as replay reads it, not a file
 * at a time; a crash report without a time at the head of a file takes the
 * time of the line after it, not the clock's; and every boundary cut of a
 * merged read resumes exactly. */
static void a_backlog_over_many_files_is_read_merged_by_event_time(void **state)
{
    (void)state;
    enum { FILES = 12, LINES = 300 };
    char pattern[600];
    snprintf(pattern, sizeof pattern, "%s/merge/*.log", dir);
    char *sub = path_of("merge");
    assert_int_equal(mkdir(sub, 0700), 0);
    for (int f = 0; f < FILES; f++) {
        char name[64];
        snprintf(name, sizeof name, "merge/svc-%02d.log", f);
        char *p = path_of(name);
        if (f == 3)
            append(p, "FATAL ERROR: Reached heap limit\n");
        for (int i = 0; i < LINES; i++) {
            char line[96];
            snprintf(line, sizeof line, "{\"time\":%d,\"msg\":\"%d/%d\"}\n",
                     1000 + i * FILES + (f * 7) % FILES, f, i);
            append(p, line);
        }
        free(p);
    }
    ll_tail *t = open_tail(pattern, NULL, 0, 5 * LL_NS_PER_SEC);
    int64_t last = 0;
    int n = 0;
    const struct ll_event *ev;
    while ((ev = next(t, 300))) {
        if (ev->flags & LL_EV_RAW) /* before its file's first line: that line's time */
            assert_true(ev->ts_ns == (1000 + (3 * 7) % FILES) * LL_NS_PER_SEC);
        assert_true(ev->ts_ns >= last);
        last = ev->ts_ns;
        n++;
    }
    assert_int_equal(n, FILES * LINES + 1);
    /* Cut anywhere: each file resumes at its first event at or after the
     * cut, so reading again from there gives exactly the events after it. */
    for (uint64_t want = 2; want <= (uint64_t)n; want += 397) {
        uint64_t cut = ll_tail_cut(t, want);
        assert_true(cut <= want && want - cut < 512);
        const struct ll_tail_pos *pos;
        size_t k = ll_tail_positions(t, cut, &pos);
        assert_int_equal(k, FILES);
        ll_tail *again = open_tail(pattern, pos, k, 5 * LL_NS_PER_SEC);
        int m = 0;
        while (next(again, 100))
            m++;
        assert_int_equal(m, n - (int)(cut - 1));
        ll_tail_close(again);
    }
    ll_tail_close(t);
    free(sub);
}

/* ------------------------------------------------------------------------ */
/* Container framing                                                         */

static void container_logs_are_deframed_and_named(void **state)
{
    (void)state;
    char *cri = path_of("agent-7d9f6c5b8-x2kqp_agents_worker-"
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log");
    append(cri, "2026-11-27T10:00:00.123456789Z stdout P {\"level\":30,\"msg\":\"hel\n"
                "2026-11-27T10:00:00.123456789Z stdout F lo\"}\n"
                "2026-11-27T10:00:01.000000000Z stderr F {\"msg\":\"no time\"}\n");
    ll_tail *t = open_tail(cri, NULL, 0, 5 * LL_NS_PER_SEC);
    const struct ll_event *ev = next(t, 500);
    assert_non_null(ev);
    assert_int_equal(ev->msg.len, 5);
    assert_memory_equal(ev->msg.ptr, "hello", 5);
    assert_int_equal(ev->service.len, 6);
    assert_memory_equal(ev->service.ptr, "worker", 6); /* the container */
    assert_int_equal(ev->pos.offset, 0);
    ev = next(t, 500);
    assert_non_null(ev);
    int64_t want;
    assert_int_equal(ll_time_parse("2026-11-27T10:00:01Z", 20, &want), LL_OK);
    assert_true(ev->ts_ns == want); /* the runtime's time, the line had none */
    assert_false(ev->flags & LL_EV_TIME_INFERRED);
    ll_tail_close(t);
    free(cri);

    char *docker = path_of("docker.log");
    append(docker, "{\"log\":\"{\\\"msg\\\":\\\"caf\\u00e9\\\",\\\"time\\\":5}\\n\",\"stream\":"
                   "\"stdout\",\"time\":\"2026-11-27T10:00:00Z\"}\n");
    t = open_tail(docker, NULL, 0, 5 * LL_NS_PER_SEC);
    ev = next(t, 500);
    assert_non_null(ev);
    assert_int_equal(ev->msg.len, 5);
    assert_memory_equal(ev->msg.ptr, "caf\xc3\xa9", 5);
    assert_true(ev->ts_ns == 5 * LL_NS_PER_SEC);
    ll_tail_close(t);
    free(docker);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(follows_a_growing_file_and_holds_a_partial_line),
        cmocka_unit_test(one_big_write_is_read_without_waiting),
        cmocka_unit_test(rotation_by_rename_under_load),
        cmocka_unit_test(rotation_by_copytruncate_under_load),
        cmocka_unit_test(resumes_from_a_checkpoint_without_loss_or_repeat),
        cmocka_unit_test(a_single_file_is_cut_between_split_lines_only),
        cmocka_unit_test(a_backlog_over_many_files_is_read_merged_by_event_time),
        cmocka_unit_test(container_logs_are_deframed_and_named),
    };
    return cmocka_run_group_tests(tests, tmpdir_group_setup, tmpdir_group_teardown);
}
