/* Rules: every operator and rule kind, suppression, rate caps, regex limits,
 * lint diagnostics, and alert ids that do not depend on arrival order. The
 * pipeline is the runner's stage behind a real decoder, so rules see exactly what they see in production. */
#define LL_TMPDIR
#include "../testutil.h"

#include "logloom/ingest.h"
#include "logloom/rules.h"
#include "logloom/runner.h"
#include "logloom/sinks.h"

#define SEC LL_NS_PER_SEC

/* Rules from YAML text; fails the test on any diagnostic. */
static ll_ruleset *rules(const char *yaml)
{
    static int n;
    char name[32];
    snprintf(name, sizeof name, "r%d.yaml", n++);
    char *path = write_text(dir, name, yaml);
    struct ll_diags d = {0};
    ll_ruleset *rs = NULL;
    const char *paths[] = {path};
    int rc = ll_ruleset_load(paths, 1, false, &rs, &d);
    if (rc != LL_OK)
        ll_diags_print(&d, stderr);
    assert_int_equal(rc, LL_OK);
    ll_diags_free(&d);
    free(path);
    return rs;
}

/* Diagnostics of YAML text that must not load, as one string. */
static char *lint(const char *yaml)
{
    char *path = write_text(dir, "bad.yaml", yaml);
    struct ll_diags d = {0};
    ll_ruleset *rs = NULL;
    const char *paths[] = {path};
    assert_int_equal(ll_ruleset_load(paths, 1, false, &rs, &d), LL_EINVAL);
    assert_null(rs);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ll_diags_print(&d, fp);
    fclose(fp);
    ll_diags_free(&d);
    free(path);
    return buf;
}

struct alerts {
    int n;
    enum ll_alert_state state[32];
    char rule[32][32];
    uint64_t id[32];
    uint64_t count[32];
    uint64_t tl_id[32];
    char summary[32][128];
    int64_t first[32], last[32];
    size_t n_ev[32];
    size_t n_affected[32];
    char affected[32][64]; /* the first two, comma-separated */
    int timelines;
    uint64_t tl_alerts[32];
    int n_tl_alerts;
};

static void on_alert(void *ctx, const struct ll_alert *a)
{
    struct alerts *x = ctx;
    assert_true(x->n < 32);
    int i = x->n++;
    snprintf(x->rule[i], sizeof x->rule[i], "%.*s", (int)a->rule.len, a->rule.ptr);
    snprintf(x->summary[i], sizeof x->summary[i], "%.*s", (int)a->summary.len, a->summary.ptr);
    x->id[i] = a->id;
    x->state[i] = a->state;
    x->count[i] = a->count;
    x->tl_id[i] = a->timeline_id;
    x->first[i] = a->first_ns;
    x->last[i] = a->last_ns;
    x->n_ev[i] = a->n_evidence;
    x->n_affected[i] = a->n_affected;
    if (a->n_affected)
        snprintf(x->affected[i], sizeof x->affected[i], "%.*s,%.*s", (int)a->affected[0].len,
                 a->affected[0].ptr, a->n_affected > 1 ? (int)a->affected[1].len : 0,
                 a->n_affected > 1 ? a->affected[1].ptr : "");
}

static void on_timeline(void *ctx, const struct ll_timeline *tl)
{
    struct alerts *x = ctx;
    x->timelines++;
    for (size_t i = 0; i < tl->n_alerts && x->n_tl_alerts < 32; i++)
        x->tl_alerts[x->n_tl_alerts++] = tl->alerts[i];
}

/* Decode → stage for @p rs, alerts into @p x; @p hold_ns: live with that
 * hold (LL__NOT_LIVE: as replay). */
struct rig {
    ll_rule_eval *eval;
    ll_decoder *dec;
    struct ll__stage st;
    struct ll_arena a;
    int64_t last;
};

static void rig_open(struct rig *g, const ll_ruleset *rs, struct alerts *x, int64_t hold_ns)
{
    memset(x, 0, sizeof *x);
    *g = (struct rig){.eval = ll_rule_eval_new(rs)};
    struct ll_decode_conf dc = {.match = ll_rule_eval_match, .match_ctx = g->eval};
    dc.extra_paths = ll_ruleset_extra_paths(rs, &dc.n_extra_paths);
    char err[256];
    g->dec = ll_decoder_new(&dc, err, sizeof err);
    assert_non_null(g->dec);
    struct ll__stage_out out = {.timeline = on_timeline, .alert = on_alert, .ctx = x};
    struct ll_corr_conf cc = {.allowed_lateness_ns = 2 * SEC};
    ll__stage_init(&g->st, &cc, rs, &out);
    if (hold_ns != LL__NOT_LIVE)
        ll__stage_set_rules(&g->st, rs, hold_ns);
    ll_arena_init(&g->a, 4096);
}

/* @p line (JSON or raw text; without a time, the previous line's) at
 * @p off of test.log, read @p seq-th (0: not live). */
static void rig_push(struct rig *g, const char *line, uint64_t off, uint64_t seq)
{
    struct ll_event ev = {.pos = {LL_STR("test.log"), off}, .seq = seq};
    enum ll_reject why;
    if (ll_decoder_decode(g->dec, line, strlen(line), &g->a, &ev, &why) != LL_OK) {
        ll_decoder_raw_event(g->dec, line, strlen(line), &g->a, &ev);
        ev.pos = (struct ll_pos){LL_STR("test.log"), off};
        ev.seq = seq;
    }
    if (!ev.service.len)
        ev.service = LL_STR("svc");
    if (ev.ts_ns == LL_TIME_NONE)
        ev.ts_ns = g->last;
    g->last = ev.ts_ns;
    ll__stage_push(&g->st, &ev);
    ll_arena_reset(&g->a);
}

/* The input ends: everything closes. */
static void rig_close(struct rig *g)
{
    ll__stage_flush(&g->st);
    ll__stage_destroy(&g->st);
    ll_arena_free(&g->a);
    ll_decoder_destroy(g->dec);
    ll_rule_eval_destroy(g->eval);
}

