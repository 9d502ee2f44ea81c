/* The correlator: grouping by id, services in order of appearance, status,
 * closing by gap and at the end, orphans, and stable ids. */
#include "../testutil.h"

#include "logloom/correlate.h"

#define SEC LL_NS_PER_SEC

struct captured {
    int n;
    char id[16][32];
    int events[16];
    int errors[16];
    int n_services[16];
    char services[16][128];
    char msgs[16][256];
    enum ll_tl_status status[16];
    enum ll_tl_reason reason[16];
    int64_t start[16], end[16];
    uint64_t tl_id[16];
    size_t open_at_emit[16];
};

static ll_correlator *current;

static void capture(void *ctx, const struct ll_timeline *tl)
{
    struct captured *c = ctx;
    assert_true(c->n < 16);
    int i = c->n++;
    snprintf(c->id[i], sizeof c->id[0], "%.*s", (int)tl->corr_id.len, tl->corr_id.ptr);
    c->events[i] = (int)tl->n_events;
    c->errors[i] = (int)tl->n_errors;
    c->status[i] = tl->status;
    c->reason[i] = tl->reason;
    c->start[i] = tl->start_ns;
    c->end[i] = tl->end_ns;
    c->tl_id[i] = tl->id;
    c->n_services[i] = (int)tl->n_services;
    for (size_t k = 0; k < tl->n_services; k++)
        snprintf(c->services[i] + strlen(c->services[i]),
                 sizeof c->services[0] - strlen(c->services[i]), "%s%.*s", k ? ">" : "",
                 (int)tl->services[k].len, tl->services[k].ptr);
    for (size_t k = 0; k < tl->n_events_kept; k++)
        snprintf(c->msgs[i] + strlen(c->msgs[i]), sizeof c->msgs[0] - strlen(c->msgs[i]),
                 "%s%.*s", k ? "," : "", (int)tl->events[k].msg.len, tl->events[k].msg.ptr);
    c->open_at_emit[i] = current ? ll_correlator_open_count(current) : 0;
}

static struct ll_event ev(int64_t ts, const char *id, const char *svc, const char *msg)
{
    static uint64_t offset;
    struct ll_event e = {.ts_ns = ts, .level = LL_LEVEL_INFO};
    e.corr_id = ll_str_c(id);
    e.service = ll_str_c(svc);
    e.msg = ll_str_c(msg);
    e.pos = (struct ll_pos){LL_STR("test.log"), offset += 100};
    return e;
}

static void events_group_by_id_with_services_in_order(void **state)
{
    (void)state;
    struct captured c = {0};
    ll_correlator *corr = ll_correlator_new(NULL, capture, &c);
    struct ll_event e[] = {
        ev(1 * SEC, "w1", "manager", "start"),  ev(2 * SEC, "w2", "manager", "other"),
        ev(3 * SEC, "w1", "agent-2", "recv"),   ev(4 * SEC, "w1", "child-4312", "run"),
        ev(5 * SEC, "w1", "agent-2", "done"),   ev(6 * SEC, "w1", "manager", "finished"),
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        ll_correlator_push(corr, &e[i]);
    assert_int_equal(c.n, 0); /* nothing closed yet */
    ll_correlator_flush(corr);
    assert_int_equal(c.n, 2);
    /* Flushed least recently active first. */
    assert_string_equal(c.id[0], "w2");
    assert_string_equal(c.id[1], "w1");
    assert_string_equal(c.services[1], "manager>agent-2>child-4312");
    assert_string_equal(c.msgs[1], "start,recv,run,done,finished");
    assert_int_equal(c.events[1], 5);
    assert_true(c.start[1] == 1 * SEC && c.end[1] == 6 * SEC);
    assert_int_equal(c.status[1], LL_TL_OK);
    assert_int_equal(c.reason[1], LL_TL_CLOSED_END);
    assert_int_equal(ll_correlator_timelines(corr), 2);
    ll_correlator_destroy(corr);
}

static void errors_fail_the_timeline(void **state)
{
    (void)state;
    struct captured c = {0};
    ll_correlator *corr = ll_correlator_new(NULL, capture, &c);
    struct ll_event a = ev(1 * SEC, "w", "agent-1", "ok");
    struct ll_event b = ev(2 * SEC, "w", "agent-1", "fetch failed");
    b.flags |= LL_EV_HAS_ERR; /* an error object at info level still counts */
    struct ll_event d = ev(3 * SEC, "w", "agent-1", "bad");
    d.level = LL_LEVEL_FATAL;
    ll_correlator_push(corr, &a);
    ll_correlator_push(corr, &b);
    ll_correlator_push(corr, &d);
    ll_correlator_flush(corr);
    assert_int_equal(c.status[0], LL_TL_FAILED);
    assert_int_equal(c.errors[0], 2);
    ll_correlator_destroy(corr);
}

static void gap_closes_once_watermark_passes(void **state)
{
    (void)state;
    struct captured c = {0};
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC, .allowed_lateness_ns = 2 * SEC};
    ll_correlator *corr = ll_correlator_new(&conf, capture, &c);
    current = corr;
    struct ll_event a = ev(100 * SEC, "early", "m", "a");
    struct ll_event b = ev(105 * SEC, "busy", "m", "b");
    ll_correlator_push(corr, &a);
    ll_correlator_push(corr, &b);
    /* Watermark 110 s: "early" ended at 100 s, gap 10 s: not yet past. */
    struct ll_event t1 = ev(112 * SEC, "busy", "m", "c");
    ll_correlator_push(corr, &t1);
    assert_int_equal(c.n, 0);
    struct ll_event t2 = ev(113 * SEC, "busy", "m", "d");
    ll_correlator_push(corr, &t2); /* watermark 111 > 110 */
    assert_int_equal(c.n, 1);
    assert_string_equal(c.id[0], "early");
    assert_int_equal(c.reason[0], LL_TL_CLOSED_GAP);
    assert_int_equal(c.open_at_emit[0], 1);
    /* The same id after its gap starts a new timeline with a new id. */
    struct ll_event late = ev(130 * SEC, "early", "m", "again");
    ll_correlator_push(corr, &late);
    ll_correlator_flush(corr);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.id[1], "busy");
    assert_string_equal(c.id[2], "early");
    assert_true(c.tl_id[0] != c.tl_id[2]);
    current = NULL;
    ll_correlator_destroy(corr);
}

