/* Hostile input: the built executable on inputs made to break it. Small
 * inputs are committed in tests/data/hostile/; large ones (a 10 MiB line,
 * nesting 100,000 deep, a million correlation ids, gzip cut in half, random
 * bytes, symlink loops, a file it may not read) are made here, in a scratch
 * directory. For every input the test asserts the exit status, that logloom
 * was not killed by a signal, that it finished within a time bound, the
 * counters it printed (exact numbers), the messages with their places, and
 * that the valid lines around the hostile ones still came out.
 *
 * LL_TEST_WRAPPER is put before logloom on every command line, split at
 * spaces (relative paths in it are relative to the source directory), e.g.
 *   LL_TEST_WRAPPER="valgrind --error-exitcode=99 --leak-check=full
 *       --errors-for-leak-kinds=definite,indirect --suppressions=tests/valgrind.supp"
 *       ctest --test-dir build -R test_hostile
 * A memory error or leak then shows as exit status 99. With a wrapper, time
 * bounds are multiplied by LL_TEST_TIME_SCALE (default 40), the million ids
 * become 100,000, and peak memory, which is then the wrapper's, is not
 * compared. LL_TEST_VERBOSE=1 prints each run's time and peak memory. */
#define LL_E2E
#include "../testutil.h"

#include "logloom/core.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#if defined(__SANITIZE_ADDRESS__)
#define LL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LL_ASAN 1
#endif
#endif

#define NOBODY 65534
#define HOSTILE "tests/data/hostile"
#define BOUND 10.0 /* seconds any small input may take (times the scale) */

static const char *wrapper[16];
static size_t n_wrapper;
static char *wrapper_text;
static double scale = 1;

/* ------------------------------------------------------------------------ */
/* Running logloom                                                           */

struct outcome {
    int status;
    double secs;
    long rss_kb; /* peak resident memory of the process (the wrapper's, if any) */
    char *out, *err;
};

static void outcome_free(struct outcome *o)
{
    free(o->out);
    free(o->err);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child: outputs to files, then (@p nobody) the privileges of
 * nobody, then @p env ("NAME=value" or NULL), then the program. */
static void exec_child(char *const *argv, const char *out, const char *err, bool nobody,
                       const char *env)
{
    int in = open("/dev/null", O_RDONLY);
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
        _exit(125);
    if (nobody && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)) {
        dprintf(2, "cannot become nobody: %s\n", strerror(errno));
        _exit(126);
    }
    if (env)
        putenv((char *)env);
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Runs logloom with @p args (NULL-terminated), behind the wrapper if any,
 * as nobody if @p nobody, with @p env added; fails the test if it takes
 * longer than @p bound seconds (times the scale) or is killed by a signal. */
static struct outcome run_full(const char *const *args, double bound, bool nobody,
                               const char *env)
{
    const char *argv[96];
    size_t n = 0;
    for (size_t i = 0; i < n_wrapper; i++)
        argv[n++] = wrapper[i];
    argv[n++] = logloom;
    for (size_t i = 0; args[i] && n < 95; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char out[700], err[700];
    snprintf(out, sizeof out, "%s/run.out", tmpdir);
    snprintf(err, sizeof err, "%s/run.err", tmpdir);
    double t0 = mono_s(), limit = bound * scale;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        exec_child((char *const *)argv, out, err, nobody, env);
    int st;
    struct rusage ru;
    pid_t got;
    while ((got = wait4(pid, &st, WNOHANG, &ru)) == 0) {
        if (mono_s() - t0 > limit) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("logloom %s %s did not finish within %.1f s", args[0], args[1] ? args[1] : "",
                     limit);
        }
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    assert_int_equal(got, pid);
    struct outcome o = {.secs = mono_s() - t0, .rss_kb = ru.ru_maxrss};
    o.out = read_file(out, NULL);
    o.err = read_file(err, NULL);
    if (getenv("LL_TEST_VERBOSE"))
        fprintf(stderr, "  %.2fs %6ld kB  logloom %s %s\n", o.secs, o.rss_kb, args[0],
                args[1] ? args[1] : "");
    if (WIFSIGNALED(st))
        fail_msg("logloom was killed by signal %d (%s); stderr:\n%.3000s", WTERMSIG(st),
                 strsignal(WTERMSIG(st)), o.err);
    assert_true(WIFEXITED(st));
    o.status = WEXITSTATUS(st);
    return o;
}

static struct outcome run(const char *const *args, double bound)
{
    return run_full(args, bound, false, NULL);
}

/* The exit status must be @p want; else show why. */
static void expect_status(const struct outcome *o, int want)
{
    if (o->status != want)
        fail_msg("exit status %d, not %d; stderr:\n%.3000s", o->status, want, o->err);
}

static void expect_in(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("'%s' not in:\n%.3000s", want, text);
}

/* The run stopped before any output: exit status 2, nothing printed, and
 * @p want in what it said. Frees @p o. */
static void expect_stopped(struct outcome *o, const char *want)
{
    expect_status(o, 2);
    assert_string_equal(o->out, "");
    expect_in(o->err, want);
    outcome_free(o);
}

/* ------------------------------------------------------------------------ */
/* Reading what it printed                                                   */

struct records {
    yajl_val *v;
    size_t n;
};

/* Every line of @p text parsed as JSON (it must be). */
static struct records parse_records(const char *text)
{
    struct records r = {0};
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        char *line = strndup(p, len), err[256];
        yajl_val v = yajl_tree_parse(line, err, sizeof err);
        if (!v)
            fail_msg("output line is not JSON (%s): %.300s", err, line);
        free(line);
        r.v = realloc(r.v, (r.n + 1) * sizeof *r.v);
        r.v[r.n++] = v;
        p += len + (p[len] == '\n');
    }
    return r;
}

static void records_free(struct records *r)
{
    for (size_t i = 0; i < r->n; i++)
        yajl_tree_free(r->v[i]);
    free(r->v);
}

/* run_full() of @p args, which must exit 0, into *@p o; @returns the
 * records it printed. */
static struct records run_ok_env(const char *const *args, double bound, const char *env,
                                 struct outcome *o)
{
    *o = run_full(args, bound, false, env);
    expect_status(o, 0);
    return parse_records(o->out);
}

static struct records run_ok(const char *const *args, double bound, struct outcome *o)
{
    return run_ok_env(args, bound, NULL, o);
}

/* The environment for a run whose peak memory is measured: under ASan,
 * freed memory waits in a quarantine (256 MB) that is not logloom's. */
static const char *memory_env(void)
{
#ifdef LL_ASAN
    static char env[512];
    const char *asan = getenv("ASAN_OPTIONS");
    snprintf(env, sizeof env, "ASAN_OPTIONS=%s%squarantine_size_mb=1", asan ? asan : "",
             asan && *asan ? ":" : "");
    return env;
#else
    return NULL;
#endif
}

/* Frees what run_ok() gave. */
static void results_free(struct records *r, struct outcome *o)
{
    records_free(r);
    outcome_free(o);
}

static yajl_val field(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};
    return v ? yajl_tree_get(v, path, yajl_t_any) : NULL;
}

static const char *text_of(yajl_val v, const char *key)
{
    yajl_val f = field(v, key);
    return f && YAJL_IS_STRING(f) ? YAJL_GET_STRING(f) : NULL;
}

static long long number_of(yajl_val v, const char *key)
{
    yajl_val f = field(v, key);
    if (!f || !YAJL_IS_INTEGER(f))
        fail_msg("no integer '%s'", key);
    return YAJL_GET_INTEGER(f);
}

static bool is_type(yajl_val v, const char *type)
{
    const char *t = text_of(v, "type");
    return t && strcmp(t, type) == 0;
}

/* The stats record: the last one. */
static yajl_val stats_of(const struct records *r)
{
    assert_true(r->n > 0);
    assert_true(is_type(r->v[r->n - 1], "stats"));
    return r->v[r->n - 1];
}

static long long stat_of(const struct records *r, const char *key)
{
    return number_of(stats_of(r), key);
}

