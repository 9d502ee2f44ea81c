/* JSON line → event: each logger's shape, correlation ids, errors, and bad
 * lines. Lines here are copied from what pino, winston, bunyan, pino-http,
 * @elastic/ecs-winston-format and node's child_process print. */
#include "../testutil.h"

#include "logloom/ingest.h"

struct fx {
    ll_decoder *d;
    struct ll_arena arena;
    struct ll_event ev;
    enum ll_reject why;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];
    f->d = ll_decoder_new(NULL, err, sizeof err);
    assert_non_null(f->d);
    ll_arena_init(&f->arena, 1024);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ll_decoder_destroy(f->d);
    ll_arena_free(&f->arena);
    free(f);
    return 0;
}

static int decode(struct fx *f, const char *line)
{
    f->ev = (struct ll_event){0};
    return ll_decoder_decode(f->d, line, strlen(line), &f->arena, &f->ev, &f->why);
}

static const struct ll_event *ok(struct fx *f, const char *line)
{
    assert_int_equal(decode(f, line), LL_OK);
    return &f->ev;
}

static void assert_str(struct ll_str got, const char *want)
{
    if (!want) {
        assert_int_equal(got.len, 0);
        return;
    }
    assert_int_equal(got.len, strlen(want));
    assert_memory_equal(got.ptr, want, got.len);
}

static void assert_rejected(struct fx *f, const char *line, size_t len, enum ll_reject why)
{
    f->ev = (struct ll_event){0};
    assert_int_equal(ll_decoder_decode(f->d, line, len, &f->arena, &f->ev, &f->why), LL_EPARSE);
    assert_int_equal(f->why, why);
    assert_true(strlen(ll_decoder_error(f->d)) > 0);
}

#define REJ(f, lit, why) assert_rejected((f), (lit), sizeof(lit) - 1, (why))

/* ------------------------------------------------------------------------ */

static void pino_line(void **state)
{
    const struct ll_event *ev =
        ok(*state, "{\"level\":30,\"time\":1764265467123,\"pid\":4211,\"hostname\":\"mgr-7d9f\","
                   "\"name\":\"manager\",\"correlationId\":\"3f1c2a9e\",\"msg\":\"workflow started\"}");
    assert_int_equal(ev->level, LL_LEVEL_INFO);
    assert_true(ev->ts_ns == INT64_C(1764265467123) * LL_NS_PER_MS);
    assert_true(ev->pid == 4211);
    assert_true(ev->flags & LL_EV_HAS_PID);
    assert_str(ev->host, "mgr-7d9f");
    assert_str(ev->service, "manager");
    assert_str(ev->corr_id, "3f1c2a9e");
    assert_str(ev->msg, "workflow started");
    assert_false(ll_event_is_error(ev));
}

static void pino_error_serializer(void **state)
{
    const struct ll_event *ev = ok(
        *state,
        "{\"level\":50,\"time\":1764265467123,\"pid\":88,\"hostname\":\"a\",\"name\":\"agent-1\","
        "\"correlationId\":\"c1\",\"err\":{\"type\":\"Error\",\"message\":\"spawn claude ENOENT\","
        "\"stack\":\"Error: spawn claude ENOENT\\n    at ChildProcess._handle.onexit "
        "(node:internal/child_process:284:19)\",\"errno\":-2,\"code\":\"ENOENT\","
        "\"syscall\":\"spawn claude\",\"path\":\"claude\",\"spawnargs\":[\"-p\"]},"
        "\"msg\":\"spawn failed\"}");
    assert_int_equal(ev->level, LL_LEVEL_ERROR);
    assert_str(ev->err_type, "Error");
    assert_str(ev->err_msg, "spawn claude ENOENT");
    assert_str(ev->err_code, "ENOENT");
    assert_str(ev->err_syscall, "spawn claude");
    assert_true(ev->err_errno == -2);
    /* Only the first line of the stack. */
    assert_str(ev->err_stack, "Error: spawn claude ENOENT");
    assert_true(ev->flags & LL_EV_HAS_ERR);
    assert_str(ev->msg, "spawn failed");
}