/* Runs @p lines through decode → stage as replay does, one source; line i
 * sits at @p offsets[i] (NULL: i * 100). */
static void run_at(const ll_ruleset *rs, const char *const *lines, const uint64_t *offsets,
                   size_t n, struct alerts *x)
{
    struct rig g;
    rig_open(&g, rs, x, LL__NOT_LIVE);
    for (size_t i = 0; i < n; i++)
        rig_push(&g, lines[i], offsets ? offsets[i] : i * 100, 0);
    rig_close(&g);
}

static void run(const ll_ruleset *rs, const char *const *lines, size_t n, struct alerts *x)
{
    run_at(rs, lines, NULL, n, x);
}

#define RULE_HEAD(id, sym)                                                                    \
    "  - id: " id "\n    symptom: " sym "\n    severity: error\n    title: t\n"              \
    "    remediation: r\n    examples: {no_match: ['{}']}\n"

/* One line through a match rule with condition @p when: alerts raised. */
static int matches(const char *when, const char *line)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "rules:\n" RULE_HEAD("m", "econnreset") "    when: %s\n", when);
    ll_ruleset *rs = rules(yaml);
    struct alerts x;
    const char *lines[] = {line};
    run(rs, lines, 1, &x);
    ll_ruleset_destroy(rs);
    return x.n;
}

/* ------------------------------------------------------------------------ */
/* Matchers                                                                  */

static void string_operators(void **state)
{
    (void)state;
    const char *l = "{\"msg\":\"fetch failed: read ECONNRESET\",\"err\":{\"code\":\"ECONNRESET\","
                    "\"syscall\":\"read\"},\"level\":50}";
    assert_int_equal(matches("{err.code: ECONNRESET}", l), 1);
    assert_int_equal(matches("{err.code: ECONNREFUSED}", l), 0);
    assert_int_equal(matches("{err.code: [EPIPE, ECONNRESET]}", l), 1);
    assert_int_equal(matches("{err.code: {in: [EPIPE, ETIMEDOUT]}}", l), 0);
    assert_int_equal(matches("{msg: {prefix: 'fetch failed'}}", l), 1);
    assert_int_equal(matches("{msg: {suffix: ECONNRESET}}", l), 1);
    assert_int_equal(matches("{msg: {contains: 'read econnreset'}}", l), 0);
    assert_int_equal(matches("{msg: {contains: 'read econnreset', nocase: true}}", l), 1);
    assert_int_equal(matches("{msg: {equals: 'FETCH FAILED: READ ECONNRESET', nocase: true}}", l), 1);
    assert_int_equal(matches("{err.syscall: {prefix: spawn}}", l), 0);
}

static void numbers_levels_and_presence(void **state)
{
    (void)state;
    const char *l = "{\"level\":50,\"code\":137,\"signal\":null,\"exitCode\":137,\"pid\":42}";
    assert_int_equal(matches("{exit.code: 137}", l), 1);
    assert_int_equal(matches("{exit.code: {ge: 128, lt: 256}}", l), 1);
    assert_int_equal(matches("{exit.code: {gt: 137}}", l), 0);
    assert_int_equal(matches("{level: {ge: error}}", l), 1);
    assert_int_equal(matches("{level: {ge: fatal}}", l), 0);
    assert_int_equal(matches("{level: error}", l), 1);
    assert_int_equal(matches("{exit.signal: {exists: false}}", l), 1);
    assert_int_equal(matches("{pid: {exists: true}, err: {exists: false}}", l), 1);
    assert_int_equal(matches("{json.exitCode: {equals: 137}}", l), 1);
    assert_int_equal(matches("{json.code: {le: 136}}", l), 0);
}

static void raw_json_paths_and_booleans(void **state)
{
    (void)state;
    const char *l = "{\"kind\":\"Event\",\"reason\":\"OOMKilled\",\"involvedObject\":{\"kind\":"
                    "\"Pod\",\"name\":\"agent-2\"},\"msg\":\"x\"}";
    assert_int_equal(matches("{json.reason: OOMKilled, json.involvedObject.kind: Pod}", l), 1);
    assert_int_equal(matches("{json.involvedObject: {exists: true}}", l), 1);
    assert_int_equal(matches("{json.missing.path: {exists: true}}", l), 0);
    assert_int_equal(matches("{any: [{json.reason: Evicted}, {json.reason: OOMKilled}]}", l), 1);
    assert_int_equal(matches("{all: [{json.reason: OOMKilled}, {not: {json.kind: Event}}]}", l), 0);
    assert_int_equal(matches("{not: {json.reason: OOMKilled}}", l), 0);
}

static void regex_with_prefilter_and_raw_lines(void **state)
{
    (void)state;
    const char *oom = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of "
                      "memory";
    assert_int_equal(matches("{raw: true, line: {regex: 'JavaScript heap out of memory'}}", oom), 1);
    assert_int_equal(matches("{raw: false}", oom), 0);
    assert_int_equal(matches("{msg: {regex: 'heap (limit|out of memory)'}}", oom), 1);
    assert_int_equal(matches("{msg: {regex: 'HEAP OUT', nocase: true}}", oom), 1);
    assert_int_equal(matches("{msg: {regex: '^FATAL ERROR: .*memory$'}}", oom), 1);
    assert_int_equal(matches("{msg: {regex: 'stack overflow'}}", oom), 0);
}

/* Issue 20: "text" is every string value, at any depth, unescaped: the
 * child's stderr an agent relays under "chunk" or "line", lines of it in
 * one value. Keys are not values; a raw line is one value. */
