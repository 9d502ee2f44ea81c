/* The Kafka driver: kafka://BROKERS/TOPIC[?property=value&...]. Alerts go
 * to TOPIC and timelines to TOPIC.timelines, each keyed by its record id
 * (so a compacted topic, or any consumer, folds a record sent twice), from
 * an idempotent producer. A batch is acknowledged when the broker has
 * acknowledged every record of it (acks=all); the query's name=value pairs
 * are librdkafka properties (TLS, SASL). */
#include "delivery_int.h"

#include "logloom/kclient.h"

#include <librdkafka/rdkafka.h>
#include <string.h>

struct kafkad {
    char *brokers, *topic, *timeline_topic;
    char **props; /* the query's pairs, each "name=value" (checked on connecting) */
    size_t n_props;
    rd_kafka_t *rk;
    int64_t io_timeout_ns;
    /* The batch being written: reports counted in. */
    size_t failed, bad;
    rd_kafka_resp_err_t err;
};

static int kafka_open(const struct ll_delivery_conf *c, void **out, char *err, size_t errsz)
{
    const char *hosts = c->url + strlen("kafka://");
    const char *slash = strchr(hosts, '/');
    if (!slash || slash == hosts || !slash[1] || slash[1] == '?') {
        snprintf(err, errsz, "kafka sink: use kafka://BROKER[,BROKER...]/TOPIC");
        return LL_EINVAL;
    }
    struct kafkad *k = ll_calloc(1, sizeof *k);
    k->brokers = ll_strndup(hosts, (size_t)(slash - hosts));
    const char *q = strchr(slash + 1, '?');
    k->topic = q ? ll_strndup(slash + 1, (size_t)(q - slash - 1)) : ll_strdup(slash + 1);
    for (const char *p = q ? q + 1 : "", *end; *p; p = *end ? end + 1 : end) {
        end = p + strcspn(p, "&");
        k->props = ll_reallocarray(k->props, k->n_props + 1, sizeof *k->props);
        k->props[k->n_props++] = ll_strndup(p, (size_t)(end - p));
    }
    size_t n = strlen(k->topic) + sizeof ".timelines";
    k->timeline_topic = ll_malloc(n);
    snprintf(k->timeline_topic, n, "%s.timelines", k->topic);
    k->io_timeout_ns = c->io_timeout_ns;
    *out = k;
    return LL_OK;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct kafkad *k = opaque;
    if (!m->err)
        return;
    if (!k->failed++ || m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        k->err = m->err;
        k->bad = (size_t)(uintptr_t)m->_private;
    }
}

static int kafka_connect(void *v, char *err, size_t errsz)
{
    struct kafkad *k = v;
    static const struct ll_kclient_prop defaults[] = {{"enable.idempotence", "true"},
                                                      {"linger.ms", "5"}};
    struct ll_kclient_conf kc = {.brokers = k->brokers, .defaults = defaults,
                                 .n_defaults = sizeof defaults / sizeof defaults[0],
                                 .props = (const char *const *)k->props, .n_props = k->n_props};
    rd_kafka_conf_t *c = ll_kclient_conf_new(&kc, err, errsz);
    if (!c)
        return LL_EINVAL;
    rd_kafka_conf_set_opaque(c, k);
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    if (!(k->rk = ll_kclient_new(RD_KAFKA_PRODUCER, c, err, errsz)))
        return LL_EINVAL;
    /* Reachable: the cluster answers for the topic (whether or not it
     * knows it yet). */
    rd_kafka_resp_err_t r;
    ll_kclient_partitions(k->rk, k->topic, 5000, &r);
    if (r) {
        snprintf(err, errsz, "kafka sink %s: %s", k->brokers, rd_kafka_err2str(r));
        rd_kafka_destroy(k->rk);
        k->rk = NULL;
        return LL_EAGAIN;
    }
    return LL_OK;
}

static enum ll__wr kafka_write(void *v, struct ll__rec *const *recs, size_t n, size_t *bad,
                               char *err, size_t errsz)
{
    struct kafkad *k = v;
    k->failed = 0;
    k->err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (size_t i = 0; i < n; i++) {
        const char *topic = recs[i]->kind == LL_RECEIVE_TIMELINES ? k->timeline_topic : k->topic;
        rd_kafka_resp_err_t r;
        while ((r = rd_kafka_producev(
                    k->rk, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_VALUE((void *)recs[i]->json.ptr, recs[i]->json.len),
                    RD_KAFKA_V_KEY(recs[i]->id, strlen(recs[i]->id)),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)i), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(k->rk, 10);
        if (r) {
            snprintf(err, errsz, "kafka sink: %s", rd_kafka_err2str(r));
            rd_kafka_flush(k->rk, 1000);
            return WR_OUTAGE;
        }
    }
    int timeout_ms = (int)(k->io_timeout_ns / LL_NS_PER_MS);
    if (rd_kafka_flush(k->rk, timeout_ms > 0 ? timeout_ms : 30000)) {
        snprintf(err, errsz, "kafka sink: the batch was not acknowledged in time");
        return WR_OUTAGE;
    }
    if (!k->failed)
        return WR_OK;
    snprintf(err, errsz, "kafka sink: %zu records failed: %s", k->failed,
             rd_kafka_err2str(k->err));
    if (k->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
        k->err == RD_KAFKA_RESP_ERR_INVALID_MSG) {
        *bad = k->bad;
        return WR_REJECT;
    }
    return WR_OUTAGE;
}

static void kafka_disconnect(void *v)
{
    struct kafkad *k = v;
    if (k->rk) {
        rd_kafka_flush(k->rk, 1000);
        rd_kafka_destroy(k->rk);
        k->rk = NULL;
    }
}

static void kafka_destroy(void *v)
{
    struct kafkad *k = v;
    kafka_disconnect(k);
    ll_free(k->brokers);
    ll_free(k->topic);
    ll_free(k->timeline_topic);
    for (size_t i = 0; i < k->n_props; i++)
        ll_free(k->props[i]);
    ll_free(k->props);
    ll_free(k);
}

const struct ll__driver_ops ll__kafka_ops = {"kafka", kafka_open, kafka_connect, kafka_write,
                                             kafka_disconnect, kafka_destroy};
