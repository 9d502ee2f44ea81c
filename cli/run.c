/* `logloom run -c FILE`: the daemon. Tails files (a Kubernetes sidecar or
 * DaemonSet, or a host's logs) and consumes Kafka as a member of a consumer
 * group, correlates and matches as lines arrive, and delivers to its sinks.
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
 * second half, read again, is not delivered as a partial one
 * (logloom/runner.h, "Tombstones").
 *
 * Kafka partitions are the same with offsets: each has its own lane (stage
 * and tombstones), committed at its own cut with the tombstones as the
 * commit's metadata, and dropped when the partition goes elsewhere.
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
#include "logloom/runner.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "daemon.h"

#define TICK_NS (100 * LL_NS_PER_MS)
#define METRICS_EVERY_NS (1 * LL_NS_PER_SEC)
#define METRICS_IDLE_NS (100 * LL_NS_PER_MS) /* gone quiet: publish, at most this often */
#define QUIET_NS (1 * LL_NS_PER_SEC) /* no event this long: event time follows the clock */
#define EVENTS_PER_TURN 256
#define KAFKA_DELAY_NS (5 * LL_NS_PER_SEC) /* a quiet partition's event time trails the clock */
#define REVOKE_DRAIN_NS (10 * LL_NS_PER_SEC) /* a partition going: sinks get this long */

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
            "run: tail the configured files or consume Kafka (a consumer group),\n"
            "correlate and match as lines arrive, and\n"
            "deliver alerts (and timelines) to the configured sinks, with checkpoints\n"
            "so that restarts and crashes lose and repeat nothing. SIGTERM/SIGINT stop\n"
            "(draining the sinks, writing checkpoints); SIGHUP reloads the rules.\n"
            "check: report every problem of the configuration file and exit.\n"
            "\n"
            "exit status: 0 stopped or fine, 1 problems, 2 bad arguments\n");
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
    d->dconf.extra_paths = ll_ruleset_extra_paths(d->rules, &d->dconf.n_extra_paths);
    d->dconf.match = ll_rule_eval_match;
    d->dconf.match_ctx = d->eval[0];
}

/* The rules' evaluation state of each decoding thread, for @p rs. */
static void evals_new(ll_rule_eval **eval, size_t n, const ll_ruleset *rs)
{
    for (size_t t = 0; t < n; t++)
        eval[t] = ll_rule_eval_new(rs);
}

static void evals_free(ll_rule_eval **eval, size_t n)
{
    for (size_t t = 0; t < n; t++)
        ll_rule_eval_destroy(eval[t]);
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
    /* The sources' decoders are made from the same paths below: if one can
     * be made here, all can, and no source is left with the old rules
     * while the stages have the new. */
    struct ll_decode_conf old_dconf = d->dconf;
    ll_rule_eval *old_eval[LL__MAX_THREADS];
    memcpy(old_eval, d->eval, d->threads * sizeof *old_eval);
    ll_ruleset *old = d->rules;
    d->rules = rs;
    evals_new(d->eval, d->threads, rs);
    set_decode(d);
    char err[256];
    ll_decoder *probe = ll_decoder_new(&d->dconf, err, sizeof err);
    if (!probe) {
        ll_log(LL_LEVEL_ERROR, "rules", "reload failed: %s: keeping the %zu rules loaded before",
               err, ll_ruleset_count(old));
        evals_free(d->eval, d->threads);
        memcpy(d->eval, old_eval, d->threads * sizeof *old_eval);
        d->rules = old;
        d->dconf = old_dconf;
        ll_ruleset_destroy(rs);
        return;
    }
    ll_decoder_destroy(probe);
    for (size_t i = 0; i < d->n_tails; i++)
        if (ll_tail_set_decode(d->tails[i], &d->dconf, err, sizeof err) != LL_OK)
            ll_log(LL_LEVEL_ERROR, "rules", "reload: %s", err);
    if (d->kafka && ll_kafka_set_decode(d->kafka, &d->dconf, (void *const *)d->eval, err,
                                        sizeof err) != LL_OK)
        ll_log(LL_LEVEL_ERROR, "rules", "reload: %s", err);
    ll__stage_set_rules(&d->files.stage, rs, d->rc.match_hold_ns);
    for (int i = 0; i < d->n_lanes; i++)
        if (d->lanes[i])
            ll__stage_set_rules(&d->lanes[i]->stage, rs, d->rc.match_hold_ns);
    evals_free(old_eval, d->threads);
    ll_ruleset_destroy(old);
    ll_log(LL_LEVEL_INFO, "rules", "reloaded: %zu rules (windows in progress start over)",
           ll_ruleset_count(rs));
}

