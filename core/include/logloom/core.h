/**
 * @file core.h
 * @brief logloom core: errors, memory, strings, hashing, time, timers,
 *        logging and metrics text; with records.h, the records (event,
 *        timeline, alert, stats) that every other module exchanges, and
 *        config.h, the configuration file as read.
 *
 * Ownership: a `struct ll_str` is always a borrowed view; whoever hands one
 * out states how long it lives. Functions that allocate say so, and the
 * caller frees with the matching `_free`/`_destroy`. Allocation never fails
 * from the caller's point of view: ll_malloc() and friends abort with a
 * message when memory is exhausted, and memory is bounded by configured caps
 * instead of NULL checks.
 */
#ifndef LOGLOOM_CORE_H
#define LOGLOOM_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/** @brief One error enum for the whole project: 0 is success, errors < 0. */
enum ll_err {
    LL_OK = 0,
    LL_EAGAIN = -1,   /**< nothing available now; try again later */
    LL_EOF = -2,      /**< end of input */
    LL_EINVAL = -3,   /**< invalid argument or configuration */
    LL_EIO = -4,      /**< read or write failed (errno is kept by the caller) */
    LL_ENOENT = -5,   /**< no such file, field or key */
    LL_EPARSE = -6,   /**< malformed input */
    LL_ETOOLONG = -7, /**< a configured size cap was exceeded */
    LL_ECORRUPT = -8, /**< a compressed stream is damaged or truncated */
};

/** @returns a static, human-readable description of @p err. */
const char *ll_err_str(int err);

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */

/** @brief malloc() that aborts with a message instead of returning NULL. */
void *ll_malloc(size_t size);
/** @brief calloc() that aborts on exhaustion or multiplication overflow. */
void *ll_calloc(size_t n, size_t size);
/** @brief realloc() that aborts on exhaustion. */
void *ll_realloc(void *ptr, size_t size);
/** @brief reallocarray(): aborts on exhaustion or overflow of n * size. */
void *ll_reallocarray(void *ptr, size_t n, size_t size);
/** @brief Room for one more element in array @p v of @p n in use and
 *         capacity @p cap (lvalues): the capacity doubles, from @p first. */
#define LL_GROW(v, n, cap, first)                                                            \
    do {                                                                                      \
        if ((n) >= (cap)) {                                                                   \
            (cap) = (cap) ? 2 * (cap) : (first);                                              \
            (v) = ll_reallocarray((v), (cap), sizeof *(v));                                   \
        }                                                                                     \
    } while (0)
/* LL_HEAP(name, T, C, before, placed) writes a binary min-heap of T kept in
 * an array, the first by before(ctx, a, b) (a strict order) at [0], once
 * for every heap in the tree. It defines, for a context C ctx:
 *   name_up(ctx, v, i)                the entry at i moved up where it belongs
 *   name_down(ctx, v, n, i)           moved down; @returns where it went
 *   name_push(ctx, &v, &n, &cap, x)   x added (v grows)
 *   name_pop(ctx, v, &n)              the first, taken out
 *   name_remove(ctx, v, &n, i)        the entry at i, taken out
 *   name_heapify(ctx, v, n)           any array made a heap
 * placed(ctx, x, i) runs as x lands at index i (an index kept in the entry,
 * for name_remove() and for fixing it after its key changed);
 * LL_HEAP_UNPLACED when none is kept. */
