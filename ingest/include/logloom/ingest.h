/**
 * @file ingest.h
 * @brief logloom ingest: line framing over files and gzip streams, the JSON
 *        decoder that turns a line into an event, and the replay source that
 *        merges many inputs by event time.
 *
 * Ownership: handles are created with `_new`/`_open` and released with
 * `_destroy`/`_close`, which accept NULL. Views handed out (lines, events)
 * are borrowed: they live until the next call on the same handle unless a
 * function says otherwise.
 */
#ifndef LOGLOOM_INGEST_H
#define LOGLOOM_INGEST_H

#include "logloom/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Field paths                                                               */

/** @brief Default correlation-id paths, in priority order (NULL-terminated). */
extern const char *const ll_default_id_paths[];
/** @brief Default service paths, in priority order (NULL-terminated). */
extern const char *const ll_default_service_paths[];


/* ------------------------------------------------------------------------ */
/* Decoder                                                                   */

/** @brief Computes the stateless rule bits of a decoded event (sets
 *         ev->match, allocating from @p arena). Called by the decoder for
 *         every event it produces, raw ones included. */
typedef void ll_match_fn(void *ctx, struct ll_event *ev, struct ll_arena *arena);

/** @brief What the decoder extracts. NULL lists mean the defaults. */
struct ll_decode_conf {
    const char *const *id_paths; /**< correlation id, first match wins */
    size_t n_id_paths;
    const char *const *service_paths; /**< service name, first match wins */
    size_t n_service_paths;
    const char *const *extra_paths; /**< further paths, delivered in ev->extra in order */
    size_t n_extra_paths;
    ll_match_fn *match; /**< may be NULL */
    void *match_ctx;
};

typedef struct ll_decoder ll_decoder;

/** @brief Compile the field paths of @p conf into a decoder.
 *  @returns the decoder, or NULL with the reason in @p errstr when a path is
 *           malformed. Free with ll_decoder_destroy(). */
ll_decoder *ll_decoder_new(const struct ll_decode_conf *conf, char *errstr,
                           size_t errstr_size);
void ll_decoder_destroy(ll_decoder *d);

/** @brief Decode one line (without its line ending) into @p ev.
 *
 *  Only the fields of struct ll_event are extracted; the rest of the line is
 *  parsed and skipped. Views in @p ev point into @p line or into @p arena.
 *  The caller sets ev->pos; this function sets every other field, leaving
 *  ts_ns = LL_TIME_NONE when the line has no usable time.
 *
 *  @param OUT reason why the line was rejected (valid when LL_EPARSE).
 *  @returns LL_OK, or LL_EPARSE for a rejected line; ll_decoder_error() then
 *           tells what was wrong. */
int ll_decoder_decode(ll_decoder *d, const char *line, size_t len, struct ll_arena *arena,
                      struct ll_event *ev, enum ll_reject *reason);

/** @returns a description of the last rejected line's problem (borrowed). */
const char *ll_decoder_error(const ll_decoder *d);

/** @brief What the last line decoded says of its logger: "pino", "bunyan",
 *         "winston", "ecs" or "json", the time field (and whether it is an
 *         epoch number) and the path its correlation id was under, as
 *         "pino (time: time epoch, id: traceId)". */
void ll_decoder_shape(const ll_decoder *d, char *buf, size_t size);

/** @brief Make @p ev a raw event for a line that is not JSON (a crash
 *         report, a stack trace a process printed): the message is the line,
 *         flagged LL_EV_RAW, no time (LL_TIME_NONE), so rules can still see
 *         it. The caller sets ev->pos and the service. */
void ll_decoder_raw_event(ll_decoder *d, const char *line, size_t len, struct ll_arena *arena,
                          struct ll_event *ev);

/** @brief @p ev was read from @p file by a shipper (not from the file
 *         itself): its origin, and its service (the file's, as for a tailed
 *         file) when the line names none or is raw text. Strings go to
 *         @p arena. */
