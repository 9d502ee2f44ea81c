/* The JSON lines contract: one record per line, "type" first. Later issues
 * add fields; the ones written here are never renamed. */
#include "sink_int.h"

static void json_str(struct ll_buf *b, struct ll_str s)
{
    ll_buf_json_str(b, s.ptr, s.len);
}

static void json_time(struct ll_buf *b, int64_t ns)
{
    char t[LL_TIME_BUFSZ];
    size_t n = ll_time_format(ns, t);
    ll_buf_putc(b, '"');
    ll_buf_append(b, t, n);
    ll_buf_putc(b, '"');
}

/* A name of ours (a level, a status): plain ASCII, quoted as it is. */
static void json_name(struct ll_buf *b, const char *s)
{
    ll_buf_putc(b, '"');
    ll_buf_puts(b, s);
    ll_buf_putc(b, '"');
}

static void json_id(struct ll_buf *b, uint64_t id)
{
    char hex[17];
    ll_id_format(id, hex);
    ll_buf_putc(b, '"');
    ll_buf_append(b, hex, 16);
    ll_buf_putc(b, '"');
}

/* The fields an event shares wherever it is written. */
static void json_event_fields(struct ll_buf *b, const struct ll_tl_event *e)
{
    ll_buf_puts(b, "\"ts\":");
    json_time(b, e->ts_ns);
    ll_buf_puts(b, ",\"service\":");
    json_str(b, e->service);
    ll_buf_puts(b, ",\"level\":");
    if (e->level == LL_LEVEL_NONE)
        ll_buf_puts(b, "null");
    else
        json_name(b, ll_level_name(e->level));
    ll_buf_puts(b, ",\"msg\":");
    json_str(b, e->msg);
    ll_buf_puts(b, ",\"err_code\":");
    ll_buf_json_opt(b, e->err_code);
    ll_buf_puts(b, ",\"source\":");
    json_str(b, e->source);
    ll_buf_puts(b, ",\"offset\":");
    ll_buf_u64(b, e->offset);
    if (e->flags & LL_EV_TIME_INFERRED)
        ll_buf_puts(b, ",\"time_inferred\":true");
    if (e->via.len) {
        ll_buf_puts(b, ",\"via\":");
        json_str(b, e->via);
    }
}

static void json_hops(struct ll_buf *b, const struct ll_timeline *tl)
{
    ll_buf_puts(b, ",\"hops\":[");
    for (size_t i = 0; i < tl->n_hops; i++) {
        const struct ll_hop *h = &tl->hops[i];
        ll_buf_puts(b, i ? ",{\"from\":" : "{\"from\":");
        ll_buf_json_opt(b, h->from);
        ll_buf_puts(b, ",\"to\":");
        json_str(b, h->to);
        ll_buf_puts(b, ",\"ts\":");
        json_time(b, h->ts_ns);
        ll_buf_putc(b, '}');
    }
    ll_buf_putc(b, ']');
}

void ll_timeline_to_json(struct ll_buf *b, const struct ll_timeline *tl, bool events)
{
    ll_buf_puts(b, "{\"type\":\"timeline\",\"id\":");
    json_id(b, tl->id);
    ll_buf_puts(b, ",\"correlation_id\":");
    json_str(b, tl->corr_id);
    ll_buf_puts(b, ",\"start\":");
    json_time(b, tl->start_ns);
    ll_buf_puts(b, ",\"end\":");
    json_time(b, tl->end_ns);
    ll_buf_puts(b, ",\"duration_ms\":");
    ll_buf_i64(b, (tl->end_ns - tl->start_ns) / LL_NS_PER_MS);
    ll_buf_puts(b, ",\"status\":");
    json_name(b, ll_tl_status_name(tl->status));
    ll_buf_puts(b, ",\"reason\":");
    json_name(b, ll_tl_reason_name(tl->reason));
    ll_buf_puts(b, ",\"services\":[");
    for (size_t i = 0; i < tl->n_services; i++) {
        if (i)
            ll_buf_putc(b, ',');
        json_str(b, tl->services[i]);
    }
    ll_buf_puts(b, "],\"events\":");
    ll_buf_u64(b, tl->n_events);
    ll_buf_puts(b, ",\"errors\":");
    ll_buf_u64(b, tl->n_errors);
    ll_buf_puts(b, ",\"alerts\":[");
    for (size_t i = 0; i < tl->n_alerts; i++) {
        if (i)
            ll_buf_putc(b, ',');
        json_id(b, tl->alerts[i]);
    }
    ll_buf_putc(b, ']');
    json_hops(b, tl);
    ll_buf_puts(b, ",\"linked\":");
    ll_buf_u64(b, tl->n_linked);
    ll_buf_puts(b, ",\"dropped\":");
    ll_buf_u64(b, tl->n_dropped);
    if (events) {
        ll_buf_puts(b, ",\"event_list\":[");
        for (size_t i = 0; i < tl->n_events_kept; i++) {
            ll_buf_puts(b, i ? ",{" : "{");
            json_event_fields(b, &tl->events[i]);
            ll_buf_putc(b, '}');
        }
        ll_buf_putc(b, ']');
    }
    ll_buf_puts(b, "}\n");
}

