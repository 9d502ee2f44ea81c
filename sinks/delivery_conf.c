/* A delivery sink's settings (ll_delivery_conf: defaults, name=value
 * options, a --sink spec URL#OPTS) and the masking of secrets in URLs and
 * connection strings before they are shown or logged. */
#include "delivery_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */

#define NUM(field, kind, name, def, help)                                                      \
    LL_CONF_NUM(struct ll_delivery_conf, field, kind, name, def, help)
#define STR(field, name, def, help) LL_CONF_STR(struct ll_delivery_conf, field, name, def, help)

/* Every option, its default and its meaning; ll_delivery_conf_set() reads
 * them (each has its own range). */
const struct ll_conf_field ll_delivery_fields[] = {
    LL_CONF_CHOICE("receive", "alerts", "alerts, timelines or both"),
    NUM(batch, LL_CONF_COUNT, "batch", 500, "records per batch (one transaction, one pipeline)"),
    {"linger", LL_CONF_DURATION, offsetof(struct ll_delivery_conf, linger_ns), 0, 0, 0, "0s",
     "how long a partial batch waits for more (0: an alert goes at once; under load, batches "
     "fill while the last one is written)"},
    NUM(queue, LL_CONF_COUNT, "queue", 10000,
        "records queued per sink; when it is full, reading pauses"),
    NUM(retry_min_ns, LL_CONF_DURATION, "retry_min", 250 * LL_NS_PER_MS,
        "the first backoff between attempts: doubling, with jitter"),
    NUM(retry_max_ns, LL_CONF_DURATION, "retry_max", 30 * LL_NS_PER_SEC, "the longest backoff"),
    NUM(connect_timeout_ns, LL_CONF_DURATION, "connect_timeout", 30 * LL_NS_PER_SEC,
        "at start, how long to keep trying to reach the server"),
    NUM(io_timeout_ns, LL_CONF_DURATION, "io_timeout", 30 * LL_NS_PER_SEC,
        "a write or reply slower than this counts as an outage"),
    STR(stream, "stream", "logloom:alerts", "Redis: the stream key of alerts"),
    STR(timeline_stream, "timeline_stream", "logloom:timelines",
        "Redis: the stream key of timelines"),
    STR(channel, "channel", "logloom:alerts",
        "Redis: the channel of live alert messages (empty: none)"),
    NUM(maxlen, LL_CONF_COUNT, "maxlen", 1000000,
        "Redis: the `XADD MAXLEN ~` cap of each stream (0: none)"),
    NUM(dedupe_ttl_ns, LL_CONF_DURATION, "dedupe_ttl", 7 * 24 * 3600 * LL_NS_PER_SEC,
        "Redis: how long a delivered id is remembered"),
    NUM(dedupe_bytes, LL_CONF_SIZE, "dedupe_bytes", (int64_t)64 << 20,
        "file: how much of its end is read when it is first opened, and of what it appends "
        "after, to recognise records it holds already (0: none)"),
};

const size_t ll_delivery_n_fields = sizeof ll_delivery_fields / sizeof ll_delivery_fields[0];

void ll_delivery_conf_init(struct ll_delivery_conf *c, const char *url)
{
    *c = (struct ll_delivery_conf){.url = ll_strdup(url ? url : "")};
    ll_conf_fill_defaults(ll_delivery_fields, ll_delivery_n_fields, c);
    char err[128];
    for (size_t i = 0; i < ll_delivery_n_fields; i++)
        if (ll_delivery_fields[i].kind == LL_CONF_CHOICE &&
            ll_delivery_conf_set(c, ll_delivery_fields[i].name, ll_delivery_fields[i].def_text,
                                 err, sizeof err) != LL_OK)
            abort(); /* a default the reader refuses: a bug in the table */
}

void ll_delivery_conf_free(struct ll_delivery_conf *c)
{
    ll_free(c->url);
    ll_free(c->stream);
    ll_free(c->timeline_stream);
    ll_free(c->channel);
    *c = (struct ll_delivery_conf){0};
}

static int bad(char *err, size_t errsz, const char *name, const char *value, const char *want)
{
    snprintf(err, errsz, "sink option %s: '%s' is not %s", name, value, want);
    return LL_EINVAL;
}

static bool parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || n < min || n > max)
        return false;
    *out = n;
    return true;
}

