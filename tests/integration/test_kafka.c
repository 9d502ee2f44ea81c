/* `logloom run` as a Kafka consumer group, against librdkafka's mock
 * cluster (a Kafka-protocol broker on loopback TCP, run by ll-kafka-mock)
 * and a real PostgreSQL: one consumer delivers every alert and commits
 * behind delivery; a group of two shares the partitions, and when one is
 * SIGKILLed the other takes them over, every alert once; brokers down and
 * back lose nothing, with the group's coordinator up or down too; alerts
 * and timelines go to Kafka topics, keyed by their ids; repartition
 * re-keys a topic by correlation id. */
#define LL_E2E
#define LL_E2E_DAEMONS
#define LL_PG
#include "../testutil.h"

#include "servers.h"

#include "../mock_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>

static struct ll_test_pg pg;
static char mock_bin[1024];

/* The cluster. */
static struct mock_cluster mock;
#define bootstrap mock.bootstrap

static int start_mock(void)
{
    static const char *const topics[] = {"one:4", "pair:4", "down:2", "alerts:2",
                                         "alerts.timelines:2", "late:1", "raw:4", "keyed:4",
                                         "rawlink:4", "keyedlink:4", "many:4", NULL};
    return mock_cluster_start(&mock, mock_bin, topics);
}

static int group_setup(void **state)
{
    e2e_group_setup(state);
    signal(SIGPIPE, SIG_IGN);
    snprintf(mock_bin, sizeof mock_bin, "%s/tests/ll-kafka-mock", getenv("LL_BINARY_DIR"));
    if (start_mock() != 0)
        return -1;
    return ll_test_pg_start(&pg) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    kill_started();
    mock_cluster_stop(&mock);
    ll_test_pg_destroy(&pg);
    return e2e_group_teardown(state);
}

/* Appends workflows [@p from, @p to) of @p prefix to @p path: two lines
 * each, the second failing with ECONNRESET (@p lines: 1 the first only, 2
 * the second only, 3 both), stamped at @p t0_ms (0: now). The lines name
 * service agent-1, or (@p spread) manager and then agent-0..2. */
static void write_workflows(const char *path, const char *prefix, int from, int to, int lines,
                            int64_t t0_ms, bool spread)
{
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    for (int i = from; i < to; i++) {
        long long t = (long long)(t0_ms ? t0_ms : now_ms());
        if (lines & 1)
            fprintf(fp, "{\"level\":30,\"time\":%lld,\"name\":\"%s\",\"correlationId\":"
                        "\"%s-%06d\",\"msg\":\"task received\"}\n",
                    t, spread ? "manager" : "agent-1", prefix, i);
        if (lines & 2)
            fprintf(fp, "{\"level\":50,\"time\":%lld,\"name\":\"agent-%d\",\"correlationId\":"
                        "\"%s-%06d\",\"err\":{\"code\":\"ECONNRESET\"},\"msg\":\"call "
                        "failed\"}\n",
                    t + 1, spread ? i % 3 : 1, prefix, i);
    }
    fclose(fp);
}

/* Starts ll-kafka-mock produce on the lines of @p path, keyed by field
 * @p key. @returns its pid. */
