/* The replay source: path expansion, k-way merge order, time inference,
 * service names from file names, and counting of bad lines. */
#include "../testutil.h"

#include "logloom/ingest.h"

static int setup(void **state)
{
    *state = make_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    rm_tree(*state);
    free(*state);
    return 0;
}

struct rejects {
    int n;
    enum ll_reject why[16];
    uint64_t offset[16];
    char detail[16][128];
    char line[16][32];
};

static void on_reject(void *ctx, enum ll_reject why, const struct ll_pos *pos,
                      const struct ll_line *line, const char *detail)
{
    struct rejects *r = ctx;
    if (r->n < 16) {
        r->why[r->n] = why;
        r->offset[r->n] = pos->offset;
        snprintf(r->detail[r->n], sizeof r->detail[0], "%s", detail);
        snprintf(r->line[r->n], sizeof r->line[0], "%.*s", (int)line->len, line->ptr);
    }
    r->n++;
}

/* Replays @p conf's files and writes "service:msg" of every event, one per
 * line. */
static char *replay_conf(struct ll_replay_conf conf, struct rejects *rej, struct ll_stats *st)
{
    conf.on_reject = on_reject;
    conf.ctx = rej;
    ll_replay *rp;
    char err[256];
    assert_int_equal(ll_replay_open(&conf, &rp, err, sizeof err), LL_OK);
    struct ll_buf out = {0};
    const struct ll_event *ev;
    int64_t last = INT64_MIN;
    while (ll_replay_next(rp, &ev) == LL_OK) {
        assert_true(ev->ts_ns >= last); /* inputs here are each in order */
        last = ev->ts_ns;
        ll_buf_printf(&out, "%.*s:%.*s%s\n", (int)ev->service.len, ev->service.ptr,
                      (int)ev->msg.len, ev->msg.ptr,
                      ev->flags & LL_EV_TIME_INFERRED ? "*" : "");
    }
    if (st)
        *st = *ll_replay_stats(rp);
    ll_replay_close(rp);
    return out.data ? out.data : strdup("");
}

static char *replay_msgs(const char *const *files, size_t n, struct rejects *rej,
                         struct ll_stats *st)
{
    return replay_conf((struct ll_replay_conf){.files = files, .n_files = n}, rej, st);
}

static void merge_orders_by_event_time_then_input(void **state)
{
    const char *dir = *state;
    char *a = write_text(dir, "agent-1.log",
                         "{\"time\":1,\"msg\":\"a1\"}\n{\"time\":3,\"msg\":\"a3\"}\n"
                         "{\"time\":5,\"msg\":\"a5\"}\n");
    char *b = write_text(dir, "agent-2.log",
                         "{\"time\":2,\"msg\":\"b2\"}\n{\"time\":3.0,\"msg\":\"b3\"}\n"
                         "{\"time\":4e0,\"msg\":\"b4\"}\n");
    const char *plain = "{\"time\":\"1970-01-01T00:00:00.500Z\",\"msg\":\"m0\"}\n"
                        "{\"time\":\"1970-01-01T00:00:03Z\",\"msg\":\"m3\"}\n"
                        "{\"time\":\"1970-01-01T00:00:06Z\",\"msg\":\"m6\"}\n";
    char *c = write_gz(dir, "manager.log.1.gz", plain, strlen(plain));
    const char *files[] = {a, b, c};
    struct rejects rej = {0};
    char *out = replay_msgs(files, 3, &rej, NULL);
    /* Equal times (3 s) go in input order: agent-1, agent-2, manager. */
    assert_string_equal(out, "manager:m0\nagent-1:a1\nagent-2:b2\nagent-1:a3\nagent-2:b3\n"
                             "manager:m3\nagent-2:b4\nagent-1:a5\nmanager:m6\n");
    assert_int_equal(rej.n, 0);
    free(out);
    free(a);
    free(b);
    free(c);
}

static void missing_times_come_from_neighbours(void **state)
{
    const char *dir = *state;
    char *a = write_text(dir, "svc.log",
                         "{\"msg\":\"head1\"}\n{\"msg\":\"head2\"}\n{\"time\":2000,\"msg\":\"t2\"}\n"
                         "{\"msg\":\"mid\",\"time\":\"garbage\"}\n{\"time\":4000,\"msg\":\"t4\"}\n");
    char *b = write_text(dir, "other.log", "{\"time\":3000,\"msg\":\"o3\"}\n");
    const char *files[] = {b, a};
    struct rejects rej = {0};
    struct ll_stats st;
    char *out = replay_msgs(files, 2, &rej, &st);
    /* Head lines take the first time of their input, the middle one the
     * previous; "mid" (2 s) sorts before other.log's 3 s. */
    assert_string_equal(out, "svc:head1*\nsvc:head2*\nsvc:t2\nsvc:mid*\nother:o3\nsvc:t4\n");
    assert_int_equal(st.time_inferred, 3);
    free(out);
    free(a);
    free(b);
}

