/* JSON line → event, with yajl's streaming callback parser.
 *
 * A line is first given to the scanner of json_scan.h, which calls the same
 * callbacks for the common shape of a log line at a fraction of yajl's
 * cost; whatever it is not sure of is parsed again by yajl, from the start.
 * One yajl handle is reused across lines (yajl_allow_multiple_values lets a
 * handle parse value after value); it is only replaced after a parse error,
 * which leaves yajl in a state it cannot leave. The callbacks walk the field
 * trie (fields.h) and record, per field, the best-priority value seen as a
 * view into the line. Escaped strings live in the parser's scratch buffer
 * only for the duration of a callback, so those few are copied into the
 * caller's arena. Nothing is allocated per line otherwise. */
#include "fields.h"
#include "json_scan.h"
#include "logloom/ingest.h"

#include <string.h>
#include <yajl/yajl_parse.h>

#define MAX_DEPTH 32

/* The spellings of one kind of id (camel, snake, kebab, with an x- prefix
 * as the header is named) under envelope @p E ("" or "meta."), and the
 * envelopes loggers put context in: winston's meta, a context or ctx
 * object, labels, the attributes of the OpenTelemetry log model. */
#define SPELLINGS(E, camel, upper, snake, kebab, Kebab)                                      \
    E camel "Id", E camel "ID", E snake "_id", E "[\"" kebab "-id\"]", E "x" upper "Id",       \
        E "x_" snake "_id", E "[\"x-" kebab "-id\"]", E "[\"X-" Kebab "-ID\"]"
#define IN_ENVELOPES(camel, upper, snake, kebab, Kebab)                                      \
    SPELLINGS("", camel, upper, snake, kebab, Kebab),                                        \
        SPELLINGS("meta.", camel, upper, snake, kebab, Kebab),                               \
        SPELLINGS("metadata.", camel, upper, snake, kebab, Kebab),                           \
        SPELLINGS("context.", camel, upper, snake, kebab, Kebab),                            \
        SPELLINGS("ctx.", camel, upper, snake, kebab, Kebab),                                \
        SPELLINGS("labels.", camel, upper, snake, kebab, Kebab),                             \
        SPELLINGS("attributes.", camel, upper, snake, kebab, Kebab)
#define ENV_KEYS(E) E "reqId", E "req_id"

const char *const ll_default_id_paths[] = {
    IN_ENVELOPES("correlation", "Correlation", "correlation", "correlation", "Correlation"),
    IN_ENVELOPES("request", "Request", "request", "request", "Request"),
    ENV_KEYS(""), ENV_KEYS("meta."), ENV_KEYS("context."), ENV_KEYS("ctx."),
    "req.id",
    "req.headers[\"x-request-id\"]",
    "req.headers[\"x-correlation-id\"]",
    "headers[\"x-request-id\"]",
    "headers[\"x-correlation-id\"]",
    IN_ENVELOPES("trace", "Trace", "trace", "trace", "Trace"),
    NULL,
};
#undef SPELLINGS
#undef IN_ENVELOPES
#undef ENV_KEYS

const char *const ll_default_service_paths[] = {"service", "name", "service.name",
                                                 "service_name", "app", NULL};

struct capture {
    uint16_t prio;
    uint8_t type; /* enum ll__vtype of the value captured */
    struct ll_str v;
};

struct ll_decoder {
    yajl_handle yh;
    struct ll_buf scratch; /* the scanner's escaped strings */
    struct ll__fieldset fs;
    char err[256];

    /* Per-line state. */
    const char *line;
    size_t len;
    struct ll_arena *arena;
    int depth;
    int values;        /* complete top-level values seen */
    bool not_object;   /* the first top-level value is not an object */
    uint32_t pending;  /* trie node of the value after the current key */
    uint32_t stack[MAX_DEPTH];
    struct capture *cap; /* LL__F_COUNT standard fields, then the extra paths */
    size_t n_cap;
    ll_match_fn *match;
    void *match_ctx;
    const char *const *id_paths; /* what LL__F_CORR's priorities index */
};

