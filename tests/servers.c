/* Throwaway PostgreSQL and Redis servers for integration tests (servers.h).
 *
 * Servers are forked children rather than daemons (no pg_ctl, redis with
 * --daemonize no): the parent-death signal then stops them when the test
 * process dies, and stopping one is a signal plus waitpid(). */
#include "servers.h"

#include "logloom/core.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* sockaddr_un.sun_path holds 108 bytes on Linux; stay clear of the limit. */
#define SOCK_PATH_MAX 100
/* Generous: crash recovery or an AOF reload on a slow CI machine. */
#define START_TIMEOUT_MS 30000
#define POLL_MS 10
/* Fallback when $TMPDIR is unset or unsuitable for a socket. */
#define DEFAULT_TMP "/tmp"

/* Who a child runs as: the caller, or (as root) the postgres user. */
struct identity {
    bool switch_user;
    uid_t uid;
    gid_t gid;
};

/* ------------------------------------------------------------------------ */
/* Processes, files and time                                                 */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* snprintf() that reports truncation: a cut path would point elsewhere. */
__attribute__((format(printf, 3, 4))) static bool fmt(char *buf, size_t size,
                                                      const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(buf, size, format, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "servers: path or argument too long: %s\n", buf);
        return false;
    }
    return true;
}

/* Copies the last few KB of a server's log to stderr, where ctest shows
 * them next to the failure. */
static void print_log(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    char buf[4096];
    if (fseek(fp, 0, SEEK_END) == 0 && ftell(fp) > (long)sizeof buf - 1)
        fseek(fp, -(long)sizeof buf + 1, SEEK_END);
    else
        rewind(fp);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    fprintf(stderr, "--- %s (end) ---\n%s--- end of %s ---\n", path, buf, path);
}

/* Forks and runs argv[0] (searched on PATH) in @p cwd as @p as, with stdin
 * from /dev/null and stdout and stderr appended to @p log. The child gets
 * @p death_sig when the test process dies, and none of the test's
 * descriptors (a server holding a test's client socket would keep that
 * connection open). Returns the pid, or -1 with a message. */
