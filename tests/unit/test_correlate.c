/* The correlator: sessions by id in event time, watermarks over sources,
 * terminal events, caps, late events, link keys and orphans, and the same
 * timelines whatever the arrival order within the allowed lateness. */
#include "../testutil.h"

#include "logloom/correlate.h"
#include "logloom/sinks.h"

#include <malloc.h>

#define SEC LL_NS_PER_SEC
#define MS LL_NS_PER_MS
#define T0 (INT64_C(1795511632) * SEC)

/* ------------------------------------------------------------------------ */
/* Capture of what the correlator emits                                      */

#define MAX_TL 256

struct cap {
    int n;
    struct ll_buf json[MAX_TL]; /* each timeline as its JSON line, events included */
    char id[MAX_TL][48];
    uint64_t tl_id[MAX_TL];
    enum ll_tl_status status[MAX_TL];
    enum ll_tl_reason reason[MAX_TL];
    int late_n;
    uint64_t late_tl[16];
    char late_msg[16][32];
};

static void on_tl(void *ctx, const struct ll_timeline *tl)
{
    struct cap *c = ctx;
    assert_true(c->n < MAX_TL);
    int i = c->n++;
    c->json[i] = (struct ll_buf){0};
    ll_timeline_to_json(&c->json[i], tl, true);
    snprintf(c->id[i], sizeof c->id[0], "%.*s", (int)tl->corr_id.len, tl->corr_id.ptr);
    c->tl_id[i] = tl->id;
    c->status[i] = tl->status;
    c->reason[i] = tl->reason;
}

static void on_late(void *ctx, const struct ll_late *l)
{
    struct cap *c = ctx;
    assert_true(c->late_n < 16);
    c->late_tl[c->late_n] = l->timeline_id;
    snprintf(c->late_msg[c->late_n++], sizeof c->late_msg[0], "%.*s", (int)l->ev.msg.len,
             l->ev.msg.ptr);
}

static void cap_free(struct cap *c)
{
    for (int i = 0; i < c->n; i++)
        ll_buf_free(&c->json[i]);
}

static const char *json_of(struct cap *c, const char *id)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->id[i], id) == 0)
            return c->json[i].data;
    fail_msg("no timeline %s", id);
    return NULL;
}

static int index_of(struct cap *c, const char *id)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->id[i], id) == 0)
            return i;
    fail_msg("no timeline %s", id);
    return -1;
}

static ll_correlator *make(const struct ll_corr_conf *conf, struct cap *c)
{
    memset(c, 0, sizeof *c);
    struct ll_corr_out out = {on_tl, on_late, NULL, c};
    return ll_correlator_new(conf, &out);
}

static struct ll_event ev(int64_t ts, const char *id, const char *svc, const char *msg)
{
    static uint64_t offset;
    struct ll_event e = {.ts_ns = ts, .level = LL_LEVEL_INFO};
    e.corr_id = ll_str_c(id);
    e.service = ll_str_c(svc);
    e.msg = ll_str_c(msg);
    e.pos = (struct ll_pos){ll_str_c(svc), offset += 100};
    return e;
}

static struct ll_event with_host(struct ll_event e, const char *host)
{
    e.host = ll_str_c(host);
    return e;
}

static void push(ll_correlator *c, struct ll_event e)
{
    ll_correlator_push(c, &e);
}

/* ------------------------------------------------------------------------ */
/* Sessions                                                                  */

