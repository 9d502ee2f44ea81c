/* The Kafka topology (issue 21) on the fleet corpus, real programs' logs:
 * every line produced unkeyed to a raw topic as a shipper sends it (its
 * file in a header, stamped when it was written), `logloom repartition`
 * keying it by the workflow it joins, a correlating stage and a service
 * stage (`logloom run` with topology.stage) on 16 partitions each, over
 * librdkafka's mock cluster, with PostgreSQL and file sinks. Compared with
 * `logloom replay` of the same files by (id, rule, scope, first time,
 * count, first evidence) for alerts and (id, events) for timelines:
 *
 * - one member per stage, the shipper holding one raw partition's lines
 *   back 1.5 s (a stall) while the others flow;
 * - a cold start: every line in the raw topic before anything starts;
 * - two members per stage, six SIGKILLs of members of either stage, each
 *   started again, at seeded random moments while the lines flow (two
 *   schedules; LL_FAULTS_SEED=N for one of your own);
 * - two of the three brokers down for ten seconds while the lines flow.
 *
 * The keyed topic must hold every line, each once but where a producer sent
 * a batch again after the outage (the mock broker keeps both copies); every
 * sink must hold exactly replay's answer for those lines, and no file sink
 * of a single member a record twice. */
#define LL_E2E
#define LL_E2E_DAEMONS
#define LL_PG
#include "../testutil.h"

#include "servers.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#include "../fleet.h"
#include "../mock_cluster.h"

#define PARTITIONS 16
#define FEED_PER_SEC 1500
#define KILLS 6

static struct ll_test_pg pg;
static struct fleet corpus;
static struct fleet_answer want;
/* What a case is compared with: replay's answer for the lines the keyed
 * topic holds (want, unless a producer wrote some twice). */
static const struct fleet_answer *expect = &want;
static char mock_bin[1024];
static struct mock_cluster mock;
#define bootstrap mock.bootstrap
static char *feed, *clock_feed; /* FILE<tab>MS<tab>LINE, as the shipper sends them */
static char *feed_text;         /* feed's */
static long long feed_lines;    /* of them, those not empty (repartition skips those) */

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The pid a child's file is named after (child-4312.log), or -1. */
static long name_pid(const char *name)
{
    const char *dash = strrchr(name, '-'), *dot = strrchr(name, '.');
    if (!dash || !dot || dot < dash + 2)
        return -1;
    char *end;
    long v = strtol(dash + 1, &end, 10);
    return end == dot ? v : -1;
}

/* The pid a line names as a child it spawned ("childPid":N), or -1. */
static long spawned(const struct fleet_line *l)
{
    char *line = strndup(l->text, l->len);
    const char *p = strstr(line, "\"childPid\":");
    long v = p ? strtol(p + strlen("\"childPid\":"), NULL, 10) : -1;
    free(line);
    return v;
}

static void feed_line(struct ll_buf *b, const struct fleet *f, const struct fleet_line *l,
                     int64_t ts)
{
    ll_buf_printf(b, "/var/log/app/%s\t%lld\t%.*s\n", f->names[l->file],
                  (long long)(ts > 0 ? ts / LL_NS_PER_MS : 0), (int)l->len, l->text);
}

/* The shipper's feed: the corpus in the order the programs wrote it. A
 * child that prints only text (its file has no time at all) printed while
 * it ran: its lines go right after its parent's spawn line, stamped then. */
