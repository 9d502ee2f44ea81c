/* `logloom replay` as a user runs it: the example incident against the
 * checked-in expected output, determinism, filters, dead letters and exit
 * statuses. Set LL_UPDATE_GOLDEN=1 to rewrite the expected files after an
 * intended change of output (and review the diff). */
#include "../testutil.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

struct result {
    int status;
    char *out;
    char *err;
};

static char logloom[1024];
static char tmpdir[512];

static int group_setup(void **state)
{
    (void)state;
    const char *src = getenv("LL_SOURCE_DIR"), *bin = getenv("LL_BINARY_DIR");
    assert_non_null(src);
    assert_non_null(bin);
    assert_int_equal(chdir(src), 0); /* sources in the output are relative to it */
    snprintf(logloom, sizeof logloom, "%s/logloom", bin);
    char *t = make_tmpdir();
    snprintf(tmpdir, sizeof tmpdir, "%s", t);
    free(t);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rm_tree(tmpdir);
    return 0;
}

/* Runs logloom with a NULL-terminated argument list (argv[0] excluded). */
static struct result run(const char *const *args)
{
    const char *argv[64] = {logloom};
    size_t n = 1;
    for (; args[n - 1]; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/stdout", tmpdir);
    snprintf(err_path, sizeof err_path, "%s/stderr", tmpdir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, logloom, &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return (struct result){WEXITSTATUS(st), read_file(out_path, NULL), read_file(err_path, NULL)};
}

static void result_free(struct result *r)
{
    free(r->out);
    free(r->err);
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
    struct result r = run(args);
    assert_int_equal(r.status, 0);
    assert_golden(r.out, "tests/data/incident.golden.jsonl");
    /* The summary on stderr names what was read. */
    assert_non_null(strstr(r.err, "240 events from 15 inputs")); /* 16 of them raw */
    result_free(&r);
}

static void incident_text_matches_golden(void **state)
{
    (void)state;
    const char *args[] = {"replay", "--format", "text", "--color", "never", "-q",
                          "--terminal", "workflow finished", "--terminal", "workflow failed",
                          "examples/incident", NULL};
    struct result r = run(args);
    assert_int_equal(r.status, 0);
    assert_golden(r.out, "tests/data/incident.golden.txt");
    assert_string_equal(r.err, ""); /* -q: nothing on stderr */
    result_free(&r);
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
    struct result a = run(whole), b = run(files);
    assert_int_equal(b.status, 0);
    assert_string_equal(a.out, b.out);
    result_free(&a);
    result_free(&b);
}

static void output_does_not_depend_on_batch_size(void **state)
{
    (void)state;
    const char *base[] = {"replay", "--format", "jsonl", "--events", "-q",
                          "examples/incident", NULL};
    struct result want = run(base);
    static const char *const sizes[] = {"1", "3", "64"};
    for (size_t i = 0; i < 3; i++) {
        const char *args[] = {"replay", "--format", "jsonl", "--events", "-q",
                              "--batch-events", sizes[i], "examples/incident", NULL};
        struct result got = run(args);
        assert_int_equal(got.status, 0);
        assert_string_equal(got.out, want.out);
        result_free(&got);
    }
    result_free(&want);
}

static void id_filter_shows_one_workflow(void **state)
{
    (void)state;
    const char *args[] = {"replay", "--format", "jsonl", "-q", "--id",
                          "f453b1ea-15ee-4d7c-b37e-52920e8a7ef6", "examples/incident", NULL};
    struct result r = run(args);
    assert_int_equal(r.status, 0);
    char *first_nl = strchr(r.out, '\n');
    assert_non_null(first_nl);
    assert_non_null(strstr(r.out, "\"correlation_id\":\"f453b1ea-15ee-4d7c-b37e-52920e8a7ef6\""));
    assert_non_null(strstr(r.out, "\"status\":\"failed\""));
    /* Only that timeline, then the orphan summaries and the stats record. */
    assert_int_equal(strncmp(first_nl + 1, "{\"type\":\"orphans\"", 17), 0);
    assert_null(strstr(first_nl, "\"type\":\"timeline\""));
    result_free(&r);
}

static void time_range_filters_events(void **state)
{
    (void)state;
    const char *args[] = {"replay", "--format", "jsonl", "-q", "--from",
                          "2026-11-24T09:21:00Z", "--to", "2026-11-24T09:22:00Z",
                          "examples/incident", NULL};
    struct result r = run(args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "659e69bc-261c-41b0-8b84-b375b7b12b53"));
    assert_null(strstr(r.out, "3eda4544"));
    assert_null(strstr(r.out, "\"filtered\":0}"));
    result_free(&r);
}

static void dead_letters_keep_every_rejected_line(void **state)
{
    (void)state;
    char dl[600];
    snprintf(dl, sizeof dl, "%s/dead.jsonl", tmpdir);
    unlink(dl);
    const char *args[] = {"replay", "--format", "jsonl", "-q", "--dead-letter", dl,
                          "examples/incident", NULL};
    struct result r = run(args);
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
    result_free(&r);
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
        {"replay", NULL},
        {"frobnicate", NULL},
    };
    static const char *const reason[] = {"nope.log: No such file", "unknown format 'xml'",
                                         "'tuesday' is not a time", "not a duration",
                                         "a..b", "no input given", "unknown command"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct result r = run((const char *const *)cases[i]);
        assert_int_equal(r.status, 2);
        assert_string_equal(r.out, "");
        if (!strstr(r.err, reason[i]))
            fail_msg("case %zu: '%s' not in: %s", i, reason[i], r.err);
        result_free(&r);
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
    struct result r = run(args);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "not a regular file or directory"));
    result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(incident_jsonl_matches_golden),
        cmocka_unit_test(incident_text_matches_golden),
        cmocka_unit_test(output_does_not_depend_on_argument_order),
        cmocka_unit_test(output_does_not_depend_on_batch_size),
        cmocka_unit_test(id_filter_shows_one_workflow),
        cmocka_unit_test(time_range_filters_events),
        cmocka_unit_test(dead_letters_keep_every_rejected_line),
        cmocka_unit_test(bad_arguments_exit_2_with_a_reason),
        cmocka_unit_test(input_that_is_not_a_file_exits_2),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