void ll_event_set_origin(struct ll_event *ev, struct ll_str file, struct ll_arena *arena);

/* ------------------------------------------------------------------------ */
/* Line reader                                                               */

enum ll_line_flag {
    LL_LINE_TOO_LONG = 1u << 0,   /**< ptr/len hold a prefix; full_len the size */
    LL_LINE_NO_NEWLINE = 1u << 1, /**< the input ended without a final newline */
    LL_LINE_CRLF = 1u << 2,       /**< a CR before the LF was removed */
};

/** @brief One framed line, without its line ending. */
struct ll_line {
    const char *ptr;
    size_t len;
    uint64_t offset;   /**< of the first byte in the decompressed stream */
    uint64_t full_len; /**< bytes of the whole line (differs if TOO_LONG) */
    uint32_t flags;    /**< enum ll_line_flag */
};

typedef struct ll_reader ll_reader;

/** @brief Open @p path for line reading; gzip input (by its magic bytes) is
 *         decompressed transparently.
 *  @param max_line lines longer than this are reported as LL_LINE_TOO_LONG
 *         with a prefix, and skipped up to their newline.
 *  @param chunk bytes per read (0: 256 KiB).
 *  @returns LL_OK, or LL_EIO/LL_ENOENT with the reason in @p errstr. */
int ll_reader_open(const char *path, size_t max_line, size_t chunk, ll_reader **out,
                   char *errstr, size_t errstr_size);

/** @brief Next complete line of the data read so far.
 *  @returns LL_OK, or LL_EAGAIN when ll_reader_fill() must be called. Lines
 *           stay valid until that call. */
int ll_reader_next(ll_reader *r, struct ll_line *line);

/** @brief Read more input. Invalidates every line returned before.
 *  @returns LL_OK if more lines may be available, LL_EOF at the end, or
 *           LL_EIO / LL_ECORRUPT (truncated gzip) with ll_reader_error(). */
int ll_reader_fill(ll_reader *r);

/** @returns the last read error's description (borrowed). */
const char *ll_reader_error(const ll_reader *r);
/** @returns bytes of the underlying file consumed so far (compressed bytes
 *           for gzip), for progress reporting. */
uint64_t ll_reader_raw_pos(const ll_reader *r);
/** @returns the decompressed bytes read so far. */
uint64_t ll_reader_bytes(const ll_reader *r);
/** @brief Inflates @p r ahead on a thread of its own, if it is a gzip
 *         stream (up to 1 MiB ahead). Call before the first fill.
 *  @returns true if it does. */
bool ll_reader_prefetch(ll_reader *r);
void ll_reader_close(ll_reader *r);
/** @returns whether a line holds only spaces, tabs and CRs: sources skip
 *           such lines uncounted, framing guesses no format from them. */
bool ll_line_blank(const char *p, size_t len);

/* ------------------------------------------------------------------------ */
/* Input paths                                                               */

/** @brief The service a file name implies: `agent-3.log` → `agent-3`,
 *         `logs/child-4312.log.2.gz` → `child-4312`; the container's name
 *         for a Kubernetes container log (see ll_k8s_names_from_path()).
 *  @returns a view into @p path. */
struct ll_str ll_service_from_path(const char *path);

/** @brief A sorted, de-duplicated list of regular files. */
struct ll_input_list {
    char **paths;
    size_t n;
};

/** @brief Expand files, directories (recursively, skipping dot-files and
 *         symlink loops) and glob patterns into regular files, sorted by path
 *         so that the order of the arguments does not matter.
 *  @returns LL_OK, or LL_ENOENT/LL_EIO naming the offending path in
 *           @p errstr. @p out is freed with ll_input_list_free() either way. */
int ll_inputs_expand(const char *const *paths, size_t n, struct ll_input_list *out,
                     char *errstr, size_t errstr_size);
void ll_input_list_free(struct ll_input_list *list);

/* ------------------------------------------------------------------------ */
/* Replay source                                                             */

