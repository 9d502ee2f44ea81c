/* Fault injection: what production does to logloom, done on purpose.
 *
 * - PostgreSQL and Redis, fed together by one long replay, are SIGKILLed
 *   again and again at pseudo-random points and restarted on the same data:
 *   at the end they hold exactly what an undisturbed replay of the same
 *   input stores, id for id and byte for byte.
 * - `logloom run` is SIGKILLed at pseudo-random points while an application
 *   writes, and restarted from its checkpoints each time: every line is
 *   read, every alert stored once, every timeline whole.
 * - The file system under the checkpoints of `logloom run`, and under the
 *   dead-letter file of `logloom replay`, fills up: the process says which
 *   file and why, corrupts nothing (the previous checkpoint still loads, no
 *   partial line), carries on, and writes again once space returns; on the
 *   fleet corpus (fleet.h), with a kill while full, every sink ends with
 *   replay's answer.
 *
 * The kill points come from a fixed seed, printed; LL_FAULTS_SEED=N runs
 * another schedule. A disk fills up in two ways, each test says which:
 * a 1 MiB tmpfs filled to the last byte (ENOSPC, as a real disk says it),
 * mounted in a mount namespace of the test's own (nothing shows outside, and
 * it goes away with the process); and a file size limit (RLIMIT_FSIZE,
 * SIGXFSZ ignored) on the logloom process, which the kernel enforces with
 * short writes and EFBIG. Where mounting is not allowed (a container without
 * CAP_SYS_ADMIN) only the second, and the test says why; LL_FAULTS_DISK=tmpfs
 * or =rlimit runs one of them only (tmpfs fails where it cannot mount). */
#define LL_E2E
#define LL_E2E_DAEMONS
#define LL_PG
#include "../testutil.h"

#include "servers.h"

#include <dirent.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <yajl/yajl_tree.h>

#include "../fleet.h"

#define DEFAULT_SEED 20261124ULL

static struct ll_test_pg pg;
static struct ll_test_redis rd;
static uint64_t seed;

static int group_setup(void **state)
{
    e2e_group_setup(state);
    signal(SIGPIPE, SIG_IGN); /* the test talks to servers it kills */
    const char *s = getenv("LL_FAULTS_SEED");
    seed = s && *s ? strtoull(s, NULL, 10) : DEFAULT_SEED;
    print_message("seed %llu (LL_FAULTS_SEED=N for another schedule)\n",
                  (unsigned long long)seed);
    if (ll_test_pg_start(&pg) != 0 || ll_test_redis_start(&rd, NULL, false) != 0)
        return -1;
    return 0;
}

static void unmount_all(void);

static int group_teardown(void **state)
{
    kill_started();
    unmount_all();
    ll_test_pg_destroy(&pg);
    ll_test_redis_destroy(&rd);
    return e2e_group_teardown(state);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/* splitmix64: one stream per test, from the seed. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static long long rand_in(uint64_t *s, long long lo, long long hi)
{
    return lo + (long long)(next_rand(s) % (uint64_t)(hi - lo + 1));
}

static void conninfo(const char *db, char *out, size_t size)
{
    snprintf(out, size, "host=%s port=%d dbname=%s user=postgres", pg.dir, pg.port, db);
}

/* The server as superuser on database @p db. */
static struct ll_test_pg on_db(const char *db)
{
    struct ll_test_pg other = pg;
    conninfo(db, other.conninfo, sizeof other.conninfo);
    return other;
}

static long long db_int(const char *db, const char *sql)
{
    struct ll_test_pg other = on_db(db);
    return ll_test_pg_int(&other, sql);
}

static char *db_text(const char *db, const char *sql)
{
    struct ll_test_pg other = on_db(db);
    return ll_test_pg_text(&other, sql);
}

/* Each test's database for `logloom run`, for wait_value(). */
static const char *run_db;

static long long in_run_db(const char *sql)
{
    return db_int(run_db, sql);
}

/* run_config() for @p name: the files @p logs/\*.log, the rule file
 * @p rules, and a PostgreSQL sink into run_db that receives both. */
static char *run_db_config(const char *name, const char *logs, const char *rules)
{
    char extra[1400];
    snprintf(extra, sizeof extra,
             "rules: [%s]\nsinks:\n  - url: host=%s port=%d dbname=%s user=postgres\n"
             "    receive: both\n",
             rules, pg.dir, pg.port, run_db);
    return run_config(name, logs, extra);
}

/* Whether @p pid has not exited; an exited one is left to be reaped. */
static bool running(pid_t pid)
{
    siginfo_t si = {0};
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
}

static char *output(const char *name, const char *ext)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.%s", tmpdir, name, ext);
    return read_file(path, NULL);
}

/* ------------------------------------------------------------------------ */
/* Sinks whose servers die                                                   */

enum { WORKFLOWS = 3000, ALERTS = WORKFLOWS / 6 * 5, RECORDS = ALERTS + WORKFLOWS };

/* WORKFLOWS workflows in @p dir (manager.log, agent-1.log .. agent-3.log),
 * 0.7 s of event time apart: started by the manager, received by an agent,
 * five in six failing (ECONNRESET, ETIMEDOUT, ECONNREFUSED, a PostgreSQL
 * deadlock, spawn EINVAL: five rules of the built-in pack, an alert each),
 * finished. */
