/* `logloom repartition`: reads a raw topic (keyed by pod, or not at all)
 * as a consumer group and produces each line again, keyed by its
 * correlation id, into a keyed topic, so that a correlating group finds
 * every line of a workflow in one partition.
 *
 * A line without an id takes the id of the workflow its link key names,
 * as the correlator would join it: a line with an id that names a child's
 * pid (childPid) or a connection id teaches that key; a line of that pid
 * on the same host, or of that connection, is keyed by the id it taught.
 * A line that comes before its key is taught goes without a key. The
 * newest teacher wins; the oldest keys are forgotten past LINKS_MAX.
 *
 * Nothing is lost or committed early: lines are produced in batches by an
 * idempotent producer, and the raw offsets of a batch are committed only
 * after every delivery report of it came back fine. A partition taken away
 * is committed as far as what was delivered first. */
#include "logloom/core.h"
#include "logloom/ingest.h"

#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <string.h>

#include "cli.h"

#define BATCH_EVENTS 10000
#define BATCH_NS (100 * LL_NS_PER_MS)
#define FLUSH_MS 30000
#define LINKS_MAX 65536

/* A link key ("p" host, pid; "c" connection id) and the correlation id of
 * the workflow that taught it, in one allocation. */
struct link {
    uint64_t hash;
    size_t fifo_at; /* its slot in the teaching order */
    size_t key_len, id_len;
    char *id;
    char key[];
};

struct repart {
    ll_kafka *in;
    rd_kafka_t *out;
    const char *to;
    uint64_t seq, delivered; /* read order: last read, last of a delivered batch */
    uint64_t failed, produced, unkeyed, linked;
    struct ll_idmap links;
    struct link **fifo; /* LINKS_MAX slots: the order keys were taught in */
    size_t fifo_next;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void ll_cmd_repartition_usage(FILE *out)
{
    fprintf(out,
            "usage: logloom repartition --brokers LIST --group ID --from TOPIC --to TOPIC\n"
            "                           [--id-header NAME | --id-from-key]\n"
            "                           [--property NAME=VALUE]...\n"
            "\n"
            "Consume the raw topic TOPIC (--from) as member of consumer group ID and produce\n"
            "each line to --to keyed by its correlation id (from the line, else the header\n"
            "or the key), with an idempotent producer; offsets are committed after the\n"
            "brokers acknowledged what was produced. A line without an id takes the id\n"
            "its link key was taught (a child's pid named by a line with an id, on the\n"
            "same host; a connection id); else it goes without a key.\n"
            "Properties are librdkafka's, for both the consumer and the producer.\n"
            "SIGTERM/SIGINT: deliver what was read, commit, leave the group, exit 0.\n"
            "\n"
            "exit status: 0 stopped, 1 a delivery failed, 2 bad arguments\n");
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct repart *r = opaque;
    if (m->err) {
        r->failed++;
        ll_log(LL_LEVEL_ERROR, "repartition", "delivery to %s: %s", r->to,
               rd_kafka_err2str(m->err));
    }
}

/* Waits for every delivery report; @returns true if all were fine, and
 * then everything read so far is delivered. */
static bool deliver(struct repart *r)
{
    if (rd_kafka_flush(r->out, FLUSH_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ll_log(LL_LEVEL_ERROR, "repartition", "%s: not acknowledged in %d s", r->to,
               FLUSH_MS / 1000);
        return false;
    }
    if (r->failed)
        return false;
    r->delivered = r->seq;
    return true;
}

static void commit_all(struct repart *r, bool sync)
{
    for (int i = 0; i < ll_kafka_slots(r->in); i++)
        if (ll_kafka_source(r->in, i))
            ll_kafka_stage(r->in, i, r->delivered + 1, NULL);
    ll_kafka_commit(r->in, sync);
}

static void on_revoked(void *ctx, int slot, bool lost)
{
    struct repart *r = ctx;
    if (!lost && deliver(r))
        ll_kafka_stage(r->in, slot, r->delivered + 1, NULL);
}

static struct ll_str link_key(const void *p)
{
    const struct link *l = p;
    return (struct ll_str){l->key, l->key_len};
}

/* The text of a link key into @p buf: @p kind, then @p a, then @p b;
 * empty (no key) if it does not fit. */
static struct ll_str make_key(char kind, struct ll_str a, struct ll_str b, char *buf,
                              size_t size)
{
    int n = snprintf(buf, size, "%c%.*s\x1f%.*s", kind, (int)a.len, a.ptr, (int)b.len, b.ptr);
    return (struct ll_str){buf, n < 0 || (size_t)n >= size ? 0 : (size_t)n};
}

static struct ll_str pid_key(const struct ll_event *ev, int64_t pid, char *buf, size_t size)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)pid);
    return make_key('p', ev->host, ll_str_c(num), buf, size);
}

