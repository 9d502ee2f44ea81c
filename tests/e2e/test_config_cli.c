/* `logloom config` and `replay --config`: the effective configuration is
 * shown with every default and no password; broken files are reported with
 * file:line:column; a run takes its sinks and rules from the file. And
 * `logloom version` names the commit it was built from. */
#define LL_E2E
#include "../testutil.h"

static void show_fills_defaults_and_masks_passwords(void **state)
{
    (void)state;
    char *cfg = write_text(tmpdir, "show.yaml",
                           "sinks:\n"
                           "  - url: postgresql://logloom:hunter2@db/logloom\n"
                           "    receive: [alerts, timelines]\n"
                           "    batch: 200\n"
                           "  - redis://:s3cret@cache:6380/2\n"
                           "rules: [builtin, team-rules]\n");
    const char *args[] = {"config", "show", "--config", cfg, "--sink",
                          "host=db password='x y' dbname=z#linger=1s", NULL};
    struct run_result r = run_args(logloom, tmpdir, args);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, "hunter2"));
    assert_null(strstr(r.out, "s3cret"));
    assert_null(strstr(r.out, "x y"));
    assert_non_null(strstr(r.out, "  - url: \"postgresql://logloom:***@db/logloom\"\n"
                                  "    receive: [alerts, timelines]\n"
                                  "    batch: 200\n"
                                  "    linger: 0s\n"));
    assert_non_null(strstr(r.out, "  - url: \"redis://:***@cache:6380/2\"\n"
                                  "    receive: [alerts]\n"));
    assert_non_null(strstr(r.out, "    maxlen: 1000000\n    dedupe_ttl: 7d\n"));
    assert_non_null(strstr(r.out, "  - url: \"host=db password=*** dbname=z\"\n"));
    assert_non_null(strstr(r.out, "    linger: 1s\n"));
    assert_non_null(strstr(r.out, "rules: [\"builtin\", \"team-rules\"]\n"));
    run_result_free(&r);
    free(cfg);
}

static void show_a_daemon_configuration_with_every_section(void **state)
{
    (void)state;
    char *cfg = write_text(tmpdir, "daemon.yaml",
                           "sources: [/var/log/containers/*.log]\n"
                           "correlation: {session_gap: 45s}\n"
                           "sinks: ['redis://:s3cret@cache/0']\n"
                           "checkpoints: /var/lib/logloom\n");
    const char *args[] = {"config", "show", "--config", cfg, NULL};
    struct run_result r = run_args(logloom, tmpdir, args);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, "s3cret"));
    assert_non_null(strstr(r.out, "sources:\n  - paths: [\"/var/log/containers/*.log\"]\n"
                                  "    exclude: []\n    start_at: head\n    format: auto\n"
                                  "    watch: inotify\n"));
    assert_non_null(strstr(r.out, "  session_gap: 45s\n  allowed_lateness: 5s\n"));
    assert_non_null(strstr(r.out, "metrics: \"127.0.0.1:9464\"\n"));
    assert_non_null(strstr(r.out, "checkpoints:\n  dir: \"/var/lib/logloom\"\n  interval: 5s\n"));
    assert_non_null(strstr(r.out, "shutdown_timeout: 30s\n"));
    assert_non_null(strstr(r.out, "  - url: \"redis://:***@cache/0\"\n"));
    run_result_free(&r);
    free(cfg);
}

/* The deployment examples the README points to are configurations that
 * work, not sketches. */
static void the_deployment_examples_check_clean(void **state)
{
    (void)state;
    const char *files[] = {"examples/deploy/logloom.yaml", "examples/deploy/sidecar.yaml"};
    for (size_t i = 0; i < 2; i++) {
        const char *args[] = {"check", "-c", files[i], NULL};
        struct run_result r = run_args(logloom, tmpdir, args);
        if (r.status != 0)
            fail_msg("%s: %s", files[i], r.err);
        assert_non_null(strstr(r.out, "configuration fine: 1 sources, "));
        run_result_free(&r);
    }
}

