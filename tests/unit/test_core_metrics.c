/* The metrics registry's ground: Prometheus text as written byte for byte,
 * and the process's resident size. */
#include "../testutil.h"

#include "logloom/core.h"

#include <math.h>
#include <sys/resource.h>

/* ------------------------------------------------------------------------ */
/* Exposition text                                                           */

static const char *render_value(struct ll_buf *b, double v)
{
    ll_buf_reset(b);
    ll_prom_sample(b, "x", NULL, v);
    return b->data;
}

static void family_writes_help_and_type(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    ll_prom_family(&b, "logloom_events_total", "counter", "Events decoded, raw ones included.");
    assert_string_equal(b.data, "# HELP logloom_events_total Events decoded, raw ones included.\n"
                                "# TYPE logloom_events_total counter\n");
    ll_buf_reset(&b);
    /* HELP escapes only backslash and newline; quotes stay as they are. */
    ll_prom_family(&b, "logloom_open", "gauge", "a \\ b\n\"c\"");
    assert_string_equal(b.data, "# HELP logloom_open a \\\\ b\\n\"c\"\n"
                                "# TYPE logloom_open gauge\n");
    ll_buf_free(&b);
}

static void sample_without_labels_has_no_braces(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    ll_prom_sample(&b, "logloom_open_timelines", NULL, 3);
    const char *const none[] = {NULL};
    ll_prom_sample(&b, "logloom_open_timelines", none, 4);
    assert_string_equal(b.data, "logloom_open_timelines 3\nlogloom_open_timelines 4\n");
    ll_buf_free(&b);
}

static void sample_escapes_label_values(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    const char *const labels[] = {"service", "agent \"2\" \\ C:\\tmp\nnext",
                                  "reason", "not_json",
                                  "name", "caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x93\x88", NULL};
    ll_prom_sample(&b, "logloom_rejected_total", labels, 17);
    assert_string_equal(b.data, "logloom_rejected_total"
                                "{service=\"agent \\\"2\\\" \\\\ C:\\\\tmp\\nnext\","
                                "reason=\"not_json\","
                                "name=\"caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x93\x88\"} 17\n");
    ll_buf_free(&b);
}

static void label_bytes_that_are_not_utf8_become_replacement_characters(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    /* A stray byte, a truncated three-byte sequence, an overlong slash. */
    const char *const labels[] = {"service", "a\xFFz \xE2\x82 \xC0\xAF.", NULL};
    ll_prom_sample(&b, "logloom_orphans_total", labels, 1);
    assert_string_equal(b.data, "logloom_orphans_total{service=\"a\xEF\xBF\xBDz "
                                "\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD.\"} 1\n");
    ll_buf_free(&b);
}

static void values_print_as_integers_when_integral(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    assert_string_equal(render_value(&b, 0), "x 0\n");
    assert_string_equal(render_value(&b, -0.0), "x 0\n");
    assert_string_equal(render_value(&b, 42), "x 42\n");
    assert_string_equal(render_value(&b, -3), "x -3\n");
    assert_string_equal(render_value(&b, 1e15), "x 1000000000000000\n");
    assert_string_equal(render_value(&b, 9007199254740994.0), "x 9007199254740994\n");
    assert_string_equal(render_value(&b, (double)UINT64_C(10000000000000000000)),
                        "x 10000000000000000000\n");
    assert_string_equal(render_value(&b, 1e20), "x 1e+20\n");
    ll_buf_free(&b);
}

static void fractions_keep_every_digit_they_need(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    assert_string_equal(render_value(&b, 0.5), "x 0.5\n");
    assert_string_equal(render_value(&b, 0.1), "x 0.1\n");
    assert_string_equal(render_value(&b, -2.25), "x -2.25\n");
    assert_string_equal(render_value(&b, 1.0 / 3), "x 0.3333333333333333\n");
    assert_string_equal(render_value(&b, 0.1 + 0.2), "x 0.30000000000000004\n");
    assert_string_equal(render_value(&b, 1e-9), "x 1e-09\n");
    /* Every fraction reads back as the same double. */
    const double tricky[] = {0.1 + 0.2, 2.0 / 3, 1e-300, 123456.789, 5e-324,
                             1.7976931348623157e308};
    for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++)
        assert_true(strtod(render_value(&b, tricky[i]) + 2, NULL) == tricky[i]);
    ll_buf_free(&b);
}

static void nan_and_infinities_as_prometheus_spells_them(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    assert_string_equal(render_value(&b, NAN), "x NaN\n");
    assert_string_equal(render_value(&b, INFINITY), "x +Inf\n");
    assert_string_equal(render_value(&b, -INFINITY), "x -Inf\n");
    ll_buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Process                                                                   */

static void rss_is_in_bytes_and_follows_memory_use(void **state)
{
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t before = ll_process_rss();
    assert_true(before >= 256 * 1024);           /* more than a few pages */
    assert_true(before < UINT64_C(64) << 30);    /* less than 64 GiB */
    assert_true(before % (uint64_t)page == 0);   /* pages, counted in bytes */

    size_t n = 64u << 20;
    char *p = malloc(n);
    memset(p, 1, n);
    __asm__ volatile("" : : "r"(p) : "memory"); /* keep the pages touched */
    uint64_t after = ll_process_rss();
    assert_true(after >= before + (48u << 20));
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    /* The kernel's peak agrees (its per-CPU counters lag by a few pages). */
    assert_true(after <= (uint64_t)ru.ru_maxrss * 1024 + (UINT64_C(2) << 20));
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(family_writes_help_and_type),
        cmocka_unit_test(sample_without_labels_has_no_braces),
        cmocka_unit_test(sample_escapes_label_values),
        cmocka_unit_test(label_bytes_that_are_not_utf8_become_replacement_characters),
        cmocka_unit_test(values_print_as_integers_when_integral),
        cmocka_unit_test(fractions_keep_every_digit_they_need),
        cmocka_unit_test(nan_and_infinities_as_prometheus_spells_them),
        cmocka_unit_test(rss_is_in_bytes_and_follows_memory_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
