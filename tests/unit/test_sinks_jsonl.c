/* The JSONL contract: field names and order, escaping, and the text view's
 * defence against terminal control sequences. */
#include "../testutil.h"

#include "logloom/sinks.h"

static struct ll_timeline sample(struct ll_tl_event *evs, struct ll_str *svcs)
{
    svcs[0] = LL_STR("manager");
    svcs[1] = LL_STR("agent-2");
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
                                  .flags = LL_EV_TIME_INFERRED,
                                  .level = LL_LEVEL_ERROR};
    return (struct ll_timeline){.id = UINT64_C(0x00ab00cd00ef0012),
                                .corr_id = LL_STR("f453b1ea"),
                                .start_ns = evs[0].ts_ns,
                                .end_ns = evs[1].ts_ns,
                                .status = LL_TL_FAILED,
                                .reason = LL_TL_CLOSED_GAP,
                                .services = svcs,
                                .n_services = 2,
                                .events = evs,
                                .n_events_kept = 2,
                                .n_events = 2,
                                .n_errors = 1};
}

static void timeline_record_fields_in_contract_order(void **state)
{
    (void)state;
    struct ll_tl_event evs[2];
    struct ll_str svcs[2];
    struct ll_timeline tl = sample(evs, svcs);
    struct ll_buf b = {0};
    ll_timeline_to_json(&b, &tl, false);
    assert_string_equal(
        b.data, "{\"type\":\"timeline\",\"id\":\"00ab00cd00ef0012\",\"correlation_id\":\"f453b1ea\","
                "\"start\":\"2026-11-24T09:14:03.118Z\",\"end\":\"2026-11-24T09:14:04.500Z\","
                "\"duration_ms\":1382,\"status\":\"failed\",\"reason\":\"gap\",\"services\":["
                "\"manager\",\"agent-2\"],\"events\":2,\"errors\":1,\"alerts\":[]}\n");
    ll_buf_reset(&b);
    ll_timeline_to_json(&b, &tl, true);
    assert_non_null(strstr(
        b.data, "\"event_list\":[{\"ts\":\"2026-11-24T09:14:03.118Z\",\"service\":\"manager\","
                "\"level\":\"info\",\"msg\":\"workflow \\\"started\\\"\",\"err_code\":null,"
                "\"source\":\"manager.log\",\"offset\":0},{\"ts\":\"2026-11-24T09:14:04.500Z\","
                "\"service\":\"agent-2\",\"level\":\"error\",\"msg\":\"spawn EINVAL\\u001b[2J\","
                "\"err_code\":\"EINVAL\",\"source\":\"agent-2.log\",\"offset\":977,"
                "\"time_inferred\":true}]}\n"));
    ll_buf_free(&b);
}

static void stats_record_lists_every_reason(void **state)
{
    (void)state;
    struct ll_stats st = {.inputs = 3, .events = 10, .lines = 14, .bytes = 999, .timelines = 2,
                          .orphans = 3, .time_inferred = 1};
    st.rejected[LL_REJECT_NOT_JSON] = 4;
    struct ll_count orph[] = {{LL_STR("worker"), 3}};
    struct ll_buf b = {0};
    ll_stats_to_json(&b, &st, orph, 1);
    assert_string_equal(
        b.data, "{\"type\":\"stats\",\"events\":10,\"rejected\":{\"not_json\":4,\"not_object\":0,"
                "\"invalid_utf8\":0,\"too_long\":0,\"nul_byte\":0},\"timelines\":2,\"orphans\":3,"
                "\"orphans_by_service\":{\"worker\":3},\"inputs\":3,\"input_errors\":0,"
                "\"lines\":14,\"bytes\":999,\"time_inferred\":1,\"filtered\":0}\n");
    ll_buf_free(&b);
}

static void text_view_escapes_control_sequences(void **state)
{
    (void)state;
    struct ll_tl_event evs[2];
    struct ll_str svcs[2];
    struct ll_timeline tl = sample(evs, svcs);
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
    assert_non_null(strstr(buf, "spawn EINVAL\\u001b[2J  [EINVAL]"));
    assert_non_null(strstr(buf, "manager -> agent-2"));
    assert_non_null(strstr(buf, "+1.382s"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timeline_record_fields_in_contract_order),
        cmocka_unit_test(stats_record_lists_every_reason),
        cmocka_unit_test(text_view_escapes_control_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
