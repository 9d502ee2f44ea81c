/* The YAML configuration file of logloom run (and of replay's sinks and
 * rules):
 *
 *   sources:
 *     - paths: [/var/log/containers/agent-*.log]
 *       start_at: head
 *   correlation: {session_gap: 30s}
 *   rules: [builtin, ./our-rules]
 *   sinks:
 *     - url: postgresql://logloom@db/logloom
 *       receive: [alerts, timelines]
 *     - file:alerts.jsonl            # a bare URL takes every default
 *   metrics: 127.0.0.1:9464
 *   checkpoints: {dir: /var/lib/logloom}
 *
 * This file checks the shape and keeps every value with its place; what the
 * values mean is for the code using them, which reports problems at that
 * place too. */
#include "logloom/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

static const char *const top_keys[] = {"sources", "decode",      "correlation", "rules",
                                       "sinks",   "metrics",     "checkpoints", "log",
                                       "topology", "shutdown_timeout"};

struct loader {
    const char *path;
    yaml_document_t doc;
    struct ll_buf *errors;
    int n_errors;
};

static void error_at(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_at(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ll_buf_printf(l->errors, "%s:%d:%d: error: %s\n", l->path, n ? (int)n->start_mark.line + 1 : 1,
                  n ? (int)n->start_mark.column + 1 : 1, msg);
    l->n_errors++;
}

static yaml_node_t *node(struct loader *l, int id)
{
    return yaml_document_get_node(&l->doc, id);
}

static bool is_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE;
}

static char *scalar_dup(const yaml_node_t *n)
{
    return ll_strndup((const char *)n->data.scalar.value, n->data.scalar.length);
}

static struct ll_str scalar_str(const yaml_node_t *n)
{
    return (struct ll_str){(const char *)n->data.scalar.value, n->data.scalar.length};
}

/* A scalar, or a list of scalars ("receive: [a, b]"). */
static bool value_of(struct loader *l, yaml_node_t *v, struct ll_config_opt *o)
{
    if (is_scalar(v)) {
        o->value = scalar_dup(v);
        return true;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        error_at(l, v, "%s: expected a value or a list of values, not a mapping", o->name);
        return false;
    }
    struct ll_buf joined = {0};
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node(l, *it);
        if (!is_scalar(e)) {
            error_at(l, e, "expected a value");
            continue;
        }
        o->items = ll_reallocarray(o->items, o->n_items + 1, sizeof *o->items);
        o->items[o->n_items++] = scalar_dup(e);
        if (it > v->data.sequence.items.start)
            ll_buf_putc(&joined, ',');
        ll_buf_append(&joined, e->data.scalar.value, e->data.scalar.length);
    }
    o->value = ll_strdup(joined.data ? joined.data : "");
    ll_buf_free(&joined);
    o->is_list = true;
    return true;
}

static void add_opt(struct ll_config_item *it, struct ll_config_opt o)
{
    it->opts = ll_reallocarray(it->opts, it->n_opts + 1, sizeof *it->opts);
    it->opts[it->n_opts++] = o;
}

static struct ll_config_opt opt_at(const char *name, const yaml_node_t *at)
{
    return (struct ll_config_opt){.name = ll_strdup(name), .line = (int)at->start_mark.line + 1,
                                  .column = (int)at->start_mark.column + 1};
}

/* A mapping of name: value into @p it; a scalar is the value of
 * @p scalar_name (a sink's url, a source's paths, metrics' listen). */
static void load_item(struct loader *l, yaml_node_t *n, const char *scalar_name,
                      struct ll_config_item *it)
{
    it->line = (int)n->start_mark.line + 1;
    it->column = (int)n->start_mark.column + 1;
    it->present = true;
    if (is_scalar(n) && scalar_name) {
        struct ll_config_opt o = opt_at(scalar_name, n);
        value_of(l, n, &o);
        add_opt(it, o);
        return;
    }
    if (n->type != YAML_MAPPING_NODE) {
        error_at(l, n, "expected a mapping of names to values%s%s%s",
                 scalar_name ? ", or the value of '" : "", scalar_name ? scalar_name : "",
                 scalar_name ? "' alone" : "");
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
        if (!is_scalar(k)) {
            error_at(l, k, "an option is a name");
            continue;
        }
        char *name = scalar_dup(k);
        struct ll_config_opt o = opt_at(name, v);
        ll_free(name);
        if (ll_config_get(it, o.name)) {
            error_at(l, k, "'%s' is given twice", o.name);
            ll_free(o.name);
            continue;
        }
        if (value_of(l, v, &o))
            add_opt(it, o);
        else
            ll_free(o.name);
    }
}

