/* The one librdkafka client set-up (logloom/kclient.h): defaults and the
 * user's properties in their order, errors that never show a value, the
 * client made or the configuration freed, and a topic's partition count
 * against librdkafka's mock cluster in this process. */
#include "../testutil.h"

#include "logloom/kclient.h"

#include <librdkafka/rdkafka_mock.h>

static const struct ll_kclient_prop producer_defaults[] = {{"linger.ms", "5"},
                                                           {"enable.idempotence", "true"}};

static struct ll_kclient_conf producer_conf(const char *const *props, size_t n_props)
{
    return (struct ll_kclient_conf){.brokers = "127.0.0.1:1", .defaults = producer_defaults,
                                    .n_defaults = 2, .props = props, .n_props = n_props};
}

/* The value of @p name in @p c ("" if unset). */
static const char *get(rd_kafka_conf_t *c, const char *name)
{
    static char v[256];
    size_t n = sizeof v;
    if (rd_kafka_conf_get(c, name, v, &n) != RD_KAFKA_CONF_OK)
        v[0] = '\0';
    return v;
}

static void the_users_properties_override_the_defaults(void **state)
{
    (void)state;
    const char *props[] = {"linger.ms=7", "client.id=probe", "acks=1"};
    struct ll_kclient_conf kc = producer_conf(props, 3);
    char err[256] = "";
    rd_kafka_conf_t *c = ll_kclient_conf_new(&kc, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(get(c, "bootstrap.servers"), "127.0.0.1:1");
    assert_string_equal(get(c, "linger.ms"), "7");
    assert_string_equal(get(c, "enable.idempotence"), "true");
    assert_string_equal(get(c, "client.id"), "probe");
    rd_kafka_conf_destroy(c);
}

static void a_property_not_name_value_is_named_by_its_place(void **state)
{
    (void)state;
    const char *forms[] = {"sasl.password", "=hunter2"};
    for (size_t i = 0; i < 2; i++) {
        const char *props[] = {"linger.ms=7", forms[i]};
        struct ll_kclient_conf kc = producer_conf(props, 2);
        char err[256] = "";
        assert_null(ll_kclient_conf_new(&kc, err, sizeof err));
        assert_string_equal(err, "kafka property 2 is not name=value");
    }
}

static void a_refused_property_is_named_but_its_value_never_shown(void **state)
{
    (void)state;
    const char *props[][1] = {{"no.such.property=hunter2"},
                              {"linger.ms=hunter2"},
                              {"security.protocol=hunter2"},
                              {"debug=hunter2,broker"}};
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        struct ll_kclient_conf kc = producer_conf(props[i], 1);
        char err[256] = "";
        assert_null(ll_kclient_conf_new(&kc, err, sizeof err));
        size_t name = (size_t)(strchr(props[i][0], '=') - props[i][0]);
        assert_true(strncmp(err, "kafka property ", 15) == 0);
        assert_true(strncmp(err + 15, props[i][0], name) == 0);
        assert_null(strstr(err, "hunter2"));
    }
}

static void a_skipped_property_is_not_set_but_still_checked(void **state)
{
    (void)state;
    assert_true(ll_kclient_consumer_only("group.id"));
    assert_true(ll_kclient_consumer_only("queued.min.messages"));
    assert_false(ll_kclient_consumer_only("linger.ms"));
    assert_false(ll_kclient_consumer_only("group.id.extra"));
    const char *props[] = {"queued.min.messages=1000000", "linger.ms=9"};
    struct ll_kclient_conf kc = producer_conf(props, 2);
    kc.skip = ll_kclient_consumer_only;
    char err[256] = "";
    rd_kafka_conf_t *c = ll_kclient_conf_new(&kc, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(get(c, "queued.min.messages"), "100000"); /* librdkafka's own */
    assert_string_equal(get(c, "linger.ms"), "9");
    rd_kafka_conf_destroy(c);
    const char *bad[] = {"group.id"};
    kc.props = bad;
    kc.n_props = 1;
    assert_null(ll_kclient_conf_new(&kc, err, sizeof err));
    assert_string_equal(err, "kafka property 1 is not name=value");
}

static void a_client_that_cannot_be_made_frees_its_configuration(void **state)
{
    (void)state;
    const char *props[] = {"security.protocol=ssl", "ssl.ca.location=/nonexistent/ca.pem",
                           "log_level=0"};
    struct ll_kclient_conf kc = producer_conf(props, 3);
    char err[512] = "";
    rd_kafka_conf_t *c = ll_kclient_conf_new(&kc, err, sizeof err);
    assert_non_null(c);
    assert_null(ll_kclient_new(RD_KAFKA_PRODUCER, c, err, sizeof err)); /* c is freed */
    assert_true(strncmp(err, "kafka producer: ", 16) == 0);
}

static void the_partition_count_is_asked_of_the_brokers(void **state)
{
    (void)state;
    char err[512] = "";
    rd_kafka_conf_t *mc_conf = rd_kafka_conf_new();
    rd_kafka_conf_set(mc_conf, "log_level", "0", err, sizeof err);
    rd_kafka_t *mc_rk = ll_kclient_new(RD_KAFKA_PRODUCER, mc_conf, err, sizeof err);
    assert_non_null(mc_rk);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mc_rk, 1);
    assert_non_null(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "lines", 3, 1), RD_KAFKA_RESP_ERR_NO_ERROR);

    const char *props[] = {"log_level=0"};
    struct ll_kclient_conf kc = producer_conf(props, 1);
    kc.brokers = rd_kafka_mock_cluster_bootstraps(mc);
    rd_kafka_t *rk = ll_kclient_new(RD_KAFKA_PRODUCER, ll_kclient_conf_new(&kc, err, sizeof err),
                                    err, sizeof err);
    assert_non_null(rk);
    rd_kafka_resp_err_t answer = RD_KAFKA_RESP_ERR__FAIL;
    assert_int_equal(ll_kclient_partitions(rk, "lines", 10000, &answer), 3);
    assert_int_equal(answer, RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);

    /* Nobody there: not known, and the request's error says why. */
    kc.brokers = "127.0.0.1:1";
    rk = ll_kclient_new(RD_KAFKA_PRODUCER, ll_kclient_conf_new(&kc, err, sizeof err), err,
                        sizeof err);
    assert_non_null(rk);
    assert_int_equal(ll_kclient_partitions(rk, "lines", 200, &answer), LL_KCLIENT_UNKNOWN);
    assert_int_not_equal(answer, RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mc_rk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_users_properties_override_the_defaults),
        cmocka_unit_test(a_property_not_name_value_is_named_by_its_place),
        cmocka_unit_test(a_refused_property_is_named_but_its_value_never_shown),
        cmocka_unit_test(a_skipped_property_is_not_set_but_still_checked),
        cmocka_unit_test(a_client_that_cannot_be_made_frees_its_configuration),
        cmocka_unit_test(the_partition_count_is_asked_of_the_brokers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