/** @brief Called for each rejected line (borrowed arguments). */
typedef void ll_reject_fn(void *ctx, enum ll_reject reason, const struct ll_pos *pos,
                          const struct ll_line *line, const char *detail);

struct ll_replay_conf {
    const char *const *files; /**< already expanded, see ll_inputs_expand() */
    size_t n_files;
    size_t max_line;     /**< 0: 1 MiB */
    size_t batch_events; /**< events decoded ahead per input; 0: from the read size */
    bool raw_events;     /**< lines that are not JSON are also delivered as raw events */
    const struct ll_decode_conf *decode;
    ll_reject_fn *on_reject; /**< may be NULL; called on the caller's thread */
    void *ctx;
    /** Threads that decode, the caller's included (0 or 1: the caller's
     *  only). The output does not depend on it. */
    size_t threads;
    /** With threads, one decode->match_ctx per thread (the rules' evaluation
     *  state is per thread); NULL: decode->match_ctx for all. */
    void *const *match_ctx;
};

typedef struct ll_replay ll_replay;

/** @brief Open every file of @p conf for a merged replay.
 *  @returns LL_OK, or an error naming the unreadable file in @p errstr. */
int ll_replay_open(const struct ll_replay_conf *conf, ll_replay **out, char *errstr,
                   size_t errstr_size);

/** @brief Next event in event-time order across all inputs (ties: input
 *         order, then file order). Lines without a usable time take the time
 *         of the previous event of their input (at the head of an input, the
 *         first usable time among its first 1024 lines, else the epoch) and
 *         are flagged LL_EV_TIME_INFERRED.
 *  @param OUT ev valid until the next call.
 *  @returns LL_OK or LL_EOF. Read errors of one input are reported through
 *           ll_log, counted in stats.input_errors, and end that input. */
int ll_replay_next(ll_replay *rp, const struct ll_event **ev);

/** @brief Progress in bytes of the underlying files. */
void ll_replay_progress(const ll_replay *rp, uint64_t *done, uint64_t *total);
/** @returns the counters of ingest (inputs, bytes, lines, events, rejected,
 *           time_inferred, input_errors); the rest stay 0. */
const struct ll_stats *ll_replay_stats(ll_replay *rp);
void ll_replay_close(ll_replay *rp);

/* ------------------------------------------------------------------------ */
/* Container log framing (frame.c)                                           */
/*                                                                           */
/* Files under /var/log/containers/ are written by the container runtime,   */
/* which wraps each line the application printed in a frame: docker's       */
/* json-file objects or the CRI text format of containerd and CRI-O. A       */
/* deframer, one per file, turns those physical lines back into the          */
/* application's logical lines, joining the pieces a runtime split.          */

/** @brief How the lines of one file are framed. */
enum ll_frame_format {
    LL_FRAME_AUTO,   /**< decided on the file's first non-blank line */
    LL_FRAME_PLAIN,  /**< no frame: the line is the application's line */
    LL_FRAME_DOCKER, /**< {"log":"...\\n","stream":"stdout","time":"..."} */
    LL_FRAME_CRI,    /**< <RFC 3339 time> <stdout|stderr> <P|F> <text> */
    LL_FRAME_STAMPED, /**< <RFC 3339 time> <text>: `kubectl logs --timestamps` */
};

/** @brief One logical line out of a deframer. Views stay valid until the
 *         next call on that deframer (and, for lines that needed no joining
 *         or unescaping, as long as the physical line passed in). */
struct ll_frame {
    struct ll_str line; /**< the application's line, without newline */
    int64_t ts_ns;      /**< the runtime's timestamp (of the first chunk);
                             LL_TIME_NONE for plain and mismatched lines */
    bool stderr_stream; /**< from stderr */
    unsigned chunks;    /**< physical lines joined into it (1: not split) */
    bool too_long;      /**< joining stopped at max_len: the line is cut there
                             (at a UTF-8 character boundary), the rest of its
                             chunks were dropped, and counted in chunks */
    bool mismatch;      /**< did not match the file's format: passed through
                             as plain */
    bool partial;       /**< not a complete line: held by ll_deframer_push()
                             (which returned 0), or handed out by
                             ll_deframer_flush() because the chunk that ends
                             it never came */
};

