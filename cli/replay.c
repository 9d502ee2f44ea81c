/* `logloom replay`: archived logs → merged events → timelines → sinks.
 *
 * The replay source decodes batches of lines on --threads threads and hands
 * this thread the events in event-time order; here the correlator closes
 * timelines as the watermark passes them, and every sink gets each closed
 * timeline and alert. Delivery sinks (PostgreSQL, Redis, files) run their
 * own threads; when one falls behind, handing it a record waits, so reading
 * pauses until it catches up. At the end the run waits until they have made
 * everything durable. */
#include "logloom/core.h"
#include "logloom/correlate.h"
#include "logloom/ingest.h"
#include "logloom/rules.h"
#include "logloom/sinks.h"
#include "logloom/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"

#define PROGRESS_EVERY_NS (250 * LL_NS_PER_MS)
#define MAX_THREADS LL__MAX_THREADS

struct replay_opts {
    bool jsonl;
    bool no_output; /* --format none */
    bool events;
    bool color;
    bool quiet;
    const char **ids; /* --id filters */
    size_t n_ids;
    int64_t from, to;
    const char *dead_letter;
    const char *html; /* --html report file */
    size_t max_line;
    size_t batch_events;
    size_t threads; /* 0: one per online CPU, up to AUTO_THREADS_MAX */
    const char **id_paths;
    size_t n_id_paths;
    const char **service_paths;
    size_t n_service_paths;
    const char **terminal; /* --terminal messages */
    size_t n_terminal;
    const char **rules; /* --rules paths ("builtin": the built-in pack) */
    size_t n_rules;
    bool no_rules;
    const char **sinks; /* --sink specs */
    size_t n_sinks;
    const char *config; /* --config FILE */
    struct ll_corr_conf corr;
};

struct run {
    const struct replay_opts *o;
    ll_sink *sink; /* the terminal's, unless --format none */
    ll_sink *html; /* --html: a second sink, fed the same records */
    FILE *html_fp;
    ll_sink **delivery; /* --sink and the configuration's sinks */
    size_t n_delivery;
    struct ll__dead_letter dead; /* --dead-letter */
    int out_rc;
};

