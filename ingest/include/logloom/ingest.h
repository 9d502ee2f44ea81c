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

/** @brief Make @p ev a raw event for a line that is not JSON (a crash
 *         report, a stack trace a process printed): the message is the line,
 *         flagged LL_EV_RAW, no time (LL_TIME_NONE), so rules can still see
 *         it. The caller sets ev->pos and the service. */
void ll_decoder_raw_event(ll_decoder *d, const char *line, size_t len, struct ll_arena *arena,
                          struct ll_event *ev);

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
void ll_reader_close(ll_reader *r);

/* ------------------------------------------------------------------------ */
/* Input paths                                                               */

/** @brief The service a file name implies: `agent-3.log` → `agent-3`,
 *         `logs/child-4312.log.2.gz` → `child-4312`.
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
    ll_reject_fn *on_reject; /**< may be NULL */
    void *ctx;
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
const struct ll_stats *ll_replay_stats(const ll_replay *rp);
void ll_replay_close(ll_replay *rp);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_INGEST_H */
