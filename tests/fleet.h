/* The fleet corpus (tests/data/real/fleet, real programs' logs) for tests
 * of the daemon against replay: every line of every file in the order the
 * programs wrote them (event time, then file, then place in its file),
 * written out again at a chosen pace into a directory a daemon tails; and
 * the answer a run gives (alerts folded by id, timelines), read from a JSON
 * lines output, PostgreSQL or a Redis stream, as sorted text to compare.
 * Include after testutil.h; link yajl and ll::core. */
#ifndef LOGLOOM_TEST_FLEET_H
#define LOGLOOM_TEST_FLEET_H

#include "logloom/core.h"

#include <dirent.h>
#include <yajl/yajl_tree.h>

#define FLEET_DIR "tests/data/real/fleet"
#define FLEET_CLOCK_FILE "zz-clock.log"

struct fleet_line {
    int64_t ts;
    int file;
    size_t idx;
    const char *text; /* without its newline */
    size_t len;
};

struct fleet {
    char **names; /* file names */
    int n_files;
    char **blobs; /* each file's bytes */
    struct fleet_line *v;
    size_t n;
    int64_t last; /* the latest event time */
};

/* The event time a program wrote on @p text, or LL_TIME_NONE. */
static inline int64_t fleet_time(const char *text, size_t len)
{
    char *copy = strndup(text, len), err[128];
    yajl_val root = yajl_tree_parse(copy, err, sizeof err);
    int64_t ts = LL_TIME_NONE;
    static const char *const keys[] = {"time", "timestamp", "@timestamp", "ts"};
    for (size_t k = 0; root && YAJL_IS_OBJECT(root) && ts == LL_TIME_NONE && k < 4; k++) {
        const char *path[] = {keys[k], NULL};
        yajl_val v = yajl_tree_get(root, path, yajl_t_any);
        const char *t = v && YAJL_IS_NUMBER(v)   ? YAJL_GET_NUMBER(v)
                        : v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v)
                                                 : NULL;
        int64_t ns;
        if (t && (YAJL_IS_NUMBER(v) ? ll_time_parse_epoch(t, strlen(t), &ns)
                                    : ll_time_parse(t, strlen(t), &ns)) == LL_OK)
            ts = ns;
    }
    yajl_tree_free(root);
    free(copy);
    return ts;
}

static inline int fleet_cmp(const void *a, const void *b)
{
    const struct fleet_line *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static inline int fleet_cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the corpus in @p dir (FLEET_DIR, or another of real programs'
 * logs, such as a shapes corpus's raw/). A line without a time (a crash
 * report) is written when the line before it in its file was, else the one
 * after it; a file without any time at all, at the start. */
static inline void fleet_load(struct fleet *f, const char *dir)
{
    *f = (struct fleet){0};
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            f->names = realloc(f->names, (size_t)(f->n_files + 1) * sizeof *f->names);
            f->names[f->n_files++] = strdup(de->d_name);
        }
    closedir(d);
    qsort(f->names, (size_t)f->n_files, sizeof *f->names, fleet_cmp_name);
    f->blobs = calloc((size_t)f->n_files, sizeof *f->blobs);
    for (int i = 0; i < f->n_files; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, f->names[i]);
        size_t len;
        f->blobs[i] = read_file(path, &len);
        size_t first = f->n;
        for (char *p = f->blobs[i], *nl; (nl = strchr(p, '\n')); p = nl + 1) {
            f->v = realloc(f->v, (f->n + 1) * sizeof *f->v);
            f->v[f->n] = (struct fleet_line){fleet_time(p, (size_t)(nl - p)), i, f->n - first,
                                             p, (size_t)(nl - p)};
            f->n++;
        }
        int64_t ts = LL_TIME_NONE;
        for (size_t k = first; k < f->n; k++) /* untimed: the line before's */
            f->v[k].ts = f->v[k].ts != LL_TIME_NONE ? (ts = f->v[k].ts) : ts;
        for (size_t k = f->n; k-- > first;) /* at the head: the line after's */
            f->v[k].ts = f->v[k].ts != LL_TIME_NONE ? (ts = f->v[k].ts) : ts;
        for (size_t k = first; k < f->n; k++)
            if (f->v[k].ts == LL_TIME_NONE)
                f->v[k].ts = 0;
    }
    qsort(f->v, f->n, sizeof *f->v, fleet_cmp);
    f->last = f->v[f->n - 1].ts;
}