void ll_alert_to_json(struct ll_buf *b, const struct ll_alert *a)
{
    ll_buf_puts(b, "{\"type\":\"alert\",\"id\":");
    json_id(b, a->id);
    static const char *const names[] = {",\"rule\":",     ",\"symptom\":", ",\"playbook\":",
                                        ",\"severity\":", ",\"title\":",   ",\"summary\":"};
    const struct ll_str vals[] = {a->rule, a->symptom, a->playbook, a->severity, a->title,
                                  a->summary};
    for (size_t i = 0; i < 6; i++) {
        ll_buf_puts(b, names[i]);
        json_str(b, vals[i]);
    }
    ll_buf_puts(b, ",\"correlation_id\":");
    ll_buf_json_opt(b, a->corr_id);
    ll_buf_puts(b, ",\"service\":");
    json_str(b, a->service);
    ll_buf_puts(b, ",\"first_seen\":");
    json_time(b, a->first_ns);
    ll_buf_puts(b, ",\"last_seen\":");
    json_time(b, a->last_ns);
    ll_buf_puts(b, ",\"count\":");
    ll_buf_u64(b, a->count);
    ll_buf_puts(b, ",\"evidence\":[");
    for (size_t i = 0; i < a->n_evidence; i++) {
        ll_buf_puts(b, i ? ",{\"source\":" : "{\"source\":");
        json_str(b, a->evidence[i].pos.source);
        ll_buf_puts(b, ",\"offset\":");
        ll_buf_u64(b, a->evidence[i].pos.offset);
        ll_buf_puts(b, ",\"line\":");
        json_str(b, a->evidence[i].line);
        ll_buf_putc(b, '}');
    }
    ll_buf_putc(b, ']');
    if (a->n_affected) {
        ll_buf_puts(b, ",\"affected\":[");
        for (size_t i = 0; i < a->n_affected; i++) {
            if (i)
                ll_buf_putc(b, ',');
            json_str(b, a->affected[i]);
        }
        ll_buf_putc(b, ']');
    }
    ll_buf_puts(b, ",\"remediation\":");
    json_str(b, a->remediation);
    ll_buf_puts(b, ",\"timeline_id\":");
    if (a->timeline_id)
        json_id(b, a->timeline_id);
    else
        ll_buf_puts(b, "null");
    ll_buf_puts(b, "}\n");
}

void ll_late_to_json(struct ll_buf *b, const struct ll_late *late)
{
    ll_buf_puts(b, "{\"type\":\"late\",\"timeline_id\":");
    if (late->timeline_id)
        json_id(b, late->timeline_id);
    else
        ll_buf_puts(b, "null");
    ll_buf_puts(b, ",\"correlation_id\":");
    json_str(b, late->corr_id);
    ll_buf_putc(b, ',');
    json_event_fields(b, &late->ev);
    ll_buf_puts(b, "}\n");
}

void ll_orphans_to_json(struct ll_buf *b, const struct ll_orphans *o)
{
    ll_buf_puts(b, "{\"type\":\"orphans\",\"service\":");
    json_str(b, o->service);
    ll_buf_printf(b, ",\"events\":%llu,\"with_id\":%llu,\"first\":", (unsigned long long)o->n,
                  (unsigned long long)o->n_with_id);
    json_time(b, o->first_ns);
    ll_buf_puts(b, ",\"last\":");
    json_time(b, o->last_ns);
    ll_buf_puts(b, ",\"examples\":[");
    for (size_t i = 0; i < o->n_examples; i++) {
        ll_buf_puts(b, i ? ",{\"source\":" : "{\"source\":");
        json_str(b, o->examples[i].source);
        ll_buf_printf(b, ",\"offset\":%llu}", (unsigned long long)o->examples[i].offset);
    }
    ll_buf_puts(b, "]}\n");
}

