/* Rule files: YAML documents → compiled rule set, with every problem
 * reported by file, line, column and rule id.
 *
 * Loading is two passes over all files: the first collects macros, lists
 * and extra symptoms (they are global, like Falco's), the second compiles
 * rules, so a rule may use a macro defined in another file. Conditions
 * compile into a flat array of nodes; each rule step gets a bit that the
 * decode-time matcher sets. */
#include "rules_int.h"

#include "builtin_pack.h" /* generated: the YAML under playbooks/ */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define MAX_FILES 256
#define MAX_MACRO_DEPTH 16
#define MAX_LIST 1024

/* ------------------------------------------------------------------------ */
/* Diagnostics                                                               */

__attribute__((format(printf, 7, 0))) static void
diag_vadd(struct ll_diags *d, bool warning, const char *file, int line, int col,
          const char *rule, const char *fmt, va_list ap)
{
    LL_GROW(d->v, d->n, d->cap, 16);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    d->v[d->n++] = (struct ll_diag){ll_strdup(file ? file : "-"), line, col,
                                    rule ? ll_strdup(rule) : NULL, ll_strdup(msg), warning};
    if (!warning)
        d->errors++;
}

void ll_diags_print(const struct ll_diags *d, FILE *out)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct ll_diag *g = &d->v[i];
        if (g->line)
            fprintf(out, "%s:%d:%d: %s: ", g->file, g->line, g->column,
                    g->warning ? "warning" : "error");
        else
            fprintf(out, "%s: %s: ", g->file, g->warning ? "warning" : "error");
        if (g->rule)
            fprintf(out, "[%s] ", g->rule);
        fprintf(out, "%s\n", g->message);
    }
}

void ll_diags_free(struct ll_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        ll_free(d->v[i].file);
        ll_free(d->v[i].rule);
        ll_free(d->v[i].message);
    }
    ll_free(d->v);
    *d = (struct ll_diags){0};
}

/* ------------------------------------------------------------------------ */
/* Compiler state                                                            */

struct doc {
    yaml_document_t y;
    char *file;
    bool loaded;
};

struct named {
    const char *name;
    struct doc *doc;
    yaml_node_t *node;
    bool busy; /* being expanded: a cycle if met again */
};

struct cc {
    struct ll_ruleset *rs;
    struct ll_diags *diags;
    struct doc docs[MAX_FILES];
    size_t n_docs;
    struct named *macros, *lists;
    size_t n_macros, n_lists;
    struct ll_symptom *symptoms; /* declared in files, beyond the built-in ones */
    size_t n_symptoms;
    struct seen_id {
        const char *id, *file;
        int line;
    } *ids; /* every rule id met, with or without errors */
    size_t n_ids;
    /* Current place, for messages. */
    struct doc *doc;
    const char *rule;
    bool timeline; /* compiling a timeline predicate */
    bool lazy;     /* json.* paths read only for matched events (summaries, keys) */
    int macro_depth;
    size_t cap_conds, cap_kids, cap_tests, cap_rules, cap_examples;
};

static void err_at(struct cc *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err_at(struct cc *c, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(c->diags, false, c->doc ? c->doc->file : NULL, n ? (int)n->start_mark.line + 1 : 0,
              n ? (int)n->start_mark.column + 1 : 0, c->rule, fmt, ap);
    va_end(ap);
}

static void err_col(struct cc *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void err_col(struct cc *c, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(c->diags, false, c->doc ? c->doc->file : NULL, line, col, c->rule, fmt, ap);
    va_end(ap);
}

static void diag_add_plain(struct cc *c, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void diag_add_plain(struct cc *c, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(c->diags, false, file, 0, 0, NULL, fmt, ap);
    va_end(ap);
}

static yaml_node_t *node_at(struct doc *d, int i)
{
    return yaml_document_get_node(&d->y, i);
}

static bool is_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE;
}

static struct ll_str scalar(const yaml_node_t *n)
{
    return (struct ll_str){(const char *)n->data.scalar.value, n->data.scalar.length};
}

static bool key_is(const yaml_node_t *k, const char *name)
{
    return is_scalar(k) && ll_str_eq(scalar(k), ll_str_c(name));
}

static char *keep_str(struct cc *c, struct ll_str s)
{
    char *p = ll_arena_alloc(&c->rs->mem, s.len + 1);
    memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

/* ------------------------------------------------------------------------ */
/* Did you mean                                                              */

static void unknown_key(struct cc *c, const yaml_node_t *k, const char *what,
                        const char *const *names, size_t n)
{
    struct ll_str got = scalar(k);
    const char *hint = ll_closest(got, names, n);
    if (hint)
        err_at(c, k, "unknown %s '%.*s' (did you mean '%s'?)", what, (int)got.len, got.ptr, hint);
    else
        err_at(c, k, "unknown %s '%.*s'", what, (int)got.len, got.ptr);
}

/* ------------------------------------------------------------------------ */
/* Fields                                                                    */

static const char *const norm_names[NF__COUNT] = {
    [NF_MSG] = "msg",           [NF_LEVEL] = "level",
    [NF_SERVICE] = "service",   [NF_HOST] = "host",
    [NF_PID] = "pid",           [NF_CORR] = "correlation_id",
    [NF_SOURCE] = "source",     [NF_LINE] = "line",
    [NF_RAW] = "raw",           [NF_ERR] = "err",
    [NF_ERR_TYPE] = "err.type", [NF_ERR_MESSAGE] = "err.message",
    [NF_ERR_CODE] = "err.code", [NF_ERR_ERRNO] = "err.errno",
    [NF_ERR_SYSCALL] = "err.syscall", [NF_ERR_STACK] = "err.stack",
    [NF_EXIT_CODE] = "exit.code", [NF_EXIT_SIGNAL] = "exit.signal",
    [NF_CHILD_PID] = "child.pid", [NF_CONN_ID] = "conn.id",
    [NF_TEXT] = "text",
};

static const char *const tl_names[TF__COUNT] = {
    [TF_STATUS] = "status",     [TF_REASON] = "reason",     [TF_EVENTS] = "events",
    [TF_ERRORS] = "errors",     [TF_LINKED] = "linked",     [TF_DROPPED] = "dropped",
    [TF_DURATION] = "duration_ms", [TF_SERVICES] = "services", [TF_N_SERVICES] = "n_services",
    [TF_CORR] = "correlation_id", [TF_TERMINAL] = "terminal", [TF_VIA] = "via",
    [TF_LINKED_SERVICES] = "linked_services",
};

static uint16_t path_index(char ***list, size_t *n, const char *path)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], path) == 0)
            return (uint16_t)i;
    *list = ll_reallocarray(*list, *n + 1, sizeof **list);
    (*list)[*n] = ll_strdup(path);
    return (uint16_t)(*n)++;
}

