/* The Redis driver: each alert appended to a stream (and announced on a
 * channel), each timeline to a second stream, by a server-side script that
 * first claims the record's id (and version): a record delivered twice,
 * after a reconnect or a restart, is appended once; an alert that grew (the
 * daemon writes it as it opens and grows) is appended again, with its larger
 * count, for readers that fold the stream by id. A batch is pipelined: one
 * EVALSHA per CHUNK records, then the replies.
 *
 * hiredis 0.14 has no TLS: rediss:// is refused with that reason; reach a
 * TLS-only server through a local TLS proxy or a unix socket. */
#include "delivery_int.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Up to CHUNK records per call. KEYS: per record, its id's claim and its
 * stream. ARGV: claim TTL in ms, MAXLEN (0: no cap), channel ("" none), then
 * per record its id, type, version (an alert's count), record and compact
 * message. The claim holds the version appended last: a record is appended
 * only if it is new or a larger version of one appended (an alert that
 * grew), so a record delivered again adds nothing; only new ones are
 * announced on the channel. Returns how many records were appended. */
#define CHUNK 64
#define PER_RECORD 5
static const char script[] =
    "local ttl, maxlen, channel = ARGV[1], ARGV[2], ARGV[3]\n"
    "local added = 0\n"
    "for i = 1, #KEYS / 2 do\n"
    "  local a = 3 + (i - 1) * 5\n"
    "  local had = redis.call('GET', KEYS[2 * i - 1])\n"
    "  if not had or tonumber(ARGV[a + 3]) > tonumber(had) then\n"
    "    redis.call('SET', KEYS[2 * i - 1], ARGV[a + 3], 'PX', ttl)\n"
    "    if maxlen ~= '0' then\n"
    "      redis.call('XADD', KEYS[2 * i], 'MAXLEN', '~', maxlen, '*', 'id', ARGV[a + 1],"
    " 'type', ARGV[a + 2], 'record', ARGV[a + 4])\n"
    "    else\n"
    "      redis.call('XADD', KEYS[2 * i], '*', 'id', ARGV[a + 1], 'type', ARGV[a + 2],"
    " 'record', ARGV[a + 4])\n"
    "    end\n"
    "    if not had and channel ~= '' and ARGV[a + 5] ~= '' then\n"
    "      redis.call('PUBLISH', channel, ARGV[a + 5])\n"
    "    end\n"
    "    added = added + 1\n"
    "  end\n"
    "end\n"
    "return added\n";

struct redis {
    const struct ll_delivery_conf *conf;
    char *host, *path; /* TCP host, or unix socket path */
    int port;
    char *user, *password;
    int db;
    redisContext *ctx;
    char sha[41];
};

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* @p n bytes of @p s, %XX decoded. */
static char *decode(const char *s, size_t n)
{
    char *out = ll_malloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static bool parse_db(const char *s, size_t n, int *db)
{
    if (!n)
        return true;
    char buf[16];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    if (*end || v < 0 || v > 100000)
        return false;
    *db = (int)v;
    return true;
}

/* "?db=2&password=x&user=u" of a unix:// URL. */
static bool parse_query(struct redis *r, const char *q)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        if (!eq)
            return false;
        size_t k = (size_t)(eq - q), vlen = n - k - 1;
        if (k == 2 && strncmp(q, "db", 2) == 0) {
            if (!parse_db(eq + 1, vlen, &r->db))
                return false;
        } else if (k == 8 && strncmp(q, "password", 8) == 0) {
            ll_free(r->password);
            r->password = decode(eq + 1, vlen);
        } else if (k == 4 && strncmp(q, "user", 4) == 0) {
            ll_free(r->user);
            r->user = decode(eq + 1, vlen);
        } else {
            return false;
        }
        q += n + (q[n] == '&');
    }
    return true;
}

/* redis://[user[:password]@]host[:port][/db] */
static bool parse_tcp(struct redis *r, const char *s)
{
    const char *end = s + strcspn(s, "/?");
    const char *at = NULL;
    for (const char *p = s; p < end; p++)
        if (*p == '@')
            at = p;
    if (at) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        if (colon) {
            if (colon > s)
                r->user = decode(s, (size_t)(colon - s));
            r->password = decode(colon + 1, (size_t)(at - colon - 1));
        } else {
            r->password = decode(s, (size_t)(at - s)); /* redis://password@host, as redis-cli */
        }
        s = at + 1;
    }
    const char *host_end = end;
    if (*s == '[') { /* [::1]:6379 */
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (!close)
            return false;
        r->host = ll_strndup(s + 1, (size_t)(close - s - 1));
        s = close + 1;
    } else {
        const char *colon = memchr(s, ':', (size_t)(end - s));
        host_end = colon ? colon : end;
        r->host = ll_strndup(s, (size_t)(host_end - s));
        s = host_end;
    }
    if (!*r->host) {
        ll_free(r->host);
        r->host = ll_strdup("127.0.0.1");
    }
    r->port = 6379;
    if (*s == ':') {
        char *e;
        long port = strtol(s + 1, &e, 10);
        if (e == s + 1 || e != end || port <= 0 || port > 65535)
            return false;
        r->port = (int)port;
    }
    if (*end == '/') {
        size_t n = strcspn(end + 1, "?");
        if (!parse_db(end + 1, n, &r->db))
            return false;
        end += 1 + n;
    }
    return *end != '?' || parse_query(r, end + 1);
}