static void text_reads_every_string_value(void **state)
{
    (void)state;
    const char *relayed =
        "{\"level\":\"error\",\"requestId\":\"r1\",\"message\":\"worker stderr\",\"child\":"
        "{\"pid\":7,\"out\":[\"x\",{\"chunk\":\"<--- Last few GCs --->\\n\\nFATAL ERROR: "
        "Reached heap limit Allocation failed - JavaScript heap out of memory\\n\"}]}}";
    assert_int_equal(matches("{text: {regex: '^FATAL ERROR: .*out of memory$'}}", relayed), 0);
    assert_int_equal(matches("{text: {regex: '(?m)^FATAL ERROR: .*out of memory$'}}", relayed), 1);
    assert_int_equal(matches("{text: {contains: 'heap out of memory'}}", relayed), 1);
    assert_int_equal(matches("{text: {contains: 'HEAP OUT', nocase: true}}", relayed), 1);
    assert_int_equal(matches("{text: worker stderr}", relayed), 1);
    assert_int_equal(matches("{text: {prefix: 'worker'}}", relayed), 1);
    assert_int_equal(matches("{text: {contains: chunk}}", relayed), 0); /* a key */
    const char *esc = "{\"msg\":\"said \\\"heap out of memory\\\" \\u0041\"}";
    assert_int_equal(matches("{text: {regex: 'heap out of memory\" A$'}}", esc), 1);
    const char *raw = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of "
                      "memory";
    assert_int_equal(matches("{text: {contains: 'JavaScript heap'}}", raw), 1);
    assert_int_equal(matches("{text: {contains: 'JavaScript heap'}}", "{\"msg\":\"ok\"}"), 0);
}

/* A text test must name what the raw line holds, so that the lines
 * without it are not parsed again. */
static void text_needs_a_literal_the_raw_line_holds(void **state)
{
    (void)state;
    static const char *const bad[] = {"{text: {exists: true}}", "{text: {regex: '^.*$'}}",
                                      "{text: {contains: 'a\"b'}}", "{text: {contains: x}}",
                                      "{text: {gt: 3}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml, "rules:\n" RULE_HEAD("t", "heap-oom") "    when: %s\n", bad[i]);
        char *out = lint(yaml);
        if (!strstr(out, "bad.yaml:8:") || !strstr(out, "[t] text: "))
            fail_msg("%s: %s", bad[i], out);
        free(out);
    }
}

static void pathological_regex_is_stopped_and_counted(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("m", "econnreset")
                           "    when: {msg: {regex: '^(a+)+$'}}\n");
    ll_rule_eval *e = ll_rule_eval_new(rs);
    struct ll_event ev = {0};
    char line[64];
    memset(line, 'a', 40);
    strcpy(line + 40, "!");
    ev.msg = ll_str_c(line);
    struct ll_arena a;
    ll_arena_init(&a, 256);
    int64_t t0 = ll_clock_mono_ns();
    ll_rule_eval_match(e, &ev, &a);
    assert_null(ev.match);
    assert_true(ll_rule_eval_limit_hits(e) >= 1);
    assert_true(ll_clock_mono_ns() - t0 < 2 * SEC);
    ll_arena_free(&a);
    ll_rule_eval_destroy(e);
    ll_ruleset_destroy(rs);
}

static void macros_lists_and_exceptions(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("lists:\n  net: [ECONNRESET, EPIPE]\n"
                           "macros:\n  net_error: {err.code: {in_list: net}}\n"
                           "rules:\n" RULE_HEAD("m", "econnreset")
                           "    when: {macro: net_error}\n"
                           "    exceptions:\n"
                           "      - name: chaos-tests\n        fields: [service, err.code]\n"
                           "        values: [[chaos-monkey, ECONNRESET]]\n");
    const char *lines[] = {
        "{\"time\":1,\"name\":\"agent\",\"err\":{\"code\":\"EPIPE\"}}",
        "{\"time\":2,\"name\":\"chaos-monkey\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":3,\"name\":\"chaos-monkey\",\"err\":{\"code\":\"ENOENT\"}}",
        "{\"time\":400,\"name\":\"agent\",\"err\":{\"code\":\"ECONNRESET\"}}",
    };
    struct alerts x;
    run(rs, lines, 4, &x);
    assert_int_equal(x.n, 2); /* EPIPE, then ECONNRESET after the 5 min suppression */
    ll_ruleset_destroy(rs);
}

/* ------------------------------------------------------------------------ */
/* Kinds                                                                     */

static void match_alerts_fold_within_suppress(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("reset", "econnreset")
                           "    summary: '{service} lost a connection: {err.message}'\n"
                           "    suppress: 60s\n"
                           "    when: {err.code: ECONNRESET}\n");
    const char *lines[] = {
        "{\"time\":10,\"name\":\"agent-1\",\"correlationId\":\"w\",\"err\":{\"code\":\"ECONNRESET\",\"message\":\"read ECONNRESET\"}}",
        "{\"time\":40,\"name\":\"agent-1\",\"correlationId\":\"w\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":95,\"name\":\"agent-1\",\"correlationId\":\"w\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":200,\"name\":\"agent-1\",\"correlationId\":\"w\",\"err\":{\"code\":\"ECONNRESET\"}}",
    };
    struct alerts x;
    run(rs, lines, 4, &x);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.count[0], 3);
    assert_true(x.first[0] == 10 * SEC && x.last[0] == 95 * SEC);
    assert_int_equal(x.n_ev[0], 3);
    assert_string_equal(x.summary[0], "agent-1 lost a connection: read ECONNRESET");
    assert_int_equal(x.count[1], 1);
    assert_true(x.id[0] != x.id[1]);
    /* Alerts are noted on their workflow's timelines. */
    assert_int_equal(x.n_tl_alerts, 2);
    assert_true(x.tl_id[0] != 0);
    ll_ruleset_destroy(rs);
}

