/* The metrics and health endpoint: its HTTP server fetched over real TCP
 * sockets. */
#include "../testutil.h"

#include "logloom/runner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

/* ------------------------------------------------------------------------ */
/* A tiny HTTP/1.0 client                                                    */

struct reply {
    int status;
    char *head; /* status line and headers, NUL-terminated */
    char *body;
    size_t body_len;
};

static int connect_to(int family, const char *addr, int port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        assert_int_equal(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        assert_int_equal(inet_pton(AF_INET, addr, &a->sin_addr), 1);
        len = sizeof *a;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static struct reply http_at(int family, const char *addr, int port, const char *method,
                            const char *path)
{
    int fd = connect_to(family, addr, port);
    assert_true(fd >= 0);
    char req[256];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: %s\r\n\r\n", method, path, addr);
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);

    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (;;) {
        if (cap - len < 4096)
            buf = realloc(buf, cap *= 2);
        ssize_t got = recv(fd, buf + len, cap - len - 1, 0);
        assert_true(got >= 0); /* a timeout fails the test */
        if (got == 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';

    struct reply r = {0};
    char *end = strstr(buf, "\r\n\r\n");
    assert_non_null(end);
    assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &r.status), 1);
    r.head = strndup(buf, (size_t)(end + 2 - buf));
    r.body_len = len - (size_t)(end + 4 - buf);
    r.body = malloc(r.body_len + 1);
    memcpy(r.body, end + 4, r.body_len);
    r.body[r.body_len] = '\0';
    free(buf);
    return r;
}

static struct reply http(int port, const char *method, const char *path)
{
    return http_at(AF_INET, "127.0.0.1", port, method, path);
}

/* The value of header @p name (case-insensitive), or "" if absent. */
static const char *header(const struct reply *r, const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name);
    out[0] = '\0';
    for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            size_t vlen = strcspn(v, "\r");
            snprintf(out, outsz, "%.*s", (int)vlen, v);
            break;
        }
    }
    return out;
}

static void reply_free(struct reply *r)
{
    free(r->head);
    free(r->body);
}

static void assert_reply(int port, const char *method, const char *path, int status,
                         const char *body)
{
    struct reply r = http(port, method, path);
    assert_int_equal(r.status, status);
    assert_string_equal(r.body, body);
    reply_free(&r);
}

/* ------------------------------------------------------------------------ */
/* Serving                                                                   */

static int serve_setup(void **state)
{
    ll__endpoint *m = ll__endpoint_new();
    char err[256] = "";
    assert_int_equal(ll__endpoint_port(m), 0);
    assert_int_equal(ll__endpoint_serve(m, "127.0.0.1:0", err, sizeof err), LL_OK);
    assert_string_equal(err, "");
    assert_true(ll__endpoint_port(m) > 0 && ll__endpoint_port(m) <= 65535);
    *state = m;
    return 0;
}

static int serve_teardown(void **state)
{
    ll__endpoint_destroy(*state);
    return 0;
}

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

static void metrics_is_empty_until_the_first_publish(void **state)
{
    int port = ll__endpoint_port(*state);
    char ct[128];
    struct reply r = http(port, "GET", "/metrics");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(header(&r, "Content-Type", ct, sizeof ct), CONTENT_TYPE_METRICS);
    reply_free(&r);
}

static void metrics_serves_the_latest_publication(void **state)
{
    ll__endpoint *m = *state;
    int port = ll__endpoint_port(m);
    char ct[128];
    const char *first = "# HELP logloom_events_total Events.\n"
                        "# TYPE logloom_events_total counter\n"
                        "logloom_events_total 224\n";
    ll__endpoint_publish(m, first, strlen(first));
    struct reply r = http(port, "GET", "/metrics");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, first);
    assert_string_equal(header(&r, "Content-Type", ct, sizeof ct), CONTENT_TYPE_METRICS);
    reply_free(&r);

    /* The copy is the endpoint's: the caller's buffer may change at once. */
    char second[] = "logloom_events_total 225\n";
    ll__endpoint_publish(m, second, strlen(second));
    memset(second, 'X', strlen(second));
    assert_reply(port, "GET", "/metrics", 200, "logloom_events_total 225\n");

    /* HEAD: the same headers, no body. */
    r = http(port, "HEAD", "/metrics");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    assert_string_equal(header(&r, "Content-Type", ct, sizeof ct), CONTENT_TYPE_METRICS);
    reply_free(&r);
}

