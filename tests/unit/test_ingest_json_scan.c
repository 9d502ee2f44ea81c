/* The line scanner against yajl: on every line it takes, it makes the same
 * callbacks as yajl, with the same bytes, from the same place (the line,
 * or a scratch buffer for escaped strings); it takes every plain line of
 * the real logs; it leaves to yajl what it is not sure of. */
#include "../testutil.h"

#include "../json_trace.h"

static struct ll_buf scratch;

/* If the scanner takes @p line, yajl takes it too, with the same trace,
 * and its UTF-8 is strict. @returns whether the scanner took it. */
static bool agrees(const char *line, size_t len)
{
    char *mine = scan(line, len, &scratch);
    if (!mine)
        return false;
    char *ref = yajl(line, len);
    if (!ref || strcmp(mine, ref) != 0 || !ll_utf8_valid(line, len)) {
        print_error("scanner and yajl differ on: %.*s\nscanner:\n%s\nyajl:\n%s\n", (int)len,
                    line, mine, ref ? ref : "(error)\n");
        fail();
    }
    free(mine);
    free(ref);
    return true;
}

static void takes_common_lines_as_yajl_does(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "{}",
        " \t{ } \r\n",
        "{\"level\":30,\"time\":1768464000001,\"pid\":77622,\"hostname\":\"agent-4\","
        "\"msg\":\"worker finished\"}",
        "{\"a\":[],\"b\":[1,-2,3.5,-0,0.25e-3,1E+9,2e7],\"c\":{},\"d\":{\"e\":{\"f\":null}}}",
        "{\"t\":true,\"f\":false,\"n\":null,\"s\":\"\",\"\":\"empty key\"}",
        "{ \"spaced\" : [ 1 , { \"x\" : \"y\" } , [ ] ] , \"k\" : \"v\" }",
        "{\"msg\":\"line\\nbreak\\ttab \\\"quoted\\\" back\\\\slash \\/ \\b\\f\\r\"}",
        "{\"esc\\\"key\":1,\"plain\":\"after an escaped key\"}",
        "{\"utf8\":\"d\xc3\xa9j\xc3\xa0 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87\"}",
        "{\"err\":{\"type\":\"Error\",\"message\":\"spawn EINVAL\",\"stack\":\"Error: spawn "
        "EINVAL\\n    at ChildProcess.spawn (node:internal/child_process:421:11)\",\"errno\":-22,"
        "\"code\":\"EINVAL\",\"syscall\":\"spawn\"}}",
        "{\"del\":\"\x7f\",\"long\":\"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop\"}",
        "{\"dup\":1,\"dup\":2}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        if (!agrees(lines[i], strlen(lines[i])))
            fail_msg("the scanner gave up on: %s", lines[i]);
}

static void leaves_to_yajl_what_it_is_not_sure_of(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "",
        "   ",
        "[1,2]",
        "\"a string\"",
        "42",
        "{}{}",
        "{} {\"a\":1}",
        "{\"a\":1} x",
        "{\"a\":1",
        "{\"a\":\"unterminated",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "{,\"a\":1}",
        "{\"a\":[1,]}",
        "{\"a\":1 \"b\":2}",
        "{a:1}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":-}",
        "{\"a\":+1}",
        "{\"a\":1e}",
        "{\"a\":1e+}",
        "{\"a\":0x10}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":True}",
        "{\"a\":truex}",
        "{\"a\":\"\\u00e9\"}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"\x01\"}",
        "{\v\"a\":1}",
        "{\"a\":1}\f",
        "{\"a\":1} // comment",
        "{\"a\":\"\xc0\xaf\"}",      /* overlong */
        "{\"a\":\"\xed\xa0\x80\"}",  /* a surrogate */
        "{\"a\":\"\xf5\x80\x80\x80\"}", /* past U+10FFFF */
        "{\"a\":\"\xc3\"}",          /* cut */
        "{\"a\":\"\x80\"}",          /* a lone continuation byte */
        "{\"\xff\":1}",
        "\xef\xbb\xbf{}",           /* the decoder strips a byte-order mark first */
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char *t = scan(lines[i], strlen(lines[i]), &scratch);
        if (t)
            fail_msg("the scanner took: %s", lines[i]);
    }
    /* A NUL byte inside a string. */
    static const char nul[] = "{\"a\":\"x\0y\"}";
    assert_null(scan(nul, sizeof nul - 1, &scratch));
}

/* @p depth containers open at the deepest point: an object holding
 * depth - 1 nested arrays. */