/* ------------------------------------------------------------------------ */
/* Lanes and Kafka partitions                                                */

/* correlation.terminal (ll__terminal_match). */
static bool is_terminal(void *ctx, const struct ll_event *ev)
{
    const struct ll__run_conf *rc = ctx;
    return ll__terminal_match((const char *const *)rc->terminal, rc->n_terminal, ev->msg);
}

static void lane_init(struct daemon *d, struct lane *l)
{
    *l = (struct lane){.d = d, .through = -1, .marked = LL_TIME_NONE};
    ll__closed_init(&l->closed);
    struct ll_corr_conf cc = d->rc.corr;
    if (d->rc.n_terminal) {
        cc.is_terminal = is_terminal;
        cc.terminal_ctx = &d->rc;
    }
    struct ll__stage_out out = ll__run_lane_out(l);
    ll__stage_init(&l->stage, &cc, NULL, &out);
    if (d->rc.stage)
        ll__stage_set_part(&l->stage, d->rc.stage == LL__STAGE_CORRELATE ? LL_RULES_WORKFLOW
                                                                           : LL_RULES_SERVICE);
    ll__stage_set_rules(&l->stage, d->rules, d->rc.match_hold_ns);
}

/* Drops @p l's state (its open workflows are rebuilt by whoever reads its
 * input again), keeping its counters. */
static void lane_free(struct daemon *d, struct lane *l)
{
    ll__stage_stats(&l->stage, &d->gone); /* it adds to what is there */
    ll__stage_destroy(&l->stage);
    ll__closed_free(&l->closed);
}

static void on_assigned(void *ctx, int slot, const char *source, const char *meta)
{
    struct daemon *d = ctx;
    if (slot >= d->n_lanes) {
        d->lanes = ll_reallocarray(d->lanes, (size_t)slot + 1, sizeof *d->lanes);
        while (d->n_lanes <= slot)
            d->lanes[d->n_lanes++] = NULL;
    }
    struct lane *l = ll_malloc(sizeof *l);
    lane_init(d, l);
    d->lanes[slot] = l;
    if (d->rc.stage == LL__STAGE_CORRELATE && meta[0] == 'T') {
        /* Where the last owner's marks had got: quiet, the partition's
         * event time goes on from there, not from nothing. */
        char *end;
        long long t = strtoll(meta + 1, &end, 10);
        if (*end == '\n') {
            l->newest_ts = l->ticked = t;
            l->newest_wall = l->busy_wall = ll_kafka_reached(d->kafka, slot);
            meta = end + 1;
        }
    }
    if (*meta) {
        l->through = ll__closed_parse(&l->closed, meta, source);
        if (!l->closed.n_dead)
            l->through = -1;
        else
            ll_log(LL_LEVEL_INFO, "kafka", "%s: %zu tombstones up to offset %lld", source,
                   l->closed.n_dead, (long long)l->through);
    }
}

static void on_revoked(void *ctx, int slot, bool lost)
{
    struct daemon *d = ctx;
    struct lane *l = d->lanes[slot];
    if (!l)
        return;
    if (!lost) {
        /* What is durable need not be read again by the next owner. */
        int64_t deadline = ll_clock_mono_ns() + (d->rc.shutdown_timeout_ns < REVOKE_DRAIN_NS
                                                     ? d->rc.shutdown_timeout_ns
                                                     : REVOKE_DRAIN_NS);
        for (size_t i = 0; i < d->n_sinks; i++)
            ll_sink_drain_until(d->sinks[i], deadline);
        if (ll__run_facts_safe(d))
            ll__run_stage_commit(d, slot);
    }
    lane_free(d, l);
    ll_free(l);
    d->lanes[slot] = NULL;
}

