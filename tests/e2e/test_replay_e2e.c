/* `logloom replay` as a user runs it: the example incident against the
 * checked-in expected output, determinism, filters, dead letters and exit
 * statuses. Set LL_UPDATE_GOLDEN=1 to rewrite the expected files after an
 * intended change of output (and review the diff). */
#define LL_E2E
#include "../testutil.h"

#include <glob.h>
#include <time.h>

static struct run_result run(const char *const *args)
{
    return run_args(logloom, tmpdir, args);
}

static void assert_golden(const char *got, const char *golden_path)
{
    if (getenv("LL_UPDATE_GOLDEN")) {
        FILE *fp = fopen(golden_path, "wb");
        assert_non_null(fp);
        fputs(got, fp);
        fclose(fp);
    }
    char *want = read_file(golden_path, NULL);
    assert_string_equal(got, want);
    free(want);
}

static void incident_jsonl_matches_golden(void **state)
{
    (void)state;
    const char *args[] = {"replay", "--format", "jsonl", "--events", "examples/incident", NULL};
    struct run_result r = run(args);
    assert_int_equal(r.status, 0);
    assert_golden(r.out, "tests/data/incident.golden.jsonl");
    /* The summary on stderr names what was read. */
    assert_non_null(strstr(r.err, "240 events from 15 inputs")); /* 16 of them raw */
    run_result_free(&r);
}

static void incident_text_matches_golden(void **state)
{
    (void)state;
    const char *args[] = {"replay", "--format", "text", "--color", "never", "-q",
                          "--terminal", "workflow finished", "--terminal", "workflow failed",
                          "examples/incident", NULL};
    struct run_result r = run(args);
    assert_int_equal(r.status, 0);
    assert_golden(r.out, "tests/data/incident.golden.txt");
    assert_string_equal(r.err, ""); /* -q: nothing on stderr */
    run_result_free(&r);
}

static void output_does_not_depend_on_argument_order(void **state)
{
    (void)state;
    const char *whole[] = {"replay", "--format", "jsonl", "--events", "-q",
                           "examples/incident", NULL};
    const char *files[] = {"replay", "--format", "jsonl", "--events", "-q",
                           "examples/incident/manager.log",
                           "examples/incident/child-5*.log",
                           "examples/incident/agent-2.log",
                           "examples/incident/child-4*.log",
                           "examples/incident/agent-1.log",
                           "examples/incident/agent-1.log.1.gz",
                           NULL};
    struct run_result a = run(whole), b = run(files);
    assert_int_equal(b.status, 0);
    assert_string_equal(a.out, b.out);
    run_result_free(&a);
    run_result_free(&b);
}

/* Timelines, alerts and the stats record, byte for byte, whatever the batch
 * size and the number of decoding threads; the dead letters too, for one
 * batch size (their order across inputs follows the batches). Over the
 * example, every real-log scenario and the hostile lines (rejects, raw
 * lines, untimed lines). */
static void output_does_not_depend_on_batch_size_or_threads(void **state)
{
    (void)state;
    char dl[600];
    snprintf(dl, sizeof dl, "%s/dead-threads.jsonl", tmpdir);
    static const char *const batches[] = {"1024", "1", "3"};
    static const char *const threads[] = {"1", "2", "5"};
    char *want_out = NULL;
    for (size_t b = 0; b < 3; b++) {
        char *want_dead = NULL;
        for (size_t t = 0; t < 3; t++) {
            unlink(dl);
            const char *args[] = {"replay", "--format", "jsonl", "--events", "-q",
                                  "--batch-events", batches[b], "--threads", threads[t],
                                  "--dead-letter", dl, "examples/incident", "tests/data/real",
                                  "tests/data/hostile", NULL};
            struct run_result got = run(args);
            assert_int_equal(got.status, 0);
            char *dead = read_file(dl, NULL);
            assert_non_null(dead);
            if (!want_out) {
                want_out = strdup(got.out);
                /* The inputs do hold rejected and raw lines. */
                assert_non_null(strstr(dead, "\"reason\":\"invalid_utf8\""));
                assert_non_null(strstr(dead, "\"reason\":\"not_json\""));
            }
            assert_string_equal(got.out, want_out);
            if (want_dead) {
                assert_string_equal(dead, want_dead);
                free(dead);
            } else {
                want_dead = dead;
            }
            run_result_free(&got);
        }
        free(want_dead);
    }
    free(want_out);
}