static pid_t spawn(const char *const *argv, const char *cwd, const char *log,
                   const struct identity *as, int death_sig)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        fprintf(stderr, "servers: fork: %s\n", strerror(errno));
    if (pid != 0)
        return pid;
    /* Changing credentials clears the parent-death signal, so switch first. */
    if (as->switch_user &&
        (setgroups(1, &as->gid) != 0 || setgid(as->gid) != 0 || setuid(as->uid) != 0))
        _exit(126);
    if (prctl(PR_SET_PDEATHSIG, death_sig) != 0 || getppid() != parent)
        _exit(126);
    int in = open("/dev/null", O_RDONLY);
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(126);
    close_range(3, ~0U, 0);
    if (chdir(cwd) != 0)
        dprintf(2, "cannot enter %s: %s\n", cwd, strerror(errno));
    else
        execvp(argv[0], (char *const *)argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Waits for @p pid to exit; returns its wait status. */
static int reap(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return st;
}

static bool has_exited(pid_t pid)
{
    int st;
    return waitpid(pid, &st, WNOHANG) == pid;
}

/* Runs a command to completion (see spawn()); returns 0 if it exited 0,
 * else -1 after copying its log to stderr. */
static int run(const char *const *argv, const char *cwd, const char *log,
               const struct identity *as)
{
    pid_t pid = spawn(argv, cwd, log, as, SIGKILL);
    if (pid < 0)
        return -1;
    int st = reap(pid);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    fprintf(stderr, "servers: %s failed (wait status %#x)\n", argv[0], st);
    print_log(log);
    return -1;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        fprintf(stderr, "servers: cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

static void remove_tree(const char *dir)
{
    if (dir[0] && nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        fprintf(stderr, "servers: cannot remove %s: %s\n", dir, strerror(errno));
}

static const char *tmp_base(void)
{
    const char *base = getenv("TMPDIR");
    return base && base[0] ? base : DEFAULT_TMP;
}

/* mkdtemp() of <base>/<name>-XXXXXX into @p out; 0 or -1 with a message. */
static int make_dir(char *out, size_t size, const char *base, const char *name)
{
    if (!fmt(out, size, "%s/%s-XXXXXX", base, name))
        return -1;
    if (mkdtemp(out))
        return 0;
    fprintf(stderr, "servers: cannot create %s: %s\n", out, strerror(errno));
    out[0] = '\0';
    return -1;
}

/* ------------------------------------------------------------------------ */
/* PostgreSQL                                                                */

/* initdb and postgres refuse to run as root; as root they run as the user
 * Debian's postgresql package creates. */
static int pg_identity(struct identity *as)
{
    *as = (struct identity){0};
    if (geteuid() != 0)
        return 0;
    struct passwd *pw = getpwnam("postgres");
    if (!pw) {
        fprintf(stderr, "servers: running as root, but there is no postgres user to run "
                        "PostgreSQL as (install the postgresql package)\n");
        return -1;
    }
    *as = (struct identity){true, pw->pw_uid, pw->pw_gid};
    return 0;
}

/* Whether @p as may enter every directory on @p path. */
static bool reachable(const char *path, const struct identity *as)
{
    char buf[512];
    if (!fmt(buf, sizeof buf, "%s", path))
        return false;
    for (;;) {
        struct stat st;
        if (stat(buf, &st) != 0)
            return false;
        mode_t need = st.st_uid == as->uid   ? S_IXUSR
                      : st.st_gid == as->gid ? S_IXGRP
                                             : S_IXOTH;
        if (!(st.st_mode & need))
            return false;
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf)
            return true;
        *slash = '\0';
    }
}

/* The cluster's dir holds its socket and appears unquoted in conninfo, so
 * $TMPDIR only serves when it is short, plain and reachable by the server's
 * user. */
static const char *pg_base(const struct identity *as)
{
    const char *base = tmp_base();
    size_t len = strlen(base) + strlen("/logloom-pg-XXXXXX/.s.PGSQL.65535");
    if (len < SOCK_PATH_MAX && !strpbrk(base, " \t\n'\\") &&
        (!as->switch_user || reachable(base, as)))
        return base;
    return DEFAULT_TMP;
}

/* Asks pg_config where the server binaries are (Debian keeps them off PATH). */
static int pg_find_bindir(struct ll_test_pg *pg)
{
    char out[600], postgres[300];
    const char *argv[] = {"pg_config", "--bindir", NULL};
    const struct identity self = {0};
    if (!fmt(out, sizeof out, "%s/pg_config.out", pg->dir) ||
        run(argv, pg->dir, out, &self) != 0)
        return -1;
    FILE *fp = fopen(out, "r");
    bool got = fp && fgets(pg->bindir, sizeof pg->bindir, fp);
    if (fp)
        fclose(fp);
    unlink(out);
    pg->bindir[got ? strcspn(pg->bindir, "\n") : 0] = '\0';
    if (!fmt(postgres, sizeof postgres, "%s/postgres", pg->bindir))
        return -1;
    if (access(postgres, X_OK) == 0)
        return 0;
    fprintf(stderr, "servers: no PostgreSQL server at `pg_config --bindir` (%s); "
                    "install the postgresql package\n", pg->bindir);
    return -1;
}

static int pg_initdb(const struct ll_test_pg *pg, const struct identity *as)
{
    char initdb[300], data[600], log[600], hba[600];
    if (!fmt(initdb, sizeof initdb, "%s/initdb", pg->bindir) ||
        !fmt(data, sizeof data, "%s/data", pg->dir) ||
        !fmt(log, sizeof log, "%s/initdb.log", pg->dir) ||
        !fmt(hba, sizeof hba, "%s/pg_hba.conf", data))
        return -1;
    /* The superuser is "postgres" whoever runs the test; trust only until
     * pg_hba.conf is replaced below. */
    const char *argv[] = {initdb, "-D", data, "-U", "postgres", "-E", "UTF8",
                          "--locale=C", "-A", "trust", NULL};
    if (run(argv, pg->dir, log, as) != 0)
        return -1;
    FILE *fp = fopen(hba, "w"); /* truncates: the file keeps its owner */
    if (!fp || fputs("local all postgres trust\n"
                     "local all all scram-sha-256\n", fp) < 0 || fclose(fp) != 0) {
        fprintf(stderr, "servers: cannot write %s: %s\n", hba, strerror(errno));
        return -1;
    }
    return 0;
}

/* The postmaster's pid from its lock file, if it is still alive; else 0. */
static pid_t pg_pid(const struct ll_test_pg *pg)
{
    char path[600];
    if (!pg->dir[0] || !fmt(path, sizeof path, "%s/data/postmaster.pid", pg->dir))
        return 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    long pid = 0;
    if (fscanf(fp, "%ld", &pid) != 1)
        pid = 0;
    fclose(fp);
    return pid > 0 && kill((pid_t)pid, 0) == 0 ? (pid_t)pid : 0;
}

/* Starts postgres on the existing cluster and waits until it accepts
 * connections. Settings go on the command line, so no path needs quoting in
 * postgresql.conf. */
static int pg_launch(struct ll_test_pg *pg)
{
    struct identity as;
    char postgres[300], data[600], log[600], port[16];
    if (pg_identity(&as) != 0 || !fmt(postgres, sizeof postgres, "%s/postgres", pg->bindir) ||
        !fmt(data, sizeof data, "%s/data", pg->dir) ||
        !fmt(log, sizeof log, "%s/postgres.log", pg->dir) ||
        !fmt(port, sizeof port, "%d", pg->port))
        return -1;
    const char *argv[] = {postgres, "-D", data, "-k", pg->dir, "-p", port,
                          "-c", "listen_addresses=", "-c", "max_connections=20", NULL};
    /* SIGQUIT is an immediate shutdown: the postmaster takes its backends along. */
    pid_t pid = spawn(argv, pg->dir, log, &as, SIGQUIT);
    if (pid < 0)
        return -1;
    for (long long deadline = now_ms() + START_TIMEOUT_MS; now_ms() < deadline;) {
        if (PQping(pg->conninfo) == PQPING_OK)
            return 0;
        if (has_exited(pid)) {
            fprintf(stderr, "servers: postgres exited during startup\n");
            print_log(log);
            return -1;
        }
        wait_ms(POLL_MS);
    }
    fprintf(stderr, "servers: postgres did not accept connections within %d ms\n",
            START_TIMEOUT_MS);
    kill(pid, SIGQUIT);
    reap(pid);
    print_log(log);
    return -1;
}

int ll_test_pg_start(struct ll_test_pg *pg)
{
    struct identity as;
    *pg = (struct ll_test_pg){0};
    if (pg_identity(&as) != 0 || make_dir(pg->dir, sizeof pg->dir, pg_base(&as), "logloom-pg") != 0)
        return -1;
    if (as.switch_user && chown(pg->dir, as.uid, as.gid) != 0) {
        fprintf(stderr, "servers: cannot chown %s: %s\n", pg->dir, strerror(errno));
        goto fail;
    }
    /* The socket lives in the private dir, so the number only has to be
     * valid; varying it keeps logs of parallel tests apart. */
    pg->port = 50000 + getpid() % 10000;
    if (!fmt(pg->conninfo, sizeof pg->conninfo, "host=%s port=%d dbname=postgres user=postgres",
             pg->dir, pg->port) ||
        !fmt(pg->user_conninfo, sizeof pg->user_conninfo,
             "host=%s port=%d dbname=logloom user=logloom password=right-password", pg->dir,
             pg->port))
        goto fail;
    if (pg_find_bindir(pg) != 0 || pg_initdb(pg, &as) != 0 || pg_launch(pg) != 0)
        goto fail;
    if (ll_test_pg_int(pg, "SET password_encryption = 'scram-sha-256';"
                           "CREATE ROLE logloom LOGIN PASSWORD 'right-password'") < 0 ||
        ll_test_pg_int(pg, "CREATE DATABASE logloom OWNER logloom") < 0)
        goto fail;
    return 0;
fail:
    ll_test_pg_destroy(pg);
    return -1;
}

void ll_test_pg_stop(struct ll_test_pg *pg, bool immediate)
{
    pid_t pid = pg_pid(pg);
    if (pid == 0)
        return;
    /* What pg_ctl stop -m fast / -m immediate send. */
    kill(pid, immediate ? SIGQUIT : SIGINT);
    reap(pid);
}

/* Reads the parent pid and the state of @p pid from /proc; false if it
 * is gone. */
static bool proc_stat(pid_t pid, pid_t *ppid, char *state)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
    const char *close = strrchr(buf, ')');
    int parent;
    if (!close || sscanf(close + 1, " %c %d", state, &parent) != 2)
        return false;
    *ppid = (pid_t)parent;
    return true;
}

/* The processes whose parent is @p parent, at most @p max of them. */
static size_t children_of(pid_t parent, pid_t *out, size_t max)
{
    DIR *d = opendir("/proc");
    size_t n = 0;
    struct dirent *de;
    while (d && n < max && (de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        pid_t ppid;
        char state;
        if (*end || pid <= 0 || !proc_stat((pid_t)pid, &ppid, &state) || ppid != parent)
            continue;
        out[n++] = (pid_t)pid;
    }
    if (d)
        closedir(d);
    return n;
}

void ll_test_pg_kill(struct ll_test_pg *pg)
{
    pid_t pid = pg_pid(pg);
    if (pid == 0)
        return;
    /* Stopped, the postmaster starts no backend while its children are
     * listed; then all of them die at once. */
    kill(pid, SIGSTOP);
    pid_t kids[256];
    size_t n = children_of(pid, kids, sizeof kids / sizeof kids[0]);
    for (size_t i = 0; i < n; i++)
        kill(kids[i], SIGKILL);
    kill(pid, SIGKILL);
    reap(pid);
    /* The backends were the postmaster's children, not ours: wait until
     * each is gone or a zombie (which holds no shared memory). */
    for (size_t i = 0; i < n; i++) {
        pid_t ppid;
        char state;
        for (long long deadline = now_ms() + START_TIMEOUT_MS;
             proc_stat(kids[i], &ppid, &state) && state != 'Z' && now_ms() < deadline;)
            wait_ms(POLL_MS);
    }
}

int ll_test_pg_restart(struct ll_test_pg *pg)
{
    if (pg_pid(pg) != 0) {
        fprintf(stderr, "servers: postgres in %s is still running\n", pg->dir);
        return -1;
    }
    return pg_launch(pg);
}

void ll_test_pg_destroy(struct ll_test_pg *pg)
{
    if (!pg)
        return;
    ll_test_pg_stop(pg, false);
    remove_tree(pg->dir);
    *pg = (struct ll_test_pg){0};
}

/* Runs @p sql on a connection of its own; the result (to PQclear()) if it
 * succeeded, else NULL with a message. */
static PGresult *pg_query(const struct ll_test_pg *pg, const char *sql)
{
    PGconn *conn = PQconnectdb(pg->conninfo);
    PGresult *res = NULL;
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "servers: cannot connect to %s: %s", pg->conninfo, PQerrorMessage(conn));
    } else {
        res = PQexec(conn, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            fprintf(stderr, "servers: %s: %s", sql, PQresultErrorMessage(res));
            PQclear(res);
            res = NULL;
        }
    }
    PQfinish(conn);
    return res;
}

static bool has_value(const PGresult *res)
{
    return PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0);
}

