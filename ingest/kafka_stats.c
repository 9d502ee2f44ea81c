/* The Kafka source's statistics (kafka.c): librdkafka's JSON, once a
 * second, read for what each partition's reachability needs (its leader
 * connected, its fetcher active), which moves the partition's clock. */
#include "kafka_int.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

/* The statistics are read with yajl's callbacks, keeping only what
 * reachability needs: a tree of the whole document (1.5 KB a partition)
 * cost a malloc per value, most of an idle member's CPU with thousands of
 * partitions. */

/* What a container of the statistics is, by the keys leading to it. */
enum stats_ctx { SC_OTHER, SC_ROOT, SC_BROKERS, SC_BROKER, SC_TOPICS, SC_TOPIC, SC_PARTS, SC_PART };

#define STATS_DEPTH 16

struct stats_parse {
    ll_kafka *k;
    enum stats_ctx stack[STATS_DEPTH];
    int depth; /* containers open (those past STATS_DEPTH are SC_OTHER) */
    char key[256], topic[256];
    /* The broker or partition being read. */
    int64_t nodeid, leader;
    bool up, logical, active;
    int slot;
};

static enum stats_ctx stats_top(const struct stats_parse *sp)
{
    return sp->depth > 0 && sp->depth <= STATS_DEPTH ? sp->stack[sp->depth - 1] : SC_OTHER;
}

static bool key_is(const struct stats_parse *sp, const char *name)
{
    return strcmp(sp->key, name) == 0;
}

static int sp_open(struct stats_parse *sp, enum stats_ctx c)
{
    if (sp->depth < STATS_DEPTH)
        sp->stack[sp->depth] = c;
    sp->depth++;
    return 1;
}

static int sp_start_map(void *ctx)
{
    struct stats_parse *sp = ctx;
    enum stats_ctx parent = stats_top(sp), c = SC_OTHER;
    if (!sp->depth)
        c = SC_ROOT;
    else if (parent == SC_ROOT)
        c = key_is(sp, "brokers") ? SC_BROKERS : key_is(sp, "topics") ? SC_TOPICS : SC_OTHER;
    else if (parent == SC_BROKERS)
        c = SC_BROKER;
    else if (parent == SC_TOPICS)
        c = SC_TOPIC;
    else if (parent == SC_TOPIC && key_is(sp, "partitions"))
        c = SC_PARTS;
    else if (parent == SC_PARTS)
        c = SC_PART;
    if (c == SC_TOPIC)
        memcpy(sp->topic, sp->key, sizeof sp->topic);
    if (c == SC_BROKER) {
        sp->nodeid = -1;
        sp->up = sp->logical = false;
    }
    if (c == SC_PART) {
        sp->slot = ll__kafka_find_part(sp->k, sp->topic, (int32_t)atoi(sp->key));
        sp->leader = -1;
        sp->active = false;
    }
    return sp_open(sp, c);
}

static int sp_start_array(void *ctx)
{
    return sp_open(ctx, SC_OTHER);
}

static int sp_end(void *ctx)
{
    struct stats_parse *sp = ctx;
    ll_kafka *k = sp->k;
    enum stats_ctx c = stats_top(sp);
    if (c == SC_BROKER && !sp->logical && sp->nodeid >= 0) {
        LL_GROW(k->brokers, k->n_brokers, k->cap_brokers, 8);
        k->brokers[k->n_brokers++] = (struct broker_state){sp->nodeid, sp->up};
    }
    if (c == SC_PART && sp->slot >= 0) {
        k->parts[sp->slot].stat_leader = sp->active ? sp->leader : -1;
        k->parts[sp->slot].in_stats = true;
    }
    sp->depth--;
    return 1;
}

static int sp_key(void *ctx, const unsigned char *key, size_t len)
{
    struct stats_parse *sp = ctx;
    if (len >= sizeof sp->key)
        len = sizeof sp->key - 1;
    memcpy(sp->key, key, len);
    sp->key[len] = '\0';
    return 1;
}

static int sp_string(void *ctx, const unsigned char *v, size_t len)
{
    struct stats_parse *sp = ctx;
    struct ll_str s = {(const char *)v, len};
    enum stats_ctx c = stats_top(sp);
    if (c == SC_BROKER && key_is(sp, "state"))
        sp->up = ll_str_eq(s, LL_STR("UP"));
    else if (c == SC_BROKER && key_is(sp, "source"))
        sp->logical = ll_str_eq(s, LL_STR("logical")) || ll_str_eq(s, LL_STR("internal"));
    else if (c == SC_PART && key_is(sp, "fetch_state"))
        sp->active = ll_str_eq(s, LL_STR("active"));
    return 1;
}

static int sp_number(void *ctx, const char *v, size_t len)
{
    struct stats_parse *sp = ctx;
    enum stats_ctx c = stats_top(sp);
    char buf[24];
    if (len >= sizeof buf || !((c == SC_BROKER && key_is(sp, "nodeid")) ||
                               (c == SC_PART && key_is(sp, "leader"))))
        return 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    char *end;
    long long n = strtoll(buf, &end, 10);
    if (*end)
        n = -1;
    *(c == SC_BROKER ? &sp->nodeid : &sp->leader) = n;
    return 1;
}

static const yajl_callbacks stats_callbacks = {
    .yajl_number = sp_number,
    .yajl_string = sp_string,
    .yajl_start_map = sp_start_map,
    .yajl_map_key = sp_key,
    .yajl_end_map = sp_end,
    .yajl_start_array = sp_start_array,
    .yajl_end_array = sp_end,
};

static bool broker_up(const ll_kafka *k, int64_t id)
{
    for (size_t i = 0; i < k->n_brokers; i++)
        if (k->brokers[i].nodeid == id && k->brokers[i].up)
            return true;
    return false;
}

/* Statistics, once a second on the polling thread: each partition's clock
 * moves on by the time since the last, if it was reachable then and now:
 * led by a connected broker (logical entries such as GroupCoordinator
 * aside), fetching, and the consumer not paused. */
int ll__kafka_on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    ll_kafka *k = opaque;
    for (int i = 0; i < k->n_parts; i++)
        k->parts[i].in_stats = false;
    k->n_brokers = 0;
    struct stats_parse sp = {.k = k};
    yajl_handle h = yajl_alloc(&stats_callbacks, NULL, &sp);
    bool parsed = h && yajl_parse(h, (const unsigned char *)json, len) == yajl_status_ok &&
                  yajl_complete_parse(h) == yajl_status_ok;
    if (h)
        yajl_free(h);
    int64_t now = ll_clock_mono_ns();
    for (int i = 0; i < k->n_parts; i++) {
        struct part *p = &k->parts[i];
        if (!p->used)
            continue;
        bool ok = parsed && !k->paused && p->in_stats && p->stat_leader >= 0 &&
                  broker_up(k, p->stat_leader);
        if (ok && p->reachable)
            p->reached += now - p->reach_at;
        p->reachable = ok;
        p->reach_at = now;
    }
    return 0; /* librdkafka frees json */
}

int64_t ll_kafka_reached(const ll_kafka *k, int slot)
{
    const struct part *p = &k->parts[slot];
    if (k->no_stats)
        return ll_clock_mono_ns() - p->reach_at;
    return p->reached;
}
