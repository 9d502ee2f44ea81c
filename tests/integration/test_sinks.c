/* The PostgreSQL and Redis sinks against real servers (servers.h), driven
 * the way a user drives them: `logloom replay --sink ...`. Nothing is lost
 * and nothing is written twice, whether the replay runs again, the server
 * crashes or hangs mid-run, or several logloom processes start at once;
 * hostile log text is stored verbatim; a wrong password stops the run with
 * a clear message that does not hold the password. One test drives the
 * sink API directly to show that acknowledgements wait for durability. */
#define LL_E2E
#define LL_PG
#include "../testutil.h"

#include "logloom/sinks.h"
#include "servers.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <time.h>

static struct ll_test_pg pg;
static struct ll_test_redis rd;

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN); /* the test talks to servers it kills */
    e2e_group_setup(state);
    if (ll_test_pg_start(&pg) != 0 || ll_test_redis_start(&rd, "r3dis-pass", true) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ll_test_pg_destroy(&pg);
    ll_test_redis_destroy(&rd);
    e2e_group_teardown(state);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

/* A fresh database per test, so tests do not see each other's rows. */
static void pg_url(const char *db, char *out, size_t size)
{
    fresh_db(&pg, db);
    snprintf(out, size, "host=%s port=%d dbname=%s user=postgres", pg.dir, pg.port, db);
}

/* The server as superuser on database @p db. */
static struct ll_test_pg on_db(const char *db)
{
    struct ll_test_pg other = pg;
    snprintf(other.conninfo, sizeof other.conninfo, "host=%.600s port=%d dbname=%s user=postgres",
             pg.dir, pg.port, db);
    return other;
}

static long long pg_count(const char *db, const char *sql)
{
    struct ll_test_pg other = on_db(db);
    return ll_test_pg_int(&other, sql);
}

static void redis_url(char *out, size_t size, const char *prefix, const char *extra)
{
    snprintf(out, size, "unix://%s?password=%s#receive=both&stream=%s:alerts&timeline_stream=%s:tl"
             "&channel=%s:live%s",
             rd.sock, rd.password, prefix, prefix, prefix, extra ? extra : "");
}

static long long redis_xlen(const char *key)
{
    const char *argv[] = {"XLEN", key};
    return ll_test_redis_int(&rd, 2, argv);
}

/* The ids of a stream's entries, each once, and how many entries held an id
 * already seen (a duplicate). */
static size_t redis_ids(const char *key, char (**ids)[17], size_t *dups)
{
    redisContext *c = redisConnectUnix(rd.sock);
    assert_true(c && !c->err);
    redisReply *r = redisCommand(c, "AUTH %s", rd.password);
    freeReplyObject(r);
    r = redisCommand(c, "XRANGE %s - +", key);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    *ids = calloc(r->elements + 1, sizeof **ids);
    size_t n = 0;
    *dups = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *fields = r->element[i]->element[1];
        assert_string_equal(fields->element[0]->str, "id");
        const char *id = fields->element[1]->str;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp((*ids)[k], id) == 0;
        if (seen)
            (*dups)++;
        else
            snprintf((*ids)[n++], 17, "%s", id);
    }
    freeReplyObject(r);
    redisFree(c);
    return n;
}

/* Starts logloom with @p args (NULL-terminated); stdout and stderr go to
 * <tmpdir>/<name>.out and .err. */
