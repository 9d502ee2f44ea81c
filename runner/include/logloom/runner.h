/* The runner: the pipeline that `run`, `replay` and `repartition` share,
 * between the modules (ingest, correlate, rules, sinks) and the commands
 * (cli/). Its parts: the run configuration and its sinks, the ordered
 * stage (correlator and rule engine wired together), tombstones of what
 * was delivered across checkpoints, the dead-letter file, and the facts
 * and marks of the Kafka topology. Names are ll__ (not a stable API). */
#ifndef LOGLOOM_RUNNER_H
#define LOGLOOM_RUNNER_H

#include "logloom/core.h"
#include "logloom/correlate.h"
#include "logloom/ingest.h"
#include "logloom/rules.h"
#include "logloom/sinks.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <sys/types.h>

/* A size for a buffer or a file (ll_size_parse): 1 byte to 4 GiB. */
bool ll__parse_size(const char *s, size_t *out);

/* Decoding threads: at most this many; by default the CPUs this process
 * may use (its affinity, and a container's CPU limit), up to 8 (the
 * ordered stage is one thread: more decoders would idle). */
#define LL__MAX_THREADS 64
size_t ll__auto_threads(void);

/* ------------------------------------------------------------------------ */
/* The metrics and health endpoint (endpoint.c)                             */

/** @brief Where `logloom run` serves /metrics, /healthz and /readyz unless
 *         told otherwise: loopback only, the port registered for
 *         Prometheus exporters of this kind. */
#define LL__METRICS_LISTEN "127.0.0.1:9464"

/** @brief The metrics and health HTTP endpoint (opaque). Create with
 *         ll__endpoint_new(), start with ll__endpoint_serve(), free with
 *         ll__endpoint_destroy(). Publish and the health setters may be
 *         called from any thread, before or after serving starts. */
typedef struct ll__endpoint ll__endpoint;

/** @returns a new endpoint, not serving yet: /metrics empty, live, and not
 *           ready (reason "starting"). Never NULL. */
ll__endpoint *ll__endpoint_new(void);
/** @brief Replace the text GET /metrics answers with a copy of @p len bytes
 *         at @p text. Thread-safe; the copy is made before the lock is
 *         taken, and a scrape in progress keeps the text it started with,
 *         so no client ever sees a mix of two publications. */
void ll__endpoint_publish(ll__endpoint *m, const char *text, size_t len);
/** @brief Set what GET /readyz answers: 200 "ready\n" when @p ready, else
 *         503 with @p reason and a newline (copied; NULL gives "not ready").
 *         Thread-safe. */
void ll__endpoint_set_ready(ll__endpoint *m, bool ready, const char *reason);
/** @brief Set what GET /healthz answers: 200 "ok\n" while the process
 *         serves at all, unless called with @p live false: then 503 with
 *         @p reason and a newline (copied; NULL gives "not live").
 *         Thread-safe. */
void ll__endpoint_set_live(ll__endpoint *m, bool live, const char *reason);
/** @brief Start serving on its own thread (libmicrohttpd, internal polling;
 *         at most 32 connections, each closed after 10 s idle).
 *
 *  GET or HEAD /metrics: 200, `text/plain; version=0.0.4; charset=utf-8`,
 *  the latest published text (empty before the first publish). /healthz
 *  and /readyz as set above. Other paths: 404. Other methods: 405.
 *
 *  @param listen "host:port", "[v6]:port" or ":port". The host is an IPv4
 *         or bracketed IPv6 literal, or "localhost" (127.0.0.1); names are
 *         not resolved. The server binds exactly that address ("[::]" is
 *         IPv6 only); ":port" means every IPv4 interface. The daemon's
 *         default is LL__METRICS_LISTEN, "127.0.0.1:9464". Port 0
 *         picks a free port: ll__endpoint_port() tells which.
 *  @param OUT err a one-line reason on failure (may be NULL).
 *  @returns LL_OK; LL_EINVAL for a malformed address or when already
 *           serving; LL_EIO when the address cannot be bound (in use, not
 *           local, not permitted). */
int ll__endpoint_serve(ll__endpoint *m, const char *listen, char *err, size_t errsz);
/** @returns the port being served, or 0 when not serving. */
int ll__endpoint_port(const ll__endpoint *m);
/** @brief Stop the server if it was started (waiting for its thread; scrapes
 *         in progress are cut) and free everything. Accepts NULL. */
void ll__endpoint_destroy(ll__endpoint *m);

/* ------------------------------------------------------------------------ */
/* Run configuration: the YAML file of `run` (`replay --config` takes part) */

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
/* Prints every option of the @p n sections named (sources, decode,
 * correlation, metrics, checkpoints, log, topology, top, sinks; none: all):
 * its default and its meaning, as the tables the reader applies say
 * (Markdown: the README's tables). @returns false for an unknown name. */