static void write_corpus(const char *dir)
{
    static const char *const names[] = {"manager.log", "agent-1.log", "agent-2.log",
                                        "agent-3.log"};
    static const struct {
        bool manager;
        const char *err, *msg;
    } failures[] = {
        {false, "\"type\":\"Error\",\"message\":\"read ECONNRESET\",\"code\":\"ECONNRESET\","
                "\"errno\":-104,\"syscall\":\"read\"", "call failed"},
        {true, "\"type\":\"Error\",\"message\":\"connect ETIMEDOUT 10.0.3.1:443\","
               "\"code\":\"ETIMEDOUT\",\"syscall\":\"connect\"", "dispatch failed"},
        {false, "\"type\":\"Error\",\"message\":\"connect ECONNREFUSED 10.0.3.10:8080\","
                "\"code\":\"ECONNREFUSED\",\"syscall\":\"connect\"", "call failed"},
        {true, "\"type\":\"DatabaseError\",\"message\":\"deadlock detected\",\"code\":\"40P01\"",
         "persist failed"},
        {false, "\"type\":\"Error\",\"message\":\"spawn EINVAL\",\"code\":\"EINVAL\","
                "\"errno\":-22,\"syscall\":\"spawn\"", "spawn failed"},
    };
    FILE *fp[4];
    for (int f = 0; f < 4; f++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        assert_non_null(fp[f] = fopen(path, "w"));
    }
    for (int i = 0; i < WORKFLOWS; i++) {
        long long t = 1795500000000LL + i * 700LL;
        int agent = 1 + i % 3;
        fprintf(fp[0], "{\"level\":30,\"time\":%lld,\"name\":\"manager\",\"correlationId\":"
                       "\"wf-%06d\",\"msg\":\"workflow started\"}\n", t, i);
        fprintf(fp[agent], "{\"level\":30,\"time\":%lld,\"name\":\"agent-%d\",\"correlationId\":"
                           "\"wf-%06d\",\"msg\":\"task received\"}\n", t + 5, agent, i);
        if (i % 6 < 5) {
            int f = failures[i % 6].manager ? 0 : agent;
            char name[16];
            snprintf(name, sizeof name, f ? "agent-%d" : "manager", f);
            fprintf(fp[f], "{\"level\":50,\"time\":%lld,\"name\":\"%s\",\"correlationId\":"
                           "\"wf-%06d\",\"err\":{%s},\"msg\":\"%s\"}\n",
                    t + 9, name, i, failures[i % 6].err, failures[i % 6].msg);
        }
        fprintf(fp[0], "{\"level\":30,\"time\":%lld,\"name\":\"manager\",\"correlationId\":"
                       "\"wf-%06d\",\"msg\":\"workflow finished\"}\n", t + 20, i);
    }
    for (int f = 0; f < 4; f++)
        assert_int_equal(fclose(fp[f]), 0);
}

/* Replays @p in into database @p db and the Redis streams @p prefix:alerts
 * and @p prefix:tl. PostgreSQL takes small batches behind a small queue, so
 * the input waits for it and a run takes a while; Redis gathers large ones
 * (several pipelined script calls, which the server runs over several turns
 * of its loop, each with an AOF fsync), so that a kill often falls after
 * part of a batch was stored but before it was acknowledged: the batch is
 * sent again, and must not be stored twice. */
static pid_t replay_into(const char *name, const char *in, const char *db, const char *prefix)
{
    static char pgsink[1400], rsink[1400]; /* argv outlives this call */
    static const char retry[] = "retry_min=20ms&retry_max=300ms";
    char ci[1200];
    conninfo(db, ci, sizeof ci);
    snprintf(pgsink, sizeof pgsink, "%s#receive=both&batch=8&queue=64&linger=0&%s", ci, retry);
    snprintf(rsink, sizeof rsink,
             "%s#receive=both&stream=%s:alerts&timeline_stream=%s:tl&channel=&batch=400&"
             "queue=800&linger=150ms&%s",
             rd.url, prefix, prefix, retry);
    const char *args[] = {"replay", "--format", "jsonl", "--sink", pgsink, "--sink", rsink,
                          in, NULL};
    return start_logloom(name, args);
}

/* Rows written so far to @p db (0 before the schema exists). */
static long long pg_rows(const char *db)
{
    if (db_int(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'logloom' "
                   "AND tablename IN ('alerts', 'timelines')") != 2)
        return 0;
    long long n = db_int(db, "SELECT (SELECT count(*) FROM logloom.alerts) + "
                             "(SELECT count(*) FROM logloom.timelines)");
    return n < 0 ? 0 : n;
}

static long long redis_entries(const char *prefix)
{
    long long n = 0;
    for (int i = 0; i < 2; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s:%s", prefix, i ? "tl" : "alerts");
        const char *argv[] = {"XLEN", key};
        long long v = ll_test_redis_int(&rd, 2, argv);
        n += v > 0 ? v : 0;
    }
    return n;
}

/* Every row of @p table of @p db as "id md5-of-the-row", in id order; the
 * columns the server fills in itself (created_at, updated_at) left out. */
static char *pg_digest(const char *db, const char *table, long long *rows)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM logloom.%s", table);
    *rows = db_int(db, sql);
    snprintf(sql, sizeof sql,
             "SELECT string_agg(id || ' ' || md5((to_jsonb(x) - 'created_at' - 'updated_at')"
             "::text), E'\\n' ORDER BY id) FROM logloom.%s x",
             table);
    char *text = db_text(db, sql);
    assert_non_null(text);
    return text;
}

/* The entries of stream @p key as sorted "id type record" lines; fails on
 * an id that comes twice. */
static char *redis_digest(const char *key, long long *entries)
{
    redisContext *c = redisConnectUnix(rd.sock);
    assert_true(c && !c->err);
    redisReply *r = redisCommand(c, "XRANGE %s - +", key);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    char **lines = calloc(r->elements + 1, sizeof *lines);
    size_t total = 1;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        assert_int_equal(f->elements, 6);
        assert_string_equal(f->element[0]->str, "id");
        assert_string_equal(f->element[4]->str, "record");
        size_t len = f->element[1]->len + f->element[3]->len + f->element[5]->len + 3;
        lines[i] = malloc(len + 1);
        snprintf(lines[i], len + 1, "%s %s %s", f->element[1]->str, f->element[3]->str,
                 f->element[5]->str);
        total += len + 1;
    }
    *entries = (long long)r->elements;
    qsort(lines, r->elements, sizeof *lines, cmp_strs);
    char *text = malloc(total), *p = text;
    *p = '\0';
    for (size_t i = 0; i < r->elements; i++) {
        if (i && strncmp(lines[i - 1], lines[i], 17) == 0)
            fail_msg("%s holds id %.16s twice:\n  %.400s\n  %.400s", key, lines[i], lines[i - 1],
                     lines[i]);
        p += sprintf(p, "%s\n", lines[i]);
    }
    for (size_t i = 0; i < r->elements; i++)
        free(lines[i]);
    free(lines);
    freeReplyObject(r);
    redisFree(c);
    return text;
}