typedef struct ll_deframer ll_deframer;

/** @brief A deframer for one file.
 *  @param fmt the file's framing, or LL_FRAME_AUTO to decide on the first
 *         non-blank line (a docker object whose first key is "log", or that
 *         has "log" and "stream"; else a CRI line; else a time before a JSON
 *         object (timestamps); else plain). The decision
 *         holds for the whole file.
 *  @param max_len cap in bytes of a logical line (0: 1 MiB). Memory held is
 *         about max_len per stream plus the longest physical line.
 *  @returns the deframer; free with ll_deframer_destroy(). */
ll_deframer *ll_deframer_new(enum ll_frame_format fmt, size_t max_len);

/** @brief Feed one physical line (without its line ending).
 *
 *  A line that does not match the file's format is returned at once as plain
 *  text with `mismatch` set, never dropped; a blank line is returned as it is
 *  (neither mismatched nor deciding LL_FRAME_AUTO). Pieces of a split line
 *  are joined per stream, so interleaved stdout and stderr pieces each make
 *  their own line.
 *  @param OUT out the logical line, when one is complete; else the line
 *         held so far (flagged `partial`): its stream, so that a caller can
 *         track where each stream's held line began, its first chunk's time
 *         and the chunks held.
 *  @returns 1 when a logical line is complete, 0 when the line was a partial
 *           chunk now held. */
int ll_deframer_push(ll_deframer *d, const char *line, size_t len, struct ll_frame *out);

/** @brief Hand out a held partial line (when the file ends, or a timeout
 *         passes), the longest-held stream first; call again for the other.
 *  @param OUT out the partial line, flagged `partial`.
 *  @returns 1 with @p out set, or 0 when nothing is held. */
int ll_deframer_flush(ll_deframer *d, struct ll_frame *out);

/** @returns the file's format: what LL_FRAME_AUTO decided, or LL_FRAME_AUTO
 *           while only blank lines (or none) were pushed. */
enum ll_frame_format ll_deframer_format(const ll_deframer *d);
void ll_deframer_destroy(ll_deframer *d);

/** @returns "auto", "plain", "docker", "cri" or "timestamps" (static). */
const char *ll_frame_format_name(enum ll_frame_format f);
/** @brief The format named "auto", "plain", "docker", "cri" or "timestamps".
 *  @returns LL_OK, or LL_EINVAL for any other name. */
int ll_frame_format_parse(const char *name, enum ll_frame_format *out);

/** @brief Kubernetes names of a container log file; views into the path. */
struct ll_k8s_names {
    struct ll_str pod, namespace_, container;
};

/** @brief Read the names in a kubelet container log path: either
 *         `/var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log`
 *         or `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<N>.log`
 *         with kubelet's rotation suffixes (leading directories optional).
 *         The pod name is a DNS subdomain (may hold '-' and '.'); namespace
 *         and container are DNS labels.
 *  @param OUT out views into @p path, set only on success.
 *  @returns true when the name has that shape. */
bool ll_k8s_names_from_path(const char *path, struct ll_k8s_names *out);

/* ------------------------------------------------------------------------ */
/* Tail source                                                               */

/** @brief A file's identity and the offset to resume it at: what a
 *         checkpoint holds. The fingerprint (a hash of the file's first
 *         fp_len bytes, at most 256) tells a reused inode from the same file. */
struct ll_tail_pos {
    const char *path;   /**< where it was last seen */
    const char *source; /**< its name in positions (and so in ids): where it was first seen */
    uint64_t dev, ino;
    uint64_t fp;
    uint32_t fp_len;
    uint64_t offset;
};

