/* The text view: one block per workflow, its hop chain, and its events with
 * times relative to the start, services aligned, errors highlighted. Log text
 * is untrusted: control characters are escaped so a line cannot move the
 * cursor or recolour the terminal. */
#include "sink_int.h"

#include <string.h>

#define MAX_SERVICE_COL 24

enum colour { C_RESET, C_BOLD, C_DIM, C_RED, C_YELLOW, C_GREEN, C_MAGENTA, C_CYAN };

static void colour(ll_sink *s, enum colour c)
{
    static const char *const seq[] = {"\033[0m",  "\033[1m",  "\033[2m",  "\033[31m",
                                      "\033[33m", "\033[32m", "\033[35m", "\033[36m"};
    if (s->opts.color)
        ll_buf_puts(&s->buf, seq[c]);
}

/* Appends untrusted text on one line: control bytes escaped, invalid UTF-8
 * replaced, at most @p max bytes of it. */
static void put_text(struct ll_buf *b, struct ll_str t, size_t max)
{
    size_t n = t.len < max ? t.len : max;
    while (n < t.len && n && ((unsigned char)t.ptr[n] & 0xC0) == 0x80)
        n--; /* do not cut a UTF-8 sequence */
    ll_buf_text(b, t.ptr, n);
    if (n < t.len)
        ll_buf_puts(b, "…");
}

static void put_padded(struct ll_buf *b, struct ll_str t, size_t width)
{
    size_t n = t.len < width ? t.len : width;
    put_text(b, (struct ll_str){t.ptr, n}, n);
    for (size_t i = n; i < width; i++)
        ll_buf_putc(b, ' ');
}

/* "0.015s", "1m02.345s", "2h03m04s". */
static void put_duration(struct ll_buf *b, int64_t ns)
{
    int64_t ms = ns / LL_NS_PER_MS;
    if (ms < 60000)
        ll_buf_printf(b, "%lld.%03llds", (long long)(ms / 1000), (long long)(ms % 1000));
    else if (ms < 3600000)
        ll_buf_printf(b, "%lldm%02lld.%03llds", (long long)(ms / 60000),
                      (long long)(ms / 1000 % 60), (long long)(ms % 1000));
    else
        ll_buf_printf(b, "%lldh%02lldm%02llds", (long long)(ms / 3600000),
                      (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60));
}

static void put_event(ll_sink *s, const struct ll_tl_event *e, int64_t start, size_t svc_w)
{
    struct ll_buf *b = &s->buf;
    bool err = e->level >= LL_LEVEL_ERROR;
    ll_buf_puts(b, "  ");
    colour(s, C_DIM);
    size_t before = b->len;
    ll_buf_putc(b, '+');
    put_duration(b, e->ts_ns - start);
    for (size_t w = b->len - before; w < 12; w++)
        ll_buf_putc(b, ' ');
    colour(s, C_RESET);
    colour(s, C_CYAN);
    put_padded(b, e->service, svc_w);
    colour(s, C_RESET);
    ll_buf_putc(b, ' ');
    colour(s, err ? C_RED : e->level == LL_LEVEL_WARN ? C_YELLOW : C_RESET);
    ll_buf_printf(b, "%-5s", ll_level_name(e->level));
    ll_buf_putc(b, ' ');
    put_text(b, e->msg, 400);
    colour(s, C_RESET);
    if (e->err_code.len) {
        ll_buf_puts(b, "  ");
        colour(s, C_MAGENTA);
        ll_buf_putc(b, '[');
        put_text(b, e->err_code, 64);
        ll_buf_putc(b, ']');
        colour(s, C_RESET);
    }
    if (e->flags & LL_EV_TIME_INFERRED) {
        colour(s, C_DIM);
        ll_buf_puts(b, "  (time inferred)");
        colour(s, C_RESET);
    }
    ll_buf_putc(b, '\n');
}