static int parse_receive(const char *v, unsigned *out, char *err, size_t errsz)
{
    unsigned mask = 0;
    const char *p = v;
    while (*p) {
        size_t n = strcspn(p, ", ");
        if (n == 6 && strncmp(p, "alerts", 6) == 0)
            mask |= LL_RECEIVE_ALERTS;
        else if (n == 9 && strncmp(p, "timelines", 9) == 0)
            mask |= LL_RECEIVE_TIMELINES;
        else if ((n == 4 && strncmp(p, "both", 4) == 0) || (n == 3 && strncmp(p, "all", 3) == 0))
            mask |= LL_RECEIVE_ALERTS | LL_RECEIVE_TIMELINES;
        else if (n)
            return bad(err, errsz, "receive", v, "alerts, timelines or both");
        p += n;
        p += strspn(p, ", ");
    }
    if (!mask)
        return bad(err, errsz, "receive", v, "alerts, timelines or both");
    *out = mask;
    return LL_OK;
}

static int set_duration(int64_t *out, const char *name, const char *v, bool zero_ok, char *err,
                        size_t errsz)
{
    int64_t d;
    if (ll_duration_parse(v, &d) != LL_OK || d < 0 || (d == 0 && !zero_ok))
        return bad(err, errsz, name, v, "a duration such as 200ms, 5s or 1m");
    *out = d;
    return LL_OK;
}

static void set_str(char **field, const char *v)
{
    ll_free(*field);
    *field = ll_strdup(v);
}

int ll_delivery_conf_set(struct ll_delivery_conf *c, const char *name, const char *v, char *err,
                         size_t errsz)
{
    uint64_t n;
    if (strcmp(name, "receive") == 0)
        return parse_receive(v, &c->receive, err, errsz);
    if (strcmp(name, "batch") == 0 || strcmp(name, "queue") == 0) {
        if (!parse_u64(v, 1, 1000000, &n))
            return bad(err, errsz, name, v, "a count from 1 to 1000000");
        *(strcmp(name, "batch") == 0 ? &c->batch : &c->queue) = (size_t)n;
        return LL_OK;
    }
    if (strcmp(name, "maxlen") == 0) {
        if (!parse_u64(v, 0, UINT64_MAX / 2, &n))
            return bad(err, errsz, name, v, "a count (0: no cap)");
        c->maxlen = n;
        return LL_OK;
    }
    if (strcmp(name, "dedupe_bytes") == 0) {
        if (ll_size_parse(v, &c->dedupe_bytes) != LL_OK)
            return bad(err, errsz, name, v, "a size (64M, 512K; 0: none)");
        return LL_OK;
    }
    if (strcmp(name, "linger") == 0)
        return set_duration(&c->linger_ns, name, v, true, err, errsz);
    if (strcmp(name, "retry_min") == 0)
        return set_duration(&c->retry_min_ns, name, v, false, err, errsz);
    if (strcmp(name, "retry_max") == 0)
        return set_duration(&c->retry_max_ns, name, v, false, err, errsz);
    if (strcmp(name, "connect_timeout") == 0)
        return set_duration(&c->connect_timeout_ns, name, v, false, err, errsz);
    if (strcmp(name, "io_timeout") == 0)
        return set_duration(&c->io_timeout_ns, name, v, false, err, errsz);
    if (strcmp(name, "dedupe_ttl") == 0)
        return set_duration(&c->dedupe_ttl_ns, name, v, false, err, errsz);
    if (strcmp(name, "stream") == 0 || strcmp(name, "timeline_stream") == 0) {
        if (!*v || strlen(v) > 256)
            return bad(err, errsz, name, v, "a key name of 1 to 256 bytes");
        set_str(strcmp(name, "stream") == 0 ? &c->stream : &c->timeline_stream, v);
        return LL_OK;
    }
    if (strcmp(name, "channel") == 0) {
        set_str(&c->channel, v);
        return LL_OK;
    }
    const char *options[sizeof ll_delivery_fields / sizeof ll_delivery_fields[0]];
    for (size_t i = 0; i < ll_delivery_n_fields; i++)
        options[i] = ll_delivery_fields[i].name;
    const char *hint = ll_closest(ll_str_c(name), options, ll_delivery_n_fields);
    snprintf(err, errsz, "unknown sink option '%s'%s%s%s", name, hint ? " (did you mean '" : "",
             hint ? hint : "", hint ? "'?)" : "");
    return LL_EINVAL;
}

/* "a=1&b=2": every part names an option. */
static bool looks_like_options(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        if (!eq || eq == p)
            return false;
        p += n + (p[n] == '&');
    }
    return true;
}