static void out_of_order_events_are_sorted_stably(void **state)
{
    (void)state;
    struct captured c = {0};
    ll_correlator *corr = ll_correlator_new(NULL, capture, &c);
    struct ll_event e[] = {ev(5 * SEC, "w", "a", "5"), ev(3 * SEC, "w", "b", "3"),
                           ev(5 * SEC, "w", "c", "5b"), ev(1 * SEC, "w", "d", "1"),
                           ev(4 * SEC, "w", "e", "4")};
    for (size_t i = 0; i < 5; i++)
        ll_correlator_push(corr, &e[i]);
    ll_correlator_flush(corr);
    assert_string_equal(c.msgs[0], "1,3,4,5,5b");
    assert_true(c.start[0] == 1 * SEC && c.end[0] == 5 * SEC);
    /* Services stay in order of arrival. */
    assert_string_equal(c.services[0], "a>b>c>d>e");
    ll_correlator_destroy(corr);
}

static void orphans_are_counted_per_service(void **state)
{
    (void)state;
    struct captured c = {0};
    ll_correlator *corr = ll_correlator_new(NULL, capture, &c);
    struct ll_event e[] = {ev(1, "", "worker", "x"), ev(2, "", "manager", "y"),
                           ev(3, "", "worker", "z"), ev(4, "w", "worker", "in")};
    for (size_t i = 0; i < 4; i++)
        ll_correlator_push(corr, &e[i]);
    assert_int_equal(ll_correlator_orphans(corr), 3);
    size_t n;
    const struct ll_count *o = ll_correlator_orphans_by_service(corr, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(o[0].name.ptr, "manager", 7);
    assert_int_equal(o[0].n, 1);
    assert_memory_equal(o[1].name.ptr, "worker", 6);
    assert_int_equal(o[1].n, 2);
    ll_correlator_destroy(corr); /* with one timeline still open: no leak */
}

static void many_timelines_survive_table_growth(void **state)
{
    (void)state;
    struct captured c = {0};
    struct ll_corr_conf conf = {.session_gap_ns = 1000 * SEC};
    ll_correlator *corr = ll_correlator_new(&conf, capture, &c);
    char id[32];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 5000; i++) {
            snprintf(id, sizeof id, "id-%d", i);
            struct ll_event e = ev((int64_t)(round * 5000 + i), id, "s", "m");
            ll_correlator_push(corr, &e);
        }
    assert_int_equal(ll_correlator_open_count(corr), 5000);
    ll_correlator_destroy(corr);
}

static void timeline_id_depends_on_id_and_first_position(void **state)
{
    (void)state;
    uint64_t ids[2];
    for (int run = 0; run < 2; run++) {
        struct captured c = {0};
        ll_correlator *corr = ll_correlator_new(NULL, capture, &c);
        struct ll_event e = ev(1, "same", "s", "m");
        e.pos.offset = 42;
        ll_correlator_push(corr, &e);
        ll_correlator_flush(corr);
        ids[run] = c.tl_id[0];
        ll_correlator_destroy(corr);
    }
    assert_true(ids[0] == ids[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_group_by_id_with_services_in_order),
        cmocka_unit_test(errors_fail_the_timeline),
        cmocka_unit_test(gap_closes_once_watermark_passes),
        cmocka_unit_test(out_of_order_events_are_sorted_stably),
        cmocka_unit_test(orphans_are_counted_per_service),
        cmocka_unit_test(many_timelines_survive_table_growth),
        cmocka_unit_test(timeline_id_depends_on_id_and_first_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
