/* Stateless matching: field access, tests and conditions, and the decode
 * hook that sets an event's match bits.
 *
 * Cost control: every condition node knows which normalised fields it needs
 * present; an event missing one fails the node before any test runs. Most
 * rules need an error code, an exit signal or the like, so a healthy line
 * costs a few bit operations per rule. Regexes run on extracted fields only,
 * after a memmem of a literal the pattern requires, with match and depth
 * limits so no line can stall the pipeline. */
#include "rules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define MATCH_LIMIT 100000
#define DEPTH_LIMIT 2000
#define HEAP_LIMIT_KIB 4096

/* ------------------------------------------------------------------------ */
/* Field values                                                              */

static struct ll__fval str_val(struct ll_str s)
{
    return (struct ll__fval){.s = s, .present = s.len > 0};
}

static struct ll__fval num_val(int64_t v, char *scratch, size_t size)
{
    char digits[20];
    size_t n = ll_fmt_i64(v, digits);
    n = n < size ? n : size; /* callers' scratch holds 32 */
    memcpy(scratch, digits, n);
    return (struct ll__fval){.s = {scratch, n}, .num = (double)v, .present = true,
                             .is_num = true};
}

static struct ll__fval bool_val(bool b)
{
    return (struct ll__fval){.s = b ? LL_STR("true") : LL_STR("false"), .num = b, .present = true,
                             .is_num = true};
}

static struct ll__fval extra_val(const struct ll_event *ev, uint16_t i)
{
    if (i >= ev->n_extra)
        return (struct ll__fval){0};
    const struct ll_value *v = &ev->extra[i];
    struct ll__fval f = {.s = v->s, .present = v->type != LL_V_NONE && v->type != LL_V_NULL};
    if (v->type == LL_V_NUMBER && v->s.len < 64) {
        char buf[64];
        memcpy(buf, v->s.ptr, v->s.len);
        buf[v->s.len] = '\0';
        char *end;
        f.num = strtod(buf, &end);
        f.is_num = *end == '\0';
    }
    return f;
}

/* Bits of the extra paths (the first 32) the event carries a value for. */
static uint32_t present_extra(const struct ll_event *ev)
{
    uint32_t p = 0;
    for (uint32_t i = 0; i < ev->n_extra && i < 32; i++)
        if (ev->extra[i].type != LL_V_NONE && ev->extra[i].type != LL_V_NULL)
            p |= 1u << i;
    return p;
}

struct ll__fval ll__field_event(const struct ll_event *ev, struct ll__fref f, char *scratch,
                                size_t scratch_size)
{
    if (f.kind == FK_EXTRA)
        return extra_val(ev, f.index);
    uint32_t fl = ev->flags;
    switch ((enum ll__nf)f.index) {
    case NF_MSG: return str_val(ev->msg);
    case NF_LEVEL:
        if (ev->level == LL_LEVEL_NONE)
            return (struct ll__fval){0};
        return (struct ll__fval){.s = ll_str_c(ll_level_name(ev->level)), .num = ev->level,
                                 .present = true, .is_num = true};
    case NF_SERVICE: return str_val(ev->service);
    case NF_HOST: return str_val(ev->host);
    case NF_PID:
        return fl & LL_EV_HAS_PID ? num_val(ev->pid, scratch, scratch_size) : (struct ll__fval){0};
    case NF_CORR: return str_val(ev->corr_id);
    case NF_SOURCE: return str_val(ev->pos.source);
    case NF_LINE: return str_val(ev->line);
    case NF_RAW: return bool_val(fl & LL_EV_RAW);
    case NF_ERR: return fl & LL_EV_HAS_ERR ? bool_val(true) : (struct ll__fval){0};
    case NF_ERR_TYPE: return str_val(ev->err_type);
    case NF_ERR_MESSAGE: return str_val(ev->err_msg);
    case NF_ERR_CODE: {
        struct ll__fval v = str_val(ev->err_code);
        if (v.present && v.s.len < 20 && ev->err_code.ptr[0] >= '0' && ev->err_code.ptr[0] <= '9') {
            char buf[24];
            memcpy(buf, v.s.ptr, v.s.len);
            buf[v.s.len] = '\0';
            char *end;
            v.num = strtod(buf, &end);
            v.is_num = *end == '\0';
        }
        return v;
    }
    case NF_ERR_ERRNO:
        return fl & LL_EV_HAS_ERRNO ? num_val(ev->err_errno, scratch, scratch_size)
                                    : (struct ll__fval){0};
    case NF_ERR_SYSCALL: return str_val(ev->err_syscall);
    case NF_ERR_STACK: return str_val(ev->err_stack);
    case NF_EXIT_CODE:
        return fl & LL_EV_HAS_EXIT_CODE ? num_val(ev->exit_code, scratch, scratch_size)
                                        : (struct ll__fval){0};
    case NF_EXIT_SIGNAL: return str_val(ev->signal);
    case NF_CHILD_PID:
        return fl & LL_EV_HAS_CHILD_PID ? num_val(ev->child_pid, scratch, scratch_size)
                                        : (struct ll__fval){0};
    case NF_CONN_ID: return str_val(ev->conn_id);
    case NF_TEXT: return str_val(ev->line); /* scanned for literals; tested value by value */
    default: return (struct ll__fval){0};
    }
}

