/* Rule sets: the files and directories read (two passes: macros, lists
 * and symptoms first, then rules), the built-in pack, and the API of a
 * compiled set. */
#include "compile_int.h"

#include "builtin_pack.h" /* generated: the YAML under playbooks/ */

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

static const char *const top_keys[] = {"rules", "macros", "lists", "symptoms"};

static void collect_named(struct cc *c, yaml_node_t *m, bool lists)
{
    if (m->type != YAML_MAPPING_NODE) {
        ll__cc_err_at(c, m, "%s is a mapping of names", lists ? "lists" : "macros");
        return;
    }
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c->doc, p->key);
        if (!is_scalar(k))
            continue;
        struct named **v = lists ? &c->lists : &c->macros;
        size_t *n = lists ? &c->n_lists : &c->n_macros;
        if (ll__cc_find_named(*v, *n, scalar(k))) {
            ll__cc_err_at(c, k, "%s '%.*s' is defined twice", lists ? "list" : "macro",
                   (int)scalar(k).len, scalar(k).ptr);
            continue;
        }
        *v = ll_reallocarray(*v, *n + 1, sizeof **v);
        (*v)[(*n)++] = (struct named){keep_str(c, scalar(k)), c->doc,
                                      node_at(c->doc, p->value), false};
    }
}

static void collect_symptoms(struct cc *c, yaml_node_t *m)
{
    for (yaml_node_pair_t *p = m->type == YAML_MAPPING_NODE ? m->data.mapping.pairs.start : NULL;
         p && p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c->doc, p->key), *v = node_at(c->doc, p->value);
        yaml_node_t *pb = v->type == YAML_MAPPING_NODE ? ll__cc_get(c, v, "playbook") : NULL;
        yaml_node_t *title = v->type == YAML_MAPPING_NODE ? ll__cc_get(c, v, "title") : NULL;
        if (!is_scalar(k) || !pb || !title || !is_scalar(pb) || !is_scalar(title)) {
            ll__cc_err_at(c, k, "a symptom is id: {playbook: SECTION, title: TEXT}");
            continue;
        }
        c->symptoms = ll_reallocarray(c->symptoms, c->n_symptoms + 1, sizeof *c->symptoms);
        c->symptoms[c->n_symptoms++] = (struct ll_symptom){
            keep_str(c, scalar(k)), keep_str(c, scalar(pb)), keep_str(c, scalar(title))};
    }
}

/* Pass 1 over one document: macros, lists, symptoms; the root's shape. */
static void pass_named(struct cc *c, struct doc *d)
{
    c->doc = d;
    yaml_node_t *root = yaml_document_get_root_node(&d->y);
    if (!root || root->type == YAML_SEQUENCE_NODE)
        return;
    if (root->type != YAML_MAPPING_NODE) {
        ll__cc_err_at(c, root, "a rule file is a mapping (rules, macros, lists, symptoms) or a "
                               "list of rules");
        return;
    }
    ll__cc_known_keys(c, root, "top-level key", top_keys, 4);
    yaml_node_t *v;
    if ((v = ll__cc_get(c, root, "macros")))
        collect_named(c, v, false);
    if ((v = ll__cc_get(c, root, "lists")))
        collect_named(c, v, true);
    if ((v = ll__cc_get(c, root, "symptoms")))
        collect_symptoms(c, v);
}

static void pass_rules(struct cc *c, struct doc *d)
{
    c->doc = d;
    c->rule = NULL;
    yaml_node_t *root = yaml_document_get_root_node(&d->y);
    yaml_node_t *rules = !root                          ? NULL
                         : root->type == YAML_SEQUENCE_NODE ? root
                         : root->type == YAML_MAPPING_NODE  ? ll__cc_get(c, root, "rules")
                                                            : NULL;
    if (!rules)
        return;
    if (rules->type != YAML_SEQUENCE_NODE) {
        ll__cc_err_at(c, rules, "rules is a list");
        return;
    }
    for (yaml_node_item_t *it = rules->data.sequence.items.start;
         it < rules->data.sequence.items.top; it++)
        ll__cc_compile_rule(c, node_at(d, *it));
    c->rule = NULL;
}

/* Parses one YAML text into the next document slot. */
static void parse_doc(struct cc *c, const char *file, const char *text, size_t len)
{
    if (c->n_docs == MAX_FILES) {
        ll__cc_diag_add_plain(c, file, "too many rule files (at most %d)", MAX_FILES);
        return;
    }
    struct doc *d = &c->docs[c->n_docs];
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    d->file = keep_str(c, ll_str_c(file)); /* rules and examples name it */
    if (!yaml_parser_load(&p, &d->y)) {
        c->doc = d;
        c->rule = NULL;
        ll__cc_err_col(c, (int)p.problem_mark.line + 1, (int)p.problem_mark.column + 1,
                "YAML: %s%s%s", p.problem ? p.problem : "syntax error",
                p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        return;
    }
    yaml_parser_delete(&p);
    d->loaded = true;
    c->n_docs++;
}

static int load_file(struct cc *c, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        ll__cc_diag_add_plain(c, path, "cannot read: %s", strerror(errno));
        return LL_EIO;
    }
    struct ll_buf b = {0};
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        ll_buf_append(&b, chunk, got);
    fclose(fp);
    parse_doc(c, path, b.data ? b.data : "", b.len);
    ll_buf_free(&b);
    return LL_OK;
}

