/* Line framing and JSON decoding: the bytes are a log file (plain or gzip)
 * read by the line reader, each line decoded to an event with the
 * built-in rules' stateless steps evaluated on it, as replay does. The
 * first byte picks the longest line allowed, so that cut lines are
 * common. */
#include "fuzz.h"
#include "logloom/ingest.h"
#include "logloom/rules.h"

static ll_ruleset *rules;
static ll_rule_eval *eval;
static ll_decoder *dec;
static struct ll_arena arena;

static void setup(void)
{
    struct ll_diags diags = {0};
    if (ll_ruleset_load(NULL, 0, true, &rules, &diags) != LL_OK)
        abort();
    ll_diags_free(&diags);
    eval = ll_rule_eval_new(rules);
    struct ll_decode_conf conf = {.match = ll_rule_eval_match, .match_ctx = eval};
    char err[256];
    if (!(dec = ll_decoder_new(&conf, err, sizeof err)))
        abort();
    ll_arena_init(&arena, 16 << 10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    size_t max_line = 64 + (size_t)data[0] * 64; /* 64 B to 16 KiB */
    char path[512], err[256];
    fuzz_file("input.log", data + 1, size - 1, path, sizeof path);
    ll_reader *r;
    if (ll_reader_open(path, max_line, 4096, &r, err, sizeof err) != LL_OK)
        return 0;
    struct ll_line line;
    for (;;) {
        int rc = ll_reader_next(r, &line);
        if (rc == LL_EAGAIN) {
            if (ll_reader_fill(r) != LL_OK)
                break;
            continue;
        }
        if (rc != LL_OK)
            break;
        ll_arena_reset(&arena);
        struct ll_event ev;
        enum ll_reject why;
        if (ll_decoder_decode(dec, line.ptr, line.len, &arena, &ev, &why) != LL_OK) {
            if (!*ll_decoder_error(dec))
                abort(); /* every rejection says why */
            ll_decoder_raw_event(dec, line.ptr, line.len, &arena, &ev);
        }
    }
    ll_reader_close(r);
    return 0;
}