/* Asserts the counters of the stats record @p want names: "key=value"
 * pairs apart by spaces, e.g. "lines=8 events=3". */
static void expect_stats(const struct records *r, const char *want)
{
    char key[64];
    long long v;
    int n;
    const char *p = want;
    for (; sscanf(p, " %63[a-z_]=%lld%n", key, &v, &n) == 2; p += n)
        if (stat_of(r, key) != v)
            fail_msg("stats: %s is %lld, not %lld", key, stat_of(r, key), v);
    assert_true(*p == '\0'); /* all of @p want read */
}

static long long rejected_of(const struct records *r, const char *reason)
{
    return number_of(field(stats_of(r), "rejected"), reason);
}

/* Asserts the rejected counters: not_json, not_object, invalid_utf8,
 * too_long, nul_byte. */
static void expect_rejected(const struct records *r, long long not_json, long long not_object,
                            long long invalid_utf8, long long too_long, long long nul_byte)
{
    assert_int_equal(rejected_of(r, "not_json"), not_json);
    assert_int_equal(rejected_of(r, "not_object"), not_object);
    assert_int_equal(rejected_of(r, "invalid_utf8"), invalid_utf8);
    assert_int_equal(rejected_of(r, "too_long"), too_long);
    assert_int_equal(rejected_of(r, "nul_byte"), nul_byte);
}

/* The events of every timeline of @p corr, in output order, one per line:
 * "<ts> <level or -> <msg>", " (inferred)" when the time was borrowed. */
static char *events_of(const struct records *r, const char *corr)
{
    struct ll_buf b = {0};
    for (size_t i = 0; i < r->n; i++) {
        const char *id = text_of(r->v[i], "correlation_id");
        if (!is_type(r->v[i], "timeline") || !id || strcmp(id, corr) != 0)
            continue;
        yajl_val list = field(r->v[i], "event_list");
        assert_true(list && YAJL_IS_ARRAY(list));
        for (size_t k = 0; k < YAJL_GET_ARRAY(list)->len; k++) {
            yajl_val e = YAJL_GET_ARRAY(list)->values[k];
            const char *level = text_of(e, "level");
            ll_buf_printf(&b, "%s %s %s%s\n", text_of(e, "ts"), level ? level : "-",
                          text_of(e, "msg"), field(e, "time_inferred") ? " (inferred)" : "");
        }
    }
    return b.data ? b.data : strdup("");
}

/* Only the messages of events_of(), joined by '|'. */
static char *messages_of(const struct records *r, const char *corr)
{
    char *events = events_of(r, corr);
    struct ll_buf b = {0};
    for (char *line = strtok(events, "\n"); line; line = strtok(NULL, "\n")) {
        char *msg = strchr(strchr(line, ' ') + 1, ' ') + 1;
        char *inferred = strstr(msg, " (inferred)");
        if (inferred)
            *inferred = '\0';
        ll_buf_printf(&b, "%s%s", b.len ? "|" : "", msg);
    }
    free(events);
    return b.data ? b.data : strdup("");
}

static void expect_messages(const struct records *r, const char *corr, const char *want)
{
    char *got = messages_of(r, corr);
    assert_string_equal(got, want);
    free(got);
}

static void expect_events(const struct records *r, const char *corr, const char *want)
{
    char *got = events_of(r, corr);
    assert_string_equal(got, want);
    free(got);
}

/* The alert record of @p rule for @p corr (NULL: outside any workflow). */
static yajl_val alert_of(const struct records *r, const char *rule, const char *corr)
{
    for (size_t i = 0; i < r->n; i++) {
        const char *id = text_of(r->v[i], "correlation_id");
        if (is_type(r->v[i], "alert") && strcmp(text_of(r->v[i], "rule"), rule) == 0 &&
            (corr ? id && strcmp(id, corr) == 0 : !id))
            return r->v[i];
    }
    fail_msg("no %s alert for %s", rule, corr ? corr : "(none)");
    return NULL;
}

static size_t count_type(const struct records *r, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += is_type(r->v[i], type);
    return n;
}

/* Byte offsets of the lines of @p path (at most @p max). */
static size_t line_offsets(const char *path, uint64_t *offs, size_t max)
{
    size_t len, n = 0;
    char *data = read_file(path, &len);
    for (size_t i = 0; i < len && n < max; i++)
        if (i == 0 || data[i - 1] == '\n')
            offs[n++] = i;
    free(data);
    return n;
}

/* The lines every hostile file here starts and ends with: an info line and
 * an ECONNRESET error of the same workflow, which the built-in pack raises
 * an alert on. Whatever is between them, both must come out. */
static void put_before(FILE *fp, const char *corr)
{
    fprintf(fp, "{\"time\":\"2026-11-24T09:00:00Z\",\"level\":\"info\",\"name\":\"hostile\","
                "\"correlationId\":\"%s\",\"msg\":\"before\"}\n",
            corr);
}

static void put_after(FILE *fp, const char *corr)
{
    fprintf(fp, "{\"time\":\"2026-11-24T09:00:09Z\",\"level\":\"error\",\"name\":\"hostile\","
                "\"correlationId\":\"%s\",\"err\":{\"code\":\"ECONNRESET\",\"message\":"
                "\"read ECONNRESET\"},\"msg\":\"after\"}\n",
            corr);
}

/* The ECONNRESET alert of @p corr, its evidence the "after" line at
 * @p offset of @p source. */
static void expect_after_alert(const struct records *r, const char *corr, const char *source,
                               uint64_t offset)
{
    yajl_val a = alert_of(r, "econnreset", corr);
    assert_int_equal(number_of(a, "count"), 1);
    yajl_val ev = field(a, "evidence");
    assert_true(ev && YAJL_IS_ARRAY(ev) && YAJL_GET_ARRAY(ev)->len == 1);
    assert_string_equal(text_of(YAJL_GET_ARRAY(ev)->values[0], "source"), source);
    assert_int_equal(number_of(YAJL_GET_ARRAY(ev)->values[0], "offset"), offset);
}

/* The committed input @p in has @p lines lines (at most 20), the last of
 * them the "after" line of workflow @p corr, whose alert must be there. */
static void expect_after_last(const struct records *r, const char *corr, const char *in,
                              size_t lines)
{
    uint64_t off[20];
    assert_true(lines <= sizeof off / sizeof *off);
    assert_int_equal(line_offsets(in, off, lines), lines);
    expect_after_alert(r, corr, in, off[lines - 1]);
}

static char *tmp_path(const char *name)
{
    char *p = malloc(strlen(tmpdir) + strlen(name) + 2);
    sprintf(p, "%s/%s", tmpdir, name);
    return p;
}

static FILE *create(const char *path)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    return fp;
}

/* @p open @p n times, @p mid, then @p close @p n times. */
static void put_nested(FILE *fp, const char *open, const char *mid, const char *close, int n)
{
    for (int i = 0; i < n; i++)
        fputs(open, fp);
    fputs(mid, fp);
    for (int i = 0; i < n; i++)
        fputs(close, fp);
}

/* A fixed sequence of bytes that look random (xorshift64*): the same
 * garbage on every machine. */
static uint8_t garbage_byte(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint8_t)((*s * UINT64_C(0x2545F4914F6CDD1D)) >> 56);
}

/* ------------------------------------------------------------------------ */
/* Committed inputs                                                          */

/* run_ok() of `replay --format jsonl --events` of the committed input
 * @p in with the built-in rules and those of HOSTILE/probe.yaml. */
static struct records probe_run(const char *in, struct outcome *o)
{
    const char *args[] = {"replay", "--format", "jsonl", "--events", "--rules", "builtin",
                          "--rules", HOSTILE "/probe.yaml", in, NULL};
    return run_ok(args, BOUND, o);
}

/* A committed input replayed with --events and a dead-letter file: what
 * came out. */
struct dead_run {
    struct outcome o;
    struct records r; /* what it printed */
    uint64_t off[16]; /* the offsets of the input's lines */
    char *dl, *text;  /* the dead-letter file and what it holds */
    struct records d; /* its records */
};

