/* Two hashes. ll_hash64 is stable (multiply-xorshift over little-endian
 * 8-byte words): record ids and checkpoint fingerprints are derived from it,
 * so its output must never change, and anyone can compute it, collisions
 * included. ll_hash_keyed, for the tables keyed by what logs say
 * (correlation ids, link keys, services, alert keys), is XXH3 with a secret
 * drawn at random when the process starts: ids an attacker sends (an
 * X-Request-ID) cannot be chosen to collide and turn a table's probing into
 * a scan. Nothing written out depends on it. */
#include "logloom/core.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

static unsigned char secret[192];

/* Drawn before main(): every thread sees it filled. */
__attribute__((constructor)) static void draw_secret(void)
{
    size_t got = 0;
    while (got < sizeof secret) {
        ssize_t n = getrandom(secret + got, sizeof secret - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got == sizeof secret)
        return;
    /* No getrandom (an old kernel, a seccomp filter): the clock and pid,
     * spread; weaker, but still not known in advance to a log's writer. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    for (size_t i = 0; i < sizeof secret; i++) {
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        secret[i] = (unsigned char)(x >> 56);
    }
}

uint64_t ll_hash_keyed(const void *p, size_t len)
{
    return XXH3_64bits_withSecret(p, len, secret, sizeof secret);
}

/* The @p n (at most 8) bytes at @p p as a little-endian number. */
static inline uint64_t load_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, n); /* one load for a whole word */
#else
    for (size_t i = n; i-- > 0;)
        v = v << 8 | p[i];
#endif
    return v;
}

/* The bytes of @p s from @p i to @p len (1 to 7 of them) as a
 * little-endian number: with whole-word loads that overlap the bytes
 * before or each other, not a copy of variable length (a call). */
static inline uint64_t load_tail(const unsigned char *s, size_t i, size_t len)
{
    size_t n = len - i;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (len >= 8)
        return load_le(s + len - 8, 8) >> (64 - 8 * n);
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        return lo | (uint64_t)hi << (8 * (n - 4));
    }
    return s[0] | (uint64_t)s[n / 2] << (8 * (n / 2)) | (uint64_t)s[n - 1] << (8 * (n - 1));
#else
    return load_le(s + i, n);
#endif
}

uint64_t ll_hash64(const void *p, size_t len, uint64_t seed)
{
    const uint64_t m = UINT64_C(0xc6a4a7935bd1e995);
    const unsigned char *s = p;
    uint64_t h = seed ^ ((uint64_t)len * m);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t k = load_le(s + i, 8);
        k *= m;
        k ^= k >> 47;
        k *= m;
        h ^= k;
        h *= m;
    }
    if (i < len) {
        h ^= load_tail(s, i, len);
        h *= m;
    }
    h ^= h >> 47;
    h *= m;
    h ^= h >> 47;
    return h;
}

uint64_t ll_line_hash(struct ll_str line)
{
    return ll_hash64(line.ptr, line.len, 0x6c696e65);
}

uint64_t ll_id_add_event(uint64_t h, int64_t ts, uint64_t line_hash)
{
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)((uint64_t)ts >> (8 * i));
        b[8 + i] = (unsigned char)(line_hash >> (8 * i));
    }
    return ll_hash64(b, sizeof b, h);
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
