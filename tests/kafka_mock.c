/* ll-kafka-mock: a Kafka-protocol cluster on loopback TCP for tests and
 * benchmarks (librdkafka's mock cluster), and a producer into it.
 *
 *   ll-kafka-mock serve [-b BROKERS] [-t TOPIC:PARTITIONS]...
 *       Prints the bootstrap address on a line of its own, then serves
 *       until stdin closes or SIGTERM. Commands on stdin, one a line:
 *         down ID | up ID     take broker ID (1..BROKERS) down or back up
 *         topic NAME PARTS    create a topic
 *         leader TOPIC P ID   move partition P's leader to broker ID
 *         coordinator G ID    make broker ID group G's coordinator
 *
 *   ll-kafka-mock produce -B BOOTSTRAP -t TOPIC [-k FIELD] [-H NAME=FIELD]
 *                         [-f HEADER] [-r PER_SECOND] [-a] [-s PART@LINE+MS]
 *       Produces each line of stdin as a message (idempotent producer),
 *       keyed by the string value of top-level JSON field FIELD (none:
 *       no key, a random partition per line), with header NAME set to the
 *       value of FIELD when given. With -f, each line is FILE<tab>MS<tab>LINE,
 *       as a shipper sends what it read from a file: LINE is the message,
 *       header HEADER names FILE, and MS (epoch milliseconds; 0: now) is its
 *       timestamp. -r: at most PER_SECOND lines a second. -a: each line to
 *       every partition of TOPIC (a heartbeat that moves every partition's
 *       event time on). -s: a shipper that stalls on one partition: keyless
 *       lines go round the partitions, and those for partition PART from
 *       line LINE (counted from 0) on are held MS milliseconds, then sent.
 *       Exits when all are acknowledged; exit status 1 if any failed. It
 *       reconnects to a broker back from down within a second.
 *
 *   ll-kafka-mock count -B BOOTSTRAP -t TOPIC [-x HEADER [-p HEADER]]
 *       Prints how many messages TOPIC holds (its partitions' high
 *       watermarks summed); with -x, how many of them have no header
 *       HEADER (they are read); with -p, each of those first, as the value
 *       of its header named by -p, a tab and its own.
 *
 *   ll-kafka-mock consume -B BOOTSTRAP -t TOPIC -n COUNT [-s SECONDS]
 *       Prints the first COUNT messages of TOPIC (from its beginning, in a
 *       group of its own) as KEY<tab>VALUE lines; exit status 1 if fewer
 *       came within SECONDS (30). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: ll-kafka-mock serve [-b BROKERS] [-t TOPIC:PARTITIONS]...\n"
                    "       ll-kafka-mock produce -B BOOTSTRAP -t TOPIC [-k FIELD] "
                    "[-H NAME=FIELD] [-f HEADER] [-r PER_SECOND] [-a]\n"
                    "                              [-s PART@LINE+MS]\n"
                    "       ll-kafka-mock count -B BOOTSTRAP -t TOPIC [-x HEADER [-p HEADER]]\n"
                    "       ll-kafka-mock consume -B BOOTSTRAP -t TOPIC -n COUNT [-s SECONDS]\n");
    return 2;
}

static int serve(int argc, char **argv)
{
    int brokers = 1, opt;
    char *topics[64];
    int n_topics = 0;
    while ((opt = getopt(argc, argv, "b:t:")) != -1) {
        if (opt == 'b')
            brokers = atoi(optarg);
        else if (opt == 't' && n_topics < 64)
            topics[n_topics++] = optarg;
        else
            return usage();
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "ll-kafka-mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "ll-kafka-mock: the mock cluster did not start\n");
        return 1;
    }
    for (int i = 0; i < n_topics; i++) {
        char *colon = strrchr(topics[i], ':');
        int parts = colon ? atoi(colon + 1) : 1;
        if (colon)
            *colon = '\0';
        rd_kafka_mock_topic_create(mc, topics[i], parts, brokers < 3 ? brokers : 3);
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    struct sigaction sa = {.sa_handler = on_term}; /* no SA_RESTART: fgets returns */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    char line[512];
    while (!stop && fgets(line, sizeof line, stdin)) {
        char name[256];
        int id, parts;
        if (sscanf(line, "leader %255s %d %d", name, &parts, &id) == 3)
            rd_kafka_mock_partition_set_leader(mc, name, parts, id);
        else if (sscanf(line, "coordinator %255s %d", name, &id) == 2)
            rd_kafka_mock_coordinator_set(mc, "group", name, id);
        else if (sscanf(line, "down %d", &id) == 1)
            rd_kafka_mock_broker_set_down(mc, id);
        else if (sscanf(line, "up %d", &id) == 1)
            rd_kafka_mock_broker_set_up(mc, id);
        else if (sscanf(line, "topic %255s %d", name, &parts) == 2)
            rd_kafka_mock_topic_create(mc, name, parts, brokers < 3 ? brokers : 3);
        else
            fprintf(stderr, "ll-kafka-mock: unknown command: %s", line);
        printf("ok\n");
        fflush(stdout);
    }
    while (!stop) /* stdin closed: serve on until terminated */
        pause();
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}