bool ll__run_conf_options(FILE *out, bool markdown, char *const *sections, size_t n);
/* Prints every section but sinks and rules as YAML, defaults filled in. */
void ll__run_conf_show(const struct ll__run_conf *rc);

/* ------------------------------------------------------------------------ */
/* Delivery sinks from the configuration file and from --sink              */

/* The configuration file's sinks (@p cfg may be NULL), then each --sink
 * spec. Problems are printed with their places; @returns false if any.
 * Free with ll__delivery_confs_free() either way. */
bool ll__delivery_confs(const struct ll_config *cfg, const char *const *specs, size_t n_specs,
                        struct ll_delivery_conf **out, size_t *n);
void ll__delivery_confs_free(struct ll_delivery_conf *v, size_t n);

/* For `config show`: @p s as a YAML double-quoted scalar; a duration line. */
void ll__yaml_str(const char *s);
void ll__show_duration(const char *indent, const char *name, int64_t ns);

/* ------------------------------------------------------------------------ */
/* The ordered stage                                                        */

/* The correlator and the rule engine wired together. Decoded events go in;
 * timelines (with their alert ids), late events and alerts come out. */

struct ll__stage_out {
    void (*timeline)(void *ctx, const struct ll_timeline *tl);
    void (*late)(void *ctx, const struct ll_late *late);
    void (*alert)(void *ctx, const struct ll_alert *a);
    /* A Kafka topology's correlating stage: @p ev (its correlation id the
     * one it joined) matched steps that the service stage keeps. */
    void (*fact)(void *ctx, const struct ll_event *ev);
    /* The service stage: fact @p ev came with its time behind the
     * watermark @p wm (its absences and windows may have been decided
     * without it). */
    void (*late_fact)(void *ctx, const struct ll_event *ev, int64_t wm);
    void *ctx;
};

struct ll__stage {
    ll_correlator *corr;
    ll_rule_engine *eng; /* NULL without rules */
    struct ll__stage_out out;
    uint64_t *ids; /* scratch: a timeline's alert ids */
    size_t cap_ids;
    struct ll_stats before; /* alert counters of engines replaced by reloads */
    enum ll_rule_part part;
    int64_t lateness_ns; /* the service stage's watermark trails its input's time by this */
    int64_t wm;          /* the service stage's */
    ll_decoder *lazy;    /* the rules' lazy paths from a matched line (NULL: none) */
    struct ll_arena lazy_arena;
};

/* Builds the stage; @p rs may be NULL (no rules). @p conf is copied. */
void ll__stage_init(struct ll__stage *st, const struct ll_corr_conf *conf, const ll_ruleset *rs,
                    const struct ll__stage_out *out);
/* One stage of a Kafka topology (LL_RULES_ALL: not). The service stage's
 * events go to its rules only (their correlation ids are those the
 * correlating stage joined them to), and its watermark follows
 * ll__stage_tick() alone. Before the first event. */
void ll__stage_set_part(struct ll__stage *st, enum ll_rule_part part);
/* Not live: alerts when the watermark decides them (replay). */
#define LL__NOT_LIVE (-1)

/* Replaces the rule engine (its windows start over) with one for @p rs
 * (NULL: none). @p hold_ns: live (the daemon), alerts are written as they
 * open and grow, and windowless rules' matches are held this long (see
 * ll_rule_engine_set_live()); LL__NOT_LIVE: they wait for the watermark. */
void ll__stage_set_rules(struct ll__stage *st, const ll_ruleset *rs, int64_t hold_ns);
/* The read order of the oldest event the stage still holds (UINT64_MAX:
 * none). */
uint64_t ll__stage_oldest_seq(const struct ll__stage *st);
void ll__stage_push(struct ll__stage *st, const struct ll_event *ev);
/* Live sources are quiet: event time has reached @p now anyway. */
void ll__stage_tick(struct ll__stage *st, int64_t now);
/* Live: the clock reads @p clock (monotonic ns): held matches go on, grown
 * alerts are written (ll_rule_engine_release()). */
void ll__stage_release(struct ll__stage *st, int64_t clock);
/* Live: when ll__stage_release() next has work (INT64_MAX: none). */
int64_t ll__stage_next_release(const struct ll__stage *st);
/* The input ended: everything open closes. */
void ll__stage_flush(struct ll__stage *st);
void ll__stage_stats(const struct ll__stage *st, struct ll_stats *out);
void ll__stage_destroy(struct ll__stage *st);

/* Whether @p msg ends its workflow: it equals one of the @p n terminal
 * messages, or starts with one written "TEXT*" (--terminal,
 * correlation.terminal). */
bool ll__terminal_match(const char *const *terminal, size_t n, struct ll_str msg);