static void pg_database_error(void **state)
{
    const struct ll_event *ev = ok(
        *state, "{\"level\":50,\"time\":1764265467000,\"name\":\"manager\",\"err\":{\"type\":"
                "\"DatabaseError\",\"message\":\"deadlock detected\",\"length\":310,\"name\":"
                "\"error\",\"severity\":\"ERROR\",\"code\":\"40P01\",\"detail\":\"Process 1 waits "
                "for ShareLock\",\"file\":\"deadlock.c\",\"line\":\"1148\",\"routine\":"
                "\"DeadLockReport\"},\"msg\":\"deadlock detected\"}");
    /* pino's "type" wins over the pg error's "name". */
    assert_str(ev->err_type, "DatabaseError");
    assert_str(ev->err_code, "40P01");
    assert_str(ev->err_msg, "deadlock detected");
}

static void winston_json_with_spread_error(void **state)
{
    /* winston format.errors() + json(): the Error's own properties land on
     * the record itself. */
    const struct ll_event *ev = ok(
        *state, "{\"code\":\"EINVAL\",\"errno\":-22,\"syscall\":\"spawn\",\"level\":\"error\","
                "\"message\":\"spawn EINVAL\",\"stack\":\"Error: spawn EINVAL\\n    at "
                "ChildProcess.spawn (node:internal/child_process:421:11)\",\"service\":\"agent-2\","
                "\"requestId\":\"r-9\",\"timestamp\":\"2026-11-24T09:14:03.412Z\"}");
    assert_int_equal(ev->level, LL_LEVEL_ERROR);
    assert_str(ev->msg, "spawn EINVAL");
    assert_str(ev->err_code, "EINVAL");
    assert_str(ev->err_syscall, "spawn");
    assert_true(ev->err_errno == -22);
    assert_str(ev->err_stack, "Error: spawn EINVAL");
    assert_true(ev->flags & LL_EV_HAS_ERR);
    assert_str(ev->service, "agent-2");
    assert_str(ev->corr_id, "r-9");
    char t[LL_TIME_BUFSZ];
    ll_time_format(ev->ts_ns, t);
    assert_string_equal(t, "2026-11-24T09:14:03.412Z");
}

static void bare_code_is_not_an_error_code_on_an_info_line(void **state)
{
    const struct ll_event *ev =
        ok(*state, "{\"level\":\"info\",\"message\":\"verified\",\"code\":\"A1B2\"}");
    assert_int_equal(ev->err_code.len, 0);
    assert_false(ll_event_is_error(ev));
}

static void bunyan_line(void **state)
{
    const struct ll_event *ev = ok(
        *state, "{\"name\":\"agent-2\",\"hostname\":\"h2\",\"pid\":7,\"level\":40,\"msg\":\"slow\","
                "\"time\":\"2026-11-24T09:14:03.412Z\",\"v\":0}");
    assert_int_equal(ev->level, LL_LEVEL_WARN);
    assert_str(ev->service, "agent-2");
    assert_true(ev->ts_ns != LL_TIME_NONE);
}

static void ecs_format(void **state)
{
    const struct ll_event *ev = ok(
        *state, "{\"@timestamp\":\"2026-11-24T09:14:03.412Z\",\"log.level\":\"error\","
                "\"message\":\"boom\",\"ecs.version\":\"8.10.0\",\"service\":{\"name\":\"agent-3\"},"
                "\"error\":{\"type\":\"Error\",\"message\":\"read ECONNRESET\",\"stack_trace\":"
                "\"Error: read ECONNRESET\\n    at TCP.onStreamRead\",\"code\":\"ECONNRESET\"}}");
    assert_int_equal(ev->level, LL_LEVEL_ERROR);
    assert_str(ev->service, "agent-3");
    assert_str(ev->err_code, "ECONNRESET");
    assert_str(ev->err_stack, "Error: read ECONNRESET");
    assert_true(ev->ts_ns != LL_TIME_NONE);
}

