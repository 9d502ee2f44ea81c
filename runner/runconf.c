/* What `logloom run` does, from its configuration file: every section
 * checked, every problem reported at its place, defaults filled in. */
#include "logloom/runner.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>


/* ------------------------------------------------------------------------ */
/* Options by table                                                          */

enum kind { K_DURATION, K_COUNT, K_SIZE, K_LIST, K_PATH, K_BOOL };

struct optdef {
    const char *name;
    enum kind kind;
    size_t at;    /* offsetof the field; lists: of the char ** (count right after) */
    size_t count; /* lists: offsetof the size_t count */
    uint32_t max; /* K_COUNT: the largest (0: UINT32_MAX) */
};

#define OPT(s, name, kind, field) {name, kind, offsetof(s, field), 0, 0}
#define COUNT_UPTO(s, name, field, max) {name, K_COUNT, offsetof(s, field), 0, max}
#define LIST(s, name, field, n) {name, K_LIST, offsetof(s, field), offsetof(s, n), 0}

static const struct optdef source_opts[] = {
    LIST(struct ll__source_conf, "paths", paths, n_paths),
    LIST(struct ll__source_conf, "exclude", exclude, n_exclude),
    OPT(struct ll__source_conf, "rescan", K_DURATION, rescan_ns),
    OPT(struct ll__source_conf, "partial_timeout", K_DURATION, partial_timeout_ns),
    {"start_at", K_PATH, 0, 0, 0}, /* below: head or tail */
    {"format", K_PATH, 0, 0, 0},   /* below: auto, plain, docker, cri, timestamps */
    {"watch", K_PATH, 0, 0, 0},    /* below: inotify or poll */
    OPT(struct ll__source_conf, "brokers", K_PATH, brokers),
    OPT(struct ll__source_conf, "group_id", K_PATH, group_id),
    LIST(struct ll__source_conf, "topics", topics, n_topics),
    LIST(struct ll__source_conf, "properties", properties, n_properties),
    OPT(struct ll__source_conf, "id_header", K_PATH, id_header),
    OPT(struct ll__source_conf, "file_header", K_PATH, file_header),
    {"id_from", K_PATH, 0, 0, 0}, /* below: header or key */
};

static const struct optdef decode_opts[] = {
    LIST(struct ll__run_conf, "id_fields", id_fields, n_id_fields),
    LIST(struct ll__run_conf, "service_fields", service_fields, n_service_fields),
    OPT(struct ll__run_conf, "max_line_bytes", K_SIZE, max_line),
    OPT(struct ll__run_conf, "dead_letter", K_PATH, dead_letter),
    OPT(struct ll__run_conf, "dead_letter_max_bytes", K_SIZE, dead_letter_max),
    COUNT_UPTO(struct ll__run_conf, "threads", decode_threads, LL__MAX_THREADS),
};

static const struct optdef corr_opts[] = {
    OPT(struct ll__run_conf, "session_gap", K_DURATION, corr.session_gap_ns),
    OPT(struct ll__run_conf, "allowed_lateness", K_DURATION, corr.allowed_lateness_ns),
    OPT(struct ll__run_conf, "idle_timeout", K_DURATION, corr.idle_timeout_ns),
    OPT(struct ll__run_conf, "max_span", K_DURATION, corr.max_span_ns),
    OPT(struct ll__run_conf, "max_events", K_COUNT, corr.max_events),
    OPT(struct ll__run_conf, "max_events_kept", K_COUNT, max_events_kept),
    OPT(struct ll__run_conf, "max_open", K_COUNT, max_open),
    LIST(struct ll__run_conf, "terminal", terminal, n_terminal),
    OPT(struct ll__run_conf, "match_hold", K_DURATION, match_hold_ns),
};

static const struct optdef metrics_opts[] = {
    OPT(struct ll__run_conf, "listen", K_PATH, metrics_listen),
};

static const struct optdef checkpoint_opts[] = {
    OPT(struct ll__run_conf, "dir", K_PATH, checkpoint_dir),
    OPT(struct ll__run_conf, "interval", K_DURATION, checkpoint_interval_ns),
};