uint32_t ll__present(const struct ll_event *ev)
{
    uint32_t fl = ev->flags, p = 0;
    p |= (uint32_t)(ev->msg.len > 0) << NF_MSG;
    p |= (uint32_t)(ev->level != LL_LEVEL_NONE) << NF_LEVEL;
    p |= (uint32_t)(ev->service.len > 0) << NF_SERVICE;
    p |= (uint32_t)(ev->host.len > 0) << NF_HOST;
    p |= (uint32_t)((fl & LL_EV_HAS_PID) != 0) << NF_PID;
    p |= (uint32_t)(ev->corr_id.len > 0) << NF_CORR;
    p |= (uint32_t)(ev->pos.source.len > 0) << NF_SOURCE;
    p |= (uint32_t)(ev->line.len > 0) << NF_LINE;
    p |= (uint32_t)(ev->line.len > 0) << NF_TEXT;
    p |= 1u << NF_RAW;
    p |= (uint32_t)((fl & LL_EV_HAS_ERR) != 0) << NF_ERR;
    p |= (uint32_t)(ev->err_type.len > 0) << NF_ERR_TYPE;
    p |= (uint32_t)(ev->err_msg.len > 0) << NF_ERR_MESSAGE;
    p |= (uint32_t)(ev->err_code.len > 0) << NF_ERR_CODE;
    p |= (uint32_t)((fl & LL_EV_HAS_ERRNO) != 0) << NF_ERR_ERRNO;
    p |= (uint32_t)(ev->err_syscall.len > 0) << NF_ERR_SYSCALL;
    p |= (uint32_t)(ev->err_stack.len > 0) << NF_ERR_STACK;
    p |= (uint32_t)((fl & LL_EV_HAS_EXIT_CODE) != 0) << NF_EXIT_CODE;
    p |= (uint32_t)(ev->signal.len > 0) << NF_EXIT_SIGNAL;
    p |= (uint32_t)((fl & LL_EV_HAS_CHILD_PID) != 0) << NF_CHILD_PID;
    p |= (uint32_t)(ev->conn_id.len > 0) << NF_CONN_ID;
    return p;
}

struct ll__fval ll__field_timeline(const struct ll_timeline *tl, struct ll__fref f,
                                   char *scratch, size_t scratch_size)
{
    switch ((enum ll__tf)f.index) {
    case TF_STATUS: return str_val(ll_str_c(ll_tl_status_name(tl->status)));
    case TF_REASON: return str_val(ll_str_c(ll_tl_reason_name(tl->reason)));
    case TF_EVENTS: return num_val((int64_t)tl->n_events, scratch, scratch_size);
    case TF_ERRORS: return num_val((int64_t)tl->n_errors, scratch, scratch_size);
    case TF_LINKED: return num_val((int64_t)tl->n_linked, scratch, scratch_size);
    case TF_DROPPED: return num_val((int64_t)tl->n_dropped, scratch, scratch_size);
    case TF_DURATION:
        return num_val((tl->end_ns - tl->start_ns) / LL_NS_PER_MS, scratch, scratch_size);
    case TF_N_SERVICES: return num_val((int64_t)tl->n_services, scratch, scratch_size);
    case TF_CORR: return str_val(tl->corr_id);
    case TF_TERMINAL: return bool_val(tl->terminal);
    case TF_VIA:
        for (size_t i = 0; i < tl->n_events_kept; i++)
            if (ll__tl_linked(&tl->events[i]))
                return str_val(tl->events[i].via);
        return (struct ll__fval){0};
    default: return (struct ll__fval){0};
    }
}