/* Rule files and directories (none, or "builtin" among them: the built-in
 * pack too); problems into @p diags. @returns NULL if there were errors. */
ll_ruleset *ll__load_rules(const char *const *rules, size_t n_rules, struct ll_diags *diags);

/* ------------------------------------------------------------------------ */
/* Tombstones: what was delivered, across checkpoints                       */

/* What the daemon delivered, remembered for as long as a checkpoint could
 * make it be read again.
 *
 * A checkpoint is cut at the oldest event that open state still needs. A
 * workflow or an alert that closed (and was delivered) can straddle that
 * cut: some of its lines before it, some after. After a restart, those
 * after it are read again and would make a second, partial timeline or
 * alert with another id. So the checkpoint keeps a tombstone of each item
 * that straddles it (kind, rule, correlation id, service, last event
 * time), and after a restart an item that began in the lines read again
 * and matches a tombstone is the remains of one already delivered: it is
 * not delivered again. */

struct ll__closed_item;

struct ll__closed {
    struct ll__closed_item *v; /* delivered, in delivery order */
    size_t n, cap;
    struct ll__closed_item *dead; /* tombstones loaded at start, sorted by hash */
    size_t n_dead;
    uint64_t replay_end; /* seq by which the lines read again were read (UINT64_MAX: not yet) */
    uint64_t suppressed; /* items not delivered again */
};

void ll__closed_init(struct ll__closed *c);
void ll__closed_free(struct ll__closed *c);

/* A timeline or alert was delivered. */
void ll__closed_timeline(struct ll__closed *c, const struct ll_timeline *tl);
void ll__closed_alert(struct ll__closed *c, const struct ll_alert *a);

/* True if this item is the remains of one delivered before a restart. */
bool ll__closed_seen_timeline(struct ll__closed *c, const struct ll_timeline *tl);
bool ll__closed_seen_alert(struct ll__closed *c, const struct ll_alert *a);

/* An alert raised again on the remains of a timeline delivered before the
 * restart belongs to that timeline: @returns its id (0: none such). */
uint64_t ll__closed_timeline_id(const struct ll__closed *c, const struct ll_alert *a);

/* The lines read again after the restart have all been read by @p seq. */
void ll__closed_replayed(struct ll__closed *c, uint64_t seq);

/* Renders the tombstones a checkpoint at @p cut needs (and those the one
 * at @p prev needs) as a JSON object into @p b, with "through": @p through
 * when not negative (the offset up to which they may be read again). With
 * @p limit (0: none) bytes at most: @returns @p cut, or a cut moved back so
 * that those left out are not needed. */
uint64_t ll__closed_render(struct ll__closed *c, uint64_t prev, uint64_t cut, int64_t through,
                           size_t limit, struct ll_buf *b);
/* @returns the read order of the last event of an item straddling @p cut
 * (0: none does). */
uint64_t ll__closed_last(const struct ll__closed *c, uint64_t cut);
/* Adds the tombstones of a rendered object (a damaged one is logged with
 * @p where and ignored). @returns its "through" (-1: none). */
int64_t ll__closed_parse(struct ll__closed *c, const char *text, const char *where);
/* Writes the tombstones a checkpoint at @p cut needs, and those the one at
 * @p prev (still on disk until the new one replaces it) needs, to
 * @p dir/closed.json. @returns LL_OK or LL_EIO with @p err. */
int ll__closed_save(struct ll__closed *c, const char *dir, uint64_t prev, uint64_t cut,
                    char *err, size_t errsz);
/* The checkpoint at @p cut is on disk: forgets what it cannot need. */
void ll__closed_forget(struct ll__closed *c, uint64_t cut);
/* Reads the tombstones of @p dir; a damaged file is logged and ignored. */
int ll__closed_load(struct ll__closed *c, const char *dir, char *err, size_t errsz);

/* ------------------------------------------------------------------------ */
/* Dead letters                                                             */

/* The dead-letter file, where rejected lines go with the reason and their
 * place, one JSON object per line:
 * {"reason","source","offset","detail","line"} ("line_base64" for a line
 * that is not UTF-8; "truncated" and "length" for an over-long one).
 *
 * Records are appended with write(2). With a cap, a record that would take
 * the file past it first renames the file to PATH.1 (replacing the one
 * before) and starts a new one: at most twice the cap is kept, the newest
 * records (a record bigger than the cap gets a file of its own). A full
 * disk does not stop the caller: a record written only in part is cut back
 * off (the file holds whole lines only), when records start and stop being
 * lost is logged, naming the file, and the lost ones are counted.
 *
 * A line read again (after a restart, behind the checkpoint; a replay run
 * again) makes the same record: one that the end of the file (the cap, or
 * DEDUPE_BYTES) holds already when it is opened is not written again. */

