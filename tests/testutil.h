/* Small helpers shared by the cmocka tests: temp directories and files, and
 * running a program as a user would. */
#ifndef LOGLOOM_TESTUTIL_H
#define LOGLOOM_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

extern char **environ;

/* A fresh directory under $TMPDIR; the caller removes it with rm_tree(). */
static inline char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/logloom-test-XXXXXX", base ? base : "/tmp");
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return strdup(dir);
}

/* The next of a xorshift64 sequence at @p s (never 0): the tests' seeded
 * randomness. */
static inline uint64_t xorshift64(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* qsort() order of an array of C strings. */
static inline int cmp_strs(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* How many times @p needle occurs in @p hay, without overlaps (NULL: 0). */
static inline size_t count_in(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static inline void rm_tree(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Writes @p len bytes to dir/name and returns the path (caller frees). */
static inline char *write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    return path;
}

static inline char *write_text(const char *dir, const char *name, const char *text)
{
    return write_file(dir, name, text, strlen(text));
}

/* Writes @p len bytes gzip-compressed to dir/name. */
static inline char *write_gz(const char *dir, const char *name, const void *data, size_t len)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(gz), Z_OK);
    return path;
}

/* Reads a whole file into a NUL-terminated buffer (caller frees). */
static inline char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (cap - n < 2)
            buf = realloc(buf, cap *= 2);
    }
    fclose(fp);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Lines of log files, each a C string, in the order read. */
struct lines {
    char **v;
    size_t n;
};

static inline void add_line(struct lines *l, const char *s, size_t len)
{
    l->v = realloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = strndup(s, len);
}

static inline void add_file_lines(struct lines *l, const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    assert_non_null(text);
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n)
            add_line(l, p, n);
        p += n + 1;
    }
    free(text);
}

/* Every *.log under @p path, recursively, but in directories named in
 * @p skip (NULL-terminated; may be NULL). */
static inline size_t add_tree_skipping(struct lines *l, const char *path,
                                       const char *const *skip)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    size_t files = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "node_modules") == 0)
            continue;
        bool skipped = false;
        for (size_t i = 0; skip && skip[i] && !skipped; i++)
            skipped = strcmp(de->d_name, skip[i]) == 0;
        if (skipped)
            continue;
        char sub[4096];
        struct stat st;
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= sizeof sub ||
            stat(sub, &st) != 0)
            continue;
        size_t n = strlen(de->d_name);
        if (S_ISDIR(st.st_mode))
            files += add_tree_skipping(l, sub, skip);
        else if (n > 4 && strcmp(de->d_name + n - 4, ".log") == 0) {
            add_file_lines(l, sub);
            files++;
        }
    }
    closedir(d);
    return files;
}

/* Every *.log under @p path, recursively. */
static inline size_t add_tree(struct lines *l, const char *path)
{
    return add_tree_skipping(l, path, NULL);
}

static inline void lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* Starts argv[0] (NULL-terminated argv) with stdin from /dev/null and
 * stdout, stderr into @p out_path, @p err_path; returns its pid. */
static inline pid_t spawn_cmd(const char *const *argv, const char *out_path, const char *err_path)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        fail_msg("cannot run %s: %s", argv[0], strerror(rc));
    return pid;
}

/* Waits for @p pid, which must exit normally; returns its exit status.
 * If it did not, the end of its stderr, file @p err_path (NULL: none), is
 * printed first: what a sanitizer or an assertion said. */
static inline int wait_cmd_err(pid_t pid, const char *err_path)
{
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st)) {
        FILE *f = err_path ? fopen(err_path, "r") : NULL;
        if (f) {
            char tail[6001];
            long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : 0;
            fseek(f, size > 6000 ? size - 6000 : 0, SEEK_SET);
            size_t n = fread(tail, 1, sizeof tail - 1, f);
            tail[n] = '\0';
            fclose(f);
            print_error("the end of %s:\n%s\n", err_path, tail);
        }
        fail_msg("pid %d did not exit normally (status %#x)", (int)pid, st);
    }
    return WEXITSTATUS(st);
}

static inline int wait_cmd(pid_t pid)
{
    return wait_cmd_err(pid, NULL);
}

/* Runs argv[0] like spawn_cmd() with the outputs in files under @p dir;
 * returns the exit status and, where @p out or @p err are not NULL, the
 * outputs (caller frees). */
static inline int run_cmd(const char *const *argv, const char *dir, char **out, char **err)
{
    char out_path[1024], err_path[1024];
    snprintf(out_path, sizeof out_path, "%s/run.stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/run.stderr", dir);
    int status = wait_cmd(spawn_cmd(argv, out_path, err_path));
    if (out)
        *out = read_file(out_path, NULL);
    if (err)
        *err = read_file(err_path, NULL);
    return status;
}

/* Tests of the built executable: the sources become the working directory
 * (paths in logloom's output are relative to them), @p bin receives the
 * path of logloom and @p tmp a fresh directory, which the test removes with
 * rm_tree(). */