/* @p key now leads to @p ev's correlation id. */
static void teach(struct repart *r, struct ll_str key, const struct ll_event *ev)
{
    if (!key.len)
        return;
    uint64_t h = ll_hash_keyed(key.ptr, key.len);
    struct link *old = ll_idmap_get(&r->links, h, key);
    if (old && ll_str_eq((struct ll_str){old->id, old->id_len}, ev->corr_id))
        return;
    struct link *l = ll_malloc(sizeof *l + key.len + ev->corr_id.len);
    *l = (struct link){.hash = h, .key_len = key.len, .id_len = ev->corr_id.len};
    memcpy(l->key, key.ptr, key.len);
    l->id = l->key + key.len;
    memcpy(l->id, ev->corr_id.ptr, ev->corr_id.len);
    if (old) { /* the newest teacher wins; the old one leaves the order */
        ll_idmap_replace(&r->links, h, old, l);
        r->fifo[old->fifo_at] = NULL;
        ll_free(old);
    } else {
        ll_idmap_put(&r->links, h, l);
    }
    l->fifo_at = r->fifo_next++ % LINKS_MAX;
    struct link *gone = r->fifo[l->fifo_at];
    if (gone) {
        ll_idmap_del(&r->links, gone->hash, gone);
        ll_free(gone);
    }
    r->fifo[l->fifo_at] = l;
}

static struct ll_str taught(const struct repart *r, struct ll_str key)
{
    if (!key.len)
        return LL_STR("");
    const struct link *l = ll_idmap_get(&r->links, ll_hash_keyed(key.ptr, key.len), key);
    return l ? (struct ll_str){l->id, l->id_len} : LL_STR("");
}

/* The key @p ev goes out with: its correlation id (after it taught its
 * link keys), else the one a link key of it was taught. */
static struct ll_str key_of(struct repart *r, const struct ll_event *ev)
{
    char buf[600];
    if (ev->corr_id.len) {
        if (ev->flags & LL_EV_HAS_CHILD_PID)
            teach(r, pid_key(ev, ev->child_pid, buf, sizeof buf), ev);
        if (ev->conn_id.len)
            teach(r, make_key('c', ev->conn_id, LL_STR(""), buf, sizeof buf), ev);
        return ev->corr_id;
    }
    struct ll_str id = LL_STR("");
    if (ev->flags & LL_EV_HAS_PID)
        id = taught(r, pid_key(ev, ev->pid, buf, sizeof buf));
    if (!id.len && ev->conn_id.len)
        id = taught(r, make_key('c', ev->conn_id, LL_STR(""), buf, sizeof buf));
    if (id.len)
        r->linked++;
    return id;
}

static void links_free(struct repart *r)
{
    for (size_t i = 0; i < LINKS_MAX; i++)
        ll_free(r->fifo[i]);
    ll_free(r->fifo);
    ll_idmap_free(&r->links);
}