static void events_group_by_id_with_services_and_hops(void **state)
{
    (void)state;
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    push(corr, ev(T0 + 1 * SEC, "w1", "manager", "start"));
    push(corr, ev(T0 + 2 * SEC, "w2", "manager", "other"));
    push(corr, ev(T0 + 3 * SEC, "w1", "agent-2", "recv"));
    push(corr, ev(T0 + 4 * SEC, "w1", "child", "run"));
    push(corr, ev(T0 + 5 * SEC, "w1", "agent-2", "done"));
    push(corr, ev(T0 + 6 * SEC, "w1", "manager", "finished"));
    assert_int_equal(c.n, 0);
    ll_correlator_flush(corr);
    assert_int_equal(c.n, 2);
    /* Flushed in order of their earliest event. */
    assert_string_equal(c.id[0], "w1");
    const char *j = json_of(&c, "w1");
    assert_non_null(strstr(j, "\"services\":[\"manager\",\"agent-2\",\"child\"]"));
    assert_non_null(strstr(j, "\"events\":5,\"errors\":0"));
    assert_non_null(strstr(j, "\"status\":\"ok\",\"reason\":\"end\""));
    assert_non_null(strstr(j, "\"hops\":[{\"from\":null,\"to\":\"manager\""));
    assert_non_null(strstr(j, "{\"from\":\"manager\",\"to\":\"agent-2\""));
    assert_non_null(strstr(j, "{\"from\":\"agent-2\",\"to\":\"child\""));
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.timelines, 2);
    assert_int_equal(st.open_max, 2);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void errors_fail_the_timeline(void **state)
{
    (void)state;
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    struct ll_event b = ev(T0 + 2 * SEC, "w", "agent-1", "fetch failed");
    b.flags |= LL_EV_HAS_ERR; /* an error object at info level counts */
    push(corr, ev(T0 + 1 * SEC, "w", "agent-1", "ok"));
    push(corr, b);
    ll_correlator_flush(corr);
    assert_int_equal(c.status[0], LL_TL_FAILED);
    assert_non_null(strstr(c.json[0].data, "\"errors\":1"));
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void gap_closes_once_the_watermark_passes(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC, .allowed_lateness_ns = 2 * SEC};
    ll_correlator *corr = make(&conf, &c);
    push(corr, ev(T0 + 100 * SEC, "early", "m", "a"));
    push(corr, ev(T0 + 105 * SEC, "busy", "m", "b"));
    push(corr, ev(T0 + 112 * SEC, "busy", "m", "c")); /* watermark 110: not past 100 + 10 */
    assert_int_equal(c.n, 0);
    push(corr, ev(T0 + 113 * SEC, "busy", "m", "d")); /* watermark 111 */
    assert_int_equal(c.n, 1);
    assert_string_equal(c.id[0], "early");
    assert_int_equal(c.reason[0], LL_TL_CLOSED_GAP);
    assert_int_equal(ll_correlator_open_count(corr), 1);
    /* The same id after its gap is a new workflow with a new timeline id. */
    push(corr, ev(T0 + 130 * SEC, "early", "m", "again"));
    ll_correlator_flush(corr);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.id[2], "early");
    assert_true(c.tl_id[0] != c.tl_id[2]);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void gap_is_decided_in_event_time_not_by_arrival(void **state)
{
    (void)state;
    /* 0 s and 33 s are more than the 30 s gap apart: two workflows, even
     * though the second arrives while the first is still open. */
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    push(corr, ev(T0, "w", "m", "first"));
    push(corr, ev(T0 + 33 * SEC, "w", "m", "second"));
    ll_correlator_flush(corr);
    assert_int_equal(c.n, 2);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void a_late_bridge_merges_two_sessions(void **state)
{
    (void)state;
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    push(corr, ev(T0, "w", "m", "a"));
    push(corr, ev(T0 + 33 * SEC, "w", "m", "c"));
    push(corr, ev(T0 + 31 * SEC, "w", "x", "noise")); /* moves the clock only */
    push(corr, ev(T0 + 20 * SEC, "w", "m", "b"));    /* 2 s late: bridges a and c */
    ll_correlator_flush(corr);
    assert_int_equal(c.n, 1);
    assert_non_null(strstr(c.json[0].data, "\"events\":4"));
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static struct ll_event from(struct ll_event e, const char *source)
{
    e.pos.source = ll_str_c(source);
    return e;
}

/* A service's first event is found by position, whatever the arrival order:
 * a tie in time goes to the earlier offset, and many names do not mix. */
static void first_event_of_each_service_by_position(void **state)
{
    (void)state;
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    for (int i = 0; i < 70; i++) { /* names s0..s69, each one id */
        char name[8];
        snprintf(name, sizeof name, "s%d", i);
        push(corr, ev(T0, "warm", name, "x"));
    }
    push(corr, from(ev(T0 + 1 * SEC, "w", "s65", "a"), "x.log"));
    push(corr, from(ev(T0 + 2 * SEC, "w", "s1", "b"), "x.log"));
    struct ll_event e = from(ev(T0 + 3 * SEC, "w", "s2", "c"), "x.log");
    push(corr, e);
    struct ll_event d = from(ev(T0 + 3 * SEC, "w", "s3", "d"), "x.log");
    d.pos.offset = e.pos.offset - 500;
    push(corr, d);
    e.pos.offset -= 1000; /* the same instant, earlier in the file, last */
    push(corr, e);
    ll_correlator_flush(corr);
    assert_non_null(strstr(json_of(&c, "w"), "\"services\":[\"s65\",\"s1\",\"s2\",\"s3\"]"));
    ll_correlator_destroy(corr);
    cap_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Terminal events, late events                                              */

static bool finished(void *ctx, const struct ll_event *e)
{
    (void)ctx;
    return ll_str_eq(e->msg, LL_STR("workflow finished"));
}

static void terminal_event_closes_after_lateness(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.is_terminal = finished, .allowed_lateness_ns = 5 * SEC};
    ll_correlator *corr = make(&conf, &c);
    push(corr, from(ev(T0, "w", "manager", "workflow started"), "all.log"));
    push(corr, from(ev(T0 + 2 * SEC, "w", "manager", "workflow finished"), "all.log"));
    /* Still joins: the watermark has not passed the terminal event yet. */
    push(corr, from(ev(T0 + 2 * SEC + 3 * MS, "w", "agent-1", "result reported"), "all.log"));
    push(corr, from(ev(T0 + 7 * SEC + 5 * MS, "other", "manager", "tick"), "all.log"));
    assert_int_equal(c.n, 1);
    assert_int_equal(c.reason[0], LL_TL_CLOSED_TERMINAL);
    assert_int_equal(c.status[0], LL_TL_OK);
    assert_non_null(strstr(c.json[0].data, "\"events\":3"));
    /* An event of the finished workflow after it closed is late, named. */
    push(corr, from(ev(T0 + 9 * SEC, "w", "agent-1", "straggler"), "all.log"));
    assert_int_equal(c.late_n, 1);
    assert_true(c.late_tl[0] == c.tl_id[0]);
    assert_string_equal(c.late_msg[0], "straggler");
    ll_correlator_flush(corr);
    /* "other" never saw its terminal event. */
    assert_int_equal(c.status[index_of(&c, "other")], LL_TL_INCOMPLETE);
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.late, 1);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void events_behind_the_watermark_are_late_never_dropped(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC};
    ll_correlator *corr = make(&conf, &c);
    push(corr, ev(T0, "w", "m", "a"));
    push(corr, ev(T0 + 100 * SEC, "x", "m", "clock"));
    assert_int_equal(c.n, 1);
    push(corr, ev(T0 + 3 * SEC, "w", "m", "late for w"));
    push(corr, ev(T0 + 50 * SEC, "never-seen", "m", "late, unknown"));
    assert_int_equal(c.late_n, 2);
    assert_true(c.late_tl[0] == c.tl_id[0]);
    assert_true(c.late_tl[1] == 0);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Watermark over sources                                                    */

static void slowest_active_source_holds_the_watermark(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC, .allowed_lateness_ns = 1 * SEC,
                                .idle_timeout_ns = 60 * SEC};
    ll_correlator *corr = make(&conf, &c);
    push(corr, from(ev(T0, "w", "m", "a"), "a.log"));
    push(corr, from(ev(T0 + 1 * SEC, "z", "m", "b"), "b.log"));
    /* b.log runs ahead; a.log (last at T0) holds the watermark at T0 - 1 s. */
    push(corr, from(ev(T0 + 40 * SEC, "y", "m", "b2"), "b.log"));
    assert_true(ll_correlator_watermark(corr) == T0 - 1 * SEC);
    assert_int_equal(c.n, 0);
    /* a.log speaks again: the watermark moves to its new newest. */
    push(corr, from(ev(T0 + 20 * SEC, "q", "m", "a2"), "a.log"));
    assert_true(ll_correlator_watermark(corr) == T0 + 19 * SEC);
    assert_int_equal(c.n, 2); /* w ended at 0 s and z at 1 s: both past their gap */
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void idle_source_stops_holding_the_watermark(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC, .allowed_lateness_ns = 1 * SEC,
                                .idle_timeout_ns = 30 * SEC};
    ll_correlator *corr = make(&conf, &c);
    push(corr, from(ev(T0, "w", "m", "a"), "child-1.log")); /* then silent */
    push(corr, from(ev(T0 + 29 * SEC, "z", "m", "b"), "manager.log"));
    assert_true(ll_correlator_watermark(corr) == T0 - 1 * SEC);
    push(corr, from(ev(T0 + 31 * SEC, "z", "m", "c"), "manager.log"));
    /* child-1.log is 31 s behind the newest event: idle, released. */
    assert_true(ll_correlator_watermark(corr) == T0 + 30 * SEC);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.id[0], "w");
    ll_correlator_destroy(corr);
    cap_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Caps                                                                      */

static void max_span_cuts_and_continues(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.max_span_ns = 60 * SEC};
    ll_correlator *corr = make(&conf, &c);
    for (int i = 0; i <= 100; i += 10)
        push(corr, ev(T0 + i * SEC, "busy", "m", "tick"));
    ll_correlator_flush(corr);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.reason[0], LL_TL_CLOSED_SPAN);
    assert_int_equal(c.status[0], LL_TL_TRUNCATED);
    assert_non_null(strstr(c.json[0].data, "\"events\":7")); /* 0..60 s */
    assert_non_null(strstr(c.json[1].data, "\"events\":4")); /* 70..100 s */
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void max_events_cuts(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.max_events = 5};
    ll_correlator *corr = make(&conf, &c);
    for (int i = 0; i < 12; i++)
        push(corr, ev(T0 + i * MS, "chatty", "m", "x"));
    ll_correlator_flush(corr);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.reason[0], LL_TL_CLOSED_EVENTS);
    assert_int_equal(c.status[0], LL_TL_TRUNCATED);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void kept_events_are_the_first_and_last_halves(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.max_events_kept = 4};
    ll_correlator *corr = make(&conf, &c);
    const char *msgs[] = {"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"};
    for (int i = 0; i < 10; i++)
        push(corr, ev(T0 + i * SEC, "long", "m", msgs[i]));
    ll_correlator_flush(corr);
    const char *j = c.json[0].data;
    assert_non_null(strstr(j, "\"events\":10"));
    assert_non_null(strstr(j, "\"dropped\":6"));
    assert_non_null(strstr(j, "\"msg\":\"e0\""));
    assert_non_null(strstr(j, "\"msg\":\"e1\""));
    assert_null(strstr(j, "\"msg\":\"e2\""));
    assert_null(strstr(j, "\"msg\":\"e7\""));
    assert_non_null(strstr(j, "\"msg\":\"e8\""));
    assert_non_null(strstr(j, "\"msg\":\"e9\""));
    assert_true(strstr(j, "\"e8\"") < strstr(j, "\"e9\"")); /* in time order */
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void open_cap_evicts_least_recently_active(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.max_open_timelines = 2};
    ll_correlator *corr = make(&conf, &c);
    push(corr, ev(T0, "a", "m", "1"));
    push(corr, ev(T0 + 1 * MS, "b", "m", "2"));
    push(corr, ev(T0 + 2 * MS, "a", "m", "3")); /* b is now the least recently active */
    push(corr, ev(T0 + 3 * MS, "c", "m", "4"));
    assert_int_equal(c.n, 1);
    assert_string_equal(c.id[0], "b");
    assert_int_equal(c.reason[0], LL_TL_CLOSED_EVICTED);
    assert_int_equal(c.status[0], LL_TL_TRUNCATED);
    assert_int_equal(ll_correlator_open_count(corr), 2);
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.evicted, 1);
    /* More of b after its eviction starts a continuation, not a late event. */
    push(corr, ev(T0 + 4 * MS, "b", "m", "5"));
    assert_int_equal(c.late_n, 0);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void many_timelines_survive_table_growth(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 1000 * SEC};
    ll_correlator *corr = make(&conf, &c);
    char id[32];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 5000; i++) {
            snprintf(id, sizeof id, "id-%d", i);
            push(corr, ev(T0 + (int64_t)(round * 5000 + i) * MS, id, "s", "m"));
        }
    assert_int_equal(ll_correlator_open_count(corr), 5000);
    ll_correlator_destroy(corr); /* open timelines freed without emitting */
    assert_int_equal(c.n, 0);
}