static pid_t produce_by(const char *topic, const char *path, const char *key)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDONLY);
        dup2(fd, 0);
        execl(mock_bin, mock_bin, "produce", "-B", bootstrap, "-t", topic, "-k", key,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

static pid_t produce_file(const char *topic, const char *path)
{
    return produce_by(topic, path, "correlationId");
}

/* Writes workflows [@p from, @p to) of @p prefix to a file (two lines each,
 * the second failing with ECONNRESET; @p lines: 1 the first only, 2 the
 * second only, 3 both), stamped at @p t0_ms (0: now), and starts
 * ll-kafka-mock produce on it, keyed by correlation id. @returns its pid. */
static pid_t produce_lines(const char *topic, const char *prefix, int from, int to,
                           int lines, int64_t t0_ms)
{
    char name[128];
    snprintf(name, sizeof name, "%s-%d-%d.jsonl", prefix, from, lines);
    char *path = in_tmp(name);
    write_workflows(path, prefix, from, to, lines, t0_ms, false);
    pid_t pid = produce_file(topic, path);
    free(path);
    return pid;
}

static pid_t produce(const char *topic, const char *prefix, int from, int to)
{
    return produce_lines(topic, prefix, from, to, 3, 0);
}

static void produce_all(const char *topic, const char *prefix, int from, int to)
{
    assert_int_equal(wait_cmd(produce(topic, prefix, from, to)), 0);
}

/* A config for a member of @p group on @p topic, into database @p db,
 * with the rules of @p rules_file (NULL: RESET_RULE) and @p threads decoding
 * (0: the default); with @p debug, librdkafka's own account of the group,
 * fetching and brokers in its log. */
static char *config_full(const char *name, const char *group, const char *topic,
                         const char *db, bool debug, const char *rules_file, int threads)
{
    char *rules = rules_file ? in_tmp(rules_file) : write_text(tmpdir, "reset.yaml", RESET_RULE);
    char decode[64] = "";
    if (threads)
        snprintf(decode, sizeof decode, ", threads: %d", threads);
    char text[4096];
    snprintf(text, sizeof text,
             "sources:\n"
             "  - brokers: %s\n"
             "    group_id: %s\n"
             "    topics: [%s]\n"
             "    properties: [session.timeout.ms=6000, heartbeat.interval.ms=500%s]\n"
             "correlation: {session_gap: 1s, allowed_lateness: 200ms, idle_timeout: 1s}\n"
             "checkpoints: {interval: 200ms}\n"
             "decode: {dead_letter: %s/%s-rejected.jsonl%s}\n"
             "rules: [%s]\n"
             "sinks:\n"
             "  - url: host=%s port=%d dbname=%s user=postgres\n"
             "    receive: both\n"
             "metrics: off\n"
             "log: {level: %s, format: text}\n",
             bootstrap, group, topic, debug ? ", \"debug=cgrp,fetch,topic,broker\"" : "",
             tmpdir, name, decode, rules, pg.dir, pg.port, db, debug ? "debug" : "info");
    free(rules);
    char file[64];
    snprintf(file, sizeof file, "%s.yaml", name);
    return write_text(tmpdir, file, text);
}

static char *config_debug(const char *name, const char *group, const char *topic,
                          const char *db, bool debug)
{
    return config_full(name, group, topic, db, debug, NULL, 0);
}

static char *config(const char *name, const char *group, const char *topic, const char *db)
{
    return config_debug(name, group, topic, db, false);
}

static long long in_db(const char *db, const char *sql)
{
    struct ll_test_pg on = pg;
    snprintf(on.conninfo, sizeof on.conninfo, "host=%.600s port=%d dbname=%s user=postgres",
             pg.dir, pg.port, db);
    return ll_test_pg_int(&on, sql);
}

/* Waits until @p sql gives @p want (or @p seconds pass); @returns the last. */
static long long wait_for(const char *db, const char *sql, long long want, int seconds)
{
    long long v = -1;
    for (int i = 0; i < seconds * 20 && v != want; i++) {
        v = in_db(db, sql);
        if (v != want)
            sleep_ms(50);
    }
    return v;
}

/* Sums the offsets logged as committed when partitions were assigned. */
static long long committed_in_log(const char *log, int *parts)
{
    long long sum = 0;
    *parts = 0;
    for (const char *p = log; (p = strstr(p, "from committed offset ")); (*parts)++) {
        p += strlen("from committed offset ");
        sum += atoll(p);
    }
    return sum;
}

/* ------------------------------------------------------------------------ */

static void one_consumer_delivers_all_and_commits_behind_delivery(void **state)
{
    (void)state;
    enum { N = 400 };
    fresh_db(&pg, "k1");
    produce_all("one", "one", 0, N);
    /* A message that is no event: its record goes to the dead-letter file,
     * and the commit moves past it. */
    char *bad = write_text(tmpdir, "k1-bad.txt", "not json\n");
    assert_int_equal(wait_cmd(produce_file("one", bad)), 0);
    free(bad);
    char *cfg = config("k1", "g-one", "one", "k1");
    char *dl = in_tmp("k1-rejected.jsonl");
    pid_t pid = start_run(cfg, "k1a");
    assert_int_equal(wait_for("k1", "SELECT count(*) FROM logloom.alerts", N, 30), N);
    assert_int_equal(wait_for("k1", "SELECT count(*) FROM logloom.timelines", N, 90), N);
    sleep_ms(600); /* a checkpoint interval or two: the commit after the last delivery */
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(in_db("k1", "SELECT count(*) FROM logloom.timelines WHERE event_count = 2"),
                     N);
    assert_int_equal(in_db("k1", "SELECT count(DISTINCT correlation_id) FROM logloom.alerts"), N);
    /* Issue 19: ids name what happened, not a partition and an offset: a
     * replay of the file that was produced gives the same alert and
     * timeline ids as the group, which read it from four partitions. */
    char *file = in_tmp("one-0-3.jsonl"), *rules = in_tmp("reset.yaml");
    const char *replay[] = {"replay", "--format", "jsonl", "-q", "--rules", rules,
                            "--session-gap", "1s", "--allowed-lateness", "200ms",
                            "--idle-timeout", "1s", file, NULL};
    struct run_result r = run_args(logloom, tmpdir, replay);
    assert_int_equal(r.status, 0);
    for (int t = 0; t < 2; t++) {
        const char *kind = t ? "timeline" : "alert";
        char sql[160], key[64];
        snprintf(sql, sizeof sql, "SELECT md5(string_agg(id, ',' ORDER BY id)) FROM logloom.%ss",
                 kind);
        struct ll_test_pg on = pg;
        snprintf(on.conninfo, sizeof on.conninfo, "host=%.600s port=%d dbname=k1 user=postgres",
                 pg.dir, pg.port);
        char *got = ll_test_pg_text(&on, sql);
        /* The same digest of replay's ids, by the same server. */
        snprintf(key, sizeof key, "{\"type\":\"%s\",\"id\":\"", kind);
        char *q = malloc(strlen(r.out) + 200), *o = q;
        o += sprintf(o, "SELECT md5(string_agg(id, ',' ORDER BY id)) FROM (VALUES ");
        size_t n = 0;
        for (const char *p = r.out; (p = strstr(p, key)); p += strlen(key), n++)
            o += sprintf(o, "%s('%.16s')", n ? "," : "", p + strlen(key));
        sprintf(o, ") v(id)");
        assert_int_equal(n, N);
        char *want = ll_test_pg_text(&on, q);
        assert_non_null(got);
        assert_non_null(want);
        assert_string_equal(got, want);
        free(q);
        free(got);
        free(want);
    }
    run_result_free(&r);
    free(file);
    free(rules);
    char *text = read_file(dl, NULL);
    assert_non_null(strstr(text, "{\"reason\":\"not_json\",\"source\":\"one/"));
    assert_non_null(strstr(text, ",\"line\":\"not json\"}\n"));
    assert_int_equal(strchr(text, '\n') - text + 1, strlen(text)); /* one record */
    /* Started again: every partition resumes at its end, nothing comes again. */
    pid = start_run(cfg, "k1b");
    char *log = NULL;
    int parts = 0;
    long long sum = 0;
    for (int i = 0; i < 300 && parts < 4; i++) {
        sleep_ms(100);
        free(log);
        log = run_log("k1b");
        sum = committed_in_log(log, &parts);
    }
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(parts, 4);
    assert_int_equal(sum, 2 * N + 1); /* all: both lines of every workflow, the bad one */
    assert_int_equal(in_db("k1", "SELECT count(*) FROM logloom.alerts"), N);
    char *again = read_file(dl, NULL);
    assert_string_equal(again, text); /* not read again */
    free(again);
    free(text);
    free(dl);
    free(log);
    free(cfg);
}

static void a_member_killed_mid_stream_its_partitions_move_and_nothing_doubles(void **state)
{
    (void)state;
    enum { N = 600 };
    fresh_db(&pg, "k2");
    char *cfg = config("k2", "g-pair", "pair", "k2");
    pid_t a = start_run(cfg, "k2a"), b = start_run(cfg, "k2b");
    /* Both members hold partitions before the stream starts. */
    wait_logged("k2a", "assigned pair/", 30);
    wait_logged("k2b", "assigned pair/", 30);
    /* The first half, in pieces; A is killed once part of it is in. */
    for (int k = 0; k < 6; k++) {
        produce_all("pair", "pair", k * N / 12, (k + 1) * N / 12);
        sleep_ms(150);
    }
    long long at_kill = wait_for("k2", "SELECT count(*) FROM logloom.alerts", N / 2, 30);
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    produce_all("pair", "pair", N / 2, N);
    /* B takes A's partitions once A's session times out, and reads them
     * from A's last commits. */
    assert_int_equal(wait_for("k2", "SELECT count(*) FROM logloom.alerts", N, 60), N);
    assert_int_equal(wait_for("k2", "SELECT count(*) FROM logloom.timelines", N, 90), N);
    sleep_ms(1500); /* anything doubled or partial would show by now */
    kill(b, SIGTERM);
    assert_int_equal(wait_cmd(b), 0);
    assert_int_equal(in_db("k2", "SELECT count(*) FROM logloom.alerts"), N);
    assert_int_equal(in_db("k2", "SELECT count(DISTINCT correlation_id) FROM logloom.alerts"), N);
    assert_int_equal(in_db("k2", "SELECT count(*) FROM logloom.timelines WHERE event_count = 2"),
                     N);
    char *log = run_log("k2b");
    int moved = (int)count_in(log, "assigned pair/");
    print_message("alerts in PostgreSQL when A was killed: %lld of %d; B was assigned %d "
                  "partitions in all\n", at_kill, N, moved);
    assert_true(moved > 2); /* its own, then A's too */
    free(log);
    free(cfg);
}

/* 0: not shown; 1: always shown; 2: one of librdkafka's group, partition
 * and fetch lines. */
static int log_line_kind(const char *line, size_t len)
{
    static const char *const kinds[][5] = {
        {"info:", "warn:", "error:"},
        {" message(s) (", "SESSTMOUT", "LOST", "PARTSTATE", "Fetch topic"},
    };
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 5 && kinds[k][i]; i++)
            if (memmem(line, len, kinds[k][i], strlen(kinds[k][i])))
                return k + 1;
    return 0;
}