static const struct optdef log_opts[] = {
    {"level", K_PATH, 0, 0, 0},  /* below */
    {"format", K_PATH, 0, 0, 0}, /* below */
};

static const struct optdef topology_opts[] = {
    {"stage", K_PATH, 0, 0, 0}, /* below: correlate or service */
    OPT(struct ll__run_conf, "facts_topic", K_PATH, facts_topic),
};

static const struct optdef top_opts[] = {
    OPT(struct ll__run_conf, "shutdown_timeout", K_DURATION, shutdown_timeout_ns),
};

struct checker {
    const char *path;
    bool ok;
};

static void problem(struct checker *c, const struct ll_config_opt *o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct checker *c, const struct ll_config_opt *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d:%d: error: ", c->path, o ? o->line : 1, o ? o->column : 1);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    c->ok = false;
}

size_t ll__auto_threads(void)
{
    size_t n = ll_cpus_usable("/proc/self/cgroup", "/sys/fs/cgroup");
    return n > 8 ? 8 : n;
}

bool ll__parse_size(const char *s, size_t *out)
{
    uint64_t v;
    if (ll_size_parse(s, &v) != LL_OK || !v || v > (UINT64_C(1) << 32))
        return false;
    *out = (size_t)v;
    return true;
}

static char **copy_items(const struct ll_config_opt *o, size_t *n)
{
    size_t k = o->is_list ? o->n_items : 1;
    char **v = ll_calloc(k ? k : 1, sizeof *v);
    for (size_t i = 0; i < k; i++)
        v[i] = ll_strdup(o->is_list ? o->items[i] : o->value);
    *n = k;
    return v;
}

/* Applies the options of @p it to @p base by @p defs; names not in the table
 * are left to @p extra (NULL: unknown). */
static void apply(struct checker *c, const struct ll_config_item *it, const struct optdef *defs,
                  size_t n_defs, void *base, const char *section,
                  bool (*extra)(struct checker *, const struct ll_config_opt *, void *))
{
    const char *names[32];
    for (size_t i = 0; i < n_defs; i++)
        names[i] = defs[i].name;
    for (size_t k = 0; k < it->n_opts; k++) {
        const struct ll_config_opt *o = &it->opts[k];
        const struct optdef *d = NULL;
        for (size_t i = 0; i < n_defs && !d; i++)
            if (strcmp(defs[i].name, o->name) == 0)
                d = &defs[i];
        if (!d) {
            const char *hint = ll_closest(ll_str_c(o->name), names, n_defs);
            problem(c, o, "unknown %s option '%s'%s%s%s", section, o->name,
                    hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            continue;
        }
        if (extra && extra(c, o, base))
            continue;
        char *field = (char *)base + d->at;
        if (d->kind != K_LIST && o->is_list) {
            problem(c, o, "%s takes one value, not a list", o->name);
            continue;
        }
        switch (d->kind) {
        case K_DURATION: {
            int64_t ns;
            if (ll_duration_parse(o->value, &ns) != LL_OK || ns <= 0)
                problem(c, o, "%s: '%s' is not a duration (e.g. 500ms, 30s, 5m)", o->name,
                        o->value);
            else
                memcpy(field, &ns, sizeof ns);
            break;
        }
        case K_COUNT: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(o->value, &end, 10);
            uint32_t max = d->max ? d->max : UINT32_MAX;
            if (errno || end == o->value || *end || o->value[0] == '-' || !v || v > max) {
                problem(c, o, "%s: '%s' is not a count from 1 to %u", o->name, o->value, max);
            } else if (strcmp(o->name, "max_events") == 0) {
                uint64_t u = v;
                memcpy(field, &u, sizeof u);
            } else {
                size_t z = (size_t)v;
                memcpy(field, &z, sizeof z);
            }
            break;
        }
        case K_SIZE: {
            size_t z;
            if (!ll__parse_size(o->value, &z))
                problem(c, o, "%s: '%s' is not a size (e.g. 1M, 512K)", o->name, o->value);
            else
                memcpy(field, &z, sizeof z);
            break;
        }
        case K_LIST: {
            char **old;
            memcpy(&old, field, sizeof old);
            size_t *count = (size_t *)((char *)base + d->count);
            for (size_t i = 0; i < *count; i++)
                ll_free(old[i]);
            ll_free(old);
            char **v = copy_items(o, count);
            memcpy(field, &v, sizeof v);
            break;
        }
        default: {
            char *old;
            memcpy(&old, field, sizeof old);
            ll_free(old);
            char *v = ll_strdup(o->value);
            memcpy(field, &v, sizeof v);
        }
        }
    }
}