static void redis_free(struct redis *r)
{
    if (r->ctx)
        redisFree(r->ctx);
    ll_free(r->host);
    ll_free(r->path);
    ll_free(r->user);
    ll_free(r->password);
    ll_free(r);
}

static int redis_open(const struct ll_delivery_conf *c, void **out, char *err, size_t errsz)
{
    const char *u = c->url;
    if (strncmp(u, "rediss://", 9) == 0) {
        snprintf(err, errsz, "TLS is not supported (hiredis 0.14 has none): reach the server "
                             "through a local TLS proxy such as stunnel, or a unix socket");
        return LL_EINVAL;
    }
    struct redis *r = ll_calloc(1, sizeof *r);
    r->conf = c;
    bool ok;
    if (strncmp(u, "unix://", 7) == 0) {
        const char *path = u + 7;
        size_t n = strcspn(path, "?");
        r->path = decode(path, n);
        ok = r->path[0] == '/' && (!path[n] || parse_query(r, path + n + 1));
    } else {
        ok = parse_tcp(r, u + 8);
    }
    if (!ok) {
        snprintf(err, errsz, "not a Redis URL: use redis://[[user]:password@]host[:port][/db] "
                             "or unix:///path/redis.sock[?db=N&password=...]");
        redis_free(r);
        return LL_EINVAL;
    }
    *out = r;
    return LL_OK;
}

static struct timeval tv_of(int64_t ns)
{
    return (struct timeval){.tv_sec = ns / LL_NS_PER_SEC,
                            .tv_usec = (ns % LL_NS_PER_SEC) / 1000};
}

/* Runs one command; @returns its reply (caller frees) or NULL on an I/O
 * error, with the reason in @p err. */
static redisReply *command(struct redis *r, int argc, const char **argv, char *err,
                           size_t errsz)
{
    redisReply *rep = redisCommandArgv(r->ctx, argc, argv, NULL);
    if (!rep)
        snprintf(err, errsz, "%s", r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");
    return rep;
}

static bool is_error(const redisReply *rep, const char *prefix)
{
    return rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, prefix, strlen(prefix)) == 0;
}

