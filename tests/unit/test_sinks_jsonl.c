/* The JSONL contract: field names and order, escaping, and the text view's
 * defence against terminal control sequences. */
#include "../testutil.h"

#include "logloom/sinks.h"

static struct ll_timeline sample(struct ll_tl_event *evs, struct ll_str *svcs,
                                 struct ll_hop *hops)
{
    svcs[0] = LL_STR("manager");
    svcs[1] = LL_STR("agent-2");
    hops[0] = (struct ll_hop){LL_STR(""), svcs[0], INT64_C(1795511643118) * LL_NS_PER_MS};
    hops[1] = (struct ll_hop){svcs[0], svcs[1], INT64_C(1795511644500) * LL_NS_PER_MS};
    evs[0] = (struct ll_tl_event){.ts_ns = INT64_C(1795511643118) * LL_NS_PER_MS,
                                  .offset = 0,
                                  .source = LL_STR("manager.log"),
                                  .service = svcs[0],
                                  .msg = LL_STR("workflow \"started\""),
                                  .level = LL_LEVEL_INFO};
    evs[1] = (struct ll_tl_event){.ts_ns = INT64_C(1795511644500) * LL_NS_PER_MS,
                                  .offset = 977,
                                  .source = LL_STR("agent-2.log"),
                                  .service = svcs[1],
                                  .msg = LL_STR("spawn EINVAL\x1b[2J"),
                                  .err_code = LL_STR("EINVAL"),
                                  .via = LL_STR("pid:5120"),
                                  .flags = LL_EV_TIME_INFERRED | LL_EV_LINKED,
                                  .level = LL_LEVEL_ERROR};
    return (struct ll_timeline){.id = UINT64_C(0x00ab00cd00ef0012),
                                .corr_id = LL_STR("f453b1ea"),
                                .start_ns = evs[0].ts_ns,
                                .end_ns = evs[1].ts_ns,
                                .status = LL_TL_FAILED,
                                .reason = LL_TL_CLOSED_GAP,
                                .services = svcs,
                                .n_services = 2,
                                .hops = hops,
                                .n_hops = 2,
                                .events = evs,
                                .n_events_kept = 2,
                                .n_events = 3,
                                .n_errors = 1,
                                .n_dropped = 1,
                                .n_linked = 1};
}

static void timeline_record_fields_in_contract_order(void **state)
{
    (void)state;
    struct ll_tl_event evs[2];
    struct ll_str svcs[2];
    struct ll_hop hops[2];
    struct ll_timeline tl = sample(evs, svcs, hops);
    struct ll_buf b = {0};
    ll_timeline_to_json(&b, &tl, false);
    assert_string_equal(
        b.data, "{\"type\":\"timeline\",\"id\":\"00ab00cd00ef0012\",\"correlation_id\":\"f453b1ea\","
                "\"start\":\"2026-11-24T09:14:03.118Z\",\"end\":\"2026-11-24T09:14:04.500Z\","
                "\"duration_ms\":1382,\"status\":\"failed\",\"reason\":\"gap\",\"services\":["
                "\"manager\",\"agent-2\"],\"events\":3,\"errors\":1,\"alerts\":[],\"hops\":["
                "{\"from\":null,\"to\":\"manager\",\"ts\":\"2026-11-24T09:14:03.118Z\"},"
                "{\"from\":\"manager\",\"to\":\"agent-2\",\"ts\":\"2026-11-24T09:14:04.500Z\"}],"
                "\"linked\":1,\"dropped\":1}\n");
    ll_buf_reset(&b);
    ll_timeline_to_json(&b, &tl, true);
    assert_non_null(strstr(
        b.data, "\"event_list\":[{\"ts\":\"2026-11-24T09:14:03.118Z\",\"service\":\"manager\","
                "\"level\":\"info\",\"msg\":\"workflow \\\"started\\\"\",\"err_code\":null,"
                "\"source\":\"manager.log\",\"offset\":0},{\"ts\":\"2026-11-24T09:14:04.500Z\","
                "\"service\":\"agent-2\",\"level\":\"error\",\"msg\":\"spawn EINVAL\\u001b[2J\","
                "\"err_code\":\"EINVAL\",\"source\":\"agent-2.log\",\"offset\":977,"
                "\"time_inferred\":true,\"via\":\"pid:5120\"}]}\n"));
    ll_buf_free(&b);
}