/* Fails, showing the first line that differs, unless @p got is @p want. */
static void same_lines(const char *what, const char *want, const char *got)
{
    if (strcmp(want, got) == 0)
        return;
    const char *a = want, *b = got;
    while (*a && *a == *b) {
        const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
        if (!na || !nb || na - a != nb - b || memcmp(a, b, (size_t)(na - a)) != 0)
            break;
        a = na + 1;
        b = nb + 1;
    }
    fail_msg("%s differs from the undisturbed run:\n  undisturbed: %.200s\n  disturbed:   %.200s",
             what, a, b);
}

struct kill_plan {
    bool redis;     /* else PostgreSQL */
    long long at;   /* when the server's store holds this many records */
    long long down; /* ms before it is started again */
};

static int by_at(const void *a, const void *b)
{
    const struct kill_plan *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

static void postgres_and_redis_killed_again_and_again_end_up_as_if_undisturbed(void **state)
{
    (void)state;
    enum { KILLS_EACH = 5 };
    uint64_t rng = seed ^ 0x5151;
    char *in = in_tmp("corpus");
    assert_int_equal(mkdir(in, 0700), 0);
    write_corpus(in);
    fresh_db(&pg, "f_ref");
    fresh_db(&pg, "f_chaos");

    /* The undisturbed run. */
    int64_t t0 = now_ms();
    assert_int_equal(wait_cmd(replay_into("ref", in, "f_ref", "ref")), 0);
    int64_t calm_ms = now_ms() - t0;

    /* The same input while both servers die at pseudo-random points: each
     * is SIGKILLed when its store holds a random share of the records,
     * stays down a random while, and starts again on the same data. */
    struct kill_plan plan[2 * KILLS_EACH];
    for (int i = 0; i < 2 * KILLS_EACH; i++)
        plan[i] = (struct kill_plan){i >= KILLS_EACH, rand_in(&rng, RECORDS / 30, RECORDS * 9 / 10),
                                     rand_in(&rng, 0, 700)};
    qsort(plan, 2 * KILLS_EACH, sizeof *plan, by_at);
    t0 = now_ms();
    pid_t pid = replay_into("chaos", in, "f_chaos", "chaos");
    int kills = 0;
    for (int i = 0; i < 2 * KILLS_EACH; i++, kills++) {
        const struct kill_plan *k = &plan[i];
        long long have = 0;
        for (int64_t until = now_ms() + 60000; now_ms() < until; sleep_ms(1)) {
            have = k->redis ? redis_entries("chaos") : pg_rows("f_chaos");
            if (have >= k->at || !running(pid))
                break;
        }
        /* A store that is ahead (or done) waits for the other: the replay
         * may end while one is down, before the last kills. */
        if (!running(pid))
            break;
        if (have < k->at)
            fail_msg("no progress to %lld records in a minute: logloom gave up on %s?", k->at,
                     k->redis ? "Redis" : "PostgreSQL");
        if (k->redis)
            ll_test_redis_kill(&rd);
        else
            ll_test_pg_kill(&pg);
        print_message("kill %d: %s SIGKILLed at %lld of %d records, down %lld ms\n", i + 1,
                      k->redis ? "Redis" : "PostgreSQL", have, RECORDS, k->down);
        sleep_ms(k->down);
        assert_int_equal(k->redis ? ll_test_redis_restart(&rd) : ll_test_pg_restart(&pg), 0);
    }
    int status = wait_cmd(pid);
    char *out = output("chaos", "out"), *err = output("chaos", "err");
    if (status != 0)
        fail_msg("logloom replay exited %d:\n%s", status, err);
    print_message("%d of %d kills before the replay ended\n", kills, 2 * KILLS_EACH);
    print_message("undisturbed %lld ms, disturbed %lld ms; PostgreSQL: %lld outages, %lld "
                  "retries; Redis: %lld outages, %lld retries\n",
                  (long long)calm_ms, (long long)(now_ms() - t0), sink_stat(out, 0, "outages"),
                  sink_stat(out, 0, "retries"), sink_stat(out, 1, "outages"),
                  sink_stat(out, 1, "retries"));
    for (int s = 0; s < 2; s++) {
        assert_int_equal(sink_stat(out, s, "delivered"), RECORDS);
        assert_int_equal(sink_stat(out, s, "rejected"), 0);
        assert_true(sink_stat(out, s, "outages") >= 1);
    }

    /* The same ids, each with the same content, in both stores. */
    static const char *const tables[] = {"alerts", "timelines"};
    for (int t = 0; t < 2; t++) {
        long long want_rows, got_rows;
        char *want = pg_digest("f_ref", tables[t], &want_rows);
        char *got = pg_digest("f_chaos", tables[t], &got_rows);
        assert_int_equal(want_rows, t ? WORKFLOWS : ALERTS);
        assert_int_equal(got_rows, want_rows);
        same_lines(tables[t], want, got);
        free(want);
        free(got);
    }
    assert_int_equal(db_int("f_chaos", "SELECT count(DISTINCT rule) FROM logloom.alerts"), 5);
    static const char *const streams[] = {"alerts", "tl"};
    for (int t = 0; t < 2; t++) {
        char ref[64], chaos[64];
        snprintf(ref, sizeof ref, "ref:%s", streams[t]);
        snprintf(chaos, sizeof chaos, "chaos:%s", streams[t]);
        long long want_n, got_n;
        char *want = redis_digest(ref, &want_n), *got = redis_digest(chaos, &got_n);
        assert_int_equal(want_n, t ? WORKFLOWS : ALERTS);
        assert_int_equal(got_n, want_n);
        same_lines(chaos, want, got);
        free(want);
        free(got);
    }
    free(out);
    free(err);
    free(in);
}

/* ------------------------------------------------------------------------ */
/* The daemon killed                                                         */

/* Overlapping workflows (as test_run's), in two files, while `logloom run`
 * is SIGKILLed at pseudo-random points and started again from its
 * checkpoints after a pseudo-random while (the application writes on). */
static void run_killed_at_random_points_reads_every_line_and_stores_each_alert_once(void **state)
{
    (void)state;
    enum { N = 800, DEPTH = 8, KILLS = 9, MAX_DOWN = 40, STEP_MS = 5 };
    uint64_t rng = seed ^ 0x7a11;
    run_db = "f_tail";
    fresh_db(&pg, run_db);
    char *logs = in_tmp("tail-logs"), *ckdir = in_tmp("ckpt-tail");
    assert_int_equal(mkdir(logs, 0700), 0);
    char *rules = write_text(tmpdir, "tail-rules.yaml", RESET_RULE);
    char *cfg = run_db_config("tail", logs, rules);
    char *text = read_file(cfg, NULL); /* metrics on, on a free port */
    memcpy(strstr(text, "metrics: off"), "metrics: :0 ", 12);
    free(write_text(tmpdir, "tail.yaml", text));
    free(text);
    char *app[2] = {in_tmp("tail-logs/agent-a.log"), in_tmp("tail-logs/agent-b.log")};
    FILE *fp[2];
    for (int f = 0; f < 2; f++) {
        assert_non_null(fp[f] = fopen(app[f], "a"));
        setvbuf(fp[f], NULL, _IOLBF, 0);
    }
    /* One kill in each of KILLS stretches of the writing, early enough in
     * it that the daemon is running again before the next. */
    int kill_at[KILLS], down[KILLS];
    const int span = (N - 2 * DEPTH) / KILLS;
    for (int j = 0; j < KILLS; j++) {
        kill_at[j] = DEPTH + j * span + (int)rand_in(&rng, 0, span - MAX_DOWN - 2);
        down[j] = (int)rand_in(&rng, 0, MAX_DOWN);
    }
    pid_t pid = start_run(cfg, "tail0");
    int kills = 0, restart_at = 0;
    for (int s = 0; s < N + DEPTH; s++) {
        /* Step s: the start of workflow s, the failure of s - 4, the end of
         * s - 8, each workflow in its file. */
        for (int k = 0; k < 3; k++) {
            int w = s - 4 * k;
            if (w >= 0 && w < N)
                write_step(fp[w % 2], w, k);
        }
        sleep_ms(STEP_MS);
        if (pid && kills < KILLS && s >= kill_at[kills]) {
            long long at = checkpoint_offset(ckdir, app[0]);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            pid = 0;
            restart_at = s + down[kills];
            print_message("kill %d at step %d (checkpoint of agent-a.log at byte %lld), down %d "
                          "steps\n", kills + 1, s, at, down[kills]);
            kills++;
        }
        if (!pid && s >= restart_at) {
            char name[16];
            snprintf(name, sizeof name, "tail%d", kills);
            pid = start_run(cfg, name);
        }
    }
    for (int f = 0; f < 2; f++)
        assert_int_equal(fclose(fp[f]), 0);
    assert_int_equal(kills, KILLS);
    if (!pid) {
        char name[16];
        snprintf(name, sizeof name, "tail%d", kills);
        pid = start_run(cfg, name);
    }
    if (wait_value(in_run_db, "SELECT count(*) FROM logloom.timelines WHERE event_count = 3", N,
                   30) != N ||
        wait_value(in_run_db, "SELECT count(*) FROM logloom.alerts", N, 30) != N) {
        char sql[600];
        snprintf(sql, sizeof sql,
                 "SELECT string_agg(w, ' ') FROM (SELECT format('ov-%%s', lpad(i::text, 6, '0')) w"
                 " FROM generate_series(0, %d) i EXCEPT SELECT correlation_id FROM"
                 " logloom.timelines WHERE event_count = 3 ORDER BY 1 LIMIT 40) x",
                 N - 1);
        char *missing = db_text(run_db, sql);
        char *partial = db_text(run_db, "SELECT string_agg(correlation_id || ':' || event_count,"
                                        " ' ') FROM logloom.timelines WHERE event_count <> 3");
        fail_msg("%lld whole timelines, %lld alerts of %d; not whole: %s; partial: %s",
                 in_run_db("SELECT count(*) FROM logloom.timelines WHERE event_count = 3"),
                 in_run_db("SELECT count(*) FROM logloom.alerts"), N, missing, partial);
    }
    /* Everything read and delivered: the checkpoints reach the ends of the
     * files. */
    for (int f = 0; f < 2; f++) {
        struct stat st;
        assert_int_equal(stat(app[f], &st), 0);
        long long at = -1;
        for (int k = 0; k < 100 && (at = checkpoint_offset(ckdir, app[f])) != st.st_size; k++)
            sleep_ms(50);
        assert_int_equal(at, st.st_size);
    }
    /* The last daemon's own counters: every line after where it resumed
     * read, none of them late. */
    char name[16];
    snprintf(name, sizeof name, "tail%d", kills);
    char *log = output(name, "err");
    long long lines = 0;
    for (int f = 0; f < 2; f++) {
        char key[800];
        snprintf(key, sizeof key, "%s: resuming at byte ", app[f]);
        const char *at = strstr(log, key);
        char *all = read_file(app[f], NULL);
        for (const char *p = all + (at ? atoll(at + strlen(key)) : 0); (p = strchr(p, '\n')); p++)
            lines++;
        free(all);
    }
    const char *port = strstr(log, "(port ");
    assert_non_null(port);
    char events[800], *m = NULL;
    snprintf(events, sizeof events, "logloom_events_total{source=\"%s/*.log\"} %lld\n", logs,
             lines);
    for (int k = 0; k < 40 && !(m && strstr(m, events)); k++) {
        free(m);
        m = http_get(atoi(port + 6), "/metrics");
        sleep_ms(50);
    }
    if (!strstr(m, events) || !strstr(m, "logloom_late_events_total 0\n"))
        fail_msg("want '%s' and no late events in:\n%s", events, m);
    free(m);
    free(log);
    sleep_ms(300); /* anything doubled would show by now */
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    /* Every line read, into whole timelines, each once; each alert once. */
    assert_int_equal(in_run_db("SELECT count(*) FROM logloom.timelines"), N);
    assert_int_equal(in_run_db("SELECT count(*) FROM logloom.timelines WHERE event_count = 3"), N);
    assert_int_equal(in_run_db("SELECT count(DISTINCT correlation_id) FROM logloom.timelines"), N);
    assert_int_equal(in_run_db("SELECT sum(event_count) FROM logloom.timelines"), 3 * N);
    assert_int_equal(in_run_db("SELECT count(*) FROM logloom.alerts"), N);
    assert_int_equal(in_run_db("SELECT count(DISTINCT correlation_id) FROM logloom.alerts"), N);
    assert_int_equal(in_run_db("SELECT sum(count) FROM logloom.alerts"), N);
    /* No restart found a checkpoint it could not read. */
    int caught_up = 0;
    for (int j = 0; j <= KILLS; j++) {
        snprintf(name, sizeof name, "tail%d", j);
        char *errs = output(name, "err");
        if (strstr(errs, "not a checkpoint"))
            fail_msg("%s.err: %s", name, errs);
        caught_up += strstr(errs, "caught up: ") != NULL;
        free(errs);
    }
    print_message("%d restarts skipped halves of timelines read again\n", caught_up);
    for (int f = 0; f < 2; f++)
        free(app[f]);
    free(cfg);
    free(rules);
    free(ckdir);
    free(logs);
}

/* ------------------------------------------------------------------------ */
/* Full disks                                                                */

/* How a disk fills up (see the top of the file). */
enum fill { TMPFS, FSIZE };

struct disk {
    enum fill how;
    char dir[600];
    char filler[700];
    int error; /* what the kernel says when it is full: ENOSPC or EFBIG */
};

static char mounted[2][600]; /* the group's teardown unmounts what a failed test left */

/* A mount namespace of the test's own, mounts in it private; false with
 * errno set where that is not allowed. */
static bool private_mounts(void)
{
    static int state, why; /* state 0: not tried; 1: ours; -1: not allowed, errno why */
    if (!state) {
        state = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0
                    ? 1
                    : -1;
        why = errno;
    }
    errno = why;
    return state > 0;
}

/* Whether this run fills disks @p how: both ways, or the one
 * LL_FAULTS_DISK names. */
static bool fill_wanted(enum fill how)
{
    const char *want = getenv("LL_FAULTS_DISK");
    return !want || !*want || strcmp(want, how == TMPFS ? "tmpfs" : "rlimit") == 0;
}

/* @p test with each way of filling a disk that this run wants. */
static void on_each_full_disk(void (*test)(enum fill how))
{
    for (enum fill how = TMPFS; how <= FSIZE; how++)
        if (fill_wanted(how))
            test(how);
}

/* tmpdir/@p name, to fill up @p how (a tmpfs of @p mib MiB); false,
 * saying why, where no tmpfs can be mounted (a container without
 * CAP_SYS_ADMIN): the file size limit is the way there. */
static bool disk_setup(struct disk *dk, enum fill how, const char *name, int mib)
{
    *dk = (struct disk){.how = how, .error = how == TMPFS ? ENOSPC : EFBIG};
    snprintf(dk->dir, sizeof dk->dir, "%s/%s", tmpdir, name);
    snprintf(dk->filler, sizeof dk->filler, "%s/filler", dk->dir);
    assert_int_equal(mkdir(dk->dir, 0700), 0);
    if (how == FSIZE) {
        print_message("full disk: RLIMIT_FSIZE on the logloom process (EFBIG)\n");
        return true;
    }
    char opts[64];
    snprintf(opts, sizeof opts, "size=%dm,mode=0700", mib);
    if (private_mounts() &&
        mount("logloom-test", dk->dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) == 0) {
        for (size_t i = 0; i < sizeof mounted / sizeof *mounted; i++)
            if (!mounted[i][0]) {
                snprintf(mounted[i], sizeof mounted[i], "%s", dk->dir);
                break;
            }
        print_message("full disk: a %d MiB tmpfs, filled up (ENOSPC)\n", mib);
        return true;
    }
    int e = errno;
    if (getenv("LL_FAULTS_DISK"))
        fail_msg("LL_FAULTS_DISK=tmpfs, but no tmpfs can be mounted here: %s", strerror(e));
    print_message("full disk: no tmpfs, mounting is not allowed here (%s): RLIMIT_FSIZE only\n",
                  strerror(e));
    return false;
}

/* Fills the tmpfs to the last byte, or limits process @p pid's files to
 * @p limit bytes. */
static void disk_fill(const struct disk *dk, pid_t pid, rlim_t limit)
{
    if (dk->how == FSIZE) {
        struct rlimit rl = {limit, RLIM_INFINITY};
        assert_int_equal(prlimit(pid, RLIMIT_FSIZE, &rl, NULL), 0);
        return;
    }
    int fd = open(dk->filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    static const char chunk[65536];
    for (size_t size = sizeof chunk; size;) {
        ssize_t w = write(fd, chunk, size);
        if (w > 0)
            continue;
        assert_int_equal(errno, ENOSPC);
        size /= 16;
    }
    close(fd);
}

/* Space again: the filler goes, or the limit. */
static void disk_free(const struct disk *dk, pid_t pid)
{
    if (dk->how == FSIZE) {
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        assert_int_equal(prlimit(pid, RLIMIT_FSIZE, &rl, NULL), 0);
        return;
    }
    assert_int_equal(unlink(dk->filler), 0);
}

static void unmount_all(void)
{
    for (size_t i = 0; i < sizeof mounted / sizeof *mounted; i++)
        if (mounted[i][0]) {
            if (umount2(mounted[i], MNT_DETACH) != 0)
                fprintf(stderr, "cannot unmount %s: %s\n", mounted[i], strerror(errno));
            mounted[i][0] = '\0';
        }
}

/* A process's stderr through a pipe: a file would be subject to the file
 * size limit too. */
struct capture {
    int fd;
    char *text;
    size_t len;
};

/* Reads what is there; @returns false at the end of the stream. */
static bool capture_read(struct capture *c)
{
    char buf[8192];
    ssize_t n;
    while ((n = read(c->fd, buf, sizeof buf)) > 0) {
        c->text = realloc(c->text, c->len + (size_t)n + 1);
        memcpy(c->text + c->len, buf, (size_t)n);
        c->len += (size_t)n;
        c->text[c->len] = '\0';
    }
    return n != 0;
}

/* Waits until @p c holds @p what (or 20 s pass). */
static bool capture_wait(struct capture *c, const char *what)
{
    for (int i = 0; i < 400; i++) {
        capture_read(c);
        if (c->text && strstr(c->text, what))
            return true;
        sleep_ms(50);
    }
    return false;
}

static void capture_free(struct capture *c)
{
    close(c->fd);
    free(c->text);
    *c = (struct capture){0};
}

/* Starts logloom with @p args: stdin and stdout /dev/null, stderr into
 * @p c, SIGXFSZ ignored, its files limited to @p fsize bytes. */
static pid_t start_captured(const char *const *args, struct capture *c, rlim_t fsize)
{
    const char *argv[32] = {logloom};
    size_t n = 1;
    for (; args[n - 1]; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {fsize, RLIM_INFINITY};
        int null = open("/dev/null", O_RDWR);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
            null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(p[1], 2) < 0)
            _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    *c = (struct capture){.fd = p[0]};
    assert_int_equal(fcntl(c->fd, F_SETFL, O_NONBLOCK), 0);
    if (n_started < (int)(sizeof started / sizeof *started))
        started[n_started++] = pid;
    return pid;
}

/* Waits for @p pid while reading its stderr; @returns its exit status. */
static int wait_captured(pid_t pid, struct capture *c)
{
    int st = 0;
    for (int i = 0; i < 1200 && waitpid(pid, &st, WNOHANG) == 0; i++) {
        capture_read(c);
        sleep_ms(50);
    }
    while (capture_read(c))
        sleep_ms(10);
    if (!WIFEXITED(st))
        fail_msg("pid %d did not exit normally (status %#x):\n%s", (int)pid, st,
                 c->text ? c->text : "");
    return WEXITSTATUS(st);
}

/* Every file in checkpoint directory @p dir (but the filler) with its
 * content, by name: what a restart would load. */
static char *checkpoint_state(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    size_t len = 1;
    char *state = calloc(1, 1);
    for (int i = 0; i < n; i++) {
        char path[900];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && strcmp(names[i]->d_name, "filler")) {
            char *text = read_file(path, NULL);
            size_t add = strlen(names[i]->d_name) + strlen(text) + 3;
            state = realloc(state, len + add);
            len += (size_t)sprintf(state + len - 1, "%s: %s\n", names[i]->d_name, text);
            free(text);
        }
        free(names[i]);
    }
    free(names);
    return state;
}

/* No temporary file left behind in @p dir. */
static void no_temporary_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".tmp"))
            fail_msg("%s/%s left behind", dir, de->d_name);
    closedir(d);
}

