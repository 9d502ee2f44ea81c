/* Level names and numbers as pino, bunyan, winston, syslog and log4j write
 * them, mapped to logloom's six levels. */
#include "../testutil.h"

#include "logloom/core.h"

static enum ll_level name(const char *s)
{
    return ll_level_from_name(s, strlen(s));
}

static void pino_and_bunyan_numbers(void **state)
{
    (void)state;
    assert_int_equal(ll_level_from_number(10), LL_LEVEL_TRACE);
    assert_int_equal(ll_level_from_number(20), LL_LEVEL_DEBUG);
    assert_int_equal(ll_level_from_number(30), LL_LEVEL_INFO);
    assert_int_equal(ll_level_from_number(40), LL_LEVEL_WARN);
    assert_int_equal(ll_level_from_number(50), LL_LEVEL_ERROR);
    assert_int_equal(ll_level_from_number(60), LL_LEVEL_FATAL);
    /* Custom pino levels round down to the standard level below them. */
    assert_int_equal(ll_level_from_number(35), LL_LEVEL_INFO);
    assert_int_equal(ll_level_from_number(100), LL_LEVEL_FATAL);
    /* Numbers as strings too. */
    assert_int_equal(name("50"), LL_LEVEL_ERROR);
}

static void syslog_severities(void **state)
{
    (void)state;
    assert_int_equal(ll_level_from_number(0), LL_LEVEL_FATAL);
    assert_int_equal(ll_level_from_number(3), LL_LEVEL_ERROR);
    assert_int_equal(ll_level_from_number(4), LL_LEVEL_WARN);
    assert_int_equal(ll_level_from_number(6), LL_LEVEL_INFO);
    assert_int_equal(ll_level_from_number(7), LL_LEVEL_DEBUG);
    assert_int_equal(ll_level_from_number(-1), LL_LEVEL_NONE);
}

static void names_in_any_case(void **state)
{
    (void)state;
    assert_int_equal(name("error"), LL_LEVEL_ERROR);
    assert_int_equal(name("ERROR"), LL_LEVEL_ERROR);
    assert_int_equal(name("Warning"), LL_LEVEL_WARN);
    assert_int_equal(name("warn"), LL_LEVEL_WARN);
    assert_int_equal(name("http"), LL_LEVEL_INFO);    /* winston npm levels */
    assert_int_equal(name("verbose"), LL_LEVEL_DEBUG);
    assert_int_equal(name("silly"), LL_LEVEL_DEBUG);
    assert_int_equal(name("crit"), LL_LEVEL_FATAL);   /* winston syslog levels */
    assert_int_equal(name("emerg"), LL_LEVEL_FATAL);
    assert_int_equal(name("notice"), LL_LEVEL_INFO);
    assert_int_equal(name("FATAL"), LL_LEVEL_FATAL);
    assert_int_equal(name("trace"), LL_LEVEL_TRACE);
    assert_int_equal(name("bogus"), LL_LEVEL_NONE);
    assert_int_equal(name(""), LL_LEVEL_NONE);
    assert_int_equal(name("3x"), LL_LEVEL_NONE);
}

static void level_names(void **state)
{
    (void)state;
    assert_string_equal(ll_level_name(LL_LEVEL_WARN), "warn");
    assert_string_equal(ll_level_name(LL_LEVEL_NONE), "-");
    assert_string_equal(ll_level_name((enum ll_level)99), "-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pino_and_bunyan_numbers),
        cmocka_unit_test(syslog_severities),
        cmocka_unit_test(names_in_any_case),
        cmocka_unit_test(level_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