#define LL_HEAP_UNPLACED(ctx, x, i) ((void)0)
#define LL_HEAP(name, T, C, before, placed)                                                   \
    __attribute__((unused)) static inline void name##_up(C ctx, T *v, size_t i)               \
    {                                                                                         \
        T x = v[i];                                                                           \
        for (; i && before(ctx, x, v[(i - 1) / 2]); i = (i - 1) / 2) {                        \
            v[i] = v[(i - 1) / 2];                                                            \
            placed(ctx, v[i], i);                                                             \
        }                                                                                     \
        v[i] = x;                                                                             \
        placed(ctx, x, i);                                                                    \
    }                                                                                         \
    __attribute__((unused)) static inline size_t name##_down(C ctx, T *v, size_t n, size_t i) \
    {                                                                                         \
        T x = v[i];                                                                           \
        for (size_t l; (l = 2 * i + 1) < n;) {                                                \
            size_t m = l + 1 < n && before(ctx, v[l + 1], v[l]) ? l + 1 : l;                 \
            if (!before(ctx, v[m], x))                                                        \
                break;                                                                        \
            v[i] = v[m];                                                                      \
            placed(ctx, v[i], i);                                                             \
            i = m;                                                                            \
        }                                                                                     \
        v[i] = x;                                                                             \
        placed(ctx, x, i);                                                                    \
        return i;                                                                             \
    }                                                                                         \
    __attribute__((unused)) static inline void name##_push(C ctx, T **v, size_t *n,           \
                                                           size_t *cap, T x)                  \
    {                                                                                         \
        LL_GROW(*v, *n, *cap, 16);                                                            \
        (*v)[*n] = x;                                                                         \
        name##_up(ctx, *v, (*n)++);                                                           \
    }                                                                                         \
    __attribute__((unused)) static inline void name##_remove(C ctx, T *v, size_t *n, size_t i) \
    {                                                                                         \
        if (i == --*n)                                                                        \
            return;                                                                           \
        v[i] = v[*n];                                                                         \
        name##_up(ctx, v, name##_down(ctx, v, *n, i));                                        \
    }                                                                                         \
    __attribute__((unused)) static inline T name##_pop(C ctx, T *v, size_t *n)                \
    {                                                                                         \
        T top = v[0];                                                                         \
        if (--*n) { /* the last entry goes down from the top: never up */                      \
            v[0] = v[*n];                                                                     \
            name##_down(ctx, v, *n, 0);                                                       \
        }                                                                                     \
        return top;                                                                           \
    }                                                                                         \
    __attribute__((unused)) static inline void name##_heapify(C ctx, T *v, size_t n)          \
    {                                                                                         \
        for (size_t i = n / 2; i-- > 0;)                                                      \
            name##_down(ctx, v, n, i);                                                        \
    }
/** @returns a NUL-terminated copy of @p len bytes at @p s; free with ll_free. */
char *ll_strndup(const char *s, size_t len);
/** @returns a copy of the C string @p s; free with ll_free. */
char *ll_strdup(const char *s);
/** @brief free(); accepts NULL. */
void ll_free(void *ptr);

/* ------------------------------------------------------------------------ */
/* Strings                                                                   */

/** @brief A borrowed byte view; never assumed to be NUL-terminated. */
struct ll_str {
    const char *ptr;
    size_t len;
};

#define LL_STR(lit) ((struct ll_str){(lit), sizeof(lit) - 1})
#define LL_STR_NULL ((struct ll_str){NULL, 0})

/** @returns a view of the C string @p s (NULL gives an empty view). */
struct ll_str ll_str_c(const char *s);
/** @returns true when the @p n bytes at @p a and @p b are the same.
 *  @remark Inline, by whole words that may overlap, with no loop over bytes
 *          and no call: for the short keys and ids of hot paths. */
static inline bool ll_mem_eq(const void *a, const void *b, size_t n)
{
    const char *p = a, *q = b;
    uint64_t x, y;
    uint32_t u, v;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, p + i, 8);
            memcpy(&y, q + i, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, p + n - 8, 8);
        memcpy(&y, q + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        memcpy(&u, p, 4);
        memcpy(&v, q, 4);
        if (u != v)
            return false;
        memcpy(&u, p + n - 4, 4);
        memcpy(&v, q + n - 4, 4);
        return u == v;
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] != q[i])
            return false;
    return true;
}
/** @returns true when both views hold the same bytes. */
bool ll_str_eq(struct ll_str a, struct ll_str b);
/** @returns true when the views are equal ignoring ASCII case. */
bool ll_str_eq_nocase(struct ll_str a, struct ll_str b);
/** @returns true when @p s holds well-formed UTF-8 (no overlongs, no
 *           surrogates, nothing above U+10FFFF). */