/* Resolves a field name: a normalised field, "json.<path>", or in timeline
 * rules a timeline field. @returns false (reported) if unknown. */
static bool resolve_field(struct cc *c, const yaml_node_t *at, struct ll_str name,
                          struct ll__fref *out)
{
    const char *const *names = c->timeline ? tl_names : norm_names;
    size_t n = c->timeline ? TF__COUNT : NF__COUNT;
    for (size_t i = 0; i < n; i++)
        if (ll_str_eq(name, ll_str_c(names[i]))) {
            *out = (struct ll__fref){c->timeline ? FK_TL : FK_NORM, (uint16_t)i};
            return true;
        }
    if (!c->timeline && name.len > 5 && memcmp(name.ptr, "json.", 5) == 0) {
        char path[256], err[256];
        snprintf(path, sizeof path, "%.*s", (int)name.len - 5, name.ptr + 5);
        if (ll_field_path_check(path, err, sizeof err) != LL_OK) {
            err_at(c, at, "%s", err);
            return false;
        }
        *out = c->lazy ? (struct ll__fref){FK_LAZY, path_index(&c->rs->lazy, &c->rs->n_lazy, path)}
                       : (struct ll__fref){FK_EXTRA, path_index(&c->rs->extra, &c->rs->n_extra, path)};
        return true;
    }
    const char *hint = ll_closest(name, names, n);
    err_at(c, at, "unknown field '%.*s'%s%s%s%s", (int)name.len, name.ptr,
           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "",
           c->timeline ? "" : "; raw JSON paths are written json.<path>");
    return false;
}

/* ------------------------------------------------------------------------ */
/* Nodes of the compiled set                                                 */

static uint32_t cond_add(struct cc *c, struct ll__cond n)
{
    struct ll_ruleset *rs = c->rs;
    LL_GROW(rs->conds, rs->n_conds, c->cap_conds, 64);
    rs->conds[rs->n_conds] = n;
    return (uint32_t)rs->n_conds++;
}

static uint32_t kids_add(struct cc *c, const uint32_t *k, size_t n)
{
    struct ll_ruleset *rs = c->rs;
    while (rs->n_kids + n > c->cap_kids) {
        c->cap_kids = c->cap_kids ? c->cap_kids * 2 : 64;
        rs->kids = ll_reallocarray(rs->kids, c->cap_kids, sizeof *rs->kids);
    }
    memcpy(rs->kids + rs->n_kids, k, n * sizeof *k);
    uint32_t at = (uint32_t)rs->n_kids;
    rs->n_kids += n;
    return at;
}

static uint32_t test_add(struct cc *c, struct ll__test t)
{
    struct ll_ruleset *rs = c->rs;
    LL_GROW(rs->tests, rs->n_tests, c->cap_tests, 64);
    t.lit_field = -1;
    rs->tests[rs->n_tests] = t;
    bool needs = t.op != OP_MISSING;
    uint32_t need = needs && t.f.kind == FK_NORM ? 1u << t.f.index : 0;
    uint32_t need_x = needs && t.f.kind == FK_EXTRA && t.f.index < 32 ? 1u << t.f.index : 0;
    return cond_add(c, (struct ll__cond){C_TEST, (uint32_t)rs->n_tests++, 0, need, need_x});
}

/* ALL or ANY over @p k; the fields an ALL needs are all its children's, an
 * ANY needs only what every child needs. */
static uint32_t cond_group(struct cc *c, uint8_t op, const uint32_t *k, size_t n)
{
    if (n == 1)
        return k[0];
    uint32_t need = op == C_ALL ? 0 : UINT32_MAX, need_x = need;
    for (size_t i = 0; i < n; i++) {
        const struct ll__cond *kid = &c->rs->conds[k[i]];
        need = op == C_ALL ? need | kid->need : need & kid->need;
        need_x = op == C_ALL ? need_x | kid->need_x : need_x & kid->need_x;
    }
    if (!n)
        need = need_x = 0;
    uint32_t at = kids_add(c, k, n);
    return cond_add(c, (struct ll__cond){op, at, (uint32_t)n, need, need_x});
}

/* ------------------------------------------------------------------------ */
/* Regex literals for the prefilter                                          */

/* Fills t->lits with literals one of which every match must contain, or
 * leaves it empty when the pattern is too clever for that. A leading (?i)
 * makes the literals case-blind. */
static void regex_literals(struct cc *c, struct ll__test *t, const char *re, size_t len)
{
    bool nocase = t->nocase;
    if (len >= 4 && memcmp(re, "(?i)", 4) == 0) {
        nocase = true;
        re += 4;
        len -= 4;
    }
    struct ll__litset ls;
    ll__regex_litset(re, len, &ls);
    if (!ls.ok || !ls.n)
        return;
    for (size_t i = 0; i < ls.n; i++)
        t->lits[i] = (struct ll_str){keep_str(c, (struct ll_str){ls.buf[i], ls.len[i]}),
                                     ls.len[i]};
    t->n_lits = ls.n;
    t->lit_nocase = nocase;
}

/* ------------------------------------------------------------------------ */
/* Field tests                                                               */

static const char *const op_names[] = {"equals", "in",    "in_list", "prefix", "suffix",
                                       "contains", "regex", "gt",      "ge",     "lt",
                                       "le",     "exists", "nocase"};

static bool parse_number(struct ll_str s, double *out)
{
    char buf[64];
    if (!s.len || s.len >= sizeof buf)
        return false;
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* A number, or a level name when the field is "level". */
static bool parse_num_value(struct ll__fref f, struct ll_str s, double *out)
{
    if (f.kind == FK_NORM && f.index == NF_LEVEL) {
        enum ll_level lv = ll_level_from_name(s.ptr, s.len);
        if (lv != LL_LEVEL_NONE) {
            *out = lv;
            return true;
        }
    }
    return parse_number(s, out);
}

static const struct named *find_named(const struct named *v, size_t n, struct ll_str name)
{
    for (size_t i = 0; i < n; i++)
        if (ll_str_eq(ll_str_c(v[i].name), name))
            return &v[i];
    return NULL;
}

/* Values of a scalar or a sequence of scalars (in_list: a named list). */
static bool test_values(struct cc *c, yaml_node_t *v, bool named_list, struct ll__test *t)
{
    struct doc *d = c->doc;
    if (named_list) {
        if (!is_scalar(v)) {
            err_at(c, v, "in_list takes the name of a list");
            return false;
        }
        const struct named *l = find_named(c->lists, c->n_lists, scalar(v));
        if (!l) {
            err_at(c, v, "no list named '%.*s'", (int)scalar(v).len, scalar(v).ptr);
            return false;
        }
        d = l->doc;
        v = l->node;
    }
    if (is_scalar(v)) {
        t->vals = ll_arena_alloc(&c->rs->mem, sizeof *t->vals);
        t->vals[0] = (struct ll_str){keep_str(c, scalar(v)), scalar(v).len};
        t->n_vals = 1;
        t->num_valid = parse_num_value(t->f, scalar(v), &t->num);
        return true;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        err_at(c, v, "expected a value or a list of values");
        return false;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0 || n > MAX_LIST) {
        err_at(c, v, "a list of values needs 1 to %d entries", MAX_LIST);
        return false;
    }
    t->vals = ll_arena_alloc(&c->rs->mem, n * sizeof *t->vals);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node_at(d, *it);
        if (!is_scalar(e)) {
            err_at(c, e, "list entries must be plain values");
            return false;
        }
        t->vals[t->n_vals++] = (struct ll_str){keep_str(c, scalar(e)), scalar(e).len};
    }
    return true;
}

