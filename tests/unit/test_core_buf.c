/* Strings, buffers, arena and the id hash. */
#include "../testutil.h"

#include "logloom/core.h"

static char *json(const char *s, size_t len)
{
    struct ll_buf b = {0};
    ll_buf_json_str(&b, s, len);
    return b.data; /* caller frees */
}

static void json_escapes_quotes_controls_and_keeps_utf8(void **state)
{
    (void)state;
    char *j = json("a\"b\\c\n\t\x01", 8);
    assert_string_equal(j, "\"a\\\"b\\\\c\\n\\t\\u0001\"");
    free(j);
    j = json("héllo ✓ 😀", strlen("héllo ✓ 😀"));
    assert_string_equal(j, "\"héllo ✓ 😀\"");
    free(j);
}

static void json_replaces_invalid_utf8(void **state)
{
    (void)state;
    /* A lone continuation byte, an overlong '/', a surrogate, a cut sequence. */
    char *j = json("a\x80" "b\xC0\xAF" "c\xED\xA0\x80" "d\xE2\x9C", 12);
    assert_string_equal(j, "\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                           "d\xEF\xBF\xBD\xEF\xBF\xBD\"");
    free(j);
    j = json("nul\0x", 5);
    assert_string_equal(j, "\"nul\\u0000x\"");
    free(j);
}

static void text_escapes_terminal_controls_only(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    const char *s = "say \"hi\" \x1b[31mred\xC2\x9B" "2J";
    ll_buf_text(&b, s, strlen(s));
    assert_string_equal(b.data, "say \"hi\" \\u001b[31mred\\u009b2J");
    ll_buf_free(&b);
}

static void utf8_validation(void **state)
{
    (void)state;
    assert_true(ll_utf8_valid("plain", 5));
    assert_true(ll_utf8_valid("\xF0\x9F\x98\x80", 4));
    assert_false(ll_utf8_valid("\xF4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(ll_utf8_valid("\xE0\x80\xAF", 3));     /* overlong */
    assert_false(ll_utf8_valid("\xED\xB0\x80", 3));     /* surrogate */
    assert_false(ll_utf8_valid("\xC3", 1));             /* truncated */
    assert_false(ll_utf8_valid("\xFF", 1));
    /* Bad and good sequences anywhere in a long line: in the 32-byte and
     * 8-byte ASCII strides and in the tail. */
    char line[70];
    for (size_t at = 0; at + 1 < sizeof line; at++) {
        memset(line, 'a', sizeof line);
        line[at] = '\xFF';
        assert_false(ll_utf8_valid(line, sizeof line));
        memcpy(line + at, "\xC3\xA9", 2);
        assert_true(ll_utf8_valid(line, sizeof line));
        memcpy(line + at, "\xED\xB0", 2); /* a surrogate, cut */
        assert_false(ll_utf8_valid(line, sizeof line));
    }
}

static void base64_pads(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    ll_buf_base64(&b, "f", 1);
    ll_buf_putc(&b, ' ');
    ll_buf_base64(&b, "fo", 2);
    ll_buf_putc(&b, ' ');
    ll_buf_base64(&b, "foo", 3);
    ll_buf_putc(&b, ' ');
    ll_buf_base64(&b, "foob\xff", 5);
    assert_string_equal(b.data, "Zg== Zm8= Zm9v Zm9vYv8=");
    ll_buf_free(&b);
}

static void buf_grows_and_formats(void **state)
{
    (void)state;
    struct ll_buf b = {0};
    for (int i = 0; i < 1000; i++)
        ll_buf_printf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.data));
    assert_memory_equal(b.data + b.len - 4, "999,", 4);
    ll_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    ll_buf_free(&b);
}

