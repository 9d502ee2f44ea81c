/* The symptom vocabulary DESIGN.md promises exists, with playbook sections. */
#include "../testutil.h"

#include "logloom/rules.h"

static void every_design_symptom_exists(void **state)
{
    (void)state;
    static const struct {
        const char *id, *section;
    } want[] = {
        {"spawn-einval", "1.1"}, {"spawn-enoent", "1.1"}, {"spawn-eacces", "1.1"},
        {"fetch-undefined", "2.1"}, {"request-timeout", "2.2"}, {"econnreset", "2.2"},
        {"econnrefused", "2.2"}, {"enotfound", "2.2"}, {"tls-untrusted", "2.2"},
        {"ws-ghost-agent", "3.1"}, {"correlation-lost", "4.1"},
        {"pg-too-many-connections", "5.1"}, {"pg-pool-leak", "5.1"}, {"pg-deadlock", "5.1"},
        {"oom-killed", "6.1"}, {"heap-oom", "6.1"}, {"zombie-child", "1.1"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct ll_symptom *s = ll_symptom_find(ll_str_c(want[i].id));
        assert_non_null(s);
        assert_string_equal(s->playbook, want[i].section);
        assert_true(strlen(s->title) > 10);
    }
    assert_null(ll_symptom_find(LL_STR("spawn")));
}

static void ids_are_unique(void **state)
{
    (void)state;
    size_t n;
    const struct ll_symptom *all = ll_symptoms(&n);
    assert_true(n >= 17);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(all[i].id, all[j].id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_design_symptom_exists),
        cmocka_unit_test(ids_are_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