/* ------------------------------------------------------------------------ */
/* Literal indexes                                                           */

static unsigned char fold(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') ? (unsigned char)(ch | 0x20) : ch;
}

static unsigned bucket(unsigned char a, unsigned char b)
{
    return (a * 31u + b) & 255u;
}

/* The id of @p lit in @p x, added if new; -1 when the index is full. */
static int lit_id(struct ll__litidx *x, struct ll_str lit, bool nocase)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->lits[i].nocase == nocase && ll_str_eq(x->lits[i].s, lit))
            return (int)i;
    if (x->n == LL__MAX_FIELDLITS)
        return -1;
    size_t id = x->n++;
    x->lits[id] = (struct ll__lit){lit, nocase};
    unsigned char a = fold((unsigned char)lit.ptr[0]), b = fold((unsigned char)lit.ptr[1]);
    unsigned g = (unsigned)a << 8 | b, k = bucket(a, b);
    x->bigram[g >> 3] |= (uint8_t)(1u << (g & 7));
    x->next[id] = x->head[k];
    x->head[k] = (uint8_t)(id + 1);
    return (int)id;
}

/* How often a byte shows in JSON log lines, roughly: lower is rarer. Upper
 * case letters and most punctuation are rare, lower case letters, digits,
 * quotes and the separators are not; letters go by their frequency in
 * English, "j" rarest. */
static int commonness(unsigned char ch)
{
    static const char order[] = "jqxzkvbywgpfmucdlhrsnioate";
    if (ch >= 'a' && ch <= 'z')
        return 100 + (int)(strchr(order, ch) - order);
    if (ch >= 'A' && ch <= 'Z')
        return (int)(strchr(order, ch | 0x20) - order);
    if ((ch >= '0' && ch <= '9') || strchr("\" :,{}[]._-/", ch))
        return 200;
    return 50;
}

/* For an index on long values: which byte of each literal to look for. */
static void litidx_rare(struct ll__litidx *x)
{
    x->by_rare = true;
    for (size_t i = 0; i < x->n; i++) {
        const struct ll__lit *l = &x->lits[i];
        size_t best = 0;
        for (size_t k = 1; k < l->s.len; k++)
            if (commonness((unsigned char)l->s.ptr[k]) <
                commonness((unsigned char)l->s.ptr[best]))
                best = k;
        x->rare_at[i] = (uint8_t)(best < 255 ? best : 0);
        /* A case-blind literal's rare byte would need two searches: a letter
         * anywhere then serves no better than the pair walk. */
        unsigned char folded = (unsigned char)(l->s.ptr[best] | 0x20);
        x->by_rare &= !l->nocase || !(folded >= 'a' && folded <= 'z');
    }
}

static struct ll__litidx *litidx_for(ll_ruleset *rs, struct ll__fref f)
{
    for (size_t i = 0; i < rs->n_litidx; i++)
        if (rs->litidx[i].f.kind == f.kind && rs->litidx[i].f.index == f.index)
            return &rs->litidx[i];
    if (rs->n_litidx == LL__MAX_LITFIELDS)
        return NULL;
    rs->litidx = ll_reallocarray(rs->litidx, rs->n_litidx + 1, sizeof *rs->litidx);
    struct ll__litidx *x = &rs->litidx[rs->n_litidx++];
    memset(x, 0, sizeof *x);
    x->f = f;
    return x;
}

/* Registers the literals of @p t; leaves the test on memmem if they do not
 * all fit (or one is shorter than two bytes). Equality, prefix and suffix
 * tests on text register their values too: a field equal to X contains X,
 * which is all a gate needs. */
