/* Delivery sinks without servers: options from URLs and by name, passwords
 * masked in every URL form, and the file sink's batches, acknowledgements
 * and back-pressure through the real queue and thread. */
#define LL_TMPDIR
#include "../testutil.h"

#include "logloom/sinks.h"

static void mask_is(const char *url, const char *want)
{
    char out[512];
    ll_url_mask(url, out, sizeof out);
    assert_string_equal(out, want);
}

static void passwords_are_masked_in_every_url_form(void **state)
{
    (void)state;
    mask_is("postgresql://logloom:hunter2@db:5432/alerts", "postgresql://logloom:***@db:5432/alerts");
    mask_is("postgres://u:p%40ss@db/x?sslmode=require", "postgres://u:***@db/x?sslmode=require");
    mask_is("postgresql://db/x?user=u&password=hunter2&port=5", "postgresql://db/x?user=u&password=***&port=5");
    mask_is("host=/run/pg dbname=x password=hunter2 user=u", "host=/run/pg dbname=x password=*** user=u");
    mask_is("host=db password='hun ter\\'2' dbname=x", "host=db password=*** dbname=x");
    mask_is("redis://:hunter2@cache:6380/2", "redis://:***@cache:6380/2");
    mask_is("redis://alice:hunter2@cache", "redis://alice:***@cache");
    mask_is("redis://hunter2@cache", "redis://***@cache");
    mask_is("unix:///run/redis.sock?db=2&password=hunter2", "unix:///run/redis.sock?db=2&password=***");
    /* Kafka's and libpq's other secrets, in query parameters. */
    mask_is("kafka://k1:9092/alerts?sasl.username=u&sasl.password=hunter2&acks=all",
            "kafka://k1:9092/alerts?sasl.username=u&sasl.password=***&acks=all");
    mask_is("kafka://k1/a?ssl.key.password=hunter2&sasl.oauthbearer.client.secret=s3",
            "kafka://k1/a?ssl.key.password=***&sasl.oauthbearer.client.secret=***");
    mask_is("postgresql://db/x?sslpassword=hunter2", "postgresql://db/x?sslpassword=***");
    mask_is("postgresql://u@db/x", "postgresql://u@db/x");
    mask_is("file:alerts.jsonl", "file:alerts.jsonl");
}

static void options_come_from_the_url_or_by_name(void **state)
{
    (void)state;
    struct ll_delivery_conf c;
    char err[256];
    assert_int_equal(ll_delivery_conf_parse(&c, "redis://h/0#receive=both&batch=50&linger=0&"
                                                 "maxlen=0&stream=a:b&dedupe_ttl=1h",
                                            err, sizeof err),
                     LL_OK);
    assert_string_equal(c.url, "redis://h/0");
    assert_int_equal(c.receive, LL_RECEIVE_ALERTS | LL_RECEIVE_TIMELINES);
    assert_int_equal(c.batch, 50);
    assert_true(c.linger_ns == 0);
    assert_int_equal(c.maxlen, 0);
    assert_string_equal(c.stream, "a:b");
    assert_true(c.dedupe_ttl_ns == 3600 * LL_NS_PER_SEC);
    assert_true(c.retry_max_ns == 30 * LL_NS_PER_SEC); /* untouched: the default */
    ll_delivery_conf_free(&c);

    /* A '#' that does not start options belongs to the URL (a password). */
    assert_int_equal(ll_delivery_conf_parse(&c, "host=db password=a#b", err, sizeof err), LL_OK);
    assert_string_equal(c.url, "host=db password=a#b");
    ll_delivery_conf_free(&c);

    assert_int_equal(ll_delivery_conf_parse(&c, "file:x#recieve=timelines", err, sizeof err),
                     LL_EINVAL);
    assert_string_equal(err, "unknown sink option 'recieve' (did you mean 'receive'?)");
    ll_delivery_conf_init(&c, "file:x");
    assert_int_equal(ll_delivery_conf_set(&c, "batch", "0", err, sizeof err), LL_EINVAL);
    assert_int_equal(ll_delivery_conf_set(&c, "linger", "soon", err, sizeof err), LL_EINVAL);
    assert_int_equal(ll_delivery_conf_set(&c, "receive", "alerts,bogus", err, sizeof err),
                     LL_EINVAL);
    assert_int_equal(ll_delivery_conf_set(&c, "receive", "timelines", err, sizeof err), LL_OK);
    assert_int_equal(c.receive, LL_RECEIVE_TIMELINES);
    ll_delivery_conf_free(&c);
}