/* Replays @p in, the dead letters to tmpdir/@p corr.dead; it must exit 0
 * having read @p lines lines (all of @p in), @p events of them events, and
 * rejected the others as @p rejected says (expect_rejected()'s counters,
 * in its order). Workflow @p corr must have @p messages and the alert of
 * the last line, and @p dead records must be in the dead-letter file. */
static void replay_dead(struct dead_run *t, const char *in, const char *corr, size_t lines,
                        long long events, const long long rejected[5], const char *messages,
                        size_t dead)
{
    char dl[64];
    snprintf(dl, sizeof dl, "%s.dead", corr);
    t->dl = tmp_path(dl);
    const char *args[] = {"replay", "--format", "jsonl", "--events", "--dead-letter", t->dl,
                          in, NULL};
    t->r = run_ok(args, BOUND, &t->o);
    assert_int_equal(stat_of(&t->r, "lines"), lines);
    assert_int_equal(stat_of(&t->r, "events"), events);
    expect_rejected(&t->r, rejected[0], rejected[1], rejected[2], rejected[3], rejected[4]);
    expect_messages(&t->r, corr, messages);
    assert_true(lines <= sizeof t->off / sizeof *t->off);
    assert_int_equal(line_offsets(in, t->off, lines), lines);
    expect_after_alert(&t->r, corr, in, t->off[lines - 1]);
    t->text = read_file(t->dl, NULL);
    t->d = parse_records(t->text);
    assert_int_equal(t->d.n, dead);
}

static void dead_run_free(struct dead_run *t)
{
    records_free(&t->d);
    free(t->text);
    results_free(&t->r, &t->o);
    free(t->dl);
}

/* A raw NUL is in no valid JSON text: such lines are rejected as nul_byte,
 * wherever the NUL is; an escaped \u0000 is JSON and kept. */
static void nul_bytes_are_rejected_wherever_they_are(void **state)
{
    (void)state;
    struct dead_run t;
    replay_dead(&t, HOSTILE "/nul.log", "nul", 8, 3, (const long long[]){0, 0, 0, 0, 5},
                "before|escaped |after", 5); /* yajl_tree stops at the NUL */
    expect_in(t.o.out, "\"msg\":\"escaped \\u0000 is JSON\"");
    expect_in(t.o.err, "3 events from 1 inputs");
    expect_in(t.o.err, "5 lines rejected (nul_byte 5), 5 written to ");
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(text_of(t.d.v[i], "reason"), "nul_byte");
        assert_string_equal(text_of(t.d.v[i], "source"), HOSTILE "/nul.log");
        assert_int_equal(number_of(t.d.v[i], "offset"), t.off[i + 1]);
        assert_string_equal(text_of(t.d.v[i], "detail"), "NUL byte in line");
    }
    expect_in(t.text, "\"line\":\"\\u0000\\u0000\\u0000\"");
    dead_run_free(&t);
}

/* Bytes that are not UTF-8 reject their line as invalid_utf8, in a string
 * or outside one: overlong forms (C0 AF), lead bytes past U+10FFFF (F5),
 * lone continuation bytes, surrogates (ED A0 80), a cut sequence, in a key.
 * yajl alone let overlong forms, F5 and surrogates through. An escaped lone
 * surrogate is valid JSON text: kept, and written as U+FFFD. */
static void invalid_utf8_is_rejected_in_strings_and_outside(void **state)
{
    (void)state;
    struct dead_run t;
    replay_dead(&t, HOSTILE "/utf8.log", "utf8", 12, 5, (const long long[]){0, 0, 7, 0, 0},
                "before|after a byte-order mark|lone low surrogate "
                "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD escaped|"
                "valid \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80|after",
                7);
    expect_in(t.o.err, "7 lines rejected (invalid_utf8 7)");
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(text_of(t.d.v[i], "reason"), "invalid_utf8");
        assert_int_equal(number_of(t.d.v[i], "offset"), t.off[i + 1]);
        assert_string_equal(text_of(t.d.v[i], "detail"), "invalid UTF-8");
        assert_non_null(text_of(t.d.v[i], "line_base64")); /* the bytes, as they were */
        assert_null(field(t.d.v[i], "line"));
    }
    dead_run_free(&t);
}

/* Numbers beyond what the fields hold are not taken for them: such a time
 * is no time (the line borrows the previous one's, counted in
 * time_inferred), such a level no level, such a pid no pid. A time that
 * underflows to 0 is the epoch (and so a late event here). */
static void overflowing_numbers_are_not_times_levels_or_pids(void **state)
{
    (void)state;
    struct outcome o;
    struct records r = probe_run(HOSTILE "/numbers.log", &o);
    expect_stats(&r, "events=19 time_inferred=5 late=1");
    expect_rejected(&r, 0, 0, 0, 0, 0);
    expect_events(&r, "num", "2026-11-24T09:00:00Z info before\n"
                             "2026-11-24T09:00:00Z - time 1e999999 (inferred)\n"
                             "2026-11-24T09:00:00Z - time 99999999999999999999999 (inferred)\n"
                             "2026-11-24T09:00:00Z - time -0 (inferred)\n"
                             "2026-11-24T09:00:00Z - time -1e999999 (inferred)\n"
                             "2026-11-24T09:00:00Z - time 1.7e308 (inferred)\n"
                             "2026-11-24T09:00:01Z - level 1e999999\n"
                             "2026-11-24T09:00:01Z - level 99999999999999999999999\n"
                             "2026-11-24T09:00:01Z - level -0\n"
                             "2026-11-24T09:00:01Z - level -1e-999999\n"
                             "2026-11-24T09:00:09Z error after\n");
    expect_in(o.out, "{\"type\":\"late\",\"timeline_id\":null,\"correlation_id\":\"num\","
                     "\"ts\":\"1970-01-01T00:00:00Z\"");
    static const char *const summary[][2] = {
        {"num-pid1", "pid 99999999999999999999999: pid=- child=- exit=- errno=- code=-"},
        {"num-pid2", "pid 1e999999: pid=- child=- exit=- errno=- code=-"},
        {"num-pid3", "pid -0: pid=0 child=- exit=- errno=- code=-"},
        {"num-pid4", "pid -9223372036854775808: pid=- child=- exit=- errno=- code=-"},
        {"num-pid5", "childPid 9223372036854775807: pid=- child=- exit=- errno=- code=-"},
        {"num-pid6", "exitCode -99999999999999999999: pid=- child=- exit=- errno=- code=-"},
        {"num-pid7", "errno 1e999999: pid=- child=- exit=- errno=- code=1e999999"},
    };
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(text_of(alert_of(&r, "numbers", summary[i][0]), "summary"),
                            summary[i][1]);
    expect_after_last(&r, "num", HOSTILE "/numbers.log", 19);
    results_free(&r, &o);
}

/* Of two values of one key the last wins, as with JSON.parse: the id, the
 * level, the message, the time, and a json.* path a summary reads. */
static void duplicate_keys_take_the_last_value(void **state)
{
    (void)state;
    struct outcome o;
    struct records r = probe_run(HOSTILE "/duplicates.log", &o);
    expect_stats(&r, "events=7 timelines=1");
    expect_events(&r, "dup", "2026-11-24T09:00:00Z info before\n"
                             "2026-11-24T09:00:01Z - two ids\n"
                             "2026-11-24T09:00:02Z info two levels\n"
                             "2026-11-24T09:00:03Z - second message\n"
                             "2026-11-24T09:00:04Z - two reasons\n"
                             "2026-11-24T09:00:06Z - two times\n"
                             "2026-11-24T09:00:09Z error after\n");
    assert_null(strstr(o.out, "dup-first"));
    assert_string_equal(text_of(alert_of(&r, "reason", "dup"), "summary"), "reason=second");
    expect_after_last(&r, "dup", HOSTILE "/duplicates.log", 7);
    results_free(&r, &o);
}

/* Arrays, strings, numbers, true, false and null on a line are JSON but not
 * an object; two values on a line, or a value and garbage, are not_json
 * (and, not being JSON, reach the rules as raw events of the workflow
 * before them). An empty object is an event of no workflow: an orphan. */
