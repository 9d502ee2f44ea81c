/* Private to the logloom executable: delivery sinks from the configuration
 * file and from --sink. */
#ifndef LOGLOOM_CLI_SINKCONF_H
#define LOGLOOM_CLI_SINKCONF_H

#include "logloom/sinks.h"

/* The configuration file's sinks (@p cfg may be NULL), then each --sink
 * spec. Problems are printed with their places; @returns false if any.
 * Free with ll__delivery_confs_free() either way. */
bool ll__delivery_confs(const struct ll_config *cfg, const char *const *specs, size_t n_specs,
                        struct ll_delivery_conf **out, size_t *n);
void ll__delivery_confs_free(struct ll_delivery_conf *v, size_t n);

/* For `config show`: @p s as a YAML double-quoted scalar; a duration line. */
void ll__yaml_str(const char *s);
void ll__show_duration(const char *indent, const char *name, int64_t ns);

#endif