/* glibc's bytes in use, small blocks and mmap'ed ones. */
static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

static void count_tl(void *ctx, const struct ll_timeline *tl)
{
    (void)tl;
    ++*(int *)ctx;
}

/* Issue 19: at the cap, each eviction costs the same however many are
 * open (it scanned a timer-wheel slot holding nearly all of them: these
 * 200,000 evictions among 100,000 open took minutes). */
static void evicting_at_the_cap_costs_the_same_however_many_are_open(void **state)
{
    (void)state;
    enum { OPEN = 100000, IDS = 300000 };
    int closed = 0;
    struct ll_corr_out out = {count_tl, NULL, NULL, &closed};
    struct ll_corr_conf conf = {.max_open_timelines = OPEN};
    ll_correlator *corr = ll_correlator_new(&conf, &out);
    char id[32];
    int64_t t0 = ll_clock_mono_ns();
    for (int i = 0; i < IDS; i++) { /* a flood of ids, 10 µs apart: none closes by its gap */
        snprintf(id, sizeof id, "flood-%d", i);
        push(corr, ev(T0 + (int64_t)i * 10000, id, "api", "request"));
    }
    int64_t took = ll_clock_mono_ns() - t0;
    assert_int_equal(closed, IDS - OPEN);
    assert_int_equal(ll_correlator_open_count(corr), OPEN);
    print_message("%d ids through %d open: %.2f s\n", IDS, OPEN, (double)took / 1e9);
    assert_true(took < 20 * LL_NS_PER_SEC); /* about 0.3 s here; sanitizers slow it */
    ll_correlator_destroy(corr);
}