/* Every occurrence of @p from in @p s replaced by @p to; a new string. */
static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t n = count_in(s, from), fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(s) + n * tl + 1), *o = out;
    for (const char *p; (p = strstr(s, from)); s = p + fl) {
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        memcpy(o, to, tl);
        o += tl;
    }
    strcpy(o, s);
    return out;
}

/* Issue 19: record ids name what happened, not where it was read from:
 * the same files under another directory (as an archive, or as the
 * daemon's /var/log) give the same alerts and timelines, ids included. */
static void ids_do_not_depend_on_where_the_files_are(void **state)
{
    (void)state;
    char moved[600], cmd[2200];
    snprintf(moved, sizeof moved, "%s/archive/2026-11-24/incident", tmpdir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s/archive' && mkdir -p '%s' && cp examples/incident/* '%s'",
             tmpdir, moved, moved);
    assert_int_equal(system(cmd), 0);
    const char *here[] = {"replay", "--format", "jsonl", "--events", "-q",
                          "examples/incident", NULL};
    const char *there[] = {"replay", "--format", "jsonl", "--events", "-q", moved, NULL};
    struct run_result a = run(here), b = run(there);
    assert_int_equal(b.status, 0);
    assert_non_null(strstr(a.out, "\"type\":\"alert\""));
    char *same = replace_all(b.out, moved, "examples/incident");
    assert_string_equal(same, a.out);
    free(same);
    run_result_free(&a);
    run_result_free(&b);
}

/* The RFC 3339 time of a line: pino's epoch ms in "time", winston's
 * "timestamp"; "" when the line has neither. */
static void line_time(const char *line, char *out, size_t size)
{
    const char *t = strstr(line, "\"time\":"), *iso = strstr(line, "\"timestamp\":\"");
    out[0] = '\0';
    if (iso) {
        iso += 13;
        snprintf(out, size, "%.*s", (int)strcspn(iso, "\""), iso);
        return;
    }
    if (!t || t[7] < '0' || t[7] > '9')
        return;
    long long ms = strtoll(t + 7, NULL, 10);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char day[32];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%03lld000000Z", day, ms % 1000);
}

/* Writes @p line as one docker json-file object, escaped as dockerd does. */
static void docker_line(FILE *fp, const char *line, const char *ts)
{
    fputs("{\"log\":\"", fp);
    for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else if (*p == '<' || *p == '>' || *p == '&')
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fprintf(fp, "\\n\",\"stream\":\"stdout\",\"time\":\"%s\"}\n", ts);
}

/* The example's plain files as a container runtime writes them, in
 * @p fmt ("docker", "cri" or "kubectl") under Kubernetes names below
 * @p dir. A line without a time of its own takes the one before it (at
 * the head of a file, the first after it), as the runtime's clock would
 * be close to. */