bool ll_utf8_valid(const char *s, size_t len);
/** @returns the length of the well-formed UTF-8 sequence at @p s (at most
 *           @p n bytes, n > 0), or 0 if the bytes there are not one. */
size_t ll_utf8_seq_len(const char *s, size_t n);
/** @returns the name in @p names closest to @p got (edit distance, ASCII
 *           case ignored), or NULL if none is close: for "did you mean". */
const char *ll_closest(struct ll_str got, const char *const *names, size_t n);

/** @brief Owned growable byte buffer. Mutators take the buffer by pointer so
 *         callers never hold a stale data pointer across a growth. */
struct ll_buf {
    char *data; /**< NUL-terminated after every mutator; may be NULL if cap 0 */
    size_t len;
    size_t cap;
};

/** @brief Make room for @p extra more bytes (plus the terminator). */
void ll_buf_reserve(struct ll_buf *b, size_t extra);
void ll_buf_append(struct ll_buf *b, const void *p, size_t len);
void ll_buf_puts(struct ll_buf *b, const char *s);
void ll_buf_putc(struct ll_buf *b, char c);
/** @brief CPUs this process may use: its affinity mask, lowered by a CPU
 *         quota (a container's CPU limit, rounded up) on its cgroup or an
 *         ancestor, v2 or v1. @p proc_cgroup ("/proc/self/cgroup") and
 *         @p cgroup_root ("/sys/fs/cgroup") are parameters for tests.
 *  @returns at least 1. */
size_t ll_cpus_usable(const char *proc_cgroup, const char *cgroup_root);
/** @brief Write @p v in decimal to @p out (not terminated).
 *  @returns the length, at most 20. */