static char *nested(size_t depth)
{
    struct ll_buf b = {0};
    ll_buf_puts(&b, "{\"a\":");
    for (size_t i = 1; i < depth; i++)
        ll_buf_putc(&b, '[');
    for (size_t i = 1; i < depth; i++)
        ll_buf_putc(&b, ']');
    ll_buf_putc(&b, '}');
    return b.data;
}

static void nests_up_to_64_deep(void **state)
{
    (void)state;
    char *ok = nested(64), *deep = nested(65);
    assert_true(agrees(ok, strlen(ok)));
    assert_null(scan(deep, strlen(deep), &scratch));
    char *ref = yajl(deep, strlen(deep));
    assert_non_null(ref);
    free(ref);
    free(ok);
    free(deep);
}

/* yajl takes it as one object, its UTF-8 is strict, and it has none of the
 * forms the scanner leaves to yajl. */
static bool plain(const char *line, size_t len)
{
    char *ref = yajl(line, len);
    if (!ref)
        return false;
    int depth = 0, values = 0;
    for (const char *p = ref; *p;) {
        char *colon;
        size_t n = strtoull(p + 1, &colon, 10);
        if (*p == '}' || *p == ']')
            depth--;
        else if (values += depth == 0, *p == '{' || *p == '[')
            depth++;
        p = colon + 1 + n + 1;
    }
    bool one_object = ref[0] == '{' && values == 1;
    free(ref);
    return one_object && ll_utf8_valid(line, len) && !memmem(line, len, "\\u", 2) &&
           !memchr(line, '\v', len) && !memchr(line, '\f', len);
}

static void takes_every_plain_line_of_real_logs(void **state)
{
    (void)state;
    const char *src = getenv("LL_SOURCE_DIR");
    assert_non_null(src);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/data", src);
    struct lines l = {0};
    assert_true(add_tree(&l, dir) > 50);
    size_t plain_lines = 0, taken_lines = 0;
    for (size_t i = 0; i < l.n; i++) {
        size_t n = strlen(l.v[i]);
        bool is_plain = plain(l.v[i], n), taken = agrees(l.v[i], n);
        if (is_plain && !taken)
            fail_msg("the scanner gave up on a plain line: %s", l.v[i]);
        plain_lines += is_plain;
        taken_lines += taken;
    }
    print_message("%zu lines, %zu plain, %zu taken\n", l.n, plain_lines, taken_lines);
    assert_true(plain_lines > 1000);
    assert_int_equal(taken_lines, plain_lines);
    lines_free(&l);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * UINT64_C(0x2545F4914F6CDD1D);
}

static void mutations_never_make_them_differ(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "{\"level\":50,\"time\":1768464000001,\"msg\":\"spawn failed\","
        "\"err\":{\"code\":\"EINVAL\",\"errno\":-22,\"stack\":\"Error\\n at x\"},"
        "\"tags\":[\"a\",1,true,null,{\"k\":[]}]}",
        "{\"a\":\"d\xc3\xa9j\xc3\xa0\",\"b\":-0.5e+3,\"c\":[[],{}],\"d\":\"\\\"\\\\\\/\"}",
    };
    static const char bytes[] =
        "\"\\{}[],: \t\n\v\fu0-.eE+tfnl9\x7f\x80\xbf\xc3\xa9\xc0\xed\xf0\xf5";
    char buf[512];
    size_t taken = 0, refused = 0;
    for (int i = 0; i < 60000; i++) {
        const char *seed = seeds[next() % 2];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        for (int m = 0, edits = 1 + (int)(next() % 3); m < edits && len; m++) {
            size_t at = next() % len;
            char c = bytes[next() % (sizeof bytes - 1)];
            switch (next() % 4) {
            case 0: buf[at] = c; break;
            case 1: /* delete */
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            case 2: /* insert */
                if (len + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
                break;
            default: len = at + 1; /* cut */
            }
        }
        if (agrees(buf, len))
            taken++;
        else
            refused++;
    }
    print_message("%zu mutated lines taken, %zu left to yajl\n", taken, refused);
    assert_true(taken > 5000);
    assert_true(refused > 5000);
}

static int teardown(void **state)
{
    (void)state;
    ll_buf_free(&scratch);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(takes_common_lines_as_yajl_does),
        cmocka_unit_test(leaves_to_yajl_what_it_is_not_sure_of),
        cmocka_unit_test(nests_up_to_64_deep),
        cmocka_unit_test(takes_every_plain_line_of_real_logs),
        cmocka_unit_test(mutations_never_make_them_differ),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