static void checkpoints_on_a_full_disk(enum fill how)
{
    /* Files limited to fewer bytes than any checkpoint file holds: each
     * write of one is cut short, the next refused. */
    enum { BEFORE = 100, WHILE_FULL = 100, AFTER = 50, FSIZE_FULL = 16 };
    const char *name = how == TMPFS ? "full-tmpfs" : "full-fsize";
    char path[64];
    snprintf(path, sizeof path, "ckpt-%s", name); /* run_config's checkpoint directory */
    struct disk dk;
    if (!disk_setup(&dk, how, path, 1))
        return;
    run_db = "f_full";
    fresh_db(&pg, run_db);
    snprintf(path, sizeof path, "%s-logs", name);
    char *logs = in_tmp(path);
    assert_int_equal(mkdir(logs, 0700), 0);
    char *rules = write_text(tmpdir, "full-rules.yaml", RESET_RULE);
    char *cfg = run_db_config(name, logs, rules);
    snprintf(path, sizeof path, "%s-logs/app.log", name);
    char *app = in_tmp(path);
    FILE *fp = fopen(app, "a");
    assert_non_null(fp);
    setvbuf(fp, NULL, _IOLBF, 0);
    const char *args[] = {"run", "-c", cfg, NULL};
    struct capture log;
    pid_t pid = start_captured(args, &log, RLIM_INFINITY);

    /* Space: a checkpoint at the end of what was written. */
    int i = 0;
    for (; i < BEFORE; i++)
        write_workflow(fp, i);
    long long end = ftell(fp), at = -1;
    for (int k = 0; k < 200 && (at = checkpoint_offset(dk.dir, app)) != end; k++)
        sleep_ms(50);
    assert_int_equal(at, end);
    char *good = checkpoint_state(dk.dir), *now = NULL;
    for (int k = 0; k < 50 && (!now || strcmp(now, good)); k++) { /* settled: idle */
        free(now);
        now = good;
        sleep_ms(300);
        good = checkpoint_state(dk.dir);
    }
    free(now);

    /* Full: reported, naming the file; the old checkpoint (its files and
     * the tombstones beside them) stays whole; alerts still go out. */
    disk_fill(&dk, pid, FSIZE_FULL);
    for (; i < BEFORE + WHILE_FULL; i++)
        write_workflow(fp, i);
    assert_int_equal(wait_value(in_run_db, "SELECT count(*) FROM logloom.timelines", i, 20), i);
    char want[800];
    snprintf(want, sizeof want, "\"component\":\"checkpoint\",\"msg\":\"checkpoint %s/", dk.dir);
    if (!capture_wait(&log, want) || !capture_wait(&log, strerror(dk.error)))
        fail_msg("no error naming the checkpoint and '%s':\n%s", strerror(dk.error),
                 log.text ? log.text : "");
    assert_true(running(pid));
    now = checkpoint_state(dk.dir);
    assert_string_equal(now, good);
    free(now);

    /* Killed while full: the restart loads that checkpoint, reads the
     * lines after it again, and stores nothing twice. */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    capture_read(&log);
    const char *errmsg = strstr(log.text, want);
    print_message("while full: %.*s\n", (int)strcspn(errmsg, "\n") - 1, errmsg);
    capture_free(&log);
    pid = start_captured(args, &log, how == TMPFS ? RLIM_INFINITY : FSIZE_FULL);
    if (!capture_wait(&log, strerror(dk.error)))
        fail_msg("the restart did not try to checkpoint:\n%s", log.text ? log.text : "");
    assert_null(strstr(log.text, "not a checkpoint"));
    assert_non_null(strstr(log.text, "\"msg\":\"started: "));
    assert_int_equal(checkpoint_offset(dk.dir, app), end);

    /* Space again: checkpoints are written again, up to the end. */
    disk_free(&dk, pid);
    for (; i < BEFORE + WHILE_FULL + AFTER; i++)
        write_workflow(fp, i);
    assert_int_equal(fclose(fp), 0);
    struct stat st;
    assert_int_equal(stat(app, &st), 0);
    for (int k = 0; k < 200 && (at = checkpoint_offset(dk.dir, app)) != st.st_size; k++)
        sleep_ms(50);
    assert_int_equal(at, st.st_size);
    no_temporary_files(dk.dir);
    kill(pid, SIGTERM);
    assert_int_equal(wait_captured(pid, &log), 0);
    assert_int_equal(in_run_db("SELECT count(*) FROM logloom.alerts"), i);
    assert_int_equal(in_run_db("SELECT count(DISTINCT correlation_id) FROM logloom.alerts"), i);
    assert_int_equal(in_run_db("SELECT count(*) FROM logloom.timelines WHERE event_count = 2"), i);
    capture_free(&log);
    free(good);
    free(app);
    free(cfg);
    free(rules);
    free(logs);
    unmount_all();
}