/* A list of items (or one item given without the list). */
static void load_items(struct loader *l, yaml_node_t *v, const char *scalar_name,
                       struct ll_config_item **items, size_t *n)
{
    yaml_node_item_t one = 0, *start, *top;
    if (v->type == YAML_SEQUENCE_NODE) {
        start = v->data.sequence.items.start;
        top = v->data.sequence.items.top;
    } else {
        start = &one;
        top = start + 1;
    }
    for (yaml_node_item_t *i = start; i < top; i++) {
        yaml_node_t *e = i == &one ? v : node(l, *i);
        *items = ll_reallocarray(*items, *n + 1, sizeof **items);
        (*items)[*n] = (struct ll_config_item){0};
        load_item(l, e, scalar_name, &(*items)[(*n)++]);
    }
}

const struct ll_config_opt *ll_config_get(const struct ll_config_item *it, const char *name)
{
    for (size_t i = 0; i < it->n_opts; i++)
        if (strcmp(it->opts[i].name, name) == 0)
            return &it->opts[i];
    return NULL;
}

/* Whether a pair of @p map before @p pr has the key @p key (YAML allows
 * it; a configuration that says two things is a mistake). */
static bool key_seen(struct loader *l, yaml_node_t *map, const yaml_node_pair_t *pr,
                     struct ll_str key)
{
    for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; key.len && p < pr; p++) {
        yaml_node_t *k = node(l, p->key);
        if (is_scalar(k) && ll_str_eq(scalar_str(k), key))
            return true;
    }
    return false;
}

static void load_root(struct loader *l, struct ll_config *cfg, yaml_node_t *root)
{
    if (!root || (is_scalar(root) && root->data.scalar.length == 0))
        return; /* an empty file: every default */
    if (root->type != YAML_MAPPING_NODE) {
        error_at(l, root, "the configuration is a mapping (sources:, sinks:, ...)");
        return;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(l, pr->key), *v = node(l, pr->value);
        struct ll_str key = is_scalar(k) ? scalar_str(k) : LL_STR("");
        if (key_seen(l, root, pr, key)) {
            error_at(l, k, "'%.*s' is given twice", (int)key.len, key.ptr);
            continue;
        }
        struct {
            const char *name;
            struct ll_config_item *item;
            const char *scalar;
        } single[] = {{"decode", &cfg->decode, NULL},
                      {"correlation", &cfg->correlation, NULL},
                      {"metrics", &cfg->metrics, "listen"},
                      {"checkpoints", &cfg->checkpoints, "dir"},
                      {"log", &cfg->log, "level"},
                      {"topology", &cfg->topology, "stage"}};
        bool done = false;
        for (size_t i = 0; i < sizeof single / sizeof single[0] && !done; i++)
            if (ll_str_eq(key, ll_str_c(single[i].name))) {
                load_item(l, v, single[i].scalar, single[i].item);
                done = true;
            }
        if (done)
            continue;
        if (ll_str_eq(key, LL_STR("sinks"))) {
            load_items(l, v, "url", &cfg->sinks, &cfg->n_sinks);
        } else if (ll_str_eq(key, LL_STR("sources"))) {
            load_items(l, v, "paths", &cfg->sources, &cfg->n_sources);
        } else if (ll_str_eq(key, LL_STR("rules"))) {
            struct ll_config_opt o = opt_at("rules", v);
            if (value_of(l, v, &o) && !o.is_list && *o.value) { /* one path, not a list */
                o.items = ll_calloc(1, sizeof *o.items);
                o.items[0] = ll_strdup(o.value);
                o.n_items = 1;
            }
            cfg->rules = o.items;
            cfg->n_rules = o.n_items;
            ll_free(o.name);
            ll_free(o.value);
        } else if (ll_str_eq(key, LL_STR("shutdown_timeout"))) {
            struct ll_config_opt o = opt_at("shutdown_timeout", v);
            cfg->top.present = true;
            if (value_of(l, v, &o))
                add_opt(&cfg->top, o);
            else
                ll_free(o.name);
        } else {
            const char *hint = ll_closest(key, top_keys, sizeof top_keys / sizeof top_keys[0]);
            error_at(l, k, "unknown key '%.*s'%s%s%s", (int)key.len, key.ptr,
                     hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        }
    }
}

int ll_config_load(const char *path, struct ll_config *cfg, struct ll_buf *errors)
{
    *cfg = (struct ll_config){.path = ll_strdup(path)};
    struct loader l = {.path = path, .errors = errors};
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        ll_buf_printf(errors, "%s: error: cannot open: %s\n", path, strerror(errno));
        return LL_EIO;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, fp);
    if (!yaml_parser_load(&p, &l.doc)) {
        ll_buf_printf(errors, "%s:%d:%d: error: YAML: %s\n", path, (int)p.problem_mark.line + 1,
                      (int)p.problem_mark.column + 1, p.problem ? p.problem : "syntax error");
        yaml_parser_delete(&p);
        fclose(fp);
        return LL_EINVAL;
    }
    yaml_parser_delete(&p);
    fclose(fp);
    load_root(&l, cfg, yaml_document_get_root_node(&l.doc));
    yaml_document_delete(&l.doc);
    return l.n_errors ? LL_EINVAL : LL_OK;
}