/* A fleet's pods come and go: every workflow here runs on a new host.
 * Hosts only tell processes apart, so closed workflows leave nothing of
 * theirs behind: the heap stays flat however many hosts were seen (it grew
 * by 7 MB, 400 bytes a host, while hosts were interned names). Under
 * AddressSanitizer, whose heap glibc does not count, it reads 0. */
static void hosts_seen_leave_nothing_behind(void **state)
{
    (void)state;
    enum { N = 20000, WARM = 2000 };
    int closed = 0;
    struct ll_corr_conf conf = {.session_gap_ns = 100 * MS, .allowed_lateness_ns = 1};
    struct ll_corr_out out = {count_tl, NULL, NULL, &closed};
    ll_correlator *corr = ll_correlator_new(&conf, &out);
    char id[32], host[96];
    size_t warm = 0;
    for (int i = 0; i < N; i++) {
        if (i == WARM)
            warm = heap_in_use();
        snprintf(id, sizeof id, "id-%d", i);
        snprintf(host, sizeof host, "agent-7d9f8c6b5-%05d.workers.prod.svc.cluster.local", i);
        struct ll_event e = with_host(ev(T0 + (int64_t)i * SEC, id, "agent", "step"), host);
        ll_correlator_push(corr, &e);
    }
    size_t grown = heap_in_use() - warm;
    assert_true(closed >= N - 2);
    ll_correlator_destroy(corr);
    print_message("heap grown over %d workflows on new hosts: %zu bytes\n", N - WARM, grown);
    assert_true(grown < 64 * 1024);
}

/* ------------------------------------------------------------------------ */
/* Link keys and orphans                                                     */

static struct ll_event with_pid(struct ll_event e, int64_t pid)
{
    e.pid = pid;
    e.flags |= LL_EV_HAS_PID;
    return e;
}

static struct ll_event spawn_line(int64_t ts, const char *id, const char *svc, int64_t child)
{
    struct ll_event e = with_pid(ev(ts, id, svc, "child spawned"), 1893);
    e.child_pid = child;
    e.flags |= LL_EV_HAS_CHILD_PID;
    return e;
}

