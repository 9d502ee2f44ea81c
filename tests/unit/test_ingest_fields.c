/* The decoder's field trie: a key finds its node whatever its length, a
 * key one byte away from a path finds nothing, and case counts except
 * under "headers". */
#include "../testutil.h"

#include "../../ingest/fields.h"

static const char *const keys[] = {
    "a",        "ab",        "abc",        "abcd",        "abcde",        "abcdef",
    "abcdefg",  "abcdefgh",  "abcdefghi",  "abcdefghijk", "abcdefghijklmnop",
    "abcdefghijklmnopq",     "abcdefghijklmnopqrstuvwxyz0123456789",
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static uint32_t child(const struct ll__fieldset *fs, uint32_t node, const char *key)
{
    /* A copy of exactly the key's length, so reads past it are caught. */
    size_t n = strlen(key);
    if (!n)
        return ll__fieldset_child(fs, node, key, 0);
    char *k = malloc(n);
    memcpy(k, key, n);
    uint32_t c = ll__fieldset_child(fs, node, k, n);
    free(k);
    return c;
}

static void every_length_and_every_byte(void **state)
{
    (void)state;
    struct ll__fieldset fs = {0};
    char err[128], path[64];
    for (size_t i = 0; i < N_KEYS; i++)
        assert_int_equal(ll__fieldset_add(&fs, keys[i], LL__F_MSG, (uint16_t)i, LL__T_STRING,
                                          err, sizeof err),
                         LL_OK);
    snprintf(path, sizeof path, "req.headers[\"x-request-id\"]");
    assert_int_equal(ll__fieldset_add(&fs, path, LL__F_CORR, 0, LL__T_STRING, err, sizeof err),
                     LL_OK);
    ll__fieldset_seal(&fs);

    uint32_t found[N_KEYS];
    for (size_t i = 0; i < N_KEYS; i++) {
        found[i] = child(&fs, 0, keys[i]);
        assert_int_not_equal(found[i], LL__NODE_NONE);
        assert_int_equal(fs.nodes[found[i]].key.len, strlen(keys[i]));
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(found[i], found[j]);
        /* One byte changed, at each place in turn; then its case. */
        char k[64];
        size_t n = strlen(keys[i]);
        for (size_t at = 0; at < n; at++) {
            memcpy(k, keys[i], n + 1);
            k[at] = '_';
            assert_int_equal(child(&fs, 0, k), LL__NODE_NONE);
            k[at] = (char)(keys[i][at] ^ 0x20);
            assert_int_equal(child(&fs, 0, k), LL__NODE_NONE);
        }
    }
    assert_int_equal(child(&fs, 0, ""), LL__NODE_NONE);

    uint32_t req = child(&fs, 0, "req");
    assert_int_not_equal(req, LL__NODE_NONE);
    assert_int_equal(child(&fs, req, "Headers"), LL__NODE_NONE);
    uint32_t headers = child(&fs, req, "headers");
    assert_int_not_equal(headers, LL__NODE_NONE);
    uint32_t id = child(&fs, headers, "x-request-id");
    assert_int_not_equal(id, LL__NODE_NONE);
    assert_int_equal(child(&fs, headers, "X-Request-ID"), id);
    assert_int_equal(child(&fs, headers, "x-request-ix"), LL__NODE_NONE);
    assert_int_equal(child(&fs, id, "x"), LL__NODE_NONE); /* a leaf */
    ll__fieldset_free(&fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_length_and_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