static void healthz_is_ok_until_declared_not_live(void **state)
{
    ll__endpoint *m = *state;
    int port = ll__endpoint_port(m);
    assert_reply(port, "GET", "/healthz", 200, "ok\n");
    ll__endpoint_set_live(m, false, "core thread stalled for 30s");
    assert_reply(port, "GET", "/healthz", 503, "core thread stalled for 30s\n");
    ll__endpoint_set_live(m, false, NULL);
    assert_reply(port, "GET", "/healthz", 503, "not live\n");
    ll__endpoint_set_live(m, true, NULL);
    assert_reply(port, "GET", "/healthz", 200, "ok\n");
    /* Liveness and readiness are independent. */
    assert_reply(port, "GET", "/readyz", 503, "starting\n");
}

static void readyz_answers_503_with_the_reason_until_ready(void **state)
{
    ll__endpoint *m = *state;
    int port = ll__endpoint_port(m);
    char ct[128];
    struct reply r = http(port, "GET", "/readyz");
    assert_int_equal(r.status, 503);
    assert_string_equal(r.body, "starting\n");
    assert_string_equal(header(&r, "Content-Type", ct, sizeof ct), "text/plain; charset=utf-8");
    reply_free(&r);
    ll__endpoint_set_ready(m, false, "catching up: watermark 2026-11-24T09:14:31Z");
    assert_reply(port, "GET", "/readyz", 503, "catching up: watermark 2026-11-24T09:14:31Z\n");
    ll__endpoint_set_ready(m, true, "ignored when ready");
    assert_reply(port, "GET", "/readyz", 200, "ready\n");
    ll__endpoint_set_ready(m, false, "draining");
    assert_reply(port, "GET", "/readyz", 503, "draining\n");
}

static void unknown_paths_are_404_and_other_methods_405(void **state)
{
    int port = ll__endpoint_port(*state);
    char allow[64];
    assert_reply(port, "GET", "/", 404, "not found\n");
    assert_reply(port, "GET", "/metrics/extra", 404, "not found\n");
    assert_reply(port, "GET", "/METRICS", 404, "not found\n");
    struct reply r = http(port, "POST", "/metrics");
    assert_int_equal(r.status, 405);
    assert_string_equal(header(&r, "Allow", allow, sizeof allow), "GET, HEAD");
    reply_free(&r);
    assert_reply(port, "DELETE", "/readyz", 405, "method not allowed\n");
    assert_reply(port, "PUT", "/nowhere", 405, "method not allowed\n");
}

static void an_idle_client_does_not_block_others(void **state)
{
    int port = ll__endpoint_port(*state);
    int idle = connect_to(AF_INET, "127.0.0.1", port);
    assert_true(idle >= 0);
    assert_int_equal(send(idle, "GET /met", 8, MSG_NOSIGNAL), 8); /* and nothing more */
    assert_reply(port, "GET", "/healthz", 200, "ok\n");
    close(idle);
}

static void serving_twice_is_refused(void **state)
{
    char err[256] = "";
    assert_int_equal(ll__endpoint_serve(*state, "127.0.0.1:0", err, sizeof err), LL_EINVAL);
    assert_non_null(strstr(err, "already serving"));
}

/* A publisher replaces the text as fast as it can while a client fetches:
 * every body must be exactly one of the texts, never a mix. */
struct publisher {
    ll__endpoint *m;
    char *texts[3];
    size_t lens[3];
    atomic_bool stop;
    atomic_ulong published;
};

static void *publish_loop(void *arg)
{
    struct publisher *p = arg;
    for (unsigned i = 0; !atomic_load(&p->stop); i++) {
        ll__endpoint_publish(p->m, p->texts[i % 3], p->lens[i % 3]);
        atomic_fetch_add(&p->published, 1);
    }
    return NULL;
}