static void check_reports_problems_with_their_places(void **state)
{
    (void)state;
    char *cfg = write_text(tmpdir, "bad.yaml",
                           "sinks:\n"
                           "  - url: file:x.jsonl\n"
                           "    bach: 5\n"
                           "    linger: soon\n"
                           "  - receive: alerts\n"
                           "rule: [x]\n");
    const char *args[] = {"config", "check", cfg, NULL};
    struct run_result r = run_args(logloom, tmpdir, args);
    assert_int_equal(r.status, 1);
    char want[800];
    snprintf(want, sizeof want, "%s:3:11: error: unknown sink option 'bach' (did you mean "
                                "'batch'?)", cfg);
    assert_non_null(strstr(r.err, want));
    snprintf(want, sizeof want, "%s:4:13: error: sink option linger: 'soon' is not a duration",
             cfg);
    assert_non_null(strstr(r.err, want));
    snprintf(want, sizeof want, "%s:5:5: error: a sink needs a url", cfg);
    assert_non_null(strstr(r.err, want));
    snprintf(want, sizeof want, "%s:6:1: error: unknown key 'rule' (did you mean 'rules'?)",
             cfg);
    assert_non_null(strstr(r.err, want));
    run_result_free(&r);

    /* A broken file stops a replay before it reads anything. */
    const char *replay[] = {"replay", "--config", cfg, "examples/incident", NULL};
    r = run_args(logloom, tmpdir, replay);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.out, "");
    run_result_free(&r);

    /* A key given twice is a mistake, not a quiet override (found by
     * fuzzing: the first list of rules leaked). */
    char *twice = write_text(tmpdir, "twice.yaml",
                             "rules: [a.yaml]\nsinks: [file:x.jsonl]\nrules: [b.yaml]\n"
                             "log: {level: info}\nlog: {level: debug}\n");
    const char *check_twice[] = {"config", "check", twice, NULL};
    r = run_args(logloom, tmpdir, check_twice);
    assert_int_equal(r.status, 1);
    snprintf(want, sizeof want, "%s:3:1: error: 'rules' is given twice", twice);
    assert_non_null(strstr(r.err, want));
    snprintf(want, sizeof want, "%s:5:1: error: 'log' is given twice", twice);
    assert_non_null(strstr(r.err, want));
    run_result_free(&r);
    free(twice);

    char *yaml = write_text(tmpdir, "notyaml.yaml", "sinks: [file:x\n");
    const char *check[] = {"config", "check", yaml, NULL};
    r = run_args(logloom, tmpdir, check);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "error: YAML:"));
    run_result_free(&r);
    free(yaml);
    free(cfg);
}

static void replay_takes_sinks_and_rules_from_the_file(void **state)
{
    (void)state;
    char *rules = write_text(tmpdir, "only.yaml",
                             "rules:\n"
                             "  - id: only-deadlocks\n"
                             "    symptom: pg-deadlock\n"
                             "    severity: warning\n"
                             "    title: deadlock\n"
                             "    remediation: retry\n"
                             "    when: {err.code: 40P01}\n"
                             "    examples: {match: ['{\"err\":{\"code\":\"40P01\"}}']}\n");
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "sinks:\n"
             "  - url: file:%s/from-config.jsonl\n"
             "    receive: both\n"
             "rules: [%s]\n",
             tmpdir, rules);
    char *cfg = write_text(tmpdir, "run.yaml", yaml);
    const char *args[] = {"replay", "-q", "--format", "none", "--config", cfg,
                          "examples/incident", NULL};
    struct run_result r = run_args(logloom, tmpdir, args);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "");
    run_result_free(&r);
    char path[700];
    snprintf(path, sizeof path, "%s/from-config.jsonl", tmpdir);
    char *text = read_file(path, NULL);
    size_t alerts = 0, timelines = 0;
    for (const char *p = text; (p = strstr(p, "{\"type\":\"alert\"")); p++)
        alerts++;
    for (const char *p = text; (p = strstr(p, "{\"type\":\"timeline\"")); p++)
        timelines++;
    assert_int_equal(alerts, 1); /* the one deadlock, by the file's rule only */
    assert_non_null(strstr(text, "\"rule\":\"only-deadlocks\""));
    assert_int_equal(timelines, 14);
    free(text);
    free(cfg);
    free(rules);
}

/* How many records of @p type replay printed (--format jsonl). */
static size_t records(const char *out, const char *type)
{
    char want[64];
    snprintf(want, sizeof want, "{\"type\":\"%s\"", type);
    size_t n = 0;
    for (const char *p = out; (p = strstr(p, want)); p++)
        n++;
    return n;
}

/* `replay --config` joins lines as `run` with the same file does: its
 * correlation and decode sections count, the command line over them. */
