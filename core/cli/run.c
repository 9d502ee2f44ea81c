/* `logloom run -c FILE`: the daemon. Tails files (a Kubernetes sidecar or
 * DaemonSet, or a host's logs), correlates and matches as lines arrive, and
 * delivers to its sinks.
 *
 * Loses nothing and repeats nothing across restarts and crashes, without a
 * spool of its own: every event is numbered in read order (seq), and a
 * checkpoint records, for every file, the offset at the oldest event still
 * needed: one in an open timeline or waiting for a link key, in the rule
 * engine's state, or behind a record a sink has not made durable. After a
 * crash, reading resumes there and the state rebuilds itself; alert and
 * timeline ids come out the same, so sinks store nothing twice. The cut is
 * lowered until no file's stretch of lines straddles it (so each file has
 * an exact offset). A delivered timeline or alert that does straddle it
 * leaves a tombstone beside the checkpoint, so that after a restart its
 * second half, read again, is not delivered as a partial one (closed.h).
 *
 * Time is the logs' own. While sources are quiet, event time is taken to
 * move with the wall clock from the newest event, so quiet workflows close.
 *
 * Signals: SIGTERM and SIGINT stop reading, wait (shutdown_timeout) for the
 * sinks to make what they hold durable, write the checkpoints, and exit 0;
 * SIGHUP loads the rules again (a broken rule file keeps the old rules). */
#include "logloom/core.h"
#include "logloom/correlate.h"
#include "logloom/ingest.h"
#include "logloom/rules.h"
#include "logloom/sinks.h"

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "cli.h"
#include "closed.h"
#include "runconf.h"
#include "stage.h"

#define TICK_NS (100 * LL_NS_PER_MS)
#define METRICS_EVERY_NS (1 * LL_NS_PER_SEC)
#define METRICS_IDLE_NS (100 * LL_NS_PER_MS) /* gone quiet: publish, at most this often */
#define QUIET_NS (1 * LL_NS_PER_SEC) /* no event this long: event time follows the clock */
#define EVENTS_PER_TURN 256

struct count {
    char *name, *symptom;
    uint64_t n;
};

struct daemon {
    struct ll__run_conf rc;
    ll_ruleset *rules;
    ll_rule_eval *eval;
    struct ll_decode_conf dconf;
    ll_tail **tails;
    size_t n_tails;
    uint64_t seq; /* read order, shared by the sources */
    struct ll__stage stage;
    ll_sink **sinks;
    size_t n_sinks;
    ll_sink *out; /* no sinks configured: alerts as JSON lines on stdout */
    ll_metrics *metrics;

    struct ll__closed closed; /* delivered, while a checkpoint could read them again */
    uint64_t committed;
    int64_t next_checkpoint, next_metrics, published;
    bool unpublished; /* events read since metrics were last published */
    int64_t newest_ts, newest_wall; /* event time, and when it was seen */

    struct count *alerts; /* by rule */
    size_t n_alerts_rules;
    uint64_t timelines, late;
    struct ll_buf text;
};

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