static void child_without_id_joins_through_its_pid(void **state)
{
    (void)state;
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    push(corr, with_pid(ev(T0, "w", "agent-1", "task received"), 1893));
    push(corr, spawn_line(T0 + 10 * MS, "w", "agent-1", 4318));
    push(corr, with_pid(ev(T0 + 300 * MS, "", "worker", "worker started"), 4318));
    push(corr, with_pid(ev(T0 + 900 * MS, "", "worker", "page fetched"), 4318));
    push(corr, with_pid(ev(T0 + 950 * MS, "", "worker", "other child"), 9999));
    ll_correlator_flush(corr);
    const char *j = c.json[0].data;
    assert_non_null(strstr(j, "\"events\":4"));
    assert_non_null(strstr(j, "\"linked\":2"));
    assert_non_null(strstr(j, "\"via\":\"pid:4318\""));
    assert_non_null(strstr(j, "{\"from\":\"agent-1\",\"to\":\"worker\""));
    size_t n;
    const struct ll_orphans *o = ll_correlator_orphans(corr, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(o[0].service.ptr, "worker", 6);
    assert_int_equal(o[0].n, 1);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void child_that_logs_before_the_spawn_line_still_joins(void **state)
{
    (void)state;
    /* Arrives 2 s before its parent's spawn line, within the lateness. */
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    push(corr, with_pid(ev(T0 + 300 * MS, "", "worker", "worker started"), 4318));
    push(corr, spawn_line(T0 + 10 * MS, "w", "agent-1", 4318));
    push(corr, ev(T0 + 20 * SEC, "tick", "x", "clock"));
    size_t n;
    ll_correlator_orphans(corr, &n);
    assert_int_equal(n, 0);
    ll_correlator_flush(corr);
    assert_non_null(strstr(json_of(&c, "w"), "\"linked\":1"));
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void own_pid_links_other_services_but_not_the_same_one(void **state)
{
    (void)state;
    /* winston has no pid of its own: agent-2 logs the child's as "pid". */
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    push(corr, with_pid(ev(T0, "w", "agent-2", "child spawned"), 5120));
    push(corr, with_pid(ev(T0 + 200 * MS, "", "worker", "started"), 5120));
    /* A pino process's own pid: its other lines are not claimed by it. */
    push(corr, with_pid(ev(T0 + 300 * MS, "", "agent-2", "heartbeat"), 5120));
    ll_correlator_flush(corr);
    assert_non_null(strstr(c.json[0].data, "\"linked\":1"));
    size_t n;
    const struct ll_orphans *o = ll_correlator_orphans(corr, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(o[0].service.ptr, "agent-2", 7);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void key_seen_in_two_workflows_is_never_used(void **state)
{
    (void)state;
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    struct ll_event a = ev(T0, "w1", "manager", "x"), b = ev(T0 + 1 * SEC, "w2", "manager", "y");
    a.conn_id = b.conn_id = LL_STR("ws-1");
    push(corr, a);
    push(corr, b);
    struct ll_event orphan = ev(T0 + 2 * SEC, "", "agent-2", "WebSocket closed");
    orphan.conn_id = LL_STR("ws-1");
    push(corr, orphan);
    ll_correlator_flush(corr);
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.linked, 0);
    assert_int_equal(st.orphans, 1);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void pid_on_another_host_is_another_process(void **state)
{
    (void)state;
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    struct ll_event sp = spawn_line(T0, "w", "agent-1", 4318);
    sp.host = LL_STR("orch-agent-01");
    push(corr, sp);
    struct ll_event other = with_pid(ev(T0 + 1 * SEC, "", "worker", "x"), 4318);
    other.host = LL_STR("orch-agent-02");
    push(corr, other);
    struct ll_event same = with_pid(ev(T0 + 2 * SEC, "", "worker", "y"), 4318);
    same.host = LL_STR("orch-agent-01");
    push(corr, same);
    ll_correlator_flush(corr);
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.linked, 1);
    assert_int_equal(st.orphans, 1);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void links_expire_with_their_timeline(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC};
    ll_correlator *corr = make(&conf, &c);
    push(corr, spawn_line(T0, "w", "agent-1", 4318));
    push(corr, ev(T0 + 60 * SEC, "x", "m", "clock")); /* w closes */
    push(corr, with_pid(ev(T0 + 61 * SEC, "", "worker", "reused pid"), 4318));
    ll_correlator_flush(corr);
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.linked, 0);
    assert_int_equal(st.orphans, 1);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

/* The keys most lines teach (their own pid, their source) are found without
 * a lookup while they live: once their timeline closes, the next workflow
 * must teach them afresh, unambiguous, and gain what they bring. */
static void keys_of_a_closed_timeline_are_taught_afresh(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC};
    ll_correlator *corr = make(&conf, &c);
    for (int round = 0; round < 3; round++) {
        int64_t t = T0 + round * 100 * SEC;
        char w1[8], w2[8], w3[8];
        snprintf(w1, sizeof w1, "a%d", round);
        snprintf(w2, sizeof w2, "b%d", round);
        snprintf(w3, sizeof w3, "c%d", round);
        /* Two workflows of one process, in one file: both keys ambiguous. */
        push(corr, from(with_pid(ev(t, w1, "agent-1", "x"), 77), "agent.log"));
        push(corr, from(with_pid(ev(t + 1 * MS, w2, "agent-1", "y"), 77), "agent.log"));
        /* Another service whose process has the same pid (another pod). */
        push(corr, from(with_pid(ev(t + 2 * MS, w2, "agent-2", "y"), 77), "agent-2.log"));
        push(corr, ev(t + 60 * SEC, "clock", "m", "tick")); /* both close */
        /* One workflow now: its keys are new, and claim what has no id. */
        push(corr, from(with_pid(ev(t + 61 * SEC, w3, "agent-1", "z"), 77), "agent.log"));
        struct ll_event raw = from(ev(t + 61 * SEC + 5 * MS, "", "agent-1", "Segfault"),
                                   "agent.log");
        raw.flags |= LL_EV_RAW;
        push(corr, raw);
        push(corr, from(with_pid(ev(t + 61 * SEC + 9 * MS, "", "worker", "w"), 77), "w.log"));
        /* A second process of the same service, in the same workflow. */
        push(corr, from(with_pid(ev(t + 62 * SEC, w3, "agent-1", "z"), 88), "agent.log"));
        push(corr, from(with_pid(ev(t + 62 * SEC + 9 * MS, "", "worker", "w"), 88), "w.log"));
        push(corr, ev(t + 90 * SEC, "clock", "m", "tick"));
    }
    ll_correlator_flush(corr);
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.linked, 9);
    assert_int_equal(st.orphans, 0);
    for (int round = 0; round < 3; round++) {
        char w3[8];
        snprintf(w3, sizeof w3, "c%d", round);
        assert_non_null(strstr(json_of(&c, w3), "\"via\":\"pid:77\""));
        assert_non_null(strstr(json_of(&c, w3), "\"via\":\"pid:88\""));
        assert_non_null(strstr(json_of(&c, w3), "\"via\":\"source\""));
    }
    ll_correlator_destroy(corr);
    cap_free(&c);
}

/* @p e with its line: the JSON the service wrote. */
static struct ll_event line(struct ll_event e, const char *json)
{
    e.line = ll_str_c(json);
    return e;
}

/* Issue 20: a call sent without the id, the callee minting its own: the
 * new id's work joins the workflow whose call names the callee (the one
 * sharing the workflow's name when two calls are in flight), as linked. */
static void a_minted_id_joins_the_call_that_started_it(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC};
    ll_correlator *corr = make(&conf, &c);
    /* agent-3 only ever joins workflows the manager began. */
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "h%d", i);
        int64_t t = T0 + i * SEC;
        push(corr, line(ev(t, id, "manager", "dispatching"), "{\"agent\":\"agent-3\"}"));
        push(corr, ev(t + 5 * MS, id, "agent-3", "task accepted"));
    }
    int64_t t = T0 + 20 * SEC;
    push(corr, line(ev(t, "w1", "manager", "dispatching"),
                    "{\"agent\":\"agent-3\",\"workflow\":\"sync-mirror\"}"));
    push(corr, line(ev(t + 1 * MS, "w2", "manager", "dispatching"),
                    "{\"agent\":\"agent-3\",\"workflow\":\"review-diff\"}"));
    push(corr, line(ev(t + 3 * MS, "minted", "agent-3", "task accepted"),
                    "{\"traceId\":\"minted\",\"workflow\":\"sync-mirror\"}"));
    push(corr, ev(t + 4 * MS, "w2", "agent-3", "task accepted"));
    push(corr, ev(t + 9 * MS, "minted", "worker", "step done"));
    push(corr, ev(t + 60 * SEC, "clock", "m", "tick"));
    ll_correlator_flush(corr);
    const char *w1 = json_of(&c, "w1");
    assert_non_null(strstr(w1, "\"linked\":2"));
    assert_non_null(strstr(w1, "\"services\":[\"manager\",\"agent-3\",\"worker\"]"));
    assert_non_null(strstr(json_of(&c, "w2"), "\"linked\":0"));
    for (int i = 0; i < c.n; i++)
        assert_string_not_equal(c.id[i], "minted");
    ll_correlator_destroy(corr);
    cap_free(&c);
}