static void containerise(const char *fmt, const char *dir)
{
    glob_t g;
    assert_int_equal(glob("examples/incident/*.log", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char name[128], path[1200];
        snprintf(name, sizeof name, "%s", strrchr(g.gl_pathv[i], '/') + 1);
        *strrchr(name, '.') = '\0';
        struct lines l = {0};
        add_file_lines(&l, g.gl_pathv[i]);
        if (!l.n) {
            lines_free(&l);
            continue;
        }
        if (strcmp(fmt, "docker") == 0)
            snprintf(path, sizeof path, "%s/containers/%s-0_fleet_%s-%064zx.log", dir, name, name,
                     i);
        else if (strcmp(fmt, "cri") == 0)
            snprintf(path, sizeof path, "%s/pods/fleet_%s-0_uid%zu/%s/0.log", dir, name, i, name);
        else
            snprintf(path, sizeof path, "%s/%s.log", dir, name);
        char mk[1400];
        snprintf(mk, sizeof mk, "mkdir -p \"$(dirname '%s')\"", path);
        assert_int_equal(system(mk), 0);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        char ts[64] = "";
        for (size_t k = 0; k < l.n && !ts[0]; k++)
            line_time(l.v[k], ts, sizeof ts);
        for (size_t k = 0; k < l.n; k++) {
            char own[64];
            line_time(l.v[k], own, sizeof own);
            if (own[0])
                memcpy(ts, own, sizeof own);
            if (strcmp(fmt, "docker") == 0)
                docker_line(fp, l.v[k], ts);
            else if (strcmp(fmt, "cri") == 0)
                fprintf(fp, "%s stdout F %s\n", ts, l.v[k]);
            else
                fprintf(fp, "%s %s\n", ts, l.v[k]);
        }
        fclose(fp);
        lines_free(&l);
    }
    globfree(&g);
}

/* The ids, rules and services of an output, in order: what must not
 * depend on how the lines were stored. */
static char *answer(const char *out)
{
    static const struct {
        const char *key;
        char end;
    } keys[] = {{"\"id\":\"", '"'}, {"\"rule\":\"", '"'}, {"\"services\":[", ']'}};
    char *a = malloc(strlen(out) + 1), *o = a;
    for (const char *p = out;;) {
        const char *best = NULL, *end = NULL;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const char *q = strstr(p, keys[k].key);
            if (q && (!best || q < best)) {
                best = q;
                end = strchr(q + strlen(keys[k].key), keys[k].end);
            }
        }
        if (!best || !end)
            break;
        memcpy(o, best, (size_t)(end - best));
        o += end - best;
        *o++ = '\n';
        p = end;
    }
    *o = '\0';
    return a;
}

/* Issue 20: a post-mortem on container logs (docker json-file, CRI under
 * /var/log/pods, `kubectl logs --timestamps`) finds what the plain files
 * give: the same workflows and alerts, ids included, services named. */
static void container_archives_replay_as_the_plain_files(void **state)
{
    (void)state;
    char plain[600];
    snprintf(plain, sizeof plain, "%s/plain", tmpdir);
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp examples/incident/*.log '%s'",
             plain, plain, plain);
    assert_int_equal(system(cmd), 0);
    const char *want_args[] = {"replay", "--format", "jsonl", "-q", plain, NULL};
    struct run_result want = run(want_args);
    assert_int_equal(want.status, 0);
    char *want_answer = answer(want.out);
    assert_non_null(strstr(want_answer, "\"rule\":\"heap-oom"));
    static const char *const fmts[] = {"docker", "cri", "kubectl"};
    for (int f = 0; f < 3; f++) {
        char dir[700];
        snprintf(dir, sizeof dir, "%s/k8s-%s", tmpdir, fmts[f]);
        containerise(fmts[f], dir);
        const char *args[] = {"replay", "--format", "jsonl", "-q", dir, NULL};
        struct run_result r = run(args);
        assert_int_equal(r.status, 0);
        char *got = answer(r.out);
        if (strcmp(got, want_answer) != 0)
            fail_msg("%s: the answer differs from the plain files':\n%s\nwant:\n%s", fmts[f], got,
                     want_answer);
        free(got);
        run_result_free(&r);
    }
    free(want_answer);
    run_result_free(&want);
}

static void id_filter_shows_one_workflow(void **state)
{
    (void)state;
    const char *args[] = {"replay", "--format", "jsonl", "-q", "--id",
                          "f453b1ea-15ee-4d7c-b37e-52920e8a7ef6", "examples/incident", NULL};
    struct run_result r = run(args);
    assert_int_equal(r.status, 0);
    char *first_nl = strchr(r.out, '\n');
    assert_non_null(first_nl);
    assert_non_null(strstr(r.out, "\"correlation_id\":\"f453b1ea-15ee-4d7c-b37e-52920e8a7ef6\""));
    assert_non_null(strstr(r.out, "\"status\":\"failed\""));
    /* Only that timeline and its alerts, then the orphan summaries and the
     * stats record. */
    assert_null(strstr(first_nl, "\"type\":\"timeline\""));
    const char *line = first_nl + 1;
    int alerts = 0;
    while (strncmp(line, "{\"type\":\"alert\"", 15) == 0) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        char *id = strstr(line, "\"correlation_id\":\"f453b1ea-15ee-4d7c-b37e-52920e8a7ef6\"");
        assert_true(id != NULL && id < end);
        alerts++;
        line = end + 1;
    }
    assert_int_equal(alerts, 1);
    assert_int_equal(strncmp(line, "{\"type\":\"orphans\"", 17), 0);
    run_result_free(&r);
}