static void a_full_disk_under_the_checkpoints_is_reported_harmless_and_outlived(void **state)
{
    (void)state;
    on_each_full_disk(checkpoints_on_a_full_disk);
}

/* Issue 19: the fleet corpus, real programs' logs, while the disk under the
 * checkpoints is full for a stretch; the daemon SIGKILLed while it is (its
 * last checkpoint on disk is from before) and started again on the full
 * disk, then space returns: every sink ends with replay's answer, each
 * record once, and every failed checkpoint was an error naming its file. */
static void fleet_on_a_full_checkpoint_disk(enum fill how)
{
    enum { FSIZE_FULL = 16, PER_SEC = 1500 };
    const char *name = how == TMPFS ? "fleetfull" : "fleetfsize";
    char dir[64];
    snprintf(dir, sizeof dir, "%s-ckpt", name);
    struct disk dk;
    if (!disk_setup(&dk, how, dir, 8)) /* a checkpoint file for each of 284 files */
        return;
    struct fleet corpus;
    struct fleet_answer want = {0};
    fleet_load(&corpus, FLEET_DIR);
    snprintf(dir, sizeof dir, "%s-replayed", name);
    fleet_replay_answer(&corpus, dir, &want);
    struct fleet_case c; /* a file sink is subject to a file size limit too */
    fleet_case_init(&c, name, &pg, &rd, dk.dir, how == TMPFS);
    const char *args[] = {"run", "-c", c.config, NULL};
    struct capture log;
    c.pid = start_captured(args, &log, RLIM_INFINITY);
    size_t third = corpus.n / 3, at = 0;
    fleet_write(&corpus, c.logs, at, third, PER_SEC);
    at = third;
    char *good = NULL;
    for (int k = 0; k < 100 && !(good && *good); k++) {
        free(good);
        sleep_ms(50);
        good = checkpoint_state(dk.dir);
    }
    assert_true(good && *good);
    free(good);

    disk_fill(&dk, c.pid, FSIZE_FULL);
    fleet_write(&corpus, c.logs, at, 2 * third, PER_SEC);
    at = 2 * third;
    char want_err[800];
    snprintf(want_err, sizeof want_err, "checkpoint %s/", dk.dir);
    if (!capture_wait(&log, want_err) || !capture_wait(&log, strerror(dk.error)))
        fail_msg("no error naming the checkpoint and '%s':\n%s", strerror(dk.error),
                 log.text ? log.text : "");
    kill(c.pid, SIGKILL);
    waitpid(c.pid, NULL, 0);
    capture_free(&log);
    c.pid = start_captured(args, &log, how == TMPFS ? RLIM_INFINITY : FSIZE_FULL);
    fleet_write(&corpus, c.logs, at, at + 300, PER_SEC);
    at += 300;
    if (!capture_wait(&log, strerror(dk.error)))
        fail_msg("the restart did not try to checkpoint:\n%s", log.text ? log.text : "");
    assert_null(strstr(log.text, "not a checkpoint"));

    disk_free(&dk, c.pid);
    fleet_write(&corpus, c.logs, at, corpus.n, PER_SEC);
    fleet_write_clock(&corpus, c.logs);
    long long alerts = (long long)fleet_count(&want, true);
    long long tls = (long long)fleet_count(&want, false);
    for (int k = 0; k < 1200; k++) {
        capture_read(&log); /* its stderr must not fill the pipe */
        if (fleet_in_db(&c, "SELECT count(*) FROM logloom.alerts") >= alerts &&
            fleet_in_db(&c, "SELECT count(*) FROM logloom.timelines") >= tls)
            break;
        sleep_ms(50);
    }
    sleep_ms(700);
    kill(c.pid, SIGTERM);
    assert_int_equal(wait_captured(c.pid, &log), 0);
    fleet_case_check(&c, &want);
    no_temporary_files(dk.dir);
    capture_free(&log);
    fleet_case_free(&c);
    fleet_answer_free(&want);
    fleet_free(&corpus);
    unmount_all();
}