struct ll_tail_conf {
    const char *const *paths;   /**< glob patterns; symlinks are followed */
    size_t n_paths;
    const char *const *exclude; /**< fnmatch patterns matched against the path */
    size_t n_exclude;
    bool start_at_tail;         /**< files seen the first time start at their end */
    enum ll_frame_format format;
    size_t max_line;            /**< 0: 1 MiB */
    int64_t rescan_ns;          /**< globs read again this often (0: 5 s); inotify too */
    int64_t partial_timeout_ns; /**< a last line without newline waits this long (0: 5 s) */
    bool raw_events;            /**< lines that are not JSON also become raw events */
    bool poll_only;             /**< no inotify (it sees nothing of writes made on another
                                     host to NFS): files are read every 50 ms */
    const struct ll_decode_conf *decode;
    const struct ll_tail_pos *resume; /**< from the checkpoints: where files resume */
    size_t n_resume;
    ll_reject_fn *on_reject;    /**< may be NULL */
    void *ctx;
    uint64_t *seq; /**< the read order counter, shared by several sources; NULL: its own */
};

/** @brief What the tail source has done. */
struct ll_tail_stats {
    uint64_t files_open;
    uint64_t files_seen;    /**< files ever opened */
    uint64_t rotations;     /**< files replaced at their path (rename) or removed */
    uint64_t truncations;   /**< files cut shorter in place (copytruncate): read again from 0 */
    uint64_t partial_lines; /**< last lines given up waiting for their newline */
    uint64_t lost_files;    /**< checkpointed files that could not be found again */
    uint64_t bytes, lines, events, raw_events, time_inferred;
    uint64_t rejected[LL_REJECT__COUNT];
};

/** @brief The fields of struct ll_tail_stats /metrics shows (summed over a
 *         process's tails). */
extern const struct ll_metric_field ll_tail_metrics[];
extern const size_t ll_tail_n_metrics;

typedef struct ll_tail ll_tail;

/** @brief Starts tailing: the globs are read and matching files opened.
 *  @returns LL_OK, or LL_EINVAL / LL_EIO with the reason in @p err. */
int ll_tail_open(const struct ll_tail_conf *conf, ll_tail **out, char *err, size_t errsz);

/** @brief The event that comes next, without taking it: of every file with
 *         a complete line, the earliest in event time (ties to the file whose
 *         name sorts first), waiting for new data at most @p timeout_ns. A
 *         file at its end holds nothing back. So a backlog over many files is
 *         read merged by event time, as replay reads it. Rotation (rename or
 *         removal: the old file is read to its end first), copytruncate (read
 *         again from 0) and new files are followed. Lines without a time take
 *         the container runtime's, else their file's previous event's, else
 *         the first time among the lines after them, else the epoch, as
 *         replay does (flagged LL_EV_TIME_INFERRED). Its seq is not given yet.
 *  @param OUT ev valid until ll_tail_take() or the next call.
 *  @returns LL_OK, or LL_EAGAIN when nothing arrived in time. */
int ll_tail_peek(ll_tail *t, const struct ll_event **ev, int64_t timeout_ns);
/** @brief Takes the event ll_tail_peek() returned (it must have returned
 *         LL_OK): gives it the next seq of the read order. @returns it,
 *         valid until the next call on @p t. */
const struct ll_event *ll_tail_take(ll_tail *t);
/** @brief ll_tail_peek() and, if it found one, ll_tail_take(). */
int ll_tail_next(ll_tail *t, const struct ll_event **ev, int64_t timeout_ns);

/** @returns the latest cut at or before @p seq at which every file has an
 *           exact offset (resuming there reads again exactly the events
 *           from it on): @p seq itself when it is past every event taken,
 *           else a boundary of the read order (every 512th seq, the same for
 *           every tail sharing the counter), lowered further while a piece
 *           of a split line held from before it is still unfinished. */
uint64_t ll_tail_cut(const ll_tail *t, uint64_t seq);
/** @brief Each file's position at cut @p seq (a value of ll_tail_cut): the
 *         offset of its first line with a seq at or after it, else where it
 *         reads on. @returns how many; the array lives until the next call. */