long long ll_test_pg_int(const struct ll_test_pg *pg, const char *sql)
{
    PGresult *res = pg_query(pg, sql);
    if (!res)
        return -1;
    long long v = 0;
    if (has_value(res)) {
        const char *text = PQgetvalue(res, 0, 0);
        char *end;
        errno = 0;
        v = strtoll(text, &end, 10);
        if (errno != 0 || end == text || *end) {
            fprintf(stderr, "servers: %s: \"%s\" is not an integer\n", sql, text);
            v = -1;
        }
    }
    PQclear(res);
    return v;
}

char *ll_test_pg_text(const struct ll_test_pg *pg, const char *sql)
{
    PGresult *res = pg_query(pg, sql);
    if (!res)
        return NULL;
    char *text = has_value(res) ? ll_strdup(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return text;
}

/* ------------------------------------------------------------------------ */
/* Redis                                                                     */

/* A port that was free on 127.0.0.1 a moment ago (the kernel's choice);
 * 0 with a message if there is none. */
static int free_tcp_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int port = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    else
        fprintf(stderr, "servers: no free TCP port on 127.0.0.1: %s\n", strerror(errno));
    if (fd >= 0)
        close(fd);
    return port;
}

/* Connects over the unix socket with @p timeout_ms for connecting and for
 * each reply, and authenticates. NULL on failure, with a message unless
 * @p quiet (while polling a starting server). */