static pid_t start(const char *name, const char *const *args)
{
    const char *argv[32] = {logloom};
    size_t n = 1;
    for (; args[n - 1]; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    char out[700], err[700];
    snprintf(out, sizeof out, "%s/%s.out", tmpdir, name);
    snprintf(err, sizeof err, "%s/%s.err", tmpdir, name);
    return spawn_cmd(argv, out, err);
}

static bool running(pid_t pid)
{
    int st;
    return waitpid(pid, &st, WNOHANG) == 0;
}

static char *output(const char *name, const char *ext)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.%s", tmpdir, name, ext);
    return read_file(path, NULL);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* @p n error lines, each its own workflow with its own ECONNRESET alert,
 * one second apart in event time. */
static char *alert_log(const char *name, int n)
{
    struct ll_buf b = {0};
    for (int i = 0; i < n; i++)
        ll_buf_printf(&b, "{\"level\":50,\"time\":%lld,\"name\":\"agent-1\",\"correlationId\":"
                          "\"wf-%06d\",\"err\":{\"type\":\"Error\",\"message\":\"read ECONNRESET\","
                          "\"code\":\"ECONNRESET\",\"errno\":-104,\"syscall\":\"read\"},"
                          "\"msg\":\"call failed\"}\n",
                      1795500000000LL + i * 1000LL, i);
    char *path = write_file(tmpdir, name, b.data, b.len);
    ll_buf_free(&b);
    return path;
}

/* The alert ids of a JSON lines output, in order. */
static size_t alert_ids(const char *out, char (**ids)[17])
{
    size_t n = 0;
    for (const char *p = out; (p = strstr(p, "{\"type\":\"alert\",\"id\":\"")); p++)
        n++;
    *ids = calloc(n + 1, sizeof **ids);
    n = 0;
    for (const char *p = out; (p = strstr(p, "{\"type\":\"alert\",\"id\":\"")); p++)
        snprintf((*ids)[n++], 17, "%.16s", p + 22);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

static void concurrent_starts_create_the_schema_once_and_reruns_change_nothing(void **state)
{
    (void)state;
    char url[1200], sink[1300];
    pg_url("t_schema", url, sizeof url);
    snprintf(sink, sizeof sink, "%s#receive=both", url);
    const char *args[] = {"replay", "-q", "--format", "none", "--sink", sink,
                          "examples/incident", NULL};
    pid_t pids[4];
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "schema%d", i);
        pids[i] = start(name, args);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(wait_cmd(pids[i]), 0);
    assert_int_equal(pg_count("t_schema", "SELECT count(*) FROM logloom.schema_migrations"), 2);
    assert_int_equal(pg_count("t_schema", "SELECT count(*) FROM logloom.alerts"), 11);
    assert_int_equal(pg_count("t_schema", "SELECT count(*) FROM logloom.timelines"), 14);
    long long occurrences = pg_count("t_schema", "SELECT sum(count) FROM logloom.alerts");
    assert_int_equal(wait_cmd(start("schema-again", args)), 0);
    assert_int_equal(pg_count("t_schema", "SELECT count(*) FROM logloom.alerts"), 11);
    assert_int_equal(pg_count("t_schema", "SELECT sum(count) FROM logloom.alerts"), occurrences);
    /* The views answer the usual questions. */
    assert_int_equal(pg_count("t_schema", "SELECT count(*) FROM logloom.open_alerts"), 11);
    assert_true(pg_count("t_schema", "SELECT count(*) FROM logloom.workflow_alerts") >= 8);
    assert_int_equal(pg_count("t_schema", "SELECT count(*) FROM logloom.symptoms_by_hour "
                                          "WHERE symptom = 'pg-deadlock'"),
                     1);
}

static void incident_into_both_sinks_twice_matches_the_terminal_output(void **state)
{
    (void)state;
    char url[1200], pgsink[1300], rsink[1300];
    pg_url("t_both", url, sizeof url);
    snprintf(pgsink, sizeof pgsink, "%s#receive=both", url);
    redis_url(rsink, sizeof rsink, "t2", NULL);
    const char *args[] = {"replay", "--format", "jsonl", "--sink", pgsink, "--sink", rsink,
                          "examples/incident", NULL};
    for (int round = 0; round < 2; round++) {
        assert_int_equal(wait_cmd(start("both", args)), 0);
        char *out = output("both", "out");
        char(*ids)[17];
        size_t n = alert_ids(out, &ids);
        assert_int_equal(n, 11);
        /* Every alert the terminal showed is in both stores, once. */
        for (size_t i = 0; i < n; i++) {
            char sql[128];
            snprintf(sql, sizeof sql, "SELECT count(*) FROM logloom.alerts WHERE id = '%s'",
                     ids[i]);
            assert_int_equal(pg_count("t_both", sql), 1);
        }
        char(*rids)[17];
        size_t dups;
        assert_int_equal(redis_ids("t2:alerts", &rids, &dups), 11);
        assert_int_equal(dups, 0);
        for (size_t i = 0; i < n; i++) {
            bool found = false;
            for (size_t k = 0; k < 11 && !found; k++)
                found = strcmp(rids[k], ids[i]) == 0;
            assert_true(found);
        }
        assert_int_equal(redis_xlen("t2:tl"), 14);
        assert_int_equal(pg_count("t_both", "SELECT count(*) FROM logloom.timelines"), 14);
        /* Both sinks report everything durable in the stats record. */
        assert_int_equal(sink_stat(out, 0, "delivered"), 25);
        assert_int_equal(sink_stat(out, 1, "delivered"), 25);
        free(ids);
        free(rids);
        free(out);
    }
    /* A timeline row keeps what the record said. */
    assert_int_equal(pg_count("t_both", "SELECT count(*) FROM logloom.timelines WHERE "
                                        "correlation_id = 'f453b1ea-15ee-4d7c-b37e-52920e8a7ef6' "
                                        "AND status = 'failed' AND services = "
                                        "'{manager,agent-2}' AND cardinality(alert_ids) = 1"),
                     1);
}

static void postgres_crash_mid_run_loses_and_duplicates_nothing(void **state)
{
    (void)state;
    enum { N = 6000 };
    char url[1200], sink[1400];
    pg_url("t_crash", url, sizeof url);
    snprintf(sink, sizeof sink, "%s#batch=4&linger=0&retry_min=50ms&retry_max=400ms", url);
    char *log = alert_log("crash.log", N);
    const char *args[] = {"replay", "--format", "jsonl", "--sink", sink, log, NULL};
    pid_t pid = start("crash", args);
    long long before;
    while ((before = pg_count("t_crash", "SELECT count(*) FROM logloom.alerts")) < 40)
        sleep_ms(5);
    assert_true(running(pid)); /* the crash is mid-run */
    ll_test_pg_stop(&pg, true);
    sleep_ms(1200);
    assert_true(running(pid));
    assert_int_equal(ll_test_pg_restart(&pg), 0);
    assert_int_equal(wait_cmd(pid), 0);
    assert_int_equal(pg_count("t_crash", "SELECT count(*) FROM logloom.alerts"), N);
    assert_int_equal(pg_count("t_crash", "SELECT count(DISTINCT correlation_id) FROM "
                                         "logloom.alerts"),
                     N);
    assert_int_equal(pg_count("t_crash", "SELECT sum(count) FROM logloom.alerts"), N);
    char *out = output("crash", "out"), *err = output("crash", "err");
    assert_true(sink_stat(out, 0, "outages") >= 1);
    assert_int_equal(sink_stat(out, 0, "delivered"), N);
    /* One line when the outage starts and one when it ends, not per retry. */
    assert_non_null(strstr(err, "connection lost"));
    assert_non_null(strstr(err, "reconnected after"));
    const char *first = strstr(err, "connection lost");
    assert_null(strstr(first + 1, "connection lost"));
    /* Saying why, in the words of the server or of libpq (issue 19: a
     * server that shut down mid-batch once gave whatever a buffer held). */
    const char *why = first + strlen("connection lost: "), *end = strstr(why, "; retrying");
    assert_non_null(end);
    print_message("connection lost: %.*s\n", (int)(end - why), why);
    static const char *const reasons[] = {"terminating connection", "server closed the connection",
                                          "Broken pipe", "Connection reset", "no connection",
                                          "could not receive", "EOF"};
    bool known = false;
    for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++)
        known |= memmem(why, (size_t)(end - why), reasons[i], strlen(reasons[i])) != NULL;
    if (!known)
        fail_msg("no reason the server or libpq gives: %.*s", (int)(end - why), why);
    free(out);
    free(err);
    free(log);
}