void ll_cmd_replay_usage(FILE *out)
{
    fprintf(out,
            "usage: logloom replay [options] PATH...\n"
            "\n"
            "Merge JSON log files by event time, group them by correlation id and print\n"
            "every workflow as a timeline. A PATH is a file (plain or .gz), a directory\n"
            "(read recursively) or a glob pattern.\n"
            "\n"
            "output:\n"
            "  --format text|jsonl|none  text on a terminal, else jsonl; none: only\n"
            "                          the sinks below\n"
            "  --events                jsonl: include each timeline's event_list\n"
            "  --color auto|always|never\n"
            "  --id ID                 show only this correlation id (repeatable)\n"
            "  --from TIME, --to TIME  only events in [from, to] (RFC 3339 or epoch)\n"
            "  -q, --quiet             no progress line and no summary on stderr\n"
            "  --html FILE             also write a self-contained HTML report to FILE,\n"
            "                          with each event's raw line\n"
            "sinks:\n"
            "  --sink URL[#OPTS]       also deliver alerts (and, with receive=both,\n"
            "                          timelines) to a sink (repeatable), one of:\n");
    ll_delivery_usage(out, "                            ");
    fprintf(out,
            "                          OPTS: name=value&... (logloom config options sinks)\n"
            "  --config FILE           a YAML configuration: its sinks and rules, and its\n"
            "                          decode and correlation sections where the\n"
            "                          options say nothing\n"
            "rules:\n"
            "  --rules PATH            rule file or directory (repeatable; replaces the\n"
            "                          built-in pack, which 'builtin' names)\n"
            "  --no-rules              correlate only\n"
            "input:\n"
            "  --dead-letter FILE      append rejected lines to FILE as JSON lines\n"
            "  --max-line-bytes N      longer lines are rejected (default 1M; K/M suffix)\n"
            "  --id-field PATH         correlation id field, in priority order\n"
            "                          (repeatable; replaces the default list)\n"
            "  --service-field PATH    service field (repeatable; default service, name)\n"
            "  --batch-events N        events decoded ahead per input (output is the\n"
            "                          same for any N; a tuning knob)\n"
            "  --threads N             threads decoding (default: one per usable CPU, a\n"
            "                          container's CPU limit included, up to 8; the\n"
            "                          output is the same for any N)\n"
            "correlation:\n");
    const char *names[] = {"session_gap", "allowed_lateness", "idle_timeout", "max_span",
                           "max_events",  "max_events_kept",  "max_open"};
    char def[7][32] = {{0}};
    for (size_t i = 0; i < 7; i++)
        for (size_t k = 0; k < ll_corr_n_fields; k++)
            if (strcmp(ll_corr_fields[k].name, names[i]) == 0)
                ll_conf_default(&ll_corr_fields[k], def[i], sizeof def[i]);
    fprintf(out,
            "  --session-gap DUR       close a workflow after this much event-time\n"
            "                          silence (default %s)\n"
            "  --allowed-lateness DUR  how far events may arrive out of order (default %s)\n"
            "  --idle-timeout DUR      a source silent this long stops holding the\n"
            "                          watermark back (default %s)\n"
            "  --terminal TEXT         a message that ends its workflow (repeatable;\n"
            "                          TEXT* matches a prefix); workflows closed without\n"
            "                          one are 'incomplete'\n"
            "  --max-span DUR          cut a workflow this long (default %s)\n"
            "  --max-events N          cut a workflow with this many events (default %s)\n"
            "  --max-events-kept N     events kept per workflow, first and last halves\n"
            "                          (default %s)\n"
            "  --max-open N            open workflows before the least recently active\n"
            "                          is closed (default %s)\n"
            "\n"
            "exit status: 0 done, 1 output failed or delivery interrupted, 2 bad\n"
            "arguments, unreadable input, or a sink that cannot work\n",
            def[0], def[1], def[2], def[3], def[4], def[5], def[6]);
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "logloom replay: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'logloom help replay'.\n");
    va_end(ap);
    return LL_EXIT_USAGE;
}

static void push(const char ***list, size_t *n, const char *v)
{
    *list = ll_reallocarray((void *)*list, *n + 1, sizeof **list);
    (*list)[(*n)++] = v;
}

enum {
    OPT_FORMAT = 256, OPT_EVENTS, OPT_COLOR, OPT_ID, OPT_FROM, OPT_TO, OPT_DEAD,
    OPT_MAXLINE, OPT_IDFIELD, OPT_SVCFIELD, OPT_GAP, OPT_LATE, OPT_IDLE, OPT_TERMINAL,
    OPT_MAXSPAN, OPT_MAXEVENTS, OPT_MAXKEPT, OPT_MAXOPEN, OPT_BATCH,
    OPT_HTML, OPT_RULES, OPT_NORULES, OPT_SINK, OPT_CONFIG, OPT_THREADS,
};

static const struct option long_opts[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"events", no_argument, NULL, OPT_EVENTS},
    {"color", required_argument, NULL, OPT_COLOR},
    {"id", required_argument, NULL, OPT_ID},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"dead-letter", required_argument, NULL, OPT_DEAD},
    {"max-line-bytes", required_argument, NULL, OPT_MAXLINE},
    {"id-field", required_argument, NULL, OPT_IDFIELD},
    {"service-field", required_argument, NULL, OPT_SVCFIELD},
    {"session-gap", required_argument, NULL, OPT_GAP},
    {"allowed-lateness", required_argument, NULL, OPT_LATE},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"terminal", required_argument, NULL, OPT_TERMINAL},
    {"max-span", required_argument, NULL, OPT_MAXSPAN},
    {"max-events", required_argument, NULL, OPT_MAXEVENTS},
    {"max-events-kept", required_argument, NULL, OPT_MAXKEPT},
    {"max-open", required_argument, NULL, OPT_MAXOPEN},
    {"html", required_argument, NULL, OPT_HTML},
    {"rules", required_argument, NULL, OPT_RULES},
    {"no-rules", no_argument, NULL, OPT_NORULES},
    {"sink", required_argument, NULL, OPT_SINK},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"batch-events", required_argument, NULL, OPT_BATCH},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_choice(const char *arg, const char *a, const char *b, const char *c)
{
    return strcmp(arg, a) == 0 ? 0 : strcmp(arg, b) == 0 ? 1 : c && strcmp(arg, c) == 0 ? 2 : -1;
}