static void make_feed(const struct fleet *f)
{
    struct ll_buf b = {0};
    bool *later = calloc(f->n, sizeof *later);
    for (size_t i = 0; i < f->n; i++) {
        later[i] = f->v[i].ts == 0 && name_pid(f->names[f->v[i].file]) > 0;
        feed_lines += f->v[i].len > 0;
    }
    for (size_t i = 0; i < f->n; i++) {
        if (later[i])
            continue;
        feed_line(&b, f, &f->v[i], f->v[i].ts);
        long pid = spawned(&f->v[i]);
        for (size_t j = 0; pid > 0 && j < f->n; j++)
            if (later[j] && name_pid(f->names[f->v[j].file]) == pid) {
                feed_line(&b, f, &f->v[j], f->v[i].ts);
                later[j] = false;
            }
    }
    for (size_t j = 0; j < f->n; j++) /* never spawned in the corpus: at the end */
        if (later[j])
            feed_line(&b, f, &f->v[j], f->last);
    feed = write_text(tmpdir, "feed.tsv", b.data);
    feed_text = strdup(b.data);
    ll_buf_reset(&b);
    ll_buf_printf(&b, "/var/log/app/%s\t%lld\t{\"level\":30,\"time\":%lld,\"name\":\"clock\","
                      "\"msg\":\"ten minutes later\"}\n",
                  FLEET_CLOCK_FILE, (long long)(f->last / LL_NS_PER_MS + 600000),
                  (long long)(f->last / LL_NS_PER_MS + 600000));
    clock_feed = write_text(tmpdir, "clock.tsv", b.data);
    ll_buf_free(&b);
    free(later);
}

static int group_setup(void **state)
{
    e2e_group_setup(state);
    signal(SIGPIPE, SIG_IGN);
    snprintf(mock_bin, sizeof mock_bin, "%s/tests/ll-kafka-mock", getenv("LL_BINARY_DIR"));
    static const char *const topics[] = {"raw1:4", "keyed1:16", "facts1:16", "raw2:4",
                                         "keyed2:16", "facts2:16", "raw3:4", "keyed3:16",
                                         "facts3:16", "raw4:4", "keyed4:16", "facts4:16",
                                         "raw5:4", "keyed5:16", "facts5:16", NULL};
    if (mock_cluster_start(&mock, mock_bin, topics) != 0 || ll_test_pg_start(&pg) != 0)
        return -1;
    fleet_load(&corpus, FLEET_DIR);
    fleet_replay_answer(&corpus, "replayed", &want);
    make_feed(&corpus);
    return 0;
}

static int group_teardown(void **state)
{
    kill_started();
    mock_cluster_stop(&mock);
    ll_test_pg_destroy(&pg);
    fleet_answer_free(&want);
    fleet_free(&corpus);
    free(feed);
    free(clock_feed);
    free(feed_text);
    return e2e_group_teardown(state);
}

/* ------------------------------------------------------------------------ */

struct topo {
    int n;         /* the case: topics rawN, keyedN, factsN */
    bool outage;   /* two of the three brokers go down a while mid-stream */
    const char *stall; /* the shipper holds a partition back (ll-kafka-mock produce -s) */
    char db[16];
    char *conf[2][2]; /* by stage (correlate, service) and member */
    char *file[2][2]; /* their file sinks */
    pid_t member[2][2];
    int starts[2][2];
};

static char *stage_config(struct topo *t, int stage, int m)
{
    char text[2048], name[32], facts[64] = "";
    if (!stage)
        snprintf(facts, sizeof facts, "  facts_topic: facts%d\n", t->n);
    snprintf(name, sizeof name, "t%d-s%d-m%d.jsonl", t->n, stage, m);
    t->file[stage][m] = in_tmp(name);
    snprintf(text, sizeof text,
             "sources:\n"
             "  - brokers: %s\n"
             "    group_id: t%d-%s\n"
             "    topics: [%s%d]\n"
             "    properties: [session.timeout.ms=6000, heartbeat.interval.ms=500,\n"
             "                 reconnect.backoff.max.ms=1000]\n"
             "topology:\n  stage: %s\n%s"
             "checkpoints: {interval: 200ms}\n"
             "metrics: off\n"
             "log: {level: info, format: text}\n"
             "sinks:\n"
             "  - url: host=%s port=%d dbname=%s user=postgres\n    receive: both\n"
             "  - url: file:%s\n    receive: both\n",
             bootstrap, t->n, stage ? "service" : "correlate", stage ? "facts" : "keyed", t->n,
             stage ? "service" : "correlate", facts, pg.dir, pg.port, t->db,
             t->file[stage][m]);
    snprintf(name, sizeof name, "t%d-s%d-m%d.yaml", t->n, stage, m);
    return write_text(tmpdir, name, text);
}

/* Case @p n's partitions led by every broker in turn, its groups'
 * coordinator the third (so that the groups outlive the others). */
