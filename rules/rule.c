/* One rule of a rule file compiled: its keys, kind, steps (conditions,
 * keys, windows, exceptions), scope, summary and examples. */
#include "compile_int.h"

/* ------------------------------------------------------------------------ */
/* Rules                                                                     */

static const char *const rule_keys[] = {
    "id",        "symptom",  "playbook", "severity", "title",      "summary",
    "remediation", "kind",   "when",     "threshold", "sequence",  "absence",
    "timeline",  "group_by", "suppress", "rate_limit", "exceptions", "examples",
    "enabled",   "description", "tags",     "recovery",  "affects",
};

const char *const ll__rule_kinds[K_TIMELINE + 1] = {"match", "threshold", "sequence", "absence",
                                                     "timeline"};
static const char *const severities[] = {"info", "warning", "error", "critical"};

/* The value under @p key in mapping @p m, or NULL. */
yaml_node_t *ll__cc_get(struct cc *c, yaml_node_t *m, const char *key)
{
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
        if (key_is(node_at(c->doc, p->key), key))
            return node_at(c->doc, p->value);
    return NULL;
}

static const char *req_str(struct cc *c, yaml_node_t *m, const char *key)
{
    yaml_node_t *v = ll__cc_get(c, m, key);
    if (!v) {
        ll__cc_err_at(c, m, "missing required key '%s'", key);
        return NULL;
    }
    if (!is_scalar(v) || !scalar(v).len) {
        ll__cc_err_at(c, v, "'%s' must be a non-empty text", key);
        return NULL;
    }
    return keep_str(c, scalar(v));
}

static bool duration(struct cc *c, yaml_node_t *m, const char *key, int64_t def, int64_t *out)
{
    yaml_node_t *v = ll__cc_get(c, m, key);
    *out = def;
    if (!v)
        return true;
    char buf[64];
    if (!is_scalar(v) || scalar(v).len >= sizeof buf) {
        ll__cc_err_at(c, v, "'%s' must be a duration such as 30s or 5m", key);
        return false;
    }
    snprintf(buf, sizeof buf, "%.*s", (int)scalar(v).len, scalar(v).ptr);
    if (ll_duration_parse(buf, out) != LL_OK || *out <= 0) {
        ll__cc_err_at(c, v, "'%s' is not a duration (e.g. 30s, 5m, 1h)", buf);
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
        return ll__cc_resolve_field(c, v, scalar(v), &out[(*n)++]);
    if (v->type != YAML_SEQUENCE_NODE) {
        ll__cc_err_at(c, v, "expected a field or a list of fields");
        return false;
    }
    bool ok = true;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node_at(c->doc, *it);
        if (*n == LL__MAX_KEY || !is_scalar(e)) {
            ll__cc_err_at(c, e, "at most %d fields, each a name", LL__MAX_KEY);
            return false;
        }
        ok &= ll__cc_resolve_field(c, e, scalar(e), &out[(*n)++]);
    }
    return ok;
}

/* Falco-style exceptions: tuples of field values that silence the rule. */
static uint32_t exceptions(struct cc *c, yaml_node_t *v)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        ll__cc_err_at(c, v, "exceptions is a list of {name, fields, values}");
        return UINT32_MAX;
    }
    uint32_t alts[64];
    size_t n_alts = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node_at(c->doc, *it);
        yaml_node_t *fields = e->type == YAML_MAPPING_NODE ? ll__cc_get(c, e, "fields") : NULL;
        yaml_node_t *values = e->type == YAML_MAPPING_NODE ? ll__cc_get(c, e, "values") : NULL;
        struct ll__fref f[LL__MAX_KEY];
        size_t nf;
        if (!fields || !values || values->type != YAML_SEQUENCE_NODE) {
            ll__cc_err_at(c, e, "an exception needs 'fields' and a list of 'values'");
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
                ll__cc_err_at(c, tuple, "each value tuple needs one value per field (%zu)", nf);
                return UINT32_MAX;
            }
            uint32_t eq[LL__MAX_KEY];
            for (size_t i = 0; i < nf; i++) {
                yaml_node_t *val = nf == 1 && is_scalar(tuple)
                                       ? tuple
                                       : node_at(c->doc, tuple->data.sequence.items.start[i]);
                struct ll__test tt = {.f = f[i], .op = OP_EQ};
                if (!ll__cc_test_values(c, val, false, &tt))
                    return UINT32_MAX;
                eq[i] = ll__cc_test_add(c, tt);
            }
            alts[n_alts++] = ll__cc_cond_group(c, C_ALL, eq, nf);
        }
    }
    uint32_t any = n_alts ? ll__cc_cond_group(c, C_ANY, alts, n_alts)
                          : ll__cc_cond_add(c, (struct ll__cond){C_TRUE, 0, 0, 0, 0});
    return ll__cc_cond_add(c, (struct ll__cond){C_NOT, any, 0, 0, 0});
}