static void summary_alternatives_and_optional_sections(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("reset", "econnreset")
                           "    summary: '{service}: {err.message|msg}[ ({err.code})][ for "
                           "{json.task}] in {host}'\n"
                           "    suppress: 1s\n"
                           "    when: {msg: {contains: failed}}\n");
    const char *lines[] = {
        "{\"time\":10,\"name\":\"agent-1\",\"task\":\"t1\",\"msg\":\"call failed\","
        "\"err\":{\"code\":\"ECONNRESET\",\"message\":\"read ECONNRESET\"}}",
        "{\"time\":20,\"name\":\"agent-1\",\"msg\":\"call failed\"}",
    };
    struct alerts x;
    run(rs, lines, 2, &x);
    assert_int_equal(x.n, 2);
    assert_string_equal(x.summary[0], "agent-1: read ECONNRESET (ECONNRESET) for t1 in -");
    assert_string_equal(x.summary[1], "agent-1: call failed in -");
    ll_ruleset_destroy(rs);
}

static void rate_cap_holds_alerts_back(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("reset", "econnreset")
                           "    rate_limit: 2/1h\n    group_by: [json.conn]\n"
                           "    when: {err.code: ECONNRESET}\n");
    const char *lines[] = {
        "{\"time\":1,\"conn\":\"a\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":2,\"conn\":\"b\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":3,\"conn\":\"c\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":4,\"conn\":\"d\",\"err\":{\"code\":\"ECONNRESET\"}}",
    };
    struct alerts x;
    run(rs, lines, 4, &x);
    assert_int_equal(x.n, 2);
    ll_ruleset_destroy(rs);
}

static void threshold_counts_within_a_sliding_window(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("pool", "pg-pool-leak")
                           "    kind: threshold\n    group_by: service\n"
                           "    threshold: {count: 3, window: 10s}\n"
                           "    when: {err.message: {contains: 'timeout exceeded'}}\n");
    const char *spread[] = {
        "{\"time\":0,\"name\":\"m\",\"err\":{\"message\":\"timeout exceeded when trying to connect\"}}",
        "{\"time\":8,\"name\":\"m\",\"err\":{\"message\":\"timeout exceeded when trying to connect\"}}",
        "{\"time\":16,\"name\":\"m\",\"err\":{\"message\":\"timeout exceeded when trying to connect\"}}",
    };
    struct alerts x;
    run(rs, spread, 3, &x);
    assert_int_equal(x.n, 0); /* never three within 10 s */
    const char *burst[] = {
        "{\"time\":0,\"name\":\"m\",\"err\":{\"message\":\"timeout exceeded when trying to connect\"}}",
        "{\"time\":12,\"name\":\"m\",\"err\":{\"message\":\"timeout exceeded when trying to connect\"}}",
        "{\"time\":13,\"name\":\"m\",\"err\":{\"message\":\"timeout exceeded when trying to connect\"}}",
        "{\"time\":14,\"name\":\"m\",\"err\":{\"message\":\"timeout exceeded when trying to connect\"}}",
        "{\"time\":15,\"name\":\"m\",\"err\":{\"message\":\"timeout exceeded when trying to connect\"}}",
    };
    run(rs, burst, 5, &x);
    assert_int_equal(x.n, 1);
    assert_true(x.first[0] == 12 * SEC); /* the window's first */
    assert_int_equal(x.count[0], 2);     /* the 14 s and 15 s windows fold in */
    ll_ruleset_destroy(rs);
}

static void sequence_needs_order_and_window(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("dl", "pg-deadlock")
                           "    kind: sequence\n"
                           "    sequence:\n      within: 5s\n      steps:\n"
                           "        - {err.code: 40P01}\n        - {msg: {contains: retry}}\n");
    struct alerts x;
    const char *ok[] = {"{\"time\":1,\"correlationId\":\"w\",\"err\":{\"code\":\"40P01\"}}",
                        "{\"time\":3,\"correlationId\":\"w\",\"msg\":\"retrying transaction\"}"};
    run(rs, ok, 2, &x);
    assert_int_equal(x.n, 1);
    const char *late[] = {"{\"time\":1,\"correlationId\":\"w\",\"err\":{\"code\":\"40P01\"}}",
                          "{\"time\":9,\"correlationId\":\"w\",\"msg\":\"retrying transaction\"}"};
    run(rs, late, 2, &x);
    assert_int_equal(x.n, 0);
    const char *reversed[] = {"{\"time\":1,\"correlationId\":\"w\",\"msg\":\"retrying\"}",
                              "{\"time\":2,\"correlationId\":\"w\",\"err\":{\"code\":\"40P01\"}}"};
    run(rs, reversed, 2, &x);
    assert_int_equal(x.n, 0);
    const char *other_key[] = {"{\"time\":1,\"correlationId\":\"a\",\"err\":{\"code\":\"40P01\"}}",
                               "{\"time\":2,\"correlationId\":\"b\",\"msg\":\"retrying\"}"};
    run(rs, other_key, 2, &x);
    assert_int_equal(x.n, 0);
    ll_ruleset_destroy(rs);
}

static void absence_fires_unless_expected_or_unknown(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("ghost", "ws-ghost-agent")
                           "    kind: absence\n    group_by: service\n"
                           "    absence:\n      within: 30s\n"
                           "      after: {json.code: 1006}\n"
                           "      expect: {msg: {contains: reconnected}}\n");
    struct alerts x;
    const char *ghost[] = {"{\"time\":100,\"name\":\"agent-2\",\"msg\":\"closed\",\"code\":1006}",
                           "{\"time\":200,\"name\":\"manager\",\"msg\":\"tick\"}"};
    run(rs, ghost, 2, &x);
    assert_int_equal(x.n, 1);
    assert_true(x.first[0] == 100 * SEC);
    const char *back[] = {"{\"time\":100,\"name\":\"agent-2\",\"msg\":\"closed\",\"code\":1006}",
                          "{\"time\":104,\"name\":\"agent-2\",\"msg\":\"reconnected\"}",
                          "{\"time\":200,\"name\":\"manager\",\"msg\":\"tick\"}"};
    run(rs, back, 3, &x);
    assert_int_equal(x.n, 0);
    const char *other[] = {"{\"time\":100,\"name\":\"agent-2\",\"msg\":\"closed\",\"code\":1006}",
                           "{\"time\":104,\"name\":\"agent-1\",\"msg\":\"reconnected\"}",
                           "{\"time\":200,\"name\":\"manager\",\"msg\":\"tick\"}"};
    run(rs, other, 3, &x);
    assert_int_equal(x.n, 1);
    /* The log ends 10 s after the close: it might still have come back. */
    const char *unknown[] = {"{\"time\":100,\"name\":\"agent-2\",\"msg\":\"closed\",\"code\":1006}",
                             "{\"time\":110,\"name\":\"manager\",\"msg\":\"tick\"}"};
    run(rs, unknown, 2, &x);
    assert_int_equal(x.n, 0);
    ll_ruleset_destroy(rs);
}

