/* One answer in every mode (issue 19): `logloom run` on the fleet corpus,
 * real programs' logs in 284 files, against `logloom replay` of the same
 * files. Each case writes the lines again in the order the programs wrote
 * them into a directory the daemon tails, with its sinks on a real
 * PostgreSQL, a real Redis and a file, and ends with a line ten minutes
 * later (fleet.h) so that every window closes. Then each sink, folded by
 * id, holds exactly replay's alerts (rule, scope, first time, count, first
 * evidence, id) and timelines (id, events): nothing missing, nothing extra,
 * each record once, no alert pointing at a timeline that is not there.
 *
 * - a live tail at a steady rate;
 * - a cold start on a backlog of every file (a DaemonSet on a node with
 *   logs already there);
 * - SIGKILLs at seeded random moments while the lines are written, with
 *   restarts from the checkpoints (LL_FAULTS_SEED=N for one schedule of
 *   your own; the default runs two).
 *
 * The same runs with a full disk under the checkpoints are in test_faults. */
#define LL_E2E
#define LL_E2E_DAEMONS
#define LL_PG
#include "../testutil.h"

#include "../fleet.h"
#include "servers.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#define KILLS 20
#define FEED_PER_SEC 1500
#define KILL_FEED_PER_SEC 800

static struct ll_test_pg pg;
static struct ll_test_redis rd;
static struct fleet corpus;
static struct fleet_answer want;

/* splitmix64: the kill schedule, from its seed. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The corpus written out whole, and replay's answer on it. */
static int group_setup(void **state)
{
    e2e_group_setup(state);
    signal(SIGPIPE, SIG_IGN);
    if (ll_test_pg_start(&pg) != 0 || ll_test_redis_start(&rd, NULL, false) != 0)
        return -1;
    fleet_load(&corpus);
    char *ref = in_tmp("replayed");
    mkdir(ref, 0700);
    fleet_write(&corpus, ref, 0, corpus.n, 0);
    fleet_write_clock(&corpus, ref);
    const char *args[] = {"replay", "--format", "jsonl", "-q", ref, NULL};
    struct run_result r = run_args(logloom, tmpdir, args);
    if (r.status != 0)
        return -1;
    fleet_fold_lines(&want, r.out);
    run_result_free(&r);
    free(ref);
    print_message("fleet: %zu lines in %d files; replay: %zu alerts, %zu timelines\n", corpus.n,
                  corpus.n_files, fleet_count(&want, true), fleet_count(&want, false));
    return fleet_count(&want, true) >= 40 && fleet_count(&want, false) >= 300 ? 0 : -1;
}

static int group_teardown(void **state)
{
    kill_started();
    fleet_answer_free(&want);
    fleet_free(&corpus);
    ll_test_pg_destroy(&pg);
    ll_test_redis_destroy(&rd);
    return e2e_group_teardown(state);
}

/* ------------------------------------------------------------------------ */
/* A case's daemon and its sinks                                             */

struct daemon_case {
    char name[32];
    char db[32];
    char *logs, *ckpt, *file, *config;
    pid_t pid;
    int starts;
};

static long long in_db(const struct daemon_case *c, const char *sql)
{
    struct ll_test_pg other = pg;
    snprintf(other.conninfo, sizeof other.conninfo, "host=%s port=%d dbname=%s user=postgres",
             pg.dir, pg.port, c->db);
    return ll_test_pg_int(&other, sql);
}

static char *db_text(const struct daemon_case *c, const char *sql)
{
    struct ll_test_pg other = pg;
    snprintf(other.conninfo, sizeof other.conninfo, "host=%s port=%d dbname=%s user=postgres",
             pg.dir, pg.port, c->db);
    return ll_test_pg_text(&other, sql);
}

/* A fresh database, directory and configuration for case @p name: the
 * defaults of `replay` (as a user's would be), checkpoints every 200 ms,
 * sinks on PostgreSQL, Redis (streams NAME:alerts and NAME:tl) and a file,
 * each taking alerts and timelines. */
