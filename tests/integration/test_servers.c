/* The throwaway servers of servers.h are real and behave as the sink tests
 * will need: PostgreSQL keeps committed rows across a crash and checks
 * passwords; Redis keeps its AOF across kill -9, hangs while paused and
 * answers on TCP; sockets stay short when $TMPDIR is long; destroy leaves
 * nothing behind. */
#include "../testutil.h"

#include "servers.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/time.h>
#include <time.h>

static int pg_setup(void **state)
{
    *state = calloc(1, sizeof(struct ll_test_pg));
    return *state ? 0 : -1;
}

/* Cleans up after a failed assertion too; a no-op after destroy. */
static int pg_teardown(void **state)
{
    ll_test_pg_destroy(*state);
    free(*state);
    return 0;
}

static int redis_setup(void **state)
{
    *state = calloc(1, sizeof(struct ll_test_redis));
    return *state ? 0 : -1;
}

static int redis_teardown(void **state)
{
    ll_test_redis_destroy(*state);
    free(*state);
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static long long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void pg_keeps_committed_rows_across_a_crash_and_checks_passwords(void **state)
{
    struct ll_test_pg *pg = *state;
    assert_int_equal(ll_test_pg_start(pg), 0);
    char dir[sizeof pg->dir], sock[600], log[600];
    snprintf(dir, sizeof dir, "%s", pg->dir);
    snprintf(sock, sizeof sock, "%s/.s.PGSQL.%d", pg->dir, pg->port);
    snprintf(log, sizeof log, "%s/postgres.log", pg->dir);
    assert_true(exists(sock));
    assert_int_equal(ll_test_pg_int(pg, "SELECT 1"), 1);

    /* Durable settings, no TCP. */
    char *v = ll_test_pg_text(pg, "SHOW fsync");
    assert_string_equal(v, "on");
    free(v);
    v = ll_test_pg_text(pg, "SHOW listen_addresses");
    assert_string_equal(v, "");
    free(v);
    assert_int_equal(ll_test_pg_int(pg, "SHOW max_connections"), 20);

    assert_int_equal(ll_test_pg_int(pg, "CREATE TABLE t (id int)"), 0);
    assert_int_equal(ll_test_pg_int(pg, "INSERT INTO t VALUES (1), (2), (3)"), 0);
    ll_test_pg_stop(pg, true);
    assert_int_equal(PQping(pg->conninfo), PQPING_NO_RESPONSE);
    assert_int_equal(ll_test_pg_restart(pg), 0);
    assert_int_equal(ll_test_pg_int(pg, "SELECT count(*) FROM t"), 3);
    /* Immediate really was a crash: the restart replayed the WAL. */
    char *text = read_file(log, NULL);
    assert_non_null(strstr(text, "automatic recovery in progress"));
    free(text);

    PGconn *conn = PQconnectdb(pg->user_conninfo);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(conn, "SELECT current_user || '@' || current_database()");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "logloom@logloom");
    PQclear(res);
    /* The role owns its database: it may create tables there. */
    res = PQexec(conn, "CREATE TABLE events (id bigint)");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(conn);
    v = ll_test_pg_text(pg, "SELECT left(rolpassword, 14) FROM pg_authid"
                            " WHERE rolname = 'logloom'");
    assert_string_equal(v, "SCRAM-SHA-256$");
    free(v);

    char wrong[1100];
    snprintf(wrong, sizeof wrong, "host=%s port=%d dbname=logloom user=logloom password=wrong",
             pg->dir, pg->port);
    conn = PQconnectdb(wrong);
    assert_int_equal(PQstatus(conn), CONNECTION_BAD);
    assert_non_null(strstr(PQerrorMessage(conn), "password authentication failed"));
    PQfinish(conn);

    ll_test_pg_destroy(pg);
    assert_false(exists(dir));
    assert_int_equal(pg->dir[0], '\0');
}

