/* What `logloom run` does, from its configuration file: every section
 * checked, every problem reported at its place, defaults filled in. */
#include "logloom/runner.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>


/* ------------------------------------------------------------------------ */
/* Options by table: what the reader applies, and `config options` prints   */

#define SRC(kind, field, name, def, help)                                                      \
    LL_CONF_NUM(struct ll__source_conf, field, kind, name, def, help)
#define SRC_STR(field, name, def, help) LL_CONF_STR(struct ll__source_conf, field, name, def, help)
#define SRC_LIST(field, n, name, help)                                                         \
    LL_CONF_LIST(struct ll__source_conf, field, n, name, NULL, help)
#define RUN(kind, field, name, def, help) LL_CONF_NUM(struct ll__run_conf, field, kind, name, def, help)
#define RUN_STR(field, name, def, help) LL_CONF_STR(struct ll__run_conf, field, name, def, help)
#define RUN_LIST(field, n, name, def, help)                                                    \
    LL_CONF_LIST(struct ll__run_conf, field, n, name, def, help)

static const struct ll_conf_field source_opts[] = {
    SRC_LIST(paths, n_paths, "paths", "globs of the files to tail; symlinks are followed"),
    SRC_LIST(exclude, n_exclude, "exclude", "fnmatch patterns on the path: files not read"),
    SRC(LL_CONF_DURATION, rescan_ns, "rescan", 5 * LL_NS_PER_SEC,
        "the globs are read again this often (and on inotify events)"),
    SRC(LL_CONF_DURATION, partial_timeout_ns, "partial_timeout", 5 * LL_NS_PER_SEC,
        "a last line without a newline waits this long, then goes out"),
    LL_CONF_CHOICE("start_at", "head", "head or tail: where a file seen the first time starts"),
    LL_CONF_CHOICE("format", "auto", "auto, plain, docker, cri or timestamps, decided per file"),
    LL_CONF_CHOICE("watch", "inotify",
                   "inotify, or poll: read every 50 ms (NFS written from elsewhere)"),
    SRC_STR(brokers, "brokers", NULL, "Kafka: the bootstrap servers, host:port,..."),
    SRC_STR(group_id, "group_id", NULL, "Kafka: the consumer group"),
    SRC_LIST(topics, n_topics, "topics", "Kafka: topic names, or ^regex"),
    SRC_LIST(properties, n_properties, "properties",
             "Kafka: librdkafka properties as name=value (TLS, SASL)"),
    SRC_STR(id_header, "id_header", LL_KAFKA_ID_HEADER,
            "Kafka: the header that holds a message's correlation id"),
    SRC_STR(file_header, "file_header", LL_KAFKA_FILE_HEADER,
            "Kafka: the header that names the file a line was read from"),
    LL_CONF_CHOICE("id_from", "header",
                   "header or key: where a Kafka message's correlation id is"),
};

static const struct ll_conf_field decode_opts[] = {
    RUN_LIST(id_fields, n_id_fields, "id_fields", NULL,
             "correlation id fields, a priority list that replaces the defaults (README)"),
    RUN_LIST(service_fields, n_service_fields, "service_fields", NULL,
             "service fields, a priority list that replaces the defaults"),
    RUN(LL_CONF_SIZE, max_line, "max_line_bytes", (int64_t)1 << 20,
        "longer lines are rejected (too_long) and counted"),
    RUN_STR(dead_letter, "dead_letter", NULL,
            "a file for rejected lines, whole, with the reason (none: counted and logged)"),
    RUN(LL_CONF_SIZE, dead_letter_max, "dead_letter_max_bytes", (int64_t)100 << 20,
        "then the file becomes FILE.1 and a new one starts"),
    LL_CONF_UPTO(struct ll__run_conf, decode_threads, "threads", LL__MAX_THREADS, 0,
                 "Kafka messages decoded on this many threads (none: one per usable CPU, a "
                 "container's CPU limit included, up to 8)"),
};

