/* `logloom run`'s /metrics: the daemon's counters (events by source,
 * rejected lines by reason, alerts by rule, timelines, late events, open
 * workflows, checkpoints, Kafka and sink delivery, the process's memory)
 * rendered as Prometheus text. */
#include "daemon.h"

#include <string.h>

static void sample(struct ll_buf *b, const char *name, const char *type, const char *help,
                   double v)
{
    ll_prom_family(b, name, type, help);
    ll_prom_sample(b, name, NULL, v);
}

void ll__run_publish_metrics(struct daemon *d)
{
    if (!d->metrics)
        return;
    d->published = ll_clock_mono_ns();
    d->unpublished = false;
    struct ll_buf *b = &d->text;
    ll_buf_reset(b);
    struct ll_tail_stats st = {0};
    ll_prom_family(b, "logloom_events_total", "counter", "Events read, by source");
    const struct ll_kafka_stats *ks = d->kafka ? ll_kafka_stats(d->kafka) : NULL;
    for (size_t i = 0, t = 0; i < d->rc.n_sources; i++) {
        if (d->rc.sources[i].brokers) {
            char name[300];
            snprintf(name, sizeof name, "kafka:%s", d->rc.sources[i].group_id);
            const char *labels[] = {"source", name, NULL};
            ll_prom_sample(b, "logloom_events_total", labels, ks ? (double)ks->events : 0);
            continue;
        }
        const struct ll_tail_stats *s = ll_tail_stats(d->tails[t++]);
        const char *labels[] = {"source", d->rc.sources[i].paths[0], NULL};
        ll_prom_sample(b, "logloom_events_total", labels, (double)s->events);
        ll_metric_fields_add(ll_tail_metrics, ll_tail_n_metrics, &st, s);
        for (int r = 0; r < LL_REJECT__COUNT; r++)
            st.rejected[r] += s->rejected[r];
    }
    for (int r = 0; ks && r < LL_REJECT__COUNT; r++)
        st.rejected[r] += ks->rejected[r];
    ll_prom_family(b, "logloom_rejected_lines_total", "counter", "Lines rejected, by reason");
    for (int r = 0; r < LL_REJECT__COUNT; r++) {
        const char *labels[] = {"reason", ll_reject_name(r), NULL};
        ll_prom_sample(b, "logloom_rejected_lines_total", labels, (double)st.rejected[r]);
    }
    ll_prom_fields(b, ll_tail_metrics, ll_tail_n_metrics, &st);
    struct ll_stats cs = d->gone;
    ll__stage_stats(&d->files.stage, &cs);
    size_t open = ll_correlator_open_count(d->files.stage.corr);
    uint64_t skipped = d->files.closed.suppressed;
    for (int i = 0; i < d->n_lanes; i++) {
        if (!d->lanes[i])
            continue;
        ll__stage_stats(&d->lanes[i]->stage, &cs);
        open += ll_correlator_open_count(d->lanes[i]->stage.corr);
        skipped += d->lanes[i]->closed.suppressed;
    }
    sample(b, "logloom_timelines_open", "gauge", "Workflows open", (double)open);
    sample(b, "logloom_timelines_total", "counter", "Workflows closed", (double)d->timelines);
    sample(b, "logloom_redelivered_skipped_total", "counter",
           "Timelines and alerts read again after a restart that were delivered before it",
           (double)skipped);
    sample(b, "logloom_late_events_total", "counter", "Events after their workflow closed",
           (double)d->late);
    sample(b, "logloom_orphan_events_total", "counter", "Events no workflow claimed",
           (double)cs.orphans);
    ll_prom_family(b, "logloom_alerts_total", "counter", "Alerts written, by rule and symptom");
    for (size_t i = 0; i < d->n_alerts_rules; i++) {
        const char *labels[] = {"rule", d->alerts[i].name, "symptom", d->alerts[i].symptom, NULL};
        ll_prom_sample(b, "logloom_alerts_total", labels, (double)d->alerts[i].n);
    }
    sample(b, "logloom_alerts_suppressed_total", "counter",
           "Matches folded into an alert already open", (double)cs.alerts_suppressed);
    sample(b, "logloom_alerts_rate_limited_total", "counter",
           "Alerts held back by their rule's rate_limit", (double)cs.alerts_rate_limited);
    sample(b, "logloom_alerts_recovered_total", "counter",
           "Failures their service recovered from within the rule's window (no alert)",
           (double)cs.recovered);
    const char *fam[][3] = {
        {"logloom_sink_queue_depth", "gauge", "Records waiting to be made durable"},
        {"logloom_sink_delivered_total", "counter", "Records made durable"},
        {"logloom_sink_retries_total", "counter", "Batches written again after an error"},
        {"logloom_sink_outages_total", "counter", "Times a sink's server became unreachable"},
        {"logloom_sink_rejected_total", "counter", "Records a server refused as data"},
    };
    struct ll_delivery_report *rep = ll_calloc(d->n_sinks ? d->n_sinks : 1, sizeof *rep);
    for (size_t i = 0; i < d->n_sinks; i++)
        ll_sink_report(d->sinks[i], &rep[i]);
    for (size_t f = 0; f < 5; f++) {
        ll_prom_family(b, fam[f][0], fam[f][1], fam[f][2]);
        for (size_t i = 0; i < d->n_sinks; i++) {
            const struct ll_delivery_report *r = &rep[i];
            const char *labels[] = {"sink", r->name, NULL};
            double v[] = {(double)(r->queued - r->delivered - r->rejected), (double)r->delivered,
                          (double)r->retries, (double)r->outages, (double)r->rejected};
            ll_prom_sample(b, fam[f][0], labels, v[f]);
        }
    }
    ll_free(rep);
    /* How much would be read again after a crash now. */
    uint64_t lag = 0;
    for (size_t i = 0; i < d->n_tails; i++) {
        const struct ll_tail_pos *now, *at;
        size_t n = ll_tail_positions(d->tails[i], d->seq + 1, &now);
        struct ll_tail_pos *copy = ll_calloc(n ? n : 1, sizeof *copy);
        if (n)
            memcpy(copy, now, n * sizeof *now);
        ll_tail_positions(d->tails[i], d->files.committed ? d->files.committed : 1, &at);
        for (size_t k = 0; k < n; k++)
            if (copy[k].offset > at[k].offset)
                lag += copy[k].offset - at[k].offset;
        ll_free(copy);
    }
    if (ks) {
        ll_prom_fields(b, ll_kafka_metrics, ll_kafka_n_metrics, ks);
        if (d->rc.stage == LL__STAGE_SERVICE) {
            sample(b, "logloom_facts_repeated_total", "counter",
                   "Facts dropped as seen before (sent again after a rebalance)",
                   (double)ks->facts_repeated);
            sample(b, "logloom_facts_late_total", "counter",
                   "Facts that came behind the service stage's watermark", (double)d->facts_late);
        }
    }
    if (d->facts) {
        uint64_t sent, marks, failed;
        ll__facts_counts(d->facts, &sent, &marks, &failed);
        sample(b, "logloom_facts_sent_total", "counter", "Facts sent to the service stage",
               (double)sent);
        sample(b, "logloom_facts_marks_total", "counter", "Marks sent to the service stage",
               (double)marks);
        sample(b, "logloom_facts_failed_total", "counter", "Facts and marks not delivered",
               (double)failed);
    }
    if (d->dead.path) {
        sample(b, "logloom_dead_letter_written_total", "counter",
               "Rejected lines written to the dead-letter file", (double)d->dead.written);
        sample(b, "logloom_dead_letter_lost_total", "counter",
               "Rejected lines the dead-letter file could not take", (double)d->dead.lost);
    }
    sample(b, "logloom_checkpoint_lag_bytes", "gauge",
           "Bytes read since the last checkpoint's positions", (double)lag);
    if (d->rc.checkpoint_dir) {
        sample(b, "logloom_checkpoint_failures_total", "counter",
               "Checkpoints that could not be written (the previous one stayed)",
               (double)d->checkpoint_failures);
        sample(b, "logloom_checkpoint_age_seconds", "gauge",
               "Seconds since the last checkpoint was written (-1: none yet)",
               d->checkpoint_at ? (double)(ll_clock_mono_ns() - d->checkpoint_at) / 1e9 : -1);
    }
    sample(b, "logloom_process_resident_memory_bytes", "gauge", "Resident set size",
           (double)ll_process_rss());
    ll__endpoint_publish(d->metrics, b->data ? b->data : "", b->len);
}
