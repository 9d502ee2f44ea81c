/* Throwaway PostgreSQL and Redis servers for integration tests: real server
 * binaries in temp directories, reachable only through unix sockets (Redis
 * optionally also on 127.0.0.1), so tests need no network and no system-wide
 * service.
 *
 * The servers run as children of the test process and get a parent-death
 * signal, so a test that crashes or is killed by ctest's timeout takes them
 * along; only its temp directory stays behind. That signal follows the
 * thread that started the server, so start servers from the test's main
 * thread (or one that outlives them). As root, PostgreSQL runs as
 * the `postgres` user (it refuses to run as root) and its directory belongs
 * to that user.
 *
 * Errors are reported as -1 (or NULL) with a message on stderr, so a test
 * can assert on the result and find the reason in ctest's output. The
 * structs are caller-allocated; start fills them in, destroy releases
 * everything they refer to. Nothing is registered globally (no signal
 * handlers, no atexit): a test that kills a server and then writes to it
 * must ignore SIGPIPE itself. */
#ifndef LOGLOOM_TEST_SERVERS_H
#define LOGLOOM_TEST_SERVERS_H

#include <stdbool.h>
#include <sys/types.h>

/* PostgreSQL: a throwaway cluster in a temp dir, on a unix socket. */
struct ll_test_pg {
    char dir[512];       /* temp dir holding data/ and the socket */
    char bindir[256];    /* server binaries */
    /* the socket file is <dir>/.s.PGSQL.<port>; pick a free number, e.g. 50000 + pid % 10000 */
    int port;
    /* superuser, trust: "host=<dir> port=<port> dbname=postgres user=postgres" */
    char conninfo[1024];
    /* role "logloom" with password "right-password" (scram-sha-256), database "logloom" owned by
     * it: "host=<dir> port=<port> dbname=logloom user=logloom password=right-password" */
    char user_conninfo[1024];
};

/* initdb + start (waits until it accepts connections), creates role/db logloom.
 * pg_hba: local postgres trust; local all all scram-sha-256. Settings: max_connections=20,
 * fsync=off is NOT allowed (keep defaults for durability), log to a file in dir. Returns 0, or
 * -1 with a message on stderr.
 *
 * The binaries are found with `pg_config --bindir` (PATH). The temp dir is
 * made under $TMPDIR, or /tmp when the socket path would not fit a unix
 * socket address or, as root, the postgres user cannot reach $TMPDIR. The
 * server log is <dir>/postgres.log, initdb's <dir>/initdb.log. On failure
 * nothing is left behind and ll_test_pg_destroy() is a no-op. */
int ll_test_pg_start(struct ll_test_pg *pg);

/* Stop: fast (-m fast) or crash-like (-m immediate).
 * Fast ends sessions and writes a checkpoint; immediate skips both, so the
 * next start runs crash recovery from the WAL. Waits until the server has
 * exited; does nothing if it is not running. */
void ll_test_pg_stop(struct ll_test_pg *pg, bool immediate);

/* SIGKILL the postmaster and every server process at once, as the OOM
 * killer or a power cut would: no shutdown, no checkpoint, sessions cut
 * mid-transaction. Returns once none of them runs any more; the next
 * ll_test_pg_restart() runs crash recovery from the WAL. Does nothing if
 * it is not running. */
void ll_test_pg_kill(struct ll_test_pg *pg);

/* Start again on the same data (after a stop or a kill). 0 or -1.
 * Waits until it accepts connections (after crash recovery, if any). On
 * failure the data stays; ll_test_pg_destroy() still cleans up. */
int ll_test_pg_restart(struct ll_test_pg *pg);

/* Stop if running and remove the temp dir.
 * Accepts NULL and a struct whose start failed; afterwards @p pg is empty. */
void ll_test_pg_destroy(struct ll_test_pg *pg);

/* Runs one SQL statement as superuser (own connection); returns the first column of the first
 * row as a long long (0 if no rows); -1 and a message on error.
 * A statement that returns no rows (DDL, INSERT without RETURNING) or an
 * SQL NULL gives 0; a value that is not an integer is an error. -1 is also
 * a possible value, so tests select values they know to be >= 0. */
long long ll_test_pg_int(const struct ll_test_pg *pg, const char *sql);

/* Same, returning the first value as malloc'd text (NULL on error or no rows).
 * An SQL NULL also gives NULL. The caller frees the result with free(). */
char *ll_test_pg_text(const struct ll_test_pg *pg, const char *sql);

/* Redis: redis-server on a unix socket (and optionally TCP on 127.0.0.1), with AOF persistence
 * (appendonly yes, appendfsync always) so data survives a kill -9 and restart. */
struct ll_test_redis {
    char dir[512];    /* temp dir: socket, AOF, log */
    char sock[600];   /* unix socket path */
    int tcp_port;     /* 0: no TCP; else the port it listens on at 127.0.0.1 */
    pid_t pid;
    char password[64];/* "" for none (requirepass) */
    char url[800];    /* "unix://<sock>" (no password in it) */
};

/* Starts it; @p password NULL for none; @p tcp true also listens on a free 127.0.0.1 port. Waits
 * until PING answers. 0 or -1.
 *
 * redis-server is found on PATH. The temp dir is made under $TMPDIR (or
 * /tmp); when <dir>/redis.sock would be too long for a unix socket address,
 * the socket goes into a short directory of its own under /tmp, which
 * destroy removes too. The server log is <dir>/redis.log. On failure
 * nothing is left behind and ll_test_redis_destroy() is a no-op. */
int ll_test_redis_start(struct ll_test_redis *r, const char *password, bool tcp);

/* SIGKILL and reap.
 * Works on a paused server too; does nothing if it is not running. */
void ll_test_redis_kill(struct ll_test_redis *r);

/* SIGSTOP / SIGCONT (a hung server).
 * Returns once the server has stopped or continued: while paused it still
 * accepts connections (the kernel queues them) but never answers. */
void ll_test_redis_pause(struct ll_test_redis *r, bool paused);

/* Start again with the same dir/socket/port/password (AOF reloaded, after
 * redis-check-aof --fix mends a tail a kill cut). 0 or -1.
 * Waits until PING answers, i.e. until the AOF is loaded. */
int ll_test_redis_restart(struct ll_test_redis *r);

/* Kill if running and remove the temp dir.
 * Accepts NULL and a struct whose start failed; afterwards @p r is empty. */
void ll_test_redis_destroy(struct ll_test_redis *r);

/* Runs one command (argv style, via hiredis over the unix socket, AUTH first if a password is
 * set); returns an integer reply, the length of an array reply, or -1 on error.
 * Status, string and nil replies give 0. Connecting and the reply each time
 * out after 5 s, so a paused server gives -1 instead of a hung test. */
long long ll_test_redis_int(const struct ll_test_redis *r, int argc, const char **argv);

#endif
