/* How fast a delivery sink makes alerts durable.
 *
 *   ll-bench-sinks SINK-URL N BATCH       deliver N alerts, BATCH per batch
 *   ll-bench-sinks --copy FILE N          the same rows as COPY text, for a
 *                                         psql \copy baseline
 *   ll-bench-sinks --record               one alert record (its JSON), for a
 *                                         redis-benchmark XADD baseline
 *
 * The alerts look like real ones: an ECONNRESET with a pino line of about
 * 600 bytes as evidence, distinct ids. Timing runs from the first alert
 * handed over to the last acknowledged, connection and schema excluded;
 * it prints "alerts/s <rate>" and the sink's counters. */
#include "logloom/sinks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char evidence_line[] =
    "{\"level\":50,\"time\":1795511731344,\"pid\":1893,\"hostname\":\"orch-agent-01\","
    "\"name\":\"agent-1\",\"correlationId\":\"d815ffb3-e31e-417f-91bc-dd65b042e6ff\","
    "\"err\":{\"type\":\"TypeError\",\"message\":\"fetch failed: read ECONNRESET\",\"stack\":"
    "\"TypeError: fetch failed\\n    at node:internal/deps/undici/undici:14976:13\\n    at "
    "async reportResult (/app/src/callback.js:4:15)\\n    at async finishTask "
    "(/app/src/tasks.js:5:15)\\ncaused by: Error: read ECONNRESET\\n    at TCP.onStreamRead "
    "(node:internal/stream_base_commons:218:20)\"},\"attempt\":1,\"delayMs\":1000,"
    "\"msg\":\"result callback failed, retrying\"}";

static char corr[64];

/* Alert number @p i. */
static struct ll_alert make(uint64_t i, struct ll_evidence *ev)
{
    snprintf(corr, sizeof corr, "d815ffb3-e31e-417f-91bc-%012llu", (unsigned long long)i);
    *ev = (struct ll_evidence){{LL_STR("/var/log/agents/agent-1.log"), i * 613},
                               1795511731344 * LL_NS_PER_MS, ll_str_c(evidence_line)};
    int64_t t = (1795511731344 + (int64_t)i) * LL_NS_PER_MS;
    return (struct ll_alert){
        .id = 0x9e3779b97f4a7c15ULL * (i + 1), .rule = LL_STR("econnreset"),
        .symptom = LL_STR("econnreset"), .playbook = LL_STR("2.2"), .severity = LL_STR("error"),
        .title = LL_STR("A connection was reset by the peer (ECONNRESET)"),
        .summary = LL_STR("agent-1: fetch failed: read ECONNRESET"), .corr_id = ll_str_c(corr),
        .service = LL_STR("agent-1"),
        .remediation = LL_STR("The other side closed the connection mid-request: retry "
                              "idempotent requests with backoff and align keep-alive timeouts."),
        .first_ns = t, .last_ns = t, .count = 1, .timeline_id = 0x1234 + i, .evidence = ev,
        .n_evidence = 1};
}

/* COPY text: tab-separated, backslash escapes. */
static void copy_field(FILE *fp, struct ll_str s, bool last)
{
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r')
            fputc('\\', fp), c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
        fputc(c, fp);
    }
    fputc(last ? '\n' : '\t', fp);
}

/* The rows the PostgreSQL sink stores, in logloom.alerts' column order
 * (id, rule, symptom, playbook, severity, correlation_id, service,
 * first_seen, last_seen, count, title, summary, evidence, remediation,
 * timeline_id). */
static int write_copy(const char *path, uint64_t n)
{
    FILE *fp = fopen(path, "w");
    if (!fp) {
        perror(path);
        return 2;
    }
    struct ll_buf b = {0};
    for (uint64_t i = 0; i < n; i++) {
        struct ll_evidence ev;
        struct ll_alert a = make(i, &ev);
        char id[17], tl[17], first[LL_TIME_BUFSZ], last[LL_TIME_BUFSZ];
        ll_id_format(a.id, id);
        ll_id_format(a.timeline_id, tl);
        ll_time_format(a.first_ns, first);
        ll_time_format(a.last_ns, last);
        ll_buf_reset(&b);
        ll_buf_puts(&b, "[{\"source\":");
        ll_buf_json_str(&b, ev.pos.source.ptr, ev.pos.source.len);
        ll_buf_printf(&b, ",\"offset\":%llu,\"line\":", (unsigned long long)ev.pos.offset);
        ll_buf_json_str(&b, ev.line.ptr, ev.line.len);
        ll_buf_puts(&b, "}]");
        struct ll_str cols[] = {ll_str_c(id), a.rule, a.symptom, a.playbook, a.severity,
                                a.corr_id, a.service, ll_str_c(first), ll_str_c(last),
                                LL_STR("1"), a.title, a.summary, {b.data, b.len},
                                a.remediation, ll_str_c(tl)};
        size_t nc = sizeof cols / sizeof cols[0];
        for (size_t k = 0; k < nc; k++)
            copy_field(fp, cols[k], k + 1 == nc);
    }
    ll_buf_free(&b);
    return fclose(fp) == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--record") == 0) {
        struct ll_evidence ev;
        struct ll_alert a = make(0, &ev);
        struct ll_buf b = {0};
        ll_alert_to_json(&b, &a);
        fputs(b.data, stdout);
        ll_buf_free(&b);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "--copy") == 0)
        return write_copy(argv[2], strtoull(argv[3], NULL, 10));
    if (argc != 4) {
        fprintf(stderr, "usage: ll-bench-sinks SINK-URL N BATCH | --copy FILE N | --record\n");
        return 2;
    }
    uint64_t n = strtoull(argv[2], NULL, 10);
    char spec[2048], err[1024];
    snprintf(spec, sizeof spec, "%s#batch=%s&queue=%llu&linger=1ms&receive=alerts", argv[1],
             argv[3], (unsigned long long)(4 * strtoull(argv[3], NULL, 10) + 1000));
    struct ll_delivery_conf conf;
    ll_sink *s;
    if (ll_delivery_conf_parse(&conf, spec, err, sizeof err) != LL_OK ||
        ll_sink_delivery_open(&conf, &s, err, sizeof err) != LL_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    int64_t t0 = ll_clock_mono_ns();
    for (uint64_t i = 0; i < n; i++) {
        struct ll_evidence ev;
        struct ll_alert a = make(i, &ev);
        ll_sink_alert(s, &a);
    }
    int rc = ll_sink_drain(s, NULL);
    double secs = (double)(ll_clock_mono_ns() - t0) / 1e9;
    struct ll_delivery_report rep;
    ll_sink_report(s, &rep);
    printf("alerts/s %.0f  (%llu alerts in %.3f s, %llu batches, %llu retries, %llu rejected)\n",
           (double)rep.delivered / secs, (unsigned long long)rep.delivered, secs,
           (unsigned long long)rep.batches, (unsigned long long)rep.retries,
           (unsigned long long)rep.rejected);
    ll_sink_destroy(s);
    ll_delivery_conf_free(&conf);
    return rc == LL_OK && rep.delivered == n ? 0 : 1;
}
