/* The built-in rule pack on logs that real Node.js programs wrote (pino,
 * winston, pg, ws, undici fetch, child_process, V8), one directory per
 * scenario under tests/data/real: every scenario must raise exactly the
 * symptoms its MANIFEST.json entry expects, healthy ones none. */
#define LL_E2E
#include "../testutil.h"

#include <stdbool.h>
#include <yajl/yajl_tree.h>

/* Runs logloom replay on @p dir; returns its JSON lines output. */
static char *replay(const char *dir)
{
    const char *argv[] = {logloom, "replay", "--format", "jsonl", "-q", dir, NULL};
    char *out;
    assert_int_equal(run_cmd(argv, tmpdir, &out, NULL), 0);
    return out;
}

/* For qsort of the rows of a char array. */
static int cmp_row(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The distinct symptoms of the alert records in @p out, sorted, joined by ','. */
static void symptoms(const char *out, char *dst, size_t size)
{
    char found[32][48];
    size_t n = 0;
    for (const char *p = out; (p = strstr(p, "{\"type\":\"alert\"")); p++) {
        const char *s = strstr(p, "\"symptom\":\"");
        assert_non_null(s);
        s += 11;
        size_t len = strcspn(s, "\"");
        char sym[48];
        snprintf(sym, sizeof sym, "%.*s", (int)len, s);
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++)
            dup = strcmp(found[i], sym) == 0;
        if (!dup && n < 32)
            snprintf(found[n++], sizeof found[0], "%s", sym);
    }
    qsort(found, n, sizeof found[0], cmp_row);
    dst[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(dst + strlen(dst), size - strlen(dst), "%s%.47s", i ? "," : "", found[i]);
}

static void every_scenario_raises_what_it_should(void **state)
{
    (void)state;
    char *text = read_file("tests/data/real/MANIFEST.json", NULL);
    char err[256];
    yajl_val root = yajl_tree_parse(text, err, sizeof err);
    assert_non_null(root);
    const char *path_s[] = {"scenarios", NULL};
    yajl_val list = yajl_tree_get(root, path_s, yajl_t_array);
    assert_non_null(list);
    assert_true(YAJL_GET_ARRAY(list)->len >= 4);
    int failures = 0;
    for (size_t i = 0; i < YAJL_GET_ARRAY(list)->len; i++) {
        yajl_val sc = YAJL_GET_ARRAY(list)->values[i];
        const char *p_dir[] = {"dir", NULL}, *p_exp[] = {"expect", NULL};
        const char *dir = YAJL_GET_STRING(yajl_tree_get(sc, p_dir, yajl_t_string));
        yajl_val exp = yajl_tree_get(sc, p_exp, yajl_t_array);
        assert_non_null(dir);
        assert_non_null(exp);
        char *want[32];
        size_t nw = YAJL_GET_ARRAY(exp)->len;
        for (size_t k = 0; k < nw && k < 32; k++)
            want[k] = YAJL_GET_STRING(YAJL_GET_ARRAY(exp)->values[k]);
        qsort(want, nw, sizeof *want, cmp_strs);
        char want_s[512] = "", got_s[512];
        for (size_t k = 0; k < nw; k++)
            snprintf(want_s + strlen(want_s), sizeof want_s - strlen(want_s), "%s%s", k ? "," : "",
                     want[k]);
        char full[600];
        snprintf(full, sizeof full, "tests/data/real/%s", dir);
        char *out = replay(full);
        symptoms(out, got_s, sizeof got_s);
        if (strcmp(want_s, got_s) != 0) {
            fprintf(stderr, "scenario %s: expected [%s], raised [%s]\n", dir, want_s, got_s);
            failures++;
        }
        free(out);
    }
    yajl_tree_free(root);
    free(text);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_scenario_raises_what_it_should),
    };
    return cmocka_run_group_tests(tests, e2e_group_setup, e2e_group_teardown);
}
