/* The shuffle test on real logs: the example incident, decoded, then fed to
 * the correlator in event order and in many orders where every event is
 * displaced by less than the allowed lateness. The timelines (ids, members,
 * hops, links) and the orphan summary must not change. */
#include "../testutil.h"

#include "logloom/correlate.h"
#include "logloom/ingest.h"
#include "logloom/sinks.h"

#define MAX_EVENTS 1024
#define LATENESS (5 * LL_NS_PER_SEC)

static struct ll_event events[MAX_EVENTS];
static size_t n_events;
static struct ll_arena strings;

static struct ll_str keep(struct ll_str s)
{
    return ll_arena_dup(&strings, s);
}

static int load_incident(void **state)
{
    (void)state;
    const char *src = getenv("LL_SOURCE_DIR");
    assert_non_null(src);
    char dir[1024], err[256];
    snprintf(dir, sizeof dir, "%s/examples/incident", src);
    const char *args[] = {dir};
    struct ll_input_list files;
    assert_int_equal(ll_inputs_expand(args, 1, &files, err, sizeof err), LL_OK);
    struct ll_replay_conf conf = {.files = (const char *const *)files.paths, .n_files = files.n};
    ll_replay *rp;
    assert_int_equal(ll_replay_open(&conf, &rp, err, sizeof err), LL_OK);
    ll_arena_init(&strings, 1 << 16);
    const struct ll_event *ev;
    while (ll_replay_next(rp, &ev) == LL_OK) {
        assert_true(n_events < MAX_EVENTS);
        struct ll_event *e = &events[n_events++];
        *e = *ev;
        e->pos.source = keep(ev->pos.source);
        e->line = keep(ev->line);
        e->msg = keep(ev->msg);
        e->service = keep(ev->service);
        e->host = keep(ev->host);
        e->corr_id = keep(ev->corr_id);
        e->err_msg = keep(ev->err_msg);
        e->err_code = keep(ev->err_code);
        e->conn_id = keep(ev->conn_id);
    }
    ll_replay_close(rp);
    ll_input_list_free(&files);
    return 0;
}

static int unload(void **state)
{
    (void)state;
    ll_arena_free(&strings);
    return 0;
}

struct out {
    char *lines[256];
    size_t n;
};

static void on_timeline(void *ctx, const struct ll_timeline *tl)
{
    struct out *o = ctx;
    assert_true(o->n < 256);
    struct ll_buf b = {0};
    ll_timeline_to_json(&b, tl, true);
    o->lines[o->n++] = b.data;
}

static bool terminal(void *ctx, const struct ll_event *ev)
{
    (void)ctx;
    return ll_str_eq(ev->msg, LL_STR("workflow finished")) ||
           ll_str_eq(ev->msg, LL_STR("workflow failed"));
}

/* Correlates @p evs; returns timelines (sorted) and the orphan summary. */
static char *correlate(const struct ll_event *evs, size_t n)
{
    struct out o = {0};
    struct ll_corr_conf conf = {.allowed_lateness_ns = LATENESS, .is_terminal = terminal};
    struct ll_corr_out out = {on_timeline, NULL, NULL, &o};
    ll_correlator *c = ll_correlator_new(&conf, &out);
    for (size_t i = 0; i < n; i++)
        ll_correlator_push(c, &evs[i]);
    ll_correlator_flush(c);
    qsort(o.lines, o.n, sizeof *o.lines, cmp_strs);
    struct ll_buf all = {0};
    for (size_t i = 0; i < o.n; i++) {
        ll_buf_puts(&all, o.lines[i]);
        free(o.lines[i]);
    }
    size_t n_orph;
    const struct ll_orphans *orph = ll_correlator_orphans(c, &n_orph);
    struct ll_stats st = {0};
    ll_correlator_stats(c, &st);
    ll_stats_to_json(&all, &st, orph, n_orph);
    ll_correlator_destroy(c);
    return all.data;
}

struct keyed {
    int64_t key;
    size_t i;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    return x->key != y->key ? (x->key < y->key ? -1 : 1) : (x->i > y->i) - (x->i < y->i);
}

static void shuffled_incident_gives_the_same_timelines(void **state)
{
    (void)state;
    char *want = correlate(events, n_events);
    assert_non_null(strstr(want, "\"timelines\":14"));
    assert_non_null(strstr(want, "\"linked\":7"));
    uint64_t rng = 7;
    static struct keyed k[MAX_EVENTS];
    static struct ll_event shuffled[MAX_EVENTS];
    for (int round = 0; round < 30; round++) {
        for (size_t i = 0; i < n_events; i++) {
            k[i] = (struct keyed){
                events[i].ts_ns + (int64_t)(xorshift64(&rng) % (uint64_t)(LATENESS - 1)), i};
        }
        qsort(k, n_events, sizeof *k, cmp_keyed);
        size_t moved = 0;
        for (size_t i = 0; i < n_events; i++) {
            shuffled[i] = events[k[i].i];
            moved += k[i].i != i;
        }
        assert_true(moved > n_events / 2); /* the order really changed */
        char *got = correlate(shuffled, n_events);
        assert_string_equal(got, want);
        free(got);
    }
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shuffled_incident_gives_the_same_timelines),
    };
    return cmocka_run_group_tests(tests, load_incident, unload);
}