static void redis_killed_mid_run_loses_and_duplicates_nothing(void **state)
{
    (void)state;
    enum { N = 6000 };
    char sink[1400];
    redis_url(sink, sizeof sink, "t4", "&batch=4&linger=0&retry_min=50ms&retry_max=400ms");
    char *log = alert_log("kill.log", N);
    const char *args[] = {"replay", "--format", "jsonl", "--sink", sink, log, NULL};
    pid_t pid = start("kill", args);
    while (redis_xlen("t4:alerts") < 40)
        sleep_ms(5);
    assert_true(running(pid));
    ll_test_redis_kill(&rd);
    sleep_ms(1200);
    assert_true(running(pid));
    assert_int_equal(ll_test_redis_restart(&rd), 0);
    assert_int_equal(wait_cmd(pid), 0);
    char(*ids)[17];
    size_t dups;
    assert_int_equal(redis_ids("t4:alerts", &ids, &dups), N);
    assert_int_equal(dups, 0);
    assert_int_equal(redis_xlen("t4:alerts"), N);
    char *out = output("kill", "out");
    assert_true(sink_stat(out, 0, "outages") >= 1);
    free(ids);
    free(out);
    free(log);
}

static void a_hung_redis_pauses_the_input_until_it_answers(void **state)
{
    (void)state;
    enum { N = 3000 };
    char sink[1400];
    redis_url(sink, sizeof sink, "t5",
              "&batch=10&queue=20&linger=0&io_timeout=500ms&retry_min=50ms&retry_max=300ms");
    char *log = alert_log("hang.log", N);
    const char *args[] = {"replay", "--format", "jsonl", "--sink", sink, log, NULL};
    pid_t pid = start("hang", args);
    while (redis_xlen("t5:alerts") < 20)
        sleep_ms(5);
    ll_test_redis_pause(&rd, true);
    sleep_ms(2500); /* more than a pause line's second */
    assert_true(running(pid));
    ll_test_redis_pause(&rd, false);
    assert_int_equal(wait_cmd(pid), 0);
    char(*ids)[17];
    size_t dups;
    assert_int_equal(redis_ids("t5:alerts", &ids, &dups), N);
    assert_int_equal(dups, 0);
    char *out = output("hang", "out"), *err = output("hang", "err");
    assert_true(sink_stat(out, 0, "waits") >= 1);
    assert_true(sink_stat(out, 0, "waited_ms") >= 1000);
    assert_non_null(strstr(err, "input paused"));
    assert_non_null(strstr(err, "input resumed"));
    free(ids);
    free(out);
    free(err);
    free(log);
}