static void json_that_is_not_one_object_is_rejected_by_kind(void **state)
{
    (void)state;
    struct dead_run t;
    replay_dead(&t, HOSTILE "/toplevel.log", "top", 15, 6, (const long long[]){3, 9, 0, 0, 0},
                "before|{\"a\":1} {\"b\":2}|{\"a\":1}{\"b\":2}|{\"a\":1} x|after", 12);
    expect_stats(&t.r, "raw_events=3 orphans=1");
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(text_of(t.d.v[i], "reason"), "not_object");
        assert_int_equal(number_of(t.d.v[i], "offset"), t.off[i + 1]);
        assert_string_equal(text_of(t.d.v[i], "detail"), "the line is JSON but not an object");
    }
    assert_string_equal(text_of(t.d.v[9], "detail"), "more than one JSON value on the line");
    assert_string_equal(text_of(t.d.v[10], "detail"), "more than one JSON value on the line");
    assert_string_equal(text_of(t.d.v[11], "detail"),
                        "lexical error: invalid char in json text. at byte 9");
    assert_int_equal(number_of(t.d.v[11], "offset"), t.off[12]);
    dead_run_free(&t);
}

/* Times logloom cannot hold (it keeps int64 nanoseconds: 1677-09-21 to
 * 2262-04-11) or that are no date (year 0, month 13, February 30, hour 24,
 * a zone of +99:00, negative epochs) are no time: the line borrows the
 * previous line's. A leap second is the next second. The first and last
 * instants that fit are kept as they are, and the arithmetic on them (the
 * gap, the lateness, the rules' windows) holds at the ends of the range
 * instead of overflowing: before, the last instant plus the session gap
 * wrapped around and made that line late, and a first line at the first
 * instant made every later line late. */
static void timestamps_out_of_range_are_no_time_and_the_extremes_hold(void **state)
{
    (void)state;
    const char *args[] = {"replay", "--format", "jsonl", "--events", HOSTILE "/timestamps.log",
                          NULL};
    struct outcome o;
    struct records r = run_ok(args, BOUND, &o);
    expect_stats(&r, "events=15 time_inferred=10 timelines=14 late=1");
    static const char *const inferred[][2] = {
        {"ts-year1", "year 1"},         {"ts-year9999", "year 9999"},
        {"ts-year0", "year 0"},         {"ts-year10000", "year 10000"},
        {"ts-month13", "month 13"},     {"ts-feb30", "February 30"},
        {"ts-hour24", "hour 24"},       {"ts-zone", "zone +99:00"},
        {"ts-ms", "epoch ms beyond int64"}, {"ts-neg", "negative epoch ms"},
    };
    for (size_t i = 0; i < sizeof inferred / sizeof *inferred; i++) {
        char want[128];
        snprintf(want, sizeof want, "2026-11-24T23:59:50Z - %s (inferred)\n", inferred[i][1]);
        expect_events(&r, inferred[i][0], want);
    }
    expect_events(&r, "ts-leap", "2026-11-25T00:00:00Z - leap second\n");
    expect_events(&r, "ts-max", "2262-04-11T23:47:16.854775807Z - last instant\n");
    expect_in(o.out, "{\"type\":\"late\",\"timeline_id\":null,\"correlation_id\":\"ts-min\","
                     "\"ts\":\"1677-09-21T00:12:43.145224193Z\"");
    expect_events(&r, "ts", "2026-11-24T23:59:50Z info before\n"
                            "2262-04-11T23:47:16.854775807Z error after\n");
    expect_after_last(&r, "ts", HOSTILE "/timestamps.log", 15);
    results_free(&r, &o);

    /* The same instants with every kind of rule state and link in play:
     * nothing overflows, and both ends give the same workflows. */
    for (size_t k = 0; k < 2; k++) {
        char *path = tmp_path(k ? "late-end.log" : "early-end.log");
        FILE *fp = create(path);
        static const char *const lines[] = {
            "\"level\":30,\"name\":\"agent-1\",\"pid\":900,\"correlationId\":\"X\","
            "\"childPid\":4312,\"msg\":\"child spawned\"",
            "\"level\":30,\"name\":\"worker\",\"pid\":4312,\"msg\":\"child says hi\"",
            "\"level\":50,\"name\":\"agent-1\",\"correlationId\":\"X\",\"err\":{\"code\":"
            "\"ECONNRESET\"},\"msg\":\"call failed\"",
            "\"level\":50,\"name\":\"agent-1\",\"correlationId\":\"X\",\"err\":{\"code\":"
            "\"ECONNRESET\"},\"msg\":\"call failed\"",
            "\"level\":40,\"name\":\"manager\",\"agent\":\"agent-2\","
            "\"msg\":\"agent heartbeat missed\"",
            "\"level\":40,\"name\":\"manager\",\"agent\":\"agent-2\","
            "\"msg\":\"agent heartbeat missed\"",
            "\"level\":30,\"name\":\"agent-1\",\"correlationId\":\"X\","
            "\"msg\":\"workflow finished\"",
        };
        for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
            char ts[64];
            snprintf(ts, sizeof ts,
                     k ? "2262-04-11T23:47:16.8547757%02dZ" : "1677-09-21T00:12:43.1452242%02dZ",
                     (int)i);
            fprintf(fp, "{\"time\":\"%s\",%s}\n", ts, lines[i]);
        }
        fclose(fp);
        const char *argv[] = {"replay", "--format", "jsonl", "--events", "--terminal",
                              "workflow finished", "--max-span", "1ms", path, NULL};
        r = run_ok(argv, BOUND, &o);
        expect_stats(&r, "timelines=1 late=0");
        expect_messages(&r, "X", "child spawned|child says hi|call failed|call failed|"
                                 "workflow finished");
        assert_int_equal(number_of(alert_of(&r, "econnreset", "X"), "count"), 2);
        alert_of(&r, "correlation-lost", "X");
        alert_of(&r, "ws-ghost-heartbeat", NULL);
        results_free(&r, &o);
        free(path);
    }
}

/* ------------------------------------------------------------------------ */
/* Made here                                                                 */

/* A 10 MiB line is rejected as too_long (reported with its length and
 * place, its first KiB kept in the dead letter) and skipped without being
 * held: memory does not grow by its size. A JSON line, a raw one, and one
 * the file ends in without a newline. With a limit above it, it is an
 * event, its message cut to what an event keeps. */