static void item_free(struct ll_config_item *it)
{
    for (size_t k = 0; k < it->n_opts; k++) {
        struct ll_config_opt *o = &it->opts[k];
        for (size_t i = 0; i < o->n_items; i++)
            ll_free(o->items[i]);
        ll_free(o->items);
        ll_free(o->name);
        ll_free(o->value);
    }
    ll_free(it->opts);
}

void ll_config_free(struct ll_config *cfg)
{
    for (size_t i = 0; i < cfg->n_sinks; i++)
        item_free(&cfg->sinks[i]);
    ll_free(cfg->sinks);
    for (size_t i = 0; i < cfg->n_sources; i++)
        item_free(&cfg->sources[i]);
    ll_free(cfg->sources);
    struct ll_config_item *single[] = {&cfg->decode, &cfg->correlation, &cfg->metrics,
                                       &cfg->checkpoints, &cfg->log, &cfg->topology,
                                       &cfg->top};
    for (size_t i = 0; i < sizeof single / sizeof single[0]; i++)
        item_free(single[i]);
    for (size_t i = 0; i < cfg->n_rules; i++)
        ll_free(cfg->rules[i]);
    ll_free(cfg->rules);
    ll_free(cfg->path);
    *cfg = (struct ll_config){0};
}

void ll_conf_default(const struct ll_conf_field *f, char *out, size_t outsz)
{
    char d[32] = "";
    switch (f->kind) {
    case LL_CONF_DURATION:
        if (f->def)
            ll_duration_format(f->def, d);
        break;
    case LL_CONF_SIZE:
        if (f->def) {
            static const char unit[] = "GMK";
            int shift = 30;
            for (const char *u = unit; *u; u++, shift -= 10)
                if (f->def % ((int64_t)1 << shift) == 0) {
                    snprintf(d, sizeof d, "%lld%c", (long long)(f->def >> shift), *u);
                    break;
                }
            if (!*d)
                snprintf(d, sizeof d, "%lld", (long long)f->def);
        }
        break;
    case LL_CONF_COUNT:
        if (f->def)
            snprintf(d, sizeof d, "%lld", (long long)f->def);
        break;
    default:
        break;
    }
    snprintf(out, outsz, "%s", *d ? d : f->def_text ? f->def_text : "");
}

/* A count or a size field is a size_t or a uint64_t: one width for both. */
_Static_assert(sizeof(size_t) == sizeof(uint64_t), "counts and sizes are 8 bytes");

void ll_conf_fill_defaults(const struct ll_conf_field *f, size_t n, void *base)
{
    for (size_t i = 0; i < n; i++) {
        char *field = (char *)base + f[i].at;
        if (f[i].kind == LL_CONF_STRING && f[i].def_text) {
            char *v = ll_strdup(f[i].def_text);
            memcpy(field, &v, sizeof v);
        } else if (f[i].kind == LL_CONF_DURATION) {
            memcpy(field, &f[i].def, sizeof f[i].def);
        } else if (f[i].kind == LL_CONF_COUNT || f[i].kind == LL_CONF_SIZE) {
            uint64_t u = (uint64_t)f[i].def; /* size_t or uint64_t: 8 bytes */
            memcpy(field, &u, sizeof u);
        }
    }
}
