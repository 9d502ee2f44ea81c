/* The one set-up of a librdkafka client (logloom/kclient.h): the
 * configuration from brokers, defaults and the user's properties, the
 * client made from it, and a topic's partition count. */
#include "logloom/kclient.h"

#include <string.h>

/* librdkafka's reason @p why for refusing @p value, into @p out without
 * the value (a mistyped password would show): a quoted piece of it ("foo"
 * of "foo,bar") becomes (not shown); a reason that still holds the value
 * is replaced by the kind of refusal @p r. */
static void reason(const char *why, const char *value, rd_kafka_conf_res_t r, char *out,
                   size_t size)
{
    struct ll_buf b = {0};
    const char *q, *end;
    while ((q = strchr(why, '"')) && (end = strchr(q + 1, '"'))) {
        size_t n = (size_t)(end - q - 1);
        bool hide = n && memmem(value, strlen(value), q + 1, n);
        ll_buf_append(&b, why, (size_t)(q - why));
        if (hide)
            ll_buf_puts(&b, "(not shown)");
        else
            ll_buf_append(&b, q, n + 2);
        why = end + 1;
    }
    ll_buf_puts(&b, why);
    const char *text = b.data ? b.data : "";
    size_t len = b.len;
    while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    if (value[0] && memmem(text, len, value, strlen(value))) {
        text = r == RD_KAFKA_CONF_UNKNOWN ? "no such property" : "invalid value";
        len = strlen(text);
    }
    snprintf(out, size, "%.*s", (int)len, text);
    ll_buf_free(&b);
}

/* Sets one property; on failure @p err names it, never its value. */
static bool set(rd_kafka_conf_t *c, const char *name, const char *value, char *err,
                size_t errsz)
{
    char why[512], shown[512];
    rd_kafka_conf_res_t r = rd_kafka_conf_set(c, name, value, why, sizeof why);
    if (r == RD_KAFKA_CONF_OK)
        return true;
    reason(why, value ? value : "", r, shown, sizeof shown);
    snprintf(err, errsz, "kafka property %s: %s", name, shown);
    return false;
}

/* Sets the user's property @p i of @p kc, unless kc->skip skips it. */
static bool set_user(rd_kafka_conf_t *c, const struct ll_kclient_conf *kc, size_t i, char *err,
                     size_t errsz)
{
    const char *p = kc->props[i], *eq = strchr(p, '=');
    if (!eq || eq == p) {
        /* Not quoted: a mistyped one may hold a password. */
        snprintf(err, errsz, "kafka property %zu is not name=value", i + 1);
        return false;
    }
    char *name = ll_strndup(p, (size_t)(eq - p));
    bool ok = (kc->skip && kc->skip(name)) || set(c, name, eq + 1, err, errsz);
    ll_free(name);
    return ok;
}

rd_kafka_conf_t *ll_kclient_conf_new(const struct ll_kclient_conf *kc, char *err, size_t errsz)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    bool ok = set(c, "bootstrap.servers", kc->brokers, err, errsz);
    for (size_t i = 0; ok && i < kc->n_defaults; i++)
        ok = set(c, kc->defaults[i].name, kc->defaults[i].value, err, errsz);
    for (size_t i = 0; ok && i < kc->n_props; i++)
        ok = set_user(c, kc, i, err, errsz);
    if (!ok) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    return c;
}

bool ll_kclient_consumer_only(const char *name)
{
    static const char *const names[] = {
        "group.id", "group.instance.id", "session.timeout.ms", "heartbeat.interval.ms",
        "partition.assignment.strategy", "enable.auto.commit", "auto.offset.reset",
        "enable.auto.offset.store", "max.poll.interval.ms", "queued.min.messages",
        "fetch.wait.max.ms", "fetch.min.bytes", "isolation.level"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

rd_kafka_t *ll_kclient_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *err,
                           size_t errsz)
{
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof why);
    if (!rk) { /* the conf is still ours */
        rd_kafka_conf_destroy(conf);
        snprintf(err, errsz, "kafka %s: %s", type == RD_KAFKA_CONSUMER ? "consumer" : "producer",
                 why);
    }
    return rk;
}

int ll_kclient_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                          rd_kafka_resp_err_t *answer)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t r =
        t ? rd_kafka_metadata(rk, 0, t, &md, timeout_ms) : rd_kafka_last_error();
    int n = LL_KCLIENT_UNKNOWN;
    if (r == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 && !md->topics[0].err &&
        md->topics[0].partition_cnt > 0)
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (t)
        rd_kafka_topic_destroy(t);
    if (answer)
        *answer = r;
    return n;
}
