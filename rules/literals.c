/* Literals a regex's every match must contain (one of a set of up to
 * eight), read from the pattern's text: the prefilter that spares most
 * lines the regex itself. A pattern too clever for that gives no set. */
#include "rules_int.h"

#include <string.h>

/* The end of the group or class starting at re[i] (the index of its closing
 * bracket), or len if unbalanced. */
static size_t skip_bracket(const char *re, size_t len, size_t i)
{
    if (re[i] == '[') {
        size_t k = i + 1;
        if (k < len && re[k] == '^')
            k++;
        if (k < len && re[k] == ']')
            k++;
        for (; k < len && re[k] != ']'; k++)
            if (re[k] == '\\')
                k++;
        return k;
    }
    int depth = 0;
    for (size_t k = i; k < len; k++) {
        if (re[k] == '\\') {
            k++;
        } else if (re[k] == '[') {
            k = skip_bracket(re, len, k);
        } else if (re[k] == '(') {
            depth++;
        } else if (re[k] == ')' && --depth == 0) {
            return k;
        }
    }
    return len;
}

static bool quantifier_at(const char *re, size_t len, size_t i, bool *optional)
{
    if (i >= len)
        return false;
    *optional = re[i] == '?' || re[i] == '*' || (re[i] == '{' && i + 1 < len && re[i + 1] == '0');
    return re[i] == '?' || re[i] == '*' || re[i] == '+' || re[i] == '{';
}

static void litset_add(struct ll__litset *ls, const char *p, size_t n)
{
    if (ls->n == 8 || n >= sizeof ls->buf[0]) {
        ls->ok = false;
        return;
    }
    memcpy(ls->buf[ls->n], p, n);
    ls->len[ls->n++] = n;
}

static void branch_set(const char *re, size_t len, struct ll__litset *out, int depth);

/* Splits @p re at its top-level '|' and gives each alternative's set; the
 * union is the pattern's set. */
static void alternation_set(const char *re, size_t len, struct ll__litset *out, int depth)
{
    *out = (struct ll__litset){.ok = true};
    size_t start = 0;
    for (size_t i = 0; i <= len && out->ok; i++) {
        if (i < len) {
            if (re[i] == '\\') {
                i++;
                continue;
            }
            if (re[i] == '(' || re[i] == '[') {
                i = skip_bracket(re, len, i);
                continue;
            }
            if (re[i] != '|')
                continue;
        }
        struct ll__litset b;
        branch_set(re + start, i - start, &b, depth);
        if (!b.ok) {
            out->ok = false;
            return;
        }
        for (size_t k = 0; k < b.n; k++)
            litset_add(out, b.buf[k], b.len[k]);
        start = i + 1;
    }
}

/* The best set one alternative offers: its longest run of literal characters
 * (3 or more), else a group of plain alternatives it must contain. */
static void branch_set(const char *re, size_t len, struct ll__litset *out, int depth)
{
    char cur[64], best[64];
    size_t n = 0, best_n = 0;
    struct ll__litset group = {0};
    for (size_t i = 0; i < len; i++) {
        char ch = re[i], lit = 0;
        bool opt = false, quant;
        if (ch == '\\' && i + 1 < len) {
            char e = re[++i];
            if (strchr(".^$|?*+()[]{}\\/-\"' #:=!<>,@%&~`", e))
                lit = e;
            else if (e == 'b' || e == 'B')
                continue; /* zero width */
        } else if (ch == '(' || ch == '[') {
            size_t end = skip_bracket(re, len, i);
            quant = quantifier_at(re, len, end + 1, &opt);
            /* A required group of plain alternatives: (EINVAL|UNKNOWN). */
            if (ch == '(' && !opt && depth < 2 && !group.ok && end < len &&
                !(i + 1 < len && re[i + 1] == '?')) {
                struct ll__litset g;
                alternation_set(re + i + 1, end - i - 1, &g, depth + 1);
                if (g.ok && g.n)
                    group = g;
            }
            (void)quant;
            i = end;
        } else if (!strchr(".^$|?*+{}", ch) && (unsigned char)ch >= 0x20 &&
                   (unsigned char)ch < 0x7f) {
            lit = ch;
        }
        quant = quantifier_at(re, len, i + 1, &opt);
        if (lit && !opt && n < sizeof cur)
            cur[n++] = lit;
        if (!lit || quant) {
            if (n > best_n) {
                best_n = n;
                memcpy(best, cur, n);
            }
            n = 0;
        }
    }
    if (n > best_n) {
        best_n = n;
        memcpy(best, cur, n);
    }
    *out = (struct ll__litset){.ok = true};
    if (best_n >= 3) {
        litset_add(out, best, best_n);
        return;
    }
    bool group_ok = group.ok && group.n;
    for (size_t k = 0; group_ok && k < group.n; k++)
        group_ok = group.len[k] >= 2;
    if (group_ok) {
        *out = group;
        return;
    }
    out->ok = false;
}

void ll__regex_litset(const char *re, size_t len, struct ll__litset *out)
{
    alternation_set(re, len, out, 0);
}