struct ll__dead_letter {
    const char *path;      /* NULL: no file */
    const char *component; /* names the caller in log lines */
    uint64_t max_bytes;    /* the cap; 0: none */
    int fd;
    off_t size;            /* after the last whole record */
    struct ll_buf rec;
    struct ll_lineset seen; /* the records the file ended with when opened */
    uint64_t written, repeated;
    uint64_t lost, failing; /* not written: in all, and since the last that was */
};

/* Opens (creates, mode 0600) @p path for appending, capped at @p max_bytes
 * (0: no cap); on failure, errno is set and the result is false. @p path
 * and @p component are kept, not copied. */
/* Whether @p path can be opened as the dead-letter file (written to, or
 * made), without making it. @returns false with the reason in @p err. */
bool ll__dead_letter_check(const char *path, char *err, size_t errsz);
bool ll__dead_letter_open(struct ll__dead_letter *dl, const char *path, uint64_t max_bytes,
                          const char *component);
/* Appends the record of one rejected line (an ll_reject_fn's arguments). */
void ll__dead_letter_write(struct ll__dead_letter *dl, enum ll_reject reason,
                           const struct ll_pos *pos, const struct ll_line *line,
                           const char *detail);
void ll__dead_letter_close(struct ll__dead_letter *dl);

/* ------------------------------------------------------------------------ */
/* Facts and marks: the Kafka topology between stages                       */

/* What the correlating stage of a Kafka topology (DESIGN.md) sends the
 * service stage through the facts topic.
 *
 * A fact is a line that matched a step the service stage keeps
 * (ll_rule_engine_set_part()): its bytes as the value, keyed by its service
 * so that a service's facts meet in one partition, with headers naming the
 * correlation id it joined ("ll-corr"), where it was read ("ll-src",
 * "ll-off": the service stage drops a fact it has seen, as a partition
 * read again after a rebalance sends it twice) and the file it came from.
 *
 * A mark tells every facts partition how far each input partition of this
 * member has got in event time ("ll-mark" header; the value lists
 * "SOURCE TIME" lines, TIME "-" for an input with nothing to read, after
 * the input topics' partition count). The service stage's watermark is the
 * least of its inputs' marks, less the allowed lateness, once every input
 * partition has said where it is: a fact can then never be late there
 * unless it was late in its own partition. A fact is produced to the
 * partition its key hashes to, chosen here, so that it is ahead of every
 * mark sent to that partition after it.
 *
 * `logloom repartition` sends its lines, and marks, into the keyed topic
 * the same way: a correlating stage's partition that carries marks takes
 * its time from them, not from the clock, so that lines a repartition
 * holds back (a broker away) are not taken for quiet. */

#define LL__FACT_CORR "ll-corr"
#define LL__FACT_SRC "ll-src"
#define LL__FACT_OFF "ll-off"
#define LL__FACT_MARK "ll-mark"
#define LL__MARK_EVERY_NS (100 * LL_NS_PER_MS) /* marks: sent this often if they moved */
#define LL__MARK_ANYWAY_NS (1 * LL_NS_PER_SEC) /* and though nothing moved */

typedef struct ll__facts ll__facts;

/* The producer of facts and marks into @p topic. */
ll__facts *ll__facts_open(const char *brokers, char *const *props, size_t n_props,
                          const char *topic, const char *file_header, char *err, size_t errsz);
/* Sends @p line keyed by @p key, with the headers @p h (taken), at time
 * @p ts_ns, to the partition its key hashes to (ahead of every mark sent
 * there after it). @returns false if it could not be queued. */
bool ll__facts_line(ll__facts *f, struct ll_str key, struct ll_str line, int64_t ts_ns,
                    rd_kafka_headers_t *h);
/* Sends @p ev (its corr_id: the id it joined) as a fact. */
void ll__facts_send(ll__facts *f, const struct ll_event *ev);
/* Sends a mark to every facts partition: input partition @p sources[i] is
 * at event time @p times[i] (LL_TIME_NONE: nothing to read), of
 * @p n_inputs input partitions in all. */
void ll__facts_mark(ll__facts *f, const char *const *sources, const int64_t *times, size_t n,
                    int n_inputs);
/* Waits (up to @p timeout_ms) until the brokers acknowledged everything
 * sent. @returns false if something was not, or ever failed (the idempotent
 * producer retries for message.timeout.ms first): what was read since the
 * last good flush must not be committed, and after a failure nothing more
 * (the process stops, to read it again). */
bool ll__facts_flush(ll__facts *f, int timeout_ms);
/* Facts and marks sent, and deliveries that failed. */
void ll__facts_counts(const ll__facts *f, uint64_t *facts, uint64_t *marks, uint64_t *failed);
void ll__facts_close(ll__facts *f);

#endif
