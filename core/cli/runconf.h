/* Private to the logloom executable: the configuration of `logloom run`. */
#ifndef LOGLOOM_CLI_RUNCONF_H
#define LOGLOOM_CLI_RUNCONF_H

#include "logloom/correlate.h"
#include "logloom/ingest.h"
#include "logloom/sinks.h"

/* One source: files to tail (paths), or a Kafka consumer group (brokers). */
struct ll__source_conf {
    char **paths, **exclude;
    size_t n_paths, n_exclude;
    char *brokers, *group_id, *id_header, *file_header; /* Kafka */
    char **topics, **properties;
    size_t n_topics, n_properties;
    bool key_as_id; /* id_from: key */
    bool start_at_tail;
    bool poll_only; /* watch: poll */
    enum ll_frame_format format;
    int64_t rescan_ns, partial_timeout_ns;
};

/* topology.stage: one stage of the Kafka topology (DESIGN.md), or none. */
enum ll__stage_kind { LL__STAGE_ALONE, LL__STAGE_CORRELATE, LL__STAGE_SERVICE };

struct ll__run_conf {
    struct ll__source_conf *sources;
    size_t n_sources;
    char **id_fields, **service_fields; /* decode: NULL for the defaults */
    size_t n_id_fields, n_service_fields;
    size_t max_line;
    char *dead_letter; /* NULL: rejected lines are counted and logged only */
    size_t dead_letter_max;
    size_t decode_threads; /* Kafka messages decoded on this many threads (0: one per usable CPU) */
    struct ll_corr_conf corr;
    size_t max_events_kept, max_open;
    char **terminal;
    size_t n_terminal;
    int64_t match_hold_ns; /* windowless rules' matches held this long, in order */
    char **rules; /* none: the built-in pack */
    size_t n_rules;
    struct ll_delivery_conf *sinks;
    size_t n_sinks;
    char *metrics_listen; /* NULL: off */
    char *checkpoint_dir; /* NULL: no checkpoints */
    int64_t checkpoint_interval_ns;
    int64_t shutdown_timeout_ns;
    enum ll_level log_level;
    bool log_json;
    enum ll__stage_kind stage;
    char *facts_topic; /* topology.facts_topic: the correlating stage produces there */
};

/* Reads @p cfg into @p rc with every default; each problem is printed as
 * "file:line:column: error: reason". @returns false if there was one.
 * Free with ll__run_conf_free() either way. */
bool ll__run_conf_load(const struct ll_config *cfg, struct ll__run_conf *rc);
/* The same for @p cfg's decode and correlation sections only (how lines
 * join into workflows: what `replay --config` takes), the rest defaults. */
bool ll__run_conf_join(const struct ll_config *cfg, struct ll__run_conf *rc);
void ll__run_conf_free(struct ll__run_conf *rc);
/* Prints every section but sinks and rules as YAML, defaults filled in. */
void ll__run_conf_show(const struct ll__run_conf *rc);

#endif