static bool compile_regex(struct cc *c, yaml_node_t *v, struct ll__test *t)
{
    if (!is_scalar(v)) {
        err_at(c, v, "regex takes a pattern");
        return false;
    }
    struct ll_str pat = scalar(v);
    int errcode;
    PCRE2_SIZE off;
    uint32_t opts = PCRE2_UTF | PCRE2_NO_UTF_CHECK | (t->nocase ? PCRE2_CASELESS : 0);
    t->re = pcre2_compile((PCRE2_SPTR)pat.ptr, pat.len, opts, &errcode, &off, NULL);
    if (!t->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        bool quoted = v->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                      v->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        err_col(c, (int)v->start_mark.line + 1,
                (int)(v->start_mark.column + 1 + (quoted ? 1 : 0) + off),
                "bad regex: %s at offset %zu", (const char *)msg, (size_t)off);
        return false;
    }
    pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE); /* without JIT it still works */
    regex_literals(c, t, pat.ptr, pat.len);
    return true;
}

static bool json_verbatim_byte(char ch)
{
    return ch >= 0x20 && ch <= 0x7e && ch != '"' && ch != '\\';
}

/* The longest part of @p s that a JSON line holding @p s in a string holds
 * as it is: printable ASCII, no quote, no backslash. */
static struct ll_str json_verbatim(struct ll_str s)
{
    struct ll_str best = {s.ptr, 0};
    for (size_t i = 0; i < s.len;) {
        size_t j = i;
        while (j < s.len && json_verbatim_byte(s.ptr[j]))
            j++;
        if (j - i > best.len)
            best = (struct ll_str){s.ptr + i, j - i};
        i = j + 1;
    }
    return best;
}

/* Adds test @p t. A test of "text" reads every string value of a line:
 * it must name what the raw line has to contain, so that other lines are
 * skipped without being parsed again. A regex's literals are cut to what
 * an escaped line shows as it is. */
static bool add_test(struct cc *c, const yaml_node_t *at, struct ll__test t, uint32_t *out)
{
    if (t.f.kind == FK_NORM && t.f.index == NF_TEXT) {
        bool ok = t.op != OP_EXISTS && t.op != OP_MISSING && !t.num_valid;
        bool re = t.op == OP_REGEX;
        struct ll_str *lits = re ? t.lits : t.vals;
        size_t n = re ? t.n_lits : t.n_vals;
        ok &= n > 0;
        for (size_t i = 0; ok && i < n; i++) {
            struct ll_str v = json_verbatim(lits[i]);
            ok = v.len >= 2 && (re || v.len == lits[i].len);
            if (re)
                lits[i] = v;
        }
        if (!ok) {
            err_at(c, at, "text: %s 2 printable ASCII characters or more, without quotes or "
                          "backslashes, so that lines without it are skipped unparsed",
                   re ? "the regex must need a literal of" : "every value must be");
            pcre2_code_free(t.re); /* the test is not kept */
            return false;
        }
    }
    *out = test_add(c, t);
    return true;
}

/* One operator of a field's mapping. */
static bool field_op(struct cc *c, struct ll__fref f, yaml_node_t *k, yaml_node_t *v,
                     bool nocase, uint32_t *out)
{
    struct ll__test t = {.f = f, .nocase = nocase};
    struct ll_str name = scalar(k);
    static const struct {
        const char *name;
        enum ll__op op;
    } str_ops[] = {{"equals", OP_EQ}, {"in", OP_IN},         {"in_list", OP_IN},
                   {"prefix", OP_PREFIX}, {"suffix", OP_SUFFIX}, {"contains", OP_CONTAINS}};
    for (size_t i = 0; i < sizeof str_ops / sizeof str_ops[0]; i++)
        if (ll_str_eq(name, ll_str_c(str_ops[i].name))) {
            t.op = (uint8_t)str_ops[i].op;
            if (!test_values(c, v, i == 2, &t))
                return false;
            return add_test(c, v, t, out);
        }
    static const struct {
        const char *name;
        enum ll__op op;
    } num_ops[] = {{"gt", OP_GT}, {"ge", OP_GE}, {"lt", OP_LT}, {"le", OP_LE}};
    for (size_t i = 0; i < 4; i++)
        if (ll_str_eq(name, ll_str_c(num_ops[i].name))) {
            t.op = (uint8_t)num_ops[i].op;
            if (!is_scalar(v) || !parse_num_value(f, scalar(v), &t.num)) {
                err_at(c, v, "%s takes a number%s", num_ops[i].name,
                       f.kind == FK_NORM && f.index == NF_LEVEL ? " or a level name" : "");
                return false;
            }
            t.num_valid = true;
            return add_test(c, v, t, out);
        }
    if (ll_str_eq(name, LL_STR("regex"))) {
        t.op = OP_REGEX;
        if (!compile_regex(c, v, &t))
            return false;
        return add_test(c, v, t, out);
    }
    if (ll_str_eq(name, LL_STR("exists"))) {
        bool yes = is_scalar(v) && ll_str_eq(scalar(v), LL_STR("true"));
        if (!yes && !(is_scalar(v) && ll_str_eq(scalar(v), LL_STR("false")))) {
            err_at(c, v, "exists takes true or false");
            return false;
        }
        t.op = yes ? OP_EXISTS : OP_MISSING;
        return add_test(c, v, t, out);
    }
    unknown_key(c, k, "operator", op_names, sizeof op_names / sizeof op_names[0]);
    return false;
}