static void a_scrape_never_sees_a_torn_publication(void **state)
{
    struct publisher p = {.m = *state};
    const size_t sizes[3] = {100, 64 * 1024 + 3, 256 * 1024 + 7};
    for (int i = 0; i < 3; i++) {
        p.lens[i] = sizes[i];
        p.texts[i] = malloc(sizes[i]);
        for (size_t j = 0; j < sizes[i]; j++)
            p.texts[i][j] = j % 64 == 63 ? '\n' : (char)('a' + i);
    }
    ll__endpoint_publish(p.m, p.texts[0], p.lens[0]);
    atomic_init(&p.stop, false);
    atomic_init(&p.published, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, publish_loop, &p), 0);

    /* At least 300 scrapes, and on until the publisher has replaced the text
     * 300 times too (slow under sanitizers) and two texts were seen. */
    unsigned seen[3] = {0}, torn = 0, not_ok = 0;
    for (int k = 0; k < 20000; k++) {
        if (k >= 300 && atomic_load(&p.published) >= 300 &&
            (seen[0] > 0) + (seen[1] > 0) + (seen[2] > 0) >= 2)
            break;
        struct reply r = http(ll__endpoint_port(p.m), "GET", "/metrics");
        int which = -1;
        for (int i = 0; i < 3; i++)
            if (r.body_len == p.lens[i] && memcmp(r.body, p.texts[i], p.lens[i]) == 0)
                which = i;
        not_ok += r.status != 200;
        if (which < 0)
            torn++;
        else
            seen[which]++;
        reply_free(&r);
    }
    atomic_store(&p.stop, true);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(not_ok, 0);
    assert_int_equal(torn, 0);
    /* The publisher really ran alongside the scrapes. */
    assert_true(atomic_load(&p.published) >= 300);
    assert_true((seen[0] > 0) + (seen[1] > 0) + (seen[2] > 0) >= 2);
    for (int i = 0; i < 3; i++)
        free(p.texts[i]);
}

/* ------------------------------------------------------------------------ */
/* Listen addresses                                                          */

static void bad_listen_addresses_are_einval_with_a_reason(void **state)
{
    (void)state;
    const char *bad[] = {
        "",          "9464",          "127.0.0.1",      "127.0.0.1:",     "127.0.0.1:65536",
        "127.0.0.1:-1", "127.0.0.1:94x", "127.0.0.1: 9464", "256.0.0.1:9464", "::1:9464",
        "[::1]",     "[::1]9464",     "[]:9464",        "[127.0.0.1]:9464", "[::1:9464",
        "example.com:9464",           "local host:9464",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ll__endpoint *m = ll__endpoint_new();
        char err[256] = "";
        int rc = ll__endpoint_serve(m, bad[i], err, sizeof err);
        if (rc != LL_EINVAL)
            fail_msg("\"%s\": got %d, want LL_EINVAL", bad[i], rc);
        assert_true(strlen(err) > 0);
        assert_non_null(strstr(err, "metrics listen address"));
        assert_int_equal(ll__endpoint_port(m), 0);
        /* A NULL err is allowed. */
        assert_int_equal(ll__endpoint_serve(m, bad[i], NULL, 0), LL_EINVAL);
        ll__endpoint_destroy(m);
    }
}

static void a_port_already_taken_is_eio(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    char listen_at[64], err[256] = "";
    snprintf(listen_at, sizeof listen_at, "127.0.0.1:%d", ntohs(a.sin_port));

    ll__endpoint *m = ll__endpoint_new();
    assert_int_equal(ll__endpoint_serve(m, listen_at, err, sizeof err), LL_EIO);
    assert_non_null(strstr(err, listen_at));
    assert_non_null(strstr(err, "in use"));
    assert_int_equal(ll__endpoint_port(m), 0);
    ll__endpoint_destroy(m);
    close(fd);

    /* Nor can a second endpoint take the port of a first. */
    ll__endpoint *first = ll__endpoint_new(), *second = ll__endpoint_new();
    assert_int_equal(ll__endpoint_serve(first, "127.0.0.1:0", err, sizeof err), LL_OK);
    snprintf(listen_at, sizeof listen_at, "127.0.0.1:%d", ll__endpoint_port(first));
    assert_int_equal(ll__endpoint_serve(second, listen_at, err, sizeof err), LL_EIO);
    /* ...and the failed one can still serve elsewhere. */
    assert_int_equal(ll__endpoint_serve(second, "127.0.0.1:0", err, sizeof err), LL_OK);
    assert_reply(ll__endpoint_port(second), "GET", "/healthz", 200, "ok\n");
    ll__endpoint_destroy(second);
    ll__endpoint_destroy(first);
}

