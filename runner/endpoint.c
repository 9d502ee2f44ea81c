/* The metrics and health endpoint: a small libmicrohttpd server that
 * answers /metrics with the latest text the core thread published, and
 * /healthz and /readyz with the state it set.
 *
 * The published text is an immutable, reference-counted snapshot. Publishing
 * copies the text into a new snapshot before taking the lock and only swaps
 * a pointer under it; a scrape takes a reference under the lock and hands the
 * snapshot's bytes to MHD without copying, and MHD drops the reference when
 * it destroys the response. So the core thread never waits for a copy or for
 * a slow client, and a client never sees two publications mixed. The cost is
 * that a slow client pins one old snapshot until its response is done (at
 * most 32 of them, each for at most the connection timeout).
 *
 * SIGPIPE: MHD suppresses it for the threads it starts (MSG_NOSIGNAL on
 * Linux; MHD_FEATURE_AUTOSUPPRESS_SIGPIPE is reported by the library), so a
 * client that hangs up never kills the daemon, and nothing here touches the
 * process's signal dispositions. */
#include "logloom/runner.h"

#include <errno.h>
#include <microhttpd.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#if MHD_VERSION < 0x00097302
#error "libmicrohttpd 0.9.73 or newer is needed (for ..._with_free_callback_cls)"
#endif

#define MAX_CONNECTIONS 32u   /* a scraper or two and probes; the rest wait */
#define CONNECTION_TIMEOUT 10u /* seconds idle before MHD closes a connection */
#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"

/* ------------------------------------------------------------------------ */
/* Published text                                                            */

/* One publication: immutable once made, freed by whoever drops the last
 * reference (the endpoint when replaced, or MHD after the response). */
struct snapshot {
    atomic_size_t refs;
    size_t len;
    char text[];
};

static struct snapshot *snapshot_new(const char *text, size_t len)
{
    struct snapshot *s = ll_malloc(sizeof *s + len + 1);
    atomic_init(&s->refs, 1);
    s->len = len;
    if (len)
        memcpy(s->text, text, len);
    s->text[len] = '\0';
    return s;
}

/* An MHD_ContentReaderFreeCallback as well. */
static void snapshot_unref(void *p)
{
    struct snapshot *s = p;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        ll_free(s);
}

struct ll__endpoint {
    pthread_mutex_t lock; /* guards the fields up to the daemon */
    struct snapshot *current;
    char *not_live;  /* /healthz body while not live, else NULL */
    char *not_ready; /* /readyz body while not ready, else NULL */
    bool capturing;  /* MHD's messages go to start_err while starting */
    char start_err[256];

    /* Touched only by the thread that serves and destroys. */
    struct MHD_Daemon *daemon;
    int port;
};

ll__endpoint *ll__endpoint_new(void)
{
    ll__endpoint *m = ll_calloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    m->current = snapshot_new("", 0);
    m->not_ready = ll_strdup("starting\n");
    return m;
}

void ll__endpoint_publish(ll__endpoint *m, const char *text, size_t len)
{
    struct snapshot *s = snapshot_new(text, len);
    pthread_mutex_lock(&m->lock);
    struct snapshot *old = m->current;
    m->current = s;
    pthread_mutex_unlock(&m->lock);
    snapshot_unref(old);
}

/* The 503 body for a failing probe: the reason and a newline. */
static char *probe_body(bool ok, const char *reason, const char *fallback)
{
    if (ok)
        return NULL;
    struct ll_buf b = {0};
    ll_buf_puts(&b, reason && *reason ? reason : fallback);
    ll_buf_putc(&b, '\n');
    return b.data;
}

static void set_probe(ll__endpoint *m, char **slot, char *body)
{
    pthread_mutex_lock(&m->lock);
    char *old = *slot;
    *slot = body;
    pthread_mutex_unlock(&m->lock);
    ll_free(old);
}

void ll__endpoint_set_ready(ll__endpoint *m, bool ready, const char *reason)
{
    set_probe(m, &m->not_ready, probe_body(ready, reason, "not ready"));
}

void ll__endpoint_set_live(ll__endpoint *m, bool live, const char *reason)
{
    set_probe(m, &m->not_live, probe_body(live, reason, "not live"));
}

/* ------------------------------------------------------------------------ */
/* HTTP (runs on MHD's thread)                                               */

/* Queues @p r (NULL when MHD ran out of memory) and drops our reference. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned status,
                               struct MHD_Response *r, const char *type)
{
    if (!r)
        return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (ok == MHD_YES && status == MHD_HTTP_METHOD_NOT_ALLOWED)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (ok == MHD_YES)
        ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result respond_static(struct MHD_Connection *conn, unsigned status,
                                      const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    return respond(conn, status, r, CONTENT_TYPE_TEXT);
}

static enum MHD_Result respond_metrics(ll__endpoint *m, struct MHD_Connection *conn)
{
    pthread_mutex_lock(&m->lock);
    struct snapshot *s = m->current;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&m->lock);
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(
        s->len, s->text, snapshot_unref, s);
    if (!r)
        snapshot_unref(s);
    return respond(conn, MHD_HTTP_OK, r, CONTENT_TYPE_METRICS);
}

static enum MHD_Result respond_probe(ll__endpoint *m, struct MHD_Connection *conn,
                                     char *const *failing, const char *ok_text)
{
    struct MHD_Response *r = NULL;
    pthread_mutex_lock(&m->lock);
    const char *body = *failing;
    if (body)
        r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    pthread_mutex_unlock(&m->lock);
    if (!body)
        return respond_static(conn, MHD_HTTP_OK, ok_text);
    return respond(conn, MHD_HTTP_SERVICE_UNAVAILABLE, r, CONTENT_TYPE_TEXT);
}

/* Answers on the first call, when the headers are in: no route reads a body,
 * and MHD discards one (closing the connection) when the answer comes first. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    ll__endpoint *m = cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (strcmp(url, "/metrics") == 0)
        return respond_metrics(m, conn);
    if (strcmp(url, "/healthz") == 0)
        return respond_probe(m, conn, &m->not_live, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return respond_probe(m, conn, &m->not_ready, "ready\n");
    return respond_static(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* MHD's diagnostics: kept as the failure reason while starting (the first
 * one is the cause: "Failed to bind to port ...: Address already in use"),
 * logged as warnings after. */