/* The integer writers against printf, at the edges and in between. */
static void integers_match_printf(void **state)
{
    (void)state;
    const int64_t v[] = {0, 1, -1, 9, 10, -10, 99, 100, 1234567890, -987654321012,
                         INT64_MAX, INT64_MIN, INT64_MIN + 1};
    struct ll_buf b = {0}, want = {0};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        char out[20];
        size_t n = ll_fmt_i64(v[i], out);
        char ref[32];
        int rn = snprintf(ref, sizeof ref, "%lld", (long long)v[i]);
        assert_int_equal(n, (size_t)rn);
        assert_memory_equal(out, ref, n);
        ll_buf_i64(&b, v[i]);
        ll_buf_u64(&b, (uint64_t)v[i]);
        ll_buf_printf(&want, "%lld%llu", (long long)v[i], (unsigned long long)(uint64_t)v[i]);
    }
    assert_int_equal(b.len, want.len);
    assert_string_equal(b.data, want.data);
    ll_buf_free(&b);
    ll_buf_free(&want);
}

static void arena_keeps_allocations_stable_and_aligned(void **state)
{
    (void)state;
    struct ll_arena a;
    ll_arena_init(&a, 64);
    char *first = ll_arena_alloc(&a, 10);
    memcpy(first, "0123456789", 10);
    for (int i = 0; i < 1000; i++) {
        void *p = ll_arena_alloc(&a, (size_t)(i % 37) + 1);
        assert_int_equal((uintptr_t)p % 8, 0);
    }
    assert_memory_equal(first, "0123456789", 10);
    struct ll_str big = ll_arena_dup(&a, (struct ll_str){first, 10});
    assert_memory_equal(big.ptr, "0123456789", 10);
    ll_arena_reset(&a);
    assert_true(ll_arena_footprint(&a) > 0); /* the largest chunk is kept */
    ll_arena_free(&a);
    assert_int_equal(ll_arena_footprint(&a), 0);
}

static void blocks_reuse_freed_blocks_by_class(void **state)
{
    (void)state;
    struct ll_blocks b = {0};
    size_t cap;
    char *p = ll_blocks_get(&b, 1, &cap);
    assert_int_equal(cap, LL_BLOCKS_MIN);
    memset(p, 'x', cap);
    ll_blocks_put(&b, p, cap);
    /* Any size of the same class gets that block back. */
    assert_ptr_equal(ll_blocks_get(&b, LL_BLOCKS_MIN / 2 + 1, &cap), p);
    assert_int_equal(cap, LL_BLOCKS_MIN);
    char *q = ll_blocks_get(&b, 100, &cap);
    assert_int_equal(cap, 128);
    /* Growing keeps the bytes in use and frees the old block for reuse. */
    memcpy(p, "abcdef", 6);
    size_t pcap = LL_BLOCKS_MIN;
    char *r = ll_blocks_grow(&b, p, 6, 1000, &pcap);
    assert_int_equal(pcap, 1024);
    assert_memory_equal(r, "abcdef", 6);
    assert_ptr_equal(ll_blocks_get(&b, 20, &cap), p);
    ll_blocks_put(&b, p, 20); /* a size of its class will do */
    /* Beyond the top class: exact plain blocks, never kept. */
    size_t big = ((size_t)LL_BLOCKS_MIN << (LL_BLOCKS_CLASSES - 1)) + 1;
    char *g = ll_blocks_get(&b, big, &cap);
    assert_int_equal(cap, big);
    ll_blocks_put(&b, g, cap);
    /* A class keeps no more than LL_BLOCKS_KEEP bytes waiting. */
    size_t n = LL_BLOCKS_KEEP / 4096 + 3;
    char **many = calloc(n, sizeof *many);
    for (size_t i = 0; i < n; i++)
        many[i] = ll_blocks_get(&b, 4096, &cap);
    for (size_t i = 0; i < n; i++)
        ll_blocks_put(&b, many[i], 4096);
    assert_int_equal(b.n_free[7], LL_BLOCKS_KEEP / 4096);
    free(many);
    ll_blocks_put(&b, q, 128);
    ll_blocks_put(&b, r, pcap);
    ll_blocks_free(&b);
    for (unsigned k = 0; k < LL_BLOCKS_CLASSES; k++)
        assert_null(b.free[k]);
}