static void case_init(struct daemon_case *c, const char *name)
{
    *c = (struct daemon_case){0};
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->db, sizeof c->db, "d_%s", name);
    fresh_db(&pg, c->db);
    char sub[64];
    snprintf(sub, sizeof sub, "%s-logs", name);
    c->logs = in_tmp(sub);
    assert_int_equal(mkdir(c->logs, 0700), 0);
    snprintf(sub, sizeof sub, "%s-ckpt", name);
    c->ckpt = in_tmp(sub);
    snprintf(sub, sizeof sub, "%s-alerts.jsonl", name);
    c->file = in_tmp(sub);
    char text[4096];
    snprintf(text, sizeof text,
             "sources:\n  - paths: [%s/*.log]\n    start_at: head\n"
             "checkpoints: {dir: %s, interval: 200ms}\n"
             "metrics: off\nlog: {level: info, format: text}\n"
             "sinks:\n"
             "  - url: host=%s port=%d dbname=%s user=postgres\n    receive: both\n"
             "  - url: %s\n    receive: both\n    stream: %s:alerts\n"
             "    timeline_stream: %s:tl\n    channel: ''\n"
             "  - url: file:%s\n    receive: both\n",
             c->logs, c->ckpt, pg.dir, pg.port, c->db, rd.url, name, name, c->file);
    snprintf(sub, sizeof sub, "%s.yaml", name);
    c->config = write_text(tmpdir, sub, text);
}

static void case_start(struct daemon_case *c)
{
    char name[48];
    snprintf(name, sizeof name, "%s%d", c->name, c->starts++);
    c->pid = start_run(c->config, name);
}

static void case_free(struct daemon_case *c)
{
    free(c->logs);
    free(c->ckpt);
    free(c->file);
    free(c->config);
}

/* What a sink holds, folded by id. */
static void from_pg(const struct daemon_case *c, struct fleet_answer *a)
{
    char *alerts = db_text(c, "SELECT coalesce(json_agg(json_build_object('type', 'alert', "
                              "'id', id, 'rule', rule, 'correlation_id', correlation_id, "
                              "'service', service, 'first_seen', first_seen, 'count', count, "
                              "'evidence', evidence)), '[]') FROM logloom.alerts");
    char *tls = db_text(c, "SELECT coalesce(json_agg(json_build_object('type', 'timeline', "
                           "'id', id, 'correlation_id', correlation_id, 'events', event_count)),"
                           " '[]') FROM logloom.timelines");
    fleet_fold_array(a, alerts);
    fleet_fold_array(a, tls);
    free(alerts);
    free(tls);
}

static void from_redis(const struct daemon_case *c, struct fleet_answer *a)
{
    redisContext *ctx = redisConnectUnix(rd.sock);
    assert_true(ctx && !ctx->err);
    for (int s = 0; s < 2; s++) {
        redisReply *r = redisCommand(ctx, "XRANGE %s:%s - +", c->name, s ? "tl" : "alerts");
        assert_true(r && r->type == REDIS_REPLY_ARRAY);
        for (size_t i = 0; i < r->elements; i++) {
            redisReply *f = r->element[i]->element[1];
            char err[128];
            yajl_val o = yajl_tree_parse(f->element[5]->str, err, sizeof err);
            assert_non_null(o);
            fleet_fold(a, o);
            yajl_tree_free(o);
        }
        freeReplyObject(r);
    }
    redisFree(ctx);
}

static void from_file(const struct daemon_case *c, struct fleet_answer *a)
{
    char *text = access(c->file, R_OK) == 0 ? read_file(c->file, NULL) : NULL;
    fleet_fold_lines(a, text);
    free(text);
}

/* Waits until every sink holds as many alerts and timelines as replay
 * found (or a minute passes), then a while longer for anything doubled to
 * show, and stops the daemon with SIGTERM. */
static void case_settle(struct daemon_case *c)
{
    long long alerts = (long long)fleet_count(&want, true);
    long long tls = (long long)fleet_count(&want, false);
    for (int i = 0; i < 1200; i++) {
        struct fleet_answer f = {0};
        from_file(c, &f);
        bool done = in_db(c, "SELECT count(*) FROM logloom.alerts") >= alerts &&
                    in_db(c, "SELECT count(*) FROM logloom.timelines") >= tls &&
                    (long long)f.n >= alerts + tls;
        fleet_answer_free(&f);
        if (done)
            break;
        sleep_ms(50);
    }
    sleep_ms(700);
    kill(c->pid, SIGTERM);
    assert_int_equal(wait_cmd(c->pid), 0);
}