static void place(int n)
{
    static const char *const topics[] = {"raw", "keyed", "facts"};
    static const int parts[] = {4, PARTITIONS, PARTITIONS};
    for (int t = 0; t < 3; t++)
        for (int p = 0; p < parts[t]; p++)
            mock_cluster_command(&mock, "leader %s%d %d %d", topics[t], n, p, p % 3 + 1);
    static const char *const groups[] = {"repartition", "correlate", "service"};
    for (int g = 0; g < 3; g++)
        mock_cluster_command(&mock, "coordinator t%d-%s 3", n, groups[g]);
}

static void start_member(struct topo *t, int stage, int m)
{
    char name[32];
    snprintf(name, sizeof name, "t%d-s%d-m%d-%d", t->n, stage, m, t->starts[stage][m]++);
    t->member[stage][m] = start_run(t->conf[stage][m], name);
}

static pid_t start_producer(const char *path, const char *topic, bool all, int per_sec,
                            const char *stall)
{
    char rate[16];
    snprintf(rate, sizeof rate, "%d", per_sec);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDONLY);
        dup2(fd, 0);
        if (all)
            execl(mock_bin, mock_bin, "produce", "-B", bootstrap, "-t", topic, "-f", "file",
                  "-a", (char *)NULL);
        else if (stall)
            execl(mock_bin, mock_bin, "produce", "-B", bootstrap, "-t", topic, "-f", "file",
                  "-r", rate, "-s", stall, (char *)NULL);
        else
            execl(mock_bin, mock_bin, "produce", "-B", bootstrap, "-t", topic, "-f", "file",
                  "-r", rate, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* How many lines (messages without a mark) @p topic holds, each in
 * @p *lines as "file<tab>line" before that if @p lines (free it); -1 if
 * unknown. */
static long long topic_lines(const char *topic, char **lines)
{
    const char *argv[] = {mock_bin, "count", "-B", bootstrap, "-t", topic, "-x", "ll-mark",
                          lines ? "-p" : NULL, "file", NULL};
    char *out = NULL, *err = NULL;
    long long n = -1;
    const char *last = NULL;
    if (run_cmd(argv, tmpdir, &out, &err) == 0)
        for (const char *p = out; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
            last = p;
    if (!last || sscanf(last, "%lld", &n) != 1)
        n = -1;
    if (lines)
        *lines = out;
    else
        free(out);
    free(err);
    return n;
}

/* Waits (two minutes at most) until @p topic holds @p lines lines (a
 * member that lost a broker may take a while to get back to it). */
static void wait_keyed(const char *topic, long long lines)
{
    long long n = 0;
    for (int i = 0; i < 1200 && n < lines; i++) {
        n = topic_lines(topic, NULL);
        sleep_ms(100);
    }
    if (n < lines)
        fail_msg("%s holds %lld lines of %lld", topic, n, lines);
}

/* Whether replay has a timeline of id @p id. */
static bool replay_timeline(const char *id)
{
    char tl[40];
    for (size_t i = 0; i < expect->n; i++)
        if (!expect->v[i].alert && sscanf(expect->v[i].line, "T %39s", tl) == 1 &&
            strcmp(tl, id) == 0)
            return true;
    return false;
}

/* The alert records of @p text that name a timeline replay has not (a
 * workflow's remains read again after a kill, say), each printed. */
static size_t foreign_timelines(const char *text)
{
    size_t n = 0;
    for (const char *p = text, *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
        char *one = strndup(p, (size_t)(nl - p)), err[128];
        yajl_val o = yajl_tree_parse(one, err, sizeof err);
        const char *tk[] = {"timeline_id", NULL};
        yajl_val tl = o ? yajl_tree_get(o, tk, yajl_t_string) : NULL;
        if (tl && strcmp(fleet_str(o, "type"), "alert") == 0 &&
            !replay_timeline(YAJL_GET_STRING(tl))) {
            print_message("an alert names a timeline replay has not: %.200s\n", one);
            n++;
        }
        yajl_tree_free(o);
        free(one);
    }
    return n;
}

/* Every member's file sink folded into @p a. No file holds a record twice
 * (a member started again reads its file back), nor a version of an alert
 * twice, and every alert names replay's timeline for it. */
static void answer_from_files(const struct topo *t, int members, struct fleet_answer *a)
{
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < members; m++) {
            const char *f = t->file[s][m];
            char *text = access(f, R_OK) == 0 ? read_file(f, NULL) : NULL;
            struct fleet_answer one = {0};
            fleet_fold_lines(&one, text);
            assert_int_equal(one.repeated, 0);
            assert_int_equal(foreign_timelines(text), 0);
            fleet_fold_lines(a, text);
            fleet_answer_free(&one);
            free(text);
        }
}

static bool has_line(const struct fleet_answer *a, const char *line)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].line, line) == 0)
            return true;
    return false;
}