static void bad_lines_are_counted_and_the_rest_kept(void **state)
{
    const char *dir = *state;
    struct ll_buf b = {0};
    ll_buf_puts(&b, "{\"time\":1,\"msg\":\"first\"}\n");
    ll_buf_puts(&b, "FATAL ERROR: Reached heap limit Allocation failed\n");
    ll_buf_puts(&b, "\n   \n");
    ll_buf_puts(&b, "[\"array\"]\n");
    ll_buf_append(&b, "{\"msg\":\"\xff\"}\n", 12);
    ll_buf_append(&b, "{\"msg\":\"a\0\"}\n", 13);
    ll_buf_puts(&b, "{\"msg\":\"");
    for (int i = 0; i < (1 << 20) + 10; i++)
        ll_buf_putc(&b, 'x');
    ll_buf_puts(&b, "\"}\n{\"time\":2,\"msg\":\"last\"}\n{\"msg\":\"cut");
    char *p = write_file(dir, "child-4331.log", b.data, b.len);
    const char *files[] = {p};
    struct rejects rej = {0};
    struct ll_stats st;
    char *out = replay_msgs(files, 1, &rej, &st);
    assert_string_equal(out, "child-4331:first\nchild-4331:last\n");
    assert_int_equal(st.events, 2);
    assert_int_equal(st.lines, 8);
    assert_int_equal(st.rejected[LL_REJECT_NOT_JSON], 2); /* incl. the cut last line */
    assert_int_equal(st.rejected[LL_REJECT_NOT_OBJECT], 1);
    assert_int_equal(st.rejected[LL_REJECT_INVALID_UTF8], 1);
    assert_int_equal(st.rejected[LL_REJECT_NUL_BYTE], 1);
    assert_int_equal(st.rejected[LL_REJECT_TOO_LONG], 1);
    assert_int_equal(rej.n, 6);
    assert_int_equal(rej.why[0], LL_REJECT_NOT_JSON);
    assert_int_equal(rej.offset[0], 25);
    assert_int_equal(st.bytes, b.len);
    free(out);
    free(p);
    ll_buf_free(&b);
}

/* A line that is not JSON is the service of the JSON line before it, even
 * when a later line of the same batch names another; and decoding on
 * several threads, in batches of any size, changes nothing. */
static void raw_lines_and_threads(void **state)
{
    const char *dir = *state;
    char *a = write_text(dir, "child-1.log",
                         "{\"time\":1,\"name\":\"agent-7777\",\"msg\":\"a\"}\n"
                         "RAW1 panic\n"
                         "{\"time\":3,\"name\":\"b\",\"msg\":\"b\"}\n"
                         "RAW2 oops\n"
                         "{\"time\":5,\"msg\":\"c\"}\n");
    char *b = write_text(dir, "child-2.log",
                         "not json first\n{\"time\":2,\"msg\":\"d\"}\n[1]\n"
                         "{\"time\":4,\"name\":\"e\",\"msg\":\"e\"}\n");
    const char *files[] = {a, b};
    const char *want = "agent-7777:a\n"
                       "agent-7777:RAW1 panic*\n"
                       "child-2:not json first*\n"
                       "child-2:d\n"
                       "b:b\n"
                       "b:RAW2 oops*\n"
                       "e:e\n"
                       "child-1:c\n";
    for (size_t threads = 1; threads <= 4; threads++)
        for (size_t batch = 1; batch <= 3; batch++) {
            struct rejects rej = {0};
            struct ll_stats st;
            struct ll_replay_conf conf = {.files = files, .n_files = 2, .raw_events = true,
                                          .threads = threads, .batch_events = batch};
            char *out = replay_conf(conf, &rej, &st);
            assert_string_equal(out, want);
            assert_int_equal(st.events, 8);
            assert_int_equal(st.raw_events, 3);
            assert_int_equal(st.time_inferred, 3);
            assert_int_equal(rej.n, 4);
            assert_int_equal(st.rejected[LL_REJECT_NOT_OBJECT], 1);
            free(out);
        }
    free(a);
    free(b);
}

/* Lines too long come to the reject handler with their first bytes, which
 * the reader keeps for one line only: two in one batch keep their own, on
 * one thread (batches that view the reader) and on several (copies). */
static void too_long_lines_keep_their_first_bytes(void **state)
{
    char *p = write_text(*state, "long.log",
                         "{\"time\":1,\"msg\":\"a\"}\n"
                         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
                         "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n"
                         "{\"time\":2,\"msg\":\"b\"}\n");
    const char *files[] = {p};
    for (size_t threads = 1; threads <= 2; threads++) {
        struct rejects rej = {0};
        struct ll_replay_conf conf = {.files = files, .n_files = 1, .max_line = 40,
                                      .threads = threads};
        char *out = replay_conf(conf, &rej, NULL);
        assert_string_equal(out, "long:a\nlong:b\n");
        assert_int_equal(rej.n, 2);
        assert_int_equal(rej.why[0], LL_REJECT_TOO_LONG);
        assert_int_equal(rej.why[1], LL_REJECT_TOO_LONG);
        assert_int_equal(rej.line[0][0], 'A');
        assert_int_equal(rej.line[1][0], 'B');
        free(out);
    }
    free(p);
}