static void a_10_mib_line_is_too_long_and_not_held(void **state)
{
    (void)state;
    const size_t big = (size_t)10 << 20;
    char *fill = malloc(big);
    char *one = tmp_path("big.log"), *two = tmp_path("big-tail.log"), *dl = tmp_path("big.dead");
    FILE *fp = create(one);
    put_before(fp, "big");
    uint64_t json_at = (uint64_t)ftell(fp);
    memset(fill, 'x', big);
    fprintf(fp, "{\"time\":\"2026-11-24T09:00:01Z\",\"correlationId\":\"big\",\"msg\":\"");
    fwrite(fill, 1, big, fp);
    fprintf(fp, "\"}\n");
    uint64_t raw_at = (uint64_t)ftell(fp);
    memset(fill, 'y', big);
    fwrite(fill, 1, big, fp);
    fputc('\n', fp);
    uint64_t after_at = (uint64_t)ftell(fp);
    put_after(fp, "big");
    fclose(fp);
    fp = create(two);
    put_before(fp, "big-tail");
    put_after(fp, "big-tail");
    uint64_t tail_at = (uint64_t)ftell(fp);
    fputs("{\"msg\":\"", fp);
    fwrite(fill, 1, big, fp); /* and no newline: the file ends */
    uint64_t tail_end = (uint64_t)ftell(fp);
    fclose(fp);

    /* What the same run costs without the long lines. */
    char *small = tmp_path("small.log");
    fp = create(small);
    put_before(fp, "small");
    put_after(fp, "small");
    fclose(fp);
    const char *base_args[] = {"replay", "--format", "jsonl", "--events", small, NULL};
    struct outcome base = run_full(base_args, BOUND, false, memory_env());
    expect_status(&base, 0);

    const char *args[] = {"replay", "--format", "jsonl", "--events", "--dead-letter", dl, one,
                          two, NULL};
    struct outcome o;
    struct records r = run_ok_env(args, BOUND, memory_env(), &o);
    expect_stats(&r, "lines=7 events=4");
    expect_rejected(&r, 0, 0, 0, 3, 0);
    expect_messages(&r, "big", "before|after");
    expect_messages(&r, "big-tail", "before|after");
    expect_after_alert(&r, "big", one, after_at);
    expect_in(o.err, "3 lines rejected (too_long 3)");
    if (!n_wrapper && o.rss_kb - base.rss_kb > 8 * 1024) /* a wrapper's memory is its own */
        fail_msg("a 10 MiB line took %ld kB more memory than none", o.rss_kb - base.rss_kb);

    char *text = read_file(dl, NULL);
    struct records d = parse_records(text);
    assert_int_equal(d.n, 3);
    const char *source[] = {one, one, two};
    uint64_t offset[] = {json_at, raw_at, tail_at};
    uint64_t length[] = {raw_at - json_at - 1, after_at - raw_at - 1, tail_end - tail_at};
    /* In merge order: big-tail's ends the file, which may come first. */
    for (size_t i = 0; i < 3; i++) {
        size_t k = 0;
        while (k < 3 && !(strcmp(text_of(d.v[k], "source"), source[i]) == 0 &&
                          (uint64_t)number_of(d.v[k], "offset") == offset[i]))
            k++;
        if (k == 3)
            fail_msg("no dead letter for %s at %llu", source[i], (unsigned long long)offset[i]);
        char detail[96];
        snprintf(detail, sizeof detail, "line of %llu bytes exceeds the limit",
                 (unsigned long long)length[i]);
        assert_string_equal(text_of(d.v[k], "reason"), "too_long");
        assert_int_equal(number_of(d.v[k], "length"), length[i]);
        assert_true(YAJL_IS_TRUE(field(d.v[k], "truncated")));
        assert_string_equal(text_of(d.v[k], "detail"), detail);
        assert_int_equal(strlen(text_of(d.v[k], "line")), 1024);
    }
    /* One file's in its order. */
    assert_true(strcmp(text_of(d.v[0], "source"), one) != 0 ||
                number_of(d.v[0], "offset") <= number_of(d.v[1], "offset") ||
                strcmp(text_of(d.v[1], "source"), one) != 0);
    records_free(&d);
    free(text);
    results_free(&r, &o);

    const char *roomy[] = {"replay", "--format", "jsonl", "--events", "--max-line-bytes", "16M",
                           one, NULL};
    r = run_ok(roomy, BOUND, &o);
    assert_int_equal(stat_of(&r, "events"), 4); /* the raw line too: not JSON, a raw event */
    expect_rejected(&r, 1, 0, 0, 0, 0);
    char *msgs = messages_of(&r, "big");
    assert_int_equal(strlen(msgs), strlen("before|") + 4096 + 1 + 4096 + strlen("|after"));
    free(msgs);
    expect_after_alert(&r, "big", one, after_at);
    results_free(&r, &o);
    outcome_free(&base);
    unlink(one); /* 31 MB of scratch */
    unlink(two);
    free(small);
    free(fill);
    free(one);
    free(two);
    free(dl);
}

/* Nesting 100,000 deep, of arrays and of objects, complete or cut off: the
 * parser is iterative, and so now is reading a json.* path for a summary
 * (a tree built for it was freed by recursion, and a line 500,000 deep
 * killed logloom with SIGSEGV). A key after a deep value is still found;
 * an unfinished line says where it ended. */
static void deep_nesting_is_parsed_without_recursion(void **state)
{
    (void)state;
    const int deep = 100000, deeper = 500000;
    char *path = tmp_path("deep.log"), *dl = tmp_path("deep.dead");
    FILE *fp = create(path);
    put_before(fp, "deep");
    put_nested(fp, "[", "", "]", deep);
    fputc('\n', fp);
    put_nested(fp, "{\"a\":", "1", "}", deep);
    fputc('\n', fp);
    fputs("{\"time\":\"2026-11-24T09:00:01Z\",\"msg\":\"deep\",\"reason\":\"objects\",\"x\":", fp);
    put_nested(fp, "{\"a\":", "1", "}", deep);
    fputs(",\"correlationId\":\"deep\"}\n", fp);
    fputs("{\"time\":\"2026-11-24T09:00:02Z\",\"msg\":\"deep\",\"reason\":\"arrays\",\"x\":", fp);
    put_nested(fp, "[", "", "]", deeper);
    fputs(",\"correlationId\":\"deep\"}\n", fp);
    uint64_t cut_at = (uint64_t)ftell(fp);
    put_nested(fp, "[", "\n", "", deep); /* cut off */
    put_nested(fp, "{\"a\":", "\n", "", deep);
    uint64_t after_at = (uint64_t)ftell(fp);
    put_after(fp, "deep");
    fclose(fp);

    const char *args[] = {"replay", "--format", "jsonl", "--events", "--rules", "builtin",
                          "--rules", HOSTILE "/probe.yaml", "--dead-letter", dl, path, NULL};
    struct outcome o;
    struct records r = run_ok(args, 3 * BOUND, &o);
    assert_int_equal(stat_of(&r, "lines"), 8);
    assert_int_equal(stat_of(&r, "events"), 7); /* the cut-off lines as raw events */
    expect_rejected(&r, 2, 1, 0, 0, 0);
    assert_int_equal(stat_of(&r, "orphans"), 1); /* the deep object without an id */
    char *msgs = messages_of(&r, "deep");
    assert_int_equal(strncmp(msgs, "before|deep|deep|[[[[", 21), 0);
    assert_int_equal(strcmp(msgs + strlen(msgs) - 6, "|after"), 0);
    free(msgs);
    size_t reasons = 0;
    for (size_t i = 0; i < r.n; i++)
        if (is_type(r.v[i], "alert") && strcmp(text_of(r.v[i], "rule"), "reason") == 0) {
            const char *s = text_of(r.v[i], "summary");
            assert_true(strcmp(s, "reason=objects") == 0 || strcmp(s, "reason=arrays") == 0);
            reasons++;
        }
    assert_int_equal(reasons, 1); /* one workflow, 1 s apart: folded */
    yajl_val folded = alert_of(&r, "reason", "deep");
    assert_int_equal(number_of(folded, "count"), 2);
    assert_string_equal(text_of(folded, "summary"), "reason=objects");
    expect_after_alert(&r, "deep", path, after_at);

    char *text = read_file(dl, NULL);
    struct records d = parse_records(text);
    assert_int_equal(d.n, 3);
    assert_string_equal(text_of(d.v[0], "detail"), "the line is JSON but not an object");
    assert_int_equal(number_of(d.v[1], "offset"), cut_at);
    assert_string_equal(text_of(d.v[1], "detail"), "parse error: premature EOF after byte 100000");
    assert_string_equal(text_of(d.v[2], "detail"), "parse error: premature EOF after byte 500000");
    records_free(&d);
    free(text);
    results_free(&r, &o);
    free(path);
    free(dl);
}

/* 64 KiB of random bytes (a fixed seed) between valid lines: each line of
 * it is rejected (NUL first, then invalid UTF-8, else not JSON), the
 * neighbours are kept. */