static inline void fleet_free(struct fleet *f)
{
    for (int i = 0; i < f->n_files; i++) {
        free(f->names[i]);
        free(f->blobs[i]);
    }
    free(f->names);
    free(f->blobs);
    free(f->v);
}

/* Appends lines [@p from, @p to) to their files in @p dir, each written
 * whole, @p per_sec lines a second (0: at once). */
static inline void fleet_write(const struct fleet *f, const char *dir, size_t from, size_t to,
                               int per_sec)
{
    int64_t start = now_ms();
    for (size_t i = from; i < to; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", dir, f->names[f->v[i].file]);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        char *line = malloc(f->v[i].len + 1);
        memcpy(line, f->v[i].text, f->v[i].len);
        line[f->v[i].len] = '\n';
        assert_int_equal(write(fd, line, f->v[i].len + 1), (ssize_t)f->v[i].len + 1);
        free(line);
        close(fd);
        if (per_sec) {
            int64_t due = start + (int64_t)(i - from + 1) * 1000 / per_sec;
            if (due > now_ms())
                sleep_ms((long)(due - now_ms()));
        }
    }
}

/* The last line of a test: a program's line ten minutes after the corpus,
 * in a file of its own, so that event time passes every window, in the
 * daemon as in replay, and everything closes the same way in both. */
static inline void fleet_write_clock(const struct fleet *f, const char *dir)
{
    char line[160];
    int n = snprintf(line, sizeof line, "{\"level\":30,\"time\":%lld,\"name\":\"clock\",\"msg\":"
                     "\"ten minutes later\"}\n",
                     (long long)((f->last + 600 * LL_NS_PER_SEC) / LL_NS_PER_MS));
    free(write_file(dir, FLEET_CLOCK_FILE, line, (size_t)n));
}

/* ------------------------------------------------------------------------ */
/* Answers                                                                   */

/* One record, as a sorted line: "A id rule scope first_ms count evidence-hash"
 * for an alert (the version with the largest count), "T id corr events" for
 * a timeline. */
struct fleet_item {
    char id[17];
    bool alert;
    long long count;
    char *line;
};

struct fleet_answer {
    struct fleet_item *v;
    size_t n;
    size_t records;  /* records read, versions included */
    size_t repeated; /* records read twice: the same id and count */
};