/* ------------------------------------------------------------------------ */
/* Default paths                                                             */

struct default_path {
    const char *path;
    enum ll__field field;
    uint8_t types;
};

#define S LL__T_STRING
#define N LL__T_NUMBER
static const struct default_path default_paths[] = {
    {"time", LL__F_TIME, S | N},
    {"timestamp", LL__F_TIME, S | N},
    {"@timestamp", LL__F_TIME, S | N},
    {"ts", LL__F_TIME, S | N},
    {"date", LL__F_TIME, S | N},
    {"level", LL__F_LEVEL, S | N},
    {"severity", LL__F_LEVEL, S | N},
    {"lvl", LL__F_LEVEL, S | N},
    {"[\"log.level\"]", LL__F_LEVEL, S | N},
    {"log.level", LL__F_LEVEL, S | N},
    {"msg", LL__F_MSG, S},
    {"message", LL__F_MSG, S},
    {"pid", LL__F_PID, S | N},
    {"process.pid", LL__F_PID, N},
    {"hostname", LL__F_HOST, S},
    {"host", LL__F_HOST, S},
    {"host.name", LL__F_HOST, S},
    {"host.hostname", LL__F_HOST, S},
    {"err", LL__F_ERR_OBJ, S | LL__T_MAP},
    {"error", LL__F_ERR_OBJ, S | LL__T_MAP},
    {"err.type", LL__F_ERR_TYPE, S},
    {"err.name", LL__F_ERR_TYPE, S},
    {"error.type", LL__F_ERR_TYPE, S},
    {"error.name", LL__F_ERR_TYPE, S},
    {"err.message", LL__F_ERR_MSG, S},
    {"error.message", LL__F_ERR_MSG, S},
    {"err", LL__F_ERR_MSG, S},
    {"error", LL__F_ERR_MSG, S},
    {"err.code", LL__F_ERR_CODE, S | N},
    {"error.code", LL__F_ERR_CODE, S | N},
    {"err.cause.code", LL__F_ERR_CODE, S},
    {"error.cause.code", LL__F_ERR_CODE, S},
    {"cause.code", LL__F_ERR_CODE, S},
    {"err.errno", LL__F_ERR_ERRNO, N},
    {"error.errno", LL__F_ERR_ERRNO, N},
    {"errno", LL__F_ERR_ERRNO, N},
    {"err.syscall", LL__F_ERR_SYSCALL, S},
    {"error.syscall", LL__F_ERR_SYSCALL, S},
    {"err.cause.syscall", LL__F_ERR_SYSCALL, S},
    {"syscall", LL__F_ERR_SYSCALL, S},
    {"err.stack", LL__F_ERR_STACK, S},
    {"error.stack", LL__F_ERR_STACK, S},
    {"error.stack_trace", LL__F_ERR_STACK, S},
    {"stack", LL__F_ERR_STACK, S},
    {"exitCode", LL__F_EXIT_CODE, N},
    {"exit_code", LL__F_EXIT_CODE, N},
    {"code", LL__F_BARE_CODE, S | N},
    {"signal", LL__F_SIGNAL, S},
    {"exitSignal", LL__F_SIGNAL, S},
    {"signalCode", LL__F_SIGNAL, S},
    {"exit_signal", LL__F_SIGNAL, S},
    {"signal", LL__F_SIGNAL_KEY, LL__T_ANY},
    {"childPid", LL__F_CHILD_PID, S | N},
    {"child_pid", LL__F_CHILD_PID, S | N},
    {"child.pid", LL__F_CHILD_PID, S | N},
    {"spawnedPid", LL__F_CHILD_PID, S | N},
    {"v", LL__F_BUNYAN_V, N},
    {"connectionId", LL__F_CONN_ID, S | N},
    {"connection_id", LL__F_CONN_ID, S | N},
    {"connId", LL__F_CONN_ID, S | N},
    {"socketId", LL__F_CONN_ID, S | N},
};
#undef S
#undef N