static void hostile_log_text_is_stored_verbatim(void **state)
{
    (void)state;
    /* SQL and the Redis protocol in the message, a NUL in the stack. */
    const char line[] =
        "{\"level\":50,\"time\":1795500000000,\"name\":\"agent-1\",\"correlationId\":\"evil\","
        "\"err\":{\"code\":\"ECONNRESET\",\"message\":\"read ECONNRESET\\u0000'); DROP TABLE "
        "logloom.alerts; -- \\r\\n*1\\r\\n$8\\r\\nFLUSHALL\\r\\n\\\"};\",\"stack\":\"a\\u0000b\"},"
        "\"msg\":\"x'||pg_sleep(5)||'\"}\n";
    char *log = write_text(tmpdir, "evil.log", line);
    char url[1200], pgsink[1300], rsink[1300];
    pg_url("t_evil", url, sizeof url);
    snprintf(pgsink, sizeof pgsink, "%s#receive=both", url);
    redis_url(rsink, sizeof rsink, "t6", NULL);
    const char *args[] = {"replay", "--format", "jsonl", "--sink", pgsink, "--sink", rsink,
                          log, NULL};
    assert_int_equal(wait_cmd(start("evil", args)), 0);
    assert_int_equal(pg_count("t_evil", "SELECT count(*) FROM logloom.alerts"), 1);
    struct ll_test_pg evil = on_db("t_evil");
    char *stored = ll_test_pg_text(&evil, "SELECT evidence->0->>'line' FROM logloom.alerts");
    assert_non_null(stored);
    assert_memory_equal(stored, line, strlen(line) - 1); /* without the newline */
    assert_int_equal(strlen(stored), strlen(line) - 1);
    free(stored);
    /* The NUL of the message, which PostgreSQL text cannot hold, became
     * U+FFFD in the summary. */
    assert_int_equal(pg_count("t_evil", "SELECT count(*) FROM logloom.alerts WHERE "
                                        "strpos(summary, 'ECONNRESET' || U&'\\FFFD' || '''') > 0"),
                     1);
    assert_int_equal(redis_xlen("t6:alerts"), 1);
    /* The stream holds the very record the terminal printed. */
    char *out = output("evil", "out");
    const char *rec = strstr(out, "{\"type\":\"alert\"");
    assert_non_null(rec);
    size_t rec_len = strcspn(rec, "\n");
    redisContext *c = redisConnectUnix(rd.sock);
    freeReplyObject(redisCommand(c, "AUTH %s", rd.password));
    redisReply *r = redisCommand(c, "XRANGE t6:alerts - +");
    assert_int_equal(r->elements, 1);
    redisReply *f = r->element[0]->element[1];
    assert_string_equal(f->element[4]->str, "record");
    assert_int_equal(f->element[5]->len, rec_len);
    assert_memory_equal(f->element[5]->str, rec, rec_len);
    freeReplyObject(r);
    redisFree(c);
    free(out);
    free(log);
}

