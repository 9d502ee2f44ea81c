/* Private to rules/: the compiled form of a rule set, shared by the
 * compiler (compile.c), the stateless matchers (eval.c) and the engine
 * (engine.c). */
#ifndef LOGLOOM_RULES_INT_H
#define LOGLOOM_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "logloom/rules.h"

/* ------------------------------------------------------------------------ */
/* Fields a rule can read                                                    */

/* Normalised event fields (what the decoder made of the line). */
enum ll__nf {
    NF_MSG,
    NF_LEVEL,
    NF_SERVICE,
    NF_HOST,
    NF_PID,
    NF_CORR,
    NF_SOURCE,
    NF_LINE,
    NF_RAW,
    NF_ERR,
    NF_ERR_TYPE,
    NF_ERR_MESSAGE,
    NF_ERR_CODE,
    NF_ERR_ERRNO,
    NF_ERR_SYSCALL,
    NF_ERR_STACK,
    NF_EXIT_CODE,
    NF_EXIT_SIGNAL,
    NF_CHILD_PID,
    NF_CONN_ID,
    NF_TEXT, /* every string value of the event: tests hold if one value passes */
    NF__COUNT
};

/* Fields of a closed timeline (timeline rules). */
enum ll__tf {
    TF_STATUS,
    TF_REASON,
    TF_EVENTS,
    TF_ERRORS,
    TF_LINKED,
    TF_DROPPED,
    TF_DURATION,
    TF_SERVICES,
    TF_N_SERVICES,
    TF_CORR,
    TF_TERMINAL,
    TF_VIA,             /* the link key of the first event joined through one */
    TF_LINKED_SERVICES, /* services of the events joined through a link key */
    TF__COUNT
};

/* FK_EXTRA paths are extracted by the decoder for every line (conditions
 * need them); FK_LAZY paths are read from the raw line only for a matched
 * event (summaries and keys), so they cost nothing on other lines. */
enum ll__fkind { FK_NORM, FK_EXTRA, FK_TL, FK_LAZY };

struct ll__fref {
    uint8_t kind;   /* enum ll__fkind */
    uint16_t index; /* enum ll__nf, extra path index, or enum ll__tf */
};

/* A field's value as tests see it. */
struct ll__fval {
    struct ll_str s;
    double num;
    bool present;
    bool is_num; /* num is valid */
};

/* ------------------------------------------------------------------------ */
/* Conditions                                                                */

enum ll__op {
    OP_EQ,
    OP_IN,
    OP_PREFIX,
    OP_SUFFIX,
    OP_CONTAINS,
    OP_REGEX,
    OP_GT,
    OP_GE,
    OP_LT,
    OP_LE,
    OP_EXISTS,
    OP_MISSING,
};

struct ll__test {
    struct ll__fref f;
    uint8_t op; /* enum ll__op */
    bool nocase;
    struct ll_str *vals; /* EQ, IN, PREFIX, SUFFIX, CONTAINS: any of them */
    size_t n_vals;
    double num; /* GT..LE, and EQ on a number */
    bool num_valid;
    pcre2_code *re;
    struct ll_str lits[8]; /* REGEX: one of these must occur (prefilter) */
    size_t n_lits;
    bool lit_nocase;
    int8_t lit_field;  /* index of the literal index of its field, or -1 */
    uint64_t lit_mask; /* its literals there: REGEX needs one, CONTAINS is one */
};

/* ------------------------------------------------------------------------ */
/* Literal indexes                                                           */

/* Every literal the tests of one field look for (regex prefilters and
 * "contains" values), found in one pass over the value: a bitmap of the
 * literals' first two bytes (case-folded) says where one may start, a small
 * hash of those bigrams lists the candidates. One scan per field and event
 * replaces a memmem per test. */
#define LL__MAX_LITFIELDS 16
#define LL__MAX_FIELDLITS 64

struct ll__lit {
    struct ll_str s;
    bool nocase;
};

struct ll__litidx {
    struct ll__fref f;
    struct ll__lit lits[LL__MAX_FIELDLITS];
    size_t n;
    uint8_t head[256];                /* bigram bucket: first literal + 1, 0 none */
    uint8_t next[LL__MAX_FIELDLITS];  /* chain: next literal + 1 */
    uint8_t bigram[65536 / 8];
    /* Long values (the whole line, for "text"): each literal is looked for
     * by memchr of its rarest byte instead of a walk of every byte pair. */
    bool by_rare;
    uint8_t rare_at[LL__MAX_FIELDLITS]; /* offset of that byte in the literal */
};

enum ll__cop { C_TRUE, C_ALL, C_ANY, C_NOT, C_TEST };

/* A condition node. ALL/ANY: children kids[a, a + b); NOT: child a; TEST:
 * test a. */
struct ll__cond {
    uint8_t op;
    uint32_t a, b;
    uint32_t need;   /* NF bits that must be present for it to be true */
    uint32_t need_x; /* extra paths (the first 32) that must be present */
};

/* ------------------------------------------------------------------------ */
/* Rules                                                                     */

enum ll__kind { K_MATCH, K_THRESHOLD, K_SEQUENCE, K_ABSENCE, K_TIMELINE };

#define LL__MAX_STEPS 8
#define LL__NO_STEP UINT8_MAX
#define LL__MAX_KEY 4

/* A necessary condition of a step: one of these literal sets is present.
 * Steps whose every alternative is a literal test are skipped without a walk
 * of their condition when none is there. */
/* A step's needs, flattened so the decode hook reads one small array. */
struct ll__prog {
    uint32_t cond;
    uint32_t need, need_x; /* the condition's needs (see ll__cond) */
};