__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    ll__endpoint *m = cls;
    char msg[sizeof m->start_err];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
        msg[--n] = '\0';
    pthread_mutex_lock(&m->lock);
    bool capturing = m->capturing;
    if (capturing && !m->start_err[0])
        memcpy(m->start_err, msg, n + 1);
    pthread_mutex_unlock(&m->lock);
    if (!capturing)
        ll_log(LL_LEVEL_WARN, "metrics", "%s", msg);
}

/* ------------------------------------------------------------------------ */
/* Serving                                                                   */

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || !errsz)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* Decimal 0..65535, digits only. */
static bool parse_port(const char *s, uint16_t *port)
{
    unsigned long v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* Splits "host:port", "[v6]:port" or ":port" into @p host (a numeric
 * literal: "localhost" and the empty host are translated) and @p port.
 * OUT: family is AF_INET6 when the host was bracketed. */
static const char *split_listen(const char *listen, char *host, size_t hostsz,
                                const char **port, int *family)
{
    const char *h = listen, *end;
    if (*listen == '[') {
        h = listen + 1;
        end = strchr(h, ']');
        if (!end || end[1] != ':')
            return "expected [address]:port";
        if (end == h)
            return "empty IPv6 address";
        *port = end + 2;
        *family = AF_INET6;
    } else {
        end = strrchr(listen, ':');
        if (!end)
            return "expected host:port";
        if (memchr(listen, ':', (size_t)(end - listen)))
            return "an IPv6 address needs brackets: [address]:port";
        *port = end + 1;
        *family = AF_INET;
    }
    size_t hlen = (size_t)(end - h);
    if (hlen >= hostsz)
        return "address too long";
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (*family == AF_INET && hlen == 0)
        strcpy(host, "0.0.0.0");
    else if (*family == AF_INET && strcasecmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    return NULL;
}

/* Resolves @p listen to a socket address without any name lookup. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, char *err,
                        size_t errsz)
{
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    const char *port = NULL, *why;
    int family = AF_UNSPEC;
    uint16_t portnum = 0;
    if (!listen)
        listen = "";
    why = split_listen(listen, host, sizeof host, &port, &family);
    if (!why && !parse_port(port, &portnum))
        why = "the port must be a number from 0 to 65535";
    if (why) {
        set_err(err, errsz, "metrics listen address \"%s\": %s", listen, why);
        return LL_EINVAL;
    }
    struct addrinfo hints = {
        .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
        .ai_family = family,
        .ai_socktype = SOCK_STREAM,
    };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 || !res || res->ai_addrlen > sizeof *ss) {
        set_err(err, errsz, "metrics listen address \"%s\": \"%s\" is not an %s address%s",
                listen, host, family == AF_INET6 ? "IPv6" : "IPv4",
                family == AF_INET ? " or localhost (host names are not resolved)" : "");
        if (res)
            freeaddrinfo(res);
        return LL_EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return LL_OK;
}

static uint16_t sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

int ll__endpoint_serve(ll__endpoint *m, const char *listen, char *err, size_t errsz)
{
    struct sockaddr_storage ss;
    if (m->daemon) {
        set_err(err, errsz, "metrics endpoint already serving on port %d", m->port);
        return LL_EINVAL;
    }
    int rc = parse_listen(listen, &ss, err, errsz);
    if (rc != LL_OK)
        return rc;

    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6; /* without MHD_USE_DUAL_STACK: v6 only */
    pthread_mutex_lock(&m->lock);
    m->capturing = true;
    m->start_err[0] = '\0';
    pthread_mutex_unlock(&m->lock);
    errno = 0;
    /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: SO_REUSEPORT would let a second
     * process share the port instead of failing; MHD's own SO_REUSEADDR only
     * skips TIME_WAIT. */
    m->daemon = MHD_start_daemon(
        flags, sockaddr_port(&ss), NULL, NULL, on_request, m,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, m,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT,
        MHD_OPTION_END);
    int saved = errno;
    char why[sizeof m->start_err];
    pthread_mutex_lock(&m->lock);
    m->capturing = false;
    memcpy(why, m->start_err, sizeof why);
    pthread_mutex_unlock(&m->lock);

    if (!m->daemon) {
        set_err(err, errsz, "cannot serve metrics on %s: %s", listen,
                why[0] ? why : strerror(saved ? saved : EIO));
        return LL_EIO;
    }
    if (why[0])
        ll_log(LL_LEVEL_WARN, "metrics", "%s", why);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info && info->port ? info->port : sockaddr_port(&ss);
    return LL_OK;
}

int ll__endpoint_port(const ll__endpoint *m)
{
    return m->daemon ? m->port : 0;
}

void ll__endpoint_destroy(ll__endpoint *m)
{
    if (!m)
        return;
    if (m->daemon)
        MHD_stop_daemon(m->daemon); /* joins MHD's thread, frees its responses */
    snapshot_unref(m->current);
    ll_free(m->not_live);
    ll_free(m->not_ready);
    pthread_mutex_destroy(&m->lock);
    ll_free(m);
}