static inline const char *fleet_str(yajl_val o, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(o, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : "";
}

static inline long long fleet_int(yajl_val o, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(o, path, yajl_t_number);
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -1;
}

/* Folds record @p o (an alert or a timeline) into @p a. */
static inline void fleet_fold(struct fleet_answer *a, yajl_val o)
{
    const char *type = fleet_str(o, "type");
    bool alert = strcmp(type, "alert") == 0;
    if (!alert && strcmp(type, "timeline") != 0)
        return;
    a->records++;
    const char *id = fleet_str(o, "id");
    long long count = alert ? fleet_int(o, "count") : 1;
    char line[900];
    if (alert) {
        const char *first = fleet_str(o, "first_seen"), *scope = fleet_str(o, "correlation_id");
        int64_t ns = 0;
        ll_time_parse(first, strlen(first), &ns);
        const char *ev[] = {"evidence", NULL};
        yajl_val list = yajl_tree_get(o, ev, yajl_t_array);
        const char *ev0 = list && YAJL_GET_ARRAY(list)->len
                              ? fleet_str(YAJL_GET_ARRAY(list)->values[0], "line")
                              : "";
        /* The blast radius of a service-level alert, in its order. */
        const char *af[] = {"affected", NULL};
        yajl_val aff = yajl_tree_get(o, af, yajl_t_array);
        uint64_t ah = 0;
        for (size_t i = 0; aff && i < YAJL_GET_ARRAY(aff)->len; i++) {
            const char *x = YAJL_GET_STRING(YAJL_GET_ARRAY(aff)->values[i]);
            ah = ll_hash64(x ? x : "", x ? strlen(x) : 0, ah + 1);
        }
        snprintf(line, sizeof line, "A %s %s %s %lld %lld %016llx %016llx", id,
                 fleet_str(o, "rule"), *scope ? scope : fleet_str(o, "service"),
                 (long long)(ns / LL_NS_PER_MS), count,
                 (unsigned long long)ll_hash64(ev0, strlen(ev0), 0), (unsigned long long)ah);
    } else {
        snprintf(line, sizeof line, "T %s %s %lld", id, fleet_str(o, "correlation_id"),
                 fleet_int(o, "events"));
    }
    for (size_t i = 0; i < a->n; i++) {
        struct fleet_item *it = &a->v[i];
        if (it->alert != alert || strcmp(it->id, id) != 0)
            continue;
        if (count == it->count)
            a->repeated++;
        if (count > it->count) {
            free(it->line);
            it->line = strdup(line);
            it->count = count;
        }
        return;
    }
    a->v = realloc(a->v, (a->n + 1) * sizeof *a->v);
    struct fleet_item *it = &a->v[a->n++];
    *it = (struct fleet_item){.alert = alert, .count = count, .line = strdup(line)};
    snprintf(it->id, sizeof it->id, "%s", id);
}

/* Folds every record of JSON lines @p text. */
static inline void fleet_fold_lines(struct fleet_answer *a, const char *text)
{
    for (const char *p = text, *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
        char *one = strndup(p, (size_t)(nl - p)), err[128];
        yajl_val o = yajl_tree_parse(one, err, sizeof err);
        if (o)
            fleet_fold(a, o);
        yajl_tree_free(o);
        free(one);
    }
}

/* Folds every record of JSON array @p text (a query's json_agg). */
static inline void fleet_fold_array(struct fleet_answer *a, const char *text)
{
    char err[128];
    yajl_val arr = yajl_tree_parse(text ? text : "[]", err, sizeof err);
    assert_true(arr && YAJL_IS_ARRAY(arr));
    for (size_t i = 0; i < YAJL_GET_ARRAY(arr)->len; i++)
        fleet_fold(a, YAJL_GET_ARRAY(arr)->values[i]);
    yajl_tree_free(arr);
}

static inline size_t fleet_count(const struct fleet_answer *a, bool alerts)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        n += a->v[i].alert == alerts;
    return n;
}

static inline int fleet_cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct fleet_item *)a)->line, ((const struct fleet_item *)b)->line);
}

/* The answer as sorted lines (free it). */
static inline char *fleet_text(struct fleet_answer *a)
{
    qsort(a->v, a->n, sizeof *a->v, fleet_cmp_item);
    size_t len = 1;
    for (size_t i = 0; i < a->n; i++)
        len += strlen(a->v[i].line) + 1;
    char *t = malloc(len), *p = t;
    *p = '\0';
    for (size_t i = 0; i < a->n; i++)
        p += sprintf(p, "%s\n", a->v[i].line);
    return t;
}

static inline void fleet_answer_free(struct fleet_answer *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].line);
    free(a->v);
    *a = (struct fleet_answer){0};
}

/* Fails unless @p got is @p want, naming the lines only one of them has. */
static inline void fleet_assert_same(const char *what, struct fleet_answer *want,
                                     struct fleet_answer *got)
{
    char *w = fleet_text(want), *g = fleet_text(got);
    if (strcmp(w, g) != 0) {
        char report[6000];
        size_t at = 0, shown[2] = {0, 0};
        for (size_t i = 0; i < want->n + got->n; i++) {
            bool in_want = i < want->n;
            const char *line = in_want ? want->v[i].line : got->v[i - want->n].line;
            const char *other = in_want ? g : w;
            char needle[920];
            snprintf(needle, sizeof needle, "%s\n", line);
            if (!strstr(other, needle) && shown[in_want]++ < 8 && at < sizeof report - 200)
                at += (size_t)snprintf(report + at, sizeof report - at, "\n  %s %.150s",
                                       in_want ? "only in replay:" : "only here:     ", line);
        }
        fail_msg("%s: %zu alerts and %zu timelines where replay has %zu and %zu:%s", what,
                 fleet_count(got, true), fleet_count(got, false), fleet_count(want, true),
                 fleet_count(want, false), report);
    }
    free(w);
    free(g);
}


/* ------------------------------------------------------------------------ */
/* A daemon on the corpus and its sinks (include servers.h and hiredis, and
 * define LL_PG and LL_E2E_DAEMONS, before this header)                     */

