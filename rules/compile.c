/* The rule compiler's ground: diagnostics (every problem by file, line,
 * column and rule id), field references, the nodes of the compiled set,
 * field tests and conditions. A rule's own keys are in rule.c, files and
 * the two passes over them in ruleset.c. Conditions compile into a flat
 * array of nodes; each rule step gets a bit that the decode-time matcher
 * sets. */
#include "compile_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

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

void ll__cc_err_at(struct cc *c, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(c->diags, false, c->doc ? c->doc->file : NULL, n ? (int)n->start_mark.line + 1 : 0,
              n ? (int)n->start_mark.column + 1 : 0, c->rule, fmt, ap);
    va_end(ap);
}

void ll__cc_err_col(struct cc *c, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(c->diags, false, c->doc ? c->doc->file : NULL, line, col, c->rule, fmt, ap);
    va_end(ap);
}

void ll__cc_diag_add_plain(struct cc *c, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(c->diags, false, file, 0, 0, NULL, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Did you mean                                                              */

void ll__cc_unknown_key(struct cc *c, const yaml_node_t *k, const char *what,
                        const char *const *names, size_t n)
{
    struct ll_str got = scalar(k);
    const char *hint = ll_closest(got, names, n);
    if (hint)
        ll__cc_err_at(c, k, "unknown %s '%.*s' (did you mean '%s'?)", what, (int)got.len, got.ptr,
                      hint);
    else
        ll__cc_err_at(c, k, "unknown %s '%.*s'", what, (int)got.len, got.ptr);
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
bool ll__cc_resolve_field(struct cc *c, const yaml_node_t *at, struct ll_str name,
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
            ll__cc_err_at(c, at, "%s", err);
            return false;
        }
        *out = c->lazy ? (struct ll__fref){FK_LAZY, path_index(&c->rs->lazy, &c->rs->n_lazy, path)}
                       : (struct ll__fref){FK_EXTRA, path_index(&c->rs->extra, &c->rs->n_extra,
                                                                path)};
        return true;
    }
    const char *hint = ll_closest(name, names, n);
    ll__cc_err_at(c, at, "unknown field '%.*s'%s%s%s%s", (int)name.len, name.ptr,
           hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "",
           c->timeline ? "" : "; raw JSON paths are written json.<path>");
    return false;
}

/* ------------------------------------------------------------------------ */
/* Nodes of the compiled set                                                 */

uint32_t ll__cc_cond_add(struct cc *c, struct ll__cond n)
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

uint32_t ll__cc_test_add(struct cc *c, struct ll__test t)
{
    struct ll_ruleset *rs = c->rs;
    LL_GROW(rs->tests, rs->n_tests, c->cap_tests, 64);
    t.lit_field = -1;
    rs->tests[rs->n_tests] = t;
    bool needs = t.op != OP_MISSING;
    uint32_t need = needs && t.f.kind == FK_NORM ? 1u << t.f.index : 0;
    uint32_t need_x = needs && t.f.kind == FK_EXTRA && t.f.index < 32 ? 1u << t.f.index : 0;
    return ll__cc_cond_add(c, (struct ll__cond){C_TEST, (uint32_t)rs->n_tests++, 0, need, need_x});
}

/* ALL or ANY over @p k; the fields an ALL needs are all its children's, an
 * ANY needs only what every child needs. */
uint32_t ll__cc_cond_group(struct cc *c, uint8_t op, const uint32_t *k, size_t n)
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
    return ll__cc_cond_add(c, (struct ll__cond){op, at, (uint32_t)n, need, need_x});
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

bool ll__cc_parse_number(struct ll_str s, double *out)
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
    return ll__cc_parse_number(s, out);
}

const struct named *ll__cc_find_named(const struct named *v, size_t n, struct ll_str name)
{
    for (size_t i = 0; i < n; i++)
        if (ll_str_eq(ll_str_c(v[i].name), name))
            return &v[i];
    return NULL;
}

/* Values of a scalar or a sequence of scalars (in_list: a named list). */
bool ll__cc_test_values(struct cc *c, yaml_node_t *v, bool named_list, struct ll__test *t)
{
    struct doc *d = c->doc;
    if (named_list) {
        if (!is_scalar(v)) {
            ll__cc_err_at(c, v, "in_list takes the name of a list");
            return false;
        }
        const struct named *l = ll__cc_find_named(c->lists, c->n_lists, scalar(v));
        if (!l) {
            ll__cc_err_at(c, v, "no list named '%.*s'", (int)scalar(v).len, scalar(v).ptr);
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
        ll__cc_err_at(c, v, "expected a value or a list of values");
        return false;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0 || n > MAX_LIST) {
        ll__cc_err_at(c, v, "a list of values needs 1 to %d entries", MAX_LIST);
        return false;
    }
    t->vals = ll_arena_alloc(&c->rs->mem, n * sizeof *t->vals);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node_at(d, *it);
        if (!is_scalar(e)) {
            ll__cc_err_at(c, e, "list entries must be plain values");
            return false;
        }
        t->vals[t->n_vals++] = (struct ll_str){keep_str(c, scalar(e)), scalar(e).len};
    }
    return true;
}