static void binary_garbage_is_rejected_line_by_line(void **state)
{
    (void)state;
    char *path = tmp_path("garbage.log");
    FILE *fp = create(path);
    put_before(fp, "garbage");
    uint64_t seed = UINT64_C(0x1096B0A7D5E11CA5);
    for (int i = 0; i < 65536; i++)
        fputc(garbage_byte(&seed), fp);
    fputc('\n', fp);
    uint64_t after_at = (uint64_t)ftell(fp);
    put_after(fp, "garbage");
    fclose(fp);
    const char *args[] = {"replay", "--format", "jsonl", "--events", path, NULL};
    struct outcome o;
    struct records r = run_ok(args, BOUND, &o);
    assert_int_equal(stat_of(&r, "lines"), 2 + 283);
    expect_rejected(&r, 1, 0, 152, 0, 130);
    assert_int_equal(stat_of(&r, "raw_events"), 1);
    assert_int_equal(stat_of(&r, "events"), 2 + 1);
    char *msgs = messages_of(&r, "garbage");
    assert_int_equal(strncmp(msgs, "before|", 7), 0);
    assert_int_equal(strcmp(msgs + strlen(msgs) - 6, "|after"), 0);
    free(msgs);
    expect_after_alert(&r, "garbage", path, after_at);
    expect_in(o.err, "283 lines rejected (not_json 1, invalid_utf8 152, nul_byte 130)");
    results_free(&r, &o);
    free(path);
}

/* A .gz cut in half (made here with zlib) ends its input early: reported
 * with its name and how far it got, counted in input_errors, and the lines
 * before the cut are kept (the one it cut through is not JSON). A .gz of
 * garbage and an empty file are inputs with nothing in them; the other
 * inputs of the run are read as usual, and the run succeeds. */
static void broken_gzip_keeps_what_was_read(void **state)
{
    (void)state;
    struct ll_buf content = {0};
    for (int i = 0; i < 2000; i++)
        ll_buf_printf(&content, "{\"time\":%lld,\"level\":30,\"correlationId\":\"gz\","
                                "\"msg\":\"line %04d of a rotated log\"}\n",
                      1795511900000LL + i, i);
    char *whole = write_gz(tmpdir, "whole.log.gz", content.data, content.len);
    size_t zlen;
    char *z = read_file(whole, &zlen);
    char *cut = write_file(tmpdir, "cut.log.gz", z, zlen / 2);
    uint8_t junk[4096] = {0x1f, 0x8b};
    uint64_t seed = 42;
    for (size_t i = 2; i < sizeof junk; i++)
        junk[i] = garbage_byte(&seed);
    char *garbage = write_file(tmpdir, "garbage.log.gz", junk, sizeof junk);
    char *empty = write_file(tmpdir, "empty.log", "", 0);
    char *plain = tmp_path("plain.log");
    FILE *fp = create(plain);
    put_before(fp, "gz-neighbour");
    uint64_t after_at = (uint64_t)ftell(fp);
    put_after(fp, "gz-neighbour");
    fclose(fp);

    const char *args[] = {"replay", "--format", "jsonl", "--events", "--id", "gz-neighbour",
                          "--id", "gz", cut, garbage, empty, plain, NULL};
    struct outcome o;
    struct records r = run_ok(args, BOUND, &o);
    expect_stats(&r, "inputs=4 input_errors=2");
    char want[1024];
    unsigned long long got = 0;
    snprintf(want, sizeof want, "logloom: error: replay: %s: gzip: unexpected end of file after ",
             cut);
    const char *at = strstr(o.err, want);
    if (!at)
        fail_msg("'%s' not in:\n%s", want, o.err);
    assert_int_equal(sscanf(at + strlen(want), "%llu", &got), 1);
    expect_in(at, " bytes (corrupt or truncated stream); the lines before are kept\n");
    assert_true(got > 0 && got < content.len);
    size_t complete = 0; /* lines whole in what was read */
    for (size_t i = 0; i < got; i++)
        complete += content.data[i] == '\n';
    /* The line the cut went through is not JSON: rejected, and as a raw
     * event it joins the workflow of the lines before it. */
    size_t partial = content.data[got - 1] != '\n';
    yajl_val gz = NULL;
    for (size_t i = 0; i < r.n; i++)
        if (is_type(r.v[i], "timeline") && strcmp(text_of(r.v[i], "correlation_id"), "gz") == 0)
            gz = r.v[i];
    assert_non_null(gz);
    assert_int_equal(number_of(gz, "events"), complete + partial);
    assert_int_equal(rejected_of(&r, "not_json"), partial);
    assert_int_equal(stat_of(&r, "events"), complete + partial + 2);
    snprintf(want, sizeof want, "logloom: error: replay: %s: gzip: ", garbage);
    expect_in(o.err, want);
    expect_in(o.err, " after 0 bytes (corrupt or truncated stream); the lines before are kept\n");
    assert_null(strstr(o.err, "<fd:")); /* zlib's name for the stream: logloom names the file */
    expect_messages(&r, "gz-neighbour", "before|after");
    expect_after_alert(&r, "gz-neighbour", plain, after_at);
    results_free(&r, &o);
    ll_buf_free(&content);
    free(whole);
    free(z);
    free(cut);
    free(garbage);
    free(empty);
    free(plain);
}

/* An input logloom may not read stops the run (exit 2) before any output,
 * naming it. As root, permissions do not stop reads: logloom runs as nobody
 * then (a forked child drops root's privileges), so the file mode really
 * refuses it. Named alone, in a directory, or under a pattern whose
 * directory cannot be listed. */
static void an_unreadable_input_stops_the_run_with_its_name(void **state)
{
    (void)state;
    bool root = geteuid() == 0;
    assert_int_equal(chmod(tmpdir, 0711), 0); /* nobody passes through, lists nothing */
    char *dir = tmp_path("locked"), *file = tmp_path("locked/secret.log");
    assert_int_equal(mkdir(dir, 0755), 0);
    FILE *fp = create(file);
    put_before(fp, "secret");
    fclose(fp);
    assert_int_equal(chmod(file, 0), 0);
    char pattern[700];
    snprintf(pattern, sizeof pattern, "%s/*.log", dir);

    /* Run from a copy here: the build directory may be where nobody cannot
     * reach (under /root). */
    char built[sizeof logloom];
    snprintf(built, sizeof built, "%s", logloom);
    if (root) {
        size_t len;
        char *bin = read_file(built, &len), *copy = write_file(tmpdir, "logloom", bin, len);
        assert_int_equal(chmod(copy, 0755), 0);
        snprintf(logloom, sizeof logloom, "%s", copy);
        free(bin);
        free(copy);
    }

    const char *alone[] = {"replay", "--format", "jsonl", file, NULL};
    struct outcome o = run_full(alone, BOUND, root, NULL);
    if (o.status == 126)
        fail_msg("this test runs as root and cannot become nobody: %s", o.err);
    char want[1024];
    snprintf(want, sizeof want, "logloom replay: %s: Permission denied\n", file);
    expect_stopped(&o, want);

    const char *in_dir[] = {"replay", "--format", "jsonl", dir, NULL};
    o = run_full(in_dir, BOUND, root, NULL);
    expect_stopped(&o, want);

    assert_int_equal(chmod(dir, 0311), 0); /* can be passed, not listed */
    const char *globbed[] = {"replay", "--format", "jsonl", pattern, NULL};
    o = run_full(globbed, BOUND, root, NULL);
    snprintf(want, sizeof want,
             "logloom replay: %s: cannot expand pattern: %s: Permission denied\n", pattern, dir);
    expect_stopped(&o, want);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(chmod(tmpdir, 0700), 0);
    snprintf(logloom, sizeof logloom, "%s", built);
    free(dir);
    free(file);
}

/* A directory loop (a/b -> ..) and a link to itself, in a directory given
 * as input or reached through a pattern, are skipped with a warning naming
 * them, and the real file is read once. (A pattern's matches were taken as
 * named inputs: its link to itself stopped the run with exit 2, though the
 * README says loops are skipped.) Named on its own, the looping link is an
 * input that cannot be read: exit 2. */