static void fetch_failed_with_cause(void **state)
{
    /* undici's "fetch failed" keeps the socket error in err.cause. */
    const struct ll_event *ev = ok(
        *state, "{\"level\":50,\"time\":1,\"err\":{\"type\":\"TypeError\",\"message\":\"fetch "
                "failed\",\"cause\":{\"errno\":-111,\"code\":\"ECONNREFUSED\",\"syscall\":"
                "\"connect\",\"address\":\"127.0.0.1\",\"port\":5432}},\"msg\":\"x\"}");
    assert_str(ev->err_code, "ECONNREFUSED");
    assert_str(ev->err_syscall, "connect");
    assert_str(ev->err_type, "TypeError");
}

static void error_as_string(void **state)
{
    const struct ll_event *ev =
        ok(*state, "{\"level\":\"warn\",\"msg\":\"retry\",\"error\":\"socket hang up\"}");
    assert_str(ev->err_msg, "socket hang up");
    assert_true(ev->flags & LL_EV_HAS_ERR);
    ev = ok(*state, "{\"level\":\"info\",\"msg\":\"ok\",\"error\":null}");
    assert_false(ev->flags & LL_EV_HAS_ERR);
}

static void child_exit_code_and_signal(void **state)
{
    struct fx *f = *state;
    const struct ll_event *ev =
        ok(f, "{\"level\":50,\"time\":1,\"pid\":4312,\"code\":null,\"signal\":\"SIGKILL\","
              "\"msg\":\"child exited\"}");
    assert_str(ev->signal, "SIGKILL");
    assert_false(ev->flags & LL_EV_HAS_EXIT_CODE);
    ev = ok(f, "{\"level\":30,\"time\":1,\"code\":137,\"signal\":null,\"msg\":\"child exited\"}");
    assert_true(ev->flags & LL_EV_HAS_EXIT_CODE);
    assert_true(ev->exit_code == 137);
    ev = ok(f, "{\"level\":30,\"time\":1,\"exitCode\":0,\"msg\":\"done\"}");
    assert_true(ev->flags & LL_EV_HAS_EXIT_CODE);
    assert_true(ev->exit_code == 0);
    /* A numeric "code" without "signal" is not an exit code (HTTP, DOMException). */
    ev = ok(f, "{\"level\":30,\"time\":1,\"code\":200,\"msg\":\"ok\"}");
    assert_false(ev->flags & LL_EV_HAS_EXIT_CODE);
}

static void link_keys_child_pid_and_connection(void **state)
{
    struct fx *f = *state;
    const struct ll_event *ev =
        ok(f, "{\"level\":30,\"pid\":1893,\"correlationId\":\"c\",\"childPid\":4318,"
              "\"msg\":\"child spawned\"}");
    assert_true(ev->flags & LL_EV_HAS_CHILD_PID);
    assert_true(ev->child_pid == 4318);
    assert_true(ev->pid == 1893);
    ev = ok(f, "{\"child\":{\"pid\":\"77\"},\"connectionId\":\"ws-9\"}");
    assert_true(ev->child_pid == 77);
    assert_str(ev->conn_id, "ws-9");
    ev = ok(f, "{\"pid\":5}");
    assert_false(ev->flags & LL_EV_HAS_CHILD_PID);
    assert_int_equal(ev->conn_id.len, 0);
}

/* ------------------------------------------------------------------------ */
/* Correlation ids                                                           */