static int parse_time_opt(const char *arg, int64_t *out)
{
    return ll_time_parse(arg, strlen(arg), out) == LL_OK
               ? 0
               : usage_error("'%s' is not a time (use RFC 3339 or epoch seconds)", arg);
}

static int parse_duration_opt(const char *arg, int64_t *out)
{
    return ll_duration_parse(arg, out) == LL_OK && *out > 0
               ? 0
               : usage_error("'%s' is not a duration (e.g. 30s, 500ms, 5m)", arg);
}

static int parse_count(const char *arg, uint64_t *out, const char *opt)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > UINT32_MAX)
        return usage_error("%s takes a count from 1 to %u, not '%s'", opt, UINT32_MAX, arg);
    *out = v;
    return 0;
}

static int check_field(const char *arg)
{
    char err[256];
    if (ll_field_path_check(arg, err, sizeof err) == LL_OK)
        return 0;
    return usage_error("%s", err);
}

/* One option; returns 0, or an exit status. */
static int apply_opt(struct replay_opts *o, int c, const char *arg, int *format, int *color)
{
    switch (c) {
    case OPT_FORMAT:
        *format = parse_choice(arg, "text", "jsonl", "none");
        return *format < 0 ? usage_error("unknown format '%s' (text, jsonl or none)", arg) : 0;
    case OPT_COLOR:
        *color = parse_choice(arg, "auto", "always", "never");
        return *color < 0 ? usage_error("--color takes auto, always or never, not '%s'", arg)
                          : 0;
    case OPT_EVENTS: o->events = true; return 0;
    case OPT_ID: push(&o->ids, &o->n_ids, arg); return 0;
    case OPT_FROM: return parse_time_opt(arg, &o->from);
    case OPT_TO: return parse_time_opt(arg, &o->to);
    case OPT_DEAD: o->dead_letter = arg; return 0;
    case OPT_HTML: o->html = arg; return 0;
    case OPT_RULES: push(&o->rules, &o->n_rules, arg); return 0;
    case OPT_NORULES: o->no_rules = true; return 0;
    case OPT_SINK: push(&o->sinks, &o->n_sinks, arg); return 0;
    case OPT_CONFIG: o->config = arg; return 0;
    case OPT_MAXLINE:
        return ll__parse_size(arg, &o->max_line) ? 0
                                                 : usage_error("bad --max-line-bytes '%s'", arg);
    case OPT_IDFIELD: push(&o->id_paths, &o->n_id_paths, arg); return check_field(arg);
    case OPT_SVCFIELD:
        push(&o->service_paths, &o->n_service_paths, arg);
        return check_field(arg);
    case OPT_GAP: return parse_duration_opt(arg, &o->corr.session_gap_ns);
    case OPT_LATE: return parse_duration_opt(arg, &o->corr.allowed_lateness_ns);
    case OPT_IDLE: return parse_duration_opt(arg, &o->corr.idle_timeout_ns);
    case OPT_MAXSPAN: return parse_duration_opt(arg, &o->corr.max_span_ns);
    case OPT_TERMINAL: push(&o->terminal, &o->n_terminal, arg); return 0;
    case OPT_MAXEVENTS: return parse_count(arg, &o->corr.max_events, "--max-events");
    case OPT_MAXKEPT: {
        uint64_t v = 0;
        int rc = parse_count(arg, &v, "--max-events-kept");
        o->corr.max_events_kept = (size_t)v;
        return rc;
    }
    case OPT_BATCH: {
        uint64_t v = 0;
        int rc = parse_count(arg, &v, "--batch-events");
        o->batch_events = (size_t)v;
        return rc;
    }
    case OPT_THREADS: {
        uint64_t v = 0;
        int rc = parse_count(arg, &v, "--threads");
        if (rc == 0 && v > MAX_THREADS)
            return usage_error("--threads takes at most %d, not '%s'", MAX_THREADS, arg);
        o->threads = (size_t)v;
        return rc;
    }
    case OPT_MAXOPEN: {
        uint64_t v = 0;
        int rc = parse_count(arg, &v, "--max-open");
        o->corr.max_open_timelines = (size_t)v;
        return rc;
    }
    case 'q': o->quiet = true; return 0;
    case 'h': ll_cmd_replay_usage(stdout); return -1;
    default: return LL_EXIT_USAGE;
    }
}

