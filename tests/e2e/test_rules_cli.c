/* `logloom rules` and `replay --rules` as a user runs them: the built-in
 * pack lints clean, passes its examples and covers every playbook symptom;
 * broken rule files are reported with file:line:column and fail; a failing
 * example fails the run and names its rule; custom rules replace the pack. */
#define LL_E2E
#include "../testutil.h"

#include "logloom/rules.h"

/* logloom with up to four arguments (NULL ends them). */
static struct run_result logloom_run(const char *a1, const char *a2, const char *a3,
                                     const char *a4)
{
    const char *args[] = {a1, a2, a3, a4, NULL};
    return run_args(logloom, tmpdir, args);
}

static void builtin_pack_lints_clean_and_passes_its_examples(void **state)
{
    (void)state;
    struct run_result r = logloom_run("rules", "lint", NULL, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    run_result_free(&r);

    r = logloom_run("rules", "test", NULL, NULL);
    assert_int_equal(r.status, 0);
    unsigned rules, examples, failed;
    const char *summary = strstr(r.out, " rules, ");
    assert_non_null(summary);
    while (summary > r.out && summary[-1] != '\n')
        summary--;
    assert_int_equal(sscanf(summary, "%u rules, %u examples, %u failed", &rules, &examples,
                            &failed), 3);
    assert_int_equal(failed, 0);
    assert_true(rules >= 17);
    assert_true(examples >= 2 * rules); /* a match and a no_match at least */
    run_result_free(&r);
}

/* Every symptom of the vocabulary has a rule in the built-in pack. */
static void builtin_pack_covers_every_symptom(void **state)
{
    (void)state;
    struct run_result r = logloom_run("rules", "list", NULL, NULL);
    assert_int_equal(r.status, 0);
    size_t n;
    const struct ll_symptom *s = ll_symptoms(&n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (const char *line = r.out; line && *line && !found;) {
            const char *nl = strchr(line, '\n');
            char rule[64], kind[16], symptom[64];
            found = sscanf(line, "%63s %15s %63s", rule, kind, symptom) == 3 &&
                    strcmp(symptom, s[i].id) == 0;
            line = nl ? nl + 1 : NULL;
        }
        if (!found)
            fail_msg("no rule of the built-in pack raises symptom %s", s[i].id);
    }
    run_result_free(&r);
}

static void lint_reports_every_problem_with_its_place(void **state)
{
    (void)state;
    char *path = write_text(tmpdir, "broken.yaml",
                            "rules:\n"
                            "  - id: peer-reset\n"
                            "    symptom: econnreset\n"
                            "    remediaton: retry\n"
                            "    severity: error\n"
                            "    title: t\n"
                            "    when:\n"
                            "      any:\n"
                            "        - err.message: {regex: 'socket (hang'}\n"
                            "        - err.cod: ECONNRESET\n"
                            "    examples: {match: ['{}']}\n");
    struct run_result r = logloom_run("rules", "lint", path, NULL);
    assert_int_equal(r.status, 1);
    char want[1200];
    snprintf(want, sizeof want, "%s:4:5: error: [peer-reset] unknown rule key 'remediaton' "
                                "(did you mean 'remediation'?)", path);
    assert_non_null(strstr(r.err, want));
    snprintf(want, sizeof want, "%s:2:5: error: [peer-reset] missing required key "
                                "'remediation'", path);
    assert_non_null(strstr(r.err, want));
    snprintf(want, sizeof want, "%s:9:45: error: [peer-reset] bad regex: missing closing "
                                "parenthesis at offset 12", path);
    assert_non_null(strstr(r.err, want));
    snprintf(want, sizeof want, "%s:10:11: error: [peer-reset] unknown field 'err.cod' (did "
                                "you mean 'err.code'?)", path);
    assert_non_null(strstr(r.err, want));
    run_result_free(&r);

    /* Not YAML at all: the parser's place and reason. */
    char *bad = write_text(tmpdir, "bad.yaml", "rules:\n  - id: [unclosed\n");
    r = logloom_run("rules", "lint", bad, NULL);
    assert_int_equal(r.status, 1);
    snprintf(want, sizeof want, "%s:3:1: error: YAML:", bad);
    assert_non_null(strstr(r.err, want));
    run_result_free(&r);
    free(path);
    free(bad);
}

static const char custom[] =
    "rules:\n"
    "  - id: slow-query\n"
    "    symptom: request-timeout\n"
    "    severity: warning\n"
    "    title: A query took too long\n"
    "    summary: '{service} waited {json.durationMs} ms'\n"
    "    remediation: Add an index.\n"
    "    when: {msg: query done, json.durationMs: {gt: 1000}}\n"
    "    examples:\n"
    "      match: ['{\"msg\":\"query done\",\"durationMs\":1500}']\n"
    "      no_match: ['{\"msg\":\"query done\",\"durationMs\":%s}']\n";

static void failing_example_fails_the_run_and_names_its_rule(void **state)
{
    (void)state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml, custom, "1001"); /* wrongly listed as no_match */
    char *path = write_text(tmpdir, "failing.yaml", yaml);
    struct run_result r = logloom_run("rules", "test", path, NULL);
    assert_int_equal(r.status, 1);
    char want[1100];
    snprintf(want, sizeof want, "%s:11", path);
    assert_non_null(strstr(r.out, want));
    assert_non_null(strstr(r.out, "[slow-query]"));
    assert_non_null(strstr(r.out, "1 rules, 2 examples, 1 failed"));
    run_result_free(&r);
    free(path);
}