static void unusable_sinks_fail_at_open_with_a_reason(void **state)
{
    (void)state;
    struct ll_delivery_conf c;
    char err[512];
    ll_sink *s;
    const char *bad[][2] = {
        {"rediss://:pw@cache", "TLS is not supported"},
        {"redis://cache:99999", "not a Redis URL"},
        {"mongodb://x", "unknown sink"},
        {"host=db bogus_option=1", "invalid connection option"},
        {"file:/nonexistent-dir/alerts.jsonl", "No such file or directory"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ll_delivery_conf_init(&c, bad[i][0]);
        assert_int_equal(ll_sink_delivery_open(&c, &s, err, sizeof err), LL_EINVAL);
        assert_null(s);
        if (!strstr(err, bad[i][1]))
            fail_msg("%s: got '%s'", bad[i][0], err);
        assert_null(strstr(err, ":pw@"));
        ll_delivery_conf_free(&c);
    }
}

static struct ll_alert alert(uint64_t id)
{
    static struct ll_evidence ev = {{LL_STR("a.log"), 7}, 1, LL_STR("{\"x\":1}")};
    return (struct ll_alert){.id = id, .rule = LL_STR("r"), .symptom = LL_STR("econnreset"),
                             .playbook = LL_STR("2.2"), .severity = LL_STR("error"),
                             .title = LL_STR("t"), .summary = LL_STR("s"),
                             .service = LL_STR("svc"), .remediation = LL_STR("fix"),
                             .first_ns = LL_NS_PER_SEC, .last_ns = LL_NS_PER_SEC, .count = 1,
                             .evidence = &ev, .n_evidence = 1};
}

static void file_sink_appends_every_record_and_acknowledges_in_order(void **state)
{
    (void)state;
    char spec[700], err[512];
    snprintf(spec, sizeof spec, "file:%s/alerts.jsonl#batch=7&queue=10&linger=1ms", dir);
    struct ll_delivery_conf c;
    assert_int_equal(ll_delivery_conf_parse(&c, spec, err, sizeof err), LL_OK);
    ll_sink *s;
    assert_int_equal(ll_sink_delivery_open(&c, &s, err, sizeof err), LL_OK);
    /* More than the queue holds: pushing waits for the thread. */
    for (uint64_t i = 0; i < 100; i++) {
        struct ll_alert a = alert(i + 1);
        assert_int_equal(ll_sink_alert(s, &a), LL_OK);
    }
    struct ll_timeline tl = {.id = 77, .corr_id = LL_STR("w")};
    assert_int_equal(ll_sink_timeline(s, &tl), LL_OK); /* not received: alerts only */
    assert_int_equal(ll_sink_drain(s, NULL), LL_OK);
    assert_int_equal(ll_sink_acked(s), 100);
    struct ll_delivery_report rep;
    ll_sink_report(s, &rep);
    assert_int_equal(rep.queued, 100);
    assert_int_equal(rep.delivered, 100);
    assert_true(rep.batches >= 15); /* at most 7 a batch */
    assert_string_equal(rep.name + strlen(rep.name) - strlen("/alerts.jsonl"), "/alerts.jsonl");
    ll_sink_destroy(s);
    ll_delivery_conf_free(&c);

    char path[600];
    snprintf(path, sizeof path, "%s/alerts.jsonl", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    size_t len;
    char *text = read_file(path, &len);
    size_t lines = 0;
    for (char *p = text; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 100);
    /* In the order they were handed over. */
    char *first = strstr(text, "\"id\":\"0000000000000001\""),
         *last = strstr(text, "\"id\":\"0000000000000064\"");
    assert_true(first && last && first < last);
    free(text);
}

/* Opens a file sink by @p spec, hands it @p n alerts and drains it;
 * @returns how many it acknowledged. */
static uint64_t deliver(const char *spec, const struct ll_alert *alerts, size_t n)
{
    char err[512];
    struct ll_delivery_conf c;
    assert_int_equal(ll_delivery_conf_parse(&c, spec, err, sizeof err), LL_OK);
    ll_sink *s;
    assert_int_equal(ll_sink_delivery_open(&c, &s, err, sizeof err), LL_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ll_sink_alert(s, &alerts[i]), LL_OK);
    assert_int_equal(ll_sink_drain(s, NULL), LL_OK);
    uint64_t acked = ll_sink_acked(s);
    ll_sink_destroy(s);
    ll_delivery_conf_free(&c);
    return acked;
}

static size_t lines_in(const char *path)
{
    char *text = read_file(path, NULL);
    size_t n = 0;
    for (char *p = text; (p = strchr(p, '\n')); p++)
        n++;
    free(text);
    return n;
}

/* Records made again (a restart reading its input again, a replay run
 * again) are acknowledged but not appended when the end of the file holds
 * the same line; a changed record (a higher count) is appended. Only whole
 * lines within dedupe_bytes count. */
static void file_sink_does_not_append_what_its_end_holds_already(void **state)
{
    (void)state;
    char path[600], spec[800];
    snprintf(path, sizeof path, "%s/again.jsonl", dir);
    struct ll_alert a[13];
    for (size_t i = 0; i < 12; i++)
        a[i] = alert(i + 1);
    snprintf(spec, sizeof spec, "file:%s", path);
    assert_int_equal(deliver(spec, a, 10), 10);
    assert_int_equal(lines_in(path), 10);
    a[12] = alert(5);
    a[12].count = 2;
    assert_int_equal(deliver(spec, a, 13), 13); /* 1..10 again, 11, 12, 5 with count 2 */
    assert_int_equal(lines_in(path), 13);
    snprintf(spec, sizeof spec, "file:%s#dedupe_bytes=0", path);
    assert_int_equal(deliver(spec, a, 1), 1);
    assert_int_equal(lines_in(path), 14);

    /* The window: the last line (alert 1) and the byte before it, or one
     * byte less (that line cut: not noted). */
    size_t len;
    char *text = read_file(path, &len);
    size_t last = 1; /* "...\n{alert 1}\n": the bytes after the one but last newline */
    while (text[len - 1 - last] != '\n')
        last++;
    free(text);
    snprintf(spec, sizeof spec, "file:%s#dedupe_bytes=%zu", path, last);
    assert_int_equal(deliver(spec, a, 1), 1);
    assert_int_equal(lines_in(path), 14);
    assert_int_equal(deliver(spec, &a[11], 1), 1); /* alert 12: further back */
    assert_int_equal(lines_in(path), 15);
    snprintf(spec, sizeof spec, "file:%s#dedupe_bytes=%zu", path, last - 1);
    assert_int_equal(deliver(spec, &a[11], 1), 1); /* now the last line, cut */
    assert_int_equal(lines_in(path), 16);
}

/* What a sink appended is noted too, not only what its file held when it
 * opened: a Kafka member that gets a partition back makes its records again
 * within one lifetime. Noted in windows of dedupe_bytes, the last two kept,
 * so memory stays bounded and only the oldest are forgotten. */
static void file_sink_does_not_append_what_it_appended_already(void **state)
{
    (void)state;
    char path[600], spec[800], err[512];
    snprintf(path, sizeof path, "%s/appended.jsonl", dir);
    struct ll_alert a[6];
    for (size_t i = 0; i < 6; i++)
        a[i] = alert(i + 1);
    /* One alert's line is under 400 bytes: each window holds a line or two. */
    snprintf(spec, sizeof spec, "file:%s#dedupe_bytes=400", path);
    struct ll_delivery_conf c;
    assert_int_equal(ll_delivery_conf_parse(&c, spec, err, sizeof err), LL_OK);
    ll_sink *s;
    assert_int_equal(ll_sink_delivery_open(&c, &s, err, sizeof err), LL_OK);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(ll_sink_alert(s, &a[i]), LL_OK);
    assert_int_equal(ll_sink_drain(s, NULL), LL_OK);
    assert_int_equal(lines_in(path), 6);
    assert_int_equal(ll_sink_alert(s, &a[5]), LL_OK); /* the last: noted */
    assert_int_equal(ll_sink_drain(s, NULL), LL_OK);
    assert_int_equal(lines_in(path), 6);
    assert_int_equal(ll_sink_alert(s, &a[0]), LL_OK); /* the first: windows ago */
    assert_int_equal(ll_sink_drain(s, NULL), LL_OK);
    assert_int_equal(lines_in(path), 7);
    assert_int_equal(ll_sink_acked(s), 8);
    ll_sink_destroy(s);
    ll_delivery_conf_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passwords_are_masked_in_every_url_form),
        cmocka_unit_test(options_come_from_the_url_or_by_name),
        cmocka_unit_test(unusable_sinks_fail_at_open_with_a_reason),
        cmocka_unit_test(file_sink_appends_every_record_and_acknowledges_in_order),
        cmocka_unit_test(file_sink_does_not_append_what_its_end_holds_already),
        cmocka_unit_test(file_sink_does_not_append_what_it_appended_already),
    };
    return cmocka_run_group_tests(tests, tmpdir_group_setup, tmpdir_group_teardown);
}