static void replay_joins_as_the_files_correlation_and_decode_say(void **state)
{
    (void)state;
    char *log = write_text(tmpdir, "joins.log",
                           "{\"time\":\"2026-01-01T00:00:00Z\",\"job\":\"j1\",\"msg\":\"a\"}\n"
                           "{\"time\":\"2026-01-01T00:00:10Z\",\"job\":\"j1\",\"msg\":\"b\"}\n");
    char *cfg = write_text(tmpdir, "joins.yaml",
                           "decode:\n"
                           "  id_fields: [job]\n"
                           "correlation:\n"
                           "  session_gap: 2s\n");
    const char *plain[] = {"replay", "-q", "--format", "jsonl", log, NULL};
    const char *with[] = {"replay", "-q", "--format", "jsonl", "--config", cfg, log, NULL};
    const char *over[] = {"replay", "-q", "--format", "jsonl", "--config", cfg,
                          "--session-gap", "30s", log, NULL};
    struct run_result r = run_args(logloom, tmpdir, plain);
    assert_int_equal(r.status, 0);
    assert_int_equal(records(r.out, "timeline"), 0); /* "job" is no id by default */
    run_result_free(&r);
    r = run_args(logloom, tmpdir, with);
    assert_int_equal(r.status, 0);
    assert_int_equal(records(r.out, "timeline"), 2); /* 10 s apart, the gap 2 s */
    assert_non_null(strstr(r.out, "\"correlation_id\":\"j1\""));
    run_result_free(&r);
    r = run_args(logloom, tmpdir, over);
    assert_int_equal(r.status, 0);
    assert_int_equal(records(r.out, "timeline"), 1);
    run_result_free(&r);
    /* A mistyped option is the file's problem, with its place. */
    char *bad = write_text(tmpdir, "joins-bad.yaml", "correlation:\n  session_gapp: 2s\n");
    const char *typo[] = {"replay", "-q", "--config", bad, log, NULL};
    r = run_args(logloom, tmpdir, typo);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "joins-bad.yaml:2:"));
    assert_non_null(strstr(r.err, "session_gap"));
    run_result_free(&r);
    free(bad);
    free(cfg);
    free(log);
}

/* Each table of options in the README is what the command its marker names
 * (`config options --markdown SECTION...`) writes from the tables the
 * reader applies. */
static void the_readme_lists_every_option_as_the_reader_applies_it(void **state)
{
    (void)state;
    static const char begin[] = "<!-- logloom config options --markdown ",
                      end[] = "<!-- end of logloom config options -->";
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/README.md", getenv("LL_SOURCE_DIR"));
    size_t len, blocks = 0;
    char *readme = read_file(path, &len);
    assert_non_null(readme);
    for (char *at = strstr(readme, begin); at; at = strstr(at, begin), blocks++) {
        char *close = strstr(at, " -->\n"), *to = close ? strstr(close, end) : NULL;
        assert_non_null(to);
        *close = '\0';
        const char *args[16] = {"config", "options", "--markdown"};
        size_t n = 3;
        for (char *w = strtok(at + sizeof begin - 1, " "); w && n < 15; w = strtok(NULL, " "))
            args[n++] = w;
        struct run_result r = run_args(logloom, tmpdir, args);
        assert_int_equal(r.status, 0);
        const char *from = close + 5;
        if (strlen(r.out) != (size_t)(to - from) || memcmp(r.out, from, strlen(r.out)) != 0)
            fail_msg("README's table of '%s' differs from `logloom config options --markdown "
                     "%s`", args[3], args[3]);
        run_result_free(&r);
        at = to;
    }
    assert_int_equal(blocks, 2); /* the run's sections, and the sinks' */
    free(readme);
}

static void version_names_the_commit(void **state)
{
    (void)state;
    const char *args[] = {"--version", NULL};
    struct run_result r = run_args(logloom, tmpdir, args);
    assert_int_equal(r.status, 0);
    unsigned major, minor, patch;
    char commit[64] = "";
    assert_int_equal(sscanf(r.out, "logloom %u.%u.%u (commit %63[^)])", &major, &minor, &patch,
                            commit),
                     4);
    size_t hex = strspn(commit, "0123456789abcdef");
    bool git = access("../.git", F_OK) == 0; /* the tests run in tests/ */
    if (git)
        assert_true(hex == 12 && (commit[12] == '\0' || strcmp(commit + 12, "-dirty") == 0));
    else
        assert_true(strcmp(commit, "unknown") == 0 || hex == 12);
    run_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(show_fills_defaults_and_masks_passwords),
        cmocka_unit_test(show_a_daemon_configuration_with_every_section),
        cmocka_unit_test(the_deployment_examples_check_clean),
        cmocka_unit_test(check_reports_problems_with_their_places),
        cmocka_unit_test(replay_takes_sinks_and_rules_from_the_file),
        cmocka_unit_test(replay_joins_as_the_files_correlation_and_decode_say),
        cmocka_unit_test(the_readme_lists_every_option_as_the_reader_applies_it),
        cmocka_unit_test(version_names_the_commit),
    };
    return cmocka_run_group_tests(tests, e2e_group_setup, e2e_group_teardown);
}
