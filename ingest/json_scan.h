/* Private to ingest/: a scanner for the common log line, one JSON object,
 * that calls yajl's callbacks as yajl_parse() would.
 *
 * yajl's lexer is half of a line's cost, and most of it is generality a
 * log line does not use: chunked input, a token buffer, a parser state per
 * token. This scanner takes the whole line at once and knows only the
 * common shape. Whatever it is not sure of, it leaves to yajl: it returns
 * false, and the caller parses the line again with yajl from its first
 * byte, so yajl remains the parser of record for every error and every
 * rare form. It gives up on
 *   - anything but one object, whitespace around it allowed;
 *   - \u escapes, whitespace other than space, tab, CR and LF;
 *   - nesting deeper than 64;
 *   - a string whose bytes are not strict UTF-8 (ll_utf8_valid()), so a
 *     line it accepts needs no other UTF-8 check;
 *   - a callback that returns 0;
 *   - and anything yajl would reject.
 * On a line it accepts, the callbacks see the same calls, in the same
 * order, with the same bytes as from yajl_parse() and
 * yajl_complete_parse(). Strings without escapes point into the line;
 * escaped ones into @p scratch, valid until the callback returns. Only
 * yajl_null, _boolean, _number (never _integer or _double), _string,
 * _start_map, _map_key, _end_map, _start_array and _end_array are
 * called, and every one must be set. */
#ifndef LOGLOOM_INGEST_JSON_SCAN_H
#define LOGLOOM_INGEST_JSON_SCAN_H

#include "logloom/core.h"

#include <stdbool.h>
#include <string.h>
#include <yajl/yajl_parse.h>

bool ll__json_scan(const char *line, size_t len, const yajl_callbacks *cb, void *ctx,
                   struct ll_buf *scratch);

/* Below: the scanner itself, inline, so that the decoder, which passes a
 * constant @p cb, has its callbacks called directly and inlined.
 *
 * One pass over the line, a label per grammar state, the kind of every
 * open container in a bit of a word, and the bytes of a string skipped
 * eight at a time. */

#define LL__JSON_MAX_NEST 64
#define LL__JSON_ONES UINT64_C(0x0101010101010101)
#define LL__JSON_HIGHS UINT64_C(0x8080808080808080)

typedef const unsigned char *ll__jpos;