static void real_logs_on_a_full_checkpoint_disk_give_replays_answer(void **state)
{
    (void)state;
    on_each_full_disk(fleet_on_a_full_checkpoint_disk);
}

/* The offsets of the lines of @p path that are not JSON. */
static size_t not_json_offsets(const char *path, long long **out)
{
    size_t len, n = 0;
    char *text = read_file(path, &len);
    *out = malloc(len / 16 * sizeof **out + sizeof **out);
    for (char *p = text; *p; p = strchr(p, '\n') + 1)
        if (*p != '{')
            (*out)[n++] = p - text;
    free(text);
    return n;
}

static void dead_letters_on_a_full_disk(enum fill how)
{
    enum { HEAD = 60, MID = 300, TAIL = 60 };
    struct disk dk;
    if (!disk_setup(&dk, how, how == TMPFS ? "dl-tmpfs" : "dl-fsize", 1))
        return;
    /* Not JSON first, then workflows that fail with a line that is not
     * JSON after each, then not JSON again. */
    char *in = in_tmp("dl.log");
    FILE *fp = fopen(in, "w");
    assert_non_null(fp);
    const char pad[] = "at Object.<anonymous> (/app/src/worker.js:12:7) at Module._compile "
                       "(node:internal/modules/cjs/loader:1256:14)";
    for (int i = 0; i < HEAD; i++)
        fprintf(fp, "head %04d %s\n", i, pad);
    for (int i = 0; i < MID; i++) {
        fprintf(fp, "{\"level\":50,\"time\":%lld,\"name\":\"agent-1\",\"correlationId\":"
                    "\"dl-%04d\",\"err\":{\"code\":\"ECONNRESET\",\"message\":\"read ECONNRESET\"},"
                    "\"msg\":\"call failed\"}\n",
                1795500000000LL + i * 1000LL, i);
        fprintf(fp, "mid %04d %s\n", i, pad);
    }
    for (int i = 0; i < TAIL; i++)
        fprintf(fp, "tail %04d %s\n", i, pad);
    assert_int_equal(fclose(fp), 0);
    long long *rejected;
    assert_int_equal(not_json_offsets(in, &rejected), HEAD + MID + TAIL);

    /* The sink waits on a lock the test holds, so the replay stops reading
     * at the first timelines (alerts wait for their suppress window), with
     * the head behind it and the tail ahead. */
    const char *db = "f_dl";
    fresh_db(&pg, db);
    char ci[1200], sink[1400];
    conninfo(db, ci, sizeof ci);
    snprintf(sink, sizeof sink, "%s#receive=both&batch=1&queue=1&linger=0&io_timeout=60s", ci);
    const char *schema[] = {"replay", "-q", "--format", "none", "--sink", sink,
                            "examples/incident", NULL};
    assert_int_equal(wait_cmd(start_logloom("dl-schema", schema)), 0);
    assert_int_equal(db_int(db, "TRUNCATE logloom.alerts, logloom.timelines;"
                                "CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$"
                                "BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; "
                                "END $$;"
                                "CREATE TRIGGER gate BEFORE INSERT ON logloom.timelines"
                                " FOR EACH ROW EXECUTE FUNCTION gate()"),
                     0);
    PGconn *gate = PQconnectdb(ci);
    assert_int_equal(PQstatus(gate), CONNECTION_OK);
    PGresult *res = PQexec(gate, "SELECT pg_advisory_lock(4242)");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);

    /* The dead-letter file holds a line from an earlier run; then the disk
     * fills up (so the first lines written now fit, the next one only in
     * part). */
    char dl[700];
    snprintf(dl, sizeof dl, "%s/dead-letters.jsonl", dk.dir);
    const char earlier[] = "{\"reason\":\"not_json\",\"source\":\"earlier.log\",\"offset\":0,"
                           "\"detail\":\"an earlier run\",\"line\":\"x\"}\n";
    free(write_text(dk.dir, "dead-letters.jsonl", earlier));
    if (how == TMPFS)
        disk_fill(&dk, 0, 0);
    const char *args[] = {"replay", "--format", "none", "--batch-events", "1",
                          "--dead-letter", dl, "--sink", sink, in, NULL};
    struct capture log;
    pid_t pid = start_captured(args, &log, how == TMPFS ? RLIM_INFINITY : sizeof earlier + 2500);
    char want[800];
    snprintf(want, sizeof want, "dead-letter file %s: %s", dl, strerror(dk.error));
    if (!capture_wait(&log, want))
        fail_msg("no '%s':\n%s", want, log.text ? log.text : "");
    sleep_ms(200);
    assert_true(running(pid)); /* held at the gate, the tail unread */

    /* Space again, the gate open: the rest is written. */
    disk_free(&dk, pid);
    res = PQexec(gate, "SELECT pg_advisory_unlock(4242)");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    PQfinish(gate);
    int status = wait_captured(pid, &log);
    print_message("replay's stderr:\n%s", log.text);
    /* It says what it lost, and so exits 1, after going on to the end. */
    assert_int_equal(status, 1);
    assert_int_equal(db_int(db, "SELECT count(*) FROM logloom.alerts"), MID);
    assert_int_equal(db_int(db, "SELECT count(*) FROM logloom.timelines"), MID);
    snprintf(want, sizeof want, "dead-letter file %s: writing again; ", dl);
    const char *again = strstr(log.text, want);
    assert_non_null(again);
    long long lost = atoll(again + strlen(want));
    assert_true(lost > 0);

    /* Whole lines only: the earlier one, then records of rejected lines,
     * each once, the tail all there. */
    size_t len;
    char *text = read_file(dl, &len);
    assert_true(len > 0 && text[len - 1] == '\n');
    long long written = -1;
    size_t tail_seen = 0;
    char *seen = calloc(HEAD + MID + TAIL, 1);
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = '\0';
        char e[128];
        yajl_val v = yajl_tree_parse(line, e, sizeof e);
        if (!v || !YAJL_IS_OBJECT(v))
            fail_msg("dead-letter line %lld is not a JSON object: %s", written + 2, line);
        const char *src[] = {"source", NULL}, *off[] = {"offset", NULL};
        yajl_val s = yajl_tree_get(v, src, yajl_t_string), o = yajl_tree_get(v, off, yajl_t_number);
        assert_non_null(s);
        assert_non_null(o);
        if (++written > 0) {
            assert_string_equal(YAJL_GET_STRING(s), in);
            size_t k = 0;
            while (k < HEAD + MID + TAIL && rejected[k] != YAJL_GET_INTEGER(o))
                k++;
            assert_true(k < HEAD + MID + TAIL);
            assert_false(seen[k]);
            seen[k] = 1;
            tail_seen += k >= HEAD + MID;
        }
        yajl_tree_free(v);
    }
    print_message("dead letters: %lld written, %lld lost while the disk was full\n", written,
                  lost);
    assert_int_equal(tail_seen, TAIL);
    assert_int_equal(written + lost, HEAD + MID + TAIL);
    snprintf(want, sizeof want, "%lld rejected lines were not written to %s", lost, dl);
    assert_non_null(strstr(log.text, want));
    free(seen);
    free(text);
    capture_free(&log);
    free(rejected);
    free(in);
    unmount_all();
}

static void a_full_disk_under_the_dead_letter_file_cuts_no_line_and_is_outlived(void **state)
{
    (void)state;
    on_each_full_disk(dead_letters_on_a_full_disk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(postgres_and_redis_killed_again_and_again_end_up_as_if_undisturbed),
        cmocka_unit_test(run_killed_at_random_points_reads_every_line_and_stores_each_alert_once),
        cmocka_unit_test(a_full_disk_under_the_checkpoints_is_reported_harmless_and_outlived),
        cmocka_unit_test(real_logs_on_a_full_checkpoint_disk_give_replays_answer),
        cmocka_unit_test(a_full_disk_under_the_dead_letter_file_cuts_no_line_and_is_outlived),
    };
    if (getenv("LL_TEST_ONLY"))
        cmocka_set_test_filter(getenv("LL_TEST_ONLY"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