/* Which steps the decode hook evaluates for an event, as sets of step bits
 * (@c words uint64_t each). A step is gated when every way its condition can
 * be true needs an uncommon field or a literal of an indexed field: it is
 * evaluated only when one of those is present. The others always are. */
struct ll__gates {
    size_t words;
    uint64_t *ungated;
    uint64_t *by_field; /* NF__COUNT sets: steps a present field opens */
    uint64_t *by_extra; /* 32 sets, one per extra path */
    uint64_t *by_lit;   /* n_litidx x LL__MAX_FIELDLITS sets: steps a literal opens */
    uint32_t fields, extras; /* fields and extra paths some step is gated on */
    uint32_t lit_fields;     /* literal indexes some step is gated on */
};

struct ll__step {
    uint32_t cond;
    uint32_t bit;
    struct ll__fref key[LL__MAX_KEY]; /* pairing key (sequence, absence) */
    size_t n_key;
};

/* Absence steps: after, expect, then optionally until. */
enum { ST_AFTER = 0, ST_EXPECT = 1, ST_UNTIL = 2 };

/* A summary template, split into literal text, field references and the
 * bounds of optional sections ("[ ({err.code})]": left out, brackets
 * included, when a field inside is missing). */
enum ll__tpl_kind { TPL_TEXT, TPL_FIELD, TPL_OPEN, TPL_CLOSE };

struct ll__tpl_part {
    struct ll_str text; /* literal, or the field's name */
    struct ll__fref f[LL__MAX_KEY]; /* "{a|b}": the first present of a, b */
    size_t n_f;
    uint8_t kind; /* enum ll__tpl_kind */
};

struct ll__rule {
    const char *id, *symptom, *playbook, *severity, *title, *remediation;
    const char *file;
    int line;
    uint8_t kind; /* enum ll__kind */
    bool recovery; /* a match rule held for its window: a second step, the recovery of
                      the same key, drops it (run as an absence that raises at the end) */
    uint8_t affects_step; /* the last step: events of workflows that an open alert of
                             the same key affects; LL__NO_STEP without one */
    struct ll__step steps[LL__MAX_STEPS];
    size_t n_steps;
    struct ll__fref group[LL__MAX_KEY];
    size_t n_group; /* 0: correlation id, else service */
    struct ll__fref scope[LL__MAX_KEY]; /* absence: what pairs "until" with "after" */
    size_t n_scope;
    int64_t suppress_ns, window_ns, grace_ns;
    uint32_t threshold;
    uint32_t rate_n;
    int64_t rate_window_ns;
    uint32_t tl_cond; /* timeline rules */
    struct ll__tpl_part *tpl;
    size_t n_tpl;
};

struct ll__bit {
    uint32_t rule;
    uint8_t step;
};

struct ll_ruleset {
    struct ll__rule *rules;
    size_t n_rules;
    struct ll__cond *conds;
    size_t n_conds;
    uint32_t *kids;
    size_t n_kids;
    struct ll__test *tests;
    size_t n_tests;
    char **extra;
    size_t n_extra;
    char **lazy; /* FK_LAZY paths */
    size_t n_lazy;
    struct ll__bit *bits; /* step bit -> rule and step */
    struct ll__prog *prog; /* step bit -> what to evaluate (ll__litidx_build) */
    size_t n_bits;
    struct ll__gates gates;
    struct ll__litidx *litidx;
    size_t n_litidx;
    struct ll_rule_example *examples;
    size_t n_examples;
    struct ll_arena mem; /* strings and small arrays of the compiled set */
};

/* Per-thread evaluation state (see rules.h). */
struct ll_rule_eval {
    const ll_ruleset *rs;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    uint64_t limit_hits;
    uint64_t *open; /* gates.words: the steps to evaluate for this event */
};

/* ------------------------------------------------------------------------ */
/* Shared helpers                                                            */

/* The value of @p f in @p ev (numbers formatted into @p scratch). */
struct ll__fval ll__field_event(const struct ll_event *ev, struct ll__fref f, char *scratch,
                                size_t scratch_size);
/* The value of @p f in @p tl; services are tested one by one by the caller. */
struct ll__fval ll__field_timeline(const struct ll_timeline *tl, struct ll__fref f,
                                   char *scratch, size_t scratch_size);
/* Bits of the normalised fields @p ev carries. */
uint32_t ll__present(const struct ll_event *ev);

/* Whether a timeline's event joined through a link key (raw lines joined
 * by their file are crash output, not a lost id: the correlator's "linked"
 * leaves them out too). */
static inline bool ll__tl_linked(const struct ll_tl_event *te)
{
    return te->via.len && !(te->flags & LL_EV_RAW);
}

/* Evaluate condition @p c. @p md may be NULL for rule sets without regexes. */
bool ll__cond_eval_event(const ll_ruleset *rs, uint32_t c, const struct ll_event *ev,
                         pcre2_match_data *md, pcre2_match_context *mctx, uint64_t *limit_hits);
bool ll__cond_eval_timeline(const ll_ruleset *rs, uint32_t c, const struct ll_timeline *tl,
                            pcre2_match_data *md, pcre2_match_context *mctx,
                            uint64_t *limit_hits);

/* Builds the literal indexes and the step programs of @p rs (after its
 * tests are compiled). */
void ll__litidx_build(ll_ruleset *rs);

/* A literal set: every match of a regex contains one of these strings. */
struct ll__litset {
    char buf[8][64];
    size_t len[8];
    size_t n;
    bool ok; /* false: no usable set */
};

/* The literal set of regex @p re (literals.c). */
void ll__regex_litset(const char *re, size_t len, struct ll__litset *out);

#endif