static void index_test(ll_ruleset *rs, struct ll__test *t)
{
    const struct ll_str *lits = t->op == OP_REGEX ? t->lits : t->vals;
    size_t n = t->op == OP_REGEX ? t->n_lits : t->n_vals;
    bool nocase = t->op == OP_REGEX ? t->lit_nocase : t->nocase;
    if (!n || t->f.kind == FK_TL || t->num_valid)
        return;
    for (size_t i = 0; i < n; i++)
        if (lits[i].len < 2)
            return;
    struct ll__litidx *x = litidx_for(rs, t->f);
    if (!x || x->n + n > LL__MAX_FIELDLITS)
        return;
    uint64_t mask = 0;
    for (size_t i = 0; i < n; i++)
        mask |= UINT64_C(1) << lit_id(x, lits[i], nocase);
    t->lit_field = (int8_t)(x - rs->litidx);
    t->lit_mask = mask;
}

/* Normalised fields nearly every line carries: their presence gates
 * nothing. */
#define COMMON_FIELDS                                                                    \
    (1u << NF_MSG | 1u << NF_LEVEL | 1u << NF_SERVICE | 1u << NF_HOST | 1u << NF_PID |   \
     1u << NF_CORR | 1u << NF_SOURCE | 1u << NF_LINE | 1u << NF_RAW | 1u << NF_TEXT)

#define MAX_GATES 8

/* What opens a step: one of @c lit (literal index and literals) found, or a
 * field of @c any / @c any_x present. */
struct gateset {
    struct {
        int8_t field;
        uint64_t mask;
    } lit[MAX_GATES];
    uint8_t n;
    uint32_t any, any_x;
};

/* Adds to @p g the gates of condition @p ci; returns false when it has none
 * (some way to be true needs neither a literal nor an uncommon field). */
static bool gates(const ll_ruleset *rs, uint32_t ci, struct gateset *g)
{
    const struct ll__cond *c = &rs->conds[ci];
    switch (c->op) {
    case C_TEST: {
        const struct ll__test *t = &rs->tests[c->a];
        /* The raw line is long: scanning it for every event costs more than
         * the gate saves. */
        bool long_field = t->f.kind == FK_NORM && t->f.index == NF_LINE;
        if (t->lit_field >= 0 && !long_field && g->n < MAX_GATES) {
            g->lit[g->n].field = t->lit_field;
            g->lit[g->n++].mask = t->lit_mask;
            return true;
        }
        if (t->op == OP_MISSING)
            return false;
        if (t->f.kind == FK_NORM && !(COMMON_FIELDS >> t->f.index & 1)) {
            g->any |= 1u << t->f.index;
            return true;
        }
        if (t->f.kind == FK_EXTRA && t->f.index < 32) {
            g->any_x |= 1u << t->f.index;
            return true;
        }
        return false;
    }
    case C_ALL: /* any one child's gate is necessary: take the first */
        for (uint32_t i = 0; i < c->b; i++) {
            struct gateset before = *g;
            if (gates(rs, rs->kids[c->a + i], g))
                return true;
            *g = before;
        }
        return false;
    case C_ANY: /* every child must be gated: the union */
        for (uint32_t i = 0; i < c->b; i++)
            if (!gates(rs, rs->kids[c->a + i], g))
                return false;
        return true;
    default: return false;
    }
}

static void set_bit(uint64_t *set, size_t b)
{
    set[b / 64] |= UINT64_C(1) << (b % 64);
}

/* Files step @p b under what opens it. */
static void add_gates(struct ll__gates *G, size_t b, const struct gateset *g)
{
    for (unsigned f = 0; f < 32; f++) {
        if (g->any >> f & 1)
            set_bit(G->by_field + f * G->words, b);
        if (g->any_x >> f & 1)
            set_bit(G->by_extra + f * G->words, b);
    }
    G->fields |= g->any;
    G->extras |= g->any_x;
    for (uint8_t i = 0; i < g->n; i++) {
        G->lit_fields |= 1u << g->lit[i].field;
        for (unsigned k = 0; k < LL__MAX_FIELDLITS; k++)
            if (g->lit[i].mask >> k & 1)
                set_bit(G->by_lit + ((size_t)g->lit[i].field * LL__MAX_FIELDLITS + k) * G->words,
                        b);
    }
}

