/* Private to the logloom executable: what the correlating stage of a Kafka
 * topology (DESIGN.md) sends the service stage through the facts topic.
 *
 * A fact is a line that matched a step the service stage keeps
 * (ll_rule_engine_set_part()): its bytes as the value, keyed by its service
 * so that a service's facts meet in one partition, with headers naming the
 * correlation id it joined ("ll-corr"), where it was read ("ll-src",
 * "ll-off": the service stage drops a fact it has seen, as a partition
 * read again after a rebalance sends it twice) and the file it came from.
 *
 * A mark tells every facts partition how far each input partition of this
 * member has got in event time ("ll-mark" header; the value lists
 * "SOURCE TIME" lines, TIME "-" for an input with nothing to read, after
 * the input topics' partition count). The service stage's watermark is the
 * least of its inputs' marks, less the allowed lateness, once every input
 * partition has said where it is: a fact can then never be late there
 * unless it was late in its own partition. A fact is produced to the
 * partition its key hashes to, chosen here, so that it is ahead of every
 * mark sent to that partition after it.
 *
 * `logloom repartition` sends its lines, and marks, into the keyed topic
 * the same way: a correlating stage's partition that carries marks takes
 * its time from them, not from the clock, so that lines a repartition
 * holds back (a broker away) are not taken for quiet. */
#ifndef LOGLOOM_CLI_FACTS_H
#define LOGLOOM_CLI_FACTS_H

#include "logloom/core.h"

#include <librdkafka/rdkafka.h>

#define LL__FACT_CORR "ll-corr"
#define LL__FACT_SRC "ll-src"
#define LL__FACT_OFF "ll-off"
#define LL__FACT_MARK "ll-mark"
#define LL__MARK_EVERY_NS (100 * LL_NS_PER_MS) /* marks: sent this often if they moved */
#define LL__MARK_ANYWAY_NS (1 * LL_NS_PER_SEC) /* and though nothing moved */

/* An idempotent producer (linger 5 ms) on @p brokers with the librdkafka
 * properties @p props ("name=value"; consumer-only ones are skipped), its
 * delivery reports to @p on_delivery with @p opaque. @returns NULL with
 * @p err on failure. */
rd_kafka_t *ll__producer(const char *brokers, char *const *props, size_t n_props,
                         void (*on_delivery)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                         void *opaque, char *err, size_t errsz);

typedef struct ll__facts ll__facts;

/* The producer of facts and marks into @p topic. */
ll__facts *ll__facts_open(const char *brokers, char *const *props, size_t n_props,
                          const char *topic, const char *file_header, char *err, size_t errsz);
/* Sends @p line keyed by @p key, with the headers @p h (taken), at time
 * @p ts_ns, to the partition its key hashes to (ahead of every mark sent
 * there after it). @returns false if it could not be queued. */
bool ll__facts_line(ll__facts *f, struct ll_str key, struct ll_str line, int64_t ts_ns,
                    rd_kafka_headers_t *h);
/* Sends @p ev (its corr_id: the id it joined) as a fact. */
void ll__facts_send(ll__facts *f, const struct ll_event *ev);
/* Sends a mark to every facts partition: input partition @p sources[i] is
 * at event time @p times[i] (LL_TIME_NONE: nothing to read), of
 * @p n_inputs input partitions in all. */
void ll__facts_mark(ll__facts *f, const char *const *sources, const int64_t *times, size_t n,
                    int n_inputs);
/* Waits (up to @p timeout_ms) until the brokers acknowledged everything
 * sent. @returns false if something was not, or ever failed (the idempotent
 * producer retries for message.timeout.ms first): what was read since the
 * last good flush must not be committed, and after a failure nothing more
 * (the process stops, to read it again). */
bool ll__facts_flush(ll__facts *f, int timeout_ms);
/* Facts and marks sent, and deliveries that failed. */
void ll__facts_counts(const ll__facts *f, uint64_t *facts, uint64_t *marks, uint64_t *failed);
void ll__facts_close(ll__facts *f);

#endif