/* The string value of top-level field @p field in JSON line @p line
 * (escapes are not undone: ids do not carry them). */
static const char *field_value(const char *line, const char *field, size_t *len)
{
    char pat[300];
    snprintf(pat, sizeof pat, "\"%s\":\"", field);
    const char *p = strstr(line, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    const char *e = strchr(p, '"');
    if (!e)
        return NULL;
    *len = (size_t)(e - p);
    return p;
}

static int failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        failed++;
        fprintf(stderr, "ll-kafka-mock: delivery: %s\n", rd_kafka_err2str(m->err));
    }
}

/* One message, waiting while librdkafka's queue is full. */
static void send_one(rd_kafka_t *rk, const char *topic, int32_t part, const char *line,
                     size_t n, const char *k, size_t klen, const char *hname, const char *h,
                     size_t hlen, long long ms)
{
    rd_kafka_resp_err_t e;
    do {
        if (h)
            e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                                  RD_KAFKA_V_VALUE((void *)line, n),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY(k, k ? klen : 0), RD_KAFKA_V_TIMESTAMP(ms),
                                  RD_KAFKA_V_HEADER(hname, h, (ssize_t)hlen), RD_KAFKA_V_END);
        else
            e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                                  RD_KAFKA_V_VALUE((void *)line, n),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_KEY(k, k ? klen : 0), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
    } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
    if (e) {
        fprintf(stderr, "ll-kafka-mock: produce: %s\n", rd_kafka_err2str(e));
        failed++;
    }
}

/* Lines a stalled partition holds (-s): each "header\0line", with its time. */
struct stall {
    int32_t part;
    long from, ms;
    double since; /* seconds from the start when the first was held (<0: none yet) */
    char **held;
    size_t *len, *hlen;
    long long *ts;
    size_t n;
};

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Sends what the stall held once it is over (@p end: the input ended, so
 * it waits for that). */
static void stall_release(struct stall *st, rd_kafka_t *rk, const char *topic,
                          const char *hname, const struct timespec *t0, bool end)
{
    if (!st->n)
        return;
    double left = st->since + (double)st->ms / 1000 - seconds_since(t0);
    if (left > 0 && !end)
        return;
    if (left > 0)
        usleep((useconds_t)(left * 1e6));
    for (size_t i = 0; i < st->n; i++) {
        const char *h = st->held[i], *line = h + st->hlen[i] + 1;
        send_one(rk, topic, st->part, line, st->len[i], NULL, 0, hname, st->hlen[i] ? h : NULL,
                 st->hlen[i], st->ts[i]);
        free(st->held[i]);
    }
    st->n = 0;
    st->from = -1; /* one stall */
}