void ll__litidx_build(ll_ruleset *rs)
{
    for (size_t i = 0; i < rs->n_tests; i++) {
        uint8_t op = rs->tests[i].op;
        if (op == OP_REGEX || op == OP_CONTAINS || op == OP_EQ || op == OP_IN ||
            op == OP_PREFIX || op == OP_SUFFIX)
            index_test(rs, &rs->tests[i]);
    }
    for (size_t i = 0; i < rs->n_litidx; i++)
        if (rs->litidx[i].f.kind == FK_NORM &&
            (rs->litidx[i].f.index == NF_TEXT || rs->litidx[i].f.index == NF_LINE))
            litidx_rare(&rs->litidx[i]);
    struct ll__gates *G = &rs->gates;
    size_t w = G->words = rs->n_bits ? (rs->n_bits + 63) / 64 : 1;
    G->ungated = ll_calloc(w, sizeof(uint64_t));
    G->by_field = ll_calloc(NF__COUNT * w, sizeof(uint64_t));
    G->by_extra = ll_calloc(32 * w, sizeof(uint64_t));
    G->by_lit = ll_calloc((rs->n_litidx + 1) * LL__MAX_FIELDLITS * w, sizeof(uint64_t));
    rs->prog = ll_calloc(rs->n_bits + 1, sizeof *rs->prog);
    for (size_t b = 0; b < rs->n_bits; b++) {
        struct ll__prog *p = &rs->prog[b];
        p->cond = rs->rules[rs->bits[b].rule].steps[rs->bits[b].step].cond;
        p->need = rs->conds[p->cond].need;
        p->need_x = rs->conds[p->cond].need_x;
        struct gateset g = {0};
        if (gates(rs, p->cond, &g))
            add_gates(G, b, &g);
        else
            set_bit(G->ungated, b);
    }
}

/* The literals of @p x in @p v, each by memchr of its rarest byte. */
static uint64_t litidx_scan_rare(const struct ll__litidx *x, struct ll_str v)
{
    uint64_t found = 0;
    for (size_t i = 0; i < x->n; i++) {
        const struct ll__lit *l = &x->lits[i];
        size_t at = x->rare_at[i];
        if (l->s.len > v.len)
            continue;
        const char *p = v.ptr + at, *end = v.ptr + v.len - (l->s.len - at);
        while (p < end + 1 && (p = memchr(p, l->s.ptr[at], (size_t)(end + 1 - p)))) {
            struct ll_str cand = {p - at, l->s.len};
            if (l->nocase ? ll_str_eq_nocase(cand, l->s)
                          : memcmp(cand.ptr, l->s.ptr, l->s.len) == 0) {
                found |= UINT64_C(1) << i;
                break;
            }
            p++;
        }
    }
    return found;
}

