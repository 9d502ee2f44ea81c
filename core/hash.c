/* A stable 64-bit hash (multiply-xorshift over little-endian 8-byte words).
 * Record ids are derived from it, so its output must never change. */
#include "logloom/core.h"

static inline uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t ll_hash64(const void *p, size_t len, uint64_t seed)
{
    const uint64_t m = UINT64_C(0xc6a4a7935bd1e995);
    const unsigned char *s = p;
    uint64_t h = seed ^ ((uint64_t)len * m);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t k = load_le64(s + i);
        k *= m;
        k ^= k >> 47;
        k *= m;
        h ^= k;
        h *= m;
    }
    if (i < len) {
        uint64_t k = 0;
        for (size_t j = len; j > i; j--)
            k = k << 8 | s[j - 1];
        h ^= k;
        h *= m;
    }
    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;
    return h;
}

void ll_id_format(uint64_t id, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[id & 15];
        id >>= 4;
    }
    out[16] = '\0';
}