/* How many of the @p n sorted strings @p v are @p s. */
static size_t occurrences(char *const *v, size_t n, const char *s)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid], s) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t k = 0;
    while (lo + k < n && strcmp(v[lo + k], s) == 0)
        k++;
    return k;
}

static char **corpus_keys; /* "file<tab>line" of each corpus line */

static int cmp_key_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(corpus_keys[x], corpus_keys[y]);
    return c ? c : (x > y) - (x < y);
}

/* A producer's retry after an outage may write a line twice: the mock
 * broker drops a batch sent again only for transactional producers, not
 * for idempotent ones as Kafka does. So the lines keyed topic @p topic holds
 * are read back; each corpus line must be there, and more than once only
 * after an outage (@p retried). If any is, @p a gets replay's answer for
 * what the topic holds: each line as often, in its file, as the topic has
 * it. @returns whether so. */
static bool replay_of_topic(int n_case, const char *topic, bool retried, struct fleet_answer *a)
{
    char *out = NULL, name[32];
    long long n = topic_lines(topic, &out);
    assert_true(n >= 0);
    size_t n_held = 0;
    char **held = calloc((size_t)n + 1, sizeof *held);
    for (char *p = out, *e; n_held < (size_t)n && (e = strchr(p, '\n')); p = e + 1) {
        *e = '\0';
        held[n_held++] = p;
    }
    qsort(held, n_held, sizeof *held, cmp_strs);
    corpus_keys = calloc(corpus.n, sizeof *corpus_keys);
    size_t *order = calloc(corpus.n, sizeof *order), *copies = calloc(corpus.n, sizeof *copies);
    for (size_t i = 0; i < corpus.n; i++) {
        const struct fleet_line *l = &corpus.v[i];
        assert_true(asprintf(&corpus_keys[i], "/var/log/app/%s\t%.*s", corpus.names[l->file],
                             (int)l->len, l->text) > 0);
        order[i] = i;
    }
    qsort(order, corpus.n, sizeof *order, cmp_key_index);
    size_t twice = 0, lost = 0;
    for (size_t g = 0, end; g < corpus.n; g = end) {
        for (end = g + 1; end < corpus.n && !strcmp(corpus_keys[order[end]], corpus_keys[order[g]]);)
            end++;
        size_t m = end - g, have = occurrences(held, n_held, corpus_keys[order[g]]);
        if (corpus.v[order[g]].len == 0) /* repartition skips empty lines */
            have = m;
        for (size_t j = 0; j < m; j++)
            copies[order[g + j]] = j < have;
        if (have > m)
            copies[order[end - 1]] += have - m;
        twice += have > m ? have - m : 0;
        lost += have < m ? m - have : 0;
    }
    print_message("case %d: %s holds %zu lines twice and lost %zu\n", n_case, topic, twice, lost);
    assert_int_equal(lost, 0);
    if (!retried)
        assert_int_equal(twice, 0);
    if (twice) {
        struct fleet f = corpus;
        f.v = calloc(corpus.n + twice, sizeof *f.v);
        f.n = 0;
        for (size_t i = 0; i < corpus.n; i++)
            for (size_t c = 0; c < copies[i]; c++)
                f.v[f.n++] = corpus.v[i];
        snprintf(name, sizeof name, "replayed-%s", topic);
        fleet_replay_answer(&f, name, a);
        free(f.v);
    }
    for (size_t i = 0; i < corpus.n; i++)
        free(corpus_keys[i]);
    free(corpus_keys);
    free(order);
    free(copies);
    free(held);
    free(out);
    return twice;
}

