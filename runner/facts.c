/* The facts a correlating stage sends its service stage, and marks
 * (logloom/runner.h, "Facts and marks"). */
#include "logloom/kclient.h"
#include "logloom/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METADATA_MS 10000

struct ll__facts {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt; /* the facts topic's handle, for its partitioner */
    char *topic, *file_header;
    int partitions; /* of the facts topic (LL_KCLIENT_UNKNOWN: not known yet) */
    uint64_t facts, marks, failed;
    struct ll_buf mark;
};

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

/* The facts topic's partition count, asked of the brokers
 * (LL_KCLIENT_UNKNOWN: not known yet). */
static int partitions_of(ll__facts *f)
{
    return ll_kclient_partitions(f->rk, f->topic, METADATA_MS, NULL);
}

/* An idempotent producer (linger 5 ms) on @p brokers with the librdkafka
 * properties @p props ("name=value"; a consumer's are skipped), its
 * delivery reports to on_delivery(). */
static rd_kafka_t *producer(ll__facts *f, const char *brokers, char *const *props,
                            size_t n_props, char *err, size_t errsz)
{
    static const struct ll_kclient_prop defaults[] = {{"enable.idempotence", "true"},
                                                      {"linger.ms", "5"},
                                                      {"sticky.partitioning.linger.ms", "0"}};
    struct ll_kclient_conf kc = {.brokers = brokers, .defaults = defaults,
                                 .n_defaults = sizeof defaults / sizeof defaults[0],
                                 .props = (const char *const *)props, .n_props = n_props,
                                 .skip = ll_kclient_consumer_only};
    rd_kafka_conf_t *c = ll_kclient_conf_new(&kc, err, errsz);
    if (!c)
        return NULL;
    rd_kafka_conf_set_opaque(c, f);
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    return ll_kclient_new(RD_KAFKA_PRODUCER, c, err, errsz);
}

ll__facts *ll__facts_open(const char *brokers, char *const *props, size_t n_props,
                          const char *topic, const char *file_header, char *err, size_t errsz)
{
    ll__facts *f = ll_calloc(1, sizeof *f);
    f->topic = ll_strdup(topic);
    f->file_header = ll_strdup(file_header ? file_header : LL_KAFKA_FILE_HEADER);
    if (!(f->rk = producer(f, brokers, props, n_props, err, errsz)) ||
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
