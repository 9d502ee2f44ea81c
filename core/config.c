/* The YAML configuration file: where alerts go (sinks) and which rules run.
 *
 *   sinks:
 *     - url: postgresql://logloom@db/logloom
 *       receive: [alerts, timelines]
 *       batch: 500
 *     - file:alerts.jsonl            # a bare URL takes every default
 *   rules: [builtin, ./our-rules]
 *
 * This file checks the shape and keeps every value with its place; what the
 * values mean is for the modules using them, which report problems at that
 * place too. */
#include "logloom/core.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

static const char *const top_keys[] = {"sinks", "rules"};

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

/* A scalar, or a list of scalars joined with ",": "receive: [a, b]". */
static char *value_of(struct loader *l, yaml_node_t *v)
{
    if (is_scalar(v))
        return scalar_dup(v);
    if (v->type != YAML_SEQUENCE_NODE) {
        error_at(l, v, "expected a value or a list of values");
        return NULL;
    }
    struct ll_buf b = {0};
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node(l, *it);
        if (!is_scalar(e)) {
            error_at(l, e, "expected a value");
            ll_buf_free(&b);
            return NULL;
        }
        if (it > v->data.sequence.items.start)
            ll_buf_putc(&b, ',');
        ll_buf_append(&b, e->data.scalar.value, e->data.scalar.length);
    }
    char *s = ll_strdup(b.data ? b.data : "");
    ll_buf_free(&b);
    return s;
}

static void add_opt(struct ll_config_sink *s, char *name, char *value, const yaml_node_t *at)
{
    s->opts = ll_reallocarray(s->opts, s->n_opts + 1, sizeof *s->opts);
    s->opts[s->n_opts++] = (struct ll_config_opt){name, value, (int)at->start_mark.line + 1,
                                                  (int)at->start_mark.column + 1};
}

static void load_sink(struct loader *l, struct ll_config *cfg, yaml_node_t *n)
{
    struct ll_config_sink s = {.line = (int)n->start_mark.line + 1,
                               .column = (int)n->start_mark.column + 1};
    if (is_scalar(n)) {
        s.url = scalar_dup(n);
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
            if (!is_scalar(k)) {
                error_at(l, k, "a sink option is a name");
                continue;
            }
            char *name = scalar_dup(k), *value = value_of(l, v);
            if (!value) {
                ll_free(name);
                continue;
            }
            if (strcmp(name, "url") == 0) {
                ll_free(s.url);
                s.url = value;
                ll_free(name);
            } else {
                add_opt(&s, name, value, v);
            }
        }
        if (!s.url)
            error_at(l, n, "a sink needs a url (postgresql://..., redis://..., file:PATH)");
    } else {
        error_at(l, n, "a sink is a URL or a mapping with a url");
    }
    cfg->sinks = ll_reallocarray(cfg->sinks, cfg->n_sinks + 1, sizeof *cfg->sinks);
    cfg->sinks[cfg->n_sinks++] = s;
}

static void load_list(struct loader *l, yaml_node_t *v, void (*each)(struct loader *,
                                                                       struct ll_config *,
                                                                       yaml_node_t *),
                      struct ll_config *cfg)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        each(l, cfg, v); /* one item given without the list */
        return;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++)
        each(l, cfg, node(l, *it));
}

static void load_rule_path(struct loader *l, struct ll_config *cfg, yaml_node_t *n)
{
    if (!is_scalar(n)) {
        error_at(l, n, "rules is a list of files or directories ('builtin': the built-in pack)");
        return;
    }
    cfg->rules = ll_reallocarray(cfg->rules, cfg->n_rules + 1, sizeof *cfg->rules);
    cfg->rules[cfg->n_rules++] = scalar_dup(n);
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
    yaml_node_t *root = yaml_document_get_root_node(&l.doc);
    if (root && root->type != YAML_MAPPING_NODE &&
        !(is_scalar(root) && root->data.scalar.length == 0))
        error_at(&l, root, "the configuration is a mapping (sinks:, rules:)");
    for (yaml_node_pair_t *pr = root && root->type == YAML_MAPPING_NODE
                                    ? root->data.mapping.pairs.start
                                    : NULL;
         pr && pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(&l, pr->key), *v = node(&l, pr->value);
        struct ll_str key = is_scalar(k) ? (struct ll_str){(const char *)k->data.scalar.value,
                                                          k->data.scalar.length}
                                         : LL_STR("");
        if (ll_str_eq(key, LL_STR("sinks"))) {
            load_list(&l, v, load_sink, cfg);
        } else if (ll_str_eq(key, LL_STR("rules"))) {
            load_list(&l, v, load_rule_path, cfg);
        } else {
            const char *hint = ll_closest(key, top_keys, sizeof top_keys / sizeof top_keys[0]);
            error_at(&l, k, "unknown key '%.*s'%s%s%s", (int)key.len, key.ptr,
                     hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        }
    }
    yaml_document_delete(&l.doc);
    return l.n_errors ? LL_EINVAL : LL_OK;
}

void ll_config_free(struct ll_config *cfg)
{
    for (size_t i = 0; i < cfg->n_sinks; i++) {
        for (size_t k = 0; k < cfg->sinks[i].n_opts; k++) {
            ll_free(cfg->sinks[i].opts[k].name);
            ll_free(cfg->sinks[i].opts[k].value);
        }
        ll_free(cfg->sinks[i].opts);
        ll_free(cfg->sinks[i].url);
    }
    ll_free(cfg->sinks);
    for (size_t i = 0; i < cfg->n_rules; i++)
        ll_free(cfg->rules[i]);
    ll_free(cfg->rules);
    ll_free(cfg->path);
    *cfg = (struct ll_config){0};
}