static int produce(int argc, char **argv)
{
    const char *bootstrap = NULL, *topic = NULL, *key = NULL, *header = NULL, *file = NULL;
    double per_sec = 0;
    bool all = false;
    struct stall st = {.part = -1, .from = -1, .since = -1};
    int opt;
    while ((opt = getopt(argc, argv, "B:t:k:H:f:r:as:")) != -1) {
        if (opt == 'B')
            bootstrap = optarg;
        else if (opt == 't')
            topic = optarg;
        else if (opt == 'k')
            key = optarg;
        else if (opt == 'H')
            header = optarg;
        else if (opt == 'f')
            file = optarg;
        else if (opt == 'r')
            per_sec = atof(optarg);
        else if (opt == 'a')
            all = true;
        else if (opt == 's' && sscanf(optarg, "%d@%ld+%ld", &st.part, &st.from, &st.ms) == 3)
            ;
        else
            return usage();
    }
    if (!bootstrap || !topic || (file && header) || (st.part >= 0 && (all || key)))
        return usage();
    char err[512], hname[256] = "";
    const char *hfield = NULL;
    if (header) {
        const char *eq = strchr(header, '=');
        if (!eq)
            return usage();
        snprintf(hname, sizeof hname, "%.*s", (int)(eq - header), header);
        hfield = eq + 1;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err) ||
        rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err) ||
        /* Back soon after a broker: as the tests' logloom processes. */
        rd_kafka_conf_set(conf, "reconnect.backoff.max.ms", "1000", err, sizeof err) ||
        /* Keyless lines spread one by one, not in bursts into one
         * partition (the mock cluster keeps only a few MB of each). */
        rd_kafka_conf_set(conf, "sticky.partitioning.linger.ms", "0", err, sizeof err)) {
        fprintf(stderr, "ll-kafka-mock: %s\n", err);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "ll-kafka-mock: %s\n", err);
        return 1;
    }
    int32_t parts = RD_KAFKA_PARTITION_UA + 1; /* one round: the partitioner's */
    if (all || st.part >= 0) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md;
        if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1 ||
            md->topics[0].err) {
            fprintf(stderr, "ll-kafka-mock: %s: no metadata\n", topic);
            return 1;
        }
        parts = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long count = 0; (n = getline(&buf, &cap, stdin)) > 0; count++) {
        if (buf[n - 1] == '\n')
            buf[--n] = '\0';
        char *line = buf;
        size_t klen = 0, hlen = 0;
        const char *h = NULL;
        long long ms = 0;
        if (file) {
            char *tab = strchr(buf, '\t'), *tab2 = tab ? strchr(tab + 1, '\t') : NULL;
            if (!tab2)
                continue;
            *tab = '\0';
            h = buf;
            hlen = (size_t)(tab - buf);
            snprintf(hname, sizeof hname, "%s", file);
            ms = atoll(tab + 1);
            line = tab2 + 1;
            n -= (ssize_t)(line - buf);
        }
        if (per_sec > 0) {
            double ahead = count / per_sec - seconds_since(&t0);
            if (ahead > 0)
                usleep((useconds_t)(ahead * 1e6));
        }
        const char *k = key ? field_value(line, key, &klen) : NULL;
        if (hfield)
            h = field_value(line, hfield, &hlen);
        if (st.part >= 0) { /* round the partitions, one held a while */
            int32_t part = (int32_t)(count % parts);
            if (part == st.part && st.from >= 0 && count >= st.from) {
                if (!st.n)
                    st.since = seconds_since(&t0);
                st.held = realloc(st.held, (st.n + 1) * sizeof *st.held);
                st.len = realloc(st.len, (st.n + 1) * sizeof *st.len);
                st.hlen = realloc(st.hlen, (st.n + 1) * sizeof *st.hlen);
                st.ts = realloc(st.ts, (st.n + 1) * sizeof *st.ts);
                char *c = malloc(hlen + 1 + (size_t)n + 1);
                if (h)
                    memcpy(c, h, hlen);
                c[hlen] = '\0';
                memcpy(c + hlen + 1, line, (size_t)n);
                st.held[st.n] = c;
                st.len[st.n] = (size_t)n;
                st.hlen[st.n] = h ? hlen : 0;
                st.ts[st.n++] = ms;
            } else {
                send_one(rk, topic, part, line, (size_t)n, NULL, 0, hname, h, hlen, ms);
            }
            stall_release(&st, rk, topic, hname, &t0, false);
        }
        for (int32_t part = all ? 0 : RD_KAFKA_PARTITION_UA; st.part < 0 && part < parts; part++)
            send_one(rk, topic, part, line, (size_t)n, k, klen, hname, h, hlen, ms);
        rd_kafka_poll(rk, 0);
    }
    stall_release(&st, rk, topic, hname, &t0, true);
    free(st.held);
    free(st.len);
    free(st.hlen);
    free(st.ts);
    free(buf);
    if (rd_kafka_flush(rk, 60000)) {
        fprintf(stderr, "ll-kafka-mock: not all messages were acknowledged\n");
        failed++;
    }
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}