static bool source_extra(struct checker *c, const struct ll_config_opt *o, void *base)
{
    struct ll__source_conf *s = base;
    if (strcmp(o->name, "start_at") == 0) {
        if (strcmp(o->value, "head") != 0 && strcmp(o->value, "tail") != 0)
            problem(c, o, "start_at: '%s' is not head or tail", o->value);
        s->start_at_tail = strcmp(o->value, "tail") == 0;
        return true;
    }
    if (strcmp(o->name, "watch") == 0) {
        if (strcmp(o->value, "inotify") != 0 && strcmp(o->value, "poll") != 0)
            problem(c, o, "watch: '%s' is not inotify or poll", o->value);
        s->poll_only = strcmp(o->value, "poll") == 0;
        return true;
    }
    if (strcmp(o->name, "id_from") == 0) {
        if (strcmp(o->value, "header") != 0 && strcmp(o->value, "key") != 0)
            problem(c, o, "id_from: '%s' is not header or key", o->value);
        s->key_as_id = strcmp(o->value, "key") == 0;
        return true;
    }
    if (strcmp(o->name, "properties") == 0) {
        for (size_t i = 0; i < (o->is_list ? o->n_items : 1); i++) {
            const char *p = o->is_list ? o->items[i] : o->value;
            /* Not quoted: a mistyped one may hold a password. */
            if (!strchr(p, '=') || *p == '=')
                problem(c, o, "properties: item %zu is not name=value (a librdkafka property)",
                        i + 1);
        }
        return false;
    }
    if (strcmp(o->name, "format") == 0) {
        if (ll_frame_format_parse(o->value, &s->format) != LL_OK)
            problem(c, o, "format: '%s' is not auto, plain, docker, cri or timestamps", o->value);
        return true;
    }
    if (strcmp(o->name, "paths") == 0 || strcmp(o->name, "exclude") == 0) {
        for (size_t i = 0; i < (o->is_list ? o->n_items : 1); i++)
            if (!*(o->is_list ? o->items[i] : o->value))
                problem(c, o, "%s: an empty pattern", o->name);
    }
    return false;
}

static bool decode_extra(struct checker *c, const struct ll_config_opt *o, void *base)
{
    (void)base;
    if (strcmp(o->name, "id_fields") != 0 && strcmp(o->name, "service_fields") != 0)
        return false;
    char err[256];
    for (size_t i = 0; i < (o->is_list ? o->n_items : 1); i++)
        if (ll_field_path_check(o->is_list ? o->items[i] : o->value, err, sizeof err) != LL_OK)
            problem(c, o, "%s: %s", o->name, err);
    return false;
}

static bool log_extra(struct checker *c, const struct ll_config_opt *o, void *base)
{
    struct ll__run_conf *rc = base;
    if (strcmp(o->name, "level") == 0) {
        enum ll_level l = ll_level_from_name(o->value, strlen(o->value));
        if (l == LL_LEVEL_NONE)
            problem(c, o, "level: '%s' is not trace, debug, info, warn, error or fatal",
                    o->value);
        else
            rc->log_level = l;
    } else {
        if (strcmp(o->value, "json") != 0 && strcmp(o->value, "text") != 0)
            problem(c, o, "format: '%s' is not json or text", o->value);
        rc->log_json = strcmp(o->value, "json") == 0;
    }
    return true;
}