static void absence_until_scope_with_grace(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("zombie", "zombie-child")
                           "    kind: absence\n"
                           "    absence:\n      within: 24h\n      grace: 5s\n"
                           "      scope: service\n"
                           "      after: {when: {child.pid: {exists: true}, msg: {contains: spawned}}, key: child.pid}\n"
                           "      expect: {when: {msg: {contains: exited}}, key: child.pid}\n"
                           "      until: {msg: {contains: shutting down}}\n");
    struct alerts x;
    const char *z[] = {
        "{\"time\":1,\"name\":\"agent\",\"childPid\":7,\"msg\":\"child spawned\"}",
        "{\"time\":2,\"name\":\"agent\",\"childPid\":8,\"msg\":\"child spawned\"}",
        "{\"time\":3,\"name\":\"agent\",\"childPid\":8,\"msg\":\"child exited\"}",
        "{\"time\":10,\"name\":\"agent\",\"msg\":\"SIGTERM received, shutting down\"}",
        "{\"time\":12,\"name\":\"other\",\"msg\":\"shutting down\"}",
        "{\"time\":30,\"pid\":7,\"name\":\"worker\",\"msg\":\"still working\"}",
    };
    run(rs, z, 6, &x);
    assert_int_equal(x.n, 1); /* child 7 outlived agent's shutdown by more than 5 s */
    assert_true(x.first[0] == 1 * SEC);
    /* The logs end within the grace, the child's exit never logged: nothing
     * can follow, so it is raised; an exit within the grace clears it. */
    run(rs, z, 4, &x);
    assert_int_equal(x.n, 1);
    assert_true(x.first[0] == 1 * SEC);
    const char *reaped[] = {
        "{\"time\":1,\"name\":\"agent\",\"childPid\":7,\"msg\":\"child spawned\"}",
        "{\"time\":10,\"name\":\"agent\",\"msg\":\"SIGTERM received, shutting down\"}",
        "{\"time\":11,\"name\":\"agent\",\"childPid\":7,\"msg\":\"child exited\"}",
    };
    run(rs, reaped, 3, &x);
    assert_int_equal(x.n, 0);
    /* No shutdown: the child may still be running. */
    run(rs, z, 3, &x);
    assert_int_equal(x.n, 0);
    ll_ruleset_destroy(rs);
}

/* Issue 19: lines of one instant are taken in content order, not file
 * order; a child that exits in the millisecond it was spawned is still no
 * zombie, and a sequence of two lines of one instant still holds, whichever
 * line hashes first. Each case in both arrival orders. */
static void steps_of_one_instant_answer_each_other_in_any_order(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("zombie", "zombie-child")
                           "    kind: absence\n"
                           "    absence:\n      within: 24h\n      grace: 5s\n"
                           "      scope: service\n"
                           "      after: {when: {child.pid: {exists: true}, msg: {contains: spawned}}, key: child.pid}\n"
                           "      expect: {when: {msg: {contains: exited}}, key: child.pid}\n"
                           "      until: {msg: {contains: shutting down}}\n"
                           RULE_HEAD("seq", "econnreset")
                           "    kind: sequence\n    sequence:\n      within: 5s\n      steps:\n"
                           "        - {when: {msg: {contains: opening}}}\n"
                           "        - {when: {msg: {contains: reset}}}\n");
    struct alerts x;
    for (int pid = 100; pid < 140; pid++) { /* many lines: many hash orders */
        char spawned[160], exited[160], open[160], reset[160];
        snprintf(spawned, sizeof spawned,
                 "{\"time\":1,\"name\":\"agent\",\"childPid\":%d,\"msg\":\"child spawned\"}", pid);
        snprintf(exited, sizeof exited,
                 "{\"time\":1,\"name\":\"agent\",\"childPid\":%d,\"msg\":\"child exited\"}", pid);
        snprintf(open, sizeof open,
                 "{\"time\":20,\"correlationId\":\"w%d\",\"msg\":\"opening\"}", pid);
        snprintf(reset, sizeof reset,
                 "{\"time\":20,\"correlationId\":\"w%d\",\"msg\":\"reset\"}", pid);
        const char *a[] = {spawned, exited, open, reset,
                           "{\"time\":10,\"name\":\"agent\",\"msg\":\"shutting down\"}",
                           "{\"time\":30,\"name\":\"other\",\"msg\":\"tick\"}"};
        run(rs, a, 6, &x);
        assert_int_equal(x.n, 1);
        assert_string_equal(x.rule[0], "seq");
        const char *b[] = {exited, spawned, reset, open, a[4], a[5]};
        run(rs, b, 6, &x);
        assert_int_equal(x.n, 1);
        assert_string_equal(x.rule[0], "seq");
    }
    /* One line that is every step answers none of them. */
    const char *one[] = {
        "{\"time\":1,\"name\":\"agent\",\"childPid\":7,\"msg\":\"child spawned, exited\"}",
        "{\"time\":2,\"correlationId\":\"w\",\"msg\":\"opening reset\"}",
        "{\"time\":10,\"name\":\"agent\",\"msg\":\"shutting down\"}",
        "{\"time\":30,\"name\":\"other\",\"msg\":\"tick\"}"};
    run(rs, one, 4, &x);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.rule[0], "zombie");
    ll_ruleset_destroy(rs);
}