/* A step: a condition, or {when: condition, key: fields}. */
static bool step(struct cc *c, struct ll__rule *r, yaml_node_t *v, uint32_t except)
{
    if (r->n_steps == LL__MAX_STEPS) {
        ll__cc_err_at(c, v, "at most %d steps", LL__MAX_STEPS);
        return false;
    }
    struct ll__step *s = &r->steps[r->n_steps];
    yaml_node_t *when = v, *key = NULL;
    if (v->type == YAML_MAPPING_NODE && ll__cc_get(c, v, "when")) {
        when = ll__cc_get(c, v, "when");
        key = ll__cc_get(c, v, "key");
    }
    s->cond = ll__cc_compile_cond(c, when);
    if (s->cond == UINT32_MAX)
        return false;
    if (except != UINT32_MAX) {
        uint32_t both[2] = {s->cond, except};
        s->cond = ll__cc_cond_group(c, C_ALL, both, 2);
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
    yaml_node_t *t = ll__cc_get(c, m, "threshold"), *when = ll__cc_get(c, m, "when");
    yaml_node_t *count = t && t->type == YAML_MAPPING_NODE ? ll__cc_get(c, t, "count") : NULL;
    double n;
    if (!t || !when || !count || !is_scalar(count) || !ll__cc_parse_number(scalar(count), &n) ||
        n < 1 || n > 100000) {
        ll__cc_err_at(c, t ? t : m,
                      "a threshold rule needs 'when' and threshold: {count: N, window: DUR}");
        return false;
    }
    r->threshold = (uint32_t)n;
    return duration(c, t, "window", 60 * LL_NS_PER_SEC, &r->window_ns) && step(c, r, when, except);
}

static bool kind_sequence(struct cc *c, struct ll__rule *r, yaml_node_t *m, uint32_t except)
{
    yaml_node_t *s = ll__cc_get(c, m, "sequence");
    yaml_node_t *steps = s && s->type == YAML_MAPPING_NODE ? ll__cc_get(c, s, "steps") : NULL;
    if (!steps || steps->type != YAML_SEQUENCE_NODE ||
        steps->data.sequence.items.top - steps->data.sequence.items.start < 2) {
        ll__cc_err_at(c, s ? s : m,
                      "a sequence rule needs sequence: {steps: [A, B, ...], within: DUR}");
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
    yaml_node_t *a = ll__cc_get(c, m, "absence");
    yaml_node_t *after = a && a->type == YAML_MAPPING_NODE ? ll__cc_get(c, a, "after") : NULL;
    yaml_node_t *expect = a && a->type == YAML_MAPPING_NODE ? ll__cc_get(c, a, "expect") : NULL;
    if (!after || !expect) {
        ll__cc_err_at(c, a ? a : m,
                      "an absence rule needs absence: {after: A, expect: B, within: DUR}");
        return false;
    }
    bool ok = duration(c, a, "within", 60 * LL_NS_PER_SEC, &r->window_ns) &&
              duration(c, a, "grace", 0, &r->grace_ns);
    ok = ok && step(c, r, after, except) && step(c, r, expect, UINT32_MAX);
    yaml_node_t *until = ll__cc_get(c, a, "until"), *scope = ll__cc_get(c, a, "scope");
    if (ok && until) {
        ok = step(c, r, until, UINT32_MAX);
        if (!scope) {
            ll__cc_err_at(c, until, "'until' needs 'scope': the fields that tie it to 'after'");
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
    yaml_node_t *v = ll__cc_get(c, m, "recovery");
    if (!v)
        return true;
    yaml_node_t *when = v->type == YAML_MAPPING_NODE ? ll__cc_get(c, v, "when") : NULL;
    if (!when) {
        ll__cc_err_at(c, v, "recovery is {when: CONDITION, within: DUR}");
        return false;
    }
    r->recovery = true;
    return duration(c, v, "within", 30 * LL_NS_PER_SEC, &r->window_ns) &&
           step(c, r, when, UINT32_MAX);
}

static bool kind_timeline(struct cc *c, struct ll__rule *r, yaml_node_t *m)
{
    yaml_node_t *t = ll__cc_get(c, m, "timeline");
    if (!t) {
        ll__cc_err_at(c, m, "a timeline rule needs 'timeline': a condition on the closed workflow");
        return false;
    }
    c->timeline = true;
    r->tl_cond = ll__cc_compile_cond(c, t);
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
            ll__cc_err_at(c, v, "summary has too many parts (at most 64)");
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
                ll__cc_err_at(c, v, "summary: unbalanced '%c' at offset %zu (sections do not nest)",
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
            ll__cc_err_at(c, v, "unclosed '{' in summary at offset %zu", end);
            return false;
        }
        struct ll_str name = {t.ptr + end + 1, (size_t)(close - t.ptr - end - 1)};
        struct ll__tpl_part part = {.text = {keep_str(c, name), name.len}, .kind = TPL_FIELD};
        c->lazy = true;
        for (size_t at = 0; at <= name.len;) {
            const char *bar = memchr(name.ptr + at, '|', name.len - at);
            size_t end_alt = bar ? (size_t)(bar - name.ptr) : name.len;
            if (part.n_f == LL__MAX_KEY ||
                !ll__cc_resolve_field(c, v, (struct ll_str){name.ptr + at, end_alt - at},
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
        ll__cc_err_at(c, v, "summary: '[' without its ']'");
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
    ll__cc_err_at(c, v, "rate_limit is N/DURATION, e.g. 100/1m");
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
    yaml_node_t *v = ll__cc_get(c, m, "symptom");
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
        ll__cc_err_at(c, v, "unknown symptom '%s'%s%s%s; declare new ones under 'symptoms:'",
               r->symptom, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
        return false;
    }
    yaml_node_t *pb = ll__cc_get(c, m, "playbook");
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
        ll__cc_unknown_key(c, v, what, names, n);
    else
        ll__cc_err_at(c, v, "expected a %s", what);
    return false;
}

/* affects: CONDITION: while an alert of the rule's key is open (or, for an
 * absence, waiting to be raised), the workflows whose events satisfy it
 * are its blast radius. */
static bool affects(struct cc *c, struct ll__rule *r, yaml_node_t *m)
{
    r->affects_step = LL__NO_STEP;
    yaml_node_t *v = ll__cc_get(c, m, "affects");
    if (!v)
        return true;
    if (r->kind == K_TIMELINE) {
        ll__cc_err_at(c, v, "affects: a timeline rule is about one workflow already");
        return false;
    }
    r->affects_step = (uint8_t)r->n_steps;
    return step(c, r, v, UINT32_MAX);
}

static bool rule_kind(struct cc *c, struct ll__rule *r, yaml_node_t *m, uint32_t except)
{
    size_t kind = K_MATCH;
    yaml_node_t *k = ll__cc_get(c, m, "kind");
    if (k && !choice(c, k, "kind", ll__rule_kinds, 5, &kind))
        return false;
    r->kind = (uint8_t)kind;
    switch (kind) {
    case K_MATCH: {
        yaml_node_t *when = ll__cc_get(c, m, "when");
        if (!when) {
            ll__cc_err_at(c, m, "missing required key 'when'");
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
        ll__cc_err_at(c, v, "expected a list of log lines");
        return 0;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *e = node_at(c->doc, *it);
        if (!is_scalar(e) || n == max) {
            ll__cc_err_at(c, e, "an example line is a text (quote JSON lines)");
            return 0;
        }
        out[n++] = keep_str(c, scalar(e));
    }
    return n;
}

static bool examples(struct cc *c, const struct ll__rule *r, yaml_node_t *m)
{
    yaml_node_t *ex = ll__cc_get(c, m, "examples");
    if (!ex || ex->type != YAML_MAPPING_NODE) {
        ll__cc_err_at(c, ex ? ex : m,
                      "every rule carries examples: {match, no_match} or {scripts}");
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
            yaml_node_t *ln = s->type == YAML_MAPPING_NODE ? ll__cc_get(c, s, "lines") : NULL;
            yaml_node_t *al = s->type == YAML_MAPPING_NODE ? ll__cc_get(c, s, "alerts") : NULL;
            double want;
            if (!ln || !al || !is_scalar(al) || !ll__cc_parse_number(scalar(al),
                                                                     &want) || want < 0) {
                ll__cc_err_at(c, s, "a script is {lines: [...], alerts: N}");
                return false;
            }
            size_t n = example_lines(c, ln, lines, 256);
            example_add(c, r, s, lines, n, (size_t)want, false);
        }
    }
    if (c->rs->n_examples == before) {
        ll__cc_err_at(c, ex, "no examples");
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* One rule                                                                  */

bool ll__cc_known_keys(struct cc *c, yaml_node_t *m, const char *what, const char *const *keys,
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
                ll__cc_unknown_key(c, k, what, keys, n);
            else
                ll__cc_err_at(c, k, "expected a key");
            ok = false;
        }
    }
    return ok;
}

static bool rule_ids_unique(struct cc *c, const char *id, yaml_node_t *at)
{
    for (size_t i = 0; i < c->n_ids; i++)
        if (strcmp(c->ids[i].id, id) == 0) {
            ll__cc_err_at(c, at, "rule id '%s' is already used (%s:%d)", id, c->ids[i].file,
                   c->ids[i].line);
            return false;
        }
    c->ids = ll_reallocarray(c->ids, c->n_ids + 1, sizeof *c->ids);
    c->ids[c->n_ids++] = (struct seen_id){id, c->doc->file, (int)at->start_mark.line + 1};
    return true;
}

void ll__cc_compile_rule(struct cc *c, yaml_node_t *m)
{
    if (m->type != YAML_MAPPING_NODE) {
        ll__cc_err_at(c, m, "a rule is a mapping");
        return;
    }
    yaml_node_t *idn = ll__cc_get(c, m, "id");
    c->rule = NULL;
    struct ll__rule r = {.file = c->doc->file, .line = (int)m->start_mark.line + 1};
    r.id = req_str(c, m, "id");
    if (!r.id)
        return;
    c->rule = r.id;
    yaml_node_t *en = ll__cc_get(c, m, "enabled");
    if (en && is_scalar(en) && ll_str_eq(scalar(en), LL_STR("false")))
        return;
    bool ok = ll__cc_known_keys(c, m, "rule key", rule_keys,
                                sizeof rule_keys / sizeof rule_keys[0]);
    ok &= rule_ids_unique(c, r.id, idn);
    r.symptom = req_str(c, m, "symptom");
    r.title = req_str(c, m, "title");
    r.remediation = req_str(c, m, "remediation");
    ok &= r.symptom && r.title && r.remediation && check_symptom(c, &r, m);
    size_t sev = 0;
    ok &= ll__cc_get(c, m, "severity") ? choice(c, ll__cc_get(c, m, "severity"), "severity",
                                                severities, 4, &sev)
                                : (ll__cc_err_at(c, m, "missing required key 'severity'"), false);
    r.severity = severities[sev];
    yaml_node_t *g = ll__cc_get(c, m, "group_by");
    ok &= !g || field_list(c, g, r.group, &r.n_group, true);
    ok &= duration(c, m, "suppress", 5 * 60 * LL_NS_PER_SEC, &r.suppress_ns);
    ok &= rate_limit(c, &r, ll__cc_get(c, m, "rate_limit"));
    /* A timeline rule's summary names fields of the timeline. */
    yaml_node_t *sum = ll__cc_get(c, m, "summary"), *kind = ll__cc_get(c, m, "kind");
    c->timeline = kind && is_scalar(kind) && ll_str_eq(scalar(kind), LL_STR("timeline"));
    ok &= !sum || (is_scalar(sum) ? template(c, &r, sum)
                                  : (ll__cc_err_at(c, sum, "summary is a text"), false));
    c->timeline = false;
    uint32_t except = UINT32_MAX;
    if (ll__cc_get(c, m, "exceptions")) {
        except = exceptions(c, ll__cc_get(c, m, "exceptions"));
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
