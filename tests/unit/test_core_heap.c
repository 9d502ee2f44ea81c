/* LL_HEAP against a brute-force model: random pushes, pops, removals from
 * the middle and keys changed in place; the heap always gives the least
 * entry first, and every entry knows its index. */
#include "../testutil.h"

#include "logloom/core.h"

#define N 3000

struct item {
    int64_t key;
    uint32_t seq; /* ties: the order is total */
    long idx;     /* in the heap, or -1 */
};

static struct item items[N];

static bool item_before(const struct item *ctx, uint32_t a, uint32_t b)
{
    return ctx[a].key != ctx[b].key ? ctx[a].key < ctx[b].key : ctx[a].seq < ctx[b].seq;
}

#define ITEM_PLACED(ctx, x, i) ((ctx)[x].idx = (long)(i))
LL_HEAP(items_heap, uint32_t, struct item *, item_before, ITEM_PLACED)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void)
{
    return xorshift64(&rng);
}

/* The least entry in the heap by a scan, or UINT32_MAX. */
static uint32_t least(void)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < N; i++)
        if (items[i].idx >= 0 && (best == UINT32_MAX || item_before(items, i, best)))
            best = i;
    return best;
}

static void check(const uint32_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(items[v[i]].idx, (long)i);
        if (i)
            assert_false(item_before(items, v[i], v[(i - 1) / 2]));
    }
}

static void gives_the_least_first_through_any_mix_of_changes(void **state)
{
    (void)state;
    uint32_t *v = NULL;
    size_t n = 0, cap = 0;
    for (uint32_t i = 0; i < N; i++)
        items[i] = (struct item){.seq = i, .idx = -1};
    for (int step = 0; step < 40000; step++) {
        uint32_t x = (uint32_t)(next_rand() % N);
        switch (next_rand() % 5) {
        case 0:
        case 1: /* push, keys often equal */
            if (items[x].idx < 0) {
                items[x].key = (int64_t)(next_rand() % 500);
                items_heap_push(items, &v, &n, &cap, x);
            }
            break;
        case 2: /* pop */
            if (n) {
                uint32_t want = least(), got = items_heap_pop(items, v, &n);
                assert_int_equal(got, want);
                items[got].idx = -1;
            }
            break;
        case 3: /* out of the middle */
            if (items[x].idx >= 0) {
                items_heap_remove(items, v, &n, (size_t)items[x].idx);
                items[x].idx = -1;
            }
            break;
        default: /* its key moved on, then fixed in place */
            if (items[x].idx >= 0) {
                items[x].key += (int64_t)(next_rand() % 100);
                items_heap_down(items, v, n, (size_t)items[x].idx);
            }
            break;
        }
        check(v, n);
    }
    /* Made a heap at once, from any order. */
    n = 0;
    for (uint32_t i = 0; i < N; i += 3) {
        items[i].key = (int64_t)(next_rand() % 1000);
        v[n] = i;
        items[i].idx = (long)n++;
    }
    items_heap_heapify(items, v, n);
    check(v, n);
    for (int64_t last = INT64_MIN; n;) {
        uint32_t got = items_heap_pop(items, v, &n);
        assert_true(items[got].key >= last);
        last = items[got].key;
    }
    ll_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gives_the_least_first_through_any_mix_of_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