/* AUTH, SELECT and SCRIPT LOAD on a fresh connection. */
static int setup(struct redis *r, char *err, size_t errsz)
{
    redisReply *rep;
    if (r->password) {
        const char *argv[3] = {"AUTH", r->user ? r->user : r->password, r->password};
        if (!(rep = command(r, r->user ? 3 : 2, argv, err, errsz)))
            return LL_EAGAIN;
        bool ok = rep->type != REDIS_REPLY_ERROR;
        if (!ok) /* the server's words never hold the password */
            snprintf(err, errsz, "authentication failed: %s", rep->str);
        freeReplyObject(rep);
        if (!ok)
            return LL_EINVAL;
    }
    if (r->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", r->db);
        const char *argv[2] = {"SELECT", db};
        if (!(rep = command(r, 2, argv, err, errsz)))
            return LL_EAGAIN;
        bool ok = rep->type != REDIS_REPLY_ERROR;
        if (!ok)
            snprintf(err, errsz, "SELECT %s: %s", db, rep->str);
        freeReplyObject(rep);
        if (!ok)
            return LL_EINVAL;
    }
    const char *argv[3] = {"SCRIPT", "LOAD", script};
    if (!(rep = command(r, 3, argv, err, errsz)))
        return LL_EAGAIN;
    int rc = LL_OK;
    if (rep->type == REDIS_REPLY_STRING && rep->len == 40) {
        memcpy(r->sha, rep->str, 41);
    } else {
        snprintf(err, errsz, "SCRIPT LOAD: %s",
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        /* NOAUTH: a password is needed; LOADING: the server is starting. */
        rc = is_error(rep, "NOAUTH") ? LL_EINVAL : LL_EAGAIN;
        if (rc == LL_EINVAL)
            snprintf(err, errsz, "the server wants a password (NOAUTH)");
    }
    freeReplyObject(rep);
    return rc;
}

static int redis_connect(void *v, char *err, size_t errsz)
{
    struct redis *r = v;
    struct timeval tv = tv_of(r->conf->connect_timeout_ns < 10 * LL_NS_PER_SEC
                                  ? r->conf->connect_timeout_ns
                                  : 10 * LL_NS_PER_SEC);
    r->ctx = r->path ? redisConnectUnixWithTimeout(r->path, tv)
                     : redisConnectWithTimeout(r->host, r->port, tv);
    if (!r->ctx || r->ctx->err) {
        snprintf(err, errsz, "%s", r->ctx ? r->ctx->errstr : "out of memory");
        if (r->ctx)
            redisFree(r->ctx);
        r->ctx = NULL;
        return LL_EAGAIN;
    }
    redisSetTimeout(r->ctx, tv_of(r->conf->io_timeout_ns));
    int rc = setup(r, err, errsz);
    if (rc != LL_OK) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
    return rc;
}

static enum ll__wr redis_write(void *v, struct ll__rec *const *recs, size_t n, size_t *bad,
                               char *err, size_t errsz)
{
    struct redis *r = v;
    (void)bad;
    char ttl[24], maxlen[24], nkeys[16];
    snprintf(ttl, sizeof ttl, "%lld", (long long)(r->conf->dedupe_ttl_ns / LL_NS_PER_MS));
    snprintf(maxlen, sizeof maxlen, "%llu", (unsigned long long)r->conf->maxlen);
    /* argv: EVALSHA sha numkeys, 2 keys per record, 3 args, PER_RECORD per record. */
    const char *argv[3 + 2 * CHUNK + 3 + PER_RECORD * CHUNK];
    size_t lens[sizeof argv / sizeof argv[0]];
    char claims[CHUNK][300], versions[CHUNK][24];
    size_t calls = 0;
    for (size_t at = 0; at < n; at += CHUNK, calls++) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        snprintf(nkeys, sizeof nkeys, "%zu", 2 * k);
        size_t c = 0;
        argv[c++] = "EVALSHA";
        argv[c++] = r->sha;
        argv[c++] = nkeys;
        for (size_t i = 0; i < k; i++) {
            const struct ll__rec *rec = recs[at + i];
            const char *stream = rec->kind == LL_RECEIVE_ALERTS ? r->conf->stream
                                                                : r->conf->timeline_stream;
            snprintf(claims[i], sizeof claims[i], "%s:seen:%s", stream, rec->id);
            argv[c++] = claims[i];
            argv[c++] = stream;
        }
        argv[c++] = ttl;
        argv[c++] = maxlen;
        argv[c++] = r->conf->channel;
        for (size_t i = 0; i < k; i++) {
            const struct ll__rec *rec = recs[at + i];
            bool alert = rec->kind == LL_RECEIVE_ALERTS;
            argv[c++] = rec->id;
            argv[c++] = alert ? "alert" : "timeline";
            snprintf(versions[i], sizeof versions[i], "%llu", (unsigned long long)rec->version);
            argv[c++] = versions[i];
            argv[c] = rec->json.ptr;
            lens[c++] = rec->json.len;
            argv[c] = alert ? rec->compact.ptr : "";
            lens[c++] = alert ? rec->compact.len : 0;
        }
        for (size_t i = 0; i < c; i++) { /* records and messages have their lengths */
            bool sized = i >= 3 + 2 * k + 3 && (i - (3 + 2 * k + 3)) % PER_RECORD >= 3;
            if (!sized)
                lens[i] = strlen(argv[i]);
        }
        redisAppendCommandArgv(r->ctx, (int)c, argv, lens);
    }
    enum ll__wr wr = WR_OK;
    bool noscript = false;
    for (size_t i = 0; i < calls; i++) { /* one reply per call */
        redisReply *rep = NULL;
        if (redisGetReply(r->ctx, (void **)&rep) != REDIS_OK || !rep) {
            snprintf(err, errsz, "%s", r->ctx->errstr[0] ? r->ctx->errstr : "connection lost");
            return WR_OUTAGE;
        }
        if (rep->type == REDIS_REPLY_ERROR && wr == WR_OK) {
            snprintf(err, errsz, "%s", rep->str);
            noscript = is_error(rep, "NOSCRIPT");
            wr = is_error(rep, "NOAUTH") || is_error(rep, "WRONGPASS") ? WR_OUTAGE : WR_RETRY;
        }
        freeReplyObject(rep);
    }
    /* A restarted or flushed server forgot the script: load it again; the
     * records it already appended are recognised by their ids. */
    if (noscript) {
        char e2[128];
        const char *load[3] = {"SCRIPT", "LOAD", script};
        redisReply *l = command(r, 3, load, e2, sizeof e2);
        if (!l)
            return WR_OUTAGE;
        freeReplyObject(l);
    }
    return wr;
}

static void redis_disconnect(void *v)
{
    struct redis *r = v;
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
}

static void redis_destroy(void *v)
{
    redis_free(v);
}

const struct ll__driver_ops ll__redis_ops = {"redis", redis_open, redis_connect, redis_write,
                                             redis_disconnect, redis_destroy};
