/* Tombstones of delivered items that straddle a checkpoint
 * (runner/closed.c): which are kept, how a size limit moves the cut back, and how
 * the remains of one, read again after a restart, are recognised. */
#include "../testutil.h"

#include "logloom/runner.h"

#include <string.h>

static struct ll_timeline timeline(const char *id, uint64_t first, uint64_t last, int64_t start,
                                   int64_t end)
{
    struct ll_timeline tl = {0};
    tl.corr_id = ll_str_c(id);
    tl.seq_first = first;
    tl.seq_last = last;
    tl.start_ns = start;
    tl.end_ns = end;
    return tl;
}

static void only_what_straddles_the_cut_is_kept(void **state)
{
    (void)state;
    struct ll__closed c;
    ll__closed_init(&c);
    struct ll_timeline before = timeline("before", 1, 5, 100, 200);
    struct ll_timeline across = timeline("across", 8, 20, 300, 400);
    struct ll_timeline after = timeline("after", 12, 14, 500, 600);
    ll__closed_timeline(&c, &before);
    ll__closed_timeline(&c, &across);
    ll__closed_timeline(&c, &after);
    struct ll_buf b = {0};
    assert_int_equal(ll__closed_render(&c, 10, 10, 77, 0, &b), 10);
    assert_non_null(strstr(b.data, "\"through\":77"));
    assert_non_null(strstr(b.data, "\"corr_id\":\"across\""));
    assert_null(strstr(b.data, "\"before\"")); /* behind the cut: never read again */
    assert_null(strstr(b.data, "\"after\""));  /* wholly after it: read again whole */
    assert_int_equal(ll__closed_last(&c, 10), 20);
    ll_buf_free(&b);
    ll__closed_free(&c);
}

static void a_limit_moves_the_cut_back_to_the_first_left_out(void **state)
{
    (void)state;
    struct ll__closed c;
    ll__closed_init(&c);
    char ids[40][16];
    for (int i = 0; i < 40; i++) { /* delivered newest first: order must not matter */
        snprintf(ids[i], sizeof ids[i], "wf-%02d", 39 - i);
        struct ll_timeline tl = timeline(ids[i], (uint64_t)(100 - 2 * i), 1000, 0, 10);
        ll__closed_timeline(&c, &tl);
    }
    struct ll_buf all = {0}, some = {0};
    ll__closed_render(&c, 500, 500, -1, 0, &all);
    size_t limit = all.len / 2;
    uint64_t cut = ll__closed_render(&c, 500, 500, -1, limit, &some);
    assert_true(some.len <= limit);
    assert_true(cut < 500);
    /* Those kept began before the new cut, those left out at or after it. */
    for (int i = 0; i < 40; i++) {
        uint64_t first = (uint64_t)(100 - 2 * i);
        char key[40];
        snprintf(key, sizeof key, "\"%s\"", ids[i]);
        assert_int_equal(strstr(some.data, key) != NULL, first < cut);
    }
    ll_buf_free(&all);
    ll_buf_free(&some);
    ll__closed_free(&c);
}

static void remains_read_again_are_recognised_and_new_workflows_are_not(void **state)
{
    (void)state;
    struct ll__closed c;
    ll__closed_init(&c);
    struct ll_timeline across = timeline("wf-1", 8, 20, 300, 400);
    ll__closed_timeline(&c, &across);
    struct ll_buf b = {0};
    ll__closed_render(&c, 10, 10, 55, 0, &b);
    ll__closed_free(&c);

    struct ll__closed r; /* after the restart */
    ll__closed_init(&r);
    assert_int_equal(ll__closed_parse(&r, b.data, "test"), 55);
    struct ll_timeline remains = timeline("wf-1", 1, 4, 350, 400);
    struct ll_timeline reused = timeline("wf-1", 6, 7, 900, 950); /* began after it ended */
    struct ll_timeline other = timeline("wf-2", 2, 3, 350, 360);
    assert_true(ll__closed_seen_timeline(&r, &remains));
    assert_false(ll__closed_seen_timeline(&r, &reused));
    assert_false(ll__closed_seen_timeline(&r, &other));
    ll__closed_replayed(&r, 5); /* read past what was read again */
    struct ll_timeline later = timeline("wf-1", 6, 7, 350, 360);
    assert_false(ll__closed_seen_timeline(&r, &later));
    assert_int_equal(r.suppressed, 1);
    /* A damaged object is ignored, not fatal. */
    assert_int_equal(ll__closed_parse(&r, "{\"tombstones\":", "test"), -1);
    ll_buf_free(&b);
    ll__closed_free(&r);
}

/* An alert raised again after the restart, on the remains of a workflow
 * delivered before it, names that workflow's timeline, not the remains'. */
static void an_alert_raised_again_names_the_timeline_delivered_before(void **state)
{
    (void)state;
    struct ll__closed c;
    ll__closed_init(&c);
    struct ll_timeline across = timeline("wf-1", 8, 20, 300, 400);
    across.id = 0x304be126c8c2c34bULL;
    ll__closed_timeline(&c, &across);
    struct ll_buf b = {0};
    ll__closed_render(&c, 10, 10, 55, 0, &b);
    ll__closed_free(&c);

    struct ll__closed r;
    ll__closed_init(&r);
    ll__closed_parse(&r, b.data, "test");
    struct ll_alert a = {.corr_id = ll_str_c("wf-1"), .first_ns = 350, .seq_first = 2,
                         .timeline_id = 0x56d89e107aebd88ULL};
    assert_int_equal(ll__closed_timeline_id(&r, &a), 0x304be126c8c2c34bULL);
    struct ll_alert later = a; /* a new workflow of the same id */
    later.first_ns = 900;
    assert_int_equal(ll__closed_timeline_id(&r, &later), 0);
    struct ll_alert other = a;
    other.corr_id = ll_str_c("wf-2");
    assert_int_equal(ll__closed_timeline_id(&r, &other), 0);
    ll__closed_replayed(&r, 5); /* read past what was read again */
    struct ll_alert past = a;
    past.seq_first = 6;
    assert_int_equal(ll__closed_timeline_id(&r, &past), 0);
    ll_buf_free(&b);
    ll__closed_free(&r);
}

int main(void)
{
    ll_log_set_level(LL_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(only_what_straddles_the_cut_is_kept),
        cmocka_unit_test(a_limit_moves_the_cut_back_to_the_first_left_out),
        cmocka_unit_test(remains_read_again_are_recognised_and_new_workflows_are_not),
        cmocka_unit_test(an_alert_raised_again_names_the_timeline_delivered_before),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