static redisContext *redis_connect(const struct ll_test_redis *r, long timeout_ms, bool quiet)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectUnixWithTimeout(r->sock, tv);
    if (!c || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        if (!quiet)
            fprintf(stderr, "servers: cannot connect to %s: %s\n", r->url,
                    c ? c->errstr : "out of memory");
        goto fail;
    }
    if (r->password[0]) {
        redisReply *reply = redisCommand(c, "AUTH %s", r->password);
        bool ok = reply && reply->type == REDIS_REPLY_STATUS;
        if (!ok && !quiet)
            fprintf(stderr, "servers: AUTH on %s failed: %s\n", r->url,
                    reply ? reply->str : c->errstr);
        freeReplyObject(reply);
        if (!ok)
            goto fail;
    }
    return c;
fail:
    redisFree(c);
    return NULL;
}

/* Whether the server answers PING with PONG: after AUTH, and after the AOF
 * is loaded (until then PING gets -LOADING). */
static bool redis_ready(const struct ll_test_redis *r)
{
    redisContext *c = redis_connect(r, 1000, true);
    if (!c)
        return false;
    redisReply *reply = redisCommand(c, "PING");
    bool ok = reply && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0;
    freeReplyObject(reply);
    redisFree(c);
    return ok;
}

/* Starts redis-server on r's dir, socket, port and password and waits until
 * it is ready; on failure r->pid stays 0. */