static void redis_keeps_aof_across_kill_and_hangs_while_paused(void **state)
{
    struct ll_test_redis *r = *state;
    assert_int_equal(ll_test_redis_start(r, "s3cret", true), 0);
    char dir[sizeof r->dir];
    snprintf(dir, sizeof dir, "%s", r->dir);
    assert_true(r->pid > 0);
    assert_true(r->tcp_port > 0);
    assert_true(strlen(r->sock) < 100);
    assert_true(strncmp(r->url, "unix://", 7) == 0 && strcmp(r->url + 7, r->sock) == 0);

    /* The password is required... */
    redisContext *c = redisConnectUnix(r->sock);
    assert_true(c && !c->err);
    redisReply *reply = redisCommand(c, "PING");
    assert_non_null(reply);
    assert_int_equal(reply->type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(reply->str, "NOAUTH"));
    freeReplyObject(reply);
    redisFree(c);
    /* ...and the fixture sends it. */
    const char *set[] = {"SET", "k", "v"};
    assert_int_equal(ll_test_redis_int(r, 3, set), 0);
    const char *exists_k[] = {"EXISTS", "k"};
    assert_int_equal(ll_test_redis_int(r, 2, exists_k), 1);
    for (int i = 0; i < 5; i++) {
        const char *xadd[] = {"XADD", "events", "*", "n", "1"};
        assert_int_equal(ll_test_redis_int(r, 5, xadd), 0);
    }
    const char *xlen[] = {"XLEN", "events"};
    assert_int_equal(ll_test_redis_int(r, 2, xlen), 5);
    const char *xrange[] = {"XRANGE", "events", "-", "+"};
    assert_int_equal(ll_test_redis_int(r, 4, xrange), 5);

    ll_test_redis_kill(r);
    assert_int_equal(r->pid, 0);
    c = redisConnectUnix(r->sock);
    assert_true(c && c->err);
    redisFree(c);
    assert_int_equal(ll_test_redis_restart(r), 0);
    assert_int_equal(ll_test_redis_int(r, 2, xlen), 5);
    assert_int_equal(ll_test_redis_int(r, 2, exists_k), 1);

    /* Paused: connecting still works (the kernel queues it), replies never come. */
    ll_test_redis_pause(r, true);
    struct timeval tv = {0, 200000};
    c = redisConnectUnixWithTimeout(r->sock, tv);
    assert_true(c && !c->err);
    assert_int_equal(redisSetTimeout(c, tv), REDIS_OK);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    reply = redisCommand(c, "AUTH s3cret");
    long long waited = elapsed_ms(&t0);
    assert_null(reply);
    assert_int_equal(c->err, REDIS_ERR_IO);
    assert_in_range(waited, 150, 2000);
    redisFree(c);
    ll_test_redis_pause(r, false);
    assert_int_equal(ll_test_redis_int(r, 2, xlen), 5);

    tv = (struct timeval){2, 0};
    c = redisConnectWithTimeout("127.0.0.1", r->tcp_port, tv);
    assert_true(c && !c->err);
    reply = redisCommand(c, "AUTH s3cret");
    assert_true(reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject(reply);
    reply = redisCommand(c, "PING");
    assert_true(reply && reply->type == REDIS_REPLY_STATUS);
    assert_string_equal(reply->str, "PONG");
    freeReplyObject(reply);
    redisFree(c);

    ll_test_redis_destroy(r);
    assert_false(exists(dir));
    assert_int_equal(r->pid, 0);
}

/* A $TMPDIR too deep for socket addresses (108 bytes), set for one test. */
struct deep_tmp {
    char *base, *saved;
    char deep[400];
    struct ll_test_pg pg;
    struct ll_test_redis r;
};

static int deep_setup(void **state)
{
    struct deep_tmp *t = calloc(1, sizeof *t);
    const char *old = getenv("TMPDIR");
    t->saved = old ? strdup(old) : NULL;
    t->base = make_tmpdir();
    snprintf(t->deep, sizeof t->deep, "%s/%s", t->base,
             "a-directory-name-long-enough-to-push-every-socket-path-inside-it-past-the-limit-"
             "of-a-unix-socket-address");
    assert_int_equal(mkdir(t->deep, 0755), 0);
    setenv("TMPDIR", t->deep, 1);
    *state = t;
    return 0;
}

static int deep_teardown(void **state)
{
    struct deep_tmp *t = *state;
    ll_test_redis_destroy(&t->r);
    ll_test_pg_destroy(&t->pg);
    if (t->saved)
        setenv("TMPDIR", t->saved, 1);
    else
        unsetenv("TMPDIR");
    rm_tree(t->base);
    free(t->base);
    free(t->saved);
    free(t);
    return 0;
}

static void long_tmpdir_keeps_socket_paths_short(void **state)
{
    struct deep_tmp *t = *state;
    assert_int_equal(ll_test_redis_start(&t->r, NULL, false), 0);
    char dir[sizeof t->r.dir], sock_dir[sizeof t->r.sock];
    snprintf(dir, sizeof dir, "%s", t->r.dir);
    snprintf(sock_dir, sizeof sock_dir, "%s", t->r.sock);
    *strrchr(sock_dir, '/') = '\0';
    assert_true(strncmp(dir, t->deep, strlen(t->deep)) == 0);
    assert_true(strlen(t->r.sock) < 100);
    assert_string_not_equal(sock_dir, dir);
    const char *dbsize[] = {"DBSIZE"};
    assert_int_equal(ll_test_redis_int(&t->r, 1, dbsize), 0);
    const char *rpush[] = {"RPUSH", "l", "a", "b"};
    assert_int_equal(ll_test_redis_int(&t->r, 4, rpush), 2);

    assert_int_equal(ll_test_pg_start(&t->pg), 0);
    assert_true(strlen(t->pg.dir) + strlen("/.s.PGSQL.65535") < 100);
    assert_int_equal(ll_test_pg_int(&t->pg, "SELECT 2"), 2);

    ll_test_redis_destroy(&t->r);
    assert_false(exists(sock_dir));
    assert_false(exists(dir));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pg_keeps_committed_rows_across_a_crash_and_checks_passwords,
                                        pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(redis_keeps_aof_across_kill_and_hangs_while_paused,
                                        redis_setup, redis_teardown),
        cmocka_unit_test_setup_teardown(long_tmpdir_keeps_socket_paths_short, deep_setup,
                                        deep_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