/* Prints what @p name logged of the group, its partitions and fetching
 * (of librdkafka's lines, the last LAST_DEBUG): why a Kafka test waited in
 * vain. */
static void print_run_log(const char *name)
{
    enum { LAST_DEBUG = 200 };
    char *log = run_log(name);
    int n_debug = 0;
    for (int pass = 0; pass < 2; pass++) {
        int seen = 0;
        for (char *line = log, *end; line && *line; line = end + !!*end) {
            end = line + strcspn(line, "\n");
            int kind = log_line_kind(line, (size_t)(end - line));
            if (pass == 0) {
                n_debug += kind == 2;
            } else if (kind == 1 || (kind == 2 && seen++ >= n_debug - LAST_DEBUG)) {
                print_message("%s: %.*s\n", name, (int)(end - line), line);
            }
        }
    }
    free(log);
}

/* wait_for(), then the run's log if it came to less. */
static long long wait_or_tell(const char *db, const char *sql, long long want, int seconds,
                              const char *name)
{
    long long v = wait_for(db, sql, want, seconds);
    if (v != want) {
        print_message("%s: %lld, not %lld, after %d s; the run's log:\n", sql, v, want,
                      seconds);
        print_run_log(name);
    }
    return v;
}

/* Two-partition @p topic led by brokers 1 and 2, @p group coordinated by
 * broker @p coordinator. */