static int redis_launch(struct ll_test_redis *r)
{
    char port[16], log[600];
    if (!fmt(port, sizeof port, "%d", r->tcp_port) ||
        !fmt(log, sizeof log, "%s/redis.log", r->dir))
        return -1;
    /* No RDB snapshots: the AOF alone must carry the data across a kill. */
    const char *argv[24] = {"redis-server", "--daemonize", "no", "--port", port,
                            "--unixsocket", r->sock, "--dir", r->dir,
                            "--appendonly", "yes", "--appendfsync", "always", "--save", ""};
    size_t n = 15;
    if (r->tcp_port) {
        argv[n++] = "--bind";
        argv[n++] = "127.0.0.1";
    }
    if (r->password[0]) {
        argv[n++] = "--requirepass";
        argv[n++] = r->password;
    }
    argv[n] = NULL;
    const struct identity self = {0};
    pid_t pid = spawn(argv, r->dir, log, &self, SIGKILL);
    if (pid < 0)
        return -1;
    for (long long deadline = now_ms() + START_TIMEOUT_MS; now_ms() < deadline;) {
        if (redis_ready(r)) {
            r->pid = pid;
            return 0;
        }
        if (has_exited(pid)) {
            fprintf(stderr, "servers: redis-server exited during startup\n");
            print_log(log);
            return -1;
        }
        wait_ms(POLL_MS);
    }
    fprintf(stderr, "servers: redis-server did not answer PING within %d ms\n",
            START_TIMEOUT_MS);
    kill(pid, SIGKILL);
    reap(pid);
    print_log(log);
    return -1;
}

/* The socket path: in the dir if it fits a socket address, else in a short
 * dir of its own. */
static int redis_sock_path(struct ll_test_redis *r)
{
    char short_dir[64];
    if (strlen(r->dir) + strlen("/redis.sock") < SOCK_PATH_MAX)
        return fmt(r->sock, sizeof r->sock, "%s/redis.sock", r->dir) ? 0 : -1;
    if (make_dir(short_dir, sizeof short_dir, DEFAULT_TMP, "lls") != 0)
        return -1;
    return fmt(r->sock, sizeof r->sock, "%s/redis.sock", short_dir) ? 0 : -1;
}

