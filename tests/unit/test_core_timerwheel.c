/* The timer wheel against a brute-force model: every timer fires exactly
 * once, at the first advance whose clock reaches its deadline, whatever the
 * mix of small steps and huge jumps. */
#include "../testutil.h"

#include "logloom/core.h"

#define N 4000
#define MS LL_NS_PER_MS

struct item {
    struct ll_timer t;
    int64_t deadline;
    int fired;
    int64_t fired_at;
    bool armed;
};

static struct item items[N];
static int64_t clock_now;

static void on_fire(void *ctx, struct ll_timer *t)
{
    (void)ctx;
    struct item *it = (struct item *)t; /* t is the first member */
    it->fired++;
    it->fired_at = clock_now;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
    return xorshift64(&rng);
}

static void fires_once_when_clock_reaches_deadline(void **state)
{
    (void)state;
    struct ll_timerwheel w;
    int64_t start = INT64_C(1795511632104) * MS;
    ll_timerwheel_init(&w, start, MS);
    clock_now = start;
    for (int i = 0; i < N; i++) {
        ll_timer_init(&items[i].t);
        /* Deadlines from the past to ten years ahead, most within a minute. */
        int64_t span = (i % 10 == 0) ? INT64_C(315360000000) * MS : 60000 * MS;
        items[i].deadline = start - 1000 * MS + (int64_t)(next_rand() % (uint64_t)span);
        items[i].fired = 0;
        items[i].armed = true;
        ll_timerwheel_add(&w, &items[i].t, items[i].deadline);
    }
    assert_int_equal(w.count, N);
    /* Re-arm some, cancel some. */
    for (int i = 0; i < N; i += 7) {
        items[i].deadline += 5000 * MS;
        ll_timerwheel_add(&w, &items[i].t, items[i].deadline);
    }
    for (int i = 3; i < N; i += 11) {
        ll_timerwheel_del(&w, &items[i].t);
        items[i].armed = false;
    }
    int64_t end = start + INT64_C(315360000000) * MS + 100000 * MS;
    while (clock_now < end) {
        uint64_t r = next_rand() % 100;
        int64_t step = r < 80 ? (int64_t)(next_rand() % 50) * MS
                       : r < 98 ? (int64_t)(next_rand() % 100000) * MS
                                : (int64_t)(next_rand() % INT64_C(10000000000)) * MS;
        clock_now += step;
        ll_timerwheel_advance(&w, clock_now, on_fire, NULL);
        for (int i = 0; i < N; i++) {
            if (!items[i].armed)
                continue;
            bool due = items[i].deadline <= clock_now;
            if (due != (items[i].fired == 1))
                fail_msg("timer %d deadline %lld now %lld fired %d", i,
                         (long long)items[i].deadline, (long long)clock_now, items[i].fired);
            if (items[i].fired)
                items[i].armed = false; /* check once: must not fire again below */
        }
    }
    for (int i = 0; i < N; i++)
        assert_true(items[i].fired <= 1);
    assert_int_equal(w.count, 0);
}

static void passed_deadline_fires_on_next_advance(void **state)
{
    (void)state;
    struct ll_timerwheel w;
    ll_timerwheel_init(&w, 1000 * MS, MS);
    struct item it = {0};
    ll_timer_init(&it.t);
    ll_timerwheel_add(&w, &it.t, 10 * MS);
    assert_true(ll_timer_armed(&it.t));
    assert_int_equal(ll_timerwheel_advance(&w, 1000 * MS, on_fire, NULL), 1);
    assert_int_equal(it.fired, 1);
    assert_false(ll_timer_armed(&it.t));
}