/* Compares @p got with replay's answer, naming each difference. */
static void assert_like_replay(const char *what, struct fleet_answer *got)
{
    size_t missing[2] = {0, 0}, extra[2] = {0, 0};
    for (int side = 0; side < 2; side++) {
        const struct fleet_answer *from = side ? got : expect, *other = side ? expect : got;
        for (size_t i = 0; i < from->n; i++) {
            const struct fleet_item *it = &from->v[i];
            if (has_line(other, it->line))
                continue;
            (side ? extra : missing)[it->alert]++;
            print_message("%s: %s %s\n", what, side ? "only here:     " : "only in replay:",
                          it->line);
        }
    }
    print_message("%s: %zu of %zu alerts and %zu of %zu timelines as replay has them\n", what,
                  fleet_count(expect, true) - missing[1], fleet_count(expect, true),
                  fleet_count(expect, false) - missing[0], fleet_count(expect, false));
    assert_int_equal(missing[1] + extra[1] + missing[0] + extra[0], 0);
}

/* What the members said of facts behind the watermark or behind a mark
 * sent, or lines late (warnings that explain an answer unlike replay's),
 * printed. */
static void print_late(const struct topo *t, int members)
{
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < members; m++)
            for (int k = 0; k < t->starts[s][m]; k++) {
                char name[48];
                snprintf(name, sizeof name, "t%d-s%d-m%d-%d.err", t->n, s, m, k);
                char *path = in_tmp(name), *text = read_file(path, NULL);
                for (char *p = text, *e; p && *p; p = e ? e + 1 : p + strlen(p)) {
                    e = strchr(p, '\n');
                    int len = e ? (int)(e - p) : (int)strlen(p);
                    if (memmem(p, (size_t)len, "behind the watermark", 20) ||
                        memmem(p, (size_t)len, "after their workflow closed", 27) ||
                        memmem(p, (size_t)len, "behind the last mark", 20))
                        print_message("%s: %.*s\n", name, len, p);
                }
                free(text);
                free(path);
            }
}

/* Alert latency, printed: from when the producer sent an alert's first
 * evidence line (the feed's pace from @p t0) to when PostgreSQL first
 * held the alert, p50 and p99. Windows and absences wait for event time
 * to pass them; the last ones for the line that ends the corpus. */
static void print_latency(int n, const struct ll_test_pg *db, int64_t t0)
{
    char *rows = ll_test_pg_text(
        db, "SELECT string_agg((extract(epoch FROM created_at) * 1000)::bigint || ' ' ||"
            " (evidence->0->>'line'), E'\n') FROM logloom.alerts");
    int64_t ms[256];
    size_t k = 0;
    for (char *p = rows, *nl; p && *p && k < 256; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        char *sp = strchr(p, ' ');
        const char *at = sp ? strstr(feed_text, sp + 1) : NULL;
        if (!at)
            continue;
        size_t index = 0; /* the feed's line that holds it */
        for (const char *q = feed_text; q < at; q++)
            index += *q == '\n';
        ms[k++] = atoll(p) - (t0 + (int64_t)index * 1000 / FEED_PER_SEC);
    }
    free(rows);
    if (!k)
        return;
    qsort(ms, k, sizeof ms[0], cmp_i64);
    print_message("case %d: alert latency, line produced to alert in PostgreSQL: p50 %lld ms, "
                  "p99 %lld ms (%zu alerts)\n", n, (long long)ms[k / 2],
                  (long long)ms[(k * 99 + 99) / 100 - 1], k);
}

/* @p backlog: every line is in the raw topic before anything starts (a
 * cold start: repartition reads its partitions far behind, a partition's
 * seconds at a time). */