size_t ll_tail_positions(ll_tail *t, uint64_t seq, const struct ll_tail_pos **out);
/** @brief Lines before @p seq will never be needed again (a checkpoint at
 *         that cut is durable): closed files read to their end are dropped. */
void ll_tail_forget(ll_tail *t, uint64_t seq);
/** @returns the seq of the last event read (0 before the first). */
uint64_t ll_tail_seq(const ll_tail *t);
/** @brief Decodes from now on with @p decode (new rules read other paths
 *         and match otherwise). @returns LL_OK or LL_EINVAL with @p err. */
int ll_tail_set_decode(ll_tail *t, const struct ll_decode_conf *decode, char *err, size_t errsz);
/** @returns a descriptor that becomes readable when files change (inotify),
 *           or -1: poll it (with a timeout, for rescans and partial lines)
 *           to wait for several sources at once. */
int ll_tail_fd(const ll_tail *t);
/** @returns when (monotonic ns) the source next reads without being told
 *           to (a poll of its files, a rescan of its globs): a caller that
 *           waits on ll_tail_fd() should call ll_tail_peek() by then. */
int64_t ll_tail_deadline(const ll_tail *t);
const struct ll_tail_stats *ll_tail_stats(const ll_tail *t);
void ll_tail_close(ll_tail *t);

/* Checkpoints: one file per tailed file in a directory, written atomically
 * (temporary file, fsync, rename), mode 0600. */

/** @brief Writes @p n positions to @p dir and removes the checkpoints of
 *         files not among them. @returns LL_OK or LL_EIO with @p err. */
int ll_checkpoints_save(const char *dir, const struct ll_tail_pos *pos, size_t n, char *err,
                        size_t errsz);
/** @brief Reads every checkpoint of @p dir (none if it does not exist).
 *         Unreadable or malformed files are skipped with a log line.
 *  @returns LL_OK or LL_EIO (the directory cannot be read). Free with
 *           ll_checkpoints_free(). */
int ll_checkpoints_load(const char *dir, struct ll_tail_pos **out, size_t *n, char *err,
                        size_t errsz);
void ll_checkpoints_free(struct ll_tail_pos *pos, size_t n);
/** @brief Whether checkpoints can be written to @p dir: a directory logloom
 *         can create files in, or one it can make (nothing is left behind).
 *  @returns LL_OK, or LL_EIO with the reason in @p err. */
int ll_checkpoint_dir_check(const char *dir, char *err, size_t errsz);
/** @brief Replaces @p dir/@p name with @p len bytes of @p data the same
 *         way (the directory made if need be, and fsync'ed after).
 *         @returns LL_OK or LL_EIO with @p err. */
int ll_checkpoint_file_save(const char *dir, const char *name, const char *data, size_t len,
                            char *err, size_t errsz);
/** @brief Reads @p dir/@p name whole into @p data (NUL-terminated; the
 *         caller frees it), or NULL if there is no such file.
 *         @returns LL_OK or LL_EIO with @p err. */
int ll_checkpoint_file_load(const char *dir, const char *name, char **data, char *err,
                            size_t errsz);

/* ------------------------------------------------------------------------ */
/* Kafka source (kafka.c)                                                    */
/*                                                                           */
/* A member of a consumer group (librdkafka's high-level consumer, offsets   */
/* never committed automatically). Each assigned partition gets a slot; its  */
/* events are numbered in the shared read order like a file's, and the       */
/* offset to commit at a read order is known while it is not forgotten.      */

/** @brief Rebalance hooks, called inside ll_kafka_next(). */
struct ll_kafka_hooks {
    /** Partition @p slot (source name "topic/partition") is ours; @p meta is
     *  what the last commit left with its offset ("" if none). */
    void (*assigned)(void *ctx, int slot, const char *source, const char *meta);
    /** Partition @p slot is being taken away: make what is safe durable and
     *  ll_kafka_stage() its commit (it is sent before the partition goes),
     *  then drop its state. @p lost: another member may already own it; no
     *  commit is possible. */
    void (*revoked)(void *ctx, int slot, bool lost);
    void *ctx;
};