static void place(const char *topic, const char *group, int coordinator)
{
    for (int p = 0; p < 2; p++)
        mock_cluster_command(&mock, "leader %s %d %d", topic, p, p + 1);
    mock_cluster_command(&mock, "coordinator %s %d", group, coordinator);
}

/* Database and run @p name: a member of @p group on @p topic, placed as
 * place() does, with librdkafka's debug lines in its log; workflows
 * [0, @p n) of @p topic produced and alerted while all is up. @returns the
 * run, with its config in @p cfg (free it). */
static pid_t start_before_outage(const char *name, const char *topic, const char *group,
                                 int coordinator, int n, char **cfg)
{
    fresh_db(&pg, name);
    place(topic, group, coordinator);
    *cfg = config_debug(name, group, topic, name, true);
    pid_t pid = start_run(*cfg, name);
    produce_all(topic, topic, 0, n);
    assert_int_equal(wait_or_tell(name, "SELECT count(*) FROM logloom.alerts", n, 30, name), n);
    return pid;
}

/* Brokers 1 and 2 down for @p ms while workflows [@p from, @p to) of
 * @p topic are produced (the producer waits for them), then back.
 * @returns when they were back, once every line is acknowledged. */
static int64_t produce_through_outage(const char *topic, int from, int to, int ms)
{
    mock_cluster_command(&mock, "down 1");
    mock_cluster_command(&mock, "down 2");
    pid_t prod = produce(topic, topic, from, to);
    sleep_ms(ms);
    mock_cluster_command(&mock, "up 1");
    mock_cluster_command(&mock, "up 2");
    int64_t up = now_ms();
    assert_int_equal(wait_cmd(prod), 0);
    return up;
}

/* Both partitions' leaders go down (the group's coordinator stays up, so
 * the member keeps its partitions) for longer than librdkafka goes on
 * reporting the same connection error. What producers wrote meanwhile
 * arrives when they are back, long after the first half: it must still
 * find its workflows (timelines whole, no late events). */
static void a_broker_down_and_back_loses_nothing(void **state)
{
    (void)state;
    enum { N = 200, OUTAGE_MS = 12000 };
    char *cfg;
    pid_t pid = start_before_outage("k3", "down", "g-down", 3, N, &cfg);
    int64_t up = produce_through_outage("down", N, 2 * N, OUTAGE_MS);
    assert_int_equal(wait_or_tell("k3", "SELECT count(*) FROM logloom.alerts", 2 * N, 60, "k3"),
                     2 * N);
    assert_int_equal(
        wait_or_tell("k3", "SELECT count(*) FROM logloom.timelines", 2 * N, 90, "k3"), 2 * N);
    print_message("every timeline %.1f s after the brokers were back\n",
                  (double)(now_ms() - up) / 1000);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(in_db("k3", "SELECT count(*) FROM logloom.timelines WHERE event_count = 2"),
                     2 * N);
    assert_int_equal(in_db("k3", "SELECT count(DISTINCT correlation_id) FROM logloom.alerts"),
                     2 * N);
    free(cfg);
}