static int text_timeline(ll_sink *s, const struct ll_timeline *tl)
{
    struct ll_buf *b = &s->buf;
    char start[LL_TIME_BUFSZ], id[17];
    ll_time_format(tl->start_ns, start);
    ll_id_format(tl->id, id);
    colour(s, C_BOLD);
    ll_buf_puts(b, "== ");
    put_text(b, tl->corr_id, 128);
    colour(s, C_RESET);
    ll_buf_puts(b, "  ");
    colour(s, tl->status == LL_TL_OK ? C_GREEN : C_RED);
    ll_buf_puts(b, ll_tl_status_name(tl->status));
    colour(s, C_RESET);
    ll_buf_printf(b, "  %s  ", start);
    put_duration(b, tl->end_ns - tl->start_ns);
    ll_buf_printf(b, "  %llu event%s, %llu error%s  [%s]\n", (unsigned long long)tl->n_events,
                  tl->n_events == 1 ? "" : "s", (unsigned long long)tl->n_errors,
                  tl->n_errors == 1 ? "" : "s", id);
    ll_buf_puts(b, "   ");
    size_t svc_w = 0;
    for (size_t i = 0; i < tl->n_services; i++) {
        if (i)
            ll_buf_puts(b, " -> ");
        put_text(b, tl->services[i], MAX_SERVICE_COL);
        if (tl->services[i].len > svc_w)
            svc_w = tl->services[i].len;
    }
    ll_buf_putc(b, '\n');
    if (svc_w > MAX_SERVICE_COL)
        svc_w = MAX_SERVICE_COL;
    for (size_t i = 0; i < tl->n_events_kept; i++)
        put_event(s, &tl->events[i], tl->start_ns, svc_w);
    ll_buf_putc(b, '\n');
    return ll__sink_write(s);
}

static int text_stats(ll_sink *s, const struct ll_stats *st, const struct ll_count *orphans,
                      size_t n_orphans)
{
    struct ll_buf *b = &s->buf;
    colour(s, C_BOLD);
    ll_buf_printf(b, "%llu workflows from %llu events in %llu inputs",
                  (unsigned long long)st->timelines, (unsigned long long)st->events,
                  (unsigned long long)st->inputs);
    colour(s, C_RESET);
    ll_buf_putc(b, '\n');
    if (st->orphans) {
        ll_buf_printf(b, "orphans: %llu events without a correlation id (",
                      (unsigned long long)st->orphans);
        for (size_t i = 0; i < n_orphans; i++) {
            ll_buf_puts(b, i ? ", " : "");
            put_text(b, orphans[i].name, MAX_SERVICE_COL);
            ll_buf_printf(b, " %llu", (unsigned long long)orphans[i].n);
        }
        ll_buf_puts(b, ")\n");
    }
    uint64_t rejected = ll_stats_rejected_total(st);
    if (rejected) {
        colour(s, C_YELLOW);
        ll_buf_printf(b, "rejected: %llu lines (", (unsigned long long)rejected);
        bool first = true;
        for (int i = 0; i < LL_REJECT__COUNT; i++) {
            if (!st->rejected[i])
                continue;
            ll_buf_printf(b, "%s%s %llu", first ? "" : ", ", ll_reject_name(i),
                          (unsigned long long)st->rejected[i]);
            first = false;
        }
        ll_buf_putc(b, ')');
        colour(s, C_RESET);
        ll_buf_putc(b, '\n');
    }
    if (st->time_inferred)
        ll_buf_printf(b, "time inferred: %llu events had no usable timestamp\n",
                      (unsigned long long)st->time_inferred);
    if (st->input_errors)
        ll_buf_printf(b, "input errors: %llu inputs ended early\n",
                      (unsigned long long)st->input_errors);
    return ll__sink_write(s);
}

static const struct ll__sink_ops text_ops = {text_timeline, text_stats};

ll_sink *ll_sink_text_new(FILE *out, const struct ll_sink_opts *opts)
{
    return ll__sink_new(&text_ops, out, opts);
}