void ll_cmd_run_usage(FILE *out)
{
    fprintf(out,
            "usage: logloom run -c FILE\n"
            "       logloom check -c FILE\n"
            "\n"
            "run: tail the configured files, correlate and match as lines arrive, and\n"
            "deliver alerts (and timelines) to the configured sinks, with checkpoints\n"
            "so that restarts and crashes lose and repeat nothing. SIGTERM/SIGINT stop\n"
            "(draining the sinks, writing checkpoints); SIGHUP reloads the rules.\n"
            "check: report every problem of the configuration file and exit.\n"
            "\n"
            "exit status: 0 stopped or fine, 1 problems, 2 bad arguments\n");
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */

static void count_alert(struct daemon *d, const struct ll_alert *a)
{
    for (size_t i = 0; i < d->n_alerts_rules; i++)
        if (ll_str_eq(a->rule, ll_str_c(d->alerts[i].name))) {
            d->alerts[i].n++;
            return;
        }
    d->alerts = ll_reallocarray(d->alerts, d->n_alerts_rules + 1, sizeof *d->alerts);
    d->alerts[d->n_alerts_rules++] =
        (struct count){ll_strndup(a->rule.ptr, a->rule.len),
                       ll_strndup(a->symptom.ptr, a->symptom.len), 1};
}

static void on_alert(void *ctx, const struct ll_alert *a)
{
    struct daemon *d = ctx;
    if (ll__closed_seen_alert(&d->closed, a))
        return;
    ll__closed_alert(&d->closed, a);
    count_alert(d, a);
    for (size_t i = 0; i < d->n_sinks; i++)
        ll_sink_alert(d->sinks[i], a);
    if (d->out) {
        ll_sink_alert(d->out, a);
        ll_sink_flush(d->out);
    }
}

static void on_timeline(void *ctx, const struct ll_timeline *tl)
{
    struct daemon *d = ctx;
    if (ll__closed_seen_timeline(&d->closed, tl))
        return;
    ll__closed_timeline(&d->closed, tl);
    d->timelines++;
    for (size_t i = 0; i < d->n_sinks; i++)
        ll_sink_timeline(d->sinks[i], tl);
}

static void on_late(void *ctx, const struct ll_late *late)
{
    struct daemon *d = ctx;
    (void)late;
    d->late++;
}

static void on_reject(void *ctx, enum ll_reject reason, const struct ll_pos *pos,
                      const struct ll_line *line, const char *detail)
{
    (void)ctx;
    (void)line;
    ll_log(LL_LEVEL_DEBUG, "tail", "%.*s:%llu: %s (%s)", (int)pos->source.len, pos->source.ptr,
           (unsigned long long)pos->offset, ll_reject_name(reason), detail);
}

/* ------------------------------------------------------------------------ */
/* Rules                                                                     */

static ll_ruleset *load_rules(const struct ll__run_conf *rc)
{
    struct ll_diags diags = {0};
    ll_ruleset *rs = ll__load_rules((const char *const *)rc->rules, rc->n_rules, &diags);
    for (size_t i = 0; i < diags.n; i++)
        ll_log(LL_LEVEL_ERROR, "rules", "%s:%d:%d: %s%s%s%s", diags.v[i].file, diags.v[i].line,
               diags.v[i].column, diags.v[i].rule ? "[" : "",
               diags.v[i].rule ? diags.v[i].rule : "", diags.v[i].rule ? "] " : "",
               diags.v[i].message);
    ll_diags_free(&diags);
    return rs;
}

static void set_decode(struct daemon *d)
{
    d->dconf = (struct ll_decode_conf){
        .id_paths = (const char *const *)d->rc.id_fields, .n_id_paths = d->rc.n_id_fields,
        .service_paths = (const char *const *)d->rc.service_fields,
        .n_service_paths = d->rc.n_service_fields};
    if (d->eval) {
        d->dconf.extra_paths = ll_ruleset_extra_paths(d->rules, &d->dconf.n_extra_paths);
        d->dconf.match = ll_rule_eval_match;
        d->dconf.match_ctx = d->eval;
    }
}

/* SIGHUP: the new rules replace the old atomically, or not at all. */
static void reload_rules(struct daemon *d)
{
    ll_ruleset *rs = load_rules(&d->rc);
    if (!rs) {
        ll_log(LL_LEVEL_ERROR, "rules", "reload failed: keeping the %zu rules loaded before",
               ll_ruleset_count(d->rules));
        return;
    }
    ll_rule_eval *old_eval = d->eval;
    ll_ruleset *old = d->rules;
    d->rules = rs;
    d->eval = ll_rule_eval_new(rs);
    set_decode(d);
    char err[256];
    for (size_t i = 0; i < d->n_tails; i++)
        if (ll_tail_set_decode(d->tails[i], &d->dconf, err, sizeof err) != LL_OK)
            ll_log(LL_LEVEL_ERROR, "rules", "reload: %s", err);
    ll__stage_set_rules(&d->stage, rs, true);
    ll_rule_eval_destroy(old_eval);
    ll_ruleset_destroy(old);
    ll_log(LL_LEVEL_INFO, "rules", "reloaded: %zu rules (windows in progress start over)",
           ll_ruleset_count(rs));
}

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                               */

/* The oldest read order still needed, lowered until no file's stretch of
 * lines straddles it. */
static uint64_t needed(struct daemon *d)
{
    uint64_t s = d->seq + 1, o = ll__stage_oldest_seq(&d->stage);
    if (o < s)
        s = o;
    for (size_t i = 0; i < d->n_sinks; i++)
        if ((o = ll_sink_oldest_seq(d->sinks[i])) < s)
            s = o;
    for (bool moved = true; moved;) {
        moved = false;
        for (size_t i = 0; i < d->n_tails; i++) {
            uint64_t c = ll_tail_cut(d->tails[i], s);
            if (c < s) {
                s = c;
                moved = true;
            }
        }
    }
    return s;
}

static void checkpoint(struct daemon *d)
{
    if (!d->rc.checkpoint_dir)
        return;
    uint64_t cut = needed(d);
    struct ll_tail_pos *all = NULL;
    size_t n = 0;
    for (size_t i = 0; i < d->n_tails; i++) {
        const struct ll_tail_pos *p;
        size_t k = ll_tail_positions(d->tails[i], cut, &p);
        all = ll_reallocarray(all, n + k + 1, sizeof *all);
        if (k)
            memcpy(all + n, p, k * sizeof *p);
        n += k;
    }
    /* Tombstones first: they serve the old positions and the new ones, so a
     * crash between the two writes finds what either needs. */
    char err[512];
    if (ll__closed_save(&d->closed, d->rc.checkpoint_dir, d->committed, cut, err,
                        sizeof err) != LL_OK ||
        ll_checkpoints_save(d->rc.checkpoint_dir, all, n, err, sizeof err) != LL_OK) {
        ll_log(LL_LEVEL_ERROR, "checkpoint", "%s", err);
    } else {
        d->committed = cut;
        for (size_t i = 0; i < d->n_tails; i++)
            ll_tail_forget(d->tails[i], cut);
        ll__closed_forget(&d->closed, cut);
    }
    ll_free(all);
}

/* ------------------------------------------------------------------------ */
/* Metrics                                                                   */

static void sample(struct ll_buf *b, const char *name, const char *type, const char *help,
                   double v)
{
    ll_prom_family(b, name, type, help);
    ll_prom_sample(b, name, NULL, v);
}

static void publish_metrics(struct daemon *d)
{
    if (!d->metrics)
        return;
    d->published = ll_clock_mono_ns();
    d->unpublished = false;
    struct ll_buf *b = &d->text;
    ll_buf_reset(b);
    struct ll_tail_stats st = {0};
    ll_prom_family(b, "logloom_events_total", "counter", "Events read, by source");
    for (size_t i = 0; i < d->n_tails; i++) {
        const struct ll_tail_stats *s = ll_tail_stats(d->tails[i]);
        const char *labels[] = {"source", d->rc.sources[i].paths[0], NULL};
        ll_prom_sample(b, "logloom_events_total", labels, (double)s->events);
        st.bytes += s->bytes;
        st.files_open += s->files_open;
        st.rotations += s->rotations;
        st.truncations += s->truncations;
        st.partial_lines += s->partial_lines;
        for (int r = 0; r < LL_REJECT__COUNT; r++)
            st.rejected[r] += s->rejected[r];
    }
    ll_prom_family(b, "logloom_rejected_lines_total", "counter", "Lines rejected, by reason");
    for (int r = 0; r < LL_REJECT__COUNT; r++) {
        const char *labels[] = {"reason", ll_reject_name(r), NULL};
        ll_prom_sample(b, "logloom_rejected_lines_total", labels, (double)st.rejected[r]);
    }
    sample(b, "logloom_read_bytes_total", "counter", "Bytes read from files", (double)st.bytes);
    sample(b, "logloom_files_open", "gauge", "Files being tailed", (double)st.files_open);
    sample(b, "logloom_rotations_total", "counter", "Files rotated or removed",
           (double)st.rotations);
    sample(b, "logloom_truncations_total", "counter", "Files truncated in place",
           (double)st.truncations);
    sample(b, "logloom_partial_lines_total", "counter", "Last lines given up waiting for a newline",
           (double)st.partial_lines);
    struct ll_stats cs = {0};
    ll__stage_stats(&d->stage, &cs);
    sample(b, "logloom_timelines_open", "gauge", "Workflows open",
           (double)ll_correlator_open_count(d->stage.corr));
    sample(b, "logloom_timelines_total", "counter", "Workflows closed", (double)d->timelines);
    sample(b, "logloom_redelivered_skipped_total", "counter",
           "Timelines and alerts read again after a restart that were delivered before it",
           (double)d->closed.suppressed);
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
    const char *fam[][3] = {
        {"logloom_sink_queue_depth", "gauge", "Records waiting to be made durable"},
        {"logloom_sink_delivered_total", "counter", "Records made durable"},
        {"logloom_sink_retries_total", "counter", "Batches written again after an error"},
        {"logloom_sink_outages_total", "counter", "Times a sink's server became unreachable"},
        {"logloom_sink_rejected_total", "counter", "Records a server refused as data"},
    };
    for (size_t f = 0; f < 5; f++) {
        ll_prom_family(b, fam[f][0], fam[f][1], fam[f][2]);
        for (size_t i = 0; i < d->n_sinks; i++) {
            struct ll_delivery_report r;
            ll_sink_report(d->sinks[i], &r);
            const char *labels[] = {"sink", r.name, NULL};
            double v[] = {(double)(r.queued - r.delivered - r.rejected), (double)r.delivered,
                          (double)r.retries, (double)r.outages, (double)r.rejected};
            ll_prom_sample(b, fam[f][0], labels, v[f]);
        }
    }
    /* How much would be read again after a crash now. */
    uint64_t lag = 0;
    for (size_t i = 0; i < d->n_tails; i++) {
        const struct ll_tail_pos *now, *at;
        size_t n = ll_tail_positions(d->tails[i], d->seq + 1, &now);
        struct ll_tail_pos *copy = ll_calloc(n ? n : 1, sizeof *copy);
        memcpy(copy, now, n * sizeof *now);
        ll_tail_positions(d->tails[i], d->committed ? d->committed : 1, &at);
        for (size_t k = 0; k < n; k++)
            if (copy[k].offset > at[k].offset)
                lag += copy[k].offset - at[k].offset;
        ll_free(copy);
    }
    sample(b, "logloom_checkpoint_lag_bytes", "gauge",
           "Bytes read since the last checkpoint's positions", (double)lag);
    sample(b, "logloom_process_resident_memory_bytes", "gauge", "Resident set size",
           (double)ll_process_rss());
    ll_metrics_publish(d->metrics, b->data ? b->data : "", b->len);
}

/* ------------------------------------------------------------------------ */
/* Running                                                                   */

static bool start(struct daemon *d)
{
    ll_log_set_level(d->rc.log_level);
    ll_log_set_json(d->rc.log_json);
    if (!(d->rules = load_rules(&d->rc)))
        return false;
    d->eval = ll_rule_eval_new(d->rules);
    set_decode(d);
    char err[1024];
    for (size_t i = 0; i < d->rc.n_sinks; i++) {
        ll_sink *s;
        if (ll_sink_delivery_open(&d->rc.sinks[i], &s, err, sizeof err) != LL_OK) {
            ll_log(LL_LEVEL_ERROR, "sink", "%s", err);
            return false;
        }
        d->sinks = ll_reallocarray(d->sinks, d->n_sinks + 1, sizeof *d->sinks);
        d->sinks[d->n_sinks++] = s;
    }
    if (!d->n_sinks)
        d->out = ll_sink_jsonl_new(stdout, NULL);
    struct ll_tail_pos *resume = NULL;
    size_t n_resume = 0;
    ll__closed_init(&d->closed);
    if (d->rc.checkpoint_dir &&
        (ll_checkpoints_load(d->rc.checkpoint_dir, &resume, &n_resume, err, sizeof err) != LL_OK ||
         ll__closed_load(&d->closed, d->rc.checkpoint_dir, err, sizeof err) != LL_OK)) {
        ll_log(LL_LEVEL_ERROR, "checkpoint", "%s", err);
        ll_checkpoints_free(resume, n_resume);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < d->rc.n_sources; i++) {
        const struct ll__source_conf *s = &d->rc.sources[i];
        struct ll_tail_conf tc = {
            .paths = (const char *const *)s->paths, .n_paths = s->n_paths,
            .exclude = (const char *const *)s->exclude, .n_exclude = s->n_exclude,
            .start_at_tail = s->start_at_tail, .poll_only = s->poll_only, .format = s->format,
            .max_line = d->rc.max_line,
            .rescan_ns = s->rescan_ns, .partial_timeout_ns = s->partial_timeout_ns,
            .raw_events = true, .decode = &d->dconf, .resume = resume, .n_resume = n_resume,
            .on_reject = on_reject, .ctx = d, .seq = &d->seq};
        ll_tail *t;
        if (ll_tail_open(&tc, &t, err, sizeof err) != LL_OK) {
            ll_log(LL_LEVEL_ERROR, "tail", "%s", err);
            ok = false;
            continue;
        }
        d->tails = ll_reallocarray(d->tails, d->n_tails + 1, sizeof *d->tails);
        d->tails[d->n_tails++] = t;
    }
    ll_checkpoints_free(resume, n_resume);
    if (!ok)
        return false;
    struct ll_corr_conf cc = d->rc.corr;
    cc.max_events_kept = d->rc.max_events_kept;
    cc.max_open_timelines = d->rc.max_open;
    struct ll__stage_out out = {on_timeline, on_late, on_alert, d};
    ll__stage_init(&d->stage, &cc, NULL, &out);
    ll__stage_set_rules(&d->stage, d->rules, true);
    if (d->rc.metrics_listen) {
        d->metrics = ll_metrics_new();
        if (ll_metrics_serve(d->metrics, d->rc.metrics_listen, err, sizeof err) != LL_OK) {
            ll_log(LL_LEVEL_ERROR, "metrics", "%s", err);
            return false;
        }
        ll_metrics_set_ready(d->metrics, true, NULL);
    }
    char port[32] = "";
    if (d->metrics)
        snprintf(port, sizeof port, " (port %d)", ll_metrics_port(d->metrics));
    ll_log(LL_LEVEL_INFO, "run", "started: %zu sources, %zu rules, %zu sinks%s%s%s", d->n_tails,
           ll_ruleset_count(d->rules), d->n_sinks, d->metrics ? ", metrics on " : "",
           d->metrics ? d->rc.metrics_listen : "", port);
    return true;
}

/* One event into the stage; keeps the newest event time for quiet times. */
static void process(struct daemon *d, const struct ll_event *ev)
{
    ll__stage_push(&d->stage, ev);
    if (ev->ts_ns > d->newest_ts) {
        d->newest_ts = ev->ts_ns;
        d->newest_wall = ll_clock_mono_ns();
    }
}

/* Reads what the sources have; @returns true if anything came. */
static bool read_some(struct daemon *d)
{
    bool any = false;
    for (size_t i = 0; i < d->n_tails; i++) {
        const struct ll_event *ev;
        for (int k = 0; k < EVENTS_PER_TURN && ll_tail_next(d->tails[i], &ev, 0) == LL_OK; k++) {
            process(d, ev);
            any = true;
        }
    }
    return any;
}

/* Sleeps until a source has news, one is due to read anyway, or @p ns pass. */
static void wait_for_input(struct daemon *d, int64_t ns)
{
    struct pollfd p[64];
    nfds_t n = 0;
    int64_t now = ll_clock_mono_ns();
    for (size_t i = 0; i < d->n_tails; i++) {
        if (ll_tail_fd(d->tails[i]) >= 0 && n < 64)
            p[n++] = (struct pollfd){.fd = ll_tail_fd(d->tails[i]), .events = POLLIN};
        int64_t due = ll_tail_deadline(d->tails[i]) - now;
        if (due < ns)
            ns = due > 0 ? due : 0;
    }
    poll(p, n, (int)((ns + LL_NS_PER_MS - 1) / LL_NS_PER_MS));
}

static void housekeeping(struct daemon *d, int64_t now)
{
    /* Quiet sources: event time moves on with the clock. */
    if (d->newest_wall && now - d->newest_wall >= QUIET_NS)
        ll__stage_tick(&d->stage, d->newest_ts + (now - d->newest_wall));
    if (now >= d->next_metrics) {
        publish_metrics(d);
        d->next_metrics = now + METRICS_EVERY_NS;
    }
    if (now >= d->next_checkpoint) {
        checkpoint(d);
        d->next_checkpoint = now + d->rc.checkpoint_interval_ns;
    }
}

static int shutdown_daemon(struct daemon *d)
{
    ll_log(LL_LEVEL_INFO, "run", "stopping: waiting up to %.0fs for the sinks",
           (double)d->rc.shutdown_timeout_ns / 1e9);
    if (d->metrics)
        ll_metrics_set_ready(d->metrics, false, "stopping");
    int64_t deadline = ll_clock_mono_ns() + d->rc.shutdown_timeout_ns;
    for (size_t i = 0; i < d->n_sinks; i++)
        if (ll_sink_drain_until(d->sinks[i], deadline) != LL_OK)
            ll_log(LL_LEVEL_WARN, "run", "a sink still holds records at the deadline: they "
                   "will be made again after the restart");
    /* What is not durable yet is behind the cut: read again next time. */
    checkpoint(d);
    publish_metrics(d);
    ll_log(LL_LEVEL_INFO, "run", "stopped; checkpoints at read order %llu",
           (unsigned long long)d->committed);
    return LL_EXIT_OK;
}

static void destroy(struct daemon *d)
{
    ll_metrics_destroy(d->metrics);
    if (d->stage.corr)
        ll__stage_destroy(&d->stage);
    for (size_t i = 0; i < d->n_tails; i++)
        ll_tail_close(d->tails[i]);
    ll_free(d->tails);
    for (size_t i = 0; i < d->n_sinks; i++)
        ll_sink_destroy(d->sinks[i]);
    ll_free(d->sinks);
    ll_sink_destroy(d->out);
    ll_rule_eval_destroy(d->eval);
    ll_ruleset_destroy(d->rules);
    for (size_t i = 0; i < d->n_alerts_rules; i++) {
        ll_free(d->alerts[i].name);
        ll_free(d->alerts[i].symptom);
    }
    ll_free(d->alerts);
    ll__closed_free(&d->closed);
    ll_buf_free(&d->text);
    ll__run_conf_free(&d->rc);
}

/* -c FILE into @p rc; problems printed. */
static int load_conf(int argc, char **argv, struct ll__run_conf *rc)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            path = optarg;
        } else {
            ll_cmd_run_usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? -1 : LL_EXIT_USAGE;
        }
    }
    if (!path || optind != argc) {
        ll_cmd_run_usage(stderr);
        return LL_EXIT_USAGE;
    }
    struct ll_config cfg;
    struct ll_buf errors = {0};
    int rc_load = ll_config_load(path, &cfg, &errors);
    fputs(errors.data ? errors.data : "", stderr);
    ll_buf_free(&errors);
    bool ok = ll__run_conf_load(&cfg, rc) && rc_load == LL_OK;
    ll_config_free(&cfg);
    return rc_load == LL_EIO ? LL_EXIT_USAGE : ok ? LL_EXIT_OK : LL_EXIT_FAILURE;
}