int ll_test_redis_start(struct ll_test_redis *r, const char *password, bool tcp)
{
    *r = (struct ll_test_redis){0};
    if (!fmt(r->password, sizeof r->password, "%s", password ? password : "") ||
        make_dir(r->dir, sizeof r->dir, tmp_base(), "logloom-redis") != 0)
        return -1;
    if (redis_sock_path(r) != 0 || !fmt(r->url, sizeof r->url, "unix://%s", r->sock))
        goto fail;
    /* Another process may take the free port before redis binds it: retry. */
    for (int attempt = 0; attempt < (tcp ? 3 : 1); attempt++) {
        if (tcp && (r->tcp_port = free_tcp_port()) == 0)
            goto fail;
        if (redis_launch(r) == 0)
            return 0;
    }
fail:
    ll_test_redis_destroy(r);
    return -1;
}

void ll_test_redis_kill(struct ll_test_redis *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGKILL);
    reap(r->pid);
    r->pid = 0;
}

void ll_test_redis_pause(struct ll_test_redis *r, bool paused)
{
    if (r->pid <= 0)
        return;
    int st;
    kill(r->pid, paused ? SIGSTOP : SIGCONT);
    while (waitpid(r->pid, &st, paused ? WUNTRACED : WCONTINUED) < 0 && errno == EINTR)
        ;
}

/* Redis 7.0 (Debian 12's) loads an AOF that a kill cut inside a MULTI
 * block (a script's effects) by truncating it after the block's last whole
 * command: those commands stay in the file and run with the next block on
 * the load after (a record appended twice, and an exact MAXLEN then trims
 * the stream's head). redis-check-aof --fix cuts before the MULTI: run as
 * an operator runs it after a crash, before the server starts. */
static int redis_fix_aof(const struct ll_test_redis *r)
{
    char manifest[600], cmd[1400];
    if (!fmt(manifest, sizeof manifest, "%s/appendonlydir/appendonly.aof.manifest", r->dir) ||
        !fmt(cmd, sizeof cmd, "redis-check-aof --fix '%s' >> '%s/redis.log' 2>&1", manifest,
             r->dir))
        return -1;
    if (access(manifest, F_OK) != 0)
        return 0;
    FILE *p = popen(cmd, "w");
    if (!p) {
        fprintf(stderr, "servers: cannot run redis-check-aof: %s\n", strerror(errno));
        return -1;
    }
    fputs("y\n", p); /* its "Continue? [y/N]" */
    int st = pclose(p);
    if (st != 0)
        fprintf(stderr, "servers: redis-check-aof --fix %s failed (status %d)\n", manifest, st);
    return st == 0 ? 0 : -1;
}

int ll_test_redis_restart(struct ll_test_redis *r)
{
    if (r->pid > 0) {
        fprintf(stderr, "servers: redis-server %d is still running\n", (int)r->pid);
        return -1;
    }
    return redis_fix_aof(r) == 0 ? redis_launch(r) : -1;
}

void ll_test_redis_destroy(struct ll_test_redis *r)
{
    if (!r)
        return;
    ll_test_redis_kill(r);
    /* A socket outside the dir has a short dir of its own. */
    if (r->sock[0] && strncmp(r->sock, r->dir, strlen(r->dir)) != 0) {
        char *slash = strrchr(r->sock, '/');
        *slash = '\0';
        remove_tree(r->sock);
    }
    remove_tree(r->dir);
    *r = (struct ll_test_redis){0};
}

long long ll_test_redis_int(const struct ll_test_redis *r, int argc, const char **argv)
{
    redisContext *c = redis_connect(r, 5000, false);
    if (!c)
        return -1;
    redisReply *reply = redisCommandArgv(c, argc, argv, NULL);
    long long v = 0;
    if (!reply) {
        fprintf(stderr, "servers: %s on %s: %s\n", argv[0], r->url, c->errstr);
        v = -1;
    } else if (reply->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "servers: %s on %s: %s\n", argv[0], r->url, reply->str);
        v = -1;
    } else if (reply->type == REDIS_REPLY_INTEGER) {
        v = reply->integer;
    } else if (reply->type == REDIS_REPLY_ARRAY) {
        v = (long long)reply->elements;
    }
    freeReplyObject(reply);
    redisFree(c);
    return v;
}