/* A field's condition: a value (equals), a list (in), or a mapping of
 * operators, all of which must hold. */
static uint32_t field_cond(struct cc *c, yaml_node_t *k, yaml_node_t *v)
{
    struct ll__fref f;
    if (!resolve_field(c, k, scalar(k), &f))
        return UINT32_MAX;
    if (v->type != YAML_MAPPING_NODE) {
        struct ll__test t = {.f = f, .op = is_scalar(v) ? OP_EQ : OP_IN};
        uint32_t id;
        if (!test_values(c, v, false, &t) || !add_test(c, v, t, &id))
            return UINT32_MAX;
        return id;
    }
    bool nocase = false;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++)
        if (key_is(node_at(c->doc, p->key), "nocase"))
            nocase = is_scalar(node_at(c->doc, p->value)) &&
                     ll_str_eq(scalar(node_at(c->doc, p->value)), LL_STR("true"));
    uint32_t kids[16];
    size_t n = 0;
    bool ok = true;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *ok_key = node_at(c->doc, p->key);
        if (key_is(ok_key, "nocase"))
            continue;
        if (!is_scalar(ok_key) || n == 16) {
            err_at(c, ok_key, "expected an operator name");
            ok = false;
            continue;
        }
        ok &= field_op(c, f, ok_key, node_at(c->doc, p->value), nocase, &kids[n]);
        n += ok;
    }
    if (!ok)
        return UINT32_MAX;
    if (!n) {
        err_at(c, v, "no operator for field '%.*s'", (int)scalar(k).len, scalar(k).ptr);
        return UINT32_MAX;
    }
    return cond_group(c, C_ALL, kids, n);
}

/* ------------------------------------------------------------------------ */
/* Conditions                                                                */

static uint32_t compile_cond(struct cc *c, yaml_node_t *n);

static uint32_t cond_list(struct cc *c, yaml_node_t *v, uint8_t op)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        err_at(c, v, "%s takes a list of conditions", op == C_ALL ? "all" : "any");
        return UINT32_MAX;
    }
    uint32_t kids[64];
    size_t n = 0;
    bool ok = true;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        if (n == 64) {
            err_at(c, v, "more than 64 conditions in one list");
            return UINT32_MAX;
        }
        uint32_t k = compile_cond(c, node_at(c->doc, *it));
        ok &= k != UINT32_MAX;
        kids[n++] = k;
    }
    if (!ok)
        return UINT32_MAX;
    if (!n) {
        err_at(c, v, "empty condition list");
        return UINT32_MAX;
    }
    return cond_group(c, op, kids, n);
}

static uint32_t macro_cond(struct cc *c, yaml_node_t *v)
{
    if (!is_scalar(v)) {
        err_at(c, v, "macro takes a macro's name");
        return UINT32_MAX;
    }
    struct named *m = (struct named *)find_named(c->macros, c->n_macros, scalar(v));
    if (!m) {
        const char *names[256];
        size_t n = 0;
        for (size_t i = 0; i < c->n_macros && n < 256; i++)
            names[n++] = c->macros[i].name;
        const char *hint = ll_closest(scalar(v), names, n);
        err_at(c, v, "no macro named '%.*s'%s%s%s", (int)scalar(v).len, scalar(v).ptr,
               hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        return UINT32_MAX;
    }
    if (m->busy || c->macro_depth == MAX_MACRO_DEPTH) {
        err_at(c, v, "macro '%s' refers to itself", m->name);
        return UINT32_MAX;
    }
    struct doc *saved = c->doc;
    m->busy = true;
    c->macro_depth++;
    c->doc = m->doc;
    uint32_t r = compile_cond(c, m->node);
    c->doc = saved;
    c->macro_depth--;
    m->busy = false;
    return r;
}

static uint32_t compile_cond(struct cc *c, yaml_node_t *n)
{
    if (is_scalar(n) && ll_str_eq(scalar(n), LL_STR("true")))
        return cond_add(c, (struct ll__cond){C_TRUE, 0, 0, 0, 0});
    if (n->type != YAML_MAPPING_NODE) {
        err_at(c, n, "a condition is a mapping of fields (or all:, any:, not:, macro:)");
        return UINT32_MAX;
    }
    uint32_t kids[32];
    size_t k = 0;
    bool ok = true;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(c->doc, p->key), *val = node_at(c->doc, p->value);
        uint32_t r;
        if (!is_scalar(key) || k == 32) {
            err_at(c, key, "expected a field name");
            ok = false;
            continue;
        }
        if (key_is(key, "all"))
            r = cond_list(c, val, C_ALL);
        else if (key_is(key, "any"))
            r = cond_list(c, val, C_ANY);
        else if (key_is(key, "not")) {
            uint32_t child = compile_cond(c, val);
            r = child == UINT32_MAX ? UINT32_MAX
                                    : cond_add(c, (struct ll__cond){C_NOT, child, 0, 0, 0});
        } else if (key_is(key, "macro"))
            r = macro_cond(c, val);
        else
            r = field_cond(c, key, val);
        ok &= r != UINT32_MAX;
        kids[k++] = r;
    }
    if (!ok)
        return UINT32_MAX;
    if (!k) {
        err_at(c, n, "empty condition");
        return UINT32_MAX;
    }
    return cond_group(c, C_ALL, kids, k);
}

/* ------------------------------------------------------------------------ */
/* Rules                                                                     */

static const char *const rule_keys[] = {
    "id",        "symptom",  "playbook", "severity", "title",      "summary",
    "remediation", "kind",   "when",     "threshold", "sequence",  "absence",
    "timeline",  "group_by", "suppress", "rate_limit", "exceptions", "examples",
    "enabled",   "description", "tags",     "recovery",  "affects",
};

static const char *const kinds[] = {"match", "threshold", "sequence", "absence", "timeline"};
static const char *const severities[] = {"info", "warning", "error", "critical"};

/* The value under @p key in mapping @p m, or NULL. */
static yaml_node_t *get(struct cc *c, yaml_node_t *m, const char *key)
{
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
        if (key_is(node_at(c->doc, p->key), key))
            return node_at(c->doc, p->value);
    return NULL;
}

static const char *req_str(struct cc *c, yaml_node_t *m, const char *key)
{
    yaml_node_t *v = get(c, m, key);
    if (!v) {
        err_at(c, m, "missing required key '%s'", key);
        return NULL;
    }
    if (!is_scalar(v) || !scalar(v).len) {
        err_at(c, v, "'%s' must be a non-empty text", key);
        return NULL;
    }
    return keep_str(c, scalar(v));
}

