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
    ll_buf_puts(b, (e->flags & LL_EV_MATCHED) ? " !" : "  ");
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
    if (e->via.len) {
        colour(s, C_DIM);
        ll_buf_puts(b, "  (via ");
        put_text(b, e->via, 64);
        ll_buf_putc(b, ')');
        colour(s, C_RESET);
    }
    if (e->flags & LL_EV_TIME_INFERRED) {
        colour(s, C_DIM);
        ll_buf_puts(b, "  (time inferred)");
        colour(s, C_RESET);
    }
    ll_buf_putc(b, '\n');
}

/* "manager -> agent-1 -> worker"; a hop that does not continue the chain
 * starts a new one after a comma: "..., agent-1 -> worker". */
static void put_hops(struct ll_buf *b, const struct ll_timeline *tl)
{
    for (size_t i = 0; i < tl->n_hops; i++) {
        const struct ll_hop *h = &tl->hops[i];
        if (i == 0 || !h->from.len) {
            ll_buf_puts(b, i ? ", " : "");
        } else if (!ll_str_eq(h->from, tl->hops[i - 1].to)) {
            ll_buf_puts(b, ", ");
            put_text(b, h->from, MAX_SERVICE_COL);
            ll_buf_puts(b, " -> ");
        } else {
            ll_buf_puts(b, " -> ");
        }
        put_text(b, h->to, MAX_SERVICE_COL);
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
    if (tl->status != LL_TL_OK && tl->reason != LL_TL_CLOSED_GAP &&
        tl->reason != LL_TL_CLOSED_TERMINAL)
        ll_buf_printf(b, " (%s)", ll_tl_reason_name(tl->reason));
    ll_buf_printf(b, "  %s  ", start);
    put_duration(b, tl->end_ns - tl->start_ns);
    ll_buf_printf(b, "  %llu event%s, %llu error%s", (unsigned long long)tl->n_events,
                  tl->n_events == 1 ? "" : "s", (unsigned long long)tl->n_errors,
                  tl->n_errors == 1 ? "" : "s");
    if (tl->n_alerts) {
        colour(s, C_RED);
        ll_buf_printf(b, ", %zu alert%s", tl->n_alerts, tl->n_alerts == 1 ? "" : "s");
        colour(s, C_RESET);
    }
    ll_buf_printf(b, "  [%s]\n", id);
    ll_buf_puts(b, "   ");
    put_hops(b, tl);
    size_t svc_w = 0;
    for (size_t i = 0; i < tl->n_services; i++)
        if (tl->services[i].len > svc_w)
            svc_w = tl->services[i].len;
    if (tl->n_linked)
        ll_buf_printf(b, "   %llu joined through link keys\n", (unsigned long long)tl->n_linked);
    if (tl->n_dropped)
        ll_buf_printf(b, "   %llu events in the middle not kept\n",
                      (unsigned long long)tl->n_dropped);
    if (svc_w > MAX_SERVICE_COL)
        svc_w = MAX_SERVICE_COL;
    for (size_t i = 0; i < tl->n_events_kept; i++)
        put_event(s, &tl->events[i], tl->start_ns, svc_w);
    ll_buf_putc(b, '\n');
    return ll__sink_write(s);
}

/* An alert: what, where, how often, the evidence, and what to do. */
static int text_alert(ll_sink *s, const struct ll_alert *a)
{
    struct ll_buf *b = &s->buf;
    char first[LL_TIME_BUFSZ], id[17];
    ll_time_format(a->first_ns, first);
    ll_id_format(a->id, id);
    bool bad = ll_str_eq(a->severity, LL_STR("error")) || ll_str_eq(a->severity, LL_STR("critical"));
    colour(s, C_BOLD);
    colour(s, bad ? C_RED : C_YELLOW);
    ll_buf_puts(b, "!! ALERT ");
    put_text(b, a->symptom, 64);
    ll_buf_puts(b, " [playbook ");
    put_text(b, a->playbook, 16);
    ll_buf_puts(b, "] ");
    put_text(b, a->severity, 16);
    colour(s, C_RESET);
    ll_buf_puts(b, "  ");
    put_text(b, a->title, 200);
    ll_buf_printf(b, "  [%s]\n", id);
    ll_buf_puts(b, "   ");
    put_text(b, a->summary, 400);
    ll_buf_putc(b, '\n');
    ll_buf_printf(b, "   %llu time%s from %s", (unsigned long long)a->count,
                  a->count == 1 ? "" : "s", first);
    if (a->count > 1) {
        ll_buf_puts(b, " over ");
        put_duration(b, a->last_ns - a->first_ns);
    }
    ll_buf_puts(b, " in ");
    put_text(b, a->service, MAX_SERVICE_COL);
    if (a->corr_id.len) {
        ll_buf_puts(b, ", workflow ");
        put_text(b, a->corr_id, 128);
    }
    ll_buf_putc(b, '\n');
    for (size_t i = 0; i < a->n_evidence; i++) {
        colour(s, C_DIM);
        ll_buf_puts(b, "   > ");
        put_text(b, a->evidence[i].pos.source, 200);
        ll_buf_printf(b, ":%llu  ", (unsigned long long)a->evidence[i].pos.offset);
        colour(s, C_RESET);
        put_text(b, a->evidence[i].line, 240);
        ll_buf_putc(b, '\n');
    }
    ll_buf_puts(b, "   fix: ");
    put_text(b, a->remediation, 2000);
    ll_buf_puts(b, "\n\n");
    return ll__sink_write(s);
}

static int text_late(ll_sink *s, const struct ll_late *late)
{
    struct ll_buf *b = &s->buf;
    char ts[LL_TIME_BUFSZ];
    ll_time_format(late->ev.ts_ns, ts);
    colour(s, C_YELLOW);
    ll_buf_puts(b, "late: ");
    put_text(b, late->corr_id, 128);
    ll_buf_printf(b, " %s ", ts);
    put_text(b, late->ev.service, MAX_SERVICE_COL);
    ll_buf_putc(b, ' ');
    put_text(b, late->ev.msg, 200);
    ll_buf_puts(b, "  (after its workflow closed; ");
    put_text(b, late->ev.source, 200);
    ll_buf_printf(b, ":%llu)", (unsigned long long)late->ev.offset);
    colour(s, C_RESET);
    ll_buf_putc(b, '\n');
    return ll__sink_write(s);
}

/* What the inputs were read as, alike ones together: how many, and the
 * first few names. */
static void text_shapes(struct ll_buf *b, const struct ll_stats *st)
{
    bool *done = ll_calloc(st->n_shapes ? st->n_shapes : 1, sizeof *done);
    for (size_t i = 0; i < st->n_shapes; i++) {
        if (done[i])
            continue;
        const struct ll_source_shape *a = &st->shapes[i];
        size_t n = 0;
        for (size_t k = i; k < st->n_shapes; k++) {
            const struct ll_source_shape *x = &st->shapes[k];
            if (!done[k] && strcmp(x->framing, a->framing) == 0 &&
                strcmp(x->shape, a->shape) == 0) {
                done[k] = true;
                n++;
            }
        }
        ll_buf_printf(b, "read as %s%s%s: %zu input%s (", a->framing,
                      *a->shape ? ", " : "", *a->shape ? a->shape : " text only", n,
                      n == 1 ? "" : "s");
        size_t shown = 0;
        for (size_t k = i; k < st->n_shapes && shown < 3; k++) {
            const struct ll_source_shape *x = &st->shapes[k];
            if (strcmp(x->framing, a->framing) == 0 && strcmp(x->shape, a->shape) == 0) {
                ll_buf_puts(b, shown++ ? ", " : "");
                put_text(b, x->source, 200);
            }
        }
        ll_buf_puts(b, n > shown ? ", ...)\n" : ")\n");
    }
    ll_free(done);
}

static int text_stats(ll_sink *s, const struct ll_stats *st, const struct ll_orphans *orphans,
                      size_t n_orphans)
{
    struct ll_buf *b = &s->buf;
    colour(s, C_BOLD);
    ll_buf_printf(b, "%llu workflows from %llu events in %llu inputs",
                  (unsigned long long)st->timelines, (unsigned long long)st->events,
                  (unsigned long long)st->inputs);
    colour(s, C_RESET);
    ll_buf_putc(b, '\n');
    text_shapes(b, st);
    if (st->linked)
        ll_buf_printf(b, "linked: %llu events without an id joined their workflow\n",
                      (unsigned long long)st->linked);
    if (st->orphans) {
        ll_buf_printf(b, "orphans: %llu events no workflow claims\n",
                      (unsigned long long)st->orphans);
        for (size_t i = 0; i < n_orphans; i++) {
            const struct ll_orphans *o = &orphans[i];
            ll_buf_puts(b, "  ");
            put_text(b, o->service, MAX_SERVICE_COL);
            ll_buf_printf(b, ": %llu without an id, %llu with one", (unsigned long long)o->n,
                          (unsigned long long)o->n_with_id);
            if (o->n_examples) {
                ll_buf_puts(b, "; first at ");
                put_text(b, o->examples[0].source, 200);
                ll_buf_printf(b, ":%llu", (unsigned long long)o->examples[0].offset);
            }
            ll_buf_putc(b, '\n');
        }
    }
    if (st->alerts || st->alerts_rate_limited)
        ll_buf_printf(b, "alerts: %llu raised (%llu more matches folded in, %llu held back by "
                         "rate limits)\n",
                      (unsigned long long)st->alerts, (unsigned long long)st->alerts_suppressed,
                      (unsigned long long)st->alerts_rate_limited);
    if (st->recovered)
        ll_buf_printf(b, "recovered: %llu failures their service recovered from in time "
                         "(no alert)\n",
                      (unsigned long long)st->recovered);
    if (st->late)
        ll_buf_printf(b, "late: %llu events arrived after their workflow closed\n",
                      (unsigned long long)st->late);
    if (st->evicted)
        ll_buf_printf(b, "evicted: %llu workflows closed early to stay under the open limit\n",
                      (unsigned long long)st->evicted);
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

static const struct ll__sink_ops text_ops = {text_timeline, text_late, text_alert, text_stats,
                                             NULL};

ll_sink *ll_sink_text_new(FILE *out, const struct ll_sink_opts *opts)
{
    return ll__sink_new(&text_ops, out, opts);
}