/* Sinks filling up: Kafka partitions pause (membership goes on) until
 * they are half empty. */
static void flow(struct daemon *d)
{
    bool full = false, low = true;
    for (size_t i = 0; i < d->n_sinks; i++) {
        struct ll_delivery_report r;
        ll_sink_report(d->sinks[i], &r);
        uint64_t depth = r.queued - r.delivered - r.rejected, cap = d->rc.sinks[i].queue;
        full |= depth * 4 >= cap * 3;
        low &= depth * 2 <= cap;
    }
    if (full || low)
        ll_kafka_pause(d->kafka, full);
}

/* ------------------------------------------------------------------------ */
/* Running                                                                   */

/* The directory part of glob @p path before its first wildcard into
 * @p out: what must exist for it to match anything. */
static void glob_dir(const char *path, char *out, size_t size)
{
    snprintf(out, size, "%s", path);
    char *wild = strpbrk(out, "*?[");
    if (wild)
        *wild = '\0';
    ll_path_cut_last(out, size);
}

/* What `run` needs before it reads anything, checked alike by `check` (with
 * @p probe_metrics: the address is bound and let go): the checkpoint
 * directory and the dead-letter file writable, the metrics address free.
 * A source directory that does not exist (yet) is a warning: it is read
 * once it does. @returns false if `run` could not start; each problem is
 * logged. */
static bool preflight(const struct ll__run_conf *rc, bool probe_metrics)
{
    bool ok = true;
    char err[1024];
    if (rc->checkpoint_dir && ll_checkpoint_dir_check(rc->checkpoint_dir, err, sizeof err) != LL_OK) {
        ll_log(LL_LEVEL_ERROR, "checkpoint", "checkpoints.dir %s", err);
        ok = false;
    }
    if (rc->dead_letter && !ll__dead_letter_check(rc->dead_letter, err, sizeof err)) {
        ll_log(LL_LEVEL_ERROR, "decode", "decode.dead_letter %s", err);
        ok = false;
    }
    if (probe_metrics && rc->metrics_listen) {
        ll__endpoint *m = ll__endpoint_new();
        if (ll__endpoint_serve(m, rc->metrics_listen, err, sizeof err) != LL_OK) {
            ll_log(LL_LEVEL_ERROR, "metrics", "%s", err);
            ok = false;
        }
        ll__endpoint_destroy(m);
    }
    for (size_t i = 0; i < rc->n_sources; i++)
        for (size_t k = 0; k < rc->sources[i].n_paths; k++) {
            char dir[4096];
            struct stat st;
            glob_dir(rc->sources[i].paths[k], dir, sizeof dir);
            bool there = stat(dir, &st) == 0;
            if (!there || !S_ISDIR(st.st_mode))
                ll_log(LL_LEVEL_WARN, "tail", "sources: %s: %s: nothing is read from it "
                       "until it is a directory", rc->sources[i].paths[k],
                       there ? "not a directory" : "no such directory (yet)");
        }
    return ok;
}