size_t ll_fmt_i64(int64_t v, char out[20]);
/** @brief Append @p v in decimal, without printf (hot paths). */
void ll_buf_i64(struct ll_buf *b, int64_t v);
void ll_buf_u64(struct ll_buf *b, uint64_t v);
/** @brief Append printf-formatted text. */
void ll_buf_printf(struct ll_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** @brief Forget the contents, keep the allocation. */
void ll_buf_reset(struct ll_buf *b);
/** @brief Release the allocation; the buffer is empty and reusable after. */
void ll_buf_free(struct ll_buf *b);
/** @brief Append @p s as a quoted JSON string. Control characters are
 *         escaped; bytes that are not valid UTF-8 become U+FFFD. */
void ll_buf_json_str(struct ll_buf *b, const char *s, size_t len);
/** @brief Append @p s as ll_buf_json_str() does, or `null` when empty. */
void ll_buf_json_opt(struct ll_buf *b, struct ll_str s);
/** @brief Append untrusted text for a terminal: like ll_buf_json_str()
 *         without quotes, and quotes and backslashes left as they are. */
void ll_buf_text(struct ll_buf *b, const char *s, size_t len);
/** @brief Append base64 (RFC 4648, padded) of @p len bytes. */
void ll_buf_base64(struct ll_buf *b, const void *p, size_t len);
/** @brief Write the whole buffer to @p fp. @returns LL_OK or LL_EIO. */
int ll_buf_write(const struct ll_buf *b, FILE *fp);
/** @brief write(2) all @p len bytes to @p fd, again after EINTR and after
 *         short writes (a full disk, a file size limit).
 *  @returns 0, or the errno of the write that failed: the one after a short
 *           write says why (EIO if a write took nothing and set none). */
int ll_write_all(int fd, const void *data, size_t len);
/** @brief Cuts the last component off @p path in place, leaving the
 *         directory it is in: "a/b" becomes "a", "/a" "/", and "a" ".". */
void ll_path_cut_last(char *path, size_t size);
/** @brief mkdir -p: @p dir and every missing directory above it, with
 *         @p mode. @returns 0, or the errno that stopped it (ENOTDIR where a
 *         file stands in the way). */
int ll_dirs_make(const char *dir, unsigned mode);
/** @brief Whether @p dir exists as a directory this process can write in,
 *         or could be made by ll_dirs_make(): the nearest existing path at
 *         or above it is a directory it can write in. Nothing is made.
 *  @returns LL_OK, or LL_EIO with the reason in @p err. */
int ll_dir_makeable(const char *dir, char *err, size_t errsz);

/* ------------------------------------------------------------------------ */
/* Arena                                                                     */

/** @brief Bump allocator for data that dies together (a batch, a timeline).
 *         Caller-allocated; zero-initialise or use ll_arena_init(). */
struct ll_arena {
    struct ll_arena_chunk *head; /* private */
    size_t first_size;           /* private: size of the first chunk */
    size_t used_total;           /* private: bytes handed out */
};

/** @brief Prepare an arena whose first chunk holds @p first_size bytes. */
void ll_arena_init(struct ll_arena *a, size_t first_size);
/** @returns @p size bytes aligned to 8, valid until reset or free. */
void *ll_arena_alloc(struct ll_arena *a, size_t size);
/** @returns a copy of @p s inside the arena (not NUL-terminated). */
struct ll_str ll_arena_dup(struct ll_arena *a, struct ll_str s);
/** @brief Release everything but the largest chunk, which is kept for reuse. */
void ll_arena_reset(struct ll_arena *a);
/** @brief Release all memory. */
void ll_arena_free(struct ll_arena *a);
/** @returns the bytes the arena holds from the allocator. */
size_t ll_arena_footprint(const struct ll_arena *a);

/** @brief Pool of variable-size records allocated in order and released in
 *         any order: chunks are freed once every record in them is released,
 *         so records that live about as long as each other cost no allocation
 *         each. Caller-allocated; zero-initialise. */
struct ll_pool {
    struct ll_pool_chunk *head, *tail, *spare; /* private */
    size_t live;                               /* records not yet released */
};

/** @returns @p size bytes, 8-aligned, valid until released. */
void *ll_pool_alloc(struct ll_pool *p, size_t size);
/** @brief Release a record of @p p. */
void ll_pool_release(struct ll_pool *p, void *rec);
/** @brief Release all memory, live records included. */
void ll_pool_free(struct ll_pool *p);

/** @brief Blocks in power-of-two size classes, kept on free lists when
 *         given back: objects that grow (a timeline's events and strings)
 *         move between classes without calling malloc once the lists hold
 *         what the open objects need. Up to @ref LL_BLOCKS_KEEP bytes per
 *         class wait on a list; more go back to malloc. Larger blocks than
 *         the top class are plain allocations. Zero-initialise. */
#define LL_BLOCKS_MIN 32
#define LL_BLOCKS_CLASSES 12 /* 32 bytes .. 64 KiB */
#define LL_BLOCKS_KEEP ((size_t)8 << 20)

struct ll_blocks {
    void *free[LL_BLOCKS_CLASSES];    /* private */
    size_t n_free[LL_BLOCKS_CLASSES]; /* private */
};

/** @returns a block of at least @p size bytes; its size in @p cap, which
 *           ll_blocks_put() must be given back. */
void *ll_blocks_get(struct ll_blocks *b, size_t size, size_t *cap);
/** @brief Give back @p p (NULL: nothing); @p size is its cap, or any size
 *         that rounds up to the same class (more than half of it). */
void ll_blocks_put(struct ll_blocks *b, void *p, size_t size);
/** @brief Move @p p (@p *cap bytes, @p used of them in use) to a block of at
 *         least @p size bytes; updates @p *cap. */
void *ll_blocks_grow(struct ll_blocks *b, void *p, size_t used, size_t size, size_t *cap);
/** @brief Free the blocks on the lists. */
void ll_blocks_free(struct ll_blocks *b);

/* ------------------------------------------------------------------------ */
/* Field paths                                                               */

#define LL_PATH_MAX_PARTS 16

/** @brief Split a field path such as `err.code`, `req.headers["x-request-id"]`
 *         or `["log.level"]` into its keys.
 *  @param scratch at least strlen(path) + 1 bytes; @p parts point into it.
 *  @param OUT parts, n the keys (LL_PATH_MAX_PARTS at most).
 *  @returns LL_OK, or LL_EINVAL with the reason in @p errstr. */
int ll_field_path_parse(const char *path, char *scratch, struct ll_str *parts, size_t *n,
                        char *errstr, size_t errstr_size);
/** @brief Check the syntax of a field path (see ll_field_path_parse()). */
int ll_field_path_check(const char *path, char *errstr, size_t errstr_size);

/* ------------------------------------------------------------------------ */
/* Line sets: the lines a file ends with                                     */

/** @brief A set of lines, as 64-bit hashes: which records an append-only
 *         file holds already, so that one made again is not appended twice.
 *         It holds the lines of the file's last window bytes at least (two
 *         windows at most): those read when it was loaded, then those added
 *         as they are appended. */
struct ll_lineset {
    struct ll__lineset_gen {
        uint64_t *slots; /* open addressing; 0: empty */
        size_t n, n_slots;
    } gen[2];            /* the current window's lines, the last one's */
    uint64_t bytes, window; /* in gen[0]; 0: nothing is kept */
};

/** @brief Keeps the lines of windows of @p bytes, and adds the whole lines in
 *         the last @p bytes of the regular file @p path (one that window cuts
 *         is left out). A file that is missing, not regular or unreadable
 *         adds nothing. */
void ll_lineset_load(struct ll_lineset *s, const char *path, uint64_t bytes);
/** @brief Adds the line @p p of @p n bytes (no newline), as appended to the
 *         file. */
void ll_lineset_add(struct ll_lineset *s, const char *p, size_t n);
/** @returns whether the set holds the line @p p of @p n bytes. */
bool ll_lineset_has(const struct ll_lineset *s, const char *p, size_t n);
void ll_lineset_free(struct ll_lineset *s);

/* ------------------------------------------------------------------------ */
/* Id map                                                                    */

/** @brief Hash map of records that carry their own key: open addressing,
 *         linear probing, the hash stored beside the pointer so probing never
 *         touches the records, deletion by backward shift. The load stays at
 *         most one half. Caller-allocated; call ll_idmap_init() first. */

struct ll_idslot {
    uint64_t hash;
    void *p;
};

/* Returns the key of a record stored in the map. */
typedef struct ll_str ll_idmap_key_fn(const void *p);

struct ll_idmap {
    struct ll_idslot *slots;
    size_t n_slots; /* a power of two */
    size_t n;
    ll_idmap_key_fn *key;
};

void ll_idmap_init(struct ll_idmap *m, size_t n_slots, ll_idmap_key_fn *key);
void ll_idmap_free(struct ll_idmap *m);
/* The record with this key, or NULL. */
void *ll_idmap_get(const struct ll_idmap *m, uint64_t hash, struct ll_str key);
/* Asks the cache for the slot a lookup of @p hash starts at: a lookup soon
 * after finds it there, its miss overlapped with other work. */
static inline void ll_idmap_prefetch(const struct ll_idmap *m, uint64_t hash)
{
    __builtin_prefetch(&m->slots[hash & (m->n_slots - 1)]);
}
/* Adds a record whose key is not in the map yet. */
void ll_idmap_put(struct ll_idmap *m, uint64_t hash, void *p);
/* Points the slot of @p old (same key) at @p p instead. */
void ll_idmap_replace(struct ll_idmap *m, uint64_t hash, const void *old, void *p);
/* Removes the record @p p (by identity). */
void ll_idmap_del(struct ll_idmap *m, uint64_t hash, const void *p);
/* Bytes the table itself holds. */
size_t ll_idmap_footprint(const struct ll_idmap *m);

/* ------------------------------------------------------------------------ */
/* Hashing                                                                   */

/** @returns a 64-bit hash of @p len bytes; stable across runs and machines
 *           (used for record ids, so it must never change). */
uint64_t ll_hash64(const void *p, size_t len, uint64_t seed);

/** @returns a 64-bit hash of @p len bytes keyed by a secret drawn at random
 *           for each process: for hash tables whose keys come from logs, so
 *           that nobody can send keys that collide. Never for anything
 *           written out or compared between processes (ll_hash64 is). */
uint64_t ll_hash_keyed(const void *p, size_t len);

/** @returns the stable hash of a log line's bytes: what names an event in
 *           record ids, wherever the line was read from. */
uint64_t ll_line_hash(struct ll_str line);

/** @returns @p h extended by an event at @p ts whose line hashes to
 *           @p line_hash: the part of a record id its first event gives. */
uint64_t ll_id_add_event(uint64_t h, int64_t ts, uint64_t line_hash);

/* ------------------------------------------------------------------------ */
/* Time                                                                      */

#define LL_NS_PER_SEC INT64_C(1000000000)
#define LL_NS_PER_MS INT64_C(1000000)
/** Event times are nanoseconds since the Unix epoch, UTC. */
#define LL_TIME_NONE INT64_MIN

/** @brief @p t + @p d held at the ends of the range instead of overflowing:
 *         event times come from logs and durations from users, and either
 *         may sit at the edge of int64 (1677 or 2262, a gap of 290 years).
 *         Never gives LL_TIME_NONE. */
static inline int64_t ll_time_add(int64_t t, int64_t d)
{
    int64_t r;
    if (__builtin_add_overflow(t, d, &r))
        return d > 0 ? INT64_MAX : INT64_MIN + 1;
    return r == LL_TIME_NONE ? INT64_MIN + 1 : r;
}

/** @brief @p t - @p d, held like ll_time_add(); also the distance between
 *         two times, which may not fit either. */
static inline int64_t ll_time_sub(int64_t t, int64_t d)
{
    int64_t r;
    if (__builtin_sub_overflow(t, d, &r))
        return d < 0 ? INT64_MAX : INT64_MIN + 1;
    return r == LL_TIME_NONE ? INT64_MIN + 1 : r;
}

/** @brief Parse an RFC 3339 / ISO 8601 date-time ("2026-11-27T21:24:27.5Z",
 *         "2026-11-27 21:24:27,123+01:00", no zone means UTC) or a decimal
 *         epoch number in a string.
 *  @param OUT ns nanoseconds since the epoch.
 *  @returns LL_OK, or LL_EPARSE when malformed or outside the years
 *           1677..2262 that 64-bit nanoseconds hold. */
int ll_time_parse(const char *s, size_t len, int64_t *ns);
/** @brief Parse a JSON number as an epoch timestamp. The unit follows the
 *         magnitude: seconds below 1e11, milliseconds below 1e14,
 *         microseconds below 1e17, else nanoseconds. Fractions and
 *         exponents are accepted; precision is kept to the nanosecond.
 *  @returns LL_OK or LL_EPARSE (negative, NaN-like or out of range). */
int ll_time_parse_epoch(const char *s, size_t len, int64_t *ns);
/** @brief Format @p ns as RFC 3339 UTC with 0, 3, 6 or 9 fraction digits
 *         (as many as needed), e.g. "2026-11-27T21:24:27.123Z".
 *  @param OUT out at least LL_TIME_BUFSZ bytes; always NUL-terminated.
 *  @returns the length written. */
size_t ll_time_format(int64_t ns, char *out);
#define LL_TIME_BUFSZ 40
/** @brief Parse a duration: "250ms", "30s", "5m", "1h", "2d", "1.5s", or a
 *         plain number of seconds. @returns LL_OK or LL_EPARSE. */
int ll_duration_parse(const char *s, int64_t *ns);
/** @brief Parse a byte count: digits, then optionally K, M or G (powers of
 *         1024, any case): "64M", "512K", "0". At most 1 TiB.
 *  @returns LL_OK or LL_EPARSE. */
int ll_size_parse(const char *s, uint64_t *bytes);
/** @brief The largest whole unit that writes @p ns exactly: "200ms", "30s",
 *         "7d" (ll_duration_parse reads it back). */
void ll_duration_format(int64_t ns, char out[32]);
/** @returns monotonic wall-clock nanoseconds (for progress and rates only;
 *           never used for event time). */
int64_t ll_clock_mono_ns(void);
/** @returns the wall clock in ns since the epoch (live sources only: event
 *           time comes from the logs). */
int64_t ll_clock_real_ns(void);

/* ------------------------------------------------------------------------ */
/* Timer wheel                                                               */

/** @brief An intrusive timer: embed it in the object it times, so arming a
 *         timer never allocates. Fields are private; zero-initialise or call
 *         ll_timer_init(). */
struct ll_timer {
    struct ll_timer *next, *prev; /* private: slot list */
    int64_t deadline;             /* private */
};

#define LL_TW_LEVELS 7
#define LL_TW_SLOTS 64

/** @brief Hierarchical timer wheel driven by a caller-supplied clock ("now"
 *         is event time for windows, so tests need no sleeping). Each level
 *         has 64 slots; level k covers 64^k ticks per slot. Caller-allocated;
 *         fields are private. */
struct ll_timerwheel {
    int64_t tick_ns;
    int64_t now; /* in ticks */
    size_t count;
    struct ll_timer due; /* armed with a deadline already passed */
    struct ll_timer slots[LL_TW_LEVELS][LL_TW_SLOTS];
};

/** @brief Called for each expired timer; the timer is already unlinked and
 *         may be re-armed or freed by the callback. */
typedef void ll_timer_fn(void *ctx, struct ll_timer *t);

void ll_timer_init(struct ll_timer *t);
/** @returns true while @p t is armed. */
bool ll_timer_armed(const struct ll_timer *t);
/** @brief Prepare @p w with the clock at @p now_ns and a tick of @p tick_ns
 *         (deadlines are rounded up to whole ticks). */
void ll_timerwheel_init(struct ll_timerwheel *w, int64_t now_ns, int64_t tick_ns);
/** @brief Arm (or re-arm) @p t to expire once the clock passes @p deadline_ns.
 *         A deadline already passed expires at the next advance. */
void ll_timerwheel_add(struct ll_timerwheel *w, struct ll_timer *t, int64_t deadline_ns);
/** @brief Disarm @p t; harmless if it is not armed. */
void ll_timerwheel_del(struct ll_timerwheel *w, struct ll_timer *t);
/** @brief Move the clock to @p now_ns (never backwards) and call @p fn for
 *         every timer whose deadline is at or before it, in no particular
 *         order. Cost: the slots the clock passes, at most 64 per level, plus
 *         the timers in them; large jumps are as cheap as small ones.
 *  @returns the number of timers expired. */
size_t ll_timerwheel_advance(struct ll_timerwheel *w, int64_t now_ns, ll_timer_fn *fn,
                             void *ctx);
/** @returns the deadline @p t was armed with. */
int64_t ll_timer_deadline(const struct ll_timer *t);
/** @returns one of the armed timers due first, or NULL if none: the oldest
 *           of the first slot that holds any, so its deadline is within that
 *           slot's width (64^level ticks) of the earliest. Never looks at
 *           timers, only at slots (at most 64 per level): fit for every
 *           eviction of a full table, however many timers are armed. */
struct ll_timer *ll_timerwheel_soonest(const struct ll_timerwheel *w);

/* ------------------------------------------------------------------------ */
/* Levels                                                                    */

enum ll_level {
    LL_LEVEL_NONE = 0, /**< the line carried no level */
    LL_LEVEL_TRACE,
    LL_LEVEL_DEBUG,
    LL_LEVEL_INFO,
    LL_LEVEL_WARN,
    LL_LEVEL_ERROR,
    LL_LEVEL_FATAL,
};

/** @brief Map a level name (pino, winston, bunyan, syslog, log4j spellings,
 *         any case) to a level. @returns LL_LEVEL_NONE when unknown. */
enum ll_level ll_level_from_name(const char *s, size_t len);
/** @brief Map a numeric level: pino/bunyan 10..60 and syslog 0..7. */
enum ll_level ll_level_from_number(int64_t n);
/** @returns "trace".."fatal", or "-" for LL_LEVEL_NONE. */
const char *ll_level_name(enum ll_level level);

/* ------------------------------------------------------------------------ */
/* Logging of logloom's own diagnostics                                     */

/** @brief Emit a diagnostic on stderr if @p level passes the threshold.
 *  @param component short tag such as "replay" or "decode". */
void ll_log_emit(enum ll_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** @brief Set the threshold (default LL_LEVEL_INFO). */
void ll_log_set_level(enum ll_level level);
/** @brief Log lines as JSON objects ({"time","level","component","msg"}). */
void ll_log_set_json(bool json);
/** @returns true if diagnostics at @p level are emitted. */
bool ll_log_enabled(enum ll_level level);

#define ll_log(level, component, ...)                                        \
    do {                                                                     \
        if (ll_log_enabled(level))                                           \
            ll_log_emit((level), (component), __VA_ARGS__);                  \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Metrics                                                                   */
/*                                                                           */
/* The core thread owns every counter. Every few hundred milliseconds it      */
/* renders them as Prometheus text (ll_prom_family(), ll_prom_sample()); the  */
/* runner's endpoint serves the latest text.                                  */

/** @brief Append a metric family header to @p b:
 *         "# HELP name help\n# TYPE name type\n".
 *  @param name a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, asserted).
 *  @param type "counter" or "gauge".
 *  @param help one line; a backslash or newline in it is escaped as the
 *              exposition format requires. */
void ll_prom_family(struct ll_buf *b, const char *name, const char *type, const char *help);
/** @brief Append one sample: `name{k1="v1",k2="v2"} value\n`.
 *  @param labels NULL-terminated list of key, value pairs, or NULL for none
 *         (then no braces are written). Keys are label names (asserted);
 *         values may be any UTF-8 and are escaped (backslash, double quote,
 *         newline); bytes that are not valid UTF-8 become U+FFFD, so text
 *         taken from logs can never break the exposition.
 *  @param value written as an integer when integral and below 2^64 in
 *         magnitude ("42", "-3", "0"), else
 *         with the fewest of 15..17 significant digits that read back as
 *         the same double ("0.1", "0.30000000000000004"); NaN, +Inf and
 *         -Inf as "NaN", "+Inf", "-Inf". Uses the C locale's decimal point:
 *         the daemon never calls setlocale(LC_NUMERIC). */
void ll_prom_sample(struct ll_buf *b, const char *name, const char *const *labels, double value);

/** @brief One counter of a module's statistics struct, as /metrics names it:
 *         the module that owns the struct describes its fields. */
struct ll_metric_field {
    const char *name; /**< the metric ("logloom_..._total") */
    const char *type; /**< "counter" or "gauge" */
    const char *help;
    size_t at;        /**< offsetof a uint64_t of the struct */
};

/** @brief Appends each of the @p n fields of @p f, read from @p base, as a
 *         family of one sample. */
void ll_prom_fields(struct ll_buf *b, const struct ll_metric_field *f, size_t n,
                    const void *base);
/** @brief Adds the @p n fields of @p f of @p from to those of @p to. */
void ll_metric_fields_add(const struct ll_metric_field *f, size_t n, void *to,
                          const void *from);

/** @returns the resident set size of this process in bytes, from
 *           /proc/self/statm; 0 if it cannot be read. */
uint64_t ll_process_rss(void);

#ifdef __cplusplus
}
#endif

/* The records that flow between the modules, and the configuration file:
 * each in a header of its own, part of the ground as the above. */
#include "logloom/config.h"
#include "logloom/records.h"

#endif /* LOGLOOM_CORE_H */
