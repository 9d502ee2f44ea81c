/* Private to the rule compiler (compile.c, rule.c, ruleset.c): its state
 * while loading files, and the helpers its parts share. */
#ifndef LOGLOOM_RULES_COMPILE_INT_H
#define LOGLOOM_RULES_COMPILE_INT_H

#include "rules_int.h"

#include <stdarg.h>
#include <string.h>
#include <yaml.h>

#define MAX_FILES 256
#define MAX_MACRO_DEPTH 16
#define MAX_LIST 1024

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

static inline yaml_node_t *node_at(struct doc *d, int i)
{
    return yaml_document_get_node(&d->y, i);
}

static inline bool is_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE;
}

static inline struct ll_str scalar(const yaml_node_t *n)
{
    return (struct ll_str){(const char *)n->data.scalar.value, n->data.scalar.length};
}

static inline bool key_is(const yaml_node_t *k, const char *name)
{
    return is_scalar(k) && ll_str_eq(scalar(k), ll_str_c(name));
}

static inline char *keep_str(struct cc *c, struct ll_str s)
{
    char *p = ll_arena_alloc(&c->rs->mem, s.len + 1);
    memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}

/* compile.c: problems, with their places (a node's; a line and column; a
 * file's, without one). */
void ll__cc_err_at(struct cc *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ll__cc_err_col(struct cc *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ll__cc_diag_add_plain(struct cc *c, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* compile.c: conditions, the tests of fields, field references, numbers. */
uint32_t ll__cc_compile_cond(struct cc *c, yaml_node_t *n);
uint32_t ll__cc_cond_add(struct cc *c, struct ll__cond n);
uint32_t ll__cc_cond_group(struct cc *c, uint8_t op, const uint32_t *k, size_t n);
uint32_t ll__cc_test_add(struct cc *c, struct ll__test t);
bool ll__cc_test_values(struct cc *c, yaml_node_t *v, bool named_list, struct ll__test *t);
bool ll__cc_resolve_field(struct cc *c, const yaml_node_t *at, struct ll_str name,
                          struct ll__fref *out);
bool ll__cc_parse_number(struct ll_str s, double *out);

/* compile.c: keys of a mapping not among @p names (with a "did you mean"),
 * and a macro or list by name. */
void ll__cc_unknown_key(struct cc *c, const yaml_node_t *k, const char *what,
                        const char *const *names, size_t n);
const struct named *ll__cc_find_named(const struct named *v, size_t n, struct ll_str name);

/* rule.c: one rule; the value under a key of a mapping; whether every key
 * of @p m is among @p keys. */
void ll__cc_compile_rule(struct cc *c, yaml_node_t *m);
yaml_node_t *ll__cc_get(struct cc *c, yaml_node_t *m, const char *key);
bool ll__cc_known_keys(struct cc *c, yaml_node_t *m, const char *what, const char *const *keys,
                       size_t n);

/* The names of the rule kinds, by enum value (rule.c). */
extern const char *const ll__rule_kinds[K_TIMELINE + 1];

#endif
