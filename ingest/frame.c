/* Container log framing: docker json-file objects and CRI text lines back
 * into the lines the application printed, and the Kubernetes names in a
 * container log file's name.
 *
 * A docker line is checked by a small scanner for its fixed shape instead of
 * yajl: one pass validates the whole object (any key order, nested "attrs",
 * every escape) and records where "log", "stream" and "time" are; only then
 * is "log" unescaped, straight into the join buffer of its stream, which the
 * first pass could not know when "log" comes first. Each stream has one
 * growable join buffer, reused line after line, so nothing is allocated per
 * line once the buffers have grown. Lines that need no copy (plain text, an
 * unsplit CRI line) are handed out as views into the caller's line. */
#include "logloom/ingest.h"

#include <assert.h>
#include <string.h>

#define DEFAULT_MAX_LEN ((size_t)1 << 20)
#define MAX_JSON_DEPTH 32

/* A logical line being joined, one per stream. */
struct pending {
    struct ll_buf buf;
    int64_t ts_ns;   /* of the first chunk */
    uint64_t seq;    /* order of the first chunk, for flush */
    unsigned chunks;
    bool active;
    bool too_long;
};

struct ll_deframer {
    enum ll_frame_format fmt; /* AUTO until the first non-blank line */
    size_t max_len;
    uint64_t seq;
    struct pending pend[2]; /* stdout, stderr */
};

/* ------------------------------------------------------------------------ */
/* Names                                                                     */

static const char *const format_names[] = {
    [LL_FRAME_AUTO] = "auto",
    [LL_FRAME_PLAIN] = "plain",
    [LL_FRAME_DOCKER] = "docker",
    [LL_FRAME_CRI] = "cri",
    [LL_FRAME_STAMPED] = "timestamps",
};

const char *ll_frame_format_name(enum ll_frame_format f)
{
    if ((unsigned)f >= sizeof format_names / sizeof format_names[0])
        return "?";
    return format_names[f];
}

int ll_frame_format_parse(const char *name, enum ll_frame_format *out)
{
    for (size_t i = 0; name && i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum ll_frame_format)i;
            return LL_OK;
        }
    return LL_EINVAL;
}

/* ------------------------------------------------------------------------ */
/* JSON scanning for docker's objects                                        */

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_val(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

static void skip_ws(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r'))
        (*p)++;
}

/* A JSON string at *p (on its opening quote). OUT: raw, the bytes between
 * the quotes; escaped, whether it holds escapes. Rejects unknown escapes,
 * short \u escapes and raw control characters. */
static bool scan_string(const char **p, const char *end, struct ll_str *raw, bool *escaped)
{
    const char *s = *p + 1;
    *escaped = false;
    for (const char *q = s; q < end; q++) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *raw = (struct ll_str){s, (size_t)(q - s)};
            *p = q + 1;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        *escaped = true;
        if (++q == end)
            return false;
        if (*q == 'u') {
            if (end - q < 5 || !is_hex(q[1]) || !is_hex(q[2]) || !is_hex(q[3]) || !is_hex(q[4]))
                return false;
            q += 4;
        } else if (!strchr("\"\\/bfnrt", *q) || *q == '\0') {
            return false;
        }
    }
    return false;
}

static bool scan_number(const char **p, const char *end)
{
    const char *q = *p;
    if (q < end && *q == '-')
        q++;
    if (q == end || *q < '0' || *q > '9')
        return false;
    if (*q == '0')
        q++;
    else
        while (q < end && *q >= '0' && *q <= '9')
            q++;
    if (q < end && *q == '.') {
        const char *digits = ++q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == digits)
            return false;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        const char *digits = q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == digits)
            return false;
    }
    *p = q;
    return true;
}

static bool scan_literal(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return false;
    *p += n;
    return true;
}

static bool skip_value(const char **p, const char *end, int depth);

/* The members or elements of an object or array at *p (on its bracket). */
static bool skip_container(const char **p, const char *end, int depth)
{
    char close = **p == '{' ? '}' : ']';
    bool object = close == '}';
    (*p)++;
    skip_ws(p, end);
    if (*p < end && **p == close) {
        (*p)++;
        return true;
    }
    for (;;) {
        struct ll_str key;
        bool escaped;
        if (object) {
            if (*p == end || **p != '"' || !scan_string(p, end, &key, &escaped))
                return false;
            skip_ws(p, end);
            if (*p == end || **p != ':')
                return false;
            (*p)++;
        }
        if (!skip_value(p, end, depth + 1))
            return false;
        skip_ws(p, end);
        if (*p == end)
            return false;
        if (**p == close) {
            (*p)++;
            return true;
        }
        if (**p != ',')
            return false;
        (*p)++;
        skip_ws(p, end);
    }
}