static void hash_is_stable(void **state)
{
    (void)state;
    /* Record ids derive from this hash: a change here changes every id. */
    assert_true(ll_hash64("", 0, 0) == UINT64_C(0));
    assert_true(ll_hash64("workflow-1", 10, 0) == ll_hash64("workflow-1", 10, 0));
    assert_true(ll_hash64("workflow-1", 10, 0) != ll_hash64("workflow-2", 10, 0));
    assert_true(ll_hash64("workflow-1", 10, 0) != ll_hash64("workflow-1", 10, 1));
    char id[17];
    ll_id_format(ll_hash64("abc", 3, 0), id);
    assert_string_equal(id, "9cc9c33498a95efb");
    /* Whole words, and words then a tail. */
    ll_id_format(ll_hash64("workflow", 8, 0), id);
    assert_string_equal(id, "21c51a9d7680b1e3");
    ll_id_format(ll_hash64("f453b1ea-15ee-4d7c-b37e-52920e8a7ef6", 36, 0), id);
    assert_string_equal(id, "5ab15cd16e8031e3");
}

/* The hash as its definition reads: every tail byte on its own. */
static uint64_t hash_by_bytes(const unsigned char *s, size_t len, uint64_t seed)
{
    const uint64_t m = UINT64_C(0xc6a4a7935bd1e995);
    uint64_t h = seed ^ ((uint64_t)len * m);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t k = 0;
        for (size_t j = 8; j-- > 0;)
            k = k << 8 | s[i + j];
        k *= m;
        k ^= k >> 47;
        k *= m;
        h ^= k;
        h *= m;
    }
    if (i < len) {
        uint64_t t = 0;
        for (size_t j = len; j-- > i;)
            t = t << 8 | s[j];
        h ^= t;
        h *= m;
    }
    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;
    return h;
}

static void hash_of_every_length_and_alignment(void **state)
{
    (void)state;
    unsigned char buf[64];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 151 + 7); /* every byte different, high bits too */
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; off + len <= 48; len++)
            assert_true(ll_hash64(buf + off, len, off) == hash_by_bytes(buf + off, len, off));
}

static void mem_eq_finds_a_difference_anywhere(void **state)
{
    (void)state;
    char a[48], b[48];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (char)(i * 37 + 11);
    for (size_t n = 0; n <= 40; n++) {
        memcpy(b, a, sizeof a);
        assert_true(ll_mem_eq(a, b, n));
        assert_true(ll_str_eq((struct ll_str){a, n}, (struct ll_str){b, n}));
        for (size_t at = 0; at < n; at++) {
            memcpy(b, a, sizeof a);
            b[at] ^= 0x01;
            assert_false(ll_mem_eq(a, b, n));
            b[at] ^= (char)0x81; /* the high bit alone */
            assert_false(ll_mem_eq(a, b, n));
        }
    }
    /* Bytes past the length do not count. */
    memcpy(b, a, sizeof a);
    b[9] ^= 1;
    assert_true(ll_mem_eq(a, b, 9));
    assert_false(ll_str_eq((struct ll_str){a, 9}, (struct ll_str){b, 8}));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_escapes_quotes_controls_and_keeps_utf8),
        cmocka_unit_test(hash_of_every_length_and_alignment),
        cmocka_unit_test(mem_eq_finds_a_difference_anywhere),
        cmocka_unit_test(json_replaces_invalid_utf8),
        cmocka_unit_test(text_escapes_terminal_controls_only),
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(base64_pads),
        cmocka_unit_test(integers_match_printf),
        cmocka_unit_test(buf_grows_and_formats),
        cmocka_unit_test(arena_keeps_allocations_stable_and_aligned),
        cmocka_unit_test(blocks_reuse_freed_blocks_by_class),
        cmocka_unit_test(hash_is_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