static void service_from_file_names(void **state)
{
    (void)state;
    static const struct {
        const char *path, *svc;
    } cases[] = {
        {"agent-3.log", "agent-3"},
        {"logs/child-4312.log", "child-4312"},
        {"/var/log/manager.log.1", "manager"},
        {"archive/agent-1.log.2.gz", "agent-1"},
        {"api.jsonl.gz", "api"},
        {"worker", "worker"},
        {"v1.2.log", "v1.2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ll_str s = ll_service_from_path(cases[i].path);
        assert_int_equal(s.len, strlen(cases[i].svc));
        assert_memory_equal(s.ptr, cases[i].svc, s.len);
    }
}

static void line_service_wins_over_file_name(void **state)
{
    char *p = write_text(*state, "pod-abc.log", "{\"time\":1,\"name\":\"agent-7\",\"msg\":\"x\"}\n"
                                                "{\"time\":2,\"msg\":\"y\"}\n");
    const char *files[] = {p};
    struct rejects rej = {0};
    char *out = replay_msgs(files, 1, &rej, NULL);
    assert_string_equal(out, "agent-7:x\npod-abc:y\n");
    free(out);
    free(p);
}

static void expand_walks_directories_sorted(void **state)
{
    const char *dir = *state;
    char sub[512], deep[512], path[600];
    snprintf(sub, sizeof sub, "%s/b-dir", dir);
    snprintf(deep, sizeof deep, "%s/b-dir/c", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(mkdir(deep, 0700), 0);
    free(write_text(dir, "z.log", "{}\n"));
    free(write_text(dir, "a.log", "{}\n"));
    free(write_text(dir, ".hidden.log", "{}\n"));
    free(write_text(sub, "m.log.gz", "{}\n"));
    free(write_text(deep, "x.log", "{}\n"));
    /* A symlink loop and a link to a file already listed. */
    snprintf(path, sizeof path, "%s/loop", deep);
    assert_int_equal(symlink("..", path), 0);
    snprintf(path, sizeof path, "%s/alias.log", dir);
    assert_int_equal(symlink("a.log", path), 0);

    struct ll_input_list l;
    char err[256];
    const char *args[] = {dir};
    assert_int_equal(ll_inputs_expand(args, 1, &l, err, sizeof err), LL_OK);
    assert_int_equal(l.n, 4);
    const char *want[] = {"/a.log", "/b-dir/c/x.log", "/b-dir/m.log.gz", "/z.log"};
    for (size_t i = 0; i < 4; i++) {
        assert_true(strlen(l.paths[i]) > strlen(dir));
        assert_string_equal(l.paths[i] + strlen(dir), want[i]);
    }
    ll_input_list_free(&l);

    /* Globs, and argument order does not matter. */
    char g1[600], g2[600];
    snprintf(g1, sizeof g1, "%s/*.log", dir);
    snprintf(g2, sizeof g2, "%s/b-dir", dir);
    const char *args2[] = {g2, g1};
    assert_int_equal(ll_inputs_expand(args2, 2, &l, err, sizeof err), LL_OK);
    assert_int_equal(l.n, 4); /* alias.log is a.log */
    assert_string_equal(l.paths[0] + strlen(dir), "/a.log");
    ll_input_list_free(&l);
}

static void expand_reports_missing_paths(void **state)
{
    char missing[600], pattern[600];
    snprintf(missing, sizeof missing, "%s/none.log", (char *)*state);
    snprintf(pattern, sizeof pattern, "%s/*.nothing", (char *)*state);
    struct ll_input_list l;
    char err[256];
    const char *a1[] = {missing};
    assert_int_equal(ll_inputs_expand(a1, 1, &l, err, sizeof err), LL_ENOENT);
    assert_non_null(strstr(err, "none.log"));
    ll_input_list_free(&l);
    const char *a2[] = {pattern};
    assert_int_equal(ll_inputs_expand(a2, 1, &l, err, sizeof err), LL_ENOENT);
    assert_non_null(strstr(err, "no file matches"));
    ll_input_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(merge_orders_by_event_time_then_input, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_times_come_from_neighbours, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_lines_are_counted_and_the_rest_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(raw_lines_and_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(too_long_lines_keep_their_first_bytes, setup, teardown),
        cmocka_unit_test(service_from_file_names),
        cmocka_unit_test_setup_teardown(line_service_wins_over_file_name, setup, teardown),
        cmocka_unit_test_setup_teardown(expand_walks_directories_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(expand_reports_missing_paths, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