#ifdef LOGLOOM_TEST_SERVERS_H
struct fleet_case {
    char name[32];
    char db[32];
    char *logs, *ckpt, *file, *config;
    bool file_sink;
    const struct ll_test_pg *pg;
    const struct ll_test_redis *rd;
    pid_t pid;
    int starts;
};

static inline struct ll_test_pg fleet_on_db(const struct fleet_case *c)
{
    struct ll_test_pg other = *c->pg;
    snprintf(other.conninfo, sizeof other.conninfo, "host=%s port=%d dbname=%s user=postgres",
             c->pg->dir, c->pg->port, c->db);
    return other;
}

static inline long long fleet_in_db(const struct fleet_case *c, const char *sql)
{
    struct ll_test_pg other = fleet_on_db(c);
    return ll_test_pg_int(&other, sql);
}

/* A fresh database, directory and configuration for case @p name: the
 * defaults of `replay` (as a user's would be), checkpoints every 200 ms in
 * @p ckpt (NULL: tmpdir/NAME-ckpt), sinks on PostgreSQL, Redis (streams
 * NAME:alerts and NAME:tl) and, with @p file_sink, a file, each taking
 * alerts and timelines. */
static inline void fleet_case_init(struct fleet_case *c, const char *name,
                                   const struct ll_test_pg *pg, const struct ll_test_redis *rd,
                                   const char *ckpt, bool file_sink)
{
    *c = (struct fleet_case){.file_sink = file_sink, .pg = pg, .rd = rd};
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->db, sizeof c->db, "d_%s", name);
    fresh_db(pg, c->db);
    char sub[64];
    snprintf(sub, sizeof sub, "%s-logs", name);
    c->logs = in_tmp(sub);
    assert_int_equal(mkdir(c->logs, 0700), 0);
    snprintf(sub, sizeof sub, "%s-ckpt", name);
    c->ckpt = ckpt ? strdup(ckpt) : in_tmp(sub);
    snprintf(sub, sizeof sub, "%s-alerts.jsonl", name);
    c->file = in_tmp(sub);
    char text[4096], file[1200] = "";
    if (file_sink)
        snprintf(file, sizeof file, "  - url: file:%s\n    receive: both\n", c->file);
    snprintf(text, sizeof text,
             "sources:\n  - paths: [%s/*.log]\n    start_at: head\n"
             "checkpoints: {dir: %s, interval: 200ms}\n"
             "metrics: off\nlog: {level: info, format: text}\n"
             "sinks:\n"
             "  - url: host=%s port=%d dbname=%s user=postgres\n    receive: both\n"
             "  - url: %s\n    receive: both\n    stream: %s:alerts\n"
             "    timeline_stream: %s:tl\n    channel: ''\n%s",
             c->logs, c->ckpt, pg->dir, pg->port, c->db, rd->url, name, name, file);
    snprintf(sub, sizeof sub, "%s.yaml", name);
    c->config = write_text(tmpdir, sub, text);
}

/* The daemon started again (NAME0, NAME1, ... are its logs). */
static inline void fleet_case_start(struct fleet_case *c)
{
    char name[48];
    snprintf(name, sizeof name, "%s%d", c->name, c->starts++);
    c->pid = start_run(c->config, name);
}

static inline void fleet_case_free(struct fleet_case *c)
{
    free(c->logs);
    free(c->ckpt);
    free(c->file);
    free(c->config);
}

/* What database @p db holds, folded by id. */
static inline void fleet_from_db(const struct ll_test_pg *db, struct fleet_answer *a)
{
    char *alerts = ll_test_pg_text(db, "SELECT coalesce(json_agg(json_build_object('type', "
                                        "'alert', 'id', id, 'rule', rule, 'correlation_id', "
                                        "correlation_id, 'service', service, 'first_seen', "
                                        "first_seen, 'count', count, 'evidence', evidence, "
                                        "'affected', affected)), "
                                        "'[]') FROM logloom.alerts");
    char *tls = ll_test_pg_text(db, "SELECT coalesce(json_agg(json_build_object('type', "
                                    "'timeline', 'id', id, 'correlation_id', correlation_id, "
                                    "'events', event_count)), '[]') FROM logloom.timelines");
    fleet_fold_array(a, alerts);
    fleet_fold_array(a, tls);
    free(alerts);
    free(tls);
}

