/* Timestamp parsing and formatting: every shape loggers write. */
#include "../testutil.h"

#include "logloom/core.h"

static int64_t iso(const char *s)
{
    int64_t ns = 0;
    assert_int_equal(ll_time_parse(s, strlen(s), &ns), LL_OK);
    return ns;
}

static void assert_iso_rejected(const char *s)
{
    int64_t ns;
    assert_int_equal(ll_time_parse(s, strlen(s), &ns), LL_EPARSE);
}

static int64_t epoch(const char *s)
{
    int64_t ns = 0;
    assert_int_equal(ll_time_parse_epoch(s, strlen(s), &ns), LL_OK);
    return ns;
}

#define T0 INT64_C(1764265467) /* 2025-11-27T17:44:27Z */

static void rfc3339_with_fraction_and_zone(void **state)
{
    (void)state;
    assert_true(iso("2025-11-27T17:44:27Z") == T0 * LL_NS_PER_SEC);
    assert_true(iso("2025-11-27T17:44:27.5Z") == T0 * LL_NS_PER_SEC + 500000000);
    assert_true(iso("2025-11-27T17:44:27.123456789Z") == T0 * LL_NS_PER_SEC + 123456789);
    /* Digits below the nanosecond are dropped, not rounded. */
    assert_true(iso("2025-11-27T17:44:27.1234567899Z") == T0 * LL_NS_PER_SEC + 123456789);
    assert_true(iso("2025-11-27T18:44:27+01:00") == T0 * LL_NS_PER_SEC);
    assert_true(iso("2025-11-27T12:14:27-0530") == T0 * LL_NS_PER_SEC);
    assert_true(iso("2025-11-27T19:44:27+02") == T0 * LL_NS_PER_SEC);
    assert_true(iso("2025-11-27t17:44:27z") == T0 * LL_NS_PER_SEC);
}

static void iso8601_variants_without_zone_are_utc(void **state)
{
    (void)state;
    assert_true(iso("2025-11-27 17:44:27") == T0 * LL_NS_PER_SEC);
    assert_true(iso("2025-11-27 17:44:27,250") == T0 * LL_NS_PER_SEC + 250000000);
    assert_true(iso("2025-11-27T17:44") == (T0 - 27) * LL_NS_PER_SEC);
    assert_true(iso("2025-11-27") == (T0 - 17 * 3600 - 44 * 60 - 27) * LL_NS_PER_SEC);
    assert_true(iso("1970-01-01T00:00:00Z") == 0);
    assert_true(iso("2000-02-29T00:00:00Z") == INT64_C(951782400) * LL_NS_PER_SEC);
    assert_true(iso("1969-12-31T23:59:59.5Z") == -500000000);
}

static void malformed_dates_are_rejected(void **state)
{
    (void)state;
    assert_iso_rejected("2025-13-01T00:00:00Z");
    assert_iso_rejected("2025-02-29T00:00:00Z"); /* not a leap year */
    assert_iso_rejected("2025-11-31T00:00:00Z");
    assert_iso_rejected("2025-11-27T24:00:00Z");
    assert_iso_rejected("2025-11-27T17:44:27.Z");
    assert_iso_rejected("2025-11-27T17:44:27+25:00");
    assert_iso_rejected("2025-11-27T17:44:27Z trailing");
    assert_iso_rejected("yesterday");
    assert_iso_rejected("");
    /* Outside what 64-bit nanoseconds hold: unusable, never wrapped. */
    assert_iso_rejected("0001-01-01T00:00:00Z");
    assert_iso_rejected("9999-12-31T23:59:59Z");
}

/* Plain integers take a short way: it must agree with the general one
 * (reached here through a fraction of zero) at every length and at the
 * edges of the range. */