static void run_case(struct topo *t, int members, uint64_t seed, bool backlog)
{
    snprintf(t->db, sizeof t->db, "topo%d", t->n);
    fresh_db(&pg, t->db);
    if (t->outage)
        place(t->n);
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < members; m++)
            t->conf[s][m] = stage_config(t, s, m);
    char raw[16], keyed[16], group[32];
    snprintf(raw, sizeof raw, "raw%d", t->n);
    snprintf(keyed, sizeof keyed, "keyed%d", t->n);
    snprintf(group, sizeof group, "t%d-repartition", t->n);
    /* After an outage repartition waits its reconnect.backoff.max.ms for
     * what the shipper held: three times the shipper's 1 s, as an operator
     * leaves room over the largest backoff of their shippers (one loaded
     * by the sanitizers sent it 1.9 s after its broker was back). */
    const char *rargv[] = {logloom, "repartition", "--config", t->conf[0][0], "--brokers",
                           bootstrap, "--group", group, "--from", raw, "--to", keyed,
                           "--property", "reconnect.backoff.max.ms=3000", NULL};
    char *rout = in_tmp("repartition.out"), *rerr = in_tmp("repartition.err");
    int64_t t0 = now_ms();
    if (backlog)
        assert_int_equal(wait_cmd(start_producer(feed, raw, false, 0, NULL)), 0);
    pid_t rep = spawn_cmd(rargv, rout, rerr);
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < members; m++)
            start_member(t, s, m);
    if (!backlog) { /* the members in their groups, the partitions shared out */
        sleep_ms(members > 1 ? 4000 : 1500);
        t0 = now_ms();
    }
    pid_t prod = backlog ? 0 : start_producer(feed, raw, false, FEED_PER_SEC, t->stall);
    /* Kills at seeded moments while the lines flow, in time order, of
     * either stage. */
    int64_t span = (int64_t)corpus.n * 1000 / FEED_PER_SEC, moments[KILLS];
    for (int k = 0; seed && k < KILLS; k++)
        moments[k] = (int64_t)(next_rand(&seed) % (uint64_t)span);
    if (seed)
        qsort(moments, KILLS, sizeof moments[0], cmp_i64);
    for (int k = 0; seed && k < KILLS; k++) {
        int64_t at = t0 + moments[k];
        int stage = (int)(next_rand(&seed) % 2), m = (int)(next_rand(&seed) % members);
        if (at > now_ms())
            sleep_ms((long)(at - now_ms()));
        print_message("kill %d: stage %s member %d at %lld ms\n", k,
                      stage ? "service" : "correlate", m, (long long)(now_ms() - t0));
        kill(t->member[stage][m], SIGKILL);
        waitpid(t->member[stage][m], NULL, 0);
        start_member(t, stage, m);
    }
    if (t->outage) { /* a third of the way in, for ten seconds */
        if (t0 + span / 3 > now_ms())
            sleep_ms((long)(t0 + span / 3 - now_ms()));
        print_message("brokers 1 and 2 down at %lld ms\n", (long long)(now_ms() - t0));
        mock_cluster_command(&mock, "down 1");
        mock_cluster_command(&mock, "down 2");
        sleep_ms(10000);
        mock_cluster_command(&mock, "up 1");
        mock_cluster_command(&mock, "up 2");
        print_message("and up again at %lld ms\n", (long long)(now_ms() - t0));
    }
    if (prod)
        assert_int_equal(wait_cmd(prod), 0);
    /* The line that ends the corpus, ten minutes on, is the shipper's
     * last (repartition's event time passes every line it holds); then,
     * once every line reached the keyed topic, it goes to each keyed
     * partition too, as a fleet's steady traffic would move them all on. */
    assert_int_equal(wait_cmd(start_producer(clock_feed, raw, false, 0, NULL)), 0);
    wait_keyed(keyed, feed_lines);
    sleep_ms(1000);
    assert_int_equal(wait_cmd(start_producer(clock_feed, keyed, true, 0, NULL)), 0);
    /* Until the sinks hold replay's count, then a while for doubles. */
    long long alerts = (long long)fleet_count(&want, true), tls = (long long)fleet_count(&want, false);
    struct ll_test_pg db = pg;
    snprintf(db.conninfo, sizeof db.conninfo, "host=%.600s port=%d dbname=%s user=postgres",
             pg.dir, pg.port, t->db);
    long long seen = -1;
    int64_t since = now_ms();
    for (int i = 0; i < 1800; i++) { /* or nothing new for 30 s (a group rebalancing) */
        long long a = ll_test_pg_int(&db, "SELECT count(*) FROM logloom.alerts");
        long long tl = ll_test_pg_int(&db, "SELECT count(*) FROM logloom.timelines");
        if ((a >= alerts && tl >= tls) || now_ms() - since > 30000)
            break;
        if (a + tl != seen) {
            seen = a + tl;
            since = now_ms();
        }
        sleep_ms(50);
    }
    sleep_ms(1500);
    print_message("case %d: line produced to last record %lld ms\n", t->n,
                  (long long)(now_ms() - t0));
    if (!backlog)
        print_latency(t->n, &db, t0);
    kill(rep, SIGTERM);
    assert_int_equal(wait_cmd_err(rep, rerr), 0);
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < members; m++) {
            kill(t->member[s][m], SIGTERM);
            char name[48];
            snprintf(name, sizeof name, "t%d-s%d-m%d-%d.err", t->n, s, m, t->starts[s][m] - 1);
            char *err = in_tmp(name);
            assert_int_equal(wait_cmd_err(t->member[s][m], err), 0);
            free(err);
        }
    print_late(t, members);
    struct fleet_answer of_topic = {0};
    if (replay_of_topic(t->n, keyed, t->outage, &of_topic))
        expect = &of_topic;
    char what[64];
    struct fleet_answer got = {0};
    fleet_from_db(&db, &got);
    snprintf(what, sizeof what, "case %d, PostgreSQL", t->n);
    assert_like_replay(what, &got);
    assert_int_equal(got.records, got.n); /* a row per id */
    fleet_answer_free(&got);
    answer_from_files(t, members, &got);
    snprintf(what, sizeof what, "case %d, file sinks", t->n);
    assert_like_replay(what, &got);
    /* A partition that moved is delivered again by its new owner as far
     * as its last owner had not committed: into another member's file. */
    print_message("%s: %zu records, %zu of them in two members' files\n", what, got.records,
                  got.repeated);
    if (members == 1)
        assert_int_equal(got.repeated, 0);
    fleet_answer_free(&got);
    expect = &want;
    fleet_answer_free(&of_topic);
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < members; m++) {
            free(t->conf[s][m]);
            free(t->file[s][m]);
        }
    free(rout);
    free(rerr);
}

