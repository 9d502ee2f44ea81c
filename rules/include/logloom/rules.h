/**
 * @file rules.h
 * @brief logloom rules: the symptom vocabulary alerts are named with.
 *
 * The rule loader, matchers and stateful engines build on this table; each
 * alert names one symptom and, through it, the playbook section that explains
 * it. Everything returned here is static.
 */
#ifndef LOGLOOM_RULES_H
#define LOGLOOM_RULES_H

#include "logloom/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A failure the playbooks describe. */
struct ll_symptom {
    const char *id;       /**< e.g. "spawn-einval" */
    const char *playbook; /**< playbook section, e.g. "1.1" */
    const char *title;    /**< one line, in the project's words */
};

/** @returns the symptom named @p id, or NULL. */
const struct ll_symptom *ll_symptom_find(struct ll_str id);
/** @returns the built-in symptoms; @p n receives their number. */
const struct ll_symptom *ll_symptoms(size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_RULES_H */