static int add_list(struct ll__fieldset *fs, const char *const *paths, size_t n,
                    const char *const *defaults, enum ll__field field, uint8_t types,
                    char *errstr, size_t errstr_size)
{
    if (!paths) {
        paths = defaults;
        for (n = 0; defaults[n]; n++)
            ;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = ll__fieldset_add(fs, paths[i], field, (uint16_t)i, types, errstr, errstr_size);
        if (rc != LL_OK)
            return rc;
    }
    return LL_OK;
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */

static void capture_at(struct ll_decoder *d, uint32_t node, uint8_t type, const char *s,
                       size_t len)
{
    const struct ll__fnode *nd = &d->fs.nodes[node];
    const struct ll__target *t = d->fs.targets + nd->target_off;
    for (uint16_t i = 0; i < nd->n_targets; i++, t++) {
        struct capture *c = &d->cap[t->field];
        if (!(t->types & type) || t->prio > c->prio)
            continue;
        size_t keep = len;
        if (t->field == LL__F_ERR_STACK) {
            const char *nl = memchr(s, '\n', len);
            if (nl)
                keep = (size_t)(nl - s);
        }
        struct ll_str v = {s, keep};
        /* Escaped strings sit in the parser's scratch buffer: copy those. */
        if (s && (s < d->line || s + keep > d->line + d->len))
            v = ll_arena_dup(d->arena, v);
        *c = (struct capture){t->prio, type, v};
    }
}

/* The value after the current key, if a path wants it. Most values are
 * not wanted: that test is inline. */
static inline void capture(struct ll_decoder *d, uint8_t type, const char *s, size_t len)
{
    uint32_t node = d->pending;
    d->pending = LL__NODE_NONE;
    if (node != LL__NODE_NONE)
        capture_at(d, node, type, s, len);
}

static int cb_null(void *ctx)
{
    struct ll_decoder *d = ctx;
    if (d->depth == 0)
        d->not_object |= d->values++ == 0;
    capture(d, LL__T_NULL, NULL, 0);
    return 1;
}

static int cb_bool(void *ctx, int v)
{
    struct ll_decoder *d = ctx;
    if (d->depth == 0)
        d->not_object |= d->values++ == 0;
    capture(d, LL__T_BOOL, v ? "true" : "false", v ? 4 : 5);
    return 1;
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    struct ll_decoder *d = ctx;
    if (d->depth == 0)
        d->not_object |= d->values++ == 0;
    capture(d, LL__T_NUMBER, s, len);
    return 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    struct ll_decoder *d = ctx;
    if (d->depth == 0)
        d->not_object |= d->values++ == 0;
    capture(d, LL__T_STRING, (const char *)s, len);
    return 1;
}

static int cb_start_map(void *ctx)
{
    struct ll_decoder *d = ctx;
    uint32_t node = d->pending;
    if (d->depth == 0)
        node = d->values == 0 ? 0 : LL__NODE_NONE;
    else
        capture(d, LL__T_MAP, NULL, 0);
    if (d->depth < MAX_DEPTH)
        d->stack[d->depth] = node;
    d->depth++;
    d->pending = LL__NODE_NONE;
    return 1;
}

static int cb_map_key(void *ctx, const unsigned char *key, size_t len)
{
    struct ll_decoder *d = ctx;
    uint32_t parent = d->depth <= MAX_DEPTH ? d->stack[d->depth - 1] : LL__NODE_NONE;
    d->pending = parent == LL__NODE_NONE
                     ? LL__NODE_NONE
                     : ll__fieldset_child(&d->fs, parent, (const char *)key, len);
    return 1;
}

static int cb_end(void *ctx)
{
    struct ll_decoder *d = ctx;
    d->depth--;
    d->pending = LL__NODE_NONE;
    if (d->depth == 0)
        d->values++;
    return 1;
}

static int cb_start_array(void *ctx)
{
    struct ll_decoder *d = ctx;
    if (d->depth == 0)
        d->not_object |= d->values == 0;
    else
        capture(d, LL__T_MAP, NULL, 0); /* an array is present, as an object is */
    if (d->depth < MAX_DEPTH)
        d->stack[d->depth] = LL__NODE_NONE;
    d->depth++;
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_bool,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end,
};

/* ------------------------------------------------------------------------ */
/* Handle                                                                    */

static void *ya_malloc(void *ctx, size_t sz)
{
    (void)ctx;
    return ll_malloc(sz);
}

static void *ya_realloc(void *ctx, void *p, size_t sz)
{
    (void)ctx;
    return ll_realloc(p, sz);
}

static void ya_free(void *ctx, void *p)
{
    (void)ctx;
    ll_free(p);
}

static const yajl_alloc_funcs ya_funcs = {ya_malloc, ya_realloc, ya_free, NULL};

static void handle_renew(struct ll_decoder *d)
{
    if (d->yh)
        yajl_free(d->yh);
    d->yh = yajl_alloc(&callbacks, (yajl_alloc_funcs *)&ya_funcs, d);
    yajl_config(d->yh, yajl_allow_multiple_values, 1);
}

ll_decoder *ll_decoder_new(const struct ll_decode_conf *conf, char *errstr,
                           size_t errstr_size)
{
    static const struct ll_decode_conf none = {0};
    if (!conf)
        conf = &none;
    ll_decoder *d = ll_calloc(1, sizeof *d);
    int rc = add_list(&d->fs, conf->id_paths, conf->n_id_paths, ll_default_id_paths,
                      LL__F_CORR, LL__T_STRING, errstr, errstr_size);
    /* Numeric ids under the default paths are per-process request counters
     * (pino-http's req.id), not workflow ids; paths the user names may hold
     * numbers, used when no string id is present. */
    if (rc == LL_OK && conf->id_paths)
        rc = add_list(&d->fs, conf->id_paths, conf->n_id_paths, ll_default_id_paths,
                      LL__F_CORR_NUM, LL__T_NUMBER, errstr, errstr_size);
    if (rc == LL_OK)
        rc = add_list(&d->fs, conf->service_paths, conf->n_service_paths,
                      ll_default_service_paths, LL__F_SERVICE, LL__T_STRING, errstr,
                      errstr_size);
    for (size_t i = 0; rc == LL_OK && i < sizeof default_paths / sizeof default_paths[0]; i++)
        rc = ll__fieldset_add(&d->fs, default_paths[i].path, default_paths[i].field,
                              (uint16_t)i, default_paths[i].types, errstr, errstr_size);
    for (size_t i = 0; rc == LL_OK && i < conf->n_extra_paths; i++)
        rc = ll__fieldset_add(&d->fs, conf->extra_paths[i], (enum ll__field)(LL__F_COUNT + i), 0,
                              LL__T_ANY, errstr, errstr_size);
    if (rc != LL_OK) {
        ll_decoder_destroy(d);
        return NULL;
    }
    d->n_cap = LL__F_COUNT + conf->n_extra_paths;
    d->cap = ll_calloc(d->n_cap, sizeof *d->cap);
    d->match = conf->match;
    d->match_ctx = conf->match_ctx;
    d->id_paths = conf->id_paths ? conf->id_paths : ll_default_id_paths;
    ll__fieldset_seal(&d->fs);
    handle_renew(d);
    return d;
}

void ll_decoder_destroy(ll_decoder *d)
{
    if (!d)
        return;
    if (d->yh)
        yajl_free(d->yh);
    ll__fieldset_free(&d->fs);
    ll_buf_free(&d->scratch);
    ll_free(d->cap);
    ll_free(d);
}

const char *ll_decoder_error(const ll_decoder *d)
{
    return d->err;
}

/* The default path a standard field was taken from, or NULL. */
static const char *path_of(const struct ll_decoder *d, enum ll__field f)
{
    const struct capture *c = &d->cap[f];
    if (c->prio == UINT16_MAX || c->prio >= sizeof default_paths / sizeof default_paths[0])
        return NULL;
    return default_paths[c->prio].path;
}

void ll_decoder_shape(const ll_decoder *d, char *buf, size_t size)
{
    const char *time = path_of(d, LL__F_TIME), *level = path_of(d, LL__F_LEVEL),
               *msg = path_of(d, LL__F_MSG);
    const struct capture *lv = &d->cap[LL__F_LEVEL], *id = &d->cap[LL__F_CORR];
    bool numeric = lv->prio != UINT16_MAX && lv->type == LL__T_NUMBER;
    bool says = msg && strcmp(msg, "msg") == 0;
    const char *logger = "json";
    if (numeric && says)
        logger = d->cap[LL__F_BUNYAN_V].prio != UINT16_MAX ? "bunyan" : "pino";
    else if (!numeric && msg && strcmp(msg, "message") == 0 && time &&
             strcmp(time, "timestamp") == 0)
        logger = "winston";
    else if (level && strstr(level, "log.level"))
        logger = "ecs";
    snprintf(buf, size, "%s (time: %s%s, id: %s)", logger, time ? time : "none",
             time && d->cap[LL__F_TIME].type == LL__T_NUMBER ? " epoch" : "",
             id->prio != UINT16_MAX ? d->id_paths[id->prio] : "none");
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */

static bool parse_int(struct ll_str s, int64_t *out)
{
    size_t i = 0;
    bool neg = s.len && s.ptr[0] == '-';
    i = neg;
    if (i == s.len)
        return false;
    int64_t v = 0;
    for (; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9' || v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (s.ptr[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

static struct ll_str str_field(const struct ll_decoder *d, enum ll__field f)
{
    const struct capture *c = &d->cap[f];
    if (c->prio == UINT16_MAX || !(c->type & (LL__T_STRING | LL__T_NUMBER)))
        return LL_STR_NULL;
    return c->v;
}

static bool int_field(const struct ll_decoder *d, enum ll__field f, int64_t *out)
{
    struct ll_str s = str_field(d, f);
    return s.len && parse_int(s, out);
}

static void resolve_time(const struct ll_decoder *d, struct ll_event *ev)
{
    const struct capture *c = &d->cap[LL__F_TIME];
    ev->ts_ns = LL_TIME_NONE;
    if (c->prio == UINT16_MAX)
        return;
    int64_t ns;
    int rc = c->type == LL__T_NUMBER ? ll_time_parse_epoch(c->v.ptr, c->v.len, &ns)
                                     : ll_time_parse(c->v.ptr, c->v.len, &ns);
    if (rc == LL_OK)
        ev->ts_ns = ns;
}

static void resolve_error(const struct ll_decoder *d, struct ll_event *ev)
{
    ev->err_type = str_field(d, LL__F_ERR_TYPE);
    ev->err_msg = str_field(d, LL__F_ERR_MSG);
    ev->err_code = str_field(d, LL__F_ERR_CODE);
    ev->err_syscall = str_field(d, LL__F_ERR_SYSCALL);
    ev->err_stack = str_field(d, LL__F_ERR_STACK);
    if (int_field(d, LL__F_ERR_ERRNO, &ev->err_errno))
        ev->flags |= LL_EV_HAS_ERRNO;
    /* A top-level string "code" is an error code only where something else
     * says this is an error: winston spreads Error properties that way. */
    const struct capture *bare = &d->cap[LL__F_BARE_CODE];
    if (!ev->err_code.len && bare->prio != UINT16_MAX && bare->type == LL__T_STRING &&
        (ev->level >= LL_LEVEL_WARN || ev->err_syscall.len || ev->err_stack.len ||
         (ev->flags & LL_EV_HAS_ERRNO)))
        ev->err_code = bare->v;
    const struct capture *obj = &d->cap[LL__F_ERR_OBJ];
    bool has_obj = obj->prio != UINT16_MAX && (obj->type == LL__T_MAP || obj->v.len);
    /* Loggers that spread an Error's properties onto the record (winston)
     * leave a stack, or a code next to errno/syscall, at the top level. */
    bool spread = ev->err_stack.len ||
                  (ev->err_code.len && (ev->err_syscall.len || (ev->flags & LL_EV_HAS_ERRNO)));
    if (has_obj || spread)
        ev->flags |= LL_EV_HAS_ERR;
    /* A spread Error's message is the record's own message. */
    if (spread && !has_obj && !ev->err_msg.len)
        ev->err_msg = str_field(d, LL__F_MSG);
}

static void resolve(const struct ll_decoder *d, struct ll_event *ev)
{
    resolve_time(d, ev);
    const struct capture *lv = &d->cap[LL__F_LEVEL];
    if (lv->prio != UINT16_MAX && lv->v.len)
        ev->level = (uint8_t)ll_level_from_name(lv->v.ptr, lv->v.len);
    ev->msg = str_field(d, LL__F_MSG);
    ev->service = str_field(d, LL__F_SERVICE);
    ev->host = str_field(d, LL__F_HOST);
    ev->corr_id = str_field(d, LL__F_CORR);
    if (!ev->corr_id.len)
        ev->corr_id = str_field(d, LL__F_CORR_NUM);
    if (int_field(d, LL__F_PID, &ev->pid))
        ev->flags |= LL_EV_HAS_PID;
    if (int_field(d, LL__F_CHILD_PID, &ev->child_pid))
        ev->flags |= LL_EV_HAS_CHILD_PID;
    ev->conn_id = str_field(d, LL__F_CONN_ID);
    resolve_error(d, ev);
    ev->signal = str_field(d, LL__F_SIGNAL);
    /* {code, signal} is how Node reports a child's exit. */
    if (int_field(d, LL__F_EXIT_CODE, &ev->exit_code) ||
        (d->cap[LL__F_SIGNAL_KEY].prio != UINT16_MAX &&
         d->cap[LL__F_BARE_CODE].type == LL__T_NUMBER &&
         int_field(d, LL__F_BARE_CODE, &ev->exit_code)))
        ev->flags |= LL_EV_HAS_EXIT_CODE;
}

static uint8_t value_type(uint8_t captured)
{
    switch (captured) {
    case LL__T_STRING: return LL_V_STRING;
    case LL__T_NUMBER: return LL_V_NUMBER;
    case LL__T_BOOL: return LL_V_BOOL;
    case LL__T_NULL: return LL_V_NULL;
    case LL__T_MAP: return LL_V_OBJECT;
    default: return LL_V_NONE;
    }
}

/* The values of the extra paths, in the order they were configured. */
static void resolve_extra(const struct ll_decoder *d, struct ll_event *ev)
{
    size_t n = d->n_cap - LL__F_COUNT;
    struct ll_value *v = ll_arena_alloc(d->arena, n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const struct capture *c = &d->cap[LL__F_COUNT + i];
        v[i] = c->prio == UINT16_MAX ? (struct ll_value){LL_STR_NULL, LL_V_NONE}
                                     : (struct ll_value){c->v, value_type(c->type)};
    }
    ev->extra = v;
    ev->n_extra = (uint32_t)n;
}

static int reject(struct ll_decoder *d, const char *line, size_t len, enum ll_reject *reason,
                  enum ll_reject why, const char *detail)
{
    *reason = why;
    if (why == LL_REJECT_NOT_JSON && memchr(line, '\0', len)) {
        *reason = LL_REJECT_NUL_BYTE;
        detail = "NUL byte in line";
    } else if (why == LL_REJECT_NOT_JSON && !ll_utf8_valid(line, len)) {
        *reason = LL_REJECT_INVALID_UTF8;
        detail = "invalid UTF-8";
    }
    snprintf(d->err, sizeof d->err, "%s", detail);
    return LL_EPARSE;
}

/* @p at_end: the line ended too soon (yajl_complete_parse() failed), and
 * the bytes yajl counts are those of that last call, not of the line. */
static int parse_failed(struct ll_decoder *d, const char *line, size_t len, bool at_end,
                        enum ll_reject *reason)
{
    char detail[200] = "malformed JSON";
    unsigned char *msg = yajl_get_error(d->yh, 0, (const unsigned char *)line, len);
    if (msg) {
        size_t n = strcspn((const char *)msg, "\n");
        snprintf(detail, sizeof detail, "%.*s %s byte %zu", (int)n, msg,
                 at_end ? "after" : "at", at_end ? len : yajl_get_bytes_consumed(d->yh));
        yajl_free_error(d->yh, msg);
    }
    handle_renew(d);
    return reject(d, line, len, reason, LL_REJECT_NOT_JSON, detail);
}

/* The per-line state, before a parse. */
static void begin(struct ll_decoder *d)
{
    d->depth = 0;
    d->values = 0;
    d->not_object = false;
    d->pending = LL__NODE_NONE;
    memset(d->cap, 0xff, d->n_cap * sizeof *d->cap); /* prio = UINT16_MAX: nothing yet */
}

int ll_decoder_decode(ll_decoder *d, const char *line, size_t len, struct ll_arena *arena,
                      struct ll_event *ev, enum ll_reject *reason)
{
    struct ll_pos pos = ev->pos;
    *ev = (struct ll_event){.pos = pos, .line = {line, len}, .ts_ns = LL_TIME_NONE};
    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) { /* a byte-order mark */
        line += 3;
        len -= 3;
    }
    d->line = line;
    d->len = len;
    d->arena = arena;
    begin(d);
    if (!ll__json_scan_with(line, len, &callbacks, d, &d->scratch)) {
        begin(d);
        if (yajl_parse(d->yh, (const unsigned char *)line, len) != yajl_status_ok)
            return parse_failed(d, line, len, false, reason);
        if (yajl_complete_parse(d->yh) != yajl_status_ok)
            return parse_failed(d, line, len, true, reason);
        /* yajl checks only the shape of UTF-8 sequences: it lets overlong
         * forms (C0 AF), surrogates (ED A0 80) and lead bytes past U+10FFFF
         * (F5..F7) through, which other invalid bytes do not pass. The
         * scanner has checked the lines it takes. */
        if (!ll_utf8_valid(line, len))
            return reject(d, line, len, reason, LL_REJECT_INVALID_UTF8, "invalid UTF-8");
    }
    if (d->not_object)
        return reject(d, line, len, reason, LL_REJECT_NOT_OBJECT,
                      "the line is JSON but not an object");
    if (d->values != 1)
        return reject(d, line, len, reason, LL_REJECT_NOT_JSON,
                      d->values ? "more than one JSON value on the line" : "no JSON value");
    resolve(d, ev);
    if (d->n_cap > LL__F_COUNT)
        resolve_extra(d, ev);
    if (d->match)
        d->match(d->match_ctx, ev, arena);
    return LL_OK;
}

void ll_decoder_raw_event(ll_decoder *d, const char *line, size_t len, struct ll_arena *arena,
                          struct ll_event *ev)
{
    struct ll_pos pos = ev->pos;
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    *ev = (struct ll_event){.pos = pos, .line = {line, len}, .msg = {line, len},
                            .ts_ns = LL_TIME_NONE, .flags = LL_EV_RAW};
    if (d->match)
        d->match(d->match_ctx, ev, arena);
}