static bool skip_value(const char **p, const char *end, int depth)
{
    struct ll_str raw;
    bool escaped;
    skip_ws(p, end);
    if (*p == end || depth > MAX_JSON_DEPTH)
        return false;
    switch (**p) {
    case '"':
        return scan_string(p, end, &raw, &escaped);
    case '{':
    case '[':
        return skip_container(p, end, depth);
    case 't':
        return scan_literal(p, end, "true");
    case 'f':
        return scan_literal(p, end, "false");
    case 'n':
        return scan_literal(p, end, "null");
    default:
        return scan_number(p, end);
    }
}

static char *put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

static uint32_t hex4(const char *s)
{
    return hex_val(s[0]) << 12 | hex_val(s[1]) << 8 | hex_val(s[2]) << 4 | hex_val(s[3]);
}

/* Decodes the string body @p raw, already checked by scan_string(), into
 * @p out, which has room for raw.len bytes (no escape decodes to more bytes
 * than it takes). A surrogate pair becomes one character; a lone surrogate
 * becomes U+FFFD, as Go's encoding/json reads it.
 * @returns the bytes written. */
static size_t json_unescape(struct ll_str raw, char *out)
{
    const char *s = raw.ptr, *end = raw.ptr + raw.len;
    char *o = out;
    while (s < end) {
        const char *bs = memchr(s, '\\', (size_t)(end - s));
        size_t plain = (size_t)((bs ? bs : end) - s);
        memmove(o, s, plain);
        o += plain;
        if (!bs)
            break;
        char e = bs[1];
        s = bs + 2;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        if (e != 'u') {
            *o++ = to[strchr(from, e) - from];
            continue;
        }
        uint32_t cp = hex4(s);
        s += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
            uint32_t lo = hex4(s + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD;
        o = put_utf8(o, cp);
    }
    return (size_t)(o - out);
}

/* Compares a key's raw text with @p name, decoding escapes if it has any. */
static bool key_is(struct ll_str raw, bool escaped, const char *name)
{
    size_t n = strlen(name);
    if (!escaped)
        return raw.len == n && memcmp(raw.ptr, name, n) == 0;
    char tmp[16];
    if (raw.len > sizeof tmp)
        return false;
    return json_unescape(raw, tmp) == n && memcmp(tmp, name, n) == 0;
}

/* What a docker json-file line holds. */
struct docker_line {
    struct ll_str log; /* raw, still escaped */
    bool has_log, has_stream, log_first;
    bool stderr_stream;
    int64_t ts_ns;
};

/* The value of "log", "stream" or "time" at *p; the rest are skipped. */
static bool docker_member(const char **p, const char *end, struct ll_str key, bool key_esc,
                          struct docker_line *dl)
{
    struct ll_str v;
    bool esc;
    bool is_log = key_is(key, key_esc, "log"), is_stream = key_is(key, key_esc, "stream"),
         is_time = key_is(key, key_esc, "time");
    if (!is_log && !is_stream && !is_time)
        return skip_value(p, end, 1);
    skip_ws(p, end);
    if (*p == end || **p != '"' || !scan_string(p, end, &v, &esc))
        return false;
    if (is_log) {
        dl->log = v;
        dl->has_log = true;
    } else if (is_stream) {
        dl->has_stream = true;
        if (!esc && ll_str_eq(v, LL_STR("stderr")))
            dl->stderr_stream = true;
        else if (!esc && ll_str_eq(v, LL_STR("stdout")))
            dl->stderr_stream = false;
        else
            return false;
    } else if (esc || ll_time_parse(v.ptr, v.len, &dl->ts_ns) != LL_OK) {
        return false;
    }
    return true;
}

/* Parses a whole docker json-file line: a well-formed object with a string
 * "log"; "stream" (stdout or stderr) and "time" (RFC 3339) when present. */
static bool docker_parse(const char *line, size_t len, struct docker_line *dl)
{
    const char *p = line, *end = line + len;
    *dl = (struct docker_line){.ts_ns = LL_TIME_NONE};
    skip_ws(&p, end);
    if (p == end || *p != '{')
        return false;
    p++;
    skip_ws(&p, end);
    for (bool first = true;; first = false) {
        struct ll_str key;
        bool key_esc;
        if (p == end || *p != '"' || !scan_string(&p, end, &key, &key_esc))
            return false; /* also: {} and a trailing comma */
        if (first)
            dl->log_first = key_is(key, key_esc, "log");
        skip_ws(&p, end);
        if (p == end || *p != ':')
            return false;
        p++;
        if (!docker_member(&p, end, key, key_esc, dl))
            return false;
        skip_ws(&p, end);
        if (p == end)
            return false;
        if (*p == '}')
            break;
        if (*p != ',')
            return false;
        p++;
        skip_ws(&p, end);
    }
    p++;
    skip_ws(&p, end);
    return p == end && dl->has_log;
}

/* ------------------------------------------------------------------------ */
/* CRI lines                                                                 */

struct cri_line {
    int64_t ts_ns;
    bool stderr_stream;
    bool partial;
    struct ll_str text;
};

/* `<time> <stdout|stderr> <P|F> <text>`, or without the tag in old
 * runtimes. The time must be an RFC 3339 date-time, not an epoch number. */
static bool cri_parse(const char *line, size_t len, struct cri_line *cl)
{
    const char *end = line + len, *sp = memchr(line, ' ', len);
    if (!sp || sp - line < 20 || (line[10] != 'T' && line[10] != 't') ||
        ll_time_parse(line, (size_t)(sp - line), &cl->ts_ns) != LL_OK)
        return false;
    const char *s = sp + 1;
    if (end - s < 7 || s[6] != ' ')
        return false;
    if (memcmp(s, "stdout", 6) == 0)
        cl->stderr_stream = false;
    else if (memcmp(s, "stderr", 6) == 0)
        cl->stderr_stream = true;
    else
        return false;
    const char *tag = s + 7;
    bool tagged = end - tag >= 1 && (*tag == 'P' || *tag == 'F') &&
                  (end - tag == 1 || tag[1] == ' ');
    cl->partial = tagged && *tag == 'P';
    const char *text = tagged ? (end - tag == 1 ? end : tag + 2) : tag;
    cl->text = (struct ll_str){text, (size_t)(end - text)};
    return true;
}

/* `<time> <text>`, as `kubectl logs --timestamps` prints: the whole rest
 * is the application's line, on one stream, never split. */
static bool stamped_parse(const char *line, size_t len, struct cri_line *cl)
{
    const char *sp = memchr(line, ' ', len);
    if (!sp || sp - line < 20 || (line[10] != 'T' && line[10] != 't') ||
        ll_time_parse(line, (size_t)(sp - line), &cl->ts_ns) != LL_OK)
        return false;
    cl->stderr_stream = cl->partial = false;
    cl->text = (struct ll_str){sp + 1, (size_t)(line + len - sp - 1)};
    return true;
}

/* ------------------------------------------------------------------------ */
/* Joining                                                                   */

/* Length of @p s cut to at most @p max bytes, not inside a UTF-8 character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    for (int back = 0; n > 0 && back < 3 && ((unsigned char)s[n] & 0xC0) == 0x80; back++)
        n--;
    return ((unsigned char)s[n] & 0xC0) == 0x80 ? max : n;
}

static void frame_plain(const ll_deframer *d, const char *line, size_t len, bool mismatch,
                        struct ll_frame *out)
{
    size_t n = utf8_cut(line, len, d->max_len);
    *out = (struct ll_frame){
        .line = {line, n},
        .ts_ns = LL_TIME_NONE,
        .chunks = 1,
        .too_long = n < len,
        .mismatch = mismatch,
    };
}

/* Counts a chunk into the stream's pending line, starting one if needed.
 * Starting one is what empties the buffer a previous frame of the stream
 * viewed, so that view lasts until the next call, as promised. */
static struct pending *chunk_begin(ll_deframer *d, bool stderr_stream, int64_t ts_ns)
{
    struct pending *pd = &d->pend[stderr_stream];
    if (!pd->active) {
        ll_buf_reset(&pd->buf);
        pd->ts_ns = ts_ns;
        pd->seq = d->seq++;
        pd->chunks = 0;
        pd->active = true;
        pd->too_long = false;
    }
    pd->chunks++;
    return pd;
}

/* After the pending line grew by a chunk: drops the line end of a final
 * chunk (a CR before the newline), then applies the cap. */
static void chunk_grown(const ll_deframer *d, struct pending *pd, bool final)
{
    struct ll_buf *b = &pd->buf;
    if (final && !pd->too_long && b->len && b->data[b->len - 1] == '\r')
        b->len--;
    if (b->len > d->max_len) {
        b->len = utf8_cut(b->data, b->len, d->max_len);
        pd->too_long = true;
    }
    if (b->data)
        b->data[b->len] = '\0';
}

/* Describes the stream's pending line, a view into its buffer. */
static void chunk_view(const ll_deframer *d, const struct pending *pd, bool partial,
                       struct ll_frame *out)
{
    *out = (struct ll_frame){
        .line = {pd->buf.data ? pd->buf.data : "", pd->buf.len},
        .ts_ns = pd->ts_ns,
        .stderr_stream = pd == &d->pend[1],
        .chunks = pd->chunks,
        .too_long = pd->too_long,
        .partial = partial,
    };
}

/* Hands out the stream's pending line; the next chunk of the stream starts
 * a new one. */
static void chunk_end(ll_deframer *d, struct pending *pd, bool partial, struct ll_frame *out)
{
    chunk_view(d, pd, partial, out);
    pd->active = false;
}

static int push_docker(ll_deframer *d, const struct docker_line *dl, struct ll_frame *out)
{
    struct pending *pd = chunk_begin(d, dl->stderr_stream, dl->ts_ns);
    struct ll_buf *b = &pd->buf;
    size_t before = b->len;
    ll_buf_reserve(b, dl->log.len);
    b->len += json_unescape(dl->log, b->data + b->len);
    bool ends = b->len > before && b->data[b->len - 1] == '\n';
    if (pd->too_long)
        b->len = before; /* past the cap: only the chunk's end matters */
    else if (ends)
        b->len--;
    chunk_grown(d, pd, ends);
    if (!ends) {
        chunk_view(d, pd, true, out);
        return 0;
    }
    chunk_end(d, pd, false, out);
    return 1;
}

static int push_cri(ll_deframer *d, const struct cri_line *cl, struct ll_frame *out)
{
    struct pending *pd = &d->pend[cl->stderr_stream];
    if (!pd->active && !cl->partial) {
        /* Not split: a view into the caller's line, no copy. */
        size_t len = cl->text.len;
        if (len && cl->text.ptr[len - 1] == '\r')
            len--;
        frame_plain(d, cl->text.ptr, len, false, out);
        out->ts_ns = cl->ts_ns;
        out->stderr_stream = cl->stderr_stream;
        return 1;
    }
    pd = chunk_begin(d, cl->stderr_stream, cl->ts_ns);
    if (!pd->too_long)
        ll_buf_append(&pd->buf, cl->text.ptr, cl->text.len);
    chunk_grown(d, pd, !cl->partial);
    if (cl->partial) {
        chunk_view(d, pd, true, out);
        return 0;
    }
    chunk_end(d, pd, false, out);
    return 1;
}

static enum ll_frame_format detect(const char *line, size_t len)
{
    struct docker_line dl;
    struct cri_line cl;
    if (docker_parse(line, len, &dl) && (dl.log_first || dl.has_stream))
        return LL_FRAME_DOCKER;
    if (cri_parse(line, len, &cl))
        return LL_FRAME_CRI;
    /* A time before a JSON object: a plain text log that begins with its
     * time stays plain. */
    if (stamped_parse(line, len, &cl) && cl.text.len && cl.text.ptr[0] == '{')
        return LL_FRAME_STAMPED;
    return LL_FRAME_PLAIN;
}

/* ------------------------------------------------------------------------ */
/* Public                                                                    */

ll_deframer *ll_deframer_new(enum ll_frame_format fmt, size_t max_len)
{
    assert((unsigned)fmt <= LL_FRAME_STAMPED);
    ll_deframer *d = ll_calloc(1, sizeof *d);
    d->fmt = fmt;
    d->max_len = max_len ? max_len : DEFAULT_MAX_LEN;
    return d;
}

void ll_deframer_destroy(ll_deframer *d)
{
    if (!d)
        return;
    ll_buf_free(&d->pend[0].buf);
    ll_buf_free(&d->pend[1].buf);
    ll_free(d);
}

enum ll_frame_format ll_deframer_format(const ll_deframer *d)
{
    return d->fmt;
}

int ll_deframer_push(ll_deframer *d, const char *line, size_t len, struct ll_frame *out)
{
    if (ll_line_blank(line, len)) {
        frame_plain(d, line, len, false, out);
        return 1;
    }
    if (d->fmt == LL_FRAME_AUTO)
        d->fmt = detect(line, len);
    if (d->fmt == LL_FRAME_DOCKER) {
        struct docker_line dl;
        if (docker_parse(line, len, &dl))
            return push_docker(d, &dl, out);
    } else if (d->fmt == LL_FRAME_CRI) {
        struct cri_line cl;
        if (cri_parse(line, len, &cl))
            return push_cri(d, &cl, out);
    } else if (d->fmt == LL_FRAME_STAMPED) {
        struct cri_line cl;
        if (stamped_parse(line, len, &cl))
            return push_cri(d, &cl, out);
    }
    frame_plain(d, line, len, d->fmt != LL_FRAME_PLAIN, out);
    return 1;
}

int ll_deframer_flush(ll_deframer *d, struct ll_frame *out)
{
    struct pending *pd = NULL;
    for (int s = 0; s < 2; s++)
        if (d->pend[s].active && (!pd || d->pend[s].seq < pd->seq))
            pd = &d->pend[s];
    if (!pd)
        return 0;
    chunk_end(d, pd, true, out);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Kubernetes names                                                          */

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 1123: lower-case letters, digits and '-' (and '.' in a subdomain),
 * beginning and ending with a letter or digit. */
static bool dns_name(struct ll_str s, size_t max, bool dots)
{
    if (s.len == 0 || s.len > max || !is_lower_alnum(s.ptr[0]) ||
        !is_lower_alnum(s.ptr[s.len - 1]))
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_lower_alnum(s.ptr[i]) && s.ptr[i] != '-' && !(dots && s.ptr[i] == '.'))
            return false;
    return true;
}

/* `<pod>_<ns>_<container>-<64 hex>.log`: a /var/log/containers name. */
static bool containers_name(struct ll_str base, struct ll_k8s_names *out)
{
    size_t len = base.len;
    if (len < 5 + 1 + 64 + 4 || memcmp(base.ptr + len - 4, ".log", 4) != 0)
        return false;
    const char *id = base.ptr + len - 4 - 64;
    for (int i = 0; i < 64; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return false;
    if (id[-1] != '-')
        return false;
    const char *names_end = id - 1;
    const char *u1 = memchr(base.ptr, '_', (size_t)(names_end - base.ptr));
    const char *u2 = u1 ? memchr(u1 + 1, '_', (size_t)(names_end - u1 - 1)) : NULL;
    if (!u2 || memchr(u2 + 1, '_', (size_t)(names_end - u2 - 1)))
        return false;
    *out = (struct ll_k8s_names){
        .pod = {base.ptr, (size_t)(u1 - base.ptr)},
        .namespace_ = {u1 + 1, (size_t)(u2 - u1 - 1)},
        .container = {u2 + 1, (size_t)(names_end - u2 - 1)},
    };
    return true;
}

/* `<ns>_<pod>_<uid>/<container>/<restarts>.log`, then kubelet's rotation
 * suffixes (`.20261207-101500`, `.gz`): a /var/log/pods path, whose
 * directories are given as @p pod_dir and @p container. */
static bool pods_name(struct ll_str pod_dir, struct ll_str container, struct ll_str base,
                      struct ll_k8s_names *out)
{
    size_t i = 0;
    while (i < base.len && base.ptr[i] >= '0' && base.ptr[i] <= '9')
        i++;
    if (i == 0 || base.len - i < 4 || memcmp(base.ptr + i, ".log", 4) != 0)
        return false;
    const char *u1 = memchr(pod_dir.ptr, '_', pod_dir.len);
    const char *u2 = u1 ? memchr(u1 + 1, '_', pod_dir.len - (size_t)(u1 + 1 - pod_dir.ptr)) : NULL;
    if (!u2 || memchr(u2 + 1, '_', pod_dir.len - (size_t)(u2 + 1 - pod_dir.ptr)) ||
        u2 + 1 == pod_dir.ptr + pod_dir.len)
        return false;
    *out = (struct ll_k8s_names){
        .namespace_ = {pod_dir.ptr, (size_t)(u1 - pod_dir.ptr)},
        .pod = {u1 + 1, (size_t)(u2 - u1 - 1)},
        .container = container,
    };
    return true;
}

bool ll_k8s_names_from_path(const char *path, struct ll_k8s_names *out)
{
    /* The last three components: .../<a>/<b>/<base>. */
    struct ll_str part[3] = {{0}};
    const char *end = path + strlen(path);
    for (int k = 2; k >= 0; k--) {
        const char *slash = end;
        while (slash > path && slash[-1] != '/')
            slash--;
        part[k] = (struct ll_str){slash, (size_t)(end - slash)};
        if (slash == path)
            break;
        end = slash - 1;
    }
    struct ll_k8s_names n;
    if (!containers_name(part[2], &n) && !(part[0].ptr && pods_name(part[0], part[1], part[2], &n)))
        return false;
    if (!dns_name(n.pod, 253, true) || !dns_name(n.namespace_, 63, false) ||
        !dns_name(n.container, 63, false))
        return false;
    *out = n;
    return true;
}