/* The group's coordinator goes down too, for longer than the session: the
 * member loses its partitions, joins again when the cluster is back and
 * reads them from their committed offsets. Nothing is lost, nothing is
 * stored twice, every timeline whole. */
static void the_coordinator_down_too_the_partitions_come_back(void **state)
{
    (void)state;
    enum { N = 100, OUTAGE_MS = 8000 };
    char *cfg;
    pid_t pid = start_before_outage("k6", "gone", "g-gone", 1, N, &cfg);
    produce_through_outage("gone", N, 2 * N, OUTAGE_MS);
    assert_int_equal(
        wait_or_tell("k6", "SELECT count(*) FROM logloom.timelines", 2 * N, 90, "k6"), 2 * N);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(in_db("k6", "SELECT count(*) FROM logloom.alerts"), 2 * N);
    assert_int_equal(in_db("k6", "SELECT count(*) FROM logloom.timelines WHERE event_count = 2"),
                     2 * N);
    char *log = run_log("k6");
    assert_non_null(strstr(log, "lost gone/")); /* the session did time out */
    free(log);
    free(cfg);
}

/* Members stopped one after another, soon after they started, in one
 * group that keeps rebalancing: each leaves and exits 0 at once, whether
 * or not it had an assignment yet (librdkafka 2.0 aborts when a member
 * that joined but was never assigned is destroyed). */
static void members_stopped_before_their_first_assignment_exit_cleanly(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text,
             "sources:\n"
             "  - brokers: %s\n"
             "    group_id: g-early\n"
             "    topics: [one]\n"
             "metrics: off\n",
             bootstrap);
    char *cfg = write_text(tmpdir, "early.yaml", text);
    const int after_ms[] = {200, 500, 1000, 2000};
    for (size_t i = 0; i < sizeof after_ms / sizeof after_ms[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "early-%zu", i);
        pid_t pid = start_run(cfg, name);
        sleep_ms(after_ms[i]);
        int64_t t0 = now_ms();
        kill(pid, SIGTERM);
        char *err = in_tmp(name);
        char path[800];
        snprintf(path, sizeof path, "%s.err", err);
        assert_int_equal(wait_cmd_err(pid, path), 0);
        assert_true(now_ms() - t0 < 10000); /* it does not wait for an assignment */
        free(err);
    }
    free(cfg);
}

static void alerts_and_timelines_go_to_kafka_keyed_by_id(void **state)
{
    (void)state;
    enum { N = 50 };
    char *logs = in_tmp("ks-logs"), *app = in_tmp("ks-logs/agent.log");
    mkdir(logs, 0700);
    char *rules = write_text(tmpdir, "reset.yaml", RESET_RULE);
    char text[4096];
    snprintf(text, sizeof text,
             "sources: [{paths: [%s/*.log]}]\n"
             "correlation: {session_gap: 1s, allowed_lateness: 200ms, idle_timeout: 1s}\n"
             "rules: [%s]\n"
             "sinks:\n"
             "  - url: kafka://%s/alerts\n"
             "    receive: both\n"
             "metrics: off\n",
             logs, rules, bootstrap);
    char *cfg = write_text(tmpdir, "ks.yaml", text);
    write_workflows(app, "ks", 0, N, 3, 0, false);
    pid_t pid = start_run(cfg, "ks");
    const char *topics[] = {"alerts", "alerts.timelines"}, *types[] = {"alert", "timeline"};
    for (int k = 0; k < 2; k++) {
        char n[16], out[700], err[700];
        snprintf(n, sizeof n, "%d", N);
        snprintf(out, sizeof out, "%s/consumed-%d.txt", tmpdir, k);
        snprintf(err, sizeof err, "%s/consumed-%d.err", tmpdir, k);
        const char *argv[] = {mock_bin, "consume", "-B", bootstrap, "-t", topics[k], "-n", n,
                              NULL};
        assert_int_equal(wait_cmd(spawn_cmd(argv, out, err)), 0);
        /* Every record keyed by its id, each workflow once. */
        char *got = read_file(out, NULL);
        int lines = 0;
        for (char *line = got, *next; *line; line = next) {
            next = strchr(line, '\n');
            *next++ = '\0';
            char *tab = strchr(line, '\t'), want[64], type[32];
            assert_non_null(tab);
            snprintf(want, sizeof want, "\"id\":\"%.*s\"", (int)(tab - line), line);
            snprintf(type, sizeof type, "\"type\":\"%s\"", types[k]);
            assert_non_null(strstr(tab, want));
            assert_non_null(strstr(tab, type));
            lines++;
        }
        assert_int_equal(lines, N);
        free(got);
    }
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    free(cfg);
    free(rules);
    free(app);
    free(logs);
}