static bool produce(struct repart *r, const struct ll_event *ev)
{
    struct ll_str key = key_of(r, ev);
    if (!key.len)
        r->unkeyed++;
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(r->out, RD_KAFKA_V_TOPIC(r->to),
                                  RD_KAFKA_V_VALUE((void *)ev->line.ptr, ev->line.len),
                                  RD_KAFKA_V_KEY(key.len ? key.ptr : NULL, key.len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(r->out, 10);
    if (e) {
        ll_log(LL_LEVEL_ERROR, "repartition", "producing to %s: %s", r->to,
               rd_kafka_err2str(e));
        return false;
    }
    r->produced++;
    return true;
}

static rd_kafka_t *producer(const char *brokers, char **props, size_t n_props,
                            struct repart *r, char *err, size_t errsz)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char e[512];
    bool ok = rd_kafka_conf_set(c, "bootstrap.servers", brokers, e, sizeof e) == 0 &&
              rd_kafka_conf_set(c, "enable.idempotence", "true", e, sizeof e) == 0 &&
              rd_kafka_conf_set(c, "linger.ms", "5", e, sizeof e) == 0 &&
              rd_kafka_conf_set(c, "sticky.partitioning.linger.ms", "0", e, sizeof e) == 0;
    for (size_t i = 0; ok && i < n_props; i++) {
        char *eq = strchr(props[i], '=');
        *eq = '\0';
        ok = rd_kafka_conf_set(c, props[i], eq + 1, e, sizeof e) == 0;
        *eq = '=';
    }
    rd_kafka_t *rk = NULL;
    if (ok) {
        rd_kafka_conf_set_opaque(c, r);
        rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    }
    if (!rk) {
        rd_kafka_conf_destroy(c);
        snprintf(err, errsz, "producer: %s", e);
    }
    return rk;
}

int ll_cmd_repartition(int argc, char **argv)
{
    static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         {"id-header", required_argument, NULL, 'H'},
                                         {"id-from-key", no_argument, NULL, 'k'},
                                         {"property", required_argument, NULL, 'X'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *brokers = NULL, *group = NULL, *from = NULL, *header = NULL;
    struct repart r = {0};
    bool key_as_id = false;
    char *props[64];
    size_t n_props = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:g:f:t:H:kX:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 'g': group = optarg; break;
        case 'f': from = optarg; break;
        case 't': r.to = optarg; break;
        case 'H': header = optarg; break;
        case 'k': key_as_id = true; break;
        case 'X':
            if (!strchr(optarg, '=') || *optarg == '=' || n_props == 64) {
                fprintf(stderr, "logloom repartition: --property '%s' is not NAME=VALUE\n",
                        optarg);
                return LL_EXIT_USAGE;
            }
            props[n_props++] = optarg;
            break;
        case 'h': ll_cmd_repartition_usage(stdout); return LL_EXIT_OK;
        default: ll_cmd_repartition_usage(stderr); return LL_EXIT_USAGE;
        }
    }
    if (!brokers || !group || !from || !r.to || optind != argc) {
        ll_cmd_repartition_usage(stderr);
        return LL_EXIT_USAGE;
    }
    if (strcmp(from, r.to) == 0) {
        fprintf(stderr, "logloom repartition: --from and --to are the same topic\n");
        return LL_EXIT_USAGE;
    }
    char err[1024];
    struct ll_decode_conf dconf = {0};
    struct ll_kafka_conf kc = {
        .brokers = brokers, .group_id = group, .topics = &from, .n_topics = 1,
        .props = (const char *const *)props, .n_props = n_props, .id_header = header,
        .key_as_id = key_as_id, .raw_events = true, .decode = &dconf,
        .threads = ll__auto_threads(), .hooks = {NULL, on_revoked, &r}, .seq = &r.seq};
    if (!(r.out = producer(brokers, props, n_props, &r, err, sizeof err)) ||
        ll_kafka_open(&kc, &r.in, err, sizeof err) != LL_OK) {
        fprintf(stderr, "logloom repartition: %s\n", err);
        if (r.out)
            rd_kafka_destroy(r.out);
        return LL_EXIT_USAGE;
    }
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    ll_idmap_init(&r.links, 1024, link_key);
    r.fifo = ll_calloc(LINKS_MAX, sizeof *r.fifo);
    ll_log(LL_LEVEL_INFO, "repartition", "%s -> %s, keyed by correlation id", from, r.to);
    int status = LL_EXIT_OK;
    while (!stop_requested && status == LL_EXIT_OK) {
        int64_t end = ll_clock_mono_ns() + BATCH_NS;
        int n = 0;
        const struct ll_event *ev;
        int slot;
        while (n < BATCH_EVENTS && ll_clock_mono_ns() < end && !stop_requested &&
               ll_kafka_next(r.in, &ev, &slot, n ? 0 : BATCH_NS) == LL_OK) {
            if (!produce(&r, ev)) {
                status = LL_EXIT_FAILURE;
                break;
            }
            n++;
        }
        rd_kafka_poll(r.out, 0);
        if (!n)
            continue;
        if (status == LL_EXIT_OK && deliver(&r))
            commit_all(&r, false);
        else
            status = LL_EXIT_FAILURE; /* not committed: read again after a restart */
    }
    if (status == LL_EXIT_OK && deliver(&r))
        commit_all(&r, true);
    ll_kafka_close(r.in); /* leaves the group (revokes commit what was delivered) */
    rd_kafka_destroy(r.out);
    ll_log(LL_LEVEL_INFO, "repartition",
           "stopped: %llu lines produced (%llu without an id, %llu keyed through a link key)",
           (unsigned long long)r.produced, (unsigned long long)r.unkeyed,
           (unsigned long long)r.linked);
    links_free(&r);
    return status;
}
