/* Private to ingest/: the Kafka source's state (kafka.c), its facts and
 * marks (kafka_facts.c) and its statistics (kafka_stats.c). */
#ifndef LOGLOOM_KAFKA_INT_H
#define LOGLOOM_KAFKA_INT_H

#include "logloom/ingest.h"

#include <librdkafka/rdkafka.h>

struct run {
    uint64_t seq, end; /* read orders of its first and last events */
    int64_t offset;    /* of its first event; the rest follow one by one */
};

/* A fact handed out: where it was read, for the commit that passes it. */
struct fact_note {
    uint64_t seq;
    uint32_t input;
    int64_t off;
};

/* A correlating stage's input partition, as a facts partition tells it. */
struct input {
    char *source;
    int64_t off;  /* of the last fact from it (-1: none) */
    int64_t cut_off; /* of the last fact from it before the cut staged */
    int64_t mark; /* its event time by its last mark; LL_TIME_NONE: nothing to read */
    int64_t cap;  /* nothing to read: the others' time when that was last said */
    bool marked;
};

struct part {
    char *topic;
    int32_t partition;
    char *source; /* "topic/partition": events' position source */
    struct run *runs;
    size_t n_runs, cap_runs;
    int64_t next; /* offset after the last message read, event or not (-1: none) */
    int64_t taken; /* offset after the last message taken from the queue (-1: none) */
    int64_t start; /* the group's committed offset when assigned (-1: none) */
    bool used;
    bool staged;
    int64_t stage_offset;
    char *stage_meta;
    bool reachable;   /* at the last statistics */
    int64_t reach_at; /* ll_clock_mono_ns() of the last statistics */
    int64_t reached;  /* reachable time since assigned */
    bool in_stats;       /* in the statistics being read */
    int64_t stat_leader; /* there: its leader if fetching, else -1 */
    uint32_t gen;        /* which assignment of the slot */
    struct input *inputs; /* facts topics */
    size_t n_inputs;
    int expected; /* input partitions in all, by the marks */
    int64_t lost_at; /* lost (not revoked): kept, not committed, until assigned again
                      * or LIMBO_NS (kafka.c) pass (ll_clock_mono_ns(); 0: ours) */
    struct fact_note *notes; /* facts handed out, oldest first, from notes[notes_at] */
    size_t n_notes, notes_at, cap_notes;
};

/* A message taken from the queue, decoded ahead of being handed out. */
struct kmsg {
    rd_kafka_message_t *m;
    int slot;
    uint32_t gen; /* its partition's, when taken: a slot revoked since drops it */
    enum { K_EVENT, K_REJECT, K_NOTHING, K_MARK } what;
    enum ll_reject why;
    const char *detail; /* K_REJECT: in its decoder's arena */
    bool raw;           /* K_REJECT that became a raw event too */
    struct ll_event ev;
};

/* What one decoding thread owns. */
struct decoder {
    ll_decoder *dec;
    struct ll_arena arena;
    uint64_t round; /* the batch its arena holds */
};

struct broker_state {
    int64_t nodeid;
    bool up;
};

struct ll_kafka {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue; /* the consumer's: messages and rebalances */
    int wake[2];             /* librdkafka writes to [1] when the queue fills */
    struct part *parts;
    int n_parts;
    uint32_t next_gen;
    struct ll__pool *pool;
    struct decoder *dec; /* one per pool thread */
    /* The batch: b[b_next ..] are still to be handed out. */
    struct kmsg *b;
    size_t b_n, b_next;
    uint64_t round;
    char *id_header;
    char *file_header;
    bool key_as_id, raw_events, paused, facts, start_latest;
    bool assigned_once; /* a first assignment came (ll_kafka_close()) */
    int n_lost; /* parts kept after being lost (forget_lost() has work) */
    char **topics;
    size_t n_topics;
    bool no_stats; /* statistics.interval.ms=0: reachable is taken as given */
    size_t max_line;
    ll_reject_fn *on_reject;
    void *ctx;
    struct ll_kafka_hooks hooks;
    uint64_t *seq;
    struct ll_kafka_stats st;
    struct broker_state *brokers; /* of the statistics being read */
    size_t n_brokers, cap_brokers;
    size_t decode_from; /* of the decode_batch() running */
};

/* kafka.c: what the others take from it (see each there). */
int ll__kafka_find_part(const ll_kafka *k, const char *topic, int32_t partition);
struct ll_str ll__kafka_header(const rd_kafka_message_t *m, const char *name);

/* kafka_stats.c: librdkafka's statistics callback (opaque: the ll_kafka). */
int ll__kafka_on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque);

/* kafka_facts.c (see each there). */
void ll__kafka_read_mark(struct part *p, const rd_kafka_message_t *m);
bool ll__kafka_from_stage(ll_kafka *k, struct part *p, const rd_kafka_message_t *m,
                          struct fact_note *note);
void ll__kafka_facts_passed(struct part *p, uint64_t cut);
char *ll__kafka_facts_meta(const struct part *p, const char *meta);
const char *ll__kafka_facts_load(struct part *p, const char *meta);

#endif