/* The literals of @p x that occur in @p v, as a bit mask. */
static uint64_t litidx_scan(const struct ll__litidx *x, struct ll_str v)
{
    if (x->by_rare)
        return litidx_scan_rare(x, v);
    uint64_t found = 0;
    const unsigned char *p = (const unsigned char *)v.ptr;
    for (size_t i = 0; i + 1 < v.len; i++) {
        unsigned char a = fold(p[i]), b = fold(p[i + 1]);
        unsigned g = (unsigned)a << 8 | b;
        if (!(x->bigram[g >> 3] & (1u << (g & 7))))
            continue;
        for (unsigned k = x->head[bucket(a, b)]; k; k = x->next[k - 1]) {
            const struct ll__lit *l = &x->lits[k - 1];
            if (l->s.len > v.len - i || (found >> (k - 1) & 1))
                continue;
            struct ll_str at = {v.ptr + i, l->s.len};
            if (l->nocase ? ll_str_eq_nocase(at, l->s) : memcmp(at.ptr, l->s.ptr, l->s.len) == 0)
                found |= UINT64_C(1) << (k - 1);
        }
    }
    return found;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

static bool find_nocase(struct ll_str hay, struct ll_str needle)
{
    if (needle.len > hay.len)
        return false;
    for (size_t i = 0; i + needle.len <= hay.len; i++)
        if (ll_str_eq_nocase((struct ll_str){hay.ptr + i, needle.len}, needle))
            return true;
    return false;
}

static bool contains(struct ll_str hay, struct ll_str needle, bool nocase)
{
    if (nocase)
        return find_nocase(hay, needle);
    return needle.len <= hay.len && memmem(hay.ptr, hay.len, needle.ptr, needle.len);
}

static bool str_eq(struct ll_str a, struct ll_str b, bool nocase)
{
    return nocase ? ll_str_eq_nocase(a, b) : ll_str_eq(a, b);
}

static bool one_value(const struct ll__test *t, struct ll_str v, struct ll_str want)
{
    switch (t->op) {
    case OP_EQ:
    case OP_IN: return str_eq(v, want, t->nocase);
    case OP_PREFIX:
        return v.len >= want.len && str_eq((struct ll_str){v.ptr, want.len}, want, t->nocase);
    case OP_SUFFIX:
        return v.len >= want.len &&
               str_eq((struct ll_str){v.ptr + v.len - want.len, want.len}, want, t->nocase);
    default: return contains(v, want, t->nocase);
    }
}

static bool regex_nofilter(const struct ll__test *t, struct ll_str v, pcre2_match_data *md,
                           pcre2_match_context *mctx, uint64_t *limit_hits);

static bool regex(const struct ll__test *t, struct ll_str v, pcre2_match_data *md,
                  pcre2_match_context *mctx, uint64_t *limit_hits)
{
    if (t->n_lits) {
        bool any = false;
        for (size_t i = 0; i < t->n_lits && !any; i++)
            any = contains(v, t->lits[i], t->lit_nocase);
        if (!any)
            return false;
    }
    return regex_nofilter(t, v, md, mctx, limit_hits);
}

static bool regex_nofilter(const struct ll__test *t, struct ll_str v, pcre2_match_data *md,
                           pcre2_match_context *mctx, uint64_t *limit_hits)
{
    /* No PCRE2_NO_UTF_CHECK: log text is hostile, and the JSON escape of a
     * lone low surrogate (U+DC00) decodes to bytes that are not UTF-8. Such
     * a subject fails the test instead of being undefined behaviour. */
    int rc = pcre2_match(t->re, (PCRE2_SPTR)(v.ptr ? v.ptr : ""), v.len, 0, 0, md, mctx);
    if (rc >= 0)
        return true;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
        ++*limit_hits;
    return false;
}

static bool test_value(const struct ll__test *t, const struct ll__fval *v, pcre2_match_data *md,
                       pcre2_match_context *mctx, uint64_t *limit_hits)
{
    if (t->op == OP_EXISTS)
        return v->present;
    if (t->op == OP_MISSING)
        return !v->present;
    if (!v->present)
        return false;
    switch (t->op) {
    case OP_GT: return v->is_num && v->num > t->num;
    case OP_GE: return v->is_num && v->num >= t->num;
    case OP_LT: return v->is_num && v->num < t->num;
    case OP_LE: return v->is_num && v->num <= t->num;
    case OP_REGEX: return regex(t, v->s, md, mctx, limit_hits);
    default:
        if (t->op == OP_EQ && t->num_valid && v->is_num && t->n_vals == 1)
            return v->num == t->num;
        for (size_t i = 0; i < t->n_vals; i++)
            if (one_value(t, v->s, t->vals[i]))
                return true;
        return false;
    }
}

/* ------------------------------------------------------------------------ */
/* Conditions                                                                */

struct subject {
    const struct ll_event *ev;
    const struct ll_timeline *tl;
    uint32_t present;
    uint32_t present_x; /* extra paths present (the first 32) */
    uint32_t scanned; /* literal indexes already scanned for this event */
    uint64_t found[LL__MAX_LITFIELDS];
};

/* A test on a timeline: "services" holds if any service satisfies it. */
static bool test_timeline(const struct ll__test *t, const struct ll_timeline *tl,
                          pcre2_match_data *md, pcre2_match_context *mctx, uint64_t *limit_hits)
{
    char scratch[32];
    if (t->f.kind == FK_TL && t->f.index == TF_SERVICES) {
        if (t->op == OP_EXISTS || t->op == OP_MISSING)
            return (tl->n_services > 0) == (t->op == OP_EXISTS);
        for (size_t i = 0; i < tl->n_services; i++) {
            struct ll__fval v = str_val(tl->services[i]);
            if (test_value(t, &v, md, mctx, limit_hits))
                return true;
        }
        return false;
    }
    if (t->f.kind == FK_TL && t->f.index == TF_LINKED_SERVICES) {
        bool any = false;
        for (size_t i = 0; i < tl->n_events_kept; i++) {
            if (!ll__tl_linked(&tl->events[i]))
                continue;
            any = true;
            struct ll__fval v = str_val(tl->events[i].service);
            if (t->op != OP_EXISTS && t->op != OP_MISSING && test_value(t, &v, md, mctx, limit_hits))
                return true;
        }
        return t->op == OP_EXISTS ? any : t->op == OP_MISSING ? !any : false;
    }
    struct ll__fval v = ll__field_timeline(tl, t->f, scratch, sizeof scratch);
    return test_value(t, &v, md, mctx, limit_hits);
}

/* "text": every string value of the event's line, unescaped, until one
 * passes (a raw line is one value). */
struct text_walk {
    const struct ll__test *t;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    uint64_t *limit_hits;
    bool hit;
};

static int text_string(void *ctx, const unsigned char *s, size_t len)
{
    struct text_walk *w = ctx;
    struct ll__fval v = str_val((struct ll_str){(const char *)s, len});
    w->hit = test_value(w->t, &v, w->md, w->mctx, w->limit_hits);
    return !w->hit; /* found: stop parsing */
}

static bool test_text(const struct ll__test *t, const struct ll_event *ev, pcre2_match_data *md,
                      pcre2_match_context *mctx, uint64_t *limit_hits)
{
    struct text_walk w = {t, md, mctx, limit_hits, false};
    if (ev->flags & LL_EV_RAW) {
        text_string(&w, (const unsigned char *)ev->line.ptr, ev->line.len);
        return w.hit;
    }
    static const yajl_callbacks cb = {.yajl_string = text_string};
    yajl_handle h = yajl_alloc(&cb, NULL, &w);
    if (!h)
        return false;
    yajl_parse(h, (const unsigned char *)ev->line.ptr, ev->line.len);
    yajl_free(h);
    return w.hit;
}

static __attribute__((noinline)) uint64_t scan(const ll_ruleset *rs, struct subject *sub,
                                                int li)
{
    char scratch[32];
    struct ll__fval v = ll__field_event(sub->ev, rs->litidx[li].f, scratch, sizeof scratch);
    sub->found[li] = v.present ? litidx_scan(&rs->litidx[li], v.s) : 0;
    sub->scanned |= 1u << li;
    return sub->found[li];
}

/* The literals of index @p li present in the event, scanned on first use
 * (the common case, a field already scanned, stays inline). */
static inline uint64_t found(const ll_ruleset *rs, struct subject *sub, int li)
{
    return sub->scanned >> li & 1 ? sub->found[li] : scan(rs, sub, li);
}

static bool eval(const ll_ruleset *rs, uint32_t ci, struct subject *sub,
                 pcre2_match_data *md, pcre2_match_context *mctx, uint64_t *limit_hits)
{
    const struct ll__cond *c = &rs->conds[ci];
    if (sub->ev && ((c->need & ~sub->present) || (c->need_x & ~sub->present_x)))
        return false;
    switch (c->op) {
    case C_TRUE: return true;
    case C_NOT: return !eval(rs, c->a, sub, md, mctx, limit_hits);
    case C_ALL:
        for (uint32_t i = 0; i < c->b; i++)
            if (!eval(rs, rs->kids[c->a + i], sub, md, mctx, limit_hits))
                return false;
        return true;
    case C_ANY:
        for (uint32_t i = 0; i < c->b; i++)
            if (eval(rs, rs->kids[c->a + i], sub, md, mctx, limit_hits))
                return true;
        return false;
    default: {
        const struct ll__test *t = &rs->tests[c->a];
        if (!sub->ev)
            return test_timeline(t, sub->tl, md, mctx, limit_hits);
        char scratch[32];
        if (t->f.kind == FK_NORM && t->f.index == NF_TEXT) {
            /* The raw line lacks the literals: no value has them. */
            if (t->lit_field >= 0 && !(found(rs, sub, t->lit_field) & t->lit_mask))
                return false;
            return test_text(t, sub->ev, md, mctx, limit_hits);
        }
        struct ll__fval v = ll__field_event(sub->ev, t->f, scratch, sizeof scratch);
        if (t->lit_field >= 0 && (t->op == OP_CONTAINS || t->op == OP_REGEX) && v.present) {
            /* One scan of the field answers every literal test on it. */
            bool hit = (found(rs, sub, t->lit_field) & t->lit_mask) != 0;
            if (t->op == OP_CONTAINS || !hit)
                return hit;
            return regex_nofilter(t, v.s, md, mctx, limit_hits);
        }
        return test_value(t, &v, md, mctx, limit_hits);
    }
    }
}

bool ll__cond_eval_event(const ll_ruleset *rs, uint32_t c, const struct ll_event *ev,
                         pcre2_match_data *md, pcre2_match_context *mctx, uint64_t *limit_hits)
{
    struct subject sub = {.ev = ev, .present = ll__present(ev), .present_x = present_extra(ev)};
    return eval(rs, c, &sub, md, mctx, limit_hits);
}

bool ll__cond_eval_timeline(const ll_ruleset *rs, uint32_t c, const struct ll_timeline *tl,
                            pcre2_match_data *md, pcre2_match_context *mctx,
                            uint64_t *limit_hits)
{
    struct subject sub = {.tl = tl};
    return eval(rs, c, &sub, md, mctx, limit_hits);
}

/* ------------------------------------------------------------------------ */
/* The decode hook                                                           */

ll_rule_eval *ll_rule_eval_new(const ll_ruleset *rs)
{
    ll_rule_eval *e = ll_calloc(1, sizeof *e);
    e->rs = rs;
    e->md = pcre2_match_data_create(16, NULL);
    e->mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(e->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(e->mctx, DEPTH_LIMIT);
    pcre2_set_heap_limit(e->mctx, HEAP_LIMIT_KIB);
    e->open = ll_calloc(rs->gates.words ? rs->gates.words : 1, sizeof *e->open);
    return e;
}

void ll_rule_eval_destroy(ll_rule_eval *e)
{
    if (!e)
        return;
    pcre2_match_data_free(e->md);
    pcre2_match_context_free(e->mctx);
    ll_free(e->open);
    ll_free(e);
}

uint64_t ll_rule_eval_limit_hits(const ll_rule_eval *e)
{
    return e->limit_hits;
}

static void or_set(uint64_t *dst, const uint64_t *src, size_t words)
{
    for (size_t i = 0; i < words; i++)
        dst[i] |= src[i];
}

void ll_rule_eval_match(void *ctx, struct ll_event *ev, struct ll_arena *arena)
{
    ll_rule_eval *e = ctx;
    const ll_ruleset *rs = e->rs;
    const struct ll__gates *G = &rs->gates;
    size_t words = G->words;
    /* One subject for all steps: each field's literals are scanned once. */
    struct subject sub = {.ev = ev, .present = ll__present(ev), .present_x = present_extra(ev)};

    /* The steps this event can open: the ungated ones, those gated on a
     * field it carries, and those gated on a literal it contains. */
    uint64_t *open = e->open;
    memcpy(open, G->ungated, words * sizeof *open);
    for (uint32_t m = sub.present & G->fields; m; m &= m - 1)
        or_set(open, G->by_field + (size_t)__builtin_ctz(m) * words, words);
    for (uint32_t m = sub.present_x & G->extras; m; m &= m - 1)
        or_set(open, G->by_extra + (size_t)__builtin_ctz(m) * words, words);
    for (uint32_t li = G->lit_fields; li; li &= li - 1) {
        int f = __builtin_ctz(li);
        struct ll__fref fr = rs->litidx[f].f;
        if ((fr.kind == FK_NORM && !(sub.present >> fr.index & 1)) ||
            (fr.kind == FK_EXTRA && fr.index < 32 && !(sub.present_x >> fr.index & 1)))
            continue; /* nothing to scan */
        for (uint64_t m = found(rs, &sub, f); m; m &= m - 1)
            or_set(open, G->by_lit + ((size_t)f * LL__MAX_FIELDLITS + (size_t)__builtin_ctzll(m)) * words,
                   words);
    }

    uint64_t *bits = NULL;
    for (size_t w = 0; w < words; w++)
        for (uint64_t m = open[w]; m; m &= m - 1) {
            size_t b = w * 64 + (size_t)__builtin_ctzll(m);
            const struct ll__prog *p = &rs->prog[b];
            if ((p->need & ~sub.present) || (p->need_x & ~sub.present_x))
                continue;
            if (!eval(rs, p->cond, &sub, e->md, e->mctx, &e->limit_hits))
                continue;
            if (!bits) {
                bits = ll_arena_alloc(arena, words * sizeof *bits);
                memset(bits, 0, words * sizeof *bits);
            }
            set_bit(bits, b);
        }
    ev->match = bits;
}