static bool duration(struct cc *c, yaml_node_t *m, const char *key, int64_t def, int64_t *out)
{
    yaml_node_t *v = get(c, m, key);
    *out = def;
    if (!v)
        return true;
    char buf[64];
    if (!is_scalar(v) || scalar(v).len >= sizeof buf) {
        err_at(c, v, "'%s' must be a duration such as 30s or 5m", key);
        return false;
    }
    snprintf(buf, sizeof buf, "%.*s", (int)scalar(v).len, scalar(v).ptr);
    if (ll_duration_parse(buf, out) != LL_OK || *out <= 0) {
        err_at(c, v, "'%s' is not a duration (e.g. 30s, 5m, 1h)", buf);
        return false;
    }
    return true;
}

static bool field_list_items(struct cc *c, yaml_node_t *v, struct ll__fref *out, size_t *n);

/* A list of fields (or one field) into @p out; @p lazy for fields read only
 * from matched events (keys), not tested in conditions. */
static bool field_list(struct cc *c, yaml_node_t *v, struct ll__fref *out, size_t *n, bool lazy)
{
    *n = 0;
    c->lazy = lazy;
    bool ok = field_list_items(c, v, out, n);
    c->lazy = false;
    return ok;
}

static bool field_list_items(struct cc *c, yaml_node_t *v, struct ll__fref *out, size_t *n)
{
    if (is_scalar(v))
        return resolve_field(c, v, scalar(v), &out[(*n)++]);
    if (v->type != YAML_SEQUENCE_NODE) {
        err_at(c, v, "expected a field or a list of fields");
        return false;
    }
    bool ok = true;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node_at(c->doc, *it);
        if (*n == LL__MAX_KEY || !is_scalar(e)) {
            err_at(c, e, "at most %d fields, each a name", LL__MAX_KEY);
            return false;
        }
        ok &= resolve_field(c, e, scalar(e), &out[(*n)++]);
    }
    return ok;
}

/* Falco-style exceptions: tuples of field values that silence the rule. */
static uint32_t exceptions(struct cc *c, yaml_node_t *v)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        err_at(c, v, "exceptions is a list of {name, fields, values}");
        return UINT32_MAX;
    }
    uint32_t alts[64];
    size_t n_alts = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node_at(c->doc, *it);
        yaml_node_t *fields = e->type == YAML_MAPPING_NODE ? get(c, e, "fields") : NULL;
        yaml_node_t *values = e->type == YAML_MAPPING_NODE ? get(c, e, "values") : NULL;
        struct ll__fref f[LL__MAX_KEY];
        size_t nf;
        if (!fields || !values || values->type != YAML_SEQUENCE_NODE) {
            err_at(c, e, "an exception needs 'fields' and a list of 'values'");
            return UINT32_MAX;
        }
        if (!field_list(c, fields, f, &nf, false))
            return UINT32_MAX;
        for (yaml_node_item_t *t = values->data.sequence.items.start;
             t < values->data.sequence.items.top; t++) {
            yaml_node_t *tuple = node_at(c->doc, *t);
            size_t nt = tuple->type == YAML_SEQUENCE_NODE
                            ? (size_t)(tuple->data.sequence.items.top -
                                       tuple->data.sequence.items.start)
                            : 1;
            if (nt != nf || n_alts == 64) {
                err_at(c, tuple, "each value tuple needs one value per field (%zu)", nf);
                return UINT32_MAX;
            }
            uint32_t eq[LL__MAX_KEY];
            for (size_t i = 0; i < nf; i++) {
                yaml_node_t *val = nf == 1 && is_scalar(tuple)
                                       ? tuple
                                       : node_at(c->doc, tuple->data.sequence.items.start[i]);
                struct ll__test tt = {.f = f[i], .op = OP_EQ};
                if (!test_values(c, val, false, &tt))
                    return UINT32_MAX;
                eq[i] = test_add(c, tt);
            }
            alts[n_alts++] = cond_group(c, C_ALL, eq, nf);
        }
    }
    uint32_t any = n_alts ? cond_group(c, C_ANY, alts, n_alts)
                          : cond_add(c, (struct ll__cond){C_TRUE, 0, 0, 0, 0});
    return cond_add(c, (struct ll__cond){C_NOT, any, 0, 0, 0});
}

/* A step: a condition, or {when: condition, key: fields}. */
static bool step(struct cc *c, struct ll__rule *r, yaml_node_t *v, uint32_t except)
{
    if (r->n_steps == LL__MAX_STEPS) {
        err_at(c, v, "at most %d steps", LL__MAX_STEPS);
        return false;
    }
    struct ll__step *s = &r->steps[r->n_steps];
    yaml_node_t *when = v, *key = NULL;
    if (v->type == YAML_MAPPING_NODE && get(c, v, "when")) {
        when = get(c, v, "when");
        key = get(c, v, "key");
    }
    s->cond = compile_cond(c, when);
    if (s->cond == UINT32_MAX)
        return false;
    if (except != UINT32_MAX) {
        uint32_t both[2] = {s->cond, except};
        s->cond = cond_group(c, C_ALL, both, 2);
    }
    if (key && !field_list(c, key, s->key, &s->n_key, true))
        return false;
    if (!key) {
        memcpy(s->key, r->group, sizeof s->key);
        s->n_key = r->n_group;
    }
    r->n_steps++;
    return true;
}

static bool kind_threshold(struct cc *c, struct ll__rule *r, yaml_node_t *m, uint32_t except)
{
    yaml_node_t *t = get(c, m, "threshold"), *when = get(c, m, "when");
    yaml_node_t *count = t && t->type == YAML_MAPPING_NODE ? get(c, t, "count") : NULL;
    double n;
    if (!t || !when || !count || !is_scalar(count) || !parse_number(scalar(count), &n) ||
        n < 1 || n > 100000) {
        err_at(c, t ? t : m, "a threshold rule needs 'when' and threshold: {count: N, window: DUR}");
        return false;
    }
    r->threshold = (uint32_t)n;
    return duration(c, t, "window", 60 * LL_NS_PER_SEC, &r->window_ns) && step(c, r, when, except);
}

static bool kind_sequence(struct cc *c, struct ll__rule *r, yaml_node_t *m, uint32_t except)
{
    yaml_node_t *s = get(c, m, "sequence");
    yaml_node_t *steps = s && s->type == YAML_MAPPING_NODE ? get(c, s, "steps") : NULL;
    if (!steps || steps->type != YAML_SEQUENCE_NODE ||
        steps->data.sequence.items.top - steps->data.sequence.items.start < 2) {
        err_at(c, s ? s : m, "a sequence rule needs sequence: {steps: [A, B, ...], within: DUR}");
        return false;
    }
    bool ok = duration(c, s, "within", 60 * LL_NS_PER_SEC, &r->window_ns);
    for (yaml_node_item_t *it = steps->data.sequence.items.start;
         it < steps->data.sequence.items.top; it++)
        ok &= step(c, r, node_at(c->doc, *it), except);
    return ok;
}