/* Issue 19, the daemon: an alert is written the moment it is decided,
 * again as it grows (at most once a second of the caller's clock) and once
 * more when it closes; an absence alert when the watermark passes its
 * window, not when its suppress window ends; and matches of a windowless
 * rule that arrive out of order within the hold open the alert on the
 * earliest, with replay's id. */
static void live_alerts_are_written_as_they_open_and_grow(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("reset", "econnreset")
                           "    summary: '{msg}'\n"
                           "    when: {err.code: ECONNRESET}\n"
                           RULE_HEAD("ghost", "ws-ghost-agent")
                           "    kind: absence\n    group_by: service\n"
                           "    absence:\n      within: 30s\n"
                           "      after: {when: {msg: {contains: closed}}}\n"
                           "      expect: {when: {msg: {contains: connected}}}\n");
    const char *lines[] = {
        "{\"time\":10002,\"correlationId\":\"w\",\"msg\":\"second\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":10001,\"correlationId\":\"w\",\"msg\":\"first\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":10003,\"name\":\"agent-3\",\"msg\":\"WebSocket closed\"}",
        "{\"time\":10004,\"correlationId\":\"w\",\"msg\":\"third\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":10050,\"name\":\"monitor\",\"msg\":\"tick\"}",
    };
    struct alerts replay;
    run(rs, lines, 5, &replay);
    assert_int_equal(replay.n, 2);

    struct alerts x;
    struct rig g;
    rig_open(&g, rs, &x, 100 * LL_NS_PER_MS);
    int64_t clock = 1000 * LL_NS_PER_MS;
    ll__stage_release(&g.st, clock);
    for (size_t i = 0; i < 5; i++) {
        rig_push(&g, lines[i], i * 100, i + 1);
        if (i == 1) { /* both held: released together, the earliest first */
            ll__stage_release(&g.st, clock += 50 * LL_NS_PER_MS);
            assert_int_equal(x.n, 0);
            ll__stage_release(&g.st, clock += 100 * LL_NS_PER_MS);
            assert_int_equal(x.n, 1);
            assert_int_equal(x.state[0], LL_ALERT_OPEN);
            assert_true(x.id[0] == replay.id[0] || x.id[0] == replay.id[1]);
            assert_string_equal(x.summary[0], "first");
            assert_int_equal(x.count[0], 1); /* the second grows it: written later */
        }
        if (i == 3) { /* grown: written once a second has passed */
            ll__stage_release(&g.st, clock += 200 * LL_NS_PER_MS);
            assert_int_equal(x.n, 1);
            ll__stage_release(&g.st, clock += LL_NS_PER_SEC);
            assert_int_equal(x.n, 2);
            assert_int_equal(x.state[1], LL_ALERT_GREW);
            assert_int_equal(x.count[1], 3);
            assert_true(x.id[1] == x.id[0]);
        }
    }
    /* The watermark (the last line minus the lateness) passed the ghost's
     * 30 s: written now, five minutes before its suppress window ends. */
    assert_int_equal(x.n, 3);
    assert_string_equal(x.rule[2], "ghost");
    assert_int_equal(x.state[2], LL_ALERT_OPEN);
    rig_close(&g);
    assert_int_equal(x.n, 5); /* each closes: nothing new, so not to deliver */
    assert_int_equal(x.state[3], LL_ALERT_CLOSED_SAME);
    assert_int_equal(x.state[4], LL_ALERT_CLOSED_SAME);
    for (int i = 0; i < 2; i++) /* replay's alerts, ids and counts */
        for (int k = 0; k < 5; k++)
            if (x.id[k] == replay.id[i] && x.state[k] != LL_ALERT_CLOSED_SAME &&
                x.count[k] == replay.count[i])
                replay.id[i] = 0;
    assert_true(replay.id[0] == 0 && replay.id[1] == 0);
    ll_ruleset_destroy(rs);
}

static void timeline_rule_on_closed_workflow(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("lost", "correlation-lost")
                           "    kind: timeline\n"
                           "    summary: '{linked} of {events} by {linked_services} via {via}; "
                           "{services}, {status}'\n"
                           "    timeline: {linked: {gt: 0}, linked_services: worker}\n");
    struct alerts x;
    const char *l[] = {
        "{\"time\":1,\"name\":\"agent\",\"correlationId\":\"w\",\"childPid\":9,\"msg\":\"spawned\"}",
        "{\"time\":2,\"name\":\"worker\",\"pid\":9,\"msg\":\"no id here\"}",
        "{\"time\":3,\"name\":\"agent\",\"correlationId\":\"v\",\"msg\":\"fine\"}",
        "{\"time\":4,\"name\":\"worker\",\"correlationId\":\"v\",\"msg\":\"with the id\"}",
    };
    run(rs, l, 4, &x);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.n_tl_alerts, 1);
    assert_true(x.tl_alerts[0] == x.id[0]);
    assert_string_equal(x.summary[0], "1 of 2 by worker via pid:9; agent, worker, ok");
    ll_ruleset_destroy(rs);
}

/* ------------------------------------------------------------------------ */
/* Ids                                                                       */

/* Matches of one instant are taken in one order, whatever order they
 * arrived in and wherever they were read from: by content (issue 19), so
 * the alert opens on the same line, with the same id, in every mode. */
static void matches_of_one_instant_are_taken_in_content_order(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("reset", "econnreset")
                           "    summary: '{msg}'\n"
                           "    suppress: 60s\n"
                           "    when: {err.code: ECONNRESET}\n");
    enum { N = 9 };
    char text[N][160];
    const char *fwd[N], *rev[N];
    uint64_t off_fwd[N], off_rev[N];
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof text[i],
                 "{\"time\":10,\"correlationId\":\"w\",\"msg\":\"line %d\","
                 "\"err\":{\"code\":\"ECONNRESET\"}}",
                 i);
        fwd[i] = rev[N - 1 - i] = text[i];
        off_fwd[i] = (uint64_t)i * 100;
        off_rev[N - 1 - i] = (uint64_t)(N - i) * 1000; /* elsewhere, and the other way */
    }
    struct alerts x, y;
    run_at(rs, fwd, off_fwd, N, &x);
    run_at(rs, rev, off_rev, N, &y);
    assert_int_equal(x.n, 1);
    assert_int_equal(y.n, 1);
    assert_int_equal(x.count[0], N);
    assert_true(x.id[0] == y.id[0]);
    assert_string_equal(x.summary[0], y.summary[0]);
    ll_ruleset_destroy(rs);
}