static void symlink_loops_are_skipped_with_a_warning(void **state)
{
    (void)state;
    char *root = tmp_path("loop"), *a = tmp_path("loop/a"), *file = tmp_path("loop/a/x.log");
    char *b = tmp_path("loop/a/b"), *self = tmp_path("loop/self");
    assert_int_equal(mkdir(root, 0755), 0);
    assert_int_equal(mkdir(a, 0755), 0);
    FILE *fp = create(file);
    put_before(fp, "loop");
    uint64_t after_at = (uint64_t)ftell(fp);
    put_after(fp, "loop");
    fclose(fp);
    assert_int_equal(symlink("..", b), 0);
    assert_int_equal(symlink("self", self), 0);

    static const struct {
        const char *input, *source; /* under the loop directory */
        const char *warnings[3];    /* paths skipped, and why */
    } cases[] = {
        {"", "/a/x.log", {"/a/b: directory loop", "/self: Too many levels of symbolic links"}},
        {"/*", "/a/x.log",
         {"/a/b/a: directory loop", "/a/b/self: Too many levels of symbolic links",
          "/self: Too many levels of symbolic links"}},
        {"/a/b/a/b/*/*", "/a/b/a/b/a/b/a/x.log",
         {"/a/b/a/b/a/b/a/b: directory loop",
          "/a/b/a/b/a/b/self: Too many levels of symbolic links"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char input[700], source[700];
        snprintf(input, sizeof input, "%s%s", root, cases[i].input);
        snprintf(source, sizeof source, "%s%s", root, cases[i].source);
        const char *args[] = {"replay", "--format", "jsonl", "--events", input, NULL};
        struct outcome o;
        struct records r = run_ok(args, BOUND, &o);
        expect_stats(&r, "inputs=1 events=2");
        expect_messages(&r, "loop", "before|after");
        expect_after_alert(&r, "loop", source, after_at);
        size_t n = 0;
        for (; n < 3 && cases[i].warnings[n]; n++) {
            char want[1024];
            snprintf(want, sizeof want, "logloom: warn: input: %s%s, skipped\n", root,
                     cases[i].warnings[n]);
            expect_in(o.err, want);
        }
        size_t warned = 0;
        for (const char *p = o.err; (p = strstr(p, "logloom: warn: ")); p++)
            warned++;
        assert_int_equal(warned, n);
        results_free(&r, &o);
    }
    const char *named[] = {"replay", "--format", "jsonl", self, NULL};
    struct outcome o = run(named, BOUND);
    char want[1024];
    snprintf(want, sizeof want, "logloom replay: %s: Too many levels of symbolic links\n", self);
    expect_stopped(&o, want);
    free(root);
    free(a);
    free(file);
    free(b);
    free(self);
}

/* A correlation id of 1 MiB: over the default line limit, too_long; with
 * room for it, its workflow is kept under the first 64 KiB of the id (what
 * a workflow records: a longer one, compared whole but stored cut, crashed
 * the correlator with SIGSEGV). Ids alike in their first 64 KiB are one
 * workflow. */
static void a_1_mib_correlation_id_is_kept_to_64_kib(void **state)
{
    (void)state;
    const size_t len = (size_t)1 << 20;
    char *id = malloc(len + 1);
    memset(id, 'k', len);
    id[len] = '\0';
    char *path = tmp_path("big-id.log");
    FILE *fp = create(path);
    fprintf(fp, "{\"time\":\"2026-11-24T09:00:00Z\",\"correlationId\":\"%s\",\"msg\":\"before\"}\n",
            id);
    fprintf(fp, "{\"time\":\"2026-11-24T09:00:01Z\",\"correlationId\":\"%s\",\"msg\":\"again\"}\n",
            id);
    id[len - 1] = 'z'; /* differs past 64 KiB */
    fprintf(fp, "{\"time\":\"2026-11-24T09:00:02Z\",\"correlationId\":\"%s\",\"msg\":\"alike\"}\n",
            id);
    uint64_t after_at = (uint64_t)ftell(fp);
    fprintf(fp, "{\"time\":\"2026-11-24T09:00:09Z\",\"level\":\"error\",\"correlationId\":\"%s\","
                "\"err\":{\"code\":\"ECONNRESET\"},\"msg\":\"after\"}\n",
            id);
    fclose(fp);

    const char *strict[] = {"replay", "--format", "jsonl", path, NULL};
    struct outcome o;
    struct records r = run_ok(strict, BOUND, &o);
    expect_rejected(&r, 0, 0, 0, 4, 0);
    assert_int_equal(stat_of(&r, "events"), 0);
    results_free(&r, &o);

    const char *roomy[] = {"replay", "--format", "jsonl", "--events", "--max-line-bytes", "2M",
                           path, NULL};
    r = run_ok(roomy, BOUND, &o);
    expect_stats(&r, "events=4 timelines=1");
    id[UINT16_MAX] = '\0';
    expect_messages(&r, id, "before|again|alike|after");
    yajl_val a = alert_of(&r, "econnreset", id);
    expect_after_alert(&r, id, path, after_at);
    yajl_val tl = NULL;
    for (size_t i = 0; i < r.n; i++)
        if (is_type(r.v[i], "timeline"))
            tl = r.v[i];
    yajl_val alerts = field(tl, "alerts");
    assert_true(alerts && YAJL_GET_ARRAY(alerts)->len == 1);
    assert_string_equal(YAJL_GET_STRING(YAJL_GET_ARRAY(alerts)->values[0]), text_of(a, "id"));
    results_free(&r, &o);
    free(path);
    free(id);
}

/* A million distinct correlation ids in one instant, with --max-open 1000:
 * never more than 1000 workflows open, the rest evicted (and counted), and
 * memory does not grow with the number of ids: the tombs that remember
 * closed workflows grew without bound while event time stood still (10,000
 * and a million ids took 11 and 120 MB). Under a wrapper 100,000 ids. */
static void a_million_ids_stay_within_max_open(void **state)
{
    (void)state;
    const int n_big = n_wrapper ? 100000 : 1000000, n_small = 10000;
    char *big = tmp_path("ids.log"), *small = tmp_path("ids-small.log");
    FILE *fp = create(big), *fs = create(small);
    for (int i = 0; i < n_big; i++) {
        fprintf(fp, "{\"time\":1795511900000,\"correlationId\":\"id-%07d\"}\n", i);
        if (i < n_small)
            fprintf(fs, "{\"time\":1795511900000,\"correlationId\":\"id-%07d\"}\n", i);
    }
    fclose(fp);
    fclose(fs);
    const char *env = memory_env();
    long rss[2];
    const int counts[2] = {n_small, n_big};
    const char *paths[2] = {small, big};
    for (size_t k = 0; k < 2; k++) {
        /* --id: only one timeline printed, and the stats. */
        const char *args[] = {"replay", "--format", "jsonl", "-q", "--no-rules", "--max-open",
                              "1000", "--id", "id-0000000", paths[k], NULL};
        struct outcome o = run_full(args, 60, false, env);
        expect_status(&o, 0);
        struct records r = parse_records(o.out);
        assert_int_equal(stat_of(&r, "events"), counts[k]);
        assert_int_equal(stat_of(&r, "timelines"), counts[k]);
        assert_int_equal(stat_of(&r, "open_max"), 1000);
        assert_int_equal(stat_of(&r, "evicted"), counts[k] - 1000);
        assert_int_equal(count_type(&r, "timeline"), 1);
        rss[k] = o.rss_kb;
        results_free(&r, &o);
    }
    /* Under a wrapper the memory measured is the wrapper's (valgrind keeps
     * 20 MB of freed blocks); the counters above still hold. */
    if (!n_wrapper && rss[1] - rss[0] > 16 * 1024)
        fail_msg("%d ids took %ld kB, %d ids %ld kB: memory grows with the ids", n_small, rss[0],
                 n_big, rss[1]);
    unlink(big); /* 52 MB of scratch */
    free(big);
    free(small);
}

/* Patterns that backtrack catastrophically, on long runs of one letter:
 * pcre2's match limit stops each test, the run finishes in seconds, and
 * every stop is counted (regex_limit_hits) and told in the summary. The
 * lines around match as usual. */
static void catastrophic_regexes_stop_at_the_match_limit(void **state)
{
    (void)state;
    const char *rules = HOSTILE "/redos.yaml";
    const char *lint[] = {"rules", "lint", rules, NULL};
    struct outcome o = run(lint, BOUND);
    expect_status(&o, 0);
    outcome_free(&o);
    const char *test[] = {"rules", "test", rules, NULL};
    o = run(test, BOUND);
    expect_status(&o, 0);
    expect_in(o.out, "2 rules, 4 examples, 0 failed");
    outcome_free(&o);

    /* The first line too: the first lines of a file are decoded twice (once
     * to find the file's first time), and the rules ran and counted there. */
    char *path = tmp_path("redos.log");
    FILE *fp = create(path);
    char run_of[5001];
    memset(run_of, 'a', 5000);
    run_of[5000] = '\0';
    for (int i = 0; i < 20; i++) {
        fprintf(fp, "{\"time\":\"2026-11-24T09:00:01Z\",\"correlationId\":\"redos\","
                    "\"msg\":\"%s!\"}\n",
                run_of);
        if (i == 0)
            fputs("{\"time\":\"2026-11-24T09:00:01Z\",\"correlationId\":\"redos\","
                  "\"msg\":\"aaa\"}\n",
                  fp);
    }
    /* The x's then "zy" backtrack; "y" then the x's do not even start: pcre2
     * sees no y after any x. */
    memset(run_of, 'x', 5000);
    fprintf(fp, "{\"time\":\"2026-11-24T09:00:02Z\",\"correlationId\":\"redos\","
                "\"msg\":\"%szy\"}\n",
            run_of);
    fprintf(fp, "{\"time\":\"2026-11-24T09:00:02Z\",\"correlationId\":\"redos\","
                "\"msg\":\"y%s\"}\n",
            run_of);
    fputs("{\"time\":\"2026-11-24T09:00:03Z\",\"correlationId\":\"redos\",\"msg\":\"xxy\"}\n", fp);
    fclose(fp);

    const char *args[] = {"replay", "--format", "jsonl", "--rules", rules, path, NULL};
    o = run(args, 5);
    expect_status(&o, 0);
    struct records r = parse_records(o.out);
    assert_int_equal(stat_of(&r, "events"), 24);
    assert_int_equal(stat_of(&r, "regex_limit_hits"), 20 + 1);
    assert_int_equal(stat_of(&r, "alerts"), 2);
    assert_int_equal(number_of(alert_of(&r, "nested-plus", "redos"), "count"), 1);
    assert_int_equal(number_of(alert_of(&r, "overlapping-plus", "redos"), "count"), 1);
    expect_in(o.err, "; 21 regex tests stopped at pcre2's match limits (no match)\n");
    results_free(&r, &o);
    free(path);
}

/* Typos in keys and values of the wrong type or range, in a daemon's
 * configuration: `check -c` reports each as file:line:column: error: reason
 * and exits 1; the unknown sink scheme too (it passed before), without the
 * password in its URL. */
static void configuration_mistakes_are_reported_with_their_places(void **state)
{
    (void)state;
    static const char *const typos[] = {
        ":4:16: error: unknown source option 'start_att' (did you mean 'start_at'?)\n",
        ":5:12: error: unknown source option 'formt' (did you mean 'format'?)\n",
        ":7:13: error: unknown decode option 'id_field' (did you mean 'id_fields'?)\n",
        ":9:17: error: unknown correlation option 'session_gaps' (did you mean 'session_gap'?)\n",
        ":12:14: error: unknown sink option 'recieve' (did you mean 'receive'?)\n",
        ":13:1: error: unknown key 'rulez' (did you mean 'rules'?)\n",
        NULL,
    };
    static const char *const types[] = {
        ":5:13: error: rescan: 'often' is not a duration (e.g. 500ms, 30s, 5m)\n",
        ":6:22: error: partial_timeout takes one value, not a list\n",
        ":8:19: error: max_line_bytes: '-1M' is not a size (e.g. 1M, 512K)\n",
        ":9:12: error: threads: '100' is not a count from 1 to 64\n",
        ":11:16: error: session_gap: '-30s' is not a duration (e.g. 500ms, 30s, 5m)\n",
        ":12:13: error: max_open: 'many' is not a count from 1 to 4294967295\n",
        ":13:15: error: max_events: '-5' is not a count from 1 to 4294967295\n",
        ":14:20: error: max_events_kept: expected a value or a list of values, not a mapping\n",
        ":17:12: error: sink option batch: '-5' is not a count from 1 to 1000000\n",
        ":18:12: error: sink option queue: 'ten' is not a count from 1 to 1000000\n",
        ":19:10: error: unknown sink 'ftp://logloom:***@example.com/alerts': use postgresql://",
        ":20:10: error: expected a mapping of names to values, or the value of 'listen' alone\n",
        ":21:48: error: interval: 'soon' is not a duration (e.g. 500ms, 30s, 5m)\n",
        ":22:14: error: level: 'loud' is not trace, debug, info, warn, error or fatal\n",
        ":22:28: error: format: 'xml' is not json or text\n",
        ":23:19: error: shutdown_timeout: '-1s' is not a duration (e.g. 500ms, 30s, 5m)\n",
        NULL,
    };
    const char *files[] = {HOSTILE "/config-typos.yaml", HOSTILE "/config-types.yaml"};
    const char *const *expected[] = {typos, types};
    for (size_t f = 0; f < 2; f++) {
        const char *args[] = {"check", "-c", files[f], NULL};
        struct outcome o = run(args, BOUND);
        expect_status(&o, 1);
        size_t n = 0;
        for (; expected[f][n]; n++) {
            char want[512];
            snprintf(want, sizeof want, "%s%s", files[f], expected[f][n]);
            expect_in(o.err, want);
        }
        size_t lines = 0;
        for (const char *p = o.err; (p = strstr(p, ": error: ")); p++)
            lines++;
        assert_int_equal(lines, n); /* each once, nothing else */
        assert_null(strstr(o.err, "hunter2"));
        outcome_free(&o);
    }
    /* `config check` on a replay's configuration finds the sink too. */
    const char *args[] = {"config", "check", HOSTILE "/config-types.yaml", NULL};
    struct outcome o = run(args, BOUND);
    expect_status(&o, 1);
    expect_in(o.err, HOSTILE "/config-types.yaml:19:10: error: unknown sink "
                              "'ftp://logloom:***@example.com/alerts'");
    assert_null(strstr(o.err, "hunter2"));
    outcome_free(&o);
}

/* ------------------------------------------------------------------------ */

static int setup(void **state)
{
    const char *w = getenv("LL_TEST_WRAPPER");
    if (w && *w) {
        wrapper_text = strdup(w);
        for (char *save = NULL, *p = strtok_r(wrapper_text, " ", &save);
             p && n_wrapper < sizeof wrapper / sizeof *wrapper; p = strtok_r(NULL, " ", &save))
            wrapper[n_wrapper++] = p;
        const char *s = getenv("LL_TEST_TIME_SCALE");
        scale = s ? atof(s) : 40;
    }
    return e2e_group_setup(state);
}

static int teardown(void **state)
{
    free(wrapper_text);
    return e2e_group_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nul_bytes_are_rejected_wherever_they_are),
        cmocka_unit_test(invalid_utf8_is_rejected_in_strings_and_outside),
        cmocka_unit_test(overflowing_numbers_are_not_times_levels_or_pids),
        cmocka_unit_test(duplicate_keys_take_the_last_value),
        cmocka_unit_test(json_that_is_not_one_object_is_rejected_by_kind),
        cmocka_unit_test(timestamps_out_of_range_are_no_time_and_the_extremes_hold),
        cmocka_unit_test(a_10_mib_line_is_too_long_and_not_held),
        cmocka_unit_test(deep_nesting_is_parsed_without_recursion),
        cmocka_unit_test(binary_garbage_is_rejected_line_by_line),
        cmocka_unit_test(broken_gzip_keeps_what_was_read),
        cmocka_unit_test(an_unreadable_input_stops_the_run_with_its_name),
        cmocka_unit_test(symlink_loops_are_skipped_with_a_warning),
        cmocka_unit_test(a_1_mib_correlation_id_is_kept_to_64_kib),
        cmocka_unit_test(a_million_ids_stay_within_max_open),
        cmocka_unit_test(catastrophic_regexes_stop_at_the_match_limit),
        cmocka_unit_test(configuration_mistakes_are_reported_with_their_places),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