static bool kind_absence(struct cc *c, struct ll__rule *r, yaml_node_t *m, uint32_t except)
{
    yaml_node_t *a = get(c, m, "absence");
    yaml_node_t *after = a && a->type == YAML_MAPPING_NODE ? get(c, a, "after") : NULL;
    yaml_node_t *expect = a && a->type == YAML_MAPPING_NODE ? get(c, a, "expect") : NULL;
    if (!after || !expect) {
        err_at(c, a ? a : m, "an absence rule needs absence: {after: A, expect: B, within: DUR}");
        return false;
    }
    bool ok = duration(c, a, "within", 60 * LL_NS_PER_SEC, &r->window_ns) &&
              duration(c, a, "grace", 0, &r->grace_ns);
    ok = ok && step(c, r, after, except) && step(c, r, expect, UINT32_MAX);
    yaml_node_t *until = get(c, a, "until"), *scope = get(c, a, "scope");
    if (ok && until) {
        ok = step(c, r, until, UINT32_MAX);
        if (!scope) {
            err_at(c, until, "'until' needs 'scope': the fields that tie it to 'after'");
            return false;
        }
        ok = ok && field_list(c, scope, r->scope, &r->n_scope, true);
    }
    return ok;
}

/* recovery: {when: C, within: DUR} of a match rule: a failure that the
 * same key recovers from (C) within DUR raises nothing. */
static bool recovery(struct cc *c, struct ll__rule *r, yaml_node_t *m)
{
    yaml_node_t *v = get(c, m, "recovery");
    if (!v)
        return true;
    yaml_node_t *when = v->type == YAML_MAPPING_NODE ? get(c, v, "when") : NULL;
    if (!when) {
        err_at(c, v, "recovery is {when: CONDITION, within: DUR}");
        return false;
    }
    r->recovery = true;
    return duration(c, v, "within", 30 * LL_NS_PER_SEC, &r->window_ns) &&
           step(c, r, when, UINT32_MAX);
}

static bool kind_timeline(struct cc *c, struct ll__rule *r, yaml_node_t *m)
{
    yaml_node_t *t = get(c, m, "timeline");
    if (!t) {
        err_at(c, m, "a timeline rule needs 'timeline': a condition on the closed workflow");
        return false;
    }
    c->timeline = true;
    r->tl_cond = compile_cond(c, t);
    c->timeline = false;
    return r->tl_cond != UINT32_MAX;
}

/* "{service} could not spawn {err.message}[ ({err.code})]" into literal,
 * field and optional-section parts. */
static bool template(struct cc *c, struct ll__rule *r, yaml_node_t *v)
{
    struct ll_str t = scalar(v);
    struct ll__tpl_part parts[64];
    size_t n = 0, i = 0;
    bool open_section = false;
    while (i < t.len) {
        size_t end = i;
        while (end < t.len && !strchr("{[]", t.ptr[end]))
            end++;
        if (n + 2 > 64) {
            err_at(c, v, "summary has too many parts (at most 64)");
            return false;
        }
        if (end > i)
            parts[n++] = (struct ll__tpl_part){
                .text = {keep_str(c, (struct ll_str){t.ptr + i, end - i}), end - i},
                .kind = TPL_TEXT};
        if (end == t.len)
            break;
        if (t.ptr[end] != '{') {
            bool opening = t.ptr[end] == '[';
            if (opening == open_section) {
                err_at(c, v, "summary: unbalanced '%c' at offset %zu (sections do not nest)",
                       t.ptr[end], end);
                return false;
            }
            open_section = opening;
            parts[n++] = (struct ll__tpl_part){.kind = opening ? TPL_OPEN : TPL_CLOSE};
            i = end + 1;
            continue;
        }
        const char *close = memchr(t.ptr + end, '}', t.len - end);
        if (!close) {
            err_at(c, v, "unclosed '{' in summary at offset %zu", end);
            return false;
        }
        struct ll_str name = {t.ptr + end + 1, (size_t)(close - t.ptr - end - 1)};
        struct ll__tpl_part part = {.text = {keep_str(c, name), name.len}, .kind = TPL_FIELD};
        c->lazy = true;
        for (size_t at = 0; at <= name.len;) {
            const char *bar = memchr(name.ptr + at, '|', name.len - at);
            size_t end_alt = bar ? (size_t)(bar - name.ptr) : name.len;
            if (part.n_f == LL__MAX_KEY ||
                !resolve_field(c, v, (struct ll_str){name.ptr + at, end_alt - at},
                               &part.f[part.n_f++])) {
                c->lazy = false;
                return false;
            }
            at = end_alt + 1;
        }
        c->lazy = false;
        parts[n++] = part;
        i = (size_t)(close - t.ptr) + 1;
    }
    if (open_section) {
        err_at(c, v, "summary: '[' without its ']'");
        return false;
    }
    r->tpl = ll_arena_alloc(&c->rs->mem, (n ? n : 1) * sizeof *r->tpl);
    memcpy(r->tpl, parts, n * sizeof *parts);
    r->n_tpl = n;
    return true;
}

static bool rate_limit(struct cc *c, struct ll__rule *r, yaml_node_t *v)
{
    r->rate_n = 1000;
    r->rate_window_ns = 60 * LL_NS_PER_SEC;
    if (!v)
        return true;
    char buf[64];
    const char *slash = is_scalar(v) ? memchr(scalar(v).ptr, '/', scalar(v).len) : NULL;
    double n;
    if (slash && scalar(v).len < sizeof buf) {
        snprintf(buf, sizeof buf, "%.*s", (int)scalar(v).len, scalar(v).ptr);
        buf[slash - scalar(v).ptr] = '\0';
        char *end;
        n = strtod(buf, &end);
        if (!*end && n >= 1 && ll_duration_parse(buf + (slash - scalar(v).ptr) + 1,
                                                 &r->rate_window_ns) == LL_OK) {
            r->rate_n = (uint32_t)n;
            return true;
        }
    }
    err_at(c, v, "rate_limit is N/DURATION, e.g. 100/1m");
    return false;
}

static const struct ll_symptom *symptom_of(struct cc *c, struct ll_str id)
{
    const struct ll_symptom *s = ll_symptom_find(id);
    for (size_t i = 0; !s && i < c->n_symptoms; i++)
        if (ll_str_eq(ll_str_c(c->symptoms[i].id), id))
            s = &c->symptoms[i];
    return s;
}