/** @brief The headers a Kafka message's correlation id and file name are
 *         read from unless told otherwise. */
#define LL_KAFKA_ID_HEADER "X-Request-ID"
#define LL_KAFKA_FILE_HEADER "file"

struct ll_kafka_conf {
    const char *brokers;  /**< bootstrap.servers */
    const char *group_id; /**< group.id */
    const char *const *topics; /**< names, or "^regex" to subscribe by pattern */
    size_t n_topics;
    const char *const *props; /**< "name=value": any librdkafka property */
    size_t n_props;
    bool start_latest;     /**< a partition the group never committed: from its end */
    const char *id_header; /**< header that carries the correlation id (NULL: LL_KAFKA_ID_HEADER) */
    bool key_as_id;        /**< else the message key carries it */
    /** Header naming the file a shipper read the line from (NULL: "file"):
     *  the event's origin, and its service if the line names none. */
    const char *file_header;
    /** The topic holds a correlating stage's facts and marks (the service
     *  stage of a topology): each event's correlation id is its
     *  LL_KAFKA_FACT_CORR header, a fact seen before is dropped, and marks
     *  are read into ll_kafka_facts_time(). */
    bool facts;
    size_t max_line;       /**< longer values are rejected (0: 1 MiB) */
    bool raw_events;       /**< values that are not JSON become raw events */
    const struct ll_decode_conf *decode;
    size_t threads; /**< decoding the messages taken at a time (0: 1), the caller's included */
    /** One decode->match_ctx per thread (the rules' evaluation state is per
     *  thread); NULL: decode->match_ctx for all. */
    void *const *match_ctx;
    ll_reject_fn *on_reject;
    void *ctx;
    struct ll_kafka_hooks hooks;
    uint64_t *seq; /**< read order shared with the other sources */
};

typedef struct ll_kafka ll_kafka;

/* Headers of a topology's facts topic (see ll_kafka_conf.facts). */
#define LL_KAFKA_FACT_CORR "ll-corr" /**< the correlation id the line joined */
#define LL_KAFKA_FACT_SRC "ll-src"   /**< the input partition it was read from */
#define LL_KAFKA_FACT_OFF "ll-off"   /**< its offset there */
#define LL_KAFKA_FACT_MARK "ll-mark" /**< a mark, not a fact */

struct ll_kafka_stats {
    uint64_t messages, bytes, events, raw_events;
    uint64_t rejected[LL_REJECT__COUNT];
    uint64_t commits, commit_failures, rebalances, errors;
    uint64_t partitions; /**< assigned now */
    uint64_t facts_repeated; /**< facts dropped as seen before */
    uint64_t kept; /**< partitions lost and assigned again in time, their state kept */
    uint64_t paused; /**< 1 while fetching is paused */
};

/** @brief The fields of struct ll_kafka_stats /metrics shows; a service
 *         stage's facts (facts_repeated) are left to it. */
extern const struct ll_metric_field ll_kafka_metrics[];
extern const size_t ll_kafka_n_metrics;

/** @brief Joins the group and subscribes. @returns LL_OK, or LL_EINVAL
 *         (a bad property, an invalid topic pattern) with @p err. */
int ll_kafka_open(const struct ll_kafka_conf *conf, ll_kafka **out, char *err, size_t errsz);
/** @brief The next event, waiting up to @p timeout_ns; @p slot: its
 *         partition. Rebalance hooks run inside. Messages are taken from
 *         librdkafka's queue up to 1024 at a time and decoded on the
 *         conf's threads; events come in queue order, each valid until the
 *         next call. @returns LL_OK or LL_EAGAIN. */
int ll_kafka_next(ll_kafka *k, const struct ll_event **ev, int *slot, int64_t timeout_ns);
/** @brief Sets aside the commit of partition @p slot at read order @p cut
 *         (the offset of its first event at or after it), with @p meta
 *         (may be NULL) kept beside it. @returns the offset. */