static void epoch_integers_agree_with_the_general_parse(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "1", "9", "10", "1764265467", "9223372036", "9223372037", "10000000000",
        "99999999999", "1764265467123", "9223372036854", "9223372036855", "99999999999999",
        "1764265467123456", "9223372036854775", "9223372036854776", "99999999999999999",
        "100000000000000000", "1764265467123456789", "9223372036854775807",
        "9223372036854775808", "0", "0001764265467", "17642654671x"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char frac[64];
        snprintf(frac, sizeof frac, "%s.0", cases[i]);
        int64_t a = -1, b = -1;
        int ra = ll_time_parse_epoch(cases[i], strlen(cases[i]), &a);
        int rb = ll_time_parse_epoch(frac, strlen(frac), &b);
        if (ra != rb || (ra == LL_OK && a != b))
            fail_msg("'%s': %d %lld, '%s': %d %lld", cases[i], ra, (long long)a, frac, rb,
                     (long long)b);
    }
}

static void epoch_unit_follows_magnitude(void **state)
{
    (void)state;
    assert_true(epoch("1764265467") == T0 * LL_NS_PER_SEC);
    assert_true(epoch("1764265467123") == T0 * LL_NS_PER_SEC + 123000000);
    assert_true(epoch("1764265467123456") == T0 * LL_NS_PER_SEC + 123456000);
    assert_true(epoch("1764265467123456789") == T0 * LL_NS_PER_SEC + 123456789);
    assert_true(epoch("1764265467.25") == T0 * LL_NS_PER_SEC + 250000000);
    assert_true(epoch("1764265467123.5") == T0 * LL_NS_PER_SEC + 123500000);
    assert_true(epoch("1.764265467e9") == T0 * LL_NS_PER_SEC);
    assert_true(epoch("1.764265467123E+12") == T0 * LL_NS_PER_SEC + 123000000);
    assert_true(epoch("0") == 0);
    /* Strings holding numbers are epochs too. */
    assert_true(iso("1764265467123") == T0 * LL_NS_PER_SEC + 123000000);
}

static void epoch_rejects_what_is_not_a_time(void **state)
{
    (void)state;
    int64_t ns;
    assert_int_equal(ll_time_parse_epoch("-5", 2, &ns), LL_EPARSE);
    assert_int_equal(ll_time_parse_epoch("1e400", 5, &ns), LL_EPARSE);
    assert_int_equal(ll_time_parse_epoch("99999999999999999999999", 23, &ns), LL_EPARSE);
    assert_int_equal(ll_time_parse_epoch("12abc", 5, &ns), LL_EPARSE);
    assert_int_equal(ll_time_parse_epoch("", 0, &ns), LL_EPARSE);
}

static void format_uses_needed_fraction_digits(void **state)
{
    (void)state;
    char out[LL_TIME_BUFSZ];
    ll_time_format(T0 * LL_NS_PER_SEC, out);
    assert_string_equal(out, "2025-11-27T17:44:27Z");
    ll_time_format(T0 * LL_NS_PER_SEC + 120000000, out);
    assert_string_equal(out, "2025-11-27T17:44:27.120Z");
    ll_time_format(T0 * LL_NS_PER_SEC + 123456000, out);
    assert_string_equal(out, "2025-11-27T17:44:27.123456Z");
    ll_time_format(T0 * LL_NS_PER_SEC + 1, out);
    assert_string_equal(out, "2025-11-27T17:44:27.000000001Z");
    ll_time_format(-500000000, out);
    assert_string_equal(out, "1969-12-31T23:59:59.500Z");
    /* Round trip. */
    assert_true(iso(out) == -500000000);
}

/* Found by fuzzing: the first and last second of what int64 nanoseconds
 * hold did not parse back after formatting. */
static void every_formatted_instant_parses_back(void **state)
{
    (void)state;
    const int64_t edges[] = {INT64_MAX, INT64_MAX - 1, INT64_C(9223372036000000000),
                             INT64_C(9223372036854177000), INT64_MIN + 1,
                             INT64_C(-9223372036000000000), -1, 0, -500000000};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        char buf[LL_TIME_BUFSZ];
        size_t n = ll_time_format(edges[i], buf);
        int64_t back = 0;
        assert_int_equal(ll_time_parse(buf, n, &back), LL_OK);
        assert_true(back == edges[i]);
    }
    /* One nanosecond beyond either end, and LL_TIME_NONE itself. */
    assert_iso_rejected("2262-04-11T23:47:16.854775808Z");
    assert_iso_rejected("1677-09-21T00:12:43.145224192Z");
    assert_iso_rejected("1677-09-21T00:12:43Z");
}

