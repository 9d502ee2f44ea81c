/* The facts a correlating stage sends its service stage, and marks
 * (logloom/runner.h, "Facts and marks"). */
#include "logloom/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METADATA_MS 10000

struct ll__facts {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt; /* the facts topic's handle, for its partitioner */
    char *topic, *file_header;
    int partitions; /* of the facts topic (0: not known yet) */
    uint64_t facts, marks, failed;
    struct ll_buf mark;
};

/* Properties of a consumer that a producer refuses. */
static bool consumer_only(const char *name, size_t len)
{
    static const char *const names[] = {
        "group.id", "group.instance.id", "session.timeout.ms", "heartbeat.interval.ms",
        "partition.assignment.strategy", "enable.auto.commit", "auto.offset.reset",
        "enable.auto.offset.store", "max.poll.interval.ms", "queued.min.messages",
        "fetch.wait.max.ms", "fetch.min.bytes", "isolation.level"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return true;
    return false;
}

rd_kafka_t *ll__producer(const char *brokers, char *const *props, size_t n_props,
                         void (*on_delivery)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                         void *opaque, char *err, size_t errsz)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char e[512] = "";
    bool ok = rd_kafka_conf_set(c, "bootstrap.servers", brokers, e, sizeof e) == 0 &&
              rd_kafka_conf_set(c, "enable.idempotence", "true", e, sizeof e) == 0 &&
              rd_kafka_conf_set(c, "linger.ms", "5", e, sizeof e) == 0 &&
              rd_kafka_conf_set(c, "sticky.partitioning.linger.ms", "0", e, sizeof e) == 0;
    for (size_t i = 0; ok && i < n_props; i++) {
        const char *eq = strchr(props[i], '=');
        if (!eq || consumer_only(props[i], (size_t)(eq - props[i])))
            continue;
        char *name = ll_strndup(props[i], (size_t)(eq - props[i]));
        ok = rd_kafka_conf_set(c, name, eq + 1, e, sizeof e) == 0;
        ll_free(name);
    }
    rd_kafka_t *rk = NULL;
    if (ok) {
        rd_kafka_conf_set_opaque(c, opaque);
        rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    }
    if (!rk) {
        rd_kafka_conf_destroy(c);
        snprintf(err, errsz, "producer: %s", e);
    }
    return rk;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    ll__facts *f = opaque;
    if (m->err) {
        if (!f->failed++)
            ll_log(LL_LEVEL_ERROR, "facts", "delivery to %s: %s (what was read since is read "
                   "again)", f->topic, rd_kafka_err2str(m->err));
    }
}

