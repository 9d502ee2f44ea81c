/* Rules: the decode hook skips steps by their gates (an uncommon field or an
 * indexed literal every way of matching needs). Skipping must never change
 * a result: for every line of the example incident, of the real Node.js logs
 * and of the pack's own examples, plus rules written to stress the gate
 * analysis, the hook's match bits equal evaluating every step in full. */
#define LL_TMPDIR
#include "../testutil.h"

#include "../../rules/rules_int.h"
#include "logloom/ingest.h"

/* Decodes every line (raw events for what is not JSON) with the hook and
 * compares its bits with a full evaluation of every step. Returns the
 * number of (line, step) matches seen, so a test can insist on some. */
static size_t check(const ll_ruleset *rs, const struct lines *l)
{
    ll_rule_eval *e = ll_rule_eval_new(rs);
    struct ll_decode_conf dc = {.match = ll_rule_eval_match, .match_ctx = e};
    dc.extra_paths = ll_ruleset_extra_paths(rs, &dc.n_extra_paths);
    char err[256];
    ll_decoder *d = ll_decoder_new(&dc, err, sizeof err);
    assert_non_null(d);
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    struct ll_arena a;
    ll_arena_init(&a, 1 << 16);
    size_t matches = 0;
    uint64_t hits = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct ll_event ev = {0};
        enum ll_reject why;
        if (ll_decoder_decode(d, l->v[i], strlen(l->v[i]), &a, &ev, &why) != LL_OK)
            ll_decoder_raw_event(d, l->v[i], strlen(l->v[i]), &a, &ev);
        for (size_t b = 0; b < rs->n_bits; b++) {
            bool want = ll__cond_eval_event(rs, rs->prog[b].cond, &ev, md, NULL, &hits);
            bool got = ev.match && (ev.match[b / 64] >> (b % 64) & 1);
            if (want != got)
                fail_msg("step %zu of %s: hook says %d, full evaluation %d on: %s", b,
                         ll_ruleset_step_rule(rs, b), got, want, l->v[i]);
            matches += want;
        }
        ll_arena_reset(&a);
    }
    ll_arena_free(&a);
    pcre2_match_data_free(md);
    ll_decoder_destroy(d);
    ll_rule_eval_destroy(e);
    return matches;
}

/* The shapes corpora's docker and CRI copies of their raw lines: the same
 * application lines, framed. */
static const char *const container_forms[] = {"docker", "cri", NULL};

static void builtin_pack_on_incident_real_logs_and_examples(void **state)
{
    (void)state;
    struct ll_diags diags = {0};
    ll_ruleset *rs = NULL;
    assert_int_equal(ll_ruleset_load(NULL, 0, true, &rs, &diags), LL_OK);
    ll_diags_free(&diags);

    struct lines l = {0};
    const char *src = getenv("LL_SOURCE_DIR");
    assert_non_null(src);
    char path[4096];
    snprintf(path, sizeof path, "%s/examples/incident", src);
    assert_true(add_tree(&l, path) > 0);
    snprintf(path, sizeof path, "%s/tests/data/real", src);
    assert_true(add_tree_skipping(&l, path, container_forms) > 0);
    size_t n_ex;
    const struct ll_rule_example *ex = ll_ruleset_examples(rs, &n_ex);
    for (size_t i = 0; i < n_ex; i++)
        for (size_t k = 0; k < ex[i].n_lines; k++)
            add_line(&l, ex[i].lines[k], strlen(ex[i].lines[k]));

    size_t matches = check(rs, &l);
    /* Sanity: the data does exercise the pack. */
    assert_true(matches > 100);
    lines_free(&l);
    ll_ruleset_destroy(rs);
}

/* Conditions where a careless gate analysis would skip a true step: a
 * negation, a missing field, a test on a common field beside an indexed
 * literal, case-insensitive literals, numbers and extra paths. */
#define RULE(id, when)                                                                        \
    "  - id: " id "\n    symptom: econnreset\n    severity: error\n    title: t\n"            \
    "    remediation: r\n    examples: {no_match: ['{}']}\n    when: " when "\n"

static const char stress_rules[] =
    "rules:\n"
    RULE("not-a-literal", "{not: {msg: {contains: ECONNRESET}}}")
    RULE("missing-code", "{all: [{err.code: {exists: false}}, {level: {ge: 50}}]}")
    RULE("any-literal-or-common", "{any: [{err.code: ECONNRESET}, {service: agent-2}]}")
    RULE("any-literal-or-rare", "{any: [{msg: {contains: 'hang up'}}, {exit.code: {gt: 128}}]}")
    RULE("nocase-literal", "{msg: {contains: SPAWN, nocase: true}}")
    RULE("regex-alternatives", "{err.message: {regex: 'ECONN(RESET|REFUSED)|socket hang up'}}")
    RULE("number-equals", "{err.errno: -22}")
    RULE("extra-path", "{any: [{json.reason: {exists: true}}, {json.code: 1006}]}")
    RULE("all-common-then-literal",
         "{all: [{level: {ge: 40}}, {any: [{msg: {prefix: child}}, {err.type: {suffix: Error}}]}]}");

static void stress_rules_on_incident_and_real_logs(void **state)
{
    (void)state;
    char *path = write_text(dir, "stress.yaml", stress_rules);
    struct ll_diags diags = {0};
    ll_ruleset *rs = NULL;
    const char *paths[] = {path};
    int rc = ll_ruleset_load(paths, 1, false, &rs, &diags);
    if (rc != LL_OK)
        ll_diags_print(&diags, stderr);
    assert_int_equal(rc, LL_OK);
    ll_diags_free(&diags);

    struct lines l = {0};
    const char *src = getenv("LL_SOURCE_DIR");
    char tree[4096];
    snprintf(tree, sizeof tree, "%s/examples/incident", src);
    add_tree(&l, tree);
    snprintf(tree, sizeof tree, "%s/tests/data/real", src);
    add_tree_skipping(&l, tree, container_forms);
    add_line(&l, "{\"msg\":\"Spawn failed\",\"level\":50}", 34);
    add_line(&l, "{\"reason\":\"x\",\"msg\":\"closed\"}", 29);
    add_line(&l, "{\"code\":1006,\"msg\":\"closed\"}", 28);
    add_line(&l, "{\"exitCode\":137,\"msg\":\"gone\"}", 29);
    add_line(&l, "{\"err\":{\"errno\":-22},\"msg\":\"x\"}", 31);
    assert_true(check(rs, &l) > 100);
    lines_free(&l);
    ll_ruleset_destroy(rs);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_pack_on_incident_real_logs_and_examples),
        cmocka_unit_test(stress_rules_on_incident_and_real_logs),
    };
    return cmocka_run_group_tests(tests, tmpdir_group_setup, tmpdir_group_teardown);
}