static void sizes(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t bytes; /* UINT64_MAX: refused */
    } cases[] = {
        {"0", 0}, {"512", 512}, {"512K", 512 << 10}, {"64m", 64 << 20},
        {"3G", UINT64_C(3) << 30}, {"1024G", UINT64_C(1) << 40}, {"1025G", UINT64_MAX},
        {"", UINT64_MAX}, {"M", UINT64_MAX}, {"-1", UINT64_MAX}, {"12X", UINT64_MAX},
        {"1MB", UINT64_MAX}, {"99999999999999999999", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 7;
        int rc = ll_size_parse(cases[i].s, &v);
        if (cases[i].bytes == UINT64_MAX) {
            assert_int_equal(rc, LL_EPARSE);
            assert_int_equal(v, 7);
        } else {
            assert_int_equal(rc, LL_OK);
            assert_int_equal(v, cases[i].bytes);
        }
    }
}

static void durations(void **state)
{
    (void)state;
    int64_t ns;
    assert_int_equal(ll_duration_parse("30s", &ns), LL_OK);
    assert_true(ns == 30 * LL_NS_PER_SEC);
    assert_int_equal(ll_duration_parse("250ms", &ns), LL_OK);
    assert_true(ns == 250 * LL_NS_PER_MS);
    assert_int_equal(ll_duration_parse("1.5m", &ns), LL_OK);
    assert_true(ns == 90 * LL_NS_PER_SEC);
    assert_int_equal(ll_duration_parse("2", &ns), LL_OK);
    assert_true(ns == 2 * LL_NS_PER_SEC);
    assert_int_equal(ll_duration_parse("1h", &ns), LL_OK);
    assert_true(ns == 3600 * LL_NS_PER_SEC);
    assert_int_equal(ll_duration_parse("5 parsecs", &ns), LL_EPARSE);
    assert_int_equal(ll_duration_parse("s", &ns), LL_EPARSE);
    assert_int_equal(ll_duration_parse("", &ns), LL_EPARSE);
    /* Formatting reads back, in the largest whole unit. */
    /* Exact to the nanosecond, up to what int64 holds (found by fuzzing:
     * large ones were refused or overflowed, fractions came out 1 ns off). */
    assert_int_equal(ll_duration_parse("1.123456789s", &ns), LL_OK);
    assert_true(ns == 1123456789);
    assert_int_equal(ll_duration_parse("0.3m", &ns), LL_OK);
    assert_true(ns == 18 * LL_NS_PER_SEC);
    assert_int_equal(ll_duration_parse("9223372036854775808ns", &ns), LL_EPARSE);
    assert_int_equal(ll_duration_parse("106752d", &ns), LL_EPARSE);
    assert_int_equal(ll_duration_parse("9223372036.9s", &ns), LL_EPARSE);
    const int64_t back[] = {0, 1500 * LL_NS_PER_MS, 90 * LL_NS_PER_SEC, 7 * 86400 * LL_NS_PER_SEC,
                            1234, INT64_MAX};
    const char *want[] = {"0s", "1500ms", "90s", "7d", "1234ns", "9223372036854775807ns"};
    for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
        char out[32];
        ll_duration_format(back[i], out);
        assert_string_equal(out, want[i]);
        assert_int_equal(ll_duration_parse(out, &ns), LL_OK);
        assert_true(ns == back[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(epoch_integers_agree_with_the_general_parse),
        cmocka_unit_test(rfc3339_with_fraction_and_zone),
        cmocka_unit_test(iso8601_variants_without_zone_are_utc),
        cmocka_unit_test(malformed_dates_are_rejected),
        cmocka_unit_test(epoch_unit_follows_magnitude),
        cmocka_unit_test(epoch_rejects_what_is_not_a_time),
        cmocka_unit_test(format_uses_needed_fraction_digits),
        cmocka_unit_test(every_formatted_instant_parses_back),
        cmocka_unit_test(durations),
        cmocka_unit_test(sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