int ll_cmd_check(int argc, char **argv)
{
    struct ll__run_conf rc = {0};
    int status = load_conf(argc, argv, &rc);
    if (status == LL_EXIT_OK) {
        /* The rules are part of the configuration too. */
        ll_ruleset *rs = load_rules(&rc);
        if (!rs)
            status = LL_EXIT_FAILURE;
        else
            printf("configuration fine: %zu sources, %zu rules, %zu sinks\n", rc.n_sources,
                   ll_ruleset_count(rs), rc.n_sinks);
        ll_ruleset_destroy(rs);
    }
    ll__run_conf_free(&rc);
    return status < 0 ? LL_EXIT_OK : status;
}

int ll_cmd_run(int argc, char **argv)
{
    struct daemon d = {0};
    int status = load_conf(argc, argv, &d.rc);
    if (status != LL_EXIT_OK) {
        ll__run_conf_free(&d.rc);
        return status < 0 ? LL_EXIT_OK : status;
    }
    struct sigaction stop = {.sa_handler = on_stop}, hup = {.sa_handler = on_hup};
    sigemptyset(&stop.sa_mask);
    sigemptyset(&hup.sa_mask);
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGHUP, &hup, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!start(&d)) {
        destroy(&d);
        return LL_EXIT_USAGE;
    }
    int64_t now = ll_clock_mono_ns();
    d.next_checkpoint = now + d.rc.checkpoint_interval_ns;
    while (!stop_requested) {
        if (reload_requested) {
            reload_requested = 0;
            reload_rules(&d);
        }
        if (read_some(&d)) {
            d.unpublished = true;
        } else {
            /* Every source at its end: what a restart read again is behind. */
            if (d.closed.replay_end == UINT64_MAX) {
                ll__closed_replayed(&d.closed, d.seq);
                if (d.closed.n_dead)
                    ll_log(LL_LEVEL_INFO, "run", "caught up: %llu timelines and alerts read "
                           "again were delivered before the restart (not again)",
                           (unsigned long long)d.closed.suppressed);
            }
            /* Gone quiet: what was read shows in /metrics now. */
            if (d.unpublished && ll_clock_mono_ns() - d.published >= METRICS_IDLE_NS)
                publish_metrics(&d);
            wait_for_input(&d, TICK_NS);
        }
        housekeeping(&d, ll_clock_mono_ns());
    }
    status = shutdown_daemon(&d);
    destroy(&d);
    return status;
}