static int parse_opts(int argc, char **argv, struct replay_opts *o)
{
    int format = -1, color = 0, c, rc;
    *o = (struct replay_opts){.from = INT64_MIN, .to = INT64_MAX};
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", long_opts, NULL)) != -1)
        if ((rc = apply_opt(o, c, optarg, &format, &color)) != 0)
            return rc;
    if (optind == argc)
        return usage_error("%s", "no input given");
    if (o->from > o->to)
        return usage_error("%s", "--from is after --to");
    bool tty = isatty(STDOUT_FILENO);
    o->jsonl = format < 0 ? !tty : format == 1;
    o->no_output = format == 2;
    const char *term = getenv("TERM");
    o->color = color == 1 || (color == 0 && tty && !getenv("NO_COLOR") &&
                              !(term && strcmp(term, "dumb") == 0));
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Running                                                                   */

static bool wanted(const struct run *r, struct ll_str corr_id)
{
    if (!r->o->n_ids)
        return true;
    for (size_t i = 0; i < r->o->n_ids; i++)
        if (ll_str_eq(corr_id, ll_str_c(r->o->ids[i])))
            return true;
    return false;
}

/* The terminal's sink, the report's, then the delivery sinks; NULL after. */
static ll_sink *output(const struct run *r, size_t i)
{
    ll_sink *fixed[2] = {r->sink, r->html};
    for (size_t k = 0; k < 2; k++) {
        if (fixed[k] && i == 0)
            return fixed[k];
        i -= fixed[k] != NULL;
    }
    return i < r->n_delivery ? r->delivery[i] : NULL;
}

static void on_timeline(void *ctx, const struct ll_timeline *tl)
{
    struct run *r = ctx;
    if (!wanted(r, tl->corr_id))
        return;
    ll_sink *s;
    for (size_t i = 0; (s = output(r, i)) && r->out_rc == LL_OK; i++)
        r->out_rc = ll_sink_timeline(s, tl);
}

static void on_alert(void *ctx, const struct ll_alert *a)
{
    struct run *r = ctx;
    if (r->o->n_ids && !wanted(r, a->corr_id))
        return;
    ll_sink *s;
    for (size_t i = 0; (s = output(r, i)) && r->out_rc == LL_OK; i++)
        r->out_rc = ll_sink_alert(s, a);
}

static void on_late(void *ctx, const struct ll_late *late)
{
    struct run *r = ctx;
    if (!wanted(r, late->corr_id))
        return;
    ll_sink *s;
    for (size_t i = 0; (s = output(r, i)) && r->out_rc == LL_OK; i++)
        r->out_rc = ll_sink_late(s, late);
}

/* --terminal (ll__terminal_match). */
static bool is_terminal(void *ctx, const struct ll_event *ev)
{
    const struct replay_opts *o = ctx;
    return ll__terminal_match(o->terminal, o->n_terminal, ev->msg);
}

static void on_reject(void *ctx, enum ll_reject reason, const struct ll_pos *pos,
                      const struct ll_line *line, const char *detail)
{
    struct run *r = ctx;
    ll__dead_letter_write(&r->dead, reason, pos, line, detail);
}

static void human_bytes(uint64_t n, char *out, size_t size)
{
    if (n < 10000)
        snprintf(out, size, "%llu B", (unsigned long long)n);
    else if (n < 10000000)
        snprintf(out, size, "%.1f kB", (double)n / 1e3);
    else if (n < 10000000000ULL)
        snprintf(out, size, "%.1f MB", (double)n / 1e6);
    else
        snprintf(out, size, "%.2f GB", (double)n / 1e9);
}

static void progress(const ll_replay *rp, uint64_t events, int64_t t0)
{
    uint64_t done, total;
    ll_replay_progress(rp, &done, &total);
    double secs = (double)(ll_clock_mono_ns() - t0) / 1e9;
    char d[32], t[32];
    human_bytes(done, d, sizeof d);
    human_bytes(total, t, sizeof t);
    double rate = secs > 0 ? (double)done / secs : 0;
    fprintf(stderr, "\r\033[K%s of %s (%.0f%%)  %.0f events/s  ETA %.0fs", d, t,
            total ? 100.0 * (double)done / (double)total : 100.0,
            secs > 0 ? (double)events / secs : 0.0,
            rate > 0 && total > done ? (double)(total - done) / rate : 0.0);
}

static void summary(const struct ll_stats *st, int64_t elapsed_ns, uint64_t dead_written,
                    const char *dead_path)
{
    double secs = (double)elapsed_ns / 1e9;
    char bytes[32];
    human_bytes(st->bytes, bytes, sizeof bytes);
    fprintf(stderr, "logloom: %llu events from %llu inputs (%s) into %llu workflows in %.2fs "
                    "(%.0f events/s); %llu linked, %llu orphans",
            (unsigned long long)st->events, (unsigned long long)st->inputs, bytes,
            (unsigned long long)st->timelines, secs,
            secs > 0 ? (double)st->events / secs : 0.0, (unsigned long long)st->linked,
            (unsigned long long)st->orphans);
    uint64_t rej = ll_stats_rejected_total(st);
    if (rej) {
        fprintf(stderr, "; %llu lines rejected (", (unsigned long long)rej);
        const char *sep = "";
        for (int i = 0; i < LL_REJECT__COUNT; i++)
            if (st->rejected[i]) {
                fprintf(stderr, "%s%s %llu", sep, ll_reject_name(i),
                        (unsigned long long)st->rejected[i]);
                sep = ", ";
            }
        fprintf(stderr, ")");
        if (dead_path)
            fprintf(stderr, ", %llu written to %s", (unsigned long long)dead_written, dead_path);
    }
    /* A test that gave up is a rule that may have missed a match: say so
     * where a person reads, not only in the stats record. */
    if (st->regex_limit_hits)
        fprintf(stderr, "; %llu regex tests stopped at pcre2's match limits (no match)",
                (unsigned long long)st->regex_limit_hits);
    fprintf(stderr, "\n");
}

/* Replay with many inputs needs a descriptor each. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* --html FILE: the report sink, and raw lines kept for it. */
static bool open_html(struct run *r, struct ll_corr_conf *conf)
{
    int fd = open(r->o->html, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    r->html_fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!r->html_fp) {
        fprintf(stderr, "logloom replay: cannot open HTML report %s: %s\n", r->o->html,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    r->html = ll_sink_html_new(r->html_fp, NULL);
    conf->keep_lines = true;
    return true;
}

/* The end of the run for the --html sink; the file is closed here so that a
 * failed close (a full disk) is an output error too. */
static int finish_html(struct run *r, int rc, const struct ll_stats *st,
                       const struct ll_orphans *orph, size_t n_orph)
{
    if (rc == LL_OK)
        rc = ll_sink_stats(r->html, st, orph, n_orph);
    if (rc == LL_OK)
        rc = ll_sink_flush(r->html);
    if (fclose(r->html_fp) != 0 && rc == LL_OK)
        rc = LL_EIO;
    r->html_fp = NULL;
    return rc;
}

/* @p rules (--rules, else the configuration's), or the built-in pack;
 * problems printed with their places. */
static ll_ruleset *load_rules(const char *const *rules, size_t n_rules)
{
    struct ll_diags diags = {0};
    ll_ruleset *rs = ll__load_rules(rules, n_rules, &diags);
    if (!rs)
        fprintf(stderr, "logloom replay: the rules have errors:\n");
    ll_diags_print(&diags, stderr);
    ll_diags_free(&diags);
    return rs;
}

/* The configuration's sinks and --sink's, connected before any input is
 * read: a sink that cannot work stops the run before it starts. */
static bool open_delivery(struct run *r, const struct ll_config *cfg)
{
    struct ll_delivery_conf *confs;
    size_t n;
    bool ok = ll__delivery_confs(cfg, r->o->sinks, r->o->n_sinks, &confs, &n);
    r->delivery = ll_calloc(n ? n : 1, sizeof *r->delivery);
    for (size_t i = 0; ok && i < n; i++) {
        char err[1024];
        if (ll_sink_delivery_open(&confs[i], &r->delivery[r->n_delivery], err, sizeof err) !=
            LL_OK) {
            fprintf(stderr, "logloom replay: %s\n", err);
            ok = false;
        } else {
            r->n_delivery++;
        }
    }
    ll__delivery_confs_free(confs, n);
    return ok;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Waits until the delivery sinks have made everything durable; an
 * interrupt (Ctrl-C) stops waiting. Fills @p reps; @returns false if
 * records were left undelivered. */
static bool drain_delivery(struct run *r, struct ll_delivery_report *reps)
{
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    bool all = true;
    for (size_t i = 0; i < r->n_delivery; i++) {
        if (ll_sink_drain(r->delivery[i], &interrupted) != LL_OK)
            all = false;
        ll_sink_report(r->delivery[i], &reps[i]);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return all;
}

static void delivery_summary(const struct ll_delivery_report *d)
{
    uint64_t handled = d->delivered + d->rejected;
    fprintf(stderr, "logloom: %s: %llu of %llu records durable in %llu batches", d->name,
            (unsigned long long)d->delivered, (unsigned long long)d->queued,
            (unsigned long long)d->batches);
    if (d->rejected)
        fprintf(stderr, ", %llu rejected", (unsigned long long)d->rejected);
    if (d->outages || d->retries)
        fprintf(stderr, "; %llu outages, %llu retries", (unsigned long long)d->outages,
                (unsigned long long)d->retries);
    if (d->waits)
        fprintf(stderr, "; input waited %.1fs", (double)d->waited_ns / 1e9);
    if (handled < d->queued)
        fprintf(stderr, "; %llu NOT delivered", (unsigned long long)(d->queued - handled));
    fprintf(stderr, "\n");
}

static int run_pipeline(struct run *r, ll_replay *rp, struct ll__stage *stage,
                        struct ll_stats *st)
{
    bool show_progress = !r->o->quiet && isatty(STDERR_FILENO);
    int64_t t0 = ll_clock_mono_ns(), next_progress = t0 + PROGRESS_EVERY_NS;
    const struct ll_event *ev;
    uint64_t n = 0;
    while (r->out_rc == LL_OK && ll_replay_next(rp, &ev) == LL_OK) {
        if (ev->ts_ns < r->o->from || ev->ts_ns > r->o->to) {
            st->filtered++;
            continue;
        }
        ll__stage_push(stage, ev);
        if (show_progress && (++n & 4095) == 0 && ll_clock_mono_ns() >= next_progress) {
            progress(rp, n, t0);
            next_progress = ll_clock_mono_ns() + PROGRESS_EVERY_NS;
        }
    }
    ll__stage_flush(stage);
    if (show_progress)
        fprintf(stderr, "\r\033[K");
    return r->out_rc;
}

/* @p n names of @p from (borrowed) into @p *to, unless the command line
 * gave some. */
static void take_names(const char ***to, size_t *n_to, char *const *from, size_t n)
{
    if (*n_to || !n)
        return;
    *to = ll_calloc(n, sizeof **to);
    for (size_t i = 0; i < n; i++)
        (*to)[i] = from[i];
    *n_to = n;
}

/* What --config's decode and correlation sections say (as `run` reads
 * them), where the command line said nothing. */
static void take_join(struct replay_opts *o, const struct ll__run_conf *rc)
{
    struct ll_corr_conf *c = &o->corr;
    const struct ll_corr_conf *f = &rc->corr;
    c->session_gap_ns = c->session_gap_ns ? c->session_gap_ns : f->session_gap_ns;
    c->allowed_lateness_ns = c->allowed_lateness_ns ? c->allowed_lateness_ns
                                                    : f->allowed_lateness_ns;
    c->idle_timeout_ns = c->idle_timeout_ns ? c->idle_timeout_ns : f->idle_timeout_ns;
    c->max_span_ns = c->max_span_ns ? c->max_span_ns : f->max_span_ns;
    c->max_events = c->max_events ? c->max_events : f->max_events;
    c->max_events_kept = c->max_events_kept ? c->max_events_kept : f->max_events_kept;
    c->max_open_timelines = c->max_open_timelines ? c->max_open_timelines
                                                  : f->max_open_timelines;
    take_names(&o->id_paths, &o->n_id_paths, rc->id_fields, rc->n_id_fields);
    take_names(&o->service_paths, &o->n_service_paths, rc->service_fields,
               rc->n_service_fields);
    take_names(&o->terminal, &o->n_terminal, rc->terminal, rc->n_terminal);
    o->threads = o->threads ? o->threads : rc->decode_threads;
    o->dead_letter = o->dead_letter ? o->dead_letter : rc->dead_letter;
    o->max_line = o->max_line ? o->max_line : rc->max_line;
}

int ll_cmd_replay(int argc, char **argv)
{
    struct replay_opts o;
    int rc = parse_opts(argc, argv, &o);
    struct ll_input_list files = {0};
    struct run r = {.o = &o, .dead = {.fd = -1}};
    struct ll_config cfg = {0};
    struct ll__run_conf join = {0};
    struct ll_delivery_report *reps = NULL;
    ll_replay *rp = NULL;
    ll_ruleset *rules = NULL;
    ll_rule_eval *eval[MAX_THREADS] = {0};
    size_t threads = 0;
    struct ll__stage stage = {0};
    bool stage_ready = false;
    char err[512];
    int status = LL_EXIT_USAGE;
    if (rc != 0) {
        status = rc < 0 ? LL_EXIT_OK : rc;
        goto done;
    }
    raise_fd_limit();
    if (ll_inputs_expand((const char *const *)argv + optind, (size_t)(argc - optind), &files,
                         err, sizeof err) != LL_OK) {
        fprintf(stderr, "logloom replay: %s\n", err);
        goto done;
    }
    if (o.config) {
        struct ll_buf errors = {0};
        int crc = ll_config_load(o.config, &cfg, &errors);
        fputs(errors.data ? errors.data : "", stderr);
        ll_buf_free(&errors);
        if (crc != LL_OK)
            goto done;
    }
    /* Without a file, its sections are empty: the defaults, as run's. */
    if (!ll__run_conf_join(&cfg, &join))
        goto done;
    take_join(&o, &join);
    threads = o.threads ? o.threads : ll__auto_threads();
    if (o.dead_letter && !ll__dead_letter_open(&r.dead, o.dead_letter, 0, "replay")) {
        fprintf(stderr, "logloom replay: cannot open dead-letter file %s: %s\n", o.dead_letter,
                strerror(errno));
        goto done;
    }
    if (o.html && !open_html(&r, &o.corr))
        goto done;
    if (!o.no_rules && !(rules = o.n_rules ? load_rules(o.rules, o.n_rules)
                                           : load_rules((const char *const *)cfg.rules,
                                                        cfg.n_rules)))
        goto done;
    if (!open_delivery(&r, o.config ? &cfg : NULL))
        goto done;
    struct ll_decode_conf dconf = {.id_paths = o.id_paths, .n_id_paths = o.n_id_paths,
                                   .service_paths = o.service_paths,
                                   .n_service_paths = o.n_service_paths};
    if (rules) {
        for (size_t t = 0; t < threads; t++)
            eval[t] = ll_rule_eval_new(rules);
        dconf.extra_paths = ll_ruleset_extra_paths(rules, &dconf.n_extra_paths);
        dconf.match = ll_rule_eval_match;
    }
    struct ll_replay_conf rconf = {.files = (const char *const *)files.paths,
                                   .n_files = files.n,
                                   .max_line = o.max_line,
                                   .batch_events = o.batch_events,
                                   .raw_events = rules != NULL,
                                   .decode = &dconf,
                                   .on_reject = on_reject,
                                   .ctx = &r,
                                   .threads = threads,
                                   .match_ctx = rules ? (void *const *)eval : NULL};
    if (ll_replay_open(&rconf, &rp, err, sizeof err) != LL_OK) {
        fprintf(stderr, "logloom replay: %s\n", err);
        goto done;
    }
    struct ll_sink_opts sopts = {.events = o.events, .color = o.color};
    if (!o.no_output)
        r.sink = o.jsonl ? ll_sink_jsonl_new(stdout, &sopts) : ll_sink_text_new(stdout, &sopts);
    if (o.n_terminal) {
        o.corr.is_terminal = is_terminal;
        o.corr.terminal_ctx = &o;
    }
    struct ll__stage_out out = {.timeline = on_timeline, .late = on_late, .alert = on_alert,
                                .ctx = &r};
    ll__stage_init(&stage, &o.corr, rules, &out);
    stage_ready = true;

    int64_t t0 = ll_clock_mono_ns();
    struct ll_stats st = {0};
    rc = run_pipeline(&r, rp, &stage, &st);
    uint64_t filtered = st.filtered;
    st = *ll_replay_stats(rp);
    st.filtered = filtered;
    ll__stage_stats(&stage, &st);
    for (size_t t = 0; t < threads && eval[t]; t++)
        st.regex_limit_hits += ll_rule_eval_limit_hits(eval[t]);
    reps = ll_calloc(r.n_delivery ? r.n_delivery : 1, sizeof *reps);
    bool delivered = drain_delivery(&r, reps);
    st.sinks = reps;
    st.n_sinks = r.n_delivery;
    size_t n_orph;
    const struct ll_orphans *orph = ll_correlator_orphans(stage.corr, &n_orph);
    if (rc == LL_OK && r.sink)
        rc = ll_sink_stats(r.sink, &st, orph, n_orph);
    if (rc == LL_OK && r.sink)
        rc = ll_sink_flush(r.sink);
    if (r.html)
        rc = finish_html(&r, rc, &st, orph, n_orph);
    if (!o.quiet) {
        summary(&st, ll_clock_mono_ns() - t0, r.dead.written, o.dead_letter);
        for (size_t i = 0; i < r.n_delivery; i++)
            delivery_summary(&reps[i]);
    }
    status = LL_EXIT_OK;
    if (rc != LL_OK) {
        fprintf(stderr, "logloom replay: writing output failed: %s\n", strerror(errno));
        status = LL_EXIT_FAILURE;
    }
    if (r.dead.lost) {
        fprintf(stderr, "logloom replay: %llu rejected lines were not written to %s\n",
                (unsigned long long)r.dead.lost, o.dead_letter);
        status = LL_EXIT_FAILURE;
    }
    if (!delivered) {
        for (size_t i = 0; i < r.n_delivery; i++)
            if (reps[i].delivered + reps[i].rejected < reps[i].queued)
                fprintf(stderr, "logloom replay: interrupted: %llu records not delivered to %s\n",
                        (unsigned long long)(reps[i].queued - reps[i].delivered -
                                             reps[i].rejected),
                        reps[i].name);
        status = LL_EXIT_FAILURE;
    }
done:
    if (stage_ready)
        ll__stage_destroy(&stage);
    ll_replay_close(rp);
    for (size_t t = 0; t < MAX_THREADS; t++)
        ll_rule_eval_destroy(eval[t]);
    ll_ruleset_destroy(rules);
    ll_sink_destroy(r.sink);
    ll_sink_destroy(r.html);
    for (size_t i = 0; i < r.n_delivery; i++)
        ll_sink_destroy(r.delivery[i]);
    ll_free(r.delivery);
    ll_free(reps);
    ll_config_free(&cfg);
    ll__run_conf_free(&join);
    if (r.html_fp)
        fclose(r.html_fp);
    ll__dead_letter_close(&r.dead);
    ll_input_list_free(&files);
    ll_free(o.ids);
    ll_free(o.id_paths);
    ll_free(o.service_paths);
    ll_free(o.terminal);
    ll_free(o.rules);
    ll_free(o.sinks);
    return status;
}