/* Lines the pipeline held back (producer batching, a rebalance) come
 * seconds after the lines before them, stamped when they were written: the
 * workflows they belong to must still be open, though the partition was
 * quiet meanwhile. */
static void lines_held_back_by_the_pipeline_still_join_their_workflows(void **state)
{
    (void)state;
    enum { N = 50 };
    fresh_db(&pg, "k4");
    char *cfg = config("k4", "g-late", "late", "k4");
    pid_t pid = start_run(cfg, "k4");
    char *log = NULL;
    for (int i = 0; i < 300 && !(log && strstr(log, "assigned late/0")); i++) {
        sleep_ms(100);
        free(log);
        log = run_log("k4");
    }
    assert_non_null(strstr(log, "assigned late/0"));
    free(log);
    int64_t t0 = now_ms();
    assert_int_equal(wait_cmd(produce_lines("late", "late", 0, N, 1, t0)), 0);
    sleep_ms(2500); /* quiet, longer than idle_timeout (1 s) by the clock */
    assert_int_equal(wait_cmd(produce_lines("late", "late", 0, N, 2, t0)), 0);
    assert_int_equal(wait_for("k4", "SELECT count(*) FROM logloom.timelines", N, 90), N);
    sleep_ms(500);
    assert_int_equal(in_db("k4", "SELECT count(*) FROM logloom.timelines WHERE event_count = 2"),
                     N);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    free(cfg);
}

/* Producers keyed by pod: a workflow's lines land in different partitions,
 * and a correlating group would cut it in pieces. Repartitioned by
 * correlation id, the same lines give the timelines replay gives. */
/* `logloom repartition --from @p from --to @p to --group @p group`, its
 * outputs in tmpdir/@p group.out and .err. */
static pid_t start_repartition(const char *from, const char *to, const char *group,
                               const char *config)
{
    const char *argv[] = {logloom, "repartition", "--brokers", bootstrap, "--group", group,
                          "--from", from, "--to", to, "--config", config, NULL};
    char out[700], err[700];
    snprintf(out, sizeof out, "%s/%s.out", tmpdir, group);
    snprintf(err, sizeof err, "%s/%s.err", tmpdir, group);
    return spawn_cmd(argv, out, err);
}

/* SIGTERM: it exits 0 and its log says @p want. */
static void stop_repartition(pid_t pid, const char *group, const char *want)
{
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_logged(group, want);
}