static bool start(struct daemon *d)
{
    ll_log_set_level(d->rc.log_level);
    ll_log_set_json(d->rc.log_json);
    if (!preflight(&d->rc, false))
        return false;
    if (d->rc.dead_letter && !ll__dead_letter_open(&d->dead, d->rc.dead_letter, d->rc.dead_letter_max,
                                                     "decode")) {
        ll_log(LL_LEVEL_ERROR, "run", "cannot open dead-letter file %s: %s", d->rc.dead_letter,
               strerror(errno));
        return false;
    }
    if (!(d->rules = load_rules(&d->rc)))
        return false;
    d->threads = d->rc.decode_threads ? d->rc.decode_threads : ll__auto_threads();
    evals_new(d->eval, d->threads, d->rules);
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
    lane_init(d, &d->files);
    if (d->rc.checkpoint_dir &&
        (ll_checkpoints_load(d->rc.checkpoint_dir, &resume, &n_resume, err, sizeof err) != LL_OK ||
         ll__closed_load(&d->files.closed, d->rc.checkpoint_dir, err, sizeof err) != LL_OK)) {
        ll_log(LL_LEVEL_ERROR, "checkpoint", "%s", err);
        ll_checkpoints_free(resume, n_resume);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < d->rc.n_sources; i++) {
        const struct ll__source_conf *s = &d->rc.sources[i];
        if (s->brokers) {
            struct ll_kafka_conf kc = {
                .brokers = s->brokers, .group_id = s->group_id,
                .topics = (const char *const *)s->topics, .n_topics = s->n_topics,
                .props = (const char *const *)s->properties, .n_props = s->n_properties,
                .start_latest = s->start_at_tail, .id_header = s->id_header,
                .key_as_id = s->key_as_id, .file_header = s->file_header,
                .facts = d->rc.stage == LL__STAGE_SERVICE,
                .max_line = d->rc.max_line, .raw_events = true,
                .decode = &d->dconf, .threads = d->threads,
                .match_ctx = (void *const *)d->eval, .on_reject = ll__run_on_reject, .ctx = d,
                .hooks = {on_assigned, on_revoked, d}, .seq = &d->seq};
            if (ll_kafka_open(&kc, &d->kafka, err, sizeof err) != LL_OK) {
                ll_log(LL_LEVEL_ERROR, "kafka", "%s", err);
                ok = false;
            } else if (d->rc.stage == LL__STAGE_CORRELATE &&
                       !(d->facts = ll__facts_open(s->brokers, s->properties, s->n_properties,
                                                   d->rc.facts_topic, s->file_header, err,
                                                   sizeof err))) {
                ll_log(LL_LEVEL_ERROR, "facts", "%s", err);
                ok = false;
            }
            continue;
        }
        struct ll_tail_conf tc = {
            .paths = (const char *const *)s->paths, .n_paths = s->n_paths,
            .exclude = (const char *const *)s->exclude, .n_exclude = s->n_exclude,
            .start_at_tail = s->start_at_tail, .poll_only = s->poll_only, .format = s->format,
            .max_line = d->rc.max_line,
            .rescan_ns = s->rescan_ns, .partial_timeout_ns = s->partial_timeout_ns,
            .raw_events = true, .decode = &d->dconf, .resume = resume, .n_resume = n_resume,
            .on_reject = ll__run_on_reject, .ctx = d, .seq = &d->seq};
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
    if (d->rc.metrics_listen) {
        d->metrics = ll__endpoint_new();
        if (ll__endpoint_serve(d->metrics, d->rc.metrics_listen, err, sizeof err) != LL_OK) {
            ll_log(LL_LEVEL_ERROR, "metrics", "%s", err);
            return false;
        }
        ll__endpoint_set_ready(d->metrics, true, NULL);
    }
    char port[32] = "";
    if (d->metrics)
        snprintf(port, sizeof port, " (port %d)", ll__endpoint_port(d->metrics));
    char threads[64] = "";
    if (d->kafka)
        snprintf(threads, sizeof threads, ", Kafka decoded on %zu thread%s", d->threads,
                 d->threads == 1 ? "" : "s");
    ll_log(LL_LEVEL_INFO, "run", "started: %zu sources, %zu rules, %zu sinks%s%s%s%s",
           d->n_tails + (d->kafka != NULL),
           ll_ruleset_count(d->rules), d->n_sinks, d->metrics ? ", metrics on " : "",
           d->metrics ? d->rc.metrics_listen : "", port, threads);
    return true;
}

/* One event into @p l's stage; keeps the newest event time for quiet
 * times, and @p now (the lane's clock when the turn began: close enough
 * for telling a quiet source, without a clock read per event) beside it. */
static void process(struct lane *l, const struct ll_event *ev, int64_t now)
{
    if (l->through >= 0 && ev->pos.offset > (uint64_t)l->through) {
        /* Past what the last owner could have delivered: no remains now. */
        ll__closed_replayed(&l->closed, ev->seq - 1);
        l->through = -1;
        ll_log(LL_LEVEL_INFO, "kafka", "%.*s caught up: %llu timelines and alerts read again "
               "were delivered by the last owner (not again)", (int)ev->pos.source.len,
               ev->pos.source.ptr, (unsigned long long)l->closed.suppressed);
    }
    ll__stage_push(&l->stage, ev);
    l->busy_wall = now;
    if (ev->ts_ns > l->newest_ts) {
        l->newest_ts = ev->ts_ns;
        l->newest_wall = now;
    }
}

/* Whether partition @p i's event time is what the marks of its inputs say
 * (ll_kafka_facts_time()), never its own clock: the service stage's, and a
 * correlating stage's fed by `logloom repartition`. */
static bool marked(const struct daemon *d, int i)
{
    return d->rc.stage == LL__STAGE_SERVICE || ll_kafka_marked(d->kafka, i);
}

/* The correlating stage tells the service stage how far each of its
 * partitions has got (logloom/runner.h, "Facts and marks"): every
 * LL__MARK_EVERY_NS if that moved, else every LL__MARK_ANYWAY_NS. A
 * partition with no event yet is told of once it was read to its end
 * (nothing to wait for), else not at all. */
static void send_marks(struct daemon *d, int64_t now)
{
    if (!d->facts || now < d->next_mark)
        return;
    d->next_mark = now + LL__MARK_EVERY_NS;
    if (!d->n_inputs && !(d->n_inputs = ll_kafka_topic_partitions(d->kafka, 1000)))
        return;
    const char *sources[d->n_lanes ? d->n_lanes : 1];
    int64_t times[d->n_lanes ? d->n_lanes : 1];
    size_t n = 0;
    struct ll_buf said = {0};
    for (int i = 0; i < d->n_lanes; i++) {
        if (!d->lanes[i] || ll_kafka_lost(d->kafka, i)) /* its next owner tells of it */
            continue;
        /* Fed by a repartition, a partition's lines are not in time order
         * (a line held for its workflow goes out late): its marks say how
         * far it got. */
        int64_t t = marked(d, i) ? ll_kafka_facts_time(d->kafka, i) : lane_time(d->lanes[i]);
        if (t == LL_TIME_NONE && (marked(d, i) || !ll_kafka_caught_up(d->kafka, i)))
            continue;
        sources[n] = ll_kafka_source(d->kafka, i);
        times[n++] = t;
        d->lanes[i]->marked = t;
        ll_buf_printf(&said, "%s %lld\n", ll_kafka_source(d->kafka, i), (long long)t);
    }
    bool same = said.len == d->mark_was.len &&
                (!said.len || memcmp(said.data, d->mark_was.data, said.len) == 0);
    if (n && (!same || now - d->mark_sent >= LL__MARK_ANYWAY_NS)) {
        ll__facts_mark(d->facts, sources, times, n, d->n_inputs);
        d->mark_sent = now;
        ll_buf_reset(&d->mark_was);
        ll_buf_append(&d->mark_was, said.data, said.len);
    }
    ll_buf_free(&said);
}

static void marked_time(struct daemon *d)
{
    for (int i = 0; i < d->n_lanes; i++) {
        struct lane *l = d->lanes[i];
        int64_t t = l && marked(d, i) ? ll_kafka_facts_time(d->kafka, i) : LL_TIME_NONE;
        if (t != LL_TIME_NONE && t > l->ticked) {
            l->ticked = t;
            ll__stage_tick(&l->stage, t);
        }
    }
}

/* The tail whose next event is the earliest (ties to the first): the
 * sources' files merged by event time, as each tail merges its own. */
static ll_tail *earliest_tail(struct daemon *d)
{
    ll_tail *best = NULL;
    int64_t best_ts = 0;
    for (size_t i = 0; i < d->n_tails; i++) {
        const struct ll_event *ev;
        if (ll_tail_peek(d->tails[i], &ev, 0) == LL_OK && (!best || ev->ts_ns < best_ts)) {
            best = d->tails[i];
            best_ts = ev->ts_ns;
        }
    }
    return best;
}

/* Reads what the sources have; @returns true if anything came. */
static bool read_some(struct daemon *d)
{
    bool any = false;
    int64_t now = ll_clock_mono_ns();
    ll_tail *t;
    for (int k = 0; k < EVENTS_PER_TURN && (t = earliest_tail(d)); k++) {
        process(&d->files, ll_tail_take(t), now);
        any = true;
    }
    ll__stage_release(&d->files.stage, ll_clock_mono_ns());
    if (d->kafka) {
        if (d->n_sinks)
            flow(d);
        const struct ll_event *ev;
        int slot;
        for (int k = 0; k < EVENTS_PER_TURN && ll_kafka_next(d->kafka, &ev, &slot, 0) == LL_OK;
             k++) {
            process(d->lanes[slot], ev, ll_kafka_reached(d->kafka, slot));
            any = true;
        }
        marked_time(d);
        now = ll_clock_mono_ns();
        for (int i = 0; i < d->n_lanes; i++)
            if (d->lanes[i])
                ll__stage_release(&d->lanes[i]->stage, now);
    }
    return any;
}

/* Sleeps until a source has news, one is due to read anyway, or @p ns pass. */
static void wait_for_input(struct daemon *d, int64_t ns)
{
    struct pollfd p[64];
    nfds_t n = 0;
    int64_t now = ll_clock_mono_ns();
    /* Held matches and grown alerts are due at their time, not a tick late. */
    for (int i = -1; i < d->n_lanes; i++) {
        struct lane *l = i < 0 ? &d->files : d->lanes[i];
        int64_t due = l ? ll__stage_next_release(&l->stage) - now : INT64_MAX;
        if (due < ns)
            ns = due > 0 ? due : 0;
    }
    for (size_t i = 0; i < d->n_tails; i++) {
        if (ll_tail_fd(d->tails[i]) >= 0 && n < 64)
            p[n++] = (struct pollfd){.fd = ll_tail_fd(d->tails[i]), .events = POLLIN};
        int64_t due = ll_tail_deadline(d->tails[i]) - now;
        if (due < ns)
            ns = due > 0 ? due : 0;
    }
    if (d->kafka && ll_kafka_fd(d->kafka) >= 0 && n < 64)
        p[n++] = (struct pollfd){.fd = ll_kafka_fd(d->kafka), .events = POLLIN};
    poll(p, n, (int)((ns + LL_NS_PER_MS - 1) / LL_NS_PER_MS));
}

static void housekeeping(struct daemon *d, int64_t now)
{
    /* Quiet sources: event time moves on with the clock, so the last
     * workflows close. A Kafka partition's clock runs only while it is
     * reachable (what producers wrote during an outage comes after it),
     * and its event time trails that clock by KAFKA_DELAY_NS (producers
     * batch, brokers and rebalances hold records back: a line that comes
     * that much later still finds its workflow open). */
    for (int i = -1; i < d->n_lanes; i++) {
        struct lane *l = i < 0 ? &d->files : d->lanes[i];
        if (l)
            ll__stage_release(&l->stage, now); /* held matches, grown alerts */
        if (!l || !l->newest_ts ||
            (i >= 0 && (marked(d, i) || ll_kafka_lost(d->kafka, i))))
            continue;
        int64_t clock = i < 0 ? now : ll_kafka_reached(d->kafka, i);
        int64_t lag = i < 0 ? 0 : KAFKA_DELAY_NS;
        /* A Kafka partition read again from its commit gives older lines
         * for a while: busy, not quiet. */
        if (clock - l->newest_wall >= QUIET_NS + lag &&
            (i < 0 || clock - l->busy_wall >= QUIET_NS + lag)) {
            l->ticked = l->newest_ts + (clock - l->newest_wall) - lag;
            ll__stage_tick(&l->stage, l->ticked);
        }
    }
    send_marks(d, now);
    ll__run_rejects_window(d, now, false);
    if (now >= d->next_metrics) {
        ll__run_publish_metrics(d);
        d->next_metrics = now + METRICS_EVERY_NS;
    }
    if (now >= d->next_checkpoint) {
        ll__run_checkpoint(d);
        d->next_checkpoint = now + d->rc.checkpoint_interval_ns;
    }
}

static int shutdown_daemon(struct daemon *d)
{
    ll_log(LL_LEVEL_INFO, "run", "stopping: waiting up to %.0fs for the sinks",
           (double)d->rc.shutdown_timeout_ns / 1e9);
    if (d->metrics)
        ll__endpoint_set_ready(d->metrics, false, "stopping");
    int64_t deadline = ll_clock_mono_ns() + d->rc.shutdown_timeout_ns;
    for (size_t i = 0; i < d->n_sinks; i++)
        if (ll_sink_drain_until(d->sinks[i], deadline) != LL_OK)
            ll_log(LL_LEVEL_WARN, "run", "a sink still holds records at the deadline: they "
                   "will be made again after the restart");
    ll__run_rejects_window(d, ll_clock_mono_ns(), true);
    /* What is not durable yet is behind the cut: read again next time. */
    ll__run_checkpoint(d);
    if (d->kafka) { /* leaving the group commits each partition as it goes */
        ll_kafka_close(d->kafka);
        d->kafka = NULL;
    }
    ll__run_publish_metrics(d);
    if (d->late || d->facts_late || d->facts_behind_mark)
        ll_log(LL_LEVEL_WARN, "run", "%llu events came after their workflow closed "
               "(logloom_late_events_total), %llu facts behind the watermark "
               "(logloom_facts_late_total), %llu sent behind a mark of their partition",
               (unsigned long long)d->late, (unsigned long long)d->facts_late,
               (unsigned long long)d->facts_behind_mark);
    ll_log(LL_LEVEL_INFO, "run", "stopped; checkpoints at read order %llu",
           (unsigned long long)d->files.committed);
    return d->failed ? LL_EXIT_FAILURE : LL_EXIT_OK;
}

static void destroy(struct daemon *d)
{
    ll_kafka_close(d->kafka); /* before the sinks: revoking drains them */
    ll__facts_close(d->facts);
    ll_buf_free(&d->mark_was);
    for (int i = 0; i < d->n_lanes; i++)
        if (d->lanes[i]) {
            lane_free(d, d->lanes[i]);
            ll_free(d->lanes[i]);
        }
    ll_free(d->lanes);
    ll__endpoint_destroy(d->metrics);
    if (d->files.stage.corr)
        lane_free(d, &d->files);
    for (size_t i = 0; i < d->n_tails; i++)
        ll_tail_close(d->tails[i]);
    ll_free(d->tails);
    for (size_t i = 0; i < d->n_sinks; i++)
        ll_sink_destroy(d->sinks[i]);
    ll_free(d->sinks);
    ll_sink_destroy(d->out);
    evals_free(d->eval, d->threads);
    ll_ruleset_destroy(d->rules);
    for (size_t i = 0; i < d->n_alerts_rules; i++) {
        ll_free(d->alerts[i].name);
        ll_free(d->alerts[i].symptom);
    }
    ll_free(d->alerts);
    ll_buf_free(&d->text);
    ll__dead_letter_close(&d->dead);
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
        ll_log_set_level(rc.log_level);
        ll_log_set_json(false); /* a person reads check's answer */
        /* The rules are part of the configuration too, and what run needs
         * of the machine. */
        ll_ruleset *rs = load_rules(&rc);
        if (!preflight(&rc, true) || !rs)
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
    struct daemon d = {.dead = {.fd = -1}};
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
    while (!stop_requested && !d.failed) {
        if (reload_requested) {
            reload_requested = 0;
            reload_rules(&d);
        }
        if (read_some(&d)) {
            d.unpublished = true;
        } else {
            /* Every source at its end: what a restart read again is behind. */
            if (d.files.closed.replay_end == UINT64_MAX) {
                ll__closed_replayed(&d.files.closed, d.seq);
                if (d.files.closed.n_dead)
                    ll_log(LL_LEVEL_INFO, "run", "caught up: %llu timelines and alerts read "
                           "again were delivered before the restart (not again)",
                           (unsigned long long)d.files.closed.suppressed);
            }
            /* Gone quiet: what was read shows in /metrics now. */
            if (d.unpublished && ll_clock_mono_ns() - d.published >= METRICS_IDLE_NS)
                ll__run_publish_metrics(&d);
            wait_for_input(&d, TICK_NS);
        }
        housekeeping(&d, ll_clock_mono_ns());
    }
    status = shutdown_daemon(&d);
    destroy(&d);
    return status;
}