static void custom_rules_replace_the_pack_and_no_rules_turns_them_off(void **state)
{
    (void)state;
    char yaml[1024];
    snprintf(yaml, sizeof yaml, custom, "20");
    char *path = write_text(tmpdir, "custom.yaml", yaml);
    char *logs = write_text(tmpdir, "db.log",
                            "{\"level\":50,\"time\":1,\"name\":\"db\",\"err\":{\"code\":\"40P01\"},"
                            "\"msg\":\"tx failed\"}\n"
                            "{\"level\":30,\"time\":2,\"name\":\"db\",\"durationMs\":2500,"
                            "\"msg\":\"query done\"}\n");
    const char *argv[] = {logloom, "replay", "--format", "jsonl", "-q", "--rules", path,
                          logs, NULL};
    char *out;
    assert_int_equal(run_cmd(argv, tmpdir, &out, NULL), 0);
    assert_non_null(strstr(out, "\"rule\":\"slow-query\""));
    assert_non_null(strstr(out, "\"summary\":\"db waited 2500 ms\""));
    assert_null(strstr(out, "pg-deadlock")); /* the built-in pack is replaced */
    free(out);

    const char *both[] = {logloom, "replay", "--format", "jsonl", "-q", "--rules", path,
                          "--rules", "builtin", logs, NULL};
    assert_int_equal(run_cmd(both, tmpdir, &out, NULL), 0);
    assert_non_null(strstr(out, "\"rule\":\"slow-query\""));
    assert_non_null(strstr(out, "\"rule\":\"pg-deadlock\""));
    free(out);

    const char *none[] = {logloom, "replay", "--format", "jsonl", "-q", "--no-rules", logs, NULL};
    assert_int_equal(run_cmd(none, tmpdir, &out, NULL), 0);
    assert_null(strstr(out, "\"type\":\"alert\""));
    free(out);

    /* A broken rule file stops replay before it reads anything. */
    char *bad = write_text(tmpdir, "bad-rules.yaml", "rules: [{id: x}]\n");
    const char *broken[] = {logloom, "replay", "-q", "--rules", bad, logs, NULL};
    char *err;
    assert_int_equal(run_cmd(broken, tmpdir, &out, &err), 2);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "missing required key 'symptom'"));
    free(out);
    free(err);
    free(bad);
    free(path);
    free(logs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_pack_lints_clean_and_passes_its_examples),
        cmocka_unit_test(builtin_pack_covers_every_symptom),
        cmocka_unit_test(lint_reports_every_problem_with_its_place),
        cmocka_unit_test(failing_example_fails_the_run_and_names_its_rule),
        cmocka_unit_test(custom_rules_replace_the_pack_and_no_rules_turns_them_off),
    };
    return cmocka_run_group_tests(tests, e2e_group_setup, e2e_group_teardown);
}
