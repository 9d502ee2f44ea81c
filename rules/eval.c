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
    int n = snprintf(scratch, size, "%lld", (long long)v);
    return (struct ll__fval){.s = {scratch, (size_t)n}, .num = (double)v, .present = true,
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
    default: return (struct ll__fval){0};
    }
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
    int rc = pcre2_match(t->re, (PCRE2_SPTR)(v.ptr ? v.ptr : ""), v.len, 0, PCRE2_NO_UTF_CHECK,
                         md, mctx);
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
    struct ll__fval v = ll__field_timeline(tl, t->f, scratch, sizeof scratch);
    return test_value(t, &v, md, mctx, limit_hits);
}

static bool eval(const ll_ruleset *rs, uint32_t ci, const struct subject *sub,
                 pcre2_match_data *md, pcre2_match_context *mctx, uint64_t *limit_hits)
{
    const struct ll__cond *c = &rs->conds[ci];
    if (sub->ev && (c->need & ~sub->present))
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
        if (sub->ev) {
            char scratch[32];
            struct ll__fval v = ll__field_event(sub->ev, t->f, scratch, sizeof scratch);
            return test_value(t, &v, md, mctx, limit_hits);
        }
        return test_timeline(t, sub->tl, md, mctx, limit_hits);
    }
    }
}

bool ll__cond_eval_event(const ll_ruleset *rs, uint32_t c, const struct ll_event *ev,
                         uint32_t present, pcre2_match_data *md, pcre2_match_context *mctx,
                         uint64_t *limit_hits)
{
    struct subject sub = {.ev = ev, .present = present};
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
    return e;
}

void ll_rule_eval_destroy(ll_rule_eval *e)
{
    if (!e)
        return;
    pcre2_match_data_free(e->md);
    pcre2_match_context_free(e->mctx);
    ll_free(e);
}

uint64_t ll_rule_eval_limit_hits(const ll_rule_eval *e)
{
    return e->limit_hits;
}

void ll_rule_eval_match(void *ctx, struct ll_event *ev, struct ll_arena *arena)
{
    ll_rule_eval *e = ctx;
    const ll_ruleset *rs = e->rs;
    uint32_t present = ll__present(ev);
    uint64_t *bits = NULL;
    for (size_t b = 0; b < rs->n_bits; b++) {
        const struct ll__rule *r = &rs->rules[rs->bits[b].rule];
        uint32_t cond = r->steps[rs->bits[b].step].cond;
        if (!ll__cond_eval_event(rs, cond, ev, present, e->md, e->mctx, &e->limit_hits))
            continue;
        if (!bits) {
            size_t words = (rs->n_bits + 63) / 64;
            bits = ll_arena_alloc(arena, words * sizeof *bits);
            memset(bits, 0, words * sizeof *bits);
        }
        bits[b / 64] |= UINT64_C(1) << (b % 64);
    }
    ev->match = bits;
}