static void an_address_not_on_this_host_is_eio(void **state)
{
    (void)state;
    ll__endpoint *m = ll__endpoint_new();
    char err[256] = "";
    /* TEST-NET-1 (RFC 5737): well-formed, never a local address. */
    assert_int_equal(ll__endpoint_serve(m, "192.0.2.1:0", err, sizeof err), LL_EIO);
    assert_true(strlen(err) > 0);
    ll__endpoint_destroy(m);
}

static void localhost_and_all_interfaces_are_accepted(void **state)
{
    (void)state;
    const char *ok[] = {"localhost:0", "LOCALHOST:0", ":0", "0.0.0.0:0"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ll__endpoint *m = ll__endpoint_new();
        char err[256] = "";
        if (ll__endpoint_serve(m, ok[i], err, sizeof err) != LL_OK)
            fail_msg("\"%s\": %s", ok[i], err);
        assert_reply(ll__endpoint_port(m), "GET", "/healthz", 200, "ok\n");
        ll__endpoint_destroy(m);
    }
}

static bool ipv6_loopback_works(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void a_bracketed_ipv6_address_binds_ipv6(void **state)
{
    (void)state;
    if (!ipv6_loopback_works())
        skip(); /* no IPv6 in this sandbox */
    ll__endpoint *m = ll__endpoint_new();
    char err[256] = "";
    assert_int_equal(ll__endpoint_serve(m, "[::1]:0", err, sizeof err), LL_OK);
    int port = ll__endpoint_port(m);
    struct reply r = http_at(AF_INET6, "::1", port, "GET", "/healthz");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    /* Exactly that address: not IPv4 loopback. */
    int fd = connect_to(AF_INET, "127.0.0.1", port);
    assert_true(fd < 0);
    ll__endpoint_destroy(m);
}

static void destroy_stops_serving(void **state)
{
    (void)state;
    ll__endpoint *m = ll__endpoint_new();
    char err[256];
    assert_int_equal(ll__endpoint_serve(m, "127.0.0.1:0", err, sizeof err), LL_OK);
    int port = ll__endpoint_port(m);
    ll__endpoint_publish(m, "a 1\n", 4);
    assert_reply(port, "GET", "/metrics", 200, "a 1\n");
    ll__endpoint_destroy(m);
    int fd = connect_to(AF_INET, "127.0.0.1", port);
    assert_true(fd < 0);
    /* Never served: destroy alone is fine, and NULL is accepted. */
    m = ll__endpoint_new();
    ll__endpoint_publish(m, "b 2\n", 4);
    ll__endpoint_destroy(m);
    ll__endpoint_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(metrics_is_empty_until_the_first_publish, serve_setup,
                                        serve_teardown),
        cmocka_unit_test_setup_teardown(metrics_serves_the_latest_publication, serve_setup,
                                        serve_teardown),
        cmocka_unit_test_setup_teardown(healthz_is_ok_until_declared_not_live, serve_setup,
                                        serve_teardown),
        cmocka_unit_test_setup_teardown(readyz_answers_503_with_the_reason_until_ready,
                                        serve_setup, serve_teardown),
        cmocka_unit_test_setup_teardown(unknown_paths_are_404_and_other_methods_405, serve_setup,
                                        serve_teardown),
        cmocka_unit_test_setup_teardown(an_idle_client_does_not_block_others, serve_setup,
                                        serve_teardown),
        cmocka_unit_test_setup_teardown(serving_twice_is_refused, serve_setup, serve_teardown),
        cmocka_unit_test_setup_teardown(a_scrape_never_sees_a_torn_publication, serve_setup,
                                        serve_teardown),
        cmocka_unit_test(bad_listen_addresses_are_einval_with_a_reason),
        cmocka_unit_test(a_port_already_taken_is_eio),
        cmocka_unit_test(an_address_not_on_this_host_is_eio),
        cmocka_unit_test(localhost_and_all_interfaces_are_accepted),
        cmocka_unit_test(a_bracketed_ipv6_address_binds_ipv6),
        cmocka_unit_test(destroy_stops_serving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