static void rearm_from_callback_is_safe(void **state)
{
    (void)state;
    struct ll_timerwheel w;
    ll_timerwheel_init(&w, 0, MS);
    struct item it = {0};
    ll_timer_init(&it.t);
    ll_timerwheel_add(&w, &it.t, 5 * MS);
    assert_int_equal(ll_timerwheel_advance(&w, 4 * MS, on_fire, NULL), 0);
    assert_int_equal(ll_timerwheel_advance(&w, 5 * MS, on_fire, NULL), 1);
    ll_timerwheel_add(&w, &it.t, 7 * MS);
    assert_int_equal(ll_timer_deadline(&it.t), 7 * MS);
    assert_int_equal(ll_timerwheel_advance(&w, 6 * MS, on_fire, NULL), 0);
    assert_int_equal(ll_timerwheel_advance(&w, 100 * MS, on_fire, NULL), 1);
    assert_int_equal(it.fired, 2);
    /* The clock never goes back. */
    ll_timerwheel_add(&w, &it.t, 50 * MS);
    assert_int_equal(ll_timerwheel_advance(&w, 10 * MS, on_fire, NULL), 1);
}

/* The width of the slot a deadline @p d (ns) sits in at clock @p now
 * (ticks of @p tick): 64^level ticks; 0 if it is due. */
static int64_t slot_width(int64_t d, int64_t now, int64_t tick)
{
    int64_t dt = (d + tick - 1) / tick;
    if (dt <= now)
        return 0;
    int level = (63 - __builtin_clzll((uint64_t)(dt ^ now))) / 6;
    return level >= LL_TW_LEVELS - 1 ? INT64_MAX : tick << (6 * level);
}

/* Issue 19: the soonest timer is found without looking at timers, so that
 * evicting from a million open workflows costs no more than from ten; and it
 * is due within a slot's width of the earliest. */
static void soonest_is_due_within_a_slot_of_the_earliest(void **state)
{
    (void)state;
    static struct item its[500];
    struct ll_timerwheel w;
    int64_t now = 5000 * MS;
    ll_timerwheel_init(&w, now, MS);
    assert_null(ll_timerwheel_soonest(&w));
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 500; i++) {
            ll_timer_init(&its[i].t);
            int64_t span = i % 50 == 0 ? INT64_C(315360000000) * MS : (i % 5 ? 100 : 200000) * MS;
            its[i].deadline = now - 10 * MS + (int64_t)(next_rand() % (uint64_t)span);
            ll_timerwheel_add(&w, &its[i].t, its[i].deadline);
        }
        while (w.count) {
            struct ll_timer *f = ll_timerwheel_soonest(&w);
            int64_t min = INT64_MAX;
            for (int i = 0; i < 500; i++)
                if (ll_timer_armed(&its[i].t) && its[i].deadline < min)
                    min = its[i].deadline;
            int64_t width = slot_width(min, w.now, MS);
            assert_true(ll_timer_deadline(f) >= min);
            if (!width) /* due already: any of those due */
                assert_true(ll_timer_deadline(f) <= w.now * MS);
            else
                assert_true(width == INT64_MAX || ll_timer_deadline(f) - min < width);
            ll_timerwheel_del(&w, f);
        }
        now += (int64_t)(next_rand() % 100000) * MS;
        ll_timerwheel_advance(&w, now, on_fire, NULL);
    }
    /* A million timers in one coarse slot: taken one by one in no time. */
    enum { MANY = 1000000 };
    struct ll_timer *many = calloc(MANY, sizeof *many);
    ll_timerwheel_init(&w, 0, MS);
    for (int i = 0; i < MANY; i++)
        ll_timerwheel_add(&w, &many[i], (int64_t)(300000 + i % 30000) * MS);
    int64_t t0 = ll_clock_mono_ns();
    for (int i = 0; i < MANY; i++)
        ll_timerwheel_del(&w, ll_timerwheel_soonest(&w));
    assert_int_equal(w.count, 0);
    assert_true(ll_clock_mono_ns() - t0 < 5 * LL_NS_PER_SEC); /* scanning: hours */
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fires_once_when_clock_reaches_deadline),
        cmocka_unit_test(passed_deadline_fires_on_next_advance),
        cmocka_unit_test(rearm_from_callback_is_safe),
        cmocka_unit_test(soonest_is_due_within_a_slot_of_the_earliest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