int ll_delivery_conf_parse(struct ll_delivery_conf *c, const char *spec, char *err,
                           size_t errsz)
{
    const char *hash = strrchr(spec, '#');
    if (!hash || !looks_like_options(hash + 1)) {
        ll_delivery_conf_init(c, spec);
        return LL_OK;
    }
    char *url = ll_strndup(spec, (size_t)(hash - spec));
    ll_delivery_conf_init(c, url);
    ll_free(url);
    char *opts = ll_strdup(hash + 1);
    int rc = LL_OK;
    for (char *save = NULL, *part = strtok_r(opts, "&", &save); part && rc == LL_OK;
         part = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(part, '=');
        *eq = '\0';
        rc = ll_delivery_conf_set(c, part, eq + 1, err, errsz);
    }
    ll_free(opts);
    if (rc != LL_OK)
        ll_delivery_conf_free(c);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Masking                                                                   */

/* @p n bytes of @p k contain @p part, ignoring case. */
static bool key_has(const char *k, size_t n, const char *part)
{
    size_t m = strlen(part);
    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(k + i, part, m) == 0)
            return true;
    return false;
}

/* password (libpq, Redis), sslpassword (libpq), sasl.password,
 * ssl.key.password, ssl.keystore.password, sasl.oauthbearer.client.secret,
 * sasl.oauthbearer.config, ssl.key.pem (librdkafka), pass, pwd. */
bool ll_secret_key(const char *k, size_t n)
{
    return key_has(k, n, "password") || key_has(k, n, "secret") ||
           key_has(k, n, "oauthbearer.config") || key_has(k, n, "ssl.key.pem") ||
           (n == 4 && strncasecmp(k, "pass", 4) == 0) || (n == 3 && strncasecmp(k, "pwd", 3) == 0);
}

static void put(struct ll_buf *b, const char *p, size_t n)
{
    ll_buf_append(b, p, n);
}

/* "k=v&k=v" after a '?' of a URI: secret values masked. */
static void mask_query(struct ll_buf *b, const char *q)
{
    while (*q) {
        size_t n = strcspn(q, "&#");
        const char *eq = memchr(q, '=', n);
        if (eq && ll_secret_key(q, (size_t)(eq - q))) {
            put(b, q, (size_t)(eq - q) + 1);
            ll_buf_puts(b, "***");
        } else {
            put(b, q, n);
        }
        q += n;
        if (*q == '#') {
            ll_buf_puts(b, q);
            return;
        }
        if (*q)
            ll_buf_putc(b, *q++);
    }
}

static void mask_uri(struct ll_buf *b, const char *url, const char *sep)
{
    const char *auth = sep + 3;
    size_t auth_len = strcspn(auth, "/?#");
    put(b, url, (size_t)(auth - url));
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++)
        if (*p == '@')
            at = p; /* the last '@': passwords may hold an encoded one */
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) {
            put(b, auth, (size_t)(colon - auth) + 1);
            ll_buf_puts(b, "***");
        } else if (strncmp(url, "redis", 5) == 0) {
            ll_buf_puts(b, "***"); /* redis://password@host, as redis-cli reads it */
        } else {
            put(b, auth, (size_t)(at - auth));
        }
        put(b, at, (size_t)(auth + auth_len - at));
    } else {
        put(b, auth, auth_len);
    }
    const char *rest = auth + auth_len;
    const char *q = strchr(rest, '?');
    if (!q) {
        ll_buf_puts(b, rest);
        return;
    }
    put(b, rest, (size_t)(q + 1 - rest));
    mask_query(b, q + 1);
}

/* libpq's "key=value key='quoted value'" form. */
static void mask_keyvalue(struct ll_buf *b, const char *s)
{
    const char *p = s;
    while (*p) {
        size_t ws = strspn(p, " \t\n");
        put(b, p, ws);
        p += ws;
        size_t klen = strcspn(p, "= \t\n");
        const char *key = p;
        put(b, p, klen);
        p += klen;
        size_t sp = strspn(p, " \t\n");
        put(b, p, sp);
        p += sp;
        if (*p != '=')
            continue;
        ll_buf_putc(b, '=');
        p++;
        sp = strspn(p, " \t\n");
        put(b, p, sp);
        p += sp;
        const char *v = p;
        if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (*p)
                p++;
        } else {
            p += strcspn(p, " \t\n");
        }
        if (ll_secret_key(key, klen))
            ll_buf_puts(b, "***");
        else
            put(b, v, (size_t)(p - v));
    }
}

void ll_url_mask(const char *url, char *out, size_t size)
{
    struct ll_buf b = {0};
    const char *sep = strstr(url, "://");
    size_t scheme = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    if (sep && url + scheme == sep)
        mask_uri(&b, url, sep);
    else if (strchr(url, '='))
        mask_keyvalue(&b, url);
    else
        ll_buf_puts(&b, url);
    snprintf(out, size, "%s", b.data ? b.data : "");
    ll_buf_free(&b);
}
