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
 * And on the shapes corpus (issue 20: pino, winston, bunyan and console
 * JSON, ids under seven spellings, stderr relayed in fields, a monitor
 * restart that agents recover from and one never does, ids minted and
 * renamed at hops), live and with kills: service-level alerts with their
 * affected workflows, recovered blips and ids lost at a hop come out of
 * the daemon as they come out of replay.
 *
 * The same runs with a full disk under the checkpoints are in test_faults. */
#define LL_E2E
#define LL_E2E_DAEMONS
#define LL_PG
#include "../testutil.h"

#include "servers.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#include "../fleet.h"

#define KILLS 20
#define FEED_PER_SEC 1500
/* The shapes corpus goes three times as fast, except in a sanitized build,
 * which reads several times slower: there a child's file found that much
 * later than its first line was written can fall past its workflow's gap
 * in this compressed time (minutes of logs in seconds), and split it. */
#if defined(__SANITIZE_ADDRESS__)
#define SHAPES_PER_SEC FEED_PER_SEC
#else
#define SHAPES_PER_SEC (3 * FEED_PER_SEC)
#endif
#define KILL_FEED_PER_SEC 800

static struct ll_test_pg pg;
static struct ll_test_redis rd;
static struct fleet corpus, shapes;
static struct fleet_answer want, shapes_want;

#define SHAPES_DIR "tests/data/real/shapes-2/raw"

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
    fleet_load(&corpus, FLEET_DIR);
    fleet_replay_answer(&corpus, "replayed", &want);
    print_message("fleet: %zu lines in %d files; replay: %zu alerts, %zu timelines\n", corpus.n,
                  corpus.n_files, fleet_count(&want, true), fleet_count(&want, false));
    fleet_load(&shapes, SHAPES_DIR);
    fleet_replay_answer(&shapes, "shapes-replayed", &shapes_want);
    print_message("shapes: %zu lines in %d files; replay: %zu alerts, %zu timelines\n", shapes.n,
                  shapes.n_files, fleet_count(&shapes_want, true),
                  fleet_count(&shapes_want, false));
    return fleet_count(&want, true) >= 40 && fleet_count(&want, false) >= 300 &&
                   fleet_count(&shapes_want, true) >= 50
               ? 0
               : -1;
}

static int group_teardown(void **state)
{
    kill_started();
    fleet_answer_free(&want);
    fleet_free(&corpus);
    fleet_answer_free(&shapes_want);
    fleet_free(&shapes);
    ll_test_pg_destroy(&pg);
    ll_test_redis_destroy(&rd);
    return e2e_group_teardown(state);
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                     */

static void a_live_tail_at_a_steady_rate_gives_replays_answer(void **state)
{
    (void)state;
    struct fleet_case c;
    fleet_case_init(&c, "live", &pg, &rd, NULL, true);
    fleet_case_start(&c);
    fleet_write(&corpus, c.logs, 0, corpus.n, FEED_PER_SEC);
    fleet_write_clock(&corpus, c.logs);
    fleet_case_settle(&c, &want);
    fleet_case_check(&c, &want);
    fleet_case_free(&c);
}

static void a_cold_start_on_a_backlog_of_every_file_gives_replays_answer(void **state)
{
    (void)state;
    struct fleet_case c;
    fleet_case_init(&c, "cold", &pg, &rd, NULL, true);
    fleet_write(&corpus, c.logs, 0, corpus.n, 0);
    fleet_write_clock(&corpus, c.logs);
    fleet_case_start(&c);
    fleet_case_settle(&c, &want);
    fleet_case_check(&c, &want);
    assert_logged("cold0", "started: 1 sources");
    fleet_case_free(&c);
}

/* @p kills SIGKILLs (at most KILLS) at moments drawn from @p seed while the
 * lines of @p f are written, each restart after a drawn while (up to 300 ms;
 * the lines go on); then every sink holds @p w. */
static void killed(const struct fleet *f, struct fleet_answer *w, uint64_t seed, int kills)
{
    char name[32];
    snprintf(name, sizeof name, "kill%llu", (unsigned long long)(seed % 100000));
    struct fleet_case c;
    fleet_case_init(&c, name, &pg, &rd, NULL, true);
    uint64_t rng = seed;
    size_t at[KILLS];
    assert_true(kills <= KILLS);
    for (int k = 0; k < kills; k++) /* sorted: one in each of @p kills stretches */
        at[k] = (f->n * (size_t)k + next_rand(&rng) % f->n) / (size_t)kills;
    print_message("seed %llu: kills after lines", (unsigned long long)seed);
    for (int k = 0; k < kills; k++)
        print_message(" %zu", at[k]);
    print_message("\n");
    fleet_case_start(&c);
    size_t from = 0;
    for (int k = 0; k < kills; k++) {
        if (at[k] > from) {
            fleet_write(f, c.logs, from, at[k], KILL_FEED_PER_SEC);
            from = at[k];
        }
        kill(c.pid, SIGKILL);
        waitpid(c.pid, NULL, 0);
        long down = (long)(next_rand(&rng) % 300);
        size_t during = (size_t)(down * KILL_FEED_PER_SEC / 1000);
        if (from + during > f->n)
            during = f->n - from;
        fleet_write(f, c.logs, from, from + during, KILL_FEED_PER_SEC);
        from += during;
        fleet_case_start(&c);
    }
    fleet_write(f, c.logs, from, f->n, KILL_FEED_PER_SEC);
    fleet_write_clock(f, c.logs);
    fleet_case_settle(&c, w);
    fleet_case_check(&c, w);
    /* No restart found a checkpoint it could not read. */
    for (int s = 0; s < c.starts; s++) {
        char n[48];
        snprintf(n, sizeof n, "%s%d", c.name, s);
        char *log = run_log(n);
        if (log && (strstr(log, "not a checkpoint") || strstr(log, "not a tombstone")))
            fail_msg("%s: %s", n, log);
        free(log);
    }
    fleet_case_free(&c);
}

static void kills_at_random_moments_lose_and_repeat_nothing(void **state)
{
    (void)state;
    const char *s = getenv("LL_FAULTS_SEED");
    if (s && *s) {
        killed(&corpus, &want, strtoull(s, NULL, 10), KILLS);
        return;
    }
    killed(&corpus, &want, 20261207, KILLS);
    killed(&corpus, &want, 4242, KILLS);
}

/* Issue 20: the shapes corpus, tailed live and then with kills. */
static void shapes_live_give_replays_answer(void **state)
{
    (void)state;
    struct fleet_case c;
    fleet_case_init(&c, "shapes", &pg, &rd, NULL, true);
    fleet_case_start(&c);
    fleet_write(&shapes, c.logs, 0, shapes.n, SHAPES_PER_SEC);
    fleet_write_clock(&shapes, c.logs);
    fleet_case_settle(&c, &shapes_want);
    fleet_case_check(&c, &shapes_want);
    fleet_case_free(&c);
}

static void shapes_with_kills_give_replays_answer(void **state)
{
    (void)state;
    killed(&shapes, &shapes_want, 2026120, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_live_tail_at_a_steady_rate_gives_replays_answer),
        cmocka_unit_test(a_cold_start_on_a_backlog_of_every_file_gives_replays_answer),
        cmocka_unit_test(kills_at_random_moments_lose_and_repeat_nothing),
        cmocka_unit_test(shapes_live_give_replays_answer),
        cmocka_unit_test(shapes_with_kills_give_replays_answer),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