static bool compile_regex(struct cc *c, yaml_node_t *v, struct ll__test *t)
{
    if (!is_scalar(v)) {
        ll__cc_err_at(c, v, "regex takes a pattern");
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
        ll__cc_err_col(c, (int)v->start_mark.line + 1,
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
            ll__cc_err_at(c, at, "text: %s 2 printable ASCII characters or more, without quotes or "
                          "backslashes, so that lines without it are skipped unparsed",
                   re ? "the regex must need a literal of" : "every value must be");
            pcre2_code_free(t.re); /* the test is not kept */
            return false;
        }
    }
    *out = ll__cc_test_add(c, t);
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
            if (!ll__cc_test_values(c, v, i == 2, &t))
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
                ll__cc_err_at(c, v, "%s takes a number%s", num_ops[i].name,
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
            ll__cc_err_at(c, v, "exists takes true or false");
            return false;
        }
        t.op = yes ? OP_EXISTS : OP_MISSING;
        return add_test(c, v, t, out);
    }
    ll__cc_unknown_key(c, k, "operator", op_names, sizeof op_names / sizeof op_names[0]);
    return false;
}

/* A field's condition: a value (equals), a list (in), or a mapping of
 * operators, all of which must hold. */
static uint32_t field_cond(struct cc *c, yaml_node_t *k, yaml_node_t *v)
{
    struct ll__fref f;
    if (!ll__cc_resolve_field(c, k, scalar(k), &f))
        return UINT32_MAX;
    if (v->type != YAML_MAPPING_NODE) {
        struct ll__test t = {.f = f, .op = is_scalar(v) ? OP_EQ : OP_IN};
        uint32_t id;
        if (!ll__cc_test_values(c, v, false, &t) || !add_test(c, v, t, &id))
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
            ll__cc_err_at(c, ok_key, "expected an operator name");
            ok = false;
            continue;
        }
        ok &= field_op(c, f, ok_key, node_at(c->doc, p->value), nocase, &kids[n]);
        n += ok;
    }
    if (!ok)
        return UINT32_MAX;
    if (!n) {
        ll__cc_err_at(c, v, "no operator for field '%.*s'", (int)scalar(k).len, scalar(k).ptr);
        return UINT32_MAX;
    }
    return ll__cc_cond_group(c, C_ALL, kids, n);
}

/* ------------------------------------------------------------------------ */
/* Conditions                                                                */

static uint32_t cond_list(struct cc *c, yaml_node_t *v, uint8_t op)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        ll__cc_err_at(c, v, "%s takes a list of conditions", op == C_ALL ? "all" : "any");
        return UINT32_MAX;
    }
    uint32_t kids[64];
    size_t n = 0;
    bool ok = true;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        if (n == 64) {
            ll__cc_err_at(c, v, "more than 64 conditions in one list");
            return UINT32_MAX;
        }
        uint32_t k = ll__cc_compile_cond(c, node_at(c->doc, *it));
        ok &= k != UINT32_MAX;
        kids[n++] = k;
    }
    if (!ok)
        return UINT32_MAX;
    if (!n) {
        ll__cc_err_at(c, v, "empty condition list");
        return UINT32_MAX;
    }
    return ll__cc_cond_group(c, op, kids, n);
}

static uint32_t macro_cond(struct cc *c, yaml_node_t *v)
{
    if (!is_scalar(v)) {
        ll__cc_err_at(c, v, "macro takes a macro's name");
        return UINT32_MAX;
    }
    struct named *m = (struct named *)ll__cc_find_named(c->macros, c->n_macros, scalar(v));
    if (!m) {
        const char *names[256];
        size_t n = 0;
        for (size_t i = 0; i < c->n_macros && n < 256; i++)
            names[n++] = c->macros[i].name;
        const char *hint = ll_closest(scalar(v), names, n);
        ll__cc_err_at(c, v, "no macro named '%.*s'%s%s%s", (int)scalar(v).len, scalar(v).ptr,
               hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        return UINT32_MAX;
    }
    if (m->busy || c->macro_depth == MAX_MACRO_DEPTH) {
        ll__cc_err_at(c, v, "macro '%s' refers to itself", m->name);
        return UINT32_MAX;
    }
    struct doc *saved = c->doc;
    m->busy = true;
    c->macro_depth++;
    c->doc = m->doc;
    uint32_t r = ll__cc_compile_cond(c, m->node);
    c->doc = saved;
    c->macro_depth--;
    m->busy = false;
    return r;
}

uint32_t ll__cc_compile_cond(struct cc *c, yaml_node_t *n)
{
    if (is_scalar(n) && ll_str_eq(scalar(n), LL_STR("true")))
        return ll__cc_cond_add(c, (struct ll__cond){C_TRUE, 0, 0, 0, 0});
    if (n->type != YAML_MAPPING_NODE) {
        ll__cc_err_at(c, n, "a condition is a mapping of fields (or all:, any:, not:, macro:)");
        return UINT32_MAX;
    }
    uint32_t kids[32];
    size_t k = 0;
    bool ok = true;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(c->doc, p->key), *val = node_at(c->doc, p->value);
        uint32_t r;
        if (!is_scalar(key) || k == 32) {
            ll__cc_err_at(c, key, "expected a field name");
            ok = false;
            continue;
        }
        if (key_is(key, "all"))
            r = cond_list(c, val, C_ALL);
        else if (key_is(key, "any"))
            r = cond_list(c, val, C_ANY);
        else if (key_is(key, "not")) {
            uint32_t child = ll__cc_compile_cond(c, val);
            r = child == UINT32_MAX ? UINT32_MAX
                                    : ll__cc_cond_add(c, (struct ll__cond){C_NOT, child, 0, 0, 0});
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
        ll__cc_err_at(c, n, "empty condition");
        return UINT32_MAX;
    }
    return ll__cc_cond_group(c, C_ALL, kids, k);
}