static void late_and_orphan_records(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    struct ll_late late = {.timeline_id = 0x1234, .corr_id = LL_STR("w"),
                           .ev = {.ts_ns = 0, .service = LL_STR("agent-1"),
                                  .msg = LL_STR("straggler"), .source = LL_STR("a.log"),
                                  .offset = 7, .level = LL_LEVEL_WARN}};
    ll_late_to_json(&b, &late);
    assert_string_equal(b.data, "{\"type\":\"late\",\"timeline_id\":\"0000000000001234\","
                                "\"correlation_id\":\"w\",\"ts\":\"1970-01-01T00:00:00Z\","
                                "\"service\":\"agent-1\",\"level\":\"warn\",\"msg\":\"straggler\","
                                "\"err_code\":null,\"source\":\"a.log\",\"offset\":7}\n");
    ll_buf_reset(&b);
    late.timeline_id = 0;
    ll_late_to_json(&b, &late);
    assert_non_null(strstr(b.data, "\"timeline_id\":null"));
    ll_buf_reset(&b);
    struct ll_orphans o = {.service = LL_STR("worker"), .n = 7, .n_with_id = 0,
                           .first_ns = LL_NS_PER_SEC, .last_ns = 2 * LL_NS_PER_SEC,
                           .examples = {{LL_STR("child-4318.log"), 0}}, .n_examples = 1};
    ll_orphans_to_json(&b, &o);
    assert_string_equal(b.data, "{\"type\":\"orphans\",\"service\":\"worker\",\"events\":7,"
                                "\"with_id\":0,\"first\":\"1970-01-01T00:00:01Z\",\"last\":"
                                "\"1970-01-01T00:00:02Z\",\"examples\":[{\"source\":"
                                "\"child-4318.log\",\"offset\":0}]}\n");
    ll_buf_free(&b);
}

static void stats_record_lists_every_reason(void **state)
{
    (void)state;
    struct ll_stats st = {.inputs = 3, .events = 10, .lines = 14, .bytes = 999, .timelines = 2,
                          .orphans = 3, .time_inferred = 1, .linked = 4, .late = 1,
                          .evicted = 0, .open_max = 2};
    st.rejected[LL_REJECT_NOT_JSON] = 4;
    struct ll_orphans orph[] = {{.service = LL_STR("worker"), .n = 3}};
    struct ll_buf b = {0};
    ll_stats_to_json(&b, &st, orph, 1);
    assert_string_equal(
        b.data, "{\"type\":\"stats\",\"events\":10,\"rejected\":{\"not_json\":4,\"not_object\":0,"
                "\"invalid_utf8\":0,\"too_long\":0,\"nul_byte\":0},\"timelines\":2,\"orphans\":3,"
                "\"orphans_by_service\":{\"worker\":3},\"inputs\":3,\"input_errors\":0,"
                "\"lines\":14,\"bytes\":999,\"time_inferred\":1,\"filtered\":0,\"linked\":4,"
                "\"late\":1,\"evicted\":0,\"open_max\":2,\"raw_events\":0,\"alerts\":0,"
                "\"alerts_suppressed\":0,\"alerts_rate_limited\":0,\"recovered\":0,"
                "\"regex_limit_hits\":0}\n");
    ll_buf_free(&b);
}

static void text_view_escapes_control_sequences(void **state)
{
    (void)state;
    struct ll_tl_event evs[2];
    struct ll_str svcs[2];
    struct ll_hop hops[2];
    struct ll_timeline tl = sample(evs, svcs, hops);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    struct ll_sink_opts opts = {.color = false};
    ll_sink *s = ll_sink_text_new(fp, &opts);
    assert_int_equal(ll_sink_timeline(s, &tl), LL_OK);
    assert_int_equal(ll_sink_flush(s), LL_OK);
    ll_sink_destroy(s);
    fclose(fp);
    assert_null(strchr(buf, '\x1b'));
    assert_non_null(strstr(buf, "spawn EINVAL\\u001b[2J  [EINVAL]  (via pid:5120)"));
    assert_non_null(strstr(buf, "manager -> agent-2"));
    assert_non_null(strstr(buf, "+1.382s"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeline_record_fields_in_contract_order),
        cmocka_unit_test(late_and_orphan_records),
        cmocka_unit_test(stats_record_lists_every_reason),
        cmocka_unit_test(text_view_escapes_control_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