static inline ll__jpos ll__json_ws(ll__jpos p, ll__jpos end)
{
    while (p < end && *p <= ' ' && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The next byte that is not whitespace, @p *p moved to it; 0 at the end
 * of the line (a NUL byte is no token either). */
static inline unsigned char ll__json_peek(ll__jpos *p, ll__jpos end)
{
    if (*p < end && **p > ' ') /* compact JSON: no whitespace at all */
        return **p;
    *p = ll__json_ws(*p, end);
    return *p < end ? **p : 0;
}

/* The first byte from @p that a string must look at: its closing quote, a
 * backslash, a control character or a byte of a multibyte character; or
 * @p end. */
static inline ll__jpos ll__json_plain(ll__jpos p, ll__jpos end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t x, q, b;
        memcpy(&x, p, 8);
        q = x ^ (LL__JSON_ONES * '"');
        b = x ^ (LL__JSON_ONES * '\\');
        /* (v - k) & ~v flags the bytes of v below k. A borrow can flag a
         * byte above a flagged one, never below: the lowest flag is true. */
        uint64_t m = (((x - LL__JSON_ONES * 0x20) & ~x) | ((q - LL__JSON_ONES) & ~q) |
                      ((b - LL__JSON_ONES) & ~b) | x) &
                     LL__JSON_HIGHS;
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
__attribute__((always_inline)) static inline ll__jpos
ll__json_string(ll__jpos p, ll__jpos end, struct ll_buf *scratch, ll__jpos *out, size_t *out_len)
{
    ll__jpos start = p, run = p;
    bool escaped = false, multibyte = false;
    for (;;) {
        p = ll__json_plain(p, end);
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
        *out = (ll__jpos)scratch->data;
        *out_len = scratch->len;
    } else {
        *out = start;
        *out_len = (size_t)(p - start);
    }
    return p + 1;
}

static inline ll__jpos ll__json_digits(ll__jpos p, ll__jpos end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

/* RFC 8259's number, as yajl lexes it; the byte after it, or NULL. */
static inline ll__jpos ll__json_number(ll__jpos p, ll__jpos end)
{
    if (p < end && *p == '-')
        p++;
    if (p == end)
        return NULL;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        p = ll__json_digits(p + 1, end);
    else
        return NULL;
    if (p < end && *p == '.') {
        ll__jpos q = ll__json_digits(p + 1, end);
        if (q == p + 1)
            return NULL;
        p = q;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        ll__jpos q = ll__json_digits(p, end);
        if (q == p)
            return NULL;
        p = q;
    }
    return p;
}

static inline ll__jpos ll__json_word(ll__jpos p, ll__jpos end, const char *word, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

__attribute__((always_inline)) static inline bool
ll__json_scan_with(const char *line, size_t len, const yajl_callbacks *cb, void *ctx,
                   struct ll_buf *scratch)
{
    ll__jpos p = (ll__jpos)line, end = p + len, s;
    uint64_t in_map = 0; /* bit d: the container at depth d is an object */
    unsigned depth = 0;
    size_t n;
    unsigned char c;

    if (ll__json_peek(&p, end) != '{')
        return false;
    goto open_map;

value: /* p: where a value may start */
    switch (ll__json_peek(&p, end)) {
    case '"':
        p = ll__json_string(p + 1, end, scratch, &s, &n);
        if (!p || !cb->yajl_string(ctx, s, n))
            return false;
        break;
    case '{': goto open_map;
    case '[':
        if (depth == LL__JSON_MAX_NEST || !cb->yajl_start_array(ctx))
            return false;
        in_map &= ~(UINT64_C(1) << depth++);
        p++;
        if (ll__json_peek(&p, end) == ']')
            goto close;
        goto value;
    case 't':
        p = ll__json_word(p, end, "true", 4);
        if (!p || !cb->yajl_boolean(ctx, 1))
            return false;
        break;
    case 'f':
        p = ll__json_word(p, end, "false", 5);
        if (!p || !cb->yajl_boolean(ctx, 0))
            return false;
        break;
    case 'n':
        p = ll__json_word(p, end, "null", 4);
        if (!p || !cb->yajl_null(ctx))
            return false;
        break;
    default:
        s = p;
        p = ll__json_number(p, end);
        if (!p || !cb->yajl_number(ctx, (const char *)s, (size_t)(p - s)))
            return false;
        break;
    }

after_value: /* p: the byte after a value inside a container */
    c = ll__json_peek(&p, end);
    if (c == ',') {
        p++;
        if (in_map >> (depth - 1) & 1)
            goto key;
        goto value;
    }
    if (c != ((in_map >> (depth - 1) & 1) ? '}' : ']'))
        return false;

close: /* p: at the bracket that closes the container at depth - 1 */
    if (!((in_map >> (depth - 1) & 1) ? cb->yajl_end_map(ctx) : cb->yajl_end_array(ctx)))
        return false;
    p++;
    if (--depth)
        goto after_value;
    return ll__json_ws(p, end) == end;

open_map: /* p: at the brace */
    if (depth == LL__JSON_MAX_NEST || !cb->yajl_start_map(ctx))
        return false;
    in_map |= UINT64_C(1) << depth++;
    p++;
    if (ll__json_peek(&p, end) == '}')
        goto close;

key: /* p: where a key may start */
    if (ll__json_peek(&p, end) != '"')
        return false;
    p = ll__json_string(p + 1, end, scratch, &s, &n);
    if (!p || !cb->yajl_map_key(ctx, s, n) || ll__json_peek(&p, end) != ':')
        return false;
    p++;
    goto value;
}

#endif
