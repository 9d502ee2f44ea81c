/**
 * @file config.h
 * @brief logloom configuration: the YAML file as read (sections, options and
 *        their places), and the tables by which each module describes its
 *        options (name, kind, default, meaning).
 *
 * Part of the core (logloom/core.h includes it).
 */
#ifndef LOGLOOM_CONFIG_H
#define LOGLOOM_CONFIG_H

#include "logloom/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Configuration file                                                        */

/** @brief One "name: value" as written, with its place in the file. */
struct ll_config_opt {
    char *name;
    char *value;  /**< a scalar; for a list, its items joined with commas */
    char **items; /**< a list's items */
    size_t n_items;
    bool is_list;
    int line, column;
};

/** @brief A mapping of options (a sink, a source, a section). */
struct ll_config_item {
    bool present;
    int line, column;
    struct ll_config_opt *opts;
    size_t n_opts;
};

/** @brief A loaded configuration file (YAML). Sections are kept as written;
 *         the code using them gives them meaning and checks their options. */
struct ll_config {
    char *path;
    struct ll_config_item *sources; /**< "paths" holds a bare glob */
    size_t n_sources;
    struct ll_config_item *sinks; /**< "url" holds a bare URL */
    size_t n_sinks;
    struct ll_config_item decode, correlation, metrics, checkpoints, log, topology;
    struct ll_config_item top; /**< top-level values: shutdown_timeout */
    char **rules; /**< rule files or directories; "builtin" names the pack */
    size_t n_rules;
};

/** @returns the option @p name of @p it, or NULL. */
const struct ll_config_opt *ll_config_get(const struct ll_config_item *it, const char *name);

/** @brief Loads @p path. Every problem is appended to @p errors as
 *         "path:line:column: error: reason" lines.
 *  @returns LL_OK, LL_EIO (unreadable) or LL_EINVAL; free @p cfg either way. */
int ll_config_load(const char *path, struct ll_config *cfg, struct ll_buf *errors);
void ll_config_free(struct ll_config *cfg);

/** @brief How an option's value is read. */
enum ll_conf_kind {
    LL_CONF_DURATION, /**< int64_t ns: "500ms", "30s", "5m" (more than 0) */
    LL_CONF_COUNT,    /**< size_t or uint64_t (8 bytes): 1 to max */
    LL_CONF_SIZE,     /**< size_t bytes: "1M", "512K" (1 byte to 4 GiB) */
    LL_CONF_LIST,     /**< char ** and a size_t count: a string or a list */
    LL_CONF_STRING,   /**< char *: one string */
    LL_CONF_CHOICE,   /**< one of the words in its help; the module reads it */
};

/** @brief One option of a configuration section, described by the module
 *         that owns the field: the reader applies values by it, and
 *         `logloom config options` and the README's tables are written from
 *         it, so a default is written once. */
struct ll_conf_field {
    const char *name;
    enum ll_conf_kind kind;
    size_t at;    /**< offsetof the field (lists: the char **) */
    size_t count; /**< lists: offsetof their size_t count */
    uint64_t max; /**< counts: the largest (0: UINT32_MAX) */
    int64_t def;  /**< durations, counts, sizes: the default */
    const char *def_text; /**< strings, lists, choices: the default (NULL: none);
                               numbers: how a default of 0 is written (NULL:
                               0 means none) */
    const char *help;     /**< one sentence, for people */
};

#define LL_CONF_NUM(type, field, kind, name, def, help)                                         \
    {name, kind, offsetof(type, field), 0, 0, def, NULL, help}
#define LL_CONF_UPTO(type, field, name, max, def, help)                                         \
    {name, LL_CONF_COUNT, offsetof(type, field), 0, max, def, NULL, help}
#define LL_CONF_STR(type, field, name, def, help)                                               \
    {name, LL_CONF_STRING, offsetof(type, field), 0, 0, 0, def, help}
#define LL_CONF_LIST(type, field, n, name, def, help)                                           \
    {name, LL_CONF_LIST, offsetof(type, field), offsetof(type, n), 0, 0, def, help}
#define LL_CONF_CHOICE(name, def, help) {name, LL_CONF_CHOICE, 0, 0, 0, 0, def, help}

/** @brief Writes @p f's default as a user would write it ("30s", "1M",
 *         "100000", "head"), or "" when it has none. */
void ll_conf_default(const struct ll_conf_field *f, char *out, size_t outsz);
/** @brief Gives each number and string field of @p base its default (a
 *         string copied with ll_strdup); lists and choices are left alone. */
void ll_conf_fill_defaults(const struct ll_conf_field *f, size_t n, void *base);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_CONFIG_H */
