/* Rule files: loaded and compiled (regexes included) beside nothing else;
 * a set that compiles then evaluates, through its stateless steps and the
 * stateful engine, a few events of a failing workflow. Every rejected
 * file must say where and why. */
#include "fuzz.h"
#include "logloom/ingest.h"
#include "logloom/rules.h"

static const char *const lines[] = {
    "{\"level\":30,\"time\":1795000000000,\"name\":\"manager\",\"correlationId\":\"r-1\","
    "\"msg\":\"dispatching task to agent\"}",
    "{\"level\":50,\"time\":1795000000100,\"name\":\"agent-1\",\"correlationId\":\"r-1\","
    "\"err\":{\"type\":\"Error\",\"message\":\"spawn EINVAL\",\"code\":\"EINVAL\","
    "\"syscall\":\"spawn\",\"errno\":-22},\"msg\":\"spawn failed\"}",
    "{\"level\":\"error\",\"timestamp\":\"2026-11-18T10:00:01Z\",\"service\":\"agent-2\","
    "\"requestId\":\"r-1\",\"message\":\"deadlock detected\",\"code\":\"40P01\"}",
    "{\"level\":50,\"time\":1795000002000,\"name\":\"manager\",\"correlationId\":\"r-1\","
    "\"err\":{\"message\":\"read ECONNRESET\",\"code\":\"ECONNRESET\",\"errno\":-104,"
    "\"syscall\":\"read\"},\"msg\":\"request failed\"}",
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
};

static void on_alert(void *ctx, const struct ll_alert *a)
{
    (void)ctx;
    (void)a;
}

static uint64_t on_opened(void *ctx, uint64_t id, struct ll_str corr, int64_t ts)
{
    (void)ctx;
    (void)id;
    (void)corr;
    (void)ts;
    return 0;
}

static void setup(void)
{
}

static void evaluate(const ll_ruleset *rs)
{
    ll_rule_eval *eval = ll_rule_eval_new(rs);
    struct ll_decode_conf conf = {.match = ll_rule_eval_match, .match_ctx = eval};
    char err[256];
    ll_decoder *dec = ll_decoder_new(&conf, err, sizeof err);
    struct ll_rule_out out = {.alert = on_alert, .opened = on_opened};
    ll_rule_engine *eng = ll_rule_engine_new(rs, &out);
    struct ll_arena arena;
    ll_arena_init(&arena, 4096);
    for (size_t i = 0; dec && i < sizeof lines / sizeof *lines; i++) {
        struct ll_event ev;
        enum ll_reject why;
        ll_arena_reset(&arena);
        if (ll_decoder_decode(dec, lines[i], strlen(lines[i]), &arena, &ev, &why) != LL_OK)
            ll_decoder_raw_event(dec, lines[i], strlen(lines[i]), &arena, &ev);
        ev.pos = (struct ll_pos){LL_STR("fuzz"), i};
        ev.seq = i + 1;
        if (ev.ts_ns == LL_TIME_NONE)
            ev.ts_ns = INT64_C(1795000000000000000) + (int64_t)i * LL_NS_PER_SEC;
        ll_rule_engine_push(eng, &ev);
        ll_rule_engine_advance(eng, ev.ts_ns - LL_NS_PER_SEC, false);
    }
    ll_rule_engine_advance(eng, INT64_MAX, true);
    ll_rule_engine_flush(eng);
    ll_arena_free(&arena);
    ll_rule_engine_destroy(eng);
    ll_decoder_destroy(dec);
    ll_rule_eval_destroy(eval);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fuzz_file("rules.yaml", data, size, path, sizeof path);
    const char *paths[] = {path};
    ll_ruleset *rs = NULL;
    struct ll_diags diags = {0};
    if (ll_ruleset_load(paths, 1, false, &rs, &diags) == LL_OK)
        evaluate(rs);
    else if (!diags.errors)
        abort(); /* a rejected file says why */
    ll_ruleset_destroy(rs);
    ll_diags_free(&diags);
    return 0;
}
