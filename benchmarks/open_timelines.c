/* Memory per open timeline: pushes N events with N distinct correlation
 * ids (none closes: the session gap is a day) and reports the heap the
 * correlator holds beyond the kept events themselves, per timeline.
 *
 *   ll-bench-open [N...]      (default: 10000 100000 1000000)
 *
 * The heap figure is glibc's own accounting (mallinfo2: bytes in use,
 * allocator headers included), taken before and after. */
#include "logloom/correlate.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

static void on_timeline(void *ctx, const struct ll_timeline *tl)
{
    (void)tl;
    ++*(size_t *)ctx;
}

static void measure(size_t n)
{
    size_t closed = 0;
    struct ll_corr_conf conf = {.session_gap_ns = 86400 * LL_NS_PER_SEC,
                                .max_open_timelines = n + 1};
    struct ll_corr_out out = {on_timeline, NULL, NULL, &closed};
    size_t before = mallinfo2().uordblks;
    ll_correlator *c = ll_correlator_new(&conf, &out);
    char id[64], msg[64];
    int64_t t0 = INT64_C(1795511632) * LL_NS_PER_SEC;
    for (size_t i = 0; i < n; i++) {
        /* A UUID-sized id and a typical short message. */
        snprintf(id, sizeof id, "%08zx-4b2d-47cd-9dfe-%012zx", i * 2654435761u % 0xffffffff, i);
        snprintf(msg, sizeof msg, "workflow started for task %zu", i);
        struct ll_event ev = {.ts_ns = t0 + (int64_t)i * 1000, .level = LL_LEVEL_INFO,
                              .corr_id = ll_str_c(id), .service = LL_STR("manager"),
                              .msg = ll_str_c(msg), .pos = {LL_STR("manager.log"), i * 300}};
        ll_correlator_push(c, &ev);
    }
    size_t heap = mallinfo2().uordblks - before;
    size_t kept = ll_correlator_kept_bytes(c);
    printf("%9zu open: heap %8.1f MiB, kept events %7.1f MiB, overhead %6.1f bytes/timeline"
           " (closed %zu)\n",
           ll_correlator_open_count(c), (double)heap / 1048576.0, (double)kept / 1048576.0,
           (double)(heap - kept) / (double)n, closed);
    ll_correlator_destroy(c);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        measure(10000);
        measure(100000);
        measure(1000000);
        return 0;
    }
    for (int i = 1; i < argc; i++)
        measure((size_t)strtoull(argv[i], NULL, 10));
    return 0;
}