/* Every sink holds replay's answer, each record once. */
static void case_check(const struct daemon_case *c)
{
    char what[64];
    struct fleet_answer got = {0};
    from_pg(c, &got);
    snprintf(what, sizeof what, "%s: PostgreSQL", c->name);
    fleet_assert_same(what, &want, &got);
    assert_int_equal(got.records, got.n); /* a row per id */
    assert_int_equal(in_db(c, "SELECT count(*) FROM logloom.alerts a WHERE timeline_id IS NOT "
                              "NULL AND NOT EXISTS (SELECT 1 FROM logloom.timelines t WHERE "
                              "t.id = a.timeline_id)"),
                     0);
    fleet_answer_free(&got);

    from_redis(c, &got);
    snprintf(what, sizeof what, "%s: Redis", c->name);
    fleet_assert_same(what, &want, &got);
    assert_int_equal(got.repeated, 0); /* a version of an alert, a timeline: once each */
    fleet_answer_free(&got);

    from_file(c, &got);
    snprintf(what, sizeof what, "%s: file sink", c->name);
    fleet_assert_same(what, &want, &got);
    assert_int_equal(got.repeated, 0);
    print_message("%s: %zu records in the file for %zu alerts and %zu timelines\n", c->name,
                  got.records, fleet_count(&got, true), fleet_count(&got, false));
    fleet_answer_free(&got);
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                     */

static void a_live_tail_at_a_steady_rate_gives_replays_answer(void **state)
{
    (void)state;
    struct daemon_case c;
    case_init(&c, "live");
    case_start(&c);
    fleet_write(&corpus, c.logs, 0, corpus.n, FEED_PER_SEC);
    fleet_write_clock(&corpus, c.logs);
    case_settle(&c);
    case_check(&c);
    case_free(&c);
}

static void a_cold_start_on_a_backlog_of_every_file_gives_replays_answer(void **state)
{
    (void)state;
    struct daemon_case c;
    case_init(&c, "cold");
    fleet_write(&corpus, c.logs, 0, corpus.n, 0);
    fleet_write_clock(&corpus, c.logs);
    case_start(&c);
    case_settle(&c);
    case_check(&c);
    assert_logged("cold0", "started: 1 sources");
    case_free(&c);
}

/* KILLS SIGKILLs at moments drawn from @p seed while the lines are written,
 * each restart after a drawn while (up to 300 ms; the lines go on). */
static void killed(uint64_t seed)
{
    char name[32];
    snprintf(name, sizeof name, "kill%llu", (unsigned long long)(seed % 100000));
    struct daemon_case c;
    case_init(&c, name);
    uint64_t rng = seed;
    size_t at[KILLS];
    for (int k = 0; k < KILLS; k++) /* sorted: one in each of KILLS stretches */
        at[k] = (corpus.n * (size_t)k + next_rand(&rng) % corpus.n) / KILLS;
    print_message("seed %llu: kills after lines", (unsigned long long)seed);
    for (int k = 0; k < KILLS; k++)
        print_message(" %zu", at[k]);
    print_message("\n");
    case_start(&c);
    size_t from = 0;
    for (int k = 0; k < KILLS; k++) {
        if (at[k] > from) {
            fleet_write(&corpus, c.logs, from, at[k], KILL_FEED_PER_SEC);
            from = at[k];
        }
        kill(c.pid, SIGKILL);
        waitpid(c.pid, NULL, 0);
        long down = (long)(next_rand(&rng) % 300);
        size_t during = (size_t)(down * KILL_FEED_PER_SEC / 1000);
        if (from + during > corpus.n)
            during = corpus.n - from;
        fleet_write(&corpus, c.logs, from, from + during, KILL_FEED_PER_SEC);
        from += during;
        case_start(&c);
    }
    fleet_write(&corpus, c.logs, from, corpus.n, KILL_FEED_PER_SEC);
    fleet_write_clock(&corpus, c.logs);
    case_settle(&c);
    case_check(&c);
    /* No restart found a checkpoint it could not read. */
    for (int s = 0; s < c.starts; s++) {
        char n[48];
        snprintf(n, sizeof n, "%s%d", c.name, s);
        char *log = run_log(n);
        if (log && (strstr(log, "not a checkpoint") || strstr(log, "not a tombstone")))
            fail_msg("%s: %s", n, log);
        free(log);
    }
    case_free(&c);
}

static void kills_at_random_moments_lose_and_repeat_nothing(void **state)
{
    (void)state;
    const char *s = getenv("LL_FAULTS_SEED");
    if (s && *s) {
        killed(strtoull(s, NULL, 10));
        return;
    }
    killed(20261207);
    killed(4242);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_live_tail_at_a_steady_rate_gives_replays_answer),
        cmocka_unit_test(a_cold_start_on_a_backlog_of_every_file_gives_replays_answer),
        cmocka_unit_test(kills_at_random_moments_lose_and_repeat_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