static bool check_symptom(struct cc *c, struct ll__rule *r, yaml_node_t *m)
{
    yaml_node_t *v = get(c, m, "symptom");
    if (!r->symptom)
        return false;
    const struct ll_symptom *s = symptom_of(c, scalar(v));
    if (!s) {
        size_t n;
        const struct ll_symptom *all = ll_symptoms(&n);
        const char *names[64];
        for (size_t i = 0; i < n && i < 64; i++)
            names[i] = all[i].id;
        const char *hint = ll_closest(scalar(v), names, n < 64 ? n : 64);
        err_at(c, v, "unknown symptom '%s'%s%s%s; declare new ones under 'symptoms:'",
               r->symptom, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        return false;
    }
    yaml_node_t *pb = get(c, m, "playbook");
    r->playbook = pb && is_scalar(pb) ? keep_str(c, scalar(pb)) : s->playbook;
    return true;
}

static bool choice(struct cc *c, yaml_node_t *v, const char *what, const char *const *names,
                   size_t n, size_t *out)
{
    for (size_t i = 0; v && is_scalar(v) && i < n; i++)
        if (ll_str_eq(scalar(v), ll_str_c(names[i]))) {
            *out = i;
            return true;
        }
    if (v && is_scalar(v))
        unknown_key(c, v, what, names, n);
    else
        err_at(c, v, "expected a %s", what);
    return false;
}

/* affects: CONDITION: while an alert of the rule's key is open (or, for an
 * absence, waiting to be raised), the workflows whose events satisfy it
 * are its blast radius. */
static bool affects(struct cc *c, struct ll__rule *r, yaml_node_t *m)
{
    r->affects_step = LL__NO_STEP;
    yaml_node_t *v = get(c, m, "affects");
    if (!v)
        return true;
    if (r->kind == K_TIMELINE) {
        err_at(c, v, "affects: a timeline rule is about one workflow already");
        return false;
    }
    r->affects_step = (uint8_t)r->n_steps;
    return step(c, r, v, UINT32_MAX);
}

static bool rule_kind(struct cc *c, struct ll__rule *r, yaml_node_t *m, uint32_t except)
{
    size_t kind = K_MATCH;
    yaml_node_t *k = get(c, m, "kind");
    if (k && !choice(c, k, "kind", kinds, 5, &kind))
        return false;
    r->kind = (uint8_t)kind;
    switch (kind) {
    case K_MATCH: {
        yaml_node_t *when = get(c, m, "when");
        if (!when) {
            err_at(c, m, "missing required key 'when'");
            return false;
        }
        return step(c, r, when, except) && recovery(c, r, m);
    }
    case K_THRESHOLD: return kind_threshold(c, r, m, except);
    case K_SEQUENCE: return kind_sequence(c, r, m, except);
    case K_ABSENCE: return kind_absence(c, r, m, except);
    default: return kind_timeline(c, r, m);
    }
}

/* ------------------------------------------------------------------------ */
/* Examples                                                                  */

static void example_add(struct cc *c, const struct ll__rule *r, yaml_node_t *at,
                        const char *const *lines, size_t n, size_t alerts, bool at_least)
{
    struct ll_ruleset *rs = c->rs;
    LL_GROW(rs->examples, rs->n_examples, c->cap_examples, 64);
    const char **copy = ll_arena_alloc(&rs->mem, (n ? n : 1) * sizeof *copy);
    memcpy(copy, lines, n * sizeof *lines);
    rs->examples[rs->n_examples++] = (struct ll_rule_example){
        r->id, c->doc->file, (int)at->start_mark.line + 1, copy, n, alerts, at_least};
}

/* Scalars of a sequence, copied. */
static size_t example_lines(struct cc *c, yaml_node_t *v, const char **out, size_t max)
{
    size_t n = 0;
    if (!v || v->type != YAML_SEQUENCE_NODE) {
        err_at(c, v, "expected a list of log lines");
        return 0;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node_at(c->doc, *it);
        if (!is_scalar(e) || n == max) {
            err_at(c, e, "an example line is a text (quote JSON lines)");
            return 0;
        }
        out[n++] = keep_str(c, scalar(e));
    }
    return n;
}

static bool examples(struct cc *c, const struct ll__rule *r, yaml_node_t *m)
{
    yaml_node_t *ex = get(c, m, "examples");
    if (!ex || ex->type != YAML_MAPPING_NODE) {
        err_at(c, ex ? ex : m, "every rule carries examples: {match, no_match} or {scripts}");
        return false;
    }
    static const char *const keys[] = {"match", "no_match", "scripts"};
    size_t before = c->rs->n_examples;
    const char *lines[256];
    for (yaml_node_pair_t *p = ex->data.mapping.pairs.start; p < ex->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c->doc, p->key), *v = node_at(c->doc, p->value);
        size_t which;
        if (!choice(c, k, "examples key", keys, 3, &which))
            return false;
        if (which < 2) {
            size_t n = example_lines(c, v, lines, 256);
            for (size_t i = 0; i < n; i++)
                example_add(c, r, v, &lines[i], 1, which == 0 ? 1 : 0, which == 0);
            continue;
        }
        for (yaml_node_item_t *it = v->type == YAML_SEQUENCE_NODE ? v->data.sequence.items.start
                                                                   : NULL;
             it && it < v->data.sequence.items.top; it++) {
            yaml_node_t *s = node_at(c->doc, *it);
            yaml_node_t *ln = s->type == YAML_MAPPING_NODE ? get(c, s, "lines") : NULL;
            yaml_node_t *al = s->type == YAML_MAPPING_NODE ? get(c, s, "alerts") : NULL;
            double want;
            if (!ln || !al || !is_scalar(al) || !parse_number(scalar(al), &want) || want < 0) {
                err_at(c, s, "a script is {lines: [...], alerts: N}");
                return false;
            }
            size_t n = example_lines(c, ln, lines, 256);
            example_add(c, r, s, lines, n, (size_t)want, false);
        }
    }
    if (c->rs->n_examples == before) {
        err_at(c, ex, "no examples");
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* One rule                                                                  */

static bool known_keys(struct cc *c, yaml_node_t *m, const char *what, const char *const *keys,
                       size_t n)
{
    bool ok = true;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c->doc, p->key);
        bool known = false;
        for (size_t i = 0; i < n && !known; i++)
            known = key_is(k, keys[i]);
        if (!known) {
            if (is_scalar(k))
                unknown_key(c, k, what, keys, n);
            else
                err_at(c, k, "expected a key");
            ok = false;
        }
    }
    return ok;
}