/* A message whose id field was renamed on the way: the receiver logs it
 * without an id, though its lines of that kind have one. It joins the
 * workflow of the sender it names that shares another of its values; a
 * line that only names the sender (a heartbeat) stays an orphan. */
static void a_message_that_lost_its_id_joins_its_sender(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC};
    ll_correlator *corr = make(&conf, &c);
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "h%d", i);
        int64_t t = T0 + i * SEC;
        push(corr, ev(t, id, "agent-2", "task accepted"));
        push(corr, ev(t + 2 * MS, id, "monitor", "task progress"));
    }
    int64_t t = T0 + 20 * SEC;
    push(corr, line(ev(t, "w1", "agent-2", "task accepted"),
                    "{\"context\":{\"requestId\":\"w1\"},\"workflow\":\"publish-release-notes\"}"));
    push(corr, line(ev(t + 1 * MS, "w2", "agent-2", "task accepted"),
                    "{\"context\":{\"requestId\":\"w2\"},\"workflow\":\"summarize-pr\"}"));
    push(corr, line(ev(t + 3 * MS, "", "monitor", "task progress"),
                    "{\"agent\":\"agent-2\",\"workflow\":\"publish-release-notes\"}"));
    push(corr, line(ev(t + 4 * MS, "", "monitor", "agent heartbeat"), "{\"agent\":\"agent-2\"}"));
    push(corr, ev(t + 60 * SEC, "clock", "m", "tick"));
    ll_correlator_flush(corr);
    assert_non_null(strstr(json_of(&c, "w1"), "\"linked\":1"));
    assert_non_null(strstr(json_of(&c, "w2"), "\"linked\":0"));
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.orphans, 1); /* the heartbeat */
    ll_correlator_destroy(corr);
    cap_free(&c);
}

/* A file of text alone, with no time anywhere (a shell tool's stdout in
 * child-4312.log): raw, its line has the epoch; it waits for its name's pid
 * to be taught and joins there, at the teacher's time. */
