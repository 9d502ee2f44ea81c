/**
 * @file kclient.h
 * @brief logloom kclient: the one set-up of a librdkafka client that the
 *        Kafka source, the Kafka sink and the facts producer share: its
 *        configuration from brokers, defaults and the user's properties,
 *        the client made from it, and a topic's partition count.
 *
 * A library of its own (ll::kclient) beside ll::core, so that the core
 * stays free of librdkafka. It calls nothing of ingest, sinks or runner.
 *
 * Ownership follows librdkafka's: a configuration made here belongs to the
 * caller until ll_kclient_new() takes it, which it does whether or not the
 * client is made. Strings passed in are borrowed for the call.
 *
 * A property's value is never written into an error message: a mistyped
 * property may hold a password.
 */
#ifndef LOGLOOM_KCLIENT_H
#define LOGLOOM_KCLIENT_H

#include "logloom/core.h"

#include <librdkafka/rdkafka.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief One librdkafka property, by name and value. */
struct ll_kclient_prop {
    const char *name;
    const char *value;
};

/** @brief What a client's configuration is made of, set in this order, so
 *         that a later one overrides an earlier. */
struct ll_kclient_conf {
    const char *brokers; /**< bootstrap.servers */
    /** Set after the brokers, before the user's properties. */
    const struct ll_kclient_prop *defaults;
    size_t n_defaults;
    /** The user's properties, each "name=value" (the value may be empty). */
    const char *const *props;
    size_t n_props;
    /** NULL, or true for a user's property (by name) not to set at all,
     *  such as a consumer's on a producer (ll_kclient_consumer_only()). */
    bool (*skip)(const char *name);
};

/**
 * @brief Makes a librdkafka configuration: the brokers, then the defaults,
 *        then the user's properties that @p c->skip does not skip.
 *
 * @returns the configuration, the caller's to pass to ll_kclient_new() or
 *          to free with rd_kafka_conf_destroy(); NULL with @p err when a
 *          property is not "name=value" ("kafka property N is not
 *          name=value", N counted from 1) or librdkafka refuses one ("kafka
 *          property NAME: REASON", REASON librdkafka's with the value taken
 *          out). The user's properties are checked for their form before
 *          @p c->skip is asked.
 */
rd_kafka_conf_t *ll_kclient_conf_new(const struct ll_kclient_conf *c, char *err, size_t errsz);

/**
 * @brief A filter for ll_kclient_conf::skip on a producer made from a
 *        consumer's properties.
 *
 * @returns true if @p name is a property of a consumer (group, offsets,
 *          fetching) that librdkafka refuses, or warns of, on a producer.
 */
bool ll_kclient_consumer_only(const char *name);

/**
 * @brief Makes a client of @p type from @p conf (rd_kafka_new()).
 *
 * @p conf is taken in every case: by the client when it is made, destroyed
 * here when it is not. Callbacks and the opaque are set on @p conf before.
 *
 * @returns the client, to free with rd_kafka_destroy(); NULL with @p err
 *          ("kafka consumer: REASON" or "kafka producer: REASON").
 */
rd_kafka_t *ll_kclient_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *err,
                           size_t errsz);

/** @brief ll_kclient_partitions()'s answer when the count is not known. */
#define LL_KCLIENT_UNKNOWN 0

/**
 * @brief The partition count of @p topic, asked of the brokers in one
 *        metadata request, waiting up to @p timeout_ms.
 *
 * @param answer NULL, or OUT: the request's own error
 *        (RD_KAFKA_RESP_ERR_NO_ERROR when the cluster answered, whether or
 *        not it knows the topic).
 * @returns the count (> 0), or LL_KCLIENT_UNKNOWN when the brokers did not
 *          answer in time or do not know the topic.
 */
int ll_kclient_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                          rd_kafka_resp_err_t *answer);

#ifdef __cplusplus
}
#endif
#endif /* LOGLOOM_KCLIENT_H */
