/* The scanner of json_scan.h: one pass over the line, a label per grammar
 * state, the kind of every open container in a bit of a word, and the
 * bytes of a string skipped eight at a time. */
#include "json_scan.h"

#include <string.h>

#define MAX_NEST 64

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

typedef const unsigned char *cursor;

static inline cursor skip_ws(cursor p, cursor end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The first byte from @p that a string must look at: its closing quote, a
 * backslash, a control character or a byte of a multibyte character; or
 * @p end. */
static inline cursor skip_plain(cursor p, cursor end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t x, q, b;
        memcpy(&x, p, 8);
        q = x ^ (ONES * '"');
        b = x ^ (ONES * '\\');
        /* (v - k) & ~v flags the bytes of v below k. A borrow can flag a
         * byte above a flagged one, never below: the lowest flag is true. */
        uint64_t m = (((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b) | x) &
                     HIGHS;
        if (m)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
#endif
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* The string whose first byte, after the opening quote, is at @p. Sets
 * its bytes, escapes decoded, and returns the byte after the closing
 * quote; NULL to give up. */
static cursor scan_string(cursor p, cursor end, struct ll_buf *scratch, cursor *out,
                          size_t *out_len)
{
    cursor start = p, run = p;
    bool escaped = false, multibyte = false;
    for (;;) {
        p = skip_plain(p, end);
        if (p == end)
            return NULL;
        if (*p == '"')
            break;
        if (*p >= 0x80) {
            multibyte = true;
            p++;
            continue;
        }
        if (*p != '\\' || end - p < 2)
            return NULL; /* a control character, or the line ends */
        char c;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/': c = (char)p[1]; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        default: return NULL; /* \u, or an escape yajl refuses */
        }
        if (!escaped)
            ll_buf_reset(scratch);
        escaped = true;
        ll_buf_append(scratch, run, (size_t)(p - run));
        ll_buf_putc(scratch, c);
        p += 2;
        run = p;
    }
    if (multibyte && !ll_utf8_valid((const char *)start, (size_t)(p - start)))
        return NULL;
    if (escaped) {
        ll_buf_append(scratch, run, (size_t)(p - run));
        *out = (cursor)scratch->data;
        *out_len = scratch->len;
    } else {
        *out = start;
        *out_len = (size_t)(p - start);
    }
    return p + 1;
}

static cursor digits(cursor p, cursor end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

/* RFC 8259's number, as yajl lexes it; the byte after it, or NULL. */
static cursor scan_number(cursor p, cursor end)
{
    if (p < end && *p == '-')
        p++;
    if (p == end)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        p = digits(p + 1, end);
    else
        return NULL;
    if (p < end && *p == '.') {
        cursor q = digits(p + 1, end);
        if (q == p + 1)
            return NULL;
        p = q;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        cursor q = digits(p, end);
        if (q == p)
            return NULL;
        p = q;
    }
    return p;
}

static cursor scan_word(cursor p, cursor end, const char *word, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

bool ll__json_scan(const char *line, size_t len, const yajl_callbacks *cb, void *ctx,
                   struct ll_buf *scratch)
{
    cursor p = (cursor)line, end = p + len, s;
    uint64_t in_map = 0; /* bit d: the container at depth d is an object */
    unsigned depth = 0;
    size_t n;

    p = skip_ws(p, end);
    if (p == end || *p != '{')
        return false;
    goto open_map;

value: /* p: where a value may start */
    p = skip_ws(p, end);
    if (p == end)
        return false;
    switch (*p) {
    case '"':
        p = scan_string(p + 1, end, scratch, &s, &n);
        if (!p || !cb->yajl_string(ctx, s, n))
            return false;
        break;
    case '{': goto open_map;
    case '[':
        if (depth == MAX_NEST || !cb->yajl_start_array(ctx))
            return false;
        in_map &= ~(UINT64_C(1) << depth++);
        p = skip_ws(p + 1, end);
        if (p < end && *p == ']')
            goto close;
        goto value;
    case 't':
        p = scan_word(p, end, "true", 4);
        if (!p || !cb->yajl_boolean(ctx, 1))
            return false;
        break;
    case 'f':
        p = scan_word(p, end, "false", 5);
        if (!p || !cb->yajl_boolean(ctx, 0))
            return false;
        break;
    case 'n':
        p = scan_word(p, end, "null", 4);
        if (!p || !cb->yajl_null(ctx))
            return false;
        break;
    default:
        s = p;
        p = scan_number(p, end);
        if (!p || !cb->yajl_number(ctx, (const char *)s, (size_t)(p - s)))
            return false;
        break;
    }

after_value: /* p: the byte after a value inside a container */
    p = skip_ws(p, end);
    if (p == end)
        return false;
    if (*p == ',') {
        p = skip_ws(p + 1, end);
        if (in_map >> (depth - 1) & 1)
            goto key;
        goto value;
    }
    if (*p != ((in_map >> (depth - 1) & 1) ? '}' : ']'))
        return false;

close: /* p: at the bracket that closes the container at depth - 1 */
    if (!((in_map >> (depth - 1) & 1) ? cb->yajl_end_map(ctx) : cb->yajl_end_array(ctx)))
        return false;
    p++;
    if (--depth)
        goto after_value;
    return skip_ws(p, end) == end;

open_map: /* p: at the brace */
    if (depth == MAX_NEST || !cb->yajl_start_map(ctx))
        return false;
    in_map |= UINT64_C(1) << depth++;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        goto close;

key: /* p: where a key must start, whitespace skipped */
    if (p == end || *p != '"')
        return false;
    p = scan_string(p + 1, end, scratch, &s, &n);
    if (!p || !cb->yajl_map_key(ctx, s, n))
        return false;
    p = skip_ws(p, end);
    if (p == end || *p != ':')
        return false;
    p++;
    goto value;
}
