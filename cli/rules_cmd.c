/* `logloom rules lint|test|list`: check rule files, run the examples every
 * rule carries, list what is loaded. */
#include "logloom/core.h"
#include "logloom/ingest.h"
#include "logloom/rules.h"
#include "logloom/runner.h"

#include <string.h>

#include "cli.h"

void ll_cmd_rules_usage(FILE *out)
{
    fprintf(out,
            "usage: logloom rules lint [PATH...]\n"
            "       logloom rules test [-v] [PATH...]\n"
            "       logloom rules list [PATH...]\n"
            "\n"
            "PATH is a rule file or a directory of .yaml files; 'builtin' (the default\n"
            "when no PATH is given) is the pack compiled into logloom.\n"
            "\n"
            "  lint   report every problem with file:line:column and rule id\n"
            "  test   run each rule's examples through decode, correlation and rules\n"
            "  list   the rules with their kind, symptom and playbook section\n"
            "\n"
            "exit status: 0 clean, 1 problems or failed examples, 2 bad arguments\n");
}

/* Loads @p paths ("builtin" or none: the built-in pack), printing every
 * diagnostic. @returns the set, or NULL on errors. */
static ll_ruleset *load(char **paths, int n)
{
    const char **files = ll_calloc((size_t)n + 1, sizeof *files);
    size_t k = 0;
    bool builtin = n == 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(paths[i], "builtin") == 0)
            builtin = true;
        else
            files[k++] = paths[i];
    }
    struct ll_diags d = {0};
    ll_ruleset *rs = NULL;
    ll_ruleset_load(files, k, builtin, &rs, &d);
    ll_diags_print(&d, stderr);
    if (d.errors)
        fprintf(stderr, "%zu error%s\n", d.errors, d.errors == 1 ? "" : "s");
    ll_diags_free(&d);
    ll_free(files);
    return rs;
}

/* ------------------------------------------------------------------------ */
/* test                                                                      */

struct example_run {
    const char *rule;
    size_t alerts; /* of that rule */
    size_t other;  /* of other rules */
};

static void count_alert(void *ctx, const struct ll_alert *a)
{
    struct example_run *x = ctx;
    if (ll_str_eq(a->rule, ll_str_c(x->rule)))
        x->alerts++;
    else
        x->other++;
}

static void ignore_timeline(void *ctx, const struct ll_timeline *tl)
{
    (void)ctx;
    (void)tl;
}

/* Feeds one example's lines through decode, the correlator and the engine,
 * as a single source; lines without a time take the previous one's. */
static size_t run_example(const ll_ruleset *rs, ll_decoder *dec, const struct ll_rule_example *ex,
                          size_t *other)
{
    struct example_run x = {.rule = ex->rule};
    struct ll__stage_out out = {.timeline = ignore_timeline, .alert = count_alert, .ctx = &x};
    struct ll_corr_conf conf = {0};
    struct ll__stage st;
    ll__stage_init(&st, &conf, rs, &out);
    struct ll_arena arena;
    ll_arena_init(&arena, 4096);
    int64_t last = 0;
    uint64_t offset = 0;
    for (size_t i = 0; i < ex->n_lines; i++) {
        const char *line = ex->lines[i];
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        struct ll_event ev = {.pos = {LL_STR("example.log"), offset}};
        enum ll_reject why;
        if (ll_decoder_decode(dec, line, len, &arena, &ev, &why) != LL_OK) {
            ll_decoder_raw_event(dec, line, len, &arena, &ev);
            ev.pos = (struct ll_pos){LL_STR("example.log"), offset};
        }
        if (!ev.service.len)
            ev.service = LL_STR("example");
        if (ev.ts_ns == LL_TIME_NONE)
            ev.ts_ns = last;
        last = ev.ts_ns;
        ll__stage_push(&st, &ev);
        ll_arena_reset(&arena);
        offset += len + 1;
    }
    ll__stage_flush(&st);
    ll__stage_destroy(&st);
    ll_arena_free(&arena);
    *other = x.other;
    return x.alerts;
}

static int cmd_test(char **argv, int argc)
{
    bool verbose = argc > 0 && strcmp(argv[0], "-v") == 0;
    if (verbose) {
        argv++;
        argc--;
    }
    ll_ruleset *rs = load(argv, argc);
    if (!rs)
        return LL_EXIT_FAILURE;
    ll_rule_eval *eval = ll_rule_eval_new(rs);
    struct ll_decode_conf dconf = {.match = ll_rule_eval_match, .match_ctx = eval};
    dconf.extra_paths = ll_ruleset_extra_paths(rs, &dconf.n_extra_paths);
    char err[256];
    ll_decoder *dec = ll_decoder_new(&dconf, err, sizeof err);
    size_t n, failed = 0;
    const struct ll_rule_example *ex = ll_ruleset_examples(rs, &n);
    for (size_t i = 0; dec && i < n; i++) {
        size_t other;
        size_t got = run_example(rs, dec, &ex[i], &other);
        bool ok = ex[i].at_least ? got >= ex[i].alerts : got == ex[i].alerts;
        failed += !ok;
        if (!ok || verbose)
            printf("%s %s:%d [%s] %s %zu alert%s, got %zu%s\n", ok ? "ok  " : "FAIL",
                   ex[i].file, ex[i].line, ex[i].rule, ex[i].at_least ? "wants at least" : "wants",
                   ex[i].alerts, ex[i].alerts == 1 ? "" : "s", got,
                   other ? " (and alerts of other rules)" : "");
    }
    if (!dec)
        fprintf(stderr, "logloom rules test: %s\n", err);
    printf("%zu rules, %zu examples, %zu failed\n", ll_ruleset_count(rs), n, failed);
    ll_decoder_destroy(dec);
    ll_rule_eval_destroy(eval);
    ll_ruleset_destroy(rs);
    return failed || !dec ? LL_EXIT_FAILURE : LL_EXIT_OK;
}

int ll_cmd_rules(int argc, char **argv)
{
    if (argc < 2) {
        ll_cmd_rules_usage(stderr);
        return LL_EXIT_USAGE;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "lint") == 0) {
        ll_ruleset *rs = load(argv + 2, argc - 2);
        if (rs)
            printf("%zu rules, no problems\n", ll_ruleset_count(rs));
        ll_ruleset_destroy(rs);
        return rs ? LL_EXIT_OK : LL_EXIT_FAILURE;
    }
    if (strcmp(verb, "test") == 0)
        return cmd_test(argv + 2, argc - 2);
    if (strcmp(verb, "list") == 0) {
        ll_ruleset *rs = load(argv + 2, argc - 2);
        if (!rs)
            return LL_EXIT_FAILURE;
        ll_ruleset_list(rs, stdout);
        ll_ruleset_destroy(rs);
        return LL_EXIT_OK;
    }
    if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0) {
        ll_cmd_rules_usage(stdout);
        return LL_EXIT_OK;
    }
    fprintf(stderr, "logloom rules: unknown verb '%s'\n", verb);
    ll_cmd_rules_usage(stderr);
    return LL_EXIT_USAGE;
}