/* What a case's PostgreSQL sink holds, folded by id. */
static inline void fleet_from_pg(const struct fleet_case *c, struct fleet_answer *a)
{
    struct ll_test_pg db = fleet_on_db(c);
    fleet_from_db(&db, a);
}

static inline void fleet_from_redis(const struct fleet_case *c, struct fleet_answer *a)
{
    redisContext *ctx = redisConnectUnix(c->rd->sock);
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

static inline void fleet_from_file(const struct fleet_case *c, struct fleet_answer *a)
{
    char *text = access(c->file, R_OK) == 0 ? read_file(c->file, NULL) : NULL;
    fleet_fold_lines(a, text);
    free(text);
}

/* Waits until every sink holds as many alerts and timelines as @p want (or
 * a minute passes), then a while longer for anything doubled to show, and
 * stops the daemon with SIGTERM. */
static inline void fleet_case_settle(struct fleet_case *c, const struct fleet_answer *want)
{
    long long alerts = (long long)fleet_count(want, true);
    long long tls = (long long)fleet_count(want, false);
    for (int i = 0; i < 1200; i++) {
        struct fleet_answer f = {0};
        if (c->file_sink)
            fleet_from_file(c, &f);
        bool done = fleet_in_db(c, "SELECT count(*) FROM logloom.alerts") >= alerts &&
                    fleet_in_db(c, "SELECT count(*) FROM logloom.timelines") >= tls &&
                    (!c->file_sink || (long long)f.n >= alerts + tls);
        fleet_answer_free(&f);
        if (done)
            break;
        sleep_ms(50);
    }
    sleep_ms(700);
    kill(c->pid, SIGTERM);
    int status = wait_cmd(c->pid);
    if (status != 0) {
        char name[48];
        snprintf(name, sizeof name, "%s%d", c->name, c->starts - 1);
        char *log = run_log(name);
        fail_msg("%s exited %d on SIGTERM:\n%s", name, status, log ? log : "");
    }
}

/* Every sink holds @p want, each record once, and no alert points at a
 * timeline that is not there. */
static inline void fleet_case_check(const struct fleet_case *c, struct fleet_answer *want)
{
    char what[64];
    struct fleet_answer got = {0};
    fleet_from_pg(c, &got);
    snprintf(what, sizeof what, "%s: PostgreSQL", c->name);
    fleet_assert_same(what, want, &got);
    assert_int_equal(got.records, got.n); /* a row per id */
    assert_int_equal(fleet_in_db(c, "SELECT count(*) FROM logloom.alerts a WHERE timeline_id IS "
                                    "NOT NULL AND NOT EXISTS (SELECT 1 FROM logloom.timelines t "
                                    "WHERE t.id = a.timeline_id)"),
                     0);
    fleet_answer_free(&got);

    fleet_from_redis(c, &got);
    snprintf(what, sizeof what, "%s: Redis", c->name);
    fleet_assert_same(what, want, &got);
    assert_int_equal(got.repeated, 0); /* a version of an alert, a timeline: once each */
    fleet_answer_free(&got);

    if (!c->file_sink)
        return;
    fleet_from_file(c, &got);
    snprintf(what, sizeof what, "%s: file sink", c->name);
    fleet_assert_same(what, want, &got);
    assert_int_equal(got.repeated, 0);
    print_message("%s: %zu records in the file for %zu alerts and %zu timelines\n", c->name,
                  got.records, fleet_count(&got, true), fleet_count(&got, false));
    fleet_answer_free(&got);
}

/* Replay's answer on the whole corpus, written out under tmpdir/@p name
 * with its clock line. */
static inline void fleet_replay_answer(const struct fleet *f, const char *name,
                                       struct fleet_answer *want)
{
    char *ref = in_tmp(name);
    mkdir(ref, 0700);
    fleet_write(f, ref, 0, f->n, 0);
    fleet_write_clock(f, ref);
    const char *args[] = {"replay", "--format", "jsonl", "-q", ref, NULL};
    struct run_result r = run_args(logloom, tmpdir, args);
    assert_int_equal(r.status, 0);
    fleet_fold_lines(want, r.out);
    run_result_free(&r);
    free(ref);
}
#endif

#endif