static bool topology_extra(struct checker *c, const struct ll_config_opt *o, void *base)
{
    struct ll__run_conf *rc = base;
    if (strcmp(o->name, "stage") != 0)
        return false;
    if (strcmp(o->value, "correlate") == 0)
        rc->stage = LL__STAGE_CORRELATE;
    else if (strcmp(o->value, "service") == 0)
        rc->stage = LL__STAGE_SERVICE;
    else
        problem(c, o, "stage: '%s' is not correlate or service", o->value);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */

static void defaults(struct ll__run_conf *rc)
{
    *rc = (struct ll__run_conf){
        .max_line = (size_t)1 << 20,
        .dead_letter_max = (size_t)100 << 20,
        .checkpoint_interval_ns = 5 * LL_NS_PER_SEC,
        .shutdown_timeout_ns = 30 * LL_NS_PER_SEC,
        .metrics_listen = ll_strdup(LL__METRICS_LISTEN),
        .log_level = LL_LEVEL_INFO,
        .log_json = true,
    };
    rc->corr.session_gap_ns = LL_CORR_SESSION_GAP_NS;
    rc->corr.allowed_lateness_ns = LL_CORR_ALLOWED_LATENESS_NS;
    rc->corr.idle_timeout_ns = LL_CORR_IDLE_TIMEOUT_NS;
    rc->corr.max_span_ns = LL_CORR_MAX_SPAN_NS;
    rc->corr.max_events = LL_CORR_MAX_EVENTS;
    rc->max_events_kept = LL_CORR_MAX_EVENTS_KEPT;
    rc->max_open = LL_CORR_MAX_OPEN;
    rc->match_hold_ns = 50 * LL_NS_PER_MS;
}

/* The sections that decide how lines join into workflows. */
static void join_sections(struct checker *c, const struct ll_config *cfg,
                          struct ll__run_conf *rc)
{
    apply(c, &cfg->decode, decode_opts, sizeof decode_opts / sizeof decode_opts[0], rc, "decode",
          decode_extra);
    apply(c, &cfg->correlation, corr_opts, sizeof corr_opts / sizeof corr_opts[0], rc,
          "correlation", NULL);
}

bool ll__run_conf_join(const struct ll_config *cfg, struct ll__run_conf *rc)
{
    defaults(rc);
    struct checker c = {cfg->path, true};
    join_sections(&c, cfg, rc);
    return c.ok;
}

bool ll__run_conf_load(const struct ll_config *cfg, struct ll__run_conf *rc)
{
    defaults(rc);
    struct checker c = {cfg->path, true};
    int n_kafka = 0;
    for (size_t i = 0; i < cfg->n_sources; i++) {
        rc->sources = ll_reallocarray(rc->sources, rc->n_sources + 1, sizeof *rc->sources);
        struct ll__source_conf *s = &rc->sources[rc->n_sources++];
        *s = (struct ll__source_conf){.rescan_ns = 5 * LL_NS_PER_SEC,
                                      .partial_timeout_ns = 5 * LL_NS_PER_SEC};
        apply(&c, &cfg->sources[i], source_opts, sizeof source_opts / sizeof source_opts[0], s,
              "source", source_extra);
        struct ll_config_opt at = {.line = cfg->sources[i].line,
                                   .column = cfg->sources[i].column};
        if (s->brokers) {
            if (s->n_paths)
                problem(&c, &at, "a source has either paths (files) or brokers (Kafka), not both");
            if (!s->group_id)
                problem(&c, &at, "a Kafka source needs group_id");
            if (!s->n_topics)
                problem(&c, &at, "a Kafka source needs topics (names, or ^regex)");
            if (++n_kafka == 2)
                problem(&c, &at, "one Kafka source per process (run more processes: the group "
                        "shares the partitions out)");
        } else if (s->group_id || s->n_topics || s->n_properties) {
            problem(&c, &at, "group_id, topics and properties belong to a Kafka source: add "
                    "brokers");
        } else if (!s->n_paths) {
            problem(&c, &at, "a source needs paths (globs of files to tail) or brokers (Kafka)");
        }
    }
    if (!cfg->n_sources)
        problem(&c, NULL, "no sources: add sources: [{paths: [/var/log/containers/x.log]}]");
    join_sections(&c, cfg, rc);
    apply(&c, &cfg->metrics, metrics_opts, sizeof metrics_opts / sizeof metrics_opts[0], rc,
          "metrics", NULL);
    if (rc->metrics_listen && (strcmp(rc->metrics_listen, "off") == 0 ||
                               strcmp(rc->metrics_listen, "false") == 0)) {
        ll_free(rc->metrics_listen);
        rc->metrics_listen = NULL;
    }
    apply(&c, &cfg->checkpoints, checkpoint_opts,
          sizeof checkpoint_opts / sizeof checkpoint_opts[0], rc, "checkpoints", NULL);
    apply(&c, &cfg->log, log_opts, sizeof log_opts / sizeof log_opts[0], rc, "log", log_extra);
    apply(&c, &cfg->topology, topology_opts, sizeof topology_opts / sizeof topology_opts[0], rc,
          "topology", topology_extra);
    struct ll_config_opt at = {.line = cfg->topology.line, .column = cfg->topology.column};
    if (rc->stage && !n_kafka)
        problem(&c, &at, "topology: a stage reads Kafka: add a source with brokers");
    if (rc->stage == LL__STAGE_CORRELATE && !rc->facts_topic)
        problem(&c, &at, "topology: the correlate stage needs facts_topic (the service stage's "
                "input)");
    if (rc->stage == LL__STAGE_SERVICE && rc->facts_topic)
        problem(&c, &at, "topology: facts_topic belongs to the correlate stage (the service "
                "stage reads it as its source's topic)");
    if (rc->stage && n_kafka && rc->n_sources > 1)
        problem(&c, &at, "topology: a stage has its Kafka source only (tail files in a process "
                "of their own)");
    apply(&c, &cfg->top, top_opts, sizeof top_opts / sizeof top_opts[0], rc, "top-level", NULL);
    rc->rules = ll_calloc(cfg->n_rules ? cfg->n_rules : 1, sizeof *rc->rules);
    for (size_t i = 0; i < cfg->n_rules; i++)
        rc->rules[i] = ll_strdup(cfg->rules[i]);
    rc->n_rules = cfg->n_rules;
    if (!ll__delivery_confs(cfg, NULL, 0, &rc->sinks, &rc->n_sinks))
        c.ok = false;
    return c.ok;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ll_free(v[i]);
    ll_free(v);
}

void ll__run_conf_free(struct ll__run_conf *rc)
{
    for (size_t i = 0; i < rc->n_sources; i++) {
        free_list(rc->sources[i].paths, rc->sources[i].n_paths);
        free_list(rc->sources[i].exclude, rc->sources[i].n_exclude);
        free_list(rc->sources[i].topics, rc->sources[i].n_topics);
        free_list(rc->sources[i].properties, rc->sources[i].n_properties);
        ll_free(rc->sources[i].brokers);
        ll_free(rc->sources[i].group_id);
        ll_free(rc->sources[i].id_header);
        ll_free(rc->sources[i].file_header);
    }
    ll_free(rc->sources);
    free_list(rc->id_fields, rc->n_id_fields);
    free_list(rc->service_fields, rc->n_service_fields);
    free_list(rc->terminal, rc->n_terminal);
    free_list(rc->rules, rc->n_rules);
    ll__delivery_confs_free(rc->sinks, rc->n_sinks);
    ll_free(rc->dead_letter);
    ll_free(rc->metrics_listen);
    ll_free(rc->checkpoint_dir);
    ll_free(rc->facts_topic);
    *rc = (struct ll__run_conf){0};
}

static void show_list(const char *indent, const char *name, char **v, size_t n,
                      const char *none)
{
    printf("%s%s: [", indent, name);
    for (size_t i = 0; i < n; i++) {
        printf(i ? ", " : "");
        ll__yaml_str(v[i]);
    }
    printf("]%s%s\n", n || !none ? "" : "  # ", n ? "" : none ? none : "");
}

void ll__run_conf_show(const struct ll__run_conf *rc)
{
    printf("sources:\n");
    for (size_t i = 0; i < rc->n_sources; i++) {
        const struct ll__source_conf *s = &rc->sources[i];
        if (s->brokers) {
            printf("  - brokers: ");
            ll__yaml_str(s->brokers);
            printf("\n    group_id: ");
            ll__yaml_str(s->group_id);
            printf("\n");
            show_list("    ", "topics", s->topics, s->n_topics, NULL);
            printf("    properties: [");
            for (size_t k = 0; k < s->n_properties; k++) {
                /* Secrets (sasl.password, ssl.key.password, ...) masked. */
                const char *p = s->properties[k], *eq = strchr(p, '=');
                struct ll_buf shown = {0};
                if (eq && ll_secret_key(p, (size_t)(eq - p)))
                    ll_buf_printf(&shown, "%.*s=***", (int)(eq - p), p);
                else
                    ll_buf_puts(&shown, p);
                printf(k ? ", " : "");
                ll__yaml_str(shown.data);
                ll_buf_free(&shown);
            }
            printf("]\n    start_at: %s\n    id_from: %s\n",
                   s->start_at_tail ? "tail" : "head", s->key_as_id ? "key" : "header");
            if (!s->key_as_id) {
                printf("    id_header: ");
                ll__yaml_str(s->id_header ? s->id_header : "X-Request-ID");
                printf("\n");
            }
            printf("    file_header: ");
            ll__yaml_str(s->file_header ? s->file_header : "file");
            printf("\n");
            continue;
        }
        show_list("  - ", "paths", s->paths, s->n_paths, NULL);
        show_list("    ", "exclude", s->exclude, s->n_exclude, NULL);
        printf("    start_at: %s\n    format: %s\n    watch: %s\n",
               s->start_at_tail ? "tail" : "head", ll_frame_format_name(s->format),
               s->poll_only ? "poll" : "inotify");
        ll__show_duration("    ", "rescan", s->rescan_ns);
        ll__show_duration("    ", "partial_timeout", s->partial_timeout_ns);
    }
    printf("decode:\n");
    show_list("  ", "id_fields", rc->id_fields, rc->n_id_fields, "the defaults (README)");
    show_list("  ", "service_fields", rc->service_fields, rc->n_service_fields,
              "the defaults (README)");
    printf("  max_line_bytes: %zu\n  dead_letter: ", rc->max_line);
    if (rc->dead_letter)
        ll__yaml_str(rc->dead_letter);
    else
        printf("null  # none: rejected lines are counted and logged only");
    printf("\n  dead_letter_max_bytes: %zu\n  threads: %zu%s\ncorrelation:\n",
           rc->dead_letter_max, rc->decode_threads ? rc->decode_threads : ll__auto_threads(),
           rc->decode_threads ? "" : "  # one per usable CPU (Kafka messages)");
    ll__show_duration("  ", "session_gap", rc->corr.session_gap_ns);
    ll__show_duration("  ", "allowed_lateness", rc->corr.allowed_lateness_ns);
    ll__show_duration("  ", "idle_timeout", rc->corr.idle_timeout_ns);
    ll__show_duration("  ", "max_span", rc->corr.max_span_ns);
    printf("  max_events: %llu\n  max_events_kept: %zu\n  max_open: %zu\n",
           (unsigned long long)rc->corr.max_events, rc->max_events_kept, rc->max_open);
    show_list("  ", "terminal", rc->terminal, rc->n_terminal, NULL);
    ll__show_duration("  ", "match_hold", rc->match_hold_ns);
    printf("metrics: ");
    if (rc->metrics_listen)
        ll__yaml_str(rc->metrics_listen);
    else
        printf("off");
    printf("\ncheckpoints:\n  dir: ");
    if (rc->checkpoint_dir)
        ll__yaml_str(rc->checkpoint_dir);
    else
        printf("null  # none: a restart reads every file again from its start");
    printf("\n");
    ll__show_duration("  ", "interval", rc->checkpoint_interval_ns);
    printf("log: {level: %s, format: %s}\n", ll_level_name(rc->log_level),
           rc->log_json ? "json" : "text");
    if (rc->stage) {
        printf("topology:\n  stage: %s\n",
               rc->stage == LL__STAGE_CORRELATE ? "correlate" : "service");
        if (rc->facts_topic) {
            printf("  facts_topic: ");
            ll__yaml_str(rc->facts_topic);
            printf("\n");
        }
    }
    ll__show_duration("", "shutdown_timeout", rc->shutdown_timeout_ns);
}
