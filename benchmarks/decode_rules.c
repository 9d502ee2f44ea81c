/* The cost of the rule pack at decode time: logloom's own decoder over a
 * file, without rules and with them (their extra paths extracted and every
 * stateless step evaluated), interleaved so machine noise hits both alike.
 *
 *   ll-bench-rules FILE [ROUNDS] [RULES...]    (RULES default: the built-in pack)
 *
 * Prints the median seconds of each, and the pack's cost: how much longer
 * decoding takes with it, as the median of per-round paired ratios; and the
 * ratio for only extracting the extra paths the rules read. */
#include "logloom/ingest.h"
#include "logloom/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        exit(2);
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        perror(path);
        exit(2);
    }
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static size_t *step_hits; /* per step, over one pass */
static size_t n_steps;

/* Decodes every line; returns seconds, and matched events in @p matched. */
static double pass(ll_decoder *d, const char *buf, size_t len, size_t *matched)
{
    struct ll_arena a;
    ll_arena_init(&a, 1 << 16);
    int64_t t0 = ll_clock_mono_ns();
    size_t m = 0, lines = 0;
    for (const char *p = buf, *end = buf + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct ll_event ev = {0};
        enum ll_reject why;
        if (ll_decoder_decode(d, p, n, &a, &ev, &why) == LL_OK && ev.match) {
            m++;
            for (size_t b = 0; step_hits && b < n_steps; b++)
                step_hits[b] += (ev.match[b / 64] >> (b % 64)) & 1;
        }
        if (++lines % 4096 == 0)
            ll_arena_reset(&a);
        p += n + 1;
    }
    double secs = (double)(ll_clock_mono_ns() - t0) / 1e9;
    ll_arena_free(&a);
    *matched = m;
    return secs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts @p v in place and returns its median. */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ll-bench-rules FILE [ROUNDS] [RULES...]\n");
        return 2;
    }
    size_t len;
    char *buf = slurp(argv[1], &len);
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (rounds < 1 || rounds > 50)
        rounds = 5;
    struct ll_diags diags = {0};
    ll_ruleset *rs = NULL;
    const char *const *paths = (const char *const *)argv + 3;
    size_t n_paths = argc > 3 ? (size_t)(argc - 3) : 0;
    if (ll_ruleset_load(paths, n_paths, n_paths == 0, &rs, &diags) != LL_OK) {
        ll_diags_print(&diags, stderr);
        return 2;
    }
    ll_diags_free(&diags);
    ll_rule_eval *eval = ll_rule_eval_new(rs);
    char err[256];
    ll_decoder *plain = ll_decoder_new(NULL, err, sizeof err);
    struct ll_decode_conf dc = {.match = ll_rule_eval_match, .match_ctx = eval};
    dc.extra_paths = ll_ruleset_extra_paths(rs, &dc.n_extra_paths);
    ll_decoder *ruled = ll_decoder_new(&dc, err, sizeof err);
    struct ll_decode_conf pc = {.extra_paths = dc.extra_paths, .n_extra_paths = dc.n_extra_paths};
    ll_decoder *paths_only = ll_decoder_new(&pc, err, sizeof err);
    if (!plain || !ruled || !paths_only) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    double *a = calloc((size_t)rounds, sizeof *a), *b = calloc((size_t)rounds, sizeof *b),
           *c = calloc((size_t)rounds, sizeof *c);
    size_t matched = 0, none;
    pass(plain, buf, len, &none); /* warm the page cache and the branch predictors */
    /* Each round runs the three in a rotated order: none always goes first. */
    for (int i = 0; i < rounds; i++)
        for (int k = 0; k < 3; k++) {
            int which = (i + k) % 3;
            if (which == 0)
                a[i] = pass(plain, buf, len, &none);
            else if (which == 1)
                b[i] = pass(ruled, buf, len, &matched);
            else
                c[i] = pass(paths_only, buf, len, &none);
        }
    /* Ratios pair the passes of one round (the machine's speed drifts
     * between rounds), then take the median over rounds. */
    double *rb = calloc((size_t)rounds, sizeof *rb), *rc = calloc((size_t)rounds, sizeof *rc);
    for (int i = 0; i < rounds; i++) {
        rb[i] = b[i] / a[i];
        rc[i] = c[i] / a[i];
    }
    double ma = median(a, rounds), mb = median(b, rounds);
    double ratio = median(rb, rounds), paths_ratio = median(rc, rounds);
    double lo = rb[0], hi = rb[rounds - 1]; /* sorted by median() */
    printf("rules: %zu (%zu extra paths); events matching a step: %zu\n", ll_ruleset_count(rs),
           dc.n_extra_paths, matched);
    n_steps = ll_ruleset_steps(rs);
    step_hits = calloc(n_steps ? n_steps : 1, sizeof *step_hits);
    pass(ruled, buf, len, &matched);
    for (size_t k = 0; k < n_steps; k++)
        if (step_hits[k])
            printf("  step %zu of %s: %zu events\n", k, ll_ruleset_step_rule(rs, k), step_hits[k]);
    free(step_hits);
    printf("decode alone      median %.3f s (%.0f MB/s)\n", ma, (double)len / ma / 1e6);
    printf("decode with rules median %.3f s (%.0f MB/s)\n", mb, (double)len / mb / 1e6);
    printf("the pack adds %.1f%% to decode: median of %d paired ratios %.3f (min %.3f, max "
           "%.3f); extracting its extra paths alone: %.3f; regex limit hits %llu\n",
           (ratio - 1) * 100, rounds, ratio, lo, hi, paths_ratio,
           (unsigned long long)ll_rule_eval_limit_hits(eval));
    ll_decoder_destroy(plain);
    ll_decoder_destroy(ruled);
    ll_decoder_destroy(paths_only);
    ll_rule_eval_destroy(eval);
    ll_ruleset_destroy(rs);
    free(a);
    free(b);
    free(c);
    free(rb);
    free(rc);
    free(buf);
    return 0;
}