/* The correlation section: the correlator's own options, and these. */
static const struct ll_conf_field corr_run_opts[] = {
    RUN_LIST(terminal, n_terminal, "terminal", NULL,
             "messages that end their workflow (TEXT* matches a prefix)"),
    RUN(LL_CONF_DURATION, match_hold_ns, "match_hold", 50 * LL_NS_PER_MS,
        "windowless rules' matches are held this long and put in event-time order"),
};

static const struct ll_conf_field metrics_opts[] = {
    RUN_STR(metrics_listen, "listen", LL__METRICS_LISTEN,
            "where /metrics, /healthz and /readyz are served (off: nowhere)"),
};

static const struct ll_conf_field checkpoint_opts[] = {
    RUN_STR(checkpoint_dir, "dir", NULL,
            "where checkpoints are kept (none: a restart reads every file from its start)"),
    RUN(LL_CONF_DURATION, checkpoint_interval_ns, "interval", 5 * LL_NS_PER_SEC,
        "how often a checkpoint is written"),
};

static const struct ll_conf_field log_opts[] = {
    LL_CONF_CHOICE("level", "info", "trace, debug, info, warn, error or fatal"),
    LL_CONF_CHOICE("format", "json", "json or text: logloom's own log lines on stderr"),
};

static const struct ll_conf_field topology_opts[] = {
    LL_CONF_CHOICE("stage", NULL,
                   "correlate or service: this process's stage of a Kafka topology (none: "
                   "both in one)"),
    RUN_STR(facts_topic, "facts_topic", NULL,
            "the correlate stage: the topic its facts go to (the service stage's input)"),
};

static const struct ll_conf_field top_opts[] = {
    RUN(LL_CONF_DURATION, shutdown_timeout_ns, "shutdown_timeout", 30 * LL_NS_PER_SEC,
        "on SIGTERM, how long the sinks may take to deliver what they hold"),
};

#define N(t) (sizeof t / sizeof t[0])

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

/* One table of a section's options and the struct its offsets are of. */
struct part {
    const struct ll_conf_field *f;
    size_t n;
    void *base;
};

typedef bool extra_fn(struct checker *, const struct ll_config_opt *, void *);

/* Applies the options of @p it by the tables of its @p parts; @p extra
 * (NULL: none) reads the choices, and may check any option first (true:
 * it took it). */