static void repartition_keys_by_correlation_id_and_timelines_come_whole(void **state)
{
    (void)state;
    enum { N = 200 };
    char *file = in_tmp("raw.jsonl");
    write_workflows(file, "rp", 0, N, 3, 0, true);
    /* What replay makes of the lines. */
    const char *rargv[] = {logloom, "replay", "--format", "jsonl", "--no-rules", file, NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(run_cmd(rargv, tmpdir, &out, &err), 0);
    int replayed = 0;
    for (const char *p = out; (p = strstr(p, "\"type\":\"timeline\"")); p++) {
        const char *two = strstr(p, "\"events\":2,");
        replayed += two && two < strchr(p, '\n');
    }
    assert_int_equal(replayed, N);
    free(out);
    free(err);
    assert_int_equal(wait_cmd(produce_by("raw", file, "name")), 0);
    /* Straight from the raw topic: workflows in pieces. */
    fresh_db(&pg, "k5raw");
    char *cfg_raw = config("k5raw", "g-raw", "raw", "k5raw");
    pid_t run_raw = start_run(cfg_raw, "k5raw");
    /* Repartitioned, then correlated. */
    fresh_db(&pg, "k5");
    char *cfg = config("k5", "g-keyed", "keyed", "k5");
    pid_t rep = start_repartition("raw", "keyed", "g-rep", cfg);
    pid_t run = start_run(cfg, "k5");
    assert_int_equal(wait_for("k5", "SELECT count(*) FROM logloom.timelines", N, 90), N);
    assert_int_equal(wait_for("k5raw", "SELECT count(*) FROM logloom.alerts", N, 60), N);
    sleep_ms(1000);
    assert_int_equal(in_db("k5", "SELECT count(*) FROM logloom.timelines WHERE event_count = 2"),
                     N);
    assert_int_equal(in_db("k5", "SELECT count(*) FROM logloom.alerts"), N);
    long long whole_raw =
        in_db("k5raw", "SELECT count(*) FROM logloom.timelines WHERE event_count = 2");
    print_message("workflows whole when read straight from the raw topic: %lld of %d\n",
                  whole_raw, N);
    assert_true(whole_raw < N / 2); /* most cut in two: what repartition is for */
    stop_repartition(rep, "g-rep", "stopped: 400 lines produced (0 keyed through a link key, 0 "
                                   "by service)");
    kill(run, SIGTERM);
    kill(run_raw, SIGTERM);
    assert_int_equal(wait_cmd(run), 0);
    assert_int_equal(wait_cmd(run_raw), 0);
    free(cfg);
    free(cfg_raw);
    free(file);
}

/* Workflows [@p from, @p to) as the raw topic gets them: the manager's
 * line from pod-m, the agent's (naming its child's pid) and the child's
 * (its pid, no id) from pod-(i % 5); pids come round every 60 workflows. */
/* A rule that never matches, to move the reset rule's place in the pack. */
#define NEVER_RULE(n)                                                                            \
    "  - id: never" n "\n"                                                                      \
    "    symptom: econnreset\n"                                                                 \
    "    severity: error\n"                                                                     \
    "    title: never\n"                                                                        \
    "    remediation: r\n"                                                                      \
    "    when: {err.code: ENEVER" n "}\n"                                                      \
    "    examples: {match: ['{\"err\":{\"code\":\"ENEVER" n "\"}}']}\n"

/* Writes the rules of @p text to @p name at once (a reload never reads
 * half a file). */
static void put_rules(const char *name, const char *text)
{
    free(write_text(tmpdir, "rules.tmp", text));
    char *tmp = in_tmp("rules.tmp"), *to = in_tmp(name);
    assert_int_equal(rename(tmp, to), 0);
    free(tmp);
    free(to);
}

static void decoding_on_four_threads_and_reloading_rules_mid_batch_lose_nothing(void **state)
{
    (void)state;
    enum { N = 5000 };
    fresh_db(&pg, "k7");
    /* The whole topic is there before the member starts, so messages are
     * taken a full batch at a time. */
    char *bad = write_text(tmpdir, "k7-bad.txt", "not json 1\nnot json 2\n");
    produce_all("many", "many", 0, N / 2);
    assert_int_equal(wait_cmd(produce_file("many", bad)), 0);
    produce_all("many", "many", N / 2, N);
    free(bad);
    /* The same reset rule, first in one pack and fourth in the other: an
     * event decoded with one pack and raised with the other would name a
     * never rule, or none. */
    char shifted[4096];
    snprintf(shifted, sizeof shifted, "rules:\n%s%s%s%s", NEVER_RULE("1"), NEVER_RULE("2"),
             NEVER_RULE("3"), &RESET_RULE[strlen("rules:\n")]);
    put_rules("k7-rules.yaml", RESET_RULE);
    char *cfg = config_full("k7", "g-many", "many", "k7", false, "k7-rules.yaml", 4);
    pid_t pid = start_run(cfg, "k7");
    wait_logged("k7", "assigned many/", 10); /* SIGHUP before its handler would end it */
    long long alerts = 0;
    /* A reload at nearly every turn of the daemon's loop (256 events), so
     * that many land while a batch of 1024 is being handed out. */
    for (int i = 0; i < 20000 && alerts < N; i++) {
        put_rules("k7-rules.yaml", i % 2 ? RESET_RULE : shifted);
        kill(pid, SIGHUP);
        sleep_ms(1);
        if (i % 100 == 99)
            alerts = in_db("k7", "SELECT count(*) FROM logloom.alerts");
    }
    assert_int_equal(wait_for("k7", "SELECT count(*) FROM logloom.alerts", N, 30), N);
    assert_int_equal(wait_for("k7", "SELECT count(*) FROM logloom.timelines", N, 90), N);
    kill(pid, SIGTERM);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(in_db("k7", "SELECT count(*) FROM logloom.alerts WHERE rule <> 'reset'"), 0);
    assert_int_equal(in_db("k7", "SELECT count(DISTINCT correlation_id) FROM logloom.alerts"), N);
    assert_int_equal(in_db("k7", "SELECT count(*) FROM logloom.timelines WHERE event_count = 2"),
                     N);
    /* Rejected lines are reported once each, with their reasons. */
    char *dl = in_tmp("k7-rejected.jsonl");
    char *text = read_file(dl, NULL);
    const char *one = strstr(text, "\"line\":\"not json 1\"");
    const char *two = strstr(text, "\"line\":\"not json 2\"");
    assert_non_null(one);
    assert_non_null(two);
    assert_non_null(strstr(text, "\"detail\":\"lexical error: invalid string in json text. "
                                 "at byte 1\",\"line\":\"not json 1\""));
    assert_int_equal(strchr(strchr(text, '\n') + 1, '\n') - text + 1, strlen(text));
    /* The reloads came while a batch was being handed out. */
    char *log = run_log("k7");
    int again = (int)count_in(log, "decoded again");
    int reloads = (int)count_in(log, "rules: reloaded");
    print_message("%d reloads, %d of them while a batch was being handed out\n", reloads, again);
    assert_true(again > 0);
    free(log);
    assert_logged("k7", "Kafka decoded on 4 threads");
    free(text);
    free(dl);
    free(cfg);
}

static void produce_spawning(const char *path, int from, int to)
{
    FILE *fp = fopen(path, "w");
    long long t = (long long)now_ms();
    for (int i = from; i < to; i++) {
        fprintf(fp, "{\"level\":30,\"time\":%lld,\"name\":\"manager\",\"hostname\":\"pod-m\","
                    "\"pid\":7,\"correlationId\":\"ln-%06d\",\"msg\":\"task sent\"}\n",
                t, i);
        fprintf(fp, "{\"level\":30,\"time\":%lld,\"name\":\"agent\",\"hostname\":\"pod-%d\","
                    "\"pid\":8,\"correlationId\":\"ln-%06d\",\"childPid\":%d,\"msg\":\"child "
                    "spawned\"}\n",
                t + 1, i % 5, i, 1000 + i % 60);
        fprintf(fp, "{\"level\":50,\"time\":%lld,\"name\":\"worker\",\"hostname\":\"pod-%d\","
                    "\"pid\":%d,\"err\":{\"code\":\"ECONNRESET\"},\"msg\":\"call failed\"}\n",
                t + 2, i % 5, 1000 + i % 60);
    }
    fclose(fp);
    assert_int_equal(wait_cmd(produce_by("rawlink", path, "hostname")), 0);
}

/* A child's lines carry no id, only its pid. repartition keys them by the
 * workflow whose line named that pid (childPid) on the same host, so the
 * correlating group joins them to it. The raw topic is keyed by pod, as a
 * log shipper keys it: a workflow's lines come from two pods. The second
 * half reuses the first half's pids on the same pods once the first half's
 * workflows closed: the pids are taught anew. */
static void repartition_keys_a_childs_lines_by_the_workflow_that_spawned_it(void **state)
{
    (void)state;
    enum { N = 120 };
    fresh_db(&pg, "k6");
    char *cfg = config("k6", "g-keyedlink", "keyedlink", "k6");
    pid_t rep = start_repartition("rawlink", "keyedlink", "g-replink", cfg);
    pid_t run = start_run(cfg, "k6");
    char *first = in_tmp("rawlink-1.jsonl"), *second = in_tmp("rawlink-2.jsonl");
    produce_spawning(first, 0, N / 2);
    assert_int_equal(wait_for("k6", "SELECT count(*) FROM logloom.timelines", N / 2, 90), N / 2);
    produce_spawning(second, N / 2, N);
    assert_int_equal(wait_for("k6", "SELECT count(*) FROM logloom.timelines", N, 90), N);
    assert_int_equal(wait_for("k6", "SELECT count(*) FROM logloom.alerts", N, 30), N);
    sleep_ms(1000);
    assert_int_equal(in_db("k6", "SELECT count(*) FROM logloom.timelines WHERE event_count = 3"),
                     N);
    assert_int_equal(in_db("k6", "SELECT count(DISTINCT correlation_id) FROM logloom.alerts "
                                 "WHERE correlation_id LIKE 'ln-%'"),
                     N);
    char want[120];
    snprintf(want, sizeof want, "stopped: %d lines produced (%d keyed through a link key, 0 by "
                                "service)",
             3 * N, N);
    stop_repartition(rep, "g-replink", want);
    kill(run, SIGTERM);
    assert_int_equal(wait_cmd(run), 0);
    free(cfg);
    free(first);
    free(second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_consumer_delivers_all_and_commits_behind_delivery),
        cmocka_unit_test(a_member_killed_mid_stream_its_partitions_move_and_nothing_doubles),
        cmocka_unit_test(a_broker_down_and_back_loses_nothing),
        cmocka_unit_test(the_coordinator_down_too_the_partitions_come_back),
        cmocka_unit_test(members_stopped_before_their_first_assignment_exit_cleanly),
        cmocka_unit_test(alerts_and_timelines_go_to_kafka_keyed_by_id),
        cmocka_unit_test(lines_held_back_by_the_pipeline_still_join_their_workflows),
        cmocka_unit_test(repartition_keys_by_correlation_id_and_timelines_come_whole),
        cmocka_unit_test(repartition_keys_a_childs_lines_by_the_workflow_that_spawned_it),
        cmocka_unit_test(decoding_on_four_threads_and_reloading_rules_mid_batch_lose_nothing),
    };
    if (getenv("LL_TEST_ONLY"))
        cmocka_set_test_filter(getenv("LL_TEST_ONLY"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