static int consume(int argc, char **argv)
{
    const char *bootstrap = NULL, *topic = NULL;
    long count = -1, seconds = 30;
    int opt;
    while ((opt = getopt(argc, argv, "B:t:n:s:")) != -1) {
        if (opt == 'B')
            bootstrap = optarg;
        else if (opt == 't')
            topic = optarg;
        else if (opt == 'n')
            count = atol(optarg);
        else if (opt == 's')
            seconds = atol(optarg);
        else
            return usage();
    }
    if (!bootstrap || !topic || count < 0)
        return usage();
    char err[512], group[64];
    snprintf(group, sizeof group, "ll-kafka-mock-%d", (int)getpid());
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) ||
        rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err)) {
        fprintf(stderr, "ll-kafka-mock: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "ll-kafka-mock: %s\n", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    long got = 0;
    for (long waited = 0; got < count && waited < seconds * 10;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            waited++;
            continue;
        }
        if (!m->err) {
            printf("%.*s\t%.*s\n", (int)m->key_len, m->key ? (const char *)m->key : "",
                   (int)m->len, (const char *)m->payload);
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return got >= count ? 0 : 1;
}

/* How many of the messages before @p ends[p] of each partition of @p topic
 * have no header @p header, read with consumer @p rk, each printed if
 * @p print (as its header @p print's value, a tab and its own); -1 if they
 * did not all come within ten seconds. */
static long long count_without(rd_kafka_t *rk, const char *topic, const int64_t *ends,
                               int parts, const char *header, const char *print)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    int left = 0;
    for (int p = 0; p < parts; p++)
        if (ends[p] > 0) {
            rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
            left++;
        }
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    long long n = 0;
    for (int waited = 0; left && waited < 100;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            waited++;
            continue;
        }
        rd_kafka_headers_t *h;
        const void *v;
        size_t len;
        if (!m->err && m->offset < ends[m->partition]) {
            bool has = !rd_kafka_message_headers(m, &h) &&
                       !rd_kafka_header_get_last(h, header, &v, &len);
            n += !has;
            if (!has && print) {
                if (rd_kafka_message_headers(m, &h) ||
                    rd_kafka_header_get_last(h, print, &v, &len))
                    len = 0;
                printf("%.*s\t%.*s\n", (int)len, len ? (const char *)v : "", (int)m->len,
                       m->len ? (const char *)m->payload : "");
            }
            left -= m->offset == ends[m->partition] - 1;
        }
        rd_kafka_message_destroy(m);
    }
    return left ? -1 : n;
}

static int count(int argc, char **argv)
{
    const char *bootstrap = NULL, *topic = NULL, *without = NULL, *print = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "B:t:x:p:")) != -1) {
        if (opt == 'B')
            bootstrap = optarg;
        else if (opt == 't')
            topic = optarg;
        else if (opt == 'x')
            without = optarg;
        else if (opt == 'p')
            print = optarg;
        else
            return usage();
    }
    if (!bootstrap || !topic || (print && !without))
        return usage();
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", "ll-kafka-mock-count", err, sizeof err)) {
        fprintf(stderr, "ll-kafka-mock: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "ll-kafka-mock: %s\n", err);
        return 1;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    long long total = 0;
    int rc = 0;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "ll-kafka-mock: %s: no metadata\n", topic);
        rc = 1;
    } else {
        int parts = md->topics[0].partition_cnt;
        int64_t ends[parts > 0 ? parts : 1];
        for (int p = 0; p < parts && !rc; p++) {
            int64_t lo;
            rc = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &ends[p], 10000) != 0;
            total += ends[p];
        }
        rd_kafka_metadata_destroy(md);
        if (!rc && without && (total = count_without(rk, topic, ends, parts, without, print)) < 0)
            rc = 1;
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    if (!rc)
        printf("%lld\n", total);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "serve") == 0)
        return serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "produce") == 0)
        return produce(argc - 1, argv + 1);
    if (strcmp(argv[1], "consume") == 0)
        return consume(argc - 1, argv + 1);
    if (strcmp(argv[1], "count") == 0)
        return count(argc - 1, argv + 1);
    return usage();
}
