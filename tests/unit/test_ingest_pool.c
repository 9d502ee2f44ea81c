/* The decoding pool: every item of a run is done exactly once, by some
 * thread of the pool, and done before the run returns; small runs stay on
 * the caller's thread; runs follow each other without mixing. */
#include "../testutil.h"

#include "../../ingest/pool.h"

#include <pthread.h>
#include <stdatomic.h>

#define THREADS 4
#define MAX_ITEMS 5000

struct job {
    uint64_t round;
    uint64_t done_in[MAX_ITEMS]; /* the round that did each item */
    atomic_int times[MAX_ITEMS];
    atomic_int by_thread[THREADS];
    pthread_t caller;
    atomic_int off_caller; /* items done on thread 0 by another thread */
};

static void do_item(void *ctx, size_t thread, size_t i)
{
    struct job *j = ctx;
    assert_true(thread < THREADS);
    if (thread == 0 && !pthread_equal(pthread_self(), j->caller))
        atomic_fetch_add(&j->off_caller, 1);
    j->done_in[i] = j->round;
    atomic_fetch_add(&j->times[i], 1);
    atomic_fetch_add(&j->by_thread[thread], 1);
}

static void every_item_once_before_the_run_returns(void **state)
{
    (void)state;
    static struct job j;
    j.caller = pthread_self();
    struct ll__pool *p = ll__pool_new(THREADS);
    assert_int_equal(ll__pool_threads(p), THREADS);
    uint64_t rng = 7;
    for (j.round = 1; j.round <= 400; j.round++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t n = (size_t)(rng >> 33) % MAX_ITEMS;
        for (size_t i = 0; i < n; i++)
            atomic_store(&j.times[i], 0);
        ll__pool_run(p, n, 32, 128, do_item, &j);
        for (size_t i = 0; i < n; i++) {
            if (atomic_load(&j.times[i]) != 1 || j.done_in[i] != j.round)
                fail_msg("round %llu item %zu of %zu: done %d times, in round %llu",
                         (unsigned long long)j.round, i, n, atomic_load(&j.times[i]),
                         (unsigned long long)j.done_in[i]);
        }
    }
    assert_int_equal(atomic_load(&j.off_caller), 0);
    /* Large runs were shared out: some thread besides the caller worked. */
    int others = 0;
    for (int t = 1; t < THREADS; t++)
        others += atomic_load(&j.by_thread[t]);
    assert_true(others > 0);
    ll__pool_free(p);
}

static void small_runs_stay_on_the_caller(void **state)
{
    (void)state;
    static struct job j;
    j.caller = pthread_self();
    struct ll__pool *p = ll__pool_new(THREADS);
    j.round = 1;
    ll__pool_run(p, 127, 32, 128, do_item, &j);
    assert_int_equal(atomic_load(&j.by_thread[0]), 127);
    for (int t = 1; t < THREADS; t++)
        assert_int_equal(atomic_load(&j.by_thread[t]), 0);
    ll__pool_free(p);
    /* One thread: no thread is started, everything is the caller's. */
    p = ll__pool_new(1);
    ll__pool_run(p, 3000, 32, 128, do_item, &j);
    assert_int_equal(atomic_load(&j.by_thread[0]), 3127);
    ll__pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_item_once_before_the_run_returns),
        cmocka_unit_test(small_runs_stay_on_the_caller),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