static void redis_over_tcp_writes_to_the_database_it_names(void **state)
{
    (void)state;
    char sink[300];
    snprintf(sink, sizeof sink, "redis://:%s@127.0.0.1:%d/3#stream=t9:alerts", rd.password,
             rd.tcp_port);
    const char *args[] = {"replay", "-q", "--format", "none", "--sink", sink,
                          "examples/incident", NULL};
    assert_int_equal(wait_cmd(start("tcp", args)), 0);
    assert_int_equal(redis_xlen("t9:alerts"), 0); /* not in database 0 */
    redisContext *c = redisConnect("127.0.0.1", rd.tcp_port);
    assert_true(c && !c->err);
    freeReplyObject(redisCommand(c, "AUTH %s", rd.password));
    freeReplyObject(redisCommand(c, "SELECT 3"));
    redisReply *r = redisCommand(c, "XLEN t9:alerts");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_int_equal(r->integer, 11);
    freeReplyObject(r);
    redisFree(c);
}

static void wrong_passwords_stop_the_run_without_showing_them(void **state)
{
    (void)state;
    char sink[1400];
    snprintf(sink, sizeof sink, "host=%s port=%d dbname=logloom user=logloom "
                                "password=not-the-Pass-1234", pg.dir, pg.port);
    const char *args[] = {"replay", "-q", "--sink", sink, "examples/incident", NULL};
    assert_int_equal(wait_cmd(start("pgpass", args)), 2);
    char *out = output("pgpass", "out"), *err = output("pgpass", "err");
    assert_string_equal(out, ""); /* nothing was read */
    assert_non_null(strstr(err, "password authentication failed"));
    assert_non_null(strstr(err, "password=***"));
    assert_null(strstr(err, "not-the-Pass-1234"));
    free(out);
    free(err);

    snprintf(sink, sizeof sink, "unix://%s?password=not-the-Pass-5678", rd.sock);
    const char *rargs[] = {"replay", "-q", "--sink", sink, "examples/incident", NULL};
    assert_int_equal(wait_cmd(start("rpass", rargs)), 2);
    err = output("rpass", "err");
    assert_non_null(strstr(err, "authentication failed"));
    assert_null(strstr(err, "not-the-Pass-5678"));
    free(err);

    /* The right one works (scram-sha-256 through libpq). */
    snprintf(sink, sizeof sink, "%s", pg.user_conninfo);
    assert_int_equal(wait_cmd(start("pgright", args)), 0);
}