static void apply(struct checker *c, const struct ll_config_item *it, const struct part *parts,
                  size_t n_parts, const char *section, extra_fn *extra)
{
    const char *names[48];
    size_t n_names = 0;
    for (size_t p = 0; p < n_parts; p++)
        for (size_t i = 0; i < parts[p].n && n_names < 48; i++)
            names[n_names++] = parts[p].f[i].name;
    for (size_t k = 0; k < it->n_opts; k++) {
        const struct ll_config_opt *o = &it->opts[k];
        const struct ll_conf_field *d = NULL;
        void *base = NULL;
        for (size_t p = 0; p < n_parts && !d; p++)
            for (size_t i = 0; i < parts[p].n && !d; i++)
                if (strcmp(parts[p].f[i].name, o->name) == 0) {
                    d = &parts[p].f[i];
                    base = parts[p].base;
                }
        if (!d) {
            const char *hint = ll_closest(ll_str_c(o->name), names, n_names);
            problem(c, o, "unknown %s option '%s'%s%s%s", section, o->name,
                    hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
            continue;
        }
        if (extra && extra(c, o, base))
            continue;
        char *field = (char *)base + d->at;
        if (d->kind != LL_CONF_LIST && o->is_list) {
            problem(c, o, "%s takes one value, not a list", o->name);
            continue;
        }
        switch (d->kind) {
        case LL_CONF_DURATION: {
            int64_t ns;
            if (ll_duration_parse(o->value, &ns) != LL_OK || ns <= 0)
                problem(c, o, "%s: '%s' is not a duration (e.g. 500ms, 30s, 5m)", o->name,
                        o->value);
            else
                memcpy(field, &ns, sizeof ns);
            break;
        }
        case LL_CONF_COUNT: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(o->value, &end, 10);
            uint64_t max = d->max ? d->max : UINT32_MAX;
            if (errno || end == o->value || *end || o->value[0] == '-' || !v || v > max) {
                problem(c, o, "%s: '%s' is not a count from 1 to %llu", o->name, o->value,
                        (unsigned long long)max);
            } else {
                uint64_t u = v; /* a size_t or a uint64_t: both 8 bytes here */
                memcpy(field, &u, sizeof u);
            }
            break;
        }
        case LL_CONF_SIZE: {
            size_t z;
            if (!ll__parse_size(o->value, &z))
                problem(c, o, "%s: '%s' is not a size (e.g. 1M, 512K)", o->name, o->value);
            else
                memcpy(field, &z, sizeof z);
            break;
        }
        case LL_CONF_LIST: {
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
        case LL_CONF_STRING: {
            char *old;
            memcpy(&old, field, sizeof old);
            ll_free(old);
            char *v = ll_strdup(o->value);
            memcpy(field, &v, sizeof v);
            break;
        }
        case LL_CONF_CHOICE: /* read by extra */
            break;
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

/* Every field of @p parts takes its table's default; a choice is read by
 * @p extra from its default word, as if the file said it. */
static void fill_defaults(const struct part *parts, size_t n_parts, extra_fn *extra)
{
    struct checker quiet = {"(defaults)", true};
    for (size_t p = 0; p < n_parts; p++) {
        ll_conf_fill_defaults(parts[p].f, parts[p].n, parts[p].base);
        for (size_t i = 0; i < parts[p].n; i++) {
            const struct ll_conf_field *f = &parts[p].f[i];
            if (f->kind == LL_CONF_CHOICE && f->def_text && extra) {
                struct ll_config_opt o = {.name = (char *)f->name, .value = (char *)f->def_text};
                extra(&quiet, &o, parts[p].base);
            }
        }
    }
    assert(quiet.ok);
}

/* The parts of each section of @p rc. */
#define DECODE(rc) {{decode_opts, N(decode_opts), (rc)}}
#define CORRELATION(rc)                                                                        \
    {{ll_corr_fields, ll_corr_n_fields, &(rc)->corr}, {corr_run_opts, N(corr_run_opts), (rc)}}
#define ONE(t, rc) {{t, N(t), (rc)}}

static void defaults(struct ll__run_conf *rc)
{
    *rc = (struct ll__run_conf){0};
    const struct part decode[] = DECODE(rc), corr[] = CORRELATION(rc),
                      metrics[] = ONE(metrics_opts, rc), checkpoints[] = ONE(checkpoint_opts, rc),
                      log[] = ONE(log_opts, rc), topology[] = ONE(topology_opts, rc),
                      top[] = ONE(top_opts, rc);
    fill_defaults(decode, N(decode), NULL);
    fill_defaults(corr, N(corr), NULL);
    fill_defaults(metrics, N(metrics), NULL);
    fill_defaults(checkpoints, N(checkpoints), NULL);
    fill_defaults(log, N(log), log_extra);
    fill_defaults(topology, N(topology), topology_extra);
    fill_defaults(top, N(top), NULL);
}

/* The sections that decide how lines join into workflows. */
static void join_sections(struct checker *c, const struct ll_config *cfg,
                          struct ll__run_conf *rc)
{
    const struct part decode[] = DECODE(rc), corr[] = CORRELATION(rc);
    apply(c, &cfg->decode, decode, N(decode), "decode", decode_extra);
    apply(c, &cfg->correlation, corr, N(corr), "correlation", NULL);
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
        *s = (struct ll__source_conf){0};
        const struct part src[] = ONE(source_opts, s);
        fill_defaults(src, N(src), source_extra);
        apply(&c, &cfg->sources[i], src, N(src), "source", source_extra);
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
    const struct part metrics[] = ONE(metrics_opts, rc), checkpoints[] = ONE(checkpoint_opts, rc),
                      log[] = ONE(log_opts, rc), topology[] = ONE(topology_opts, rc),
                      top[] = ONE(top_opts, rc);
    apply(&c, &cfg->metrics, metrics, N(metrics), "metrics", NULL);
    if (rc->metrics_listen && (strcmp(rc->metrics_listen, "off") == 0 ||
                               strcmp(rc->metrics_listen, "false") == 0)) {
        ll_free(rc->metrics_listen);
        rc->metrics_listen = NULL;
    }
    apply(&c, &cfg->checkpoints, checkpoints, N(checkpoints), "checkpoints", NULL);
    apply(&c, &cfg->log, log, N(log), "log", log_extra);
    apply(&c, &cfg->topology, topology, N(topology), "topology", topology_extra);
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
    apply(&c, &cfg->top, top, N(top), "top-level", NULL);
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
                ll__yaml_str(s->id_header);
                printf("\n");
            }
            printf("    file_header: ");
            ll__yaml_str(s->file_header);
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
           (unsigned long long)rc->corr.max_events, rc->corr.max_events_kept,
           rc->corr.max_open_timelines);
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

/* ------------------------------------------------------------------------ */
/* The options, as the tables describe them                                */

static void options_of(FILE *out, bool markdown, const char *section, const struct part *parts,
                       size_t n_parts)
{
    if (markdown)
        fprintf(out, "\n`%s`:\n\n| option | default | meaning |\n|---|---|---|\n", section);
    else
        fprintf(out, "%s\n", section);
    for (size_t p = 0; p < n_parts; p++) {
        for (size_t i = 0; i < parts[p].n; i++) {
            const struct ll_conf_field *f = &parts[p].f[i];
            char def[64];
            ll_conf_default(f, def, sizeof def);
            if (markdown)
                fprintf(out, "| `%s` | %s%s%s | %s |\n", f->name, *def ? "`" : "", def,
                        *def ? "`" : "", f->help);
            else
                fprintf(out, "  %-22s %-16s %s\n", f->name, *def ? def : "-", f->help);
        }
    }
}

bool ll__run_conf_options(FILE *out, bool markdown, char *const *sections, size_t n)
{
    struct ll__run_conf rc;
    struct ll__source_conf sc;
    const struct part src[] = ONE(source_opts, &sc), decode[] = DECODE(&rc),
                      corr[] = CORRELATION(&rc), metrics[] = ONE(metrics_opts, &rc),
                      checkpoints[] = ONE(checkpoint_opts, &rc), log[] = ONE(log_opts, &rc),
                      topology[] = ONE(topology_opts, &rc), top[] = ONE(top_opts, &rc),
                      sinks[] = {{ll_delivery_fields, ll_delivery_n_fields, NULL}};
    static const char *const names[] = {"sources",     "decode", "correlation",
                                        "metrics",     "checkpoints", "log",
                                        "topology",    "top",    "sinks"};
    static const char *const titles[] = {"sources[]", "decode",   "correlation",
                                         "metrics",   "checkpoints", "log",
                                         "topology",  "top level", "sinks[]"};
    const struct part *parts[] = {src, decode, corr, metrics, checkpoints, log, topology, top,
                                  sinks};
    const size_t n_parts[] = {N(src),         N(decode), N(corr),     N(metrics), N(checkpoints),
                              N(log),         N(topology), N(top),    N(sinks)};
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < N(names) && strcmp(names[k], sections[i]) != 0)
            k++;
        if (k == N(names)) {
            fprintf(stderr, "config options: no section '%s' (sources, decode, correlation, "
                    "metrics, checkpoints, log, topology, top, sinks)\n", sections[i]);
            return false;
        }
    }
    for (size_t k = 0; k < N(names); k++) {
        bool wanted = !n;
        for (size_t i = 0; i < n && !wanted; i++)
            wanted = strcmp(names[k], sections[i]) == 0;
        if (wanted)
            options_of(out, markdown, titles[k], parts[k], n_parts[k]);
    }
    return true;
}