static void a_timeless_text_file_joins_by_the_pid_in_its_name(void **state)
{
    (void)state;
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC};
    ll_correlator *corr = make(&conf, &c);
    struct ll_event fmt = from(ev(0, "", "child-4312", "fmt ok"), "child-4312.log");
    fmt.flags |= LL_EV_RAW | LL_EV_TIME_INFERRED;
    push(corr, fmt);
    struct ll_event other = from(ev(0, "", "child-999", "never spawned"), "child-999.log");
    other.flags |= LL_EV_RAW | LL_EV_TIME_INFERRED;
    push(corr, other);
    struct ll_event spawned = ev(T0, "w1", "agent-1", "child spawned");
    spawned.child_pid = 4312;
    spawned.flags |= LL_EV_HAS_CHILD_PID;
    push(corr, spawned);
    push(corr, ev(T0 + 60 * SEC, "clock", "m", "tick"));
    ll_correlator_flush(corr);
    const char *w1 = json_of(&c, "w1");
    assert_non_null(strstr(w1, "\"events\":2"));
    assert_non_null(strstr(w1, "child-4312"));
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.orphans, 1); /* child-999's */
    ll_correlator_destroy(corr);
    cap_free(&c);
}

/* Long file names (container logs) that differ only past a key's length
 * stay two keys: a crash report joins its own file's workflow. */
static void long_file_names_stay_apart(void **state)
{
    (void)state;
    char a[128], b[128];
    memset(a, 'x', 100);
    memcpy(b, a, 100);
    strcpy(a + 100, "-a.log");
    strcpy(b + 100, "-b.log");
    struct cap c;
    struct ll_corr_conf conf = {.session_gap_ns = 10 * SEC};
    ll_correlator *corr = make(&conf, &c);
    for (int round = 0; round < 2; round++) {
        int64_t t = T0 + round * 100 * SEC;
        push(corr, from(ev(t, round ? "w3" : "w1", "agent-1", "x"), a));
        if (!round)
            push(corr, from(ev(t + 1 * MS, "w2", "agent-2", "y"), b));
        struct ll_event raw = from(ev(t + 2 * MS, "", "agent-1", "Segfault"), a);
        raw.flags |= LL_EV_RAW;
        push(corr, raw);
        push(corr, ev(t + 60 * SEC, "clock", "m", "tick")); /* all close */
    }
    ll_correlator_flush(corr);
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    assert_int_equal(st.orphans, 0);
    assert_int_equal(st.linked, 2);
    assert_non_null(strstr(json_of(&c, "w1"), "\"via\":\"source\""));
    assert_non_null(strstr(json_of(&c, "w3"), "\"via\":\"source\""));
    assert_null(strstr(json_of(&c, "w2"), "\"via\":\"source\""));
    ll_correlator_destroy(corr);
    cap_free(&c);
}