static void alert_ids_do_not_depend_on_arrival_order(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n" RULE_HEAD("reset", "econnreset")
                           "    when: {err.code: ECONNRESET}\n"
                           "  - id: dl\n    symptom: pg-deadlock\n    severity: error\n"
                           "    title: t\n    remediation: r\n    examples: {no_match: ['{}']}\n"
                           "    kind: sequence\n    sequence:\n      within: 5s\n      steps:\n"
                           "        - {err.code: 40P01}\n        - {msg: {contains: retry}}\n");
    const char *lines[] = {
        "{\"time\":10,\"correlationId\":\"w\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":11,\"correlationId\":\"w\",\"err\":{\"code\":\"40P01\"}}",
        "{\"time\":11.5,\"correlationId\":\"w\",\"err\":{\"code\":\"ECONNRESET\"}}",
        "{\"time\":12,\"correlationId\":\"w\",\"msg\":\"retrying transaction\"}",
        "{\"time\":30,\"correlationId\":\"w\",\"msg\":\"done\"}",
    };
    const uint64_t off[] = {0, 100, 200, 300, 400};
    struct alerts want;
    run_at(rs, lines, off, 5, &want);
    assert_int_equal(want.n, 2);
    /* Every order in which no line moves by more than the 2 s lateness. */
    static const size_t orders[][5] = {{1, 0, 2, 3, 4}, {2, 1, 0, 3, 4}, {3, 2, 1, 0, 4},
                                       {0, 3, 1, 2, 4}};
    for (size_t o = 0; o < 4; o++) {
        const char *l[5];
        uint64_t f[5];
        for (size_t i = 0; i < 5; i++) {
            l[i] = lines[orders[o][i]];
            f[i] = off[orders[o][i]];
        }
        struct alerts got;
        run_at(rs, l, f, 5, &got);
        assert_int_equal(got.n, want.n);
        for (int i = 0; i < want.n; i++) {
            assert_true(got.id[i] == want.id[i]);
            assert_true(got.count[i] == want.count[i]);
            assert_true(got.first[i] == want.first[i]);
        }
    }
    ll_ruleset_destroy(rs);
}

/* Issue 20: a service refused while its server restarts, then connected
 * again, is a blip: nothing raised, counted as recovered. A workflow's own
 * refusal does not recover through another key, and one never followed by
 * a connection alerts at the end of the window or of the logs. */
static void recovery_drops_what_recovered_in_time(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n"
                           "  - id: refused\n    symptom: econnrefused\n    severity: error\n"
                           "    title: t\n    remediation: r\n"
                           "    examples: {match: ['{\"err\":{\"code\":\"ECONNREFUSED\"}}']}\n"
                           "    when: {err.code: ECONNREFUSED}\n"
                           "    recovery: {within: 10s, when: {msg: {prefix: connected}}}\n");
    const char *lines[] = {
        "{\"time\":1796620001000,\"name\":\"a1\",\"err\":{\"code\":\"ECONNREFUSED\"},\"msg\":\"ws\"}",
        "{\"time\":1796620003000,\"name\":\"a1\",\"err\":{\"code\":\"ECONNREFUSED\"},\"msg\":\"ws\"}",
        "{\"time\":1796620006000,\"name\":\"a1\",\"msg\":\"connected to monitor\"}",
        "{\"time\":1796620007000,\"name\":\"m\",\"correlationId\":\"w1\",\"err\":{\"code\":\"ECONNREFUSED\"}}",
        "{\"time\":1796620008000,\"name\":\"m\",\"msg\":\"connected to agent-2\"}",
        "{\"time\":1796620009000,\"name\":\"a2\",\"err\":{\"code\":\"ECONNREFUSED\"},\"msg\":\"ws\"}",
        "{\"time\":1796620030000,\"name\":\"a2\",\"msg\":\"connected to monitor\"}",
        "{\"time\":1796620031000,\"name\":\"a3\",\"err\":{\"code\":\"ECONNREFUSED\"},\"msg\":\"ws\"}",
    };
    struct alerts x;
    struct rig g;
    rig_open(&g, rs, &x, LL__NOT_LIVE);
    for (size_t i = 0; i < 8; i++)
        rig_push(&g, lines[i], i * 100, 0);
    struct ll_stats st = {0};
    ll__stage_flush(&g.st);
    ll__stage_stats(&g.st, &st);
    rig_close(&g);
    assert_int_equal(x.n, 3); /* w1's, a2's (too late), a3's (the logs ended) */
    assert_int_equal(st.recovered, 2);
    ll_ruleset_destroy(rs);
}

/* The workflows that hit a service-level alert while it lasts are its
 * blast radius, and their timelines list it; before it is raised (an
 * absence waiting) they are kept for it. */