static bool rule_ids_unique(struct cc *c, const char *id, yaml_node_t *at)
{
    for (size_t i = 0; i < c->n_ids; i++)
        if (strcmp(c->ids[i].id, id) == 0) {
            err_at(c, at, "rule id '%s' is already used (%s:%d)", id, c->ids[i].file,
                   c->ids[i].line);
            return false;
        }
    c->ids = ll_reallocarray(c->ids, c->n_ids + 1, sizeof *c->ids);
    c->ids[c->n_ids++] = (struct seen_id){id, c->doc->file, (int)at->start_mark.line + 1};
    return true;
}

static void compile_rule(struct cc *c, yaml_node_t *m)
{
    if (m->type != YAML_MAPPING_NODE) {
        err_at(c, m, "a rule is a mapping");
        return;
    }
    yaml_node_t *idn = get(c, m, "id");
    c->rule = NULL;
    struct ll__rule r = {.file = c->doc->file, .line = (int)m->start_mark.line + 1};
    r.id = req_str(c, m, "id");
    if (!r.id)
        return;
    c->rule = r.id;
    yaml_node_t *en = get(c, m, "enabled");
    if (en && is_scalar(en) && ll_str_eq(scalar(en), LL_STR("false")))
        return;
    bool ok = known_keys(c, m, "rule key", rule_keys, sizeof rule_keys / sizeof rule_keys[0]);
    ok &= rule_ids_unique(c, r.id, idn);
    r.symptom = req_str(c, m, "symptom");
    r.title = req_str(c, m, "title");
    r.remediation = req_str(c, m, "remediation");
    ok &= r.symptom && r.title && r.remediation && check_symptom(c, &r, m);
    size_t sev = 0;
    ok &= get(c, m, "severity") ? choice(c, get(c, m, "severity"), "severity", severities, 4, &sev)
                                : (err_at(c, m, "missing required key 'severity'"), false);
    r.severity = severities[sev];
    yaml_node_t *g = get(c, m, "group_by");
    ok &= !g || field_list(c, g, r.group, &r.n_group, true);
    ok &= duration(c, m, "suppress", 5 * 60 * LL_NS_PER_SEC, &r.suppress_ns);
    ok &= rate_limit(c, &r, get(c, m, "rate_limit"));
    /* A timeline rule's summary names fields of the timeline. */
    yaml_node_t *sum = get(c, m, "summary"), *kind = get(c, m, "kind");
    c->timeline = kind && is_scalar(kind) && ll_str_eq(scalar(kind), LL_STR("timeline"));
    ok &= !sum || (is_scalar(sum) ? template(c, &r, sum)
                                  : (err_at(c, sum, "summary is a text"), false));
    c->timeline = false;
    uint32_t except = UINT32_MAX;
    if (get(c, m, "exceptions")) {
        except = exceptions(c, get(c, m, "exceptions"));
        ok &= except != UINT32_MAX;
    }
    ok &= rule_kind(c, &r, m, except) && affects(c, &r, m);
    ok &= examples(c, &r, m);
    if (!ok)
        return;
    struct ll_ruleset *rs = c->rs;
    LL_GROW(rs->rules, rs->n_rules, c->cap_rules, 32);
    for (size_t i = 0; i < r.n_steps; i++) {
        r.steps[i].bit = (uint32_t)rs->n_bits;
        rs->bits = ll_reallocarray(rs->bits, rs->n_bits + 1, sizeof *rs->bits);
        rs->bits[rs->n_bits++] = (struct ll__bit){(uint32_t)rs->n_rules, (uint8_t)i};
    }
    rs->rules[rs->n_rules++] = r;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */

static const char *const top_keys[] = {"rules", "macros", "lists", "symptoms"};

static void collect_named(struct cc *c, yaml_node_t *m, bool lists)
{
    if (m->type != YAML_MAPPING_NODE) {
        err_at(c, m, "%s is a mapping of names", lists ? "lists" : "macros");
        return;
    }
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(c->doc, p->key);
        if (!is_scalar(k))
            continue;
        struct named **v = lists ? &c->lists : &c->macros;
        size_t *n = lists ? &c->n_lists : &c->n_macros;
        if (find_named(*v, *n, scalar(k))) {
            err_at(c, k, "%s '%.*s' is defined twice", lists ? "list" : "macro",
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
        yaml_node_t *pb = v->type == YAML_MAPPING_NODE ? get(c, v, "playbook") : NULL;
        yaml_node_t *title = v->type == YAML_MAPPING_NODE ? get(c, v, "title") : NULL;
        if (!is_scalar(k) || !pb || !title || !is_scalar(pb) || !is_scalar(title)) {
            err_at(c, k, "a symptom is id: {playbook: SECTION, title: TEXT}");
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
        err_at(c, root, "a rule file is a mapping (rules, macros, lists, symptoms) or a list of rules");
        return;
    }
    known_keys(c, root, "top-level key", top_keys, 4);
    yaml_node_t *v;
    if ((v = get(c, root, "macros")))
        collect_named(c, v, false);
    if ((v = get(c, root, "lists")))
        collect_named(c, v, true);
    if ((v = get(c, root, "symptoms")))
        collect_symptoms(c, v);
}

static void pass_rules(struct cc *c, struct doc *d)
{
    c->doc = d;
    c->rule = NULL;
    yaml_node_t *root = yaml_document_get_root_node(&d->y);
    yaml_node_t *rules = !root                          ? NULL
                         : root->type == YAML_SEQUENCE_NODE ? root
                         : root->type == YAML_MAPPING_NODE  ? get(c, root, "rules")
                                                            : NULL;
    if (!rules)
        return;
    if (rules->type != YAML_SEQUENCE_NODE) {
        err_at(c, rules, "rules is a list");
        return;
    }
    for (yaml_node_item_t *it = rules->data.sequence.items.start;
         it < rules->data.sequence.items.top; it++)
        compile_rule(c, node_at(d, *it));
    c->rule = NULL;
}

/* Parses one YAML text into the next document slot. */
static void parse_doc(struct cc *c, const char *file, const char *text, size_t len)
{
    if (c->n_docs == MAX_FILES) {
        diag_add_plain(c, file, "too many rule files (at most %d)", MAX_FILES);
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
        err_col(c, (int)p.problem_mark.line + 1, (int)p.problem_mark.column + 1,
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
        diag_add_plain(c, path, "cannot read: %s", strerror(errno));
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
        diag_add_plain(c, path, "%s", strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        load_file(c, path);
        return;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        diag_add_plain(c, path, "%s", strerror(errno));
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
        fprintf(out, "%-28s %-9s %-24s %-4s %-8s %s\n", r->id, kinds[r->kind], r->symptom,
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