void ll_stats_to_json(struct ll_buf *b, const struct ll_stats *st,
                      const struct ll_orphans *orphans, size_t n_orphans)
{
    ll_buf_printf(b, "{\"type\":\"stats\",\"events\":%llu,\"rejected\":{",
                  (unsigned long long)st->events);
    for (int i = 0; i < LL_REJECT__COUNT; i++)
        ll_buf_printf(b, "%s\"%s\":%llu", i ? "," : "", ll_reject_name(i),
                      (unsigned long long)st->rejected[i]);
    ll_buf_printf(b, "},\"timelines\":%llu,\"orphans\":%llu,\"orphans_by_service\":{",
                  (unsigned long long)st->timelines, (unsigned long long)st->orphans);
    for (size_t i = 0; i < n_orphans; i++) {
        if (i)
            ll_buf_putc(b, ',');
        json_str(b, orphans[i].service);
        ll_buf_printf(b, ":%llu", (unsigned long long)orphans[i].n);
    }
    ll_buf_printf(b,
                  "},\"inputs\":%llu,\"input_errors\":%llu,\"lines\":%llu,\"bytes\":%llu,"
                  "\"time_inferred\":%llu,\"filtered\":%llu,\"linked\":%llu,\"late\":%llu,"
                  "\"evicted\":%llu,\"open_max\":%llu,\"raw_events\":%llu,\"alerts\":%llu,"
                  "\"alerts_suppressed\":%llu,\"alerts_rate_limited\":%llu,\"recovered\":%llu,"
                  "\"regex_limit_hits\":%llu",
                  (unsigned long long)st->inputs, (unsigned long long)st->input_errors,
                  (unsigned long long)st->lines, (unsigned long long)st->bytes,
                  (unsigned long long)st->time_inferred, (unsigned long long)st->filtered,
                  (unsigned long long)st->linked, (unsigned long long)st->late,
                  (unsigned long long)st->evicted, (unsigned long long)st->open_max,
                  (unsigned long long)st->raw_events, (unsigned long long)st->alerts,
                  (unsigned long long)st->alerts_suppressed,
                  (unsigned long long)st->alerts_rate_limited,
                  (unsigned long long)st->recovered, (unsigned long long)st->regex_limit_hits);
    if (st->n_shapes) {
        ll_buf_puts(b, ",\"shapes\":{");
        for (size_t i = 0; i < st->n_shapes; i++) {
            const struct ll_source_shape *sh = &st->shapes[i];
            if (i)
                ll_buf_putc(b, ',');
            json_str(b, sh->source);
            ll_buf_printf(b, ":{\"framing\":\"%s\",\"shape\":", sh->framing);
            json_str(b, ll_str_c(sh->shape));
            ll_buf_putc(b, '}');
        }
        ll_buf_putc(b, '}');
    }
    if (st->n_sinks) {
        ll_buf_puts(b, ",\"sinks\":[");
        for (size_t i = 0; i < st->n_sinks; i++) {
            const struct ll_delivery_report *d = &st->sinks[i];
            ll_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
            json_str(b, ll_str_c(d->name));
            ll_buf_printf(b,
                          ",\"queued\":%llu,\"delivered\":%llu,\"rejected\":%llu,"
                          "\"batches\":%llu,\"retries\":%llu,\"outages\":%llu,\"waits\":%llu,"
                          "\"waited_ms\":%lld}",
                          (unsigned long long)d->queued, (unsigned long long)d->delivered,
                          (unsigned long long)d->rejected, (unsigned long long)d->batches,
                          (unsigned long long)d->retries, (unsigned long long)d->outages,
                          (unsigned long long)d->waits, (long long)(d->waited_ns / LL_NS_PER_MS));
        }
        ll_buf_putc(b, ']');
    }
    ll_buf_puts(b, "}\n");
}

static int jsonl_timeline(ll_sink *s, const struct ll_timeline *tl)
{
    ll_timeline_to_json(&s->buf, tl, s->opts.events);
    return ll__sink_write(s);
}

static int jsonl_alert(ll_sink *s, const struct ll_alert *a)
{
    ll_alert_to_json(&s->buf, a);
    return ll__sink_write(s);
}

static int jsonl_late(ll_sink *s, const struct ll_late *late)
{
    ll_late_to_json(&s->buf, late);
    return ll__sink_write(s);
}

static int jsonl_stats(ll_sink *s, const struct ll_stats *st, const struct ll_orphans *orphans,
                       size_t n_orphans)
{
    for (size_t i = 0; i < n_orphans; i++)
        ll_orphans_to_json(&s->buf, &orphans[i]);
    ll_stats_to_json(&s->buf, st, orphans, n_orphans);
    return ll__sink_write(s);
}

static const struct ll__sink_ops jsonl_ops = {jsonl_timeline, jsonl_late, jsonl_alert,
                                              jsonl_stats, NULL};

ll_sink *ll_sink_jsonl_new(FILE *out, const struct ll_sink_opts *opts)
{
    return ll__sink_new(&jsonl_ops, out, opts);
}