static inline void e2e_setup(char *bin, size_t bin_size, char *tmp, size_t tmp_size)
{
    const char *src = getenv("LL_SOURCE_DIR"), *build = getenv("LL_BINARY_DIR");
    assert_non_null(src);
    assert_non_null(build);
    assert_int_equal(chdir(src), 0);
    snprintf(bin, bin_size, "%s/logloom", build);
    char *t = make_tmpdir();
    snprintf(tmp, tmp_size, "%s", t);
    free(t);
}


#ifdef LL_E2E
/* Tests of the built executable (define LL_E2E before including this):
 * its path, and a scratch directory removed when the group ends. */
static char logloom[1024];
static char tmpdir[512];

static int e2e_group_setup(void **state)
{
    (void)state;
    e2e_setup(logloom, sizeof logloom, tmpdir, sizeof tmpdir);
    return 0;
}

static int e2e_group_teardown(void **state)
{
    (void)state;
    if (!getenv("LL_KEEP_TMP"))
        rm_tree(tmpdir);
    return 0;
}

/* A counter of sink number @p sink in the stats record of a JSON lines
 * output. */
static inline long long sink_stat(const char *out, int sink, const char *key)
{
    const char *p = strstr(out, "\"sinks\":[");
    assert_non_null(p);
    for (int i = 0; i <= sink; i++) {
        p = strstr(p + 1, "{\"name\":");
        assert_non_null(p);
    }
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *v = strstr(p, k);
    assert_non_null(v);
    return strtoll(v + strlen(k), NULL, 10);
}
#endif

#ifdef LL_E2E_DAEMONS
/* Tests that start `logloom run` (define LL_E2E_DAEMONS too): each daemon
 * started is remembered, and killed at the end should a failed test leave
 * it running. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

static pid_t started[32];
static int n_started;

/* A rule file: ECONNRESET, each alert closed 100 ms after its last match. */
#define RESET_RULE                                                                               \
    "rules:\n"                                                                                   \
    "  - id: reset\n"                                                                            \
    "    symptom: econnreset\n"                                                                  \
    "    severity: error\n"                                                                      \
    "    title: reset\n"                                                                         \
    "    remediation: r\n"                                                                       \
    "    when: {err.code: ECONNRESET}\n"                                                         \
    "    suppress: 100ms\n"                                                                      \
    "    examples: {match: ['{\"err\":{\"code\":\"ECONNRESET\"}}']}\n"

static inline void sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* @returns tmpdir/@p name (free it). */
static inline char *in_tmp(const char *name)
{
    char *p = malloc(strlen(tmpdir) + strlen(name) + 2);
    sprintf(p, "%s/%s", tmpdir, name);
    return p;
}

/* logloom with @p args (NULL-terminated); stdout and stderr in
 * tmpdir/@p name.out and .err. Killed at the end should a test fail. */
static inline pid_t start_logloom(const char *name, const char *const *args)
{
    const char *argv[32] = {logloom};
    size_t n = 1;
    for (; args[n - 1]; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    char out[700], err[700];
    snprintf(out, sizeof out, "%s/%s.out", tmpdir, name);
    snprintf(err, sizeof err, "%s/%s.err", tmpdir, name);
    pid_t pid = spawn_cmd(argv, out, err);
    if (n_started < (int)(sizeof started / sizeof *started))
        started[n_started++] = pid;
    return pid;
}

/* `logloom run -c @p config`, its outputs in tmpdir/@p name.out and .err. */
static inline pid_t start_run(const char *config, const char *name)
{
    const char *args[] = {"run", "-c", config, NULL};
    return start_logloom(name, args);
}

/* What the process started as @p name wrote on stderr (free it). */
static inline char *run_log(const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s.err", tmpdir, name);
    return read_file(path, NULL);
}

/* Fails unless that stderr holds @p want. */
static inline void assert_logged(const char *name, const char *want)
{
    char *log = run_log(name);
    if (!log || !strstr(log, want))
        fail_msg("no '%s' in %s's log:\n%s", want, name, log ? log : "");
    free(log);
}

/* Waits up to @p seconds for that stderr to hold @p want, then
 * assert_logged(). */
static inline void wait_logged(const char *name, const char *want, int seconds)
{
    for (int i = 0; i < seconds * 20; i++) {
        char *log = run_log(name);
        bool there = log && strstr(log, want);
        free(log);
        if (there)
            break;
        sleep_ms(50);
    }
    assert_logged(name, want);
}

static inline void kill_started(void)
{
    for (int i = 0; i < n_started; i++)
        if (waitpid(started[i], NULL, WNOHANG) == 0) { /* still ours, still running */
            kill(started[i], SIGKILL);
            waitpid(started[i], NULL, 0);
        }
}

/* A configuration for `logloom run` as tmpdir/@p name.yaml (free the
 * path): the files @p logs/\*.log, checkpoints every 200 ms in
 * tmpdir/ckpt-@p name, quick correlation, no metrics, JSON logs, then
 * @p extra (sinks, rules). */
static inline char *run_config(const char *name, const char *logs, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text,
             "sources:\n"
             "  - paths: [%s/*.log]\n"
             "correlation: {session_gap: 1s, allowed_lateness: 200ms, idle_timeout: 1s}\n"
             "checkpoints: {dir: %s/ckpt-%s, interval: 200ms}\n"
             "metrics: off\n"
             "log: {level: info, format: json}\n"
             "%s",
             logs, tmpdir, name, extra);
    char file[64];
    snprintf(file, sizeof file, "%s.yaml", name);
    return write_text(tmpdir, file, text);
}