static void affects_names_the_blast_radius(void **state)
{
    (void)state;
    ll_ruleset *rs = rules("rules:\n"
                           "  - id: ghost\n    symptom: ws-ghost-agent\n    severity: error\n"
                           "    title: t\n    remediation: r\n    kind: absence\n"
                           "    group_by: service\n"
                           "    examples: {scripts: [{lines: ['{}'], alerts: 0}]}\n"
                           "    absence: {within: 30s, after: {msg: closed}, expect: {msg: open}}\n"
                           "    affects: {text: {contains: 'not open'}}\n");
    const char *lines[] = {
        "{\"time\":1796620001000,\"name\":\"a1\",\"msg\":\"closed\"}",
        "{\"time\":1796620002000,\"name\":\"a1\",\"correlationId\":\"w1\",\"msg\":\"WebSocket is not open\"}",
        "{\"time\":1796620003000,\"name\":\"a2\",\"correlationId\":\"w9\",\"msg\":\"WebSocket is not open\"}",
        "{\"time\":1796620040000,\"name\":\"a1\",\"correlationId\":\"w2\",\"msg\":\"WebSocket is not open\"}",
        "{\"time\":1796620041000,\"name\":\"a1\",\"correlationId\":\"w2\",\"msg\":\"WebSocket is not open\"}",
    };
    struct alerts x;
    run(rs, lines, 5, &x);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.n_affected[0], 2);
    assert_string_equal(x.affected[0], "w1,w2");
    assert_int_equal(x.count[0], 4); /* the close and three hits of its service */
    assert_int_equal(x.timelines, 3);
    assert_int_equal(x.n_tl_alerts, 2); /* w1 and w2 list it, w9 does not */
    assert_true(x.tl_alerts[0] == x.id[0] && x.tl_alerts[1] == x.id[0]);
    ll_ruleset_destroy(rs);
}

/* ------------------------------------------------------------------------ */
/* Lint                                                                      */

static void lint_reports_places_and_suggestions(void **state)
{
    (void)state;
    char *out = lint("rules:\n"
                     "  - id: r1\n"
                     "    symptom: econreset\n"
                     "    severty: error\n"
                     "    title: t\n"
                     "    remediation: r\n"
                     "    when:\n"
                     "      err.cde: X\n"
                     "      msg: {regex: 'a(b'}\n"
                     "    examples: {match: ['{}']}\n"
                     "  - id: r1\n"
                     "    symptom: econnreset\n"
                     "    severity: error\n"
                     "    title: t\n"
                     "    remediation: r\n"
                     "    summary: '{service}[ ({err.code})'\n"
                     "    when: {macro: nope}\n");
    assert_non_null(strstr(out, "bad.yaml:4:5: error: [r1] unknown rule key 'severty' (did you "
                                "mean 'severity'?)"));
    assert_non_null(strstr(out, "bad.yaml:3:14: error: [r1] unknown symptom 'econreset' (did you "
                                "mean 'econnreset'?)"));
    assert_non_null(strstr(out, "bad.yaml:8:7: error: [r1] unknown field 'err.cde' (did you mean "
                                "'err.code'?)"));
    assert_non_null(strstr(out, "bad.yaml:9:24: error: [r1] bad regex: missing closing "
                                "parenthesis at offset 3"));
    assert_non_null(strstr(out, "[r1] rule id 'r1' is already used"));
    assert_non_null(strstr(out, "[r1] no macro named 'nope'"));
    assert_non_null(strstr(out, "[r1] every rule carries examples"));
    assert_non_null(strstr(out, "bad.yaml:16:14: error: [r1] summary: '[' without its ']'"));
    free(out);
}

static void lint_catches_yaml_cycles_and_kinds(void **state)
{
    (void)state;
    char *out = lint("rules:\n  - id: x\n    when: [unclosed\n");
    assert_non_null(strstr(out, "bad.yaml:"));
    assert_non_null(strstr(out, "YAML:"));
    free(out);
    out = lint("macros:\n  a: {macro: b}\n  b: {macro: a}\nrules:\n" RULE_HEAD("m", "econnreset")
               "    when: {macro: a}\n");
    assert_non_null(strstr(out, "refers to itself"));
    free(out);
    out = lint("rules:\n" RULE_HEAD("m", "econnreset") "    kind: treshold\n    when: {}\n");
    assert_non_null(strstr(out, "unknown kind 'treshold' (did you mean 'threshold'?)"));
    free(out);
    out = lint("nonsense: 1\nrules: []\n");
    assert_non_null(strstr(out, "unknown top-level key 'nonsense'"));
    free(out);
    out = lint("rules:\n" RULE_HEAD("m", "econnreset") "    kind: timeline\n"
               "    timeline: {err.code: X}\n");
    assert_non_null(strstr(out, "unknown field 'err.code'"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(string_operators),
        cmocka_unit_test(numbers_levels_and_presence),
        cmocka_unit_test(raw_json_paths_and_booleans),
        cmocka_unit_test(regex_with_prefilter_and_raw_lines),
        cmocka_unit_test(text_reads_every_string_value),
        cmocka_unit_test(recovery_drops_what_recovered_in_time),
        cmocka_unit_test(affects_names_the_blast_radius),
        cmocka_unit_test(text_needs_a_literal_the_raw_line_holds),
        cmocka_unit_test(pathological_regex_is_stopped_and_counted),
        cmocka_unit_test(macros_lists_and_exceptions),
        cmocka_unit_test(match_alerts_fold_within_suppress),
        cmocka_unit_test(summary_alternatives_and_optional_sections),
        cmocka_unit_test(rate_cap_holds_alerts_back),
        cmocka_unit_test(threshold_counts_within_a_sliding_window),
        cmocka_unit_test(sequence_needs_order_and_window),
        cmocka_unit_test(steps_of_one_instant_answer_each_other_in_any_order),
        cmocka_unit_test(live_alerts_are_written_as_they_open_and_grow),
        cmocka_unit_test(absence_fires_unless_expected_or_unknown),
        cmocka_unit_test(absence_until_scope_with_grace),
        cmocka_unit_test(timeline_rule_on_closed_workflow),
        cmocka_unit_test(matches_of_one_instant_are_taken_in_content_order),
        cmocka_unit_test(alert_ids_do_not_depend_on_arrival_order),
        cmocka_unit_test(lint_reports_places_and_suggestions),
        cmocka_unit_test(lint_catches_yaml_cycles_and_kinds),
    };
    return cmocka_run_group_tests(tests, tmpdir_group_setup, tmpdir_group_teardown);
}