static void orphan_summary_names_the_earliest_positions(void **state)
{
    (void)state;
    struct cap c;
    ll_correlator *corr = make(NULL, &c);
    int64_t ts[] = {5, 1, 4, 2, 3};
    uint64_t off[] = {500, 100, 400, 200, 300};
    for (int i = 0; i < 5; i++) {
        struct ll_event e = ev(T0 + ts[i] * MS, "", "manager", "pool stats");
        e.pos.offset = off[i];
        push(corr, e);
    }
    push(corr, ev(T0 + 6 * MS, "w", "manager", "with id"));
    ll_correlator_flush(corr);
    size_t n;
    const struct ll_orphans *o = ll_correlator_orphans(corr, &n);
    assert_int_equal(n, 1);
    assert_int_equal(o[0].n, 5);
    assert_int_equal(o[0].n_with_id, 1);
    assert_true(o[0].first_ns == T0 + 1 * MS && o[0].last_ns == T0 + 5 * MS);
    assert_int_equal(o[0].n_examples, 3);
    assert_int_equal(o[0].examples[0].offset, 100);
    assert_int_equal(o[0].examples[1].offset, 200);
    assert_int_equal(o[0].examples[2].offset, 300);
    ll_correlator_destroy(corr);
    cap_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Order independence                                                        */

#define NW 60

struct script {
    struct ll_event ev[NW * 8];
    int n;
    char ids[NW][16];
};

static uint64_t rng;
static uint64_t next_rand(void)
{
    return xorshift64(&rng);
}

/* Workflows over four sources, with children that log without the id. */
static void make_script(struct script *s)
{
    static const char *srcs[] = {"manager.log", "agent-1.log", "agent-2.log", "child.log"};
    s->n = 0;
    rng = 42;
    for (int w = 0; w < NW; w++) {
        snprintf(s->ids[w], sizeof s->ids[w], "wf-%02d", w);
        int64_t t = T0 + (int64_t)w * 700 * MS;
        const char *agent = w % 2 ? "agent-1" : "agent-2";
        struct ll_event e[8] = {
            ev(t, s->ids[w], "manager", "workflow started"),
            ev(t + 5 * MS, s->ids[w], agent, "task received"),
            spawn_line(t + 9 * MS, s->ids[w], agent, 4000 + w),
            with_pid(ev(t + 300 * MS, "", "worker", "worker started"), 4000 + w),
            with_pid(ev(t + 900 * MS, "", "worker", "work done"), 4000 + w),
            ev(t + 950 * MS, s->ids[w], agent, "child exited"),
            ev(t + 960 * MS, s->ids[w], "manager", w % 7 ? "workflow finished" : "workflow failed"),
            ev(t + (w % 3) * 40 * SEC + 970 * MS, s->ids[w], "manager", "follow-up"),
        };
        e[6].level = w % 7 ? LL_LEVEL_INFO : LL_LEVEL_ERROR;
        for (int k = 0; k < 8; k++) {
            e[k].pos.source = ll_str_c(srcs[k == 0 || k >= 6 ? 0 : k >= 3 && k <= 4 ? 3 : 1 + w % 2]);
            e[k].pos.offset = (uint64_t)(w * 8 + k) * 97;
            s->ev[s->n++] = e[k];
        }
    }
}

static int cmp_by_ts(const void *a, const void *b)
{
    const struct ll_event *x = a, *y = b;
    return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns ? 1
           : x->pos.offset < y->pos.offset ? -1 : x->pos.offset > y->pos.offset;
}

struct keyed {
    int64_t key;
    struct ll_event e;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Runs @p evs and returns the sorted JSON lines of every timeline. */
static char *run_sorted_output(struct ll_event *evs, int n)
{
    struct cap c;
    struct ll_corr_conf conf = {.is_terminal = finished, .allowed_lateness_ns = 5 * SEC};
    ll_correlator *corr = make(&conf, &c);
    for (int i = 0; i < n; i++)
        ll_correlator_push(corr, &evs[i]);
    ll_correlator_flush(corr);
    char *lines[MAX_TL];
    for (int i = 0; i < c.n; i++)
        lines[i] = c.json[i].data;
    qsort(lines, (size_t)c.n, sizeof *lines, cmp_strs);
    struct ll_buf all = {0};
    for (int i = 0; i < c.n; i++)
        ll_buf_puts(&all, lines[i]);
    size_t n_orph;
    const struct ll_orphans *o = ll_correlator_orphans(corr, &n_orph);
    for (size_t i = 0; i < n_orph; i++)
        ll_orphans_to_json(&all, &o[i]);
    struct ll_stats st = {0};
    ll_correlator_stats(corr, &st);
    ll_buf_printf(&all, "timelines=%llu linked=%llu orphans=%llu late=%llu\n",
                  (unsigned long long)st.timelines, (unsigned long long)st.linked,
                  (unsigned long long)st.orphans, (unsigned long long)st.late);
    ll_correlator_destroy(corr);
    cap_free(&c);
    return all.data;
}

static void shuffled_within_lateness_gives_the_same_timelines(void **state)
{
    (void)state;
    static struct script s;
    make_script(&s);
    qsort(s.ev, (size_t)s.n, sizeof *s.ev, cmp_by_ts);
    char *want = run_sorted_output(s.ev, s.n);
    assert_non_null(strstr(want, "linked=120")); /* every child line joined */
    for (int round = 0; round < 20; round++) {
        /* Each event moves by less than the lateness: sort on time plus a
         * random delay below 5 s. */
        static struct keyed k[NW * 8];
        for (int i = 0; i < s.n; i++)
            k[i] = (struct keyed){s.ev[i].ts_ns + (int64_t)(next_rand() % (5000 * MS - 1)),
                                  s.ev[i]};
        qsort(k, (size_t)s.n, sizeof *k, cmp_keyed);
        static struct ll_event shuffled[NW * 8];
        for (int i = 0; i < s.n; i++)
            shuffled[i] = k[i].e;
        char *got = run_sorted_output(shuffled, s.n);
        assert_string_equal(got, want);
        free(got);
    }
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_group_by_id_with_services_and_hops),
        cmocka_unit_test(first_event_of_each_service_by_position),
        cmocka_unit_test(errors_fail_the_timeline),
        cmocka_unit_test(gap_closes_once_the_watermark_passes),
        cmocka_unit_test(gap_is_decided_in_event_time_not_by_arrival),
        cmocka_unit_test(a_late_bridge_merges_two_sessions),
        cmocka_unit_test(terminal_event_closes_after_lateness),
        cmocka_unit_test(events_behind_the_watermark_are_late_never_dropped),
        cmocka_unit_test(slowest_active_source_holds_the_watermark),
        cmocka_unit_test(idle_source_stops_holding_the_watermark),
        cmocka_unit_test(max_span_cuts_and_continues),
        cmocka_unit_test(max_events_cuts),
        cmocka_unit_test(kept_events_are_the_first_and_last_halves),
        cmocka_unit_test(open_cap_evicts_least_recently_active),
        cmocka_unit_test(many_timelines_survive_table_growth),
        cmocka_unit_test(evicting_at_the_cap_costs_the_same_however_many_are_open),
        cmocka_unit_test(hosts_seen_leave_nothing_behind),
        cmocka_unit_test(child_without_id_joins_through_its_pid),
        cmocka_unit_test(child_that_logs_before_the_spawn_line_still_joins),
        cmocka_unit_test(own_pid_links_other_services_but_not_the_same_one),
        cmocka_unit_test(keys_of_a_closed_timeline_are_taught_afresh),
        cmocka_unit_test(long_file_names_stay_apart),
        cmocka_unit_test(a_timeless_text_file_joins_by_the_pid_in_its_name),
        cmocka_unit_test(a_minted_id_joins_the_call_that_started_it),
        cmocka_unit_test(a_message_that_lost_its_id_joins_its_sender),
        cmocka_unit_test(key_seen_in_two_workflows_is_never_used),
        cmocka_unit_test(pid_on_another_host_is_another_process),
        cmocka_unit_test(links_expire_with_their_timeline),
        cmocka_unit_test(orphan_summary_names_the_earliest_positions),
        cmocka_unit_test(shuffled_within_lateness_gives_the_same_timelines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