/* Workflow @p i fails with ECONNRESET: two lines, one of them an error. */
static inline void write_workflow(FILE *fp, int i)
{
    int64_t t = now_ms();
    fprintf(fp, "{\"level\":30,\"time\":%lld,\"name\":\"agent-1\",\"correlationId\":\"wf-%06d\","
                "\"msg\":\"task received\"}\n",
            (long long)t, i);
    fprintf(fp, "{\"level\":50,\"time\":%lld,\"name\":\"agent-1\",\"correlationId\":\"wf-%06d\","
                "\"err\":{\"code\":\"ECONNRESET\",\"message\":\"read ECONNRESET\"},"
                "\"msg\":\"call failed\"}\n",
            (long long)t + 1, i);
}

/* Line @p k (0: received, 1: failed with ECONNRESET, 2: done) of overlapping
 * workflow @p i. */
static inline void write_step(FILE *fp, int i, int k)
{
    static const char *const msg[] = {"task received", "call failed", "task done"};
    fprintf(fp, "{\"level\":%d,\"time\":%lld,\"name\":\"agent-1\",\"correlationId\":\"ov-%06d\"%s,"
                "\"msg\":\"%s\"}\n",
            k == 1 ? 50 : 30, (long long)now_ms(), i,
            k == 1 ? ",\"err\":{\"code\":\"ECONNRESET\"}" : "", msg[k]);
}

/* The path of @p file's checkpoint in @p dir (named after its device and
 * inode) into @p out; false if @p file is not there. */
static inline bool checkpoint_path(const char *dir, const char *file, char *out, size_t size)
{
    struct stat st;
    if (stat(file, &st) != 0)
        return false;
    snprintf(out, size, "%s/%llx-%llx.ckpt", dir, (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    return true;
}

/* The offset @p file's checkpoint in @p dir holds; -1 if there is none. */
static inline long long checkpoint_offset(const char *dir, const char *file)
{
    char path[700];
    if (!checkpoint_path(dir, file, path, sizeof path))
        return -1;
    char *text = access(path, R_OK) == 0 ? read_file(path, NULL) : NULL;
    const char *o = text ? strstr(text, "\"offset\":") : NULL;
    long long v = o ? atoll(o + strlen("\"offset\":")) : -1;
    free(text);
    return v;
}

/* GET @p path from 127.0.0.1:@p port; the whole response (caller frees). */
static inline char *http_get(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    size_t len = 0, cap = 65536;
    char *s = malloc(cap);
    ssize_t got;
    while ((got = read(fd, s + len, cap - len - 1)) > 0)
        if ((len += (size_t)got) + 1 == cap)
            s = realloc(s, cap *= 2);
    close(fd);
    s[len] = '\0';
    return s;
}

/* Polls @p probe(@p sql) every 50 ms until it gives @p want or
 * @p seconds pass; @returns the last value. */
static inline long long wait_value(long long (*probe)(const char *sql), const char *sql,
                                   long long want, int seconds)
{
    long long v = -1;
    for (int i = 0; i < seconds * 20 && v != want; i++) {
        v = probe(sql);
        if (v != want)
            sleep_ms(50);
    }
    return v;
}
#endif

/* A finished run: exit status and outputs. */
struct run_result {
    int status;
    char *out, *err;
};

/* Runs @p bin with @p args (NULL-terminated, argv[0] excluded); outputs go
 * through files in @p dir. */
static inline struct run_result run_args(const char *bin, const char *dir,
                                         const char *const *args)
{
    const char *argv[64] = {bin};
    size_t n = 1;
    for (; args[n - 1] && n < 63; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    struct run_result r;
    r.status = run_cmd(argv, dir, &r.out, &r.err);
    return r;
}

static inline void run_result_free(struct run_result *r)
{
    free(r->out);
    free(r->err);
}

#ifdef LL_PG
/* Tests against a throwaway PostgreSQL of servers.h (define LL_PG before
 * including this). */
#include "servers.h"

/* Database @p db on @p pg, dropped if it exists and created afresh. */
static inline void fresh_db(const struct ll_test_pg *pg, const char *db)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
    assert_int_equal(ll_test_pg_int(pg, sql), 0);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    assert_int_equal(ll_test_pg_int(pg, sql), 0);
}
#endif

#ifdef LL_TMPDIR
/* Tests that write files (define LL_TMPDIR before including this): a
 * scratch directory for the group, removed when it ends. */
static char *dir;

static int tmpdir_group_setup(void **state)
{
    (void)state;
    dir = make_tmpdir();
    return 0;
}

static int tmpdir_group_teardown(void **state)
{
    (void)state;
    rm_tree(dir);
    free(dir);
    return 0;
}
#endif

#endif