static void one_member_per_stage_and_a_stalled_partition_give_replays_answer(void **state)
{
    (void)state;
    /* A second in, the shipper holds raw1/1's lines back 1.5 s: event time
     * runs ~50 times the clock here, so the others are a minute and more
     * ahead by then; repartition waits for it, nothing is late. */
    struct topo t = {.n = 1, .stall = "1@1500+1500"};
    run_case(&t, 1, 0, false);
}

static void a_cold_start_on_a_backlog_gives_replays_answer(void **state)
{
    (void)state;
    struct topo t = {.n = 3};
    run_case(&t, 1, 0, true);
}

static void members_killed_at_random_moments_lose_nothing(void **state)
{
    (void)state;
    const char *env = getenv("LL_FAULTS_SEED");
    uint64_t seeds[] = {env ? strtoull(env, NULL, 10) : 5, 7};
    for (size_t i = 0; i < (env ? 1u : 2u); i++) {
        print_message("seed %llu\n", (unsigned long long)seeds[i]);
        struct topo t = {.n = 2 + 2 * (int)i};
        run_case(&t, 2, seeds[i], false);
    }
}

static void brokers_down_and_back_lose_nothing(void **state)
{
    (void)state;
    struct topo t = {.n = 5, .outage = true};
    run_case(&t, 1, 0, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_member_per_stage_and_a_stalled_partition_give_replays_answer),
        cmocka_unit_test(a_cold_start_on_a_backlog_gives_replays_answer),
        cmocka_unit_test(members_killed_at_random_moments_lose_nothing),
        cmocka_unit_test(brokers_down_and_back_lose_nothing),
    };
    if (getenv("LL_TEST_ONLY"))
        cmocka_set_test_filter(getenv("LL_TEST_ONLY"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
