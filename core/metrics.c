/* The metrics registry's ground: Prometheus text exposition (metric
 * families and samples, escaped so that text taken from logs can never
 * break the format) and the process's resident size. Each module renders
 * its counters with these; the runner serves the text (runner/endpoint.c). */
#include "logloom/core.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Prometheus text exposition                                                */

#ifndef NDEBUG /* only the asserts use it */
/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names without ':'. */
static bool prom_name_ok(const char *s, bool colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || (colon && c == ':');
        if (!ok)
            return false;
    }
    return true;
}
#endif

/* Backslash and newline escaped (and the double quote inside a label value);
 * bytes that are not UTF-8 become U+FFFD, which the format requires. */
static void put_escaped(struct ll_buf *b, const char *s, bool in_quotes)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == '\\')
                ll_buf_puts(b, "\\\\");
            else if (c == '\n')
                ll_buf_puts(b, "\\n");
            else if (c == '"' && in_quotes)
                ll_buf_puts(b, "\\\"");
            else
                ll_buf_putc(b, (char)c);
            i++;
            continue;
        }
        size_t n = ll_utf8_seq_len(s + i, len - i);
        if (n) {
            ll_buf_append(b, s + i, n);
            i += n;
        } else {
            ll_buf_puts(b, "\xEF\xBF\xBD");
            i++;
        }
    }
}

/* Integers as integers; otherwise the shortest of %.15g..%.17g that reads
 * back as the same double (17 digits always do). */
static void put_value(struct ll_buf *b, double v)
{
    if (isnan(v)) {
        ll_buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        ll_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) { /* -0 too */
        ll_buf_putc(b, '0');
        return;
    }
    /* Integral: every double from 2^53 up is; below, the int64 round trip
     * tells (no libm needed). Up to 2^64, so uint64 counters qualify. */
    double a = fabs(v);
    if (a < 18446744073709551616.0 && (a >= 9007199254740992.0 || v == (double)(int64_t)v)) {
        ll_buf_printf(b, "%.0f", v);
        return;
    }
    char s[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v)
            break;
    }
    ll_buf_puts(b, s);
}

void ll_prom_family(struct ll_buf *b, const char *name, const char *type, const char *help)
{
    assert(prom_name_ok(name, true));
    assert(type && (strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0));
    ll_buf_printf(b, "# HELP %s ", name);
    put_escaped(b, help ? help : "", false);
    ll_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void ll_prom_sample(struct ll_buf *b, const char *name, const char *const *labels, double value)
{
    assert(prom_name_ok(name, true));
    ll_buf_puts(b, name);
    if (labels && labels[0]) {
        ll_buf_putc(b, '{');
        for (size_t i = 0; labels[i]; i += 2) {
            assert(prom_name_ok(labels[i], false));
            assert(labels[i + 1] != NULL); /* keys and values come in pairs */
            if (i)
                ll_buf_putc(b, ',');
            ll_buf_printf(b, "%s=\"", labels[i]);
            put_escaped(b, labels[i + 1] ? labels[i + 1] : "", true);
            ll_buf_putc(b, '"');
            if (!labels[i + 1]) /* a key without a value ends the list */
                break;
        }
        ll_buf_putc(b, '}');
    }
    ll_buf_putc(b, ' ');
    put_value(b, value);
    ll_buf_putc(b, '\n');
}

static uint64_t field_of(const void *base, size_t at)
{
    uint64_t v;
    memcpy(&v, (const char *)base + at, sizeof v);
    return v;
}

void ll_prom_fields(struct ll_buf *b, const struct ll_metric_field *f, size_t n,
                    const void *base)
{
    for (size_t i = 0; i < n; i++) {
        ll_prom_family(b, f[i].name, f[i].type, f[i].help);
        ll_prom_sample(b, f[i].name, NULL, (double)field_of(base, f[i].at));
    }
}

void ll_metric_fields_add(const struct ll_metric_field *f, size_t n, void *to,
                          const void *from)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = field_of(to, f[i].at) + field_of(from, f[i].at);
        memcpy((char *)to + f[i].at, &v, sizeof v);
    }
}

/* ------------------------------------------------------------------------ */
/* Process                                                                   */

uint64_t ll_process_rss(void)
{
    char buf[128];
    ssize_t n;
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    do
        n = read(fd, buf, sizeof buf - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    unsigned long long size, resident;
    long page = sysconf(_SC_PAGESIZE);
    if (sscanf(buf, "%llu %llu", &size, &resident) != 2 || page <= 0)
        return 0;
    return (uint64_t)resident * (uint64_t)page;
}