/* The facts topic's partition count, asked of the brokers. */
static int partitions_of(ll__facts *f)
{
    const struct rd_kafka_metadata *md = NULL;
    int n = 0;
    if (rd_kafka_metadata(f->rk, 0, f->rkt, &md, METADATA_MS) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    return n;
}

ll__facts *ll__facts_open(const char *brokers, char *const *props, size_t n_props,
                          const char *topic, const char *file_header, char *err, size_t errsz)
{
    ll__facts *f = ll_calloc(1, sizeof *f);
    f->topic = ll_strdup(topic);
    f->file_header = ll_strdup(file_header ? file_header : LL_KAFKA_FILE_HEADER);
    if (!(f->rk = ll__producer(brokers, props, n_props, on_delivery, f, err, errsz)) ||
        !(f->rkt = rd_kafka_topic_new(f->rk, topic, NULL))) {
        if (f->rk)
            snprintf(err, errsz, "facts topic %s: %s", topic,
                     rd_kafka_err2str(rd_kafka_last_error()));
        ll__facts_close(f);
        return NULL;
    }
    f->partitions = partitions_of(f);
    if (!f->partitions)
        ll_log(LL_LEVEL_WARN, "facts", "topic %s not known yet: marks wait for it", topic);
    return f;
}

/* Produces one message, waiting while librdkafka's queue is full. */
static void produce(ll__facts *f, int32_t partition, struct ll_str key, struct ll_str value,
                    int64_t ts_ms, rd_kafka_headers_t *h)
{
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(f->rk, RD_KAFKA_V_TOPIC(f->topic),
                                  RD_KAFKA_V_PARTITION(partition),
                                  RD_KAFKA_V_KEY((void *)key.ptr, key.len),
                                  RD_KAFKA_V_VALUE((void *)value.ptr, value.len),
                                  RD_KAFKA_V_TIMESTAMP(ts_ms > 0 ? ts_ms : 0),
                                  RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(f->rk, 10);
    if (e) { /* the headers are ours again */
        rd_kafka_headers_destroy(h);
        if (!f->failed++)
            ll_log(LL_LEVEL_ERROR, "facts", "producing to %s: %s", f->topic,
                   rd_kafka_err2str(e));
    }
    rd_kafka_poll(f->rk, 0);
}

bool ll__facts_line(ll__facts *f, struct ll_str key, struct ll_str line, int64_t ts_ns,
                    rd_kafka_headers_t *h)
{
    /* The partition is chosen here, as librdkafka's default partitioner
     * would: a message left to librdkafka (RD_KAFKA_PARTITION_UA) could
     * reach its partition after a mark produced later, and the mark would
     * claim a time its message had not reached yet. */
    if (!f->partitions && !(f->partitions = partitions_of(f))) {
        rd_kafka_headers_destroy(h);
        if (!f->failed++)
            ll_log(LL_LEVEL_ERROR, "facts", "topic %s: not known to the brokers", f->topic);
        return false;
    }
    int32_t part = rd_kafka_msg_partitioner_consistent(f->rkt, key.ptr, key.len, f->partitions,
                                                       NULL, NULL);
    uint64_t failed = f->failed;
    produce(f, part, key, line, ts_ns / LL_NS_PER_MS, h);
    return f->failed == failed;
}

void ll__facts_send(ll__facts *f, const struct ll_event *ev)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    char off[24];
    snprintf(off, sizeof off, "%llu", (unsigned long long)ev->pos.offset);
    rd_kafka_header_add(h, LL__FACT_CORR, -1, ev->corr_id.ptr, (ssize_t)ev->corr_id.len);
    rd_kafka_header_add(h, LL__FACT_SRC, -1, ev->pos.source.ptr, (ssize_t)ev->pos.source.len);
    rd_kafka_header_add(h, LL__FACT_OFF, -1, off, -1);
    if (ev->origin.len)
        rd_kafka_header_add(h, f->file_header, -1, ev->origin.ptr, (ssize_t)ev->origin.len);
    if (ll__facts_line(f, ev->service.len ? ev->service : LL_STR("-"), ev->line, ev->ts_ns, h))
        f->facts++;
}

void ll__facts_mark(ll__facts *f, const char *const *sources, const int64_t *times, size_t n,
                    int n_inputs)
{
    if (!f->partitions && !(f->partitions = partitions_of(f)))
        return;
    struct ll_buf *b = &f->mark;
    ll_buf_reset(b);
    ll_buf_printf(b, "%d\n", n_inputs);
    for (size_t i = 0; i < n; i++) {
        if (times[i] == LL_TIME_NONE)
            ll_buf_printf(b, "%s -\n", sources[i]);
        else
            ll_buf_printf(b, "%s %lld\n", sources[i], (long long)times[i]);
    }
    for (int p = 0; p < f->partitions; p++) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);
        rd_kafka_header_add(h, LL__FACT_MARK, -1, "1", 1);
        produce(f, p, LL_STR(""), (struct ll_str){b->data, b->len}, 0, h);
        f->marks++;
    }
}

bool ll__facts_flush(ll__facts *f, int timeout_ms)
{
    if (rd_kafka_flush(f->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ll_log(LL_LEVEL_WARN, "facts", "%s: not acknowledged in %d ms (not committed yet)",
               f->topic, timeout_ms);
        return false;
    }
    return !f->failed; /* a fact lost is never committed past */
}

void ll__facts_counts(const ll__facts *f, uint64_t *facts, uint64_t *marks, uint64_t *failed)
{
    *facts = f->facts;
    *marks = f->marks;
    *failed = f->failed;
}

void ll__facts_close(ll__facts *f)
{
    if (!f)
        return;
    if (f->rkt)
        rd_kafka_topic_destroy(f->rkt);
    if (f->rk) {
        rd_kafka_flush(f->rk, METADATA_MS);
        rd_kafka_destroy(f->rk);
    }
    ll_buf_free(&f->mark);
    ll_free(f->topic);
    ll_free(f->file_header);
    ll_free(f);
}