static void deadlocks_retry_and_bad_data_is_rejected_alone(void **state)
{
    (void)state;
    char url[1200], sink[1400];
    pg_url("t_errors", url, sizeof url);
    const char *first[] = {"replay", "-q", "--format", "none", "--sink", url,
                           "examples/incident", NULL};
    assert_int_equal(wait_cmd(start("errors0", first)), 0); /* the schema exists now */
    assert_int_equal(pg_count("t_errors", "TRUNCATE logloom.alerts"), 0);
    /* The first two writes die as a deadlock victim would; the alert with
     * the pg-deadlock symptom is data the server refuses. */
    assert_int_equal(pg_count("t_errors",
                              "CREATE SEQUENCE tries;" /* nextval outlives a rollback */
                              "CREATE FUNCTION trouble() RETURNS trigger LANGUAGE plpgsql AS $$"
                              "BEGIN"
                              " IF nextval('tries') <= 2 THEN"
                              "  RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01';"
                              " END IF;"
                              " IF NEW.symptom = 'pg-deadlock' THEN"
                              "  RAISE EXCEPTION 'refused' USING ERRCODE = '22023';"
                              " END IF;"
                              " RETURN NEW;"
                              "END $$;"
                              "CREATE TRIGGER trouble BEFORE INSERT ON logloom.alerts"
                              " FOR EACH ROW EXECUTE FUNCTION trouble()"),
                     0);
    snprintf(sink, sizeof sink, "%s#retry_min=20ms&retry_max=100ms", url);
    const char *args[] = {"replay", "--format", "jsonl", "--sink", sink, "examples/incident",
                          NULL};
    assert_int_equal(wait_cmd(start("errors", args)), 0);
    assert_int_equal(pg_count("t_errors", "SELECT count(*) FROM logloom.alerts"), 10);
    assert_int_equal(pg_count("t_errors", "SELECT count(*) FROM logloom.alerts WHERE "
                                          "symptom = 'pg-deadlock'"),
                     0);
    char *out = output("errors", "out"), *err = output("errors", "err");
    assert_true(sink_stat(out, 0, "retries") >= 2);
    assert_int_equal(sink_stat(out, 0, "rejected"), 1);
    assert_int_equal(sink_stat(out, 0, "delivered"), 10);
    assert_non_null(strstr(err, "rejected: refused (SQLSTATE 22023)"));
    free(out);
    free(err);
}

static void acknowledgements_wait_until_the_rows_are_committed(void **state)
{
    (void)state;
    char url[1200];
    pg_url("t_acks", url, sizeof url);
    struct ll_delivery_conf conf;
    char spec[1300], err[512];
    snprintf(spec, sizeof spec, "%s#linger=0&retry_min=20ms&retry_max=200ms", url);
    assert_int_equal(ll_delivery_conf_parse(&conf, spec, err, sizeof err), LL_OK);
    ll_sink *s;
    assert_int_equal(ll_sink_delivery_open(&conf, &s, err, sizeof err), LL_OK);
    ll_test_pg_stop(&pg, true);
    struct ll_evidence ev = {{LL_STR("a.log"), 7}, 1, LL_STR("{\"x\":1}")};
    for (int i = 0; i < 10; i++) {
        struct ll_alert a = {.id = 0x1000u + (uint64_t)i, .rule = LL_STR("r"),
                             .symptom = LL_STR("econnreset"), .playbook = LL_STR("2.2"),
                             .severity = LL_STR("error"), .title = LL_STR("t"),
                             .summary = LL_STR("s"), .service = LL_STR("svc"),
                             .remediation = LL_STR("fix"), .first_ns = LL_NS_PER_SEC,
                             .last_ns = LL_NS_PER_SEC, .count = 1, .evidence = &ev,
                             .n_evidence = 1};
        assert_int_equal(ll_sink_alert(s, &a), LL_OK);
    }
    sleep_ms(500);
    assert_int_equal(ll_sink_acked(s), 0);
    assert_int_equal(ll_test_pg_restart(&pg), 0);
    assert_int_equal(ll_sink_drain(s, NULL), LL_OK);
    assert_int_equal(ll_sink_acked(s), 10);
    assert_int_equal(pg_count("t_acks", "SELECT count(*) FROM logloom.alerts"), 10);
    struct ll_delivery_report rep;
    ll_sink_report(s, &rep);
    assert_int_equal(rep.delivered, 10);
    assert_true(rep.outages >= 1);
    ll_sink_destroy(s);
    ll_delivery_conf_free(&conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_starts_create_the_schema_once_and_reruns_change_nothing),
        cmocka_unit_test(incident_into_both_sinks_twice_matches_the_terminal_output),
        cmocka_unit_test(postgres_crash_mid_run_loses_and_duplicates_nothing),
        cmocka_unit_test(redis_killed_mid_run_loses_and_duplicates_nothing),
        cmocka_unit_test(a_hung_redis_pauses_the_input_until_it_answers),
        cmocka_unit_test(hostile_log_text_is_stored_verbatim),
        cmocka_unit_test(redis_over_tcp_writes_to_the_database_it_names),
        cmocka_unit_test(wrong_passwords_stop_the_run_without_showing_them),
        cmocka_unit_test(deadlocks_retry_and_bad_data_is_rejected_alone),
        cmocka_unit_test(acknowledgements_wait_until_the_rows_are_committed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