static void each_default_id_path(void **state)
{
    static const struct {
        const char *line, *id;
    } cases[] = {
        {"{\"correlationId\":\"a\"}", "a"},
        {"{\"correlation_id\":\"b\"}", "b"},
        {"{\"requestId\":\"c\"}", "c"},
        {"{\"request_id\":\"d\"}", "d"},
        {"{\"reqId\":\"e\"}", "e"},
        {"{\"req\":{\"id\":\"f\"}}", "f"},
        {"{\"req\":{\"headers\":{\"x-request-id\":\"g\"}}}", "g"},
        {"{\"req\":{\"headers\":{\"X-Request-ID\":\"h\"}}}", "h"},
        {"{\"headers\":{\"x-request-id\":\"i\"}}", "i"},
        {"{\"traceId\":\"j\"}", "j"},
        {"{\"trace_id\":\"k\"}", "k"},
        /* Issue 20: the family of spellings, and the envelopes loggers use. */
        {"{\"x_request_id\":\"l\"}", "l"},
        {"{\"x-request-id\":\"m\"}", "m"},
        {"{\"X-Request-ID\":\"n\"}", "n"},
        {"{\"xRequestId\":\"o\"}", "o"},
        {"{\"requestID\":\"p\"}", "p"},
        {"{\"correlation-id\":\"q\"}", "q"},
        {"{\"x_correlation_id\":\"r\"}", "r"},
        {"{\"meta\":{\"correlationId\":\"s\"}}", "s"},
        {"{\"context\":{\"requestId\":\"t\"}}", "t"},
        {"{\"ctx\":{\"reqId\":\"u\"}}", "u"},
        {"{\"metadata\":{\"request_id\":\"v\"}}", "v"},
        {"{\"labels\":{\"trace_id\":\"w\"}}", "w"},
        {"{\"attributes\":{\"traceId\":\"x\"}}", "x"},
        {"{\"req\":{\"headers\":{\"X-Correlation-Id\":\"y\"}}}", "y"},
        {"{\"level\":\"info\",\"message\":\"m\",\"meta\":{\"x-request-id\":\"z\"}}", "z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_str(ok(*state, cases[i].line)->corr_id, cases[i].id);
}

static void service_spellings(void **state)
{
    assert_str(ok(*state, "{\"app\":\"billing\",\"msg\":\"m\"}")->service, "billing");
    assert_str(ok(*state, "{\"service_name\":\"ledger\"}")->service, "ledger");
    assert_str(ok(*state, "{\"app\":\"x\",\"name\":\"agent-1\"}")->service, "agent-1");
}

static void id_paths_are_tried_in_order(void **state)
{
    const struct ll_event *ev =
        ok(*state, "{\"traceId\":\"t\",\"req\":{\"headers\":{\"x-request-id\":\"h\"}},"
                   "\"correlationId\":\"c\"}");
    assert_str(ev->corr_id, "c");
    ev = ok(*state, "{\"traceId\":\"t\",\"req\":{\"headers\":{\"x-request-id\":\"h\"}}}");
    assert_str(ev->corr_id, "h");
    /* A correlation id before a request id before a trace id, wherever. */
    ev = ok(*state, "{\"trace_id\":\"t\",\"request_id\":\"r\",\"meta\":{\"correlationId\":\"c\"}}");
    assert_str(ev->corr_id, "c");
    ev = ok(*state, "{\"attributes\":{\"trace_id\":\"t\"},\"context\":{\"requestId\":\"r\"}}");
    assert_str(ev->corr_id, "r");
}

static void numeric_request_counters_are_not_workflow_ids(void **state)
{
    /* pino-http numbers requests per process; the header is the real id. */
    const struct ll_event *ev = ok(
        *state, "{\"req\":{\"id\":17,\"method\":\"POST\",\"headers\":{\"x-request-id\":\"u-1\"}}}");
    assert_str(ev->corr_id, "u-1");
    ev = ok(*state, "{\"req\":{\"id\":17,\"method\":\"GET\",\"url\":\"/healthz\"}}");
    assert_int_equal(ev->corr_id.len, 0);
}

static void keys_elsewhere_do_not_match(void **state)
{
    /* A correlationId nested under another object, or inside an array, is
     * not the line's id; header matching is case-blind only under headers. */
    const struct ll_event *ev =
        ok(*state, "{\"body\":{\"correlationId\":\"x\"},\"list\":[{\"correlationId\":\"y\"}],"
                   "\"CorrelationId\":\"z\",\"data\":{\"meta\":{\"requestId\":\"w\"}},"
                   "\"msg\":\"m\"}");
    assert_int_equal(ev->corr_id.len, 0);
    assert_str(ev->msg, "m");
}

static void custom_id_paths_replace_defaults(void **state)
{
    (void)state;
    const char *paths[] = {"ctx.workflow", "[\"x.trace\"]"};
    struct ll_decode_conf conf = {.id_paths = paths, .n_id_paths = 2};
    char err[256];
    ll_decoder *d = ll_decoder_new(&conf, err, sizeof err);
    assert_non_null(d);
    struct ll_arena a;
    ll_arena_init(&a, 256);
    struct ll_event ev = {0};
    enum ll_reject why;
    const char *l1 = "{\"correlationId\":\"no\",\"ctx\":{\"workflow\":\"w-1\"}}";
    assert_int_equal(ll_decoder_decode(d, l1, strlen(l1), &a, &ev, &why), LL_OK);
    assert_str(ev.corr_id, "w-1");
    const char *l2 = "{\"x.trace\":\"t-2\"}";
    assert_int_equal(ll_decoder_decode(d, l2, strlen(l2), &a, &ev, &why), LL_OK);
    assert_str(ev.corr_id, "t-2");
    /* Paths the user names may hold numbers; a string still wins. */
    const char *l3 = "{\"ctx\":{\"workflow\":981}}";
    assert_int_equal(ll_decoder_decode(d, l3, strlen(l3), &a, &ev, &why), LL_OK);
    assert_str(ev.corr_id, "981");
    const char *l4 = "{\"ctx\":{\"workflow\":981},\"x.trace\":\"t-4\"}";
    assert_int_equal(ll_decoder_decode(d, l4, strlen(l4), &a, &ev, &why), LL_OK);
    assert_str(ev.corr_id, "t-4");
    ll_decoder_destroy(d);
    ll_arena_free(&a);
}

static void malformed_field_paths_are_reported(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(ll_field_path_check("a..b", err, sizeof err), LL_EINVAL);
    assert_non_null(strstr(err, "a..b"));
    assert_int_equal(ll_field_path_check("a[\"b", err, sizeof err), LL_EINVAL);
    assert_int_equal(ll_field_path_check("a.", err, sizeof err), LL_EINVAL);
    assert_int_equal(ll_field_path_check("", err, sizeof err), LL_EINVAL);
    assert_int_equal(ll_field_path_check("req.headers[\"x-request-id\"]", err, sizeof err),
                     LL_OK);
    const char *bad[] = {"ok", "a[b]"};
    struct ll_decode_conf conf = {.id_paths = bad, .n_id_paths = 2};
    assert_null(ll_decoder_new(&conf, err, sizeof err));
    assert_non_null(strstr(err, "a[b]"));
}

/* ------------------------------------------------------------------------ */
/* Strings and odd values                                                    */

static void escaped_strings_survive_the_parser(void **state)
{
    struct fx *f = *state;
    const struct ll_event *ev =
        ok(f, "{\"msg\":\"say \\\"hi\\\" \\u00e9\\n\",\"correlationId\":\"a\\/b\"}");
    assert_str(ev->msg, "say \"hi\" é\n");
    assert_str(ev->corr_id, "a/b");
    /* The next line reuses yajl's scratch buffer: the views above must have
     * been copied out of it. */
    char keep_msg[64], keep_id[8];
    memcpy(keep_msg, ev->msg.ptr, ev->msg.len);
    memcpy(keep_id, ev->corr_id.ptr, ev->corr_id.len);
    struct ll_event first = f->ev;
    assert_int_equal(decode(f, "{\"msg\":\"\\u0041\\u0042\\u0043\\u0044\\u0045\\u0046\"}"), LL_OK);
    assert_memory_equal(first.msg.ptr, keep_msg, first.msg.len);
    assert_memory_equal(first.corr_id.ptr, keep_id, first.corr_id.len);
}

/* The same without \u, which the scanner decodes itself (json_scan.h),
 * into a scratch buffer of its own that the next line reuses. */
static void escaped_strings_survive_the_scanner(void **state)
{
    struct fx *f = *state;
    const struct ll_event *ev = ok(f, "{\"msg\":\"say \\\"hi\\\"\\n\",\"correlationId\":\"a\\/b\"}");
    assert_str(ev->msg, "say \"hi\"\n");
    assert_str(ev->corr_id, "a/b");
    struct ll_event first = f->ev;
    assert_int_equal(decode(f, "{\"msg\":\"\\t\\t\\t\\t\\t\\t\\t\\t\",\"requestId\":\"\\\\\\\\\"}"),
                     LL_OK);
    assert_str(f->ev.msg, "\t\t\t\t\t\t\t\t");
    assert_str(first.msg, "say \"hi\"\n");
    assert_str(first.corr_id, "a/b");
}

/* The scanner leaves a line to yajl where it meets the \u: yajl starts
 * again from a clean state, not from the fields and depth the scanner had
 * reached. */
static void a_line_the_scanner_leaves_midway_decodes_whole(void **state)
{
    struct fx *f = *state;
    const struct ll_event *ev = ok(f, "{\"level\":\"error\",\"msg\":\"reset\",\"err\":{\"code\":"
                                      "\"ECONNRESET\",\"detail\":{\"host\":\"caf\\u00e9\"}}}");
    assert_int_equal(ev->level, LL_LEVEL_ERROR);
    assert_str(ev->msg, "reset");
    assert_str(ev->err_code, "ECONNRESET");
    assert_true(ev->flags & LL_EV_HAS_ERR);
}

static void byte_order_mark_is_skipped(void **state)
{
    /* Files written on Windows may start with one. */
    assert_str(ok(*state, "\xEF\xBB\xBF{\"msg\":\"first line\"}")->msg, "first line");
}

static void missing_fields_leave_defaults(void **state)
{
    const struct ll_event *ev = ok(*state, "{}");
    assert_true(ev->ts_ns == LL_TIME_NONE);
    assert_int_equal(ev->level, LL_LEVEL_NONE);
    assert_int_equal(ev->msg.len, 0);
    assert_int_equal(ev->corr_id.len, 0);
    assert_int_equal(ev->flags, 0);
}

static void unusable_time_is_none(void **state)
{
    struct fx *f = *state;
    assert_true(ok(f, "{\"time\":\"yesterday\"}")->ts_ns == LL_TIME_NONE);
    assert_true(ok(f, "{\"time\":true}")->ts_ns == LL_TIME_NONE);
    assert_true(ok(f, "{\"time\":-5}")->ts_ns == LL_TIME_NONE);
    assert_true(ok(f, "{\"time\":\"9999-12-31T00:00:00Z\"}")->ts_ns == LL_TIME_NONE);
}

static void deep_nesting_and_big_numbers(void **state)
{
    struct fx *f = *state;
    struct ll_buf b = {0};
    ll_buf_puts(&b, "{\"msg\":\"deep\",\"x\":");
    for (int i = 0; i < 5000; i++)
        ll_buf_puts(&b, "{\"a\":[");
    for (int i = 0; i < 5000; i++)
        ll_buf_puts(&b, "]}");
    ll_buf_puts(&b, ",\"pid\":123456789012345678901234567890,\"correlationId\":\"deep-1\"}");
    assert_int_equal(decode(f, b.data), LL_OK);
    assert_str(f->ev.msg, "deep");
    assert_str(f->ev.corr_id, "deep-1");
    assert_false(f->ev.flags & LL_EV_HAS_PID); /* overflowing pid is dropped */
    ll_buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Bad lines                                                                 */

static void bad_lines_are_classified(void **state)
{
    struct fx *f = *state;
    REJ(f, "not json", LL_REJECT_NOT_JSON);
    REJ(f, "{\"a\":1", LL_REJECT_NOT_JSON);          /* cut short */
    REJ(f, "{\"a\":1} trailing", LL_REJECT_NOT_JSON);
    REJ(f, "{\"a\":1}{\"b\":2}", LL_REJECT_NOT_JSON); /* two values */
    REJ(f, "[1,2,3]", LL_REJECT_NOT_OBJECT);
    REJ(f, "42", LL_REJECT_NOT_OBJECT);
    REJ(f, "\"just a string\"", LL_REJECT_NOT_OBJECT);
    REJ(f, "null", LL_REJECT_NOT_OBJECT);
    REJ(f, "{\"msg\":\"caf\xe9\"}", LL_REJECT_INVALID_UTF8);
    REJ(f, "{\"msg\":\"a\0b\"}", LL_REJECT_NUL_BYTE);
    REJ(f, "{\"msg\":\"tab\there\"}", LL_REJECT_NOT_JSON);
    REJ(f, "   ", LL_REJECT_NOT_JSON);
}

static void the_line_after_a_bad_one_decodes(void **state)
{
    struct fx *f = *state;
    REJ(f, "{\"msg\":\"unterminated", LL_REJECT_NOT_JSON);
    assert_str(ok(f, "{\"msg\":\"fine\",\"correlationId\":\"n\"}")->corr_id, "n");
    REJ(f, "[{\"correlationId\":\"x\"}]", LL_REJECT_NOT_OBJECT);
    const struct ll_event *ev = ok(f, "{\"msg\":\"fine again\"}");
    assert_str(ev->msg, "fine again");
    assert_int_equal(ev->corr_id.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pino_line, setup, teardown),
        cmocka_unit_test_setup_teardown(pino_error_serializer, setup, teardown),
        cmocka_unit_test_setup_teardown(pg_database_error, setup, teardown),
        cmocka_unit_test_setup_teardown(winston_json_with_spread_error, setup, teardown),
        cmocka_unit_test_setup_teardown(bare_code_is_not_an_error_code_on_an_info_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bunyan_line, setup, teardown),
        cmocka_unit_test_setup_teardown(ecs_format, setup, teardown),
        cmocka_unit_test_setup_teardown(fetch_failed_with_cause, setup, teardown),
        cmocka_unit_test_setup_teardown(error_as_string, setup, teardown),
        cmocka_unit_test_setup_teardown(child_exit_code_and_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(link_keys_child_pid_and_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(each_default_id_path, setup, teardown),
        cmocka_unit_test_setup_teardown(id_paths_are_tried_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(service_spellings, setup, teardown),
        cmocka_unit_test_setup_teardown(numeric_request_counters_are_not_workflow_ids, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(keys_elsewhere_do_not_match, setup, teardown),
        cmocka_unit_test(custom_id_paths_replace_defaults),
        cmocka_unit_test(malformed_field_paths_are_reported),
        cmocka_unit_test_setup_teardown(escaped_strings_survive_the_parser, setup, teardown),
        cmocka_unit_test_setup_teardown(escaped_strings_survive_the_scanner, setup, teardown),
        cmocka_unit_test_setup_teardown(a_line_the_scanner_leaves_midway_decodes_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(byte_order_mark_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_fields_leave_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(unusable_time_is_none, setup, teardown),
        cmocka_unit_test_setup_teardown(deep_nesting_and_big_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_lines_are_classified, setup, teardown),
        cmocka_unit_test_setup_teardown(the_line_after_a_bad_one_decodes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
