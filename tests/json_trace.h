/* Test helper: the callbacks a JSON parser makes on a line, as text, from
 * the line scanner (ingest/json_scan.h) and from yajl, to compare the two
 * (test_ingest_json_scan and the json fuzz target). */
#ifndef LOGLOOM_TESTS_JSON_TRACE_H
#define LOGLOOM_TESTS_JSON_TRACE_H

#include "../ingest/json_scan.h"

#include <stdlib.h>
#include <string.h>

/* What a parser called, one record per callback: a tag, the length and the
 * bytes. Strings are tagged in upper case when they point into the line. */
struct trace {
    struct ll_buf b;
    const char *line;
    size_t len;
};

static void rec(struct trace *t, char tag, const void *p, size_t n)
{
    const char *s = p;
    if (s && s >= t->line && s + n <= t->line + t->len)
        tag = (char)(tag - 'a' + 'A');
    ll_buf_putc(&t->b, tag);
    ll_buf_u64(&t->b, n);
    ll_buf_putc(&t->b, ':');
    ll_buf_append(&t->b, p, n);
    ll_buf_putc(&t->b, '\n');
}

static int t_null(void *c) { rec(c, '0', "", 0); return 1; }
static int t_bool(void *c, int v) { rec(c, '1', v ? "t" : "f", 1); return 1; }
static int t_number(void *c, const char *s, size_t n) { rec(c, 'n', s, n); return 1; }
static int t_string(void *c, const unsigned char *s, size_t n) { rec(c, 's', s, n); return 1; }
static int t_key(void *c, const unsigned char *s, size_t n) { rec(c, 'k', s, n); return 1; }
static int t_start_map(void *c) { rec(c, '{', "", 0); return 1; }
static int t_end_map(void *c) { rec(c, '}', "", 0); return 1; }
static int t_start_array(void *c) { rec(c, '[', "", 0); return 1; }
static int t_end_array(void *c) { rec(c, ']', "", 0); return 1; }

static const yajl_callbacks tracer = {
    .yajl_null = t_null,
    .yajl_boolean = t_bool,
    .yajl_number = t_number,
    .yajl_string = t_string,
    .yajl_map_key = t_key,
    .yajl_start_map = t_start_map,
    .yajl_end_map = t_end_map,
    .yajl_start_array = t_start_array,
    .yajl_end_array = t_end_array,
};

/* The scanner's trace, or NULL when it gives up. */
static char *scan(const char *line, size_t len, struct ll_buf *scratch)
{
    struct trace t = {.line = line, .len = len};
    ll_buf_reserve(&t.b, 64);
    if (!ll__json_scan(line, len, &tracer, &t, scratch)) {
        ll_buf_free(&t.b);
        return NULL;
    }
    return t.b.data;
}

/* yajl's trace, configured as the decoder does, or NULL on an error. */
static char *yajl(const char *line, size_t len)
{
    struct trace t = {.line = line, .len = len};
    ll_buf_reserve(&t.b, 64);
    yajl_handle h = yajl_alloc(&tracer, NULL, &t);
    yajl_config(h, yajl_allow_multiple_values, 1);
    bool ok = yajl_parse(h, (const unsigned char *)line, len) == yajl_status_ok &&
              yajl_complete_parse(h) == yajl_status_ok;
    yajl_free(h);
    if (!ok) {
        ll_buf_free(&t.b);
        return NULL;
    }
    return t.b.data;
}

#endif