int64_t ll_kafka_stage(ll_kafka *k, int slot, uint64_t cut, const char *meta);
/** @returns the offset of @p slot's event of read order @p seq (or of the
 *           next one it reads, if beyond), -1 if forgotten. */
int64_t ll_kafka_offset(const ll_kafka *k, int slot, uint64_t seq);
/** @brief Commits every staged offset in one request (@p sync: waits). */
int ll_kafka_commit(ll_kafka *k, bool sync);
/** @brief Decodes with @p decode (and @p match_ctx, as in struct
 *         ll_kafka_conf) from now on, messages already taken included (rules
 *         reloaded). */
int ll_kafka_set_decode(ll_kafka *k, const struct ll_decode_conf *decode,
                        void *const *match_ctx, char *err, size_t errsz);
/** @brief Pauses (or resumes) fetching of every assigned partition; the
 *         group membership goes on. */
void ll_kafka_pause(ll_kafka *k, bool pause);
/** @returns how long partition @p slot has been reachable since it was
 *           assigned, in ns: its leader connected, its fetcher active, the
 *           consumer not paused (sampled once a second from librdkafka's
 *           statistics; the plain clock when statistics.interval.ms=0). */
int64_t ll_kafka_reached(const ll_kafka *k, int slot);
/** @returns the event time of partition @p slot of a topic that carries
 *           marks (a facts topic, or a topic `logloom repartition` keyed):
 *           the least of its inputs' marks once every input partition has
 *           one, else LL_TIME_NONE. An input with nothing to read counts as
 *           the least of the others' marks when it last said so. */
int64_t ll_kafka_facts_time(const ll_kafka *k, int slot);
/** @returns whether partition @p slot carried a mark since it was
 *           assigned: its time is then its marks' (ll_kafka_facts_time()). */
bool ll_kafka_marked(const ll_kafka *k, int slot);
/** @returns whether partition @p slot was lost (a generation change) and
 *           is kept a while in case it comes back: not this member's to
 *           read, mark or commit meanwhile. */
bool ll_kafka_lost(const ll_kafka *k, int slot);
/** @returns whether partition @p slot was read to its end (at the last
 *           fetch's high watermark) and is reachable now: an end seen
 *           before its leader went away says nothing of what producers
 *           wrote, or will write, since. */
bool ll_kafka_caught_up(const ll_kafka *k, int slot);
/** Where a partition's reading is, against its end. */
enum ll_kafka_end {
    LL_KAFKA_UNANSWERED = -1, /**< its leader did not answer */
    LL_KAFKA_BEHIND = 0,      /**< there is more to read */
    LL_KAFKA_AT_END = 1,      /**< everything written to it was read */
};
/** @brief Sets @p end[i] to where partition @p slots[i]'s reading is,
 *         asked of its leader now (waiting up to @p timeout_ms in all),
 *         rather than taken from the last fetch, whose ends stand still
 *         while a leader is away. */
void ll_kafka_ends(ll_kafka *k, const int *slots, int n, enum ll_kafka_end *end,
                   int timeout_ms);
/** @returns the partition count of the topics read (by the brokers'
 *           metadata, waiting up to @p timeout_ms), 0 if not known. */
int ll_kafka_topic_partitions(ll_kafka *k, int timeout_ms);
/** @returns the source name of @p slot ("topic/partition"), NULL if free. */
const char *ll_kafka_source(const ll_kafka *k, int slot);
/** @returns a descriptor that becomes readable when ll_kafka_next() has
 *           something (-1: none; then poll it often). */
int ll_kafka_fd(const ll_kafka *k);
/** @returns the number of slots (some may be free). */
int ll_kafka_slots(const ll_kafka *k);
const struct ll_kafka_stats *ll_kafka_stats(const ll_kafka *k);
/** @brief Leaves the group (revoking every partition through the hooks)
 *         and frees @p k. */
void ll_kafka_close(ll_kafka *k);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_INGEST_H */