static bool yaml_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && ((n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
                              (n > 4 && strcmp(name + n - 4, ".yml") == 0));
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or the .yaml/.yml files of a directory in name order. */
static void load_path(struct cc *c, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        ll__cc_diag_add_plain(c, path, "%s", strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        load_file(c, path);
        return;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        ll__cc_diag_add_plain(c, path, "%s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir)))
        if (yaml_name(de->d_name)) {
            names = ll_reallocarray(names, n + 1, sizeof *names);
            names[n++] = ll_strdup(de->d_name);
        }
    closedir(dir);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n; i++) {
        struct ll_buf full = {0};
        ll_buf_printf(&full, "%s/%s", path, names[i]);
        load_file(c, full.data);
        ll_buf_free(&full);
        ll_free(names[i]);
    }
    ll_free(names);
}

/* ------------------------------------------------------------------------ */
/* API                                                                       */

int ll_ruleset_load(const char *const *paths, size_t n, bool builtin, ll_ruleset **out,
                    struct ll_diags *diags)
{
    *out = NULL;
    struct cc *c = ll_calloc(1, sizeof *c);
    c->diags = diags;
    c->rs = ll_calloc(1, sizeof *c->rs);
    ll_arena_init(&c->rs->mem, 16 << 10);
    size_t errors_before = diags->errors;
    if (builtin)
        for (const struct ll_embedded_file *f = ll__builtin_pack; f->name; f++) {
            char name[256];
            snprintf(name, sizeof name, "builtin:%s", f->name);
            parse_doc(c, name, f->text, f->len);
        }
    for (size_t i = 0; i < n; i++)
        load_path(c, paths[i]);
    for (size_t i = 0; i < c->n_docs; i++)
        pass_named(c, &c->docs[i]);
    for (size_t i = 0; i < c->n_docs; i++)
        pass_rules(c, &c->docs[i]);
    for (size_t i = 0; i < c->n_docs; i++)
        yaml_document_delete(&c->docs[i].y);
    int rc = LL_OK;
    if (diags->errors > errors_before) {
        rc = LL_EINVAL;
        ll_ruleset_destroy(c->rs);
    } else {
        ll__litidx_build(c->rs);
        *out = c->rs;
    }
    ll_free(c->ids);
    ll_free(c->macros);
    ll_free(c->lists);
    ll_free(c->symptoms);
    ll_free(c);
    return rc;
}

void ll_ruleset_destroy(ll_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n_tests; i++)
        if (rs->tests[i].re)
            pcre2_code_free(rs->tests[i].re);
    for (size_t i = 0; i < rs->n_extra; i++)
        ll_free(rs->extra[i]);
    ll_free(rs->extra);
    for (size_t i = 0; i < rs->n_lazy; i++)
        ll_free(rs->lazy[i]);
    ll_free(rs->lazy);
    ll_free(rs->rules);
    ll_free(rs->conds);
    ll_free(rs->kids);
    ll_free(rs->tests);
    ll_free(rs->bits);
    ll_free(rs->prog);
    ll_free(rs->gates.ungated);
    ll_free(rs->gates.by_field);
    ll_free(rs->gates.by_extra);
    ll_free(rs->gates.by_lit);
    ll_free(rs->litidx);
    ll_free(rs->examples);
    ll_arena_free(&rs->mem);
    ll_free(rs);
}

size_t ll_ruleset_count(const ll_ruleset *rs)
{
    return rs->n_rules;
}

size_t ll_ruleset_steps(const ll_ruleset *rs)
{
    return rs->n_bits;
}

const char *ll_ruleset_step_rule(const ll_ruleset *rs, size_t bit)
{
    return bit < rs->n_bits ? rs->rules[rs->bits[bit].rule].id : NULL;
}

void ll_ruleset_list(const ll_ruleset *rs, FILE *out)
{
    for (size_t i = 0; i < rs->n_rules; i++) {
        const struct ll__rule *r = &rs->rules[i];
        fprintf(out, "%-28s %-9s %-24s %-4s %-8s %s\n", r->id, ll__rule_kinds[r->kind], r->symptom,
                r->playbook, r->severity, r->title);
    }
}

const char *const *ll_ruleset_extra_paths(const ll_ruleset *rs, size_t *n)
{
    *n = rs->n_extra;
    return (const char *const *)rs->extra;
}

const char *const *ll_ruleset_lazy_paths(const ll_ruleset *rs, size_t *n)
{
    *n = rs->n_lazy;
    return (const char *const *)rs->lazy;
}

const struct ll_rule_example *ll_ruleset_examples(const ll_ruleset *rs, size_t *n)
{
    *n = rs->n_examples;
    return rs->examples;
}