static void time_range_filters_events(void **state)
{
    (void)state;
    const char *args[] = {"replay", "--format", "jsonl", "-q", "--from",
                          "2026-11-24T09:21:00Z", "--to", "2026-11-24T09:22:00Z",
                          "examples/incident", NULL};
    struct run_result r = run(args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "659e69bc-261c-41b0-8b84-b375b7b12b53"));
    assert_null(strstr(r.out, "3eda4544"));
    assert_null(strstr(r.out, "\"filtered\":0}"));
    run_result_free(&r);
}

static void dead_letters_keep_every_rejected_line(void **state)
{
    (void)state;
    char dl[600];
    snprintf(dl, sizeof dl, "%s/dead.jsonl", tmpdir);
    unlink(dl);
    const char *args[] = {"replay", "--format", "jsonl", "-q", "--dead-letter", dl,
                          "examples/incident", NULL};
    struct run_result r = run(args);
    assert_int_equal(r.status, 0);
    char *dead = read_file(dl, NULL);
    int lines = 0;
    for (char *p = dead; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 16);
    assert_non_null(strstr(dead, "\"reason\":\"not_json\",\"source\":\"examples/incident/"
                                 "child-4331.log\""));
    assert_non_null(strstr(dead, "FATAL ERROR: Reached heap limit"));
    struct stat st;
    assert_int_equal(stat(dl, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(dead);
    run_result_free(&r);
}

static void bad_arguments_exit_2_with_a_reason(void **state)
{
    (void)state;
    static const char *const cases[][8] = {
        {"replay", "examples/incident/nope.log", NULL},
        {"replay", "--format", "xml", "examples/incident", NULL},
        {"replay", "--from", "tuesday", "examples/incident", NULL},
        {"replay", "--session-gap", "-5s", "examples/incident", NULL},
        {"replay", "--id-field", "a..b", "examples/incident", NULL},
        {"replay", "--threads", "0", "examples/incident", NULL},
        {"replay", "--threads", "65", "examples/incident", NULL},
        {"replay", NULL},
        {"frobnicate", NULL},
    };
    static const char *const reason[] = {"nope.log: No such file", "unknown format 'xml'",
                                         "'tuesday' is not a time", "not a duration",
                                         "a..b", "--threads takes a count from 1",
                                         "--threads takes at most 64, not '65'",
                                         "no input given", "unknown command"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run_result r = run((const char *const *)cases[i]);
        assert_int_equal(r.status, 2);
        assert_string_equal(r.out, "");
        if (!strstr(r.err, reason[i]))
            fail_msg("case %zu: '%s' not in: %s", i, reason[i], r.err);
        run_result_free(&r);
    }
}

static void input_that_is_not_a_file_exits_2(void **state)
{
    (void)state;
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/pipe.log", tmpdir);
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *args[] = {"replay", fifo, NULL};
    struct run_result r = run(args);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "not a regular file or directory"));
    run_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(incident_jsonl_matches_golden),
        cmocka_unit_test(incident_text_matches_golden),
        cmocka_unit_test(output_does_not_depend_on_argument_order),
        cmocka_unit_test(output_does_not_depend_on_batch_size_or_threads),
        cmocka_unit_test(ids_do_not_depend_on_where_the_files_are),
        cmocka_unit_test(container_archives_replay_as_the_plain_files),
        cmocka_unit_test(id_filter_shows_one_workflow),
        cmocka_unit_test(time_range_filters_events),
        cmocka_unit_test(dead_letters_keep_every_rejected_line),
        cmocka_unit_test(bad_arguments_exit_2_with_a_reason),
        cmocka_unit_test(input_that_is_not_a_file_exits_2),
    };
    return cmocka_run_group_tests(tests, e2e_group_setup, e2e_group_teardown);
}
