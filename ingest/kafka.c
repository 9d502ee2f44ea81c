/* The Kafka source: one member of a consumer group.
 *
 * Offsets are never committed by librdkafka itself (enable.auto.commit and
 * enable.auto.offset.store are off): the caller decides, per partition, the
 * oldest read order still needed and ll_kafka_stage() turns it into an
 * offset through the partition's runs (stretches of events whose read
 * orders and offsets both follow on), then ll_kafka_commit() sends every
 * staged offset in one request. The cooperative-sticky assignor is asked
 * for unless the properties choose another; both protocols are served.
 *
 * Each partition also keeps a clock that runs only while it is reachable:
 * librdkafka's statistics (once a second) show its leader connected and
 * its fetcher active, and the consumer is not paused. A quiet partition's
 * event time follows that clock, so an outage of any length does not turn
 * what producers held back meanwhile into late lines. */
#include "logloom/ingest.h"
#include "logloom/kclient.h"

#include "pool.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#define DEFAULT_HEADER "X-Request-ID"
#define DEFAULT_FILE_HEADER "file"
#define BATCH 1024     /* messages taken from the queue at a time */
#define CHUNK 32       /* messages a decoding thread takes at a time */
#define ALONE 128      /* fewer are decoded on the caller's thread alone */
#define ABANDONED_MAX 16
#define LIMBO_NS (30 * LL_NS_PER_SEC) /* a partition lost: its state kept this long */

/* Consumers closed but not destroyed (ll_kafka_close()): still referenced,
 * so that they are not taken for leaks. */
static rd_kafka_t *abandoned[ABANDONED_MAX];
static int n_abandoned;

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
                      * or LIMBO_NS pass (ll_clock_mono_ns(); 0: ours) */
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

/* ------------------------------------------------------------------------ */
/* Partitions                                                                */

static int find_part(const ll_kafka *k, const char *topic, int32_t partition)
{
    /* Most often a partition's own slot, as long as one topic is read. */
    if (partition >= 0 && partition < k->n_parts && k->parts[partition].used &&
        k->parts[partition].partition == partition &&
        strcmp(k->parts[partition].topic, topic) == 0)
        return partition;
    for (int i = 0; i < k->n_parts; i++)
        if (k->parts[i].used && k->parts[i].partition == partition &&
            strcmp(k->parts[i].topic, topic) == 0)
            return i;
    return -1;
}

static int add_part(ll_kafka *k, const char *topic, int32_t partition)
{
    int slot = 0;
    while (slot < k->n_parts && k->parts[slot].used)
        slot++;
    if (slot == k->n_parts)
        k->parts = ll_reallocarray(k->parts, (size_t)++k->n_parts, sizeof *k->parts);
    struct part *p = &k->parts[slot];
    *p = (struct part){.topic = ll_strdup(topic), .partition = partition, .next = -1, .taken = -1,
                       .start = -1, .used = true, .reach_at = ll_clock_mono_ns(),
                       .gen = ++k->next_gen};
    size_t n = strlen(topic) + 16;
    p->source = ll_malloc(n);
    snprintf(p->source, n, "%s/%d", topic, (int)partition);
    k->st.partitions++;
    return slot;
}

static void drop_part(ll_kafka *k, int slot)
{
    struct part *p = &k->parts[slot];
    ll_free(p->topic);
    ll_free(p->source);
    ll_free(p->runs);
    ll_free(p->stage_meta);
    for (size_t i = 0; i < p->n_inputs; i++)
        ll_free(p->inputs[i].source);
    ll_free(p->inputs);
    ll_free(p->notes);
    *p = (struct part){0};
    k->st.partitions--;
}

static void note_event(struct part *p, uint64_t seq, int64_t offset)
{
    struct run *r = p->n_runs ? &p->runs[p->n_runs - 1] : NULL;
    if (r && r->end + 1 == seq && r->offset + (int64_t)(r->end - r->seq) + 1 == offset) {
        r->end = seq;
    } else {
        LL_GROW(p->runs, p->n_runs, p->cap_runs, 16);
        p->runs[p->n_runs++] = (struct run){seq, seq, offset};
    }
}

int64_t ll_kafka_offset(const ll_kafka *k, int slot, uint64_t seq)
{
    const struct part *p = &k->parts[slot];
    for (size_t i = 0; i < p->n_runs; i++) {
        const struct run *r = &p->runs[i];
        if (seq <= r->seq)
            return r->offset;
        if (seq <= r->end)
            return r->offset + (int64_t)(seq - r->seq);
    }
    return p->next;
}

static void facts_passed(struct part *p, uint64_t cut);
static char *facts_meta(const struct part *p, const char *meta);

int64_t ll_kafka_stage(ll_kafka *k, int slot, uint64_t cut, const char *meta)
{
    struct part *p = &k->parts[slot];
    int64_t off = ll_kafka_offset(k, slot, cut);
    if (off < 0)
        return off; /* nothing read: the committed offset stands */
    p->staged = true;
    p->stage_offset = off;
    ll_free(p->stage_meta);
    if (k->facts) {
        facts_passed(p, cut);
        p->stage_meta = facts_meta(p, meta);
    } else {
        p->stage_meta = meta ? ll_strdup(meta) : NULL;
    }
    /* Runs wholly before the cut are not needed any more. */
    size_t keep = 0;
    while (keep < p->n_runs && p->runs[keep].end < cut)
        keep++;
    if (keep) /* none for a partition that gave no event yet (marks only) */
        memmove(p->runs, p->runs + keep, (p->n_runs - keep) * sizeof *p->runs);
    p->n_runs -= keep;
    return off;
}

int ll_kafka_commit(ll_kafka *k, bool sync)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    for (int i = 0; i < k->n_parts; i++) {
        struct part *p = &k->parts[i];
        if (!p->used || !p->staged || p->lost_at) /* another may own it: never commit */
            continue;
        rd_kafka_topic_partition_t *t = rd_kafka_topic_partition_list_add(l, p->topic,
                                                                         p->partition);
        t->offset = p->stage_offset;
        if (p->stage_meta) { /* freed by librdkafka with the list */
            t->metadata_size = strlen(p->stage_meta);
            t->metadata = malloc(t->metadata_size);
            if (t->metadata)
                memcpy(t->metadata, p->stage_meta, t->metadata_size);
            else
                t->metadata_size = 0;
        }
        p->staged = false;
    }
    int rc = LL_OK;
    if (l->cnt) {
        rd_kafka_resp_err_t err = rd_kafka_commit(k->rk, l, !sync);
        k->st.commits++;
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
            k->st.commit_failures++;
            ll_log(LL_LEVEL_WARN, "kafka", "commit of %d partitions failed: %s (the next "
                   "commit carries them)", l->cnt, rd_kafka_err2str(err));
            rc = LL_EIO;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Rebalances                                                                */

static const char *facts_load(struct part *p, const char *meta);

static void assigned(ll_kafka *k, rd_kafka_topic_partition_list_t *parts)
{
    /* Lost and ours again (a member whose commits failed on a generation
     * change is told its partitions are lost, then gets them back): the
     * state stays, and reading goes on where it was, not at the commit:
     * after the messages taken, some of which the batch may still hold. */
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *t = &parts->elems[i];
        int slot = find_part(k, t->topic, t->partition);
        if (slot < 0 || !k->parts[slot].lost_at)
            continue;
        struct part *p = &k->parts[slot];
        p->lost_at = 0;
        k->n_lost--;
        if (p->taken >= 0)
            t->offset = p->taken;
        k->st.kept++;
        ll_log(LL_LEVEL_INFO, "kafka", "%s is ours again: its state kept, reading on at offset "
               "%lld", p->source, (long long)p->taken);
    }
    /* What the group committed, with the metadata beside it. */
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t err = rd_kafka_committed(k->rk, c, 10000);
    if (err)
        ll_log(LL_LEVEL_WARN, "kafka", "committed offsets not known: %s",
               rd_kafka_err2str(err));
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *t = &parts->elems[i];
        if (find_part(k, t->topic, t->partition) >= 0)
            continue;
        int slot = add_part(k, t->topic, t->partition);
        rd_kafka_topic_partition_t *ct =
            err ? NULL : rd_kafka_topic_partition_list_find(c, t->topic, t->partition);
        char *meta = ll_strndup(ct && ct->metadata ? ct->metadata : "",
                                ct && ct->metadata ? ct->metadata_size : 0);
        const char *rest = k->facts ? facts_load(&k->parts[slot], meta) : meta;
        if (ct && ct->offset >= 0)
            k->parts[slot].start = ct->offset;
        ll_log(LL_LEVEL_INFO, "kafka", "assigned %s from %s%lld", k->parts[slot].source,
               ct && ct->offset >= 0 ? "committed offset " : "",
               ct && ct->offset >= 0 ? (long long)ct->offset : 0LL);
        if (k->hooks.assigned)
            k->hooks.assigned(k->hooks.ctx, slot, k->parts[slot].source, rest);
        ll_free(meta);
    }
    rd_kafka_topic_partition_list_destroy(c);
}

static void revoked(ll_kafka *k, rd_kafka_topic_partition_list_t *parts, bool lost)
{
    int slots[parts->cnt ? parts->cnt : 1], n = 0;
    for (int i = 0; i < parts->cnt; i++) {
        int slot = find_part(k, parts->elems[i].topic, parts->elems[i].partition);
        if (slot < 0)
            continue;
        if (lost) { /* kept a while: it may come back (assigned()) */
            ll_log(LL_LEVEL_INFO, "kafka", "lost %s (kept %.0fs in case it comes back)",
                   k->parts[slot].source, (double)LIMBO_NS / 1e9);
            k->parts[slot].lost_at = ll_clock_mono_ns();
            k->n_lost++;
            continue;
        }
        ll_log(LL_LEVEL_INFO, "kafka", "revoked %s", k->parts[slot].source);
        if (k->hooks.revoked)
            k->hooks.revoked(k->hooks.ctx, slot, false);
        slots[n++] = slot;
    }
    if (!lost)
        ll_kafka_commit(k, true);
    for (int i = 0; i < n; i++)
        drop_part(k, slots[i]);
}

/* Lost partitions not ours again in time (@p all: any) go: their state
 * is dropped, whoever owns them now rebuilds it. */
static void forget_lost(ll_kafka *k, bool all)
{
    if (!k->n_lost) /* ll_kafka_next() calls it per event */
        return;
    int64_t now = ll_clock_mono_ns();
    for (int i = 0; i < k->n_parts; i++) {
        struct part *p = &k->parts[i];
        if (!p->used || !p->lost_at || (!all && now - p->lost_at < LIMBO_NS))
            continue;
        ll_log(LL_LEVEL_INFO, "kafka", "%s went elsewhere: its state dropped", p->source);
        if (k->hooks.revoked)
            k->hooks.revoked(k->hooks.ctx, i, true);
        drop_part(k, i);
        k->n_lost--;
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    ll_kafka *k = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    k->st.rebalances++;
    rd_kafka_error_t *e = NULL;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        k->assigned_once = true;
        assigned(k, parts);
        if (coop)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
        if (k->paused)
            rd_kafka_pause_partitions(rk, parts);
    } else {
        revoked(k, parts, rd_kafka_assignment_lost(rk));
        if (coop)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
    }
    if (e) {
        ll_log(LL_LEVEL_ERROR, "kafka", "rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    ll_kafka *k = opaque;
    k->st.errors++;
    /* Brokers down and back are routine: librdkafka reconnects. */
    ll_log(err == RD_KAFKA_RESP_ERR__FATAL ? LL_LEVEL_ERROR : LL_LEVEL_WARN, "kafka", "%s: %s",
           rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    ll_log(level <= 3 ? LL_LEVEL_ERROR : level <= 4 ? LL_LEVEL_WARN : LL_LEVEL_DEBUG, "kafka",
           "%s: %s", fac, buf);
}

/* ------------------------------------------------------------------------ */
/* Reachability                                                              */

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
        sp->slot = find_part(sp->k, sp->topic, (int32_t)atoi(sp->key));
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
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
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

/* ------------------------------------------------------------------------ */
/* Events                                                                    */

static void reject(ll_kafka *k, enum ll_reject why, const rd_kafka_message_t *m,
                   const char *source, const char *detail)
{
    k->st.rejected[why]++;
    if (!k->on_reject)
        return;
    struct ll_pos pos = {ll_str_c(source), (uint64_t)m->offset};
    size_t len = m->len < k->max_line ? m->len : k->max_line;
    struct ll_line line = {m->payload, len, (uint64_t)m->offset, m->len,
                           m->len > k->max_line ? LL_LINE_TOO_LONG : 0};
    k->on_reject(k->ctx, why, &pos, &line, detail);
}

/* The value of header @p name of @p m, or empty. */
static struct ll_str header(const rd_kafka_message_t *m, const char *name)
{
    rd_kafka_headers_t *h;
    const void *v;
    size_t n;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(h, name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v && n)
        return (struct ll_str){v, n};
    return LL_STR("");
}

/* The correlation id a message carries beside its value: the header (or
 * the key). */
static struct ll_str outer_id(ll_kafka *k, const rd_kafka_message_t *m)
{
    if (k->key_as_id)
        return m->key && m->key_len ? (struct ll_str){m->key, m->key_len} : LL_STR("");
    return header(m, k->id_header);
}

/* Decodes b[decode_from + i] on @p thread: what does not depend on the
 * messages before it (the rest waits for hand_out(), in queue order). */
static void decode_one(void *ctx, size_t thread, size_t i)
{
    ll_kafka *k = ctx;
    struct kmsg *km = &k->b[k->decode_from + i];
    struct decoder *d = &k->dec[thread];
    if (d->round != k->round) { /* the events of its last batch are gone */
        ll_arena_reset(&d->arena);
        d->round = k->round;
    }
    const char *v = km->m->payload ? km->m->payload : "";
    size_t len = km->m->len;
    while (len && (v[len - 1] == '\n' || v[len - 1] == '\r'))
        len--;
    km->raw = false;
    if (!len) {
        km->what = K_NOTHING;
        return;
    }
    if (header(km->m, LL_KAFKA_FACT_MARK).len) { /* any topic may carry marks */
        km->what = K_MARK;
        return;
    }
    km->what = K_REJECT;
    if (len > k->max_line) {
        km->why = LL_REJECT_TOO_LONG;
        km->detail = "message value exceeds max_line";
        return;
    }
    if (ll_decoder_decode(d->dec, v, len, &d->arena, &km->ev, &km->why) == LL_OK) {
        km->what = K_EVENT;
        ll_event_set_origin(&km->ev, header(km->m, k->file_header), &d->arena);
        return;
    }
    const char *err = ll_decoder_error(d->dec);
    size_t n = strlen(err) + 1;
    km->detail = memcpy(ll_arena_alloc(&d->arena, n), err, n);
    if (km->why == LL_REJECT_NOT_JSON && k->raw_events) {
        ll_decoder_raw_event(d->dec, v, len, &d->arena, &km->ev);
        km->raw = true;
        ll_event_set_origin(&km->ev, header(km->m, k->file_header), &d->arena);
    }
}

/* Decodes the batch from b[@p from] on, on every thread of the pool. */
static void decode_batch(ll_kafka *k, size_t from)
{
    k->decode_from = from;
    ll__pool_run(k->pool, k->b_n - from, CHUNK, ALONE, decode_one, k);
}

/* The messages of the batch, handed out or not, go back to librdkafka. */
static void release(ll_kafka *k)
{
    for (size_t i = 0; i < k->b_n; i++)
        rd_kafka_message_destroy(k->b[i].m);
    k->b_n = k->b_next = 0;
}

/* Takes up to BATCH messages from the queue, waiting until @p deadline
 * (0: not) for the first. @returns false if none came. */
static bool take(ll_kafka *k, int64_t deadline)
{
    bool drained = false;
    size_t n = 0;
    while (n < BATCH) {
        int64_t left = n == 0 && deadline ? deadline - ll_clock_mono_ns() : 0;
        rd_kafka_message_t *m =
            rd_kafka_consumer_poll(k->rk, left > 0 ? (int)((left + 999999) / 1000000) : 0);
        if (!m) {
            if (drained)
                break;
            /* Empty: reset the wakeup (librdkafka writes it when the queue
             * fills again), then look once more, as it may have filled in
             * between. */
            char drain[64];
            while (read(k->wake[0], drain, sizeof drain) > 0)
                ;
            drained = true;
            continue;
        }
        int s = m->err ? -1 : find_part(k, rd_kafka_topic_name(m->rkt), m->partition);
        if (s < 0) {
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                k->st.errors++;
                ll_log(LL_LEVEL_WARN, "kafka", "%s", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        k->b[n++] = (struct kmsg){.m = m, .slot = s, .gen = k->parts[s].gen};
        k->parts[s].taken = m->offset + 1;
    }
    k->b_n = n;
    k->b_next = 0;
    k->round++;
    return n > 0;
}

/* ------------------------------------------------------------------------ */
/* Facts                                                                     */

static struct input *input_of(struct part *p, struct ll_str source)
{
    for (size_t i = 0; i < p->n_inputs; i++)
        if (ll_str_eq(ll_str_c(p->inputs[i].source), source))
            return &p->inputs[i];
    p->inputs = ll_reallocarray(p->inputs, p->n_inputs + 1, sizeof *p->inputs);
    struct input *in = &p->inputs[p->n_inputs++];
    *in = (struct input){ll_strndup(source.ptr, source.len), -1, -1, LL_TIME_NONE, LL_TIME_NONE,
                         false};
    return in;
}

/* The least time the inputs with one are marked at (LL_TIME_NONE: none). */
static int64_t least_mark(const struct part *p)
{
    int64_t low = LL_TIME_NONE;
    for (size_t i = 0; i < p->n_inputs; i++)
        if (p->inputs[i].mark != LL_TIME_NONE && (low == LL_TIME_NONE || p->inputs[i].mark < low))
            low = p->inputs[i].mark;
    return low;
}

/* The next line of [*@p v, @p end) (the last may lack its newline), split
 * at its last space: @p source before it, @p value after it (NUL-ended; ""
 * if longer than 23 bytes). Without a space, @p source is empty and
 * @p value the whole line. @returns false when no line is left. */
static bool next_pair(const char **v, const char *end, struct ll_str *source, char value[24])
{
    if (*v >= end)
        return false;
    const char *nl = memchr(*v, '\n', (size_t)(end - *v));
    if (!nl)
        nl = end;
    const char *sp = memrchr(*v, ' ', (size_t)(nl - *v));
    const char *at = sp ? sp + 1 : *v;
    *source = sp ? (struct ll_str){*v, (size_t)(sp - *v)} : LL_STR("");
    value[0] = '\0';
    if ((size_t)(nl - at) < 24) {
        memcpy(value, at, (size_t)(nl - at));
        value[nl - at] = '\0';
    }
    *v = nl + 1;
    return true;
}

/* A mark: "N\n" (input partitions in all), then "SOURCE TIME\n" lines
 * (TIME "-": nothing to read there). A time only moves forward. */
static void read_mark(struct part *p, const rd_kafka_message_t *m)
{
    const char *v = m->payload ? m->payload : "", *end = v + m->len;
    int64_t others = least_mark(p);
    struct ll_str src;
    char num[24];
    for (bool first = true; next_pair(&v, end, &src, num); first = false) {
        if (first) {
            p->expected = atoi(num);
        } else if (src.len) {
            struct input *in = input_of(p, src);
            /* "-" (nothing to read) counts only for an input that never had
             * a time: a new owner that has read nothing yet knows less than
             * the last owner's marks did. */
            int64_t t = strcmp(num, "-") == 0 ? LL_TIME_NONE : strtoll(num, NULL, 10);
            if (in->mark == LL_TIME_NONE || t > in->mark)
                in->mark = t;
            if (t == LL_TIME_NONE)
                in->cap = others;
            in->marked = true;
        }
    }
}

/* A message of a facts topic, not a mark: @returns true if it is a fact
 * not seen before; @p note: where it was read. */
static bool from_stage(ll_kafka *k, struct part *p, const rd_kafka_message_t *m,
                       struct fact_note *note)
{
    struct ll_str src = header(m, LL_KAFKA_FACT_SRC), off = header(m, LL_KAFKA_FACT_OFF);
    if (!src.len)
        return true;
    char num[24] = "";
    if (off.len < sizeof num)
        memcpy(num, off.ptr, off.len);
    int64_t o = strtoll(num, NULL, 10);
    struct input *in = input_of(p, src);
    if (o <= in->off) { /* sent again: its input was read again after a rebalance */
        k->st.facts_repeated++;
        return false;
    }
    in->off = o;
    *note = (struct fact_note){0, (uint32_t)(in - p->inputs), o};
    return true;
}

/* The facts handed out before read order @p cut are behind the commit:
 * a fact from the same input no later than them is a repeat after it. */
static void facts_passed(struct part *p, uint64_t cut)
{
    while (p->notes_at < p->n_notes && p->notes[p->notes_at].seq < cut) {
        const struct fact_note *n = &p->notes[p->notes_at++];
        if (n->off > p->inputs[n->input].cut_off)
            p->inputs[n->input].cut_off = n->off;
    }
    if (p->notes_at * 2 > p->n_notes) {
        memmove(p->notes, p->notes + p->notes_at, (p->n_notes - p->notes_at) * sizeof *p->notes);
        p->n_notes -= p->notes_at;
        p->notes_at = 0;
    }
}

/* The commit's metadata: "F<n>\n", then n bytes of "SOURCE OFFSET\n" lines
 * (facts_passed()), then @p meta. */
static char *facts_meta(const struct part *p, const char *meta)
{
    struct ll_buf b = {0}, facts = {0};
    for (size_t i = 0; i < p->n_inputs; i++)
        if (p->inputs[i].cut_off >= 0)
            ll_buf_printf(&facts, "%s %lld\n", p->inputs[i].source,
                          (long long)p->inputs[i].cut_off);
    ll_buf_printf(&b, "F%zu\n", facts.len);
    ll_buf_append(&b, facts.data ? facts.data : "", facts.len);
    ll_buf_puts(&b, meta ? meta : "");
    ll_buf_free(&facts);
    return (char *)b.data;
}

/* Reads the facts section of a commit's metadata (facts_meta()): facts up
 * to those offsets were seen by the last owner. @returns the rest. */
static const char *facts_load(struct part *p, const char *meta)
{
    char *end;
    if (meta[0] != 'F')
        return meta;
    unsigned long long n = strtoull(meta + 1, &end, 10);
    if (*end != '\n' || n > strlen(end + 1))
        return meta;
    const char *v = end + 1, *stop = v + n;
    struct ll_str src;
    char num[24];
    while (next_pair(&v, stop, &src, num) && src.len) {
        struct input *in = input_of(p, src);
        in->off = in->cut_off = strtoll(num, NULL, 10);
    }
    return stop;
}

int64_t ll_kafka_facts_time(const ll_kafka *k, int slot)
{
    const struct part *p = &k->parts[slot];
    if (!p->expected || p->n_inputs < (size_t)p->expected)
        return LL_TIME_NONE;
    int64_t low = INT64_MAX;
    bool waits = false;
    for (size_t i = 0; i < p->n_inputs; i++) {
        const struct input *in = &p->inputs[i];
        if (!in->marked)
            return LL_TIME_NONE;
        /* "Nothing to read" lets the others' time on only as far as it was
         * when that was last said: an owner that died, or gave the
         * partition up, before it read a line said nothing of the lines its
         * next owner will read. Said before any time was known, it holds
         * the time until said again. */
        int64_t t = in->mark != LL_TIME_NONE ? in->mark : in->cap;
        waits |= t == LL_TIME_NONE;
        if (t != LL_TIME_NONE && t < low)
            low = t;
    }
    return low == INT64_MAX || waits ? LL_TIME_NONE : low;
}

bool ll_kafka_marked(const ll_kafka *k, int slot)
{
    return k->parts[slot].expected > 0;
}

bool ll_kafka_lost(const ll_kafka *k, int slot)
{
    return k->parts[slot].lost_at != 0;
}

bool ll_kafka_caught_up(const ll_kafka *k, int slot)
{
    const struct part *p = &k->parts[slot];
    int64_t lo, hi;
    if (rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi) || hi < 0)
        return false;
    int64_t at = p->next;
    if (at < 0) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
        if (rd_kafka_position(k->rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR)
            at = l->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(l);
        if (at < 0 && lo == hi)
            at = hi; /* empty: nothing fetched, nothing to fetch */
    }
    return at >= hi;
}

void ll_kafka_ends(ll_kafka *k, const int *slots, int n, enum ll_kafka_end *end,
                   int timeout_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++) {
        end[i] = LL_KAFKA_UNANSWERED;
        const struct part *p = &k->parts[slots[i]];
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = RD_KAFKA_OFFSET_END;
    }
    /* The latest offset of each is the first whose time is at least "the end". */
    if (n && rd_kafka_offsets_for_times(k->rk, l, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < n; i++) {
            const struct part *p = &k->parts[slots[i]];
            const rd_kafka_topic_partition_t *t = &l->elems[i];
            if (t->err || t->offset < 0)
                continue;
            int64_t at = p->next >= 0 ? p->next : p->start, lo, hi;
            if (at < 0 && (k->start_latest || t->offset == 0 ||
                           (!rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo,
                                                            &hi) && lo == t->offset)))
                at = t->offset; /* reading starts at the end, or there is nothing */
            end[i] = at >= t->offset ? LL_KAFKA_AT_END : LL_KAFKA_BEHIND;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

int ll_kafka_topic_partitions(ll_kafka *k, int timeout_ms)
{
    int n = 0;
    for (size_t i = 0; i < k->n_topics; i++) {
        int of = ll_kclient_partitions(k->rk, k->topics[i], timeout_ms, NULL);
        if (of == LL_KCLIENT_UNKNOWN)
            return 0; /* one not known: none is */
        n += of;
    }
    return n;
}

/* Hands @p km out in queue order: counts it, reports a reject, and fills
 * in what depends on the order. @returns true if it is an event. */
static bool hand_out(ll_kafka *k, struct kmsg *km)
{
    struct part *p = &k->parts[km->slot];
    if (!p->used || p->gen != km->gen)
        return false; /* revoked since it was taken: its next owner reads it */
    const rd_kafka_message_t *m = km->m;
    k->st.messages++;
    k->st.bytes += m->len;
    p->next = m->offset + 1; /* read, whether or not it is an event */
    if (km->what == K_MARK) {
        read_mark(p, m);
        return false;
    }
    struct fact_note note = {.input = UINT32_MAX};
    if (k->facts && !from_stage(k, p, m, &note))
        return false;
    if (km->what == K_NOTHING)
        return false;
    if (km->what == K_REJECT) {
        reject(k, km->why, m, p->source, km->detail);
        if (!km->raw)
            return false;
        k->st.raw_events++;
    }
    struct ll_event *ev = &km->ev;
    ev->pos = (struct ll_pos){ll_str_c(p->source), (uint64_t)m->offset};
    if (k->facts)
        ev->corr_id = header(m, LL_KAFKA_FACT_CORR);
    else if (!ev->corr_id.len)
        ev->corr_id = outer_id(k, m);
    if (ev->ts_ns == LL_TIME_NONE) {
        rd_kafka_timestamp_type_t tt;
        int64_t ms = rd_kafka_message_timestamp(m, &tt);
        ev->ts_ns = ms >= 0 ? ms * LL_NS_PER_MS : ll_clock_real_ns();
        ev->flags |= LL_EV_TIME_INFERRED;
    }
    ev->seq = ++*k->seq;
    note_event(p, ev->seq, m->offset);
    if (note.input != UINT32_MAX) {
        LL_GROW(p->notes, p->n_notes, p->cap_notes, 64);
        note.seq = ev->seq;
        p->notes[p->n_notes++] = note;
    }
    k->st.events++;
    return true;
}

int ll_kafka_next(ll_kafka *k, const struct ll_event **ev, int *slot, int64_t timeout_ns)
{
    forget_lost(k, false);
    int64_t deadline = timeout_ns > 0 ? ll_clock_mono_ns() + timeout_ns : 0;
    for (;;) {
        while (k->b_next < k->b_n) {
            struct kmsg *km = &k->b[k->b_next++];
            if (hand_out(k, km)) {
                *ev = &km->ev;
                *slot = km->slot;
                return LL_OK;
            }
        }
        release(k);
        if (deadline && ll_clock_mono_ns() >= deadline)
            return LL_EAGAIN;
        if (!take(k, deadline))
            return LL_EAGAIN;
        decode_batch(k, 0);
    }
}

/* ------------------------------------------------------------------------ */
/* Life                                                                      */

/* A decoder per thread of the pool, each with its thread's rule state;
 * replaces those there only if every one compiles. */
static int make_decoders(ll_kafka *k, const struct ll_decode_conf *decode,
                         void *const *match_ctx, char *err, size_t errsz)
{
    size_t n = ll__pool_threads(k->pool);
    ll_decoder *made[n];
    struct ll_decode_conf dconf = decode ? *decode : (struct ll_decode_conf){0};
    for (size_t t = 0; t < n; t++) {
        if (match_ctx)
            dconf.match_ctx = match_ctx[t];
        if (!(made[t] = ll_decoder_new(&dconf, err, errsz))) {
            while (t--)
                ll_decoder_destroy(made[t]);
            return LL_EINVAL;
        }
    }
    for (size_t t = 0; t < n; t++) {
        ll_decoder_destroy(k->dec[t].dec);
        k->dec[t].dec = made[t];
    }
    return LL_OK;
}

int ll_kafka_open(const struct ll_kafka_conf *conf, ll_kafka **out, char *err, size_t errsz)
{
    *out = NULL;
    /* The properties may override every default. librdkafka stops
     * fetching every partition once the consumer queue (which all
     * partitions share) holds queued.min.messages, and only looks again
     * after a pause; with its default of 100000 the pipeline ran dry for
     * most of each second. Bytes stay bounded by queued.max.messages.kbytes. */
    const struct ll_kclient_prop defaults[] = {
        {"group.id", conf->group_id},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", conf->start_latest ? "latest" : "earliest"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"queued.min.messages", "1000000"},
        {"statistics.interval.ms", "1000"}};
    struct ll_kclient_conf kc = {.brokers = conf->brokers, .defaults = defaults,
                                 .n_defaults = sizeof defaults / sizeof defaults[0],
                                 .props = conf->props, .n_props = conf->n_props};
    rd_kafka_conf_t *c = ll_kclient_conf_new(&kc, err, errsz);
    if (!c)
        return LL_EINVAL;
    ll_kafka *k = ll_calloc(1, sizeof *k);
    k->wake[0] = k->wake[1] = -1;
    k->id_header = ll_strdup(conf->id_header ? conf->id_header : DEFAULT_HEADER);
    k->file_header = ll_strdup(conf->file_header ? conf->file_header : DEFAULT_FILE_HEADER);
    k->facts = conf->facts;
    k->topics = ll_calloc(conf->n_topics ? conf->n_topics : 1, sizeof *k->topics);
    for (size_t i = 0; i < conf->n_topics; i++)
        if (conf->topics[i][0] != '^') /* patterns have no partition count */
            k->topics[k->n_topics++] = ll_strdup(conf->topics[i]);
    k->key_as_id = conf->key_as_id;
    k->start_latest = conf->start_latest;
    k->raw_events = conf->raw_events;
    k->max_line = conf->max_line ? conf->max_line : (size_t)1 << 20;
    k->on_reject = conf->on_reject;
    k->ctx = conf->ctx;
    k->hooks = conf->hooks;
    k->seq = conf->seq;
    k->pool = ll__pool_new(conf->threads);
    k->dec = ll_calloc(ll__pool_threads(k->pool), sizeof *k->dec);
    k->b = ll_calloc(BATCH, sizeof *k->b);
    for (size_t t = 0; t < ll__pool_threads(k->pool); t++)
        ll_arena_init(&k->dec[t].arena, 16 << 10);
    if (make_decoders(k, conf->decode, conf->match_ctx, err, errsz) != LL_OK) {
        rd_kafka_conf_destroy(c);
        ll_kafka_close(k);
        return LL_EINVAL;
    }
    char ms[32];
    size_t ms_len = sizeof ms;
    k->no_stats = rd_kafka_conf_get(c, "statistics.interval.ms", ms, &ms_len) ==
                      RD_KAFKA_CONF_OK && atoi(ms) == 0;
    rd_kafka_conf_set_opaque(c, k);
    rd_kafka_conf_set_stats_cb(c, on_stats);
    rd_kafka_conf_set_rebalance_cb(c, on_rebalance);
    rd_kafka_conf_set_error_cb(c, on_error);
    rd_kafka_conf_set_log_cb(c, on_log);
    if (!(k->rk = ll_kclient_new(RD_KAFKA_CONSUMER, c, err, errsz))) {
        ll_kafka_close(k);
        return LL_EINVAL;
    }
    rd_kafka_poll_set_consumer(k->rk);
    k->queue = rd_kafka_queue_get_consumer(k->rk);
    if (pipe2(k->wake, O_NONBLOCK | O_CLOEXEC) == 0)
        rd_kafka_queue_io_event_enable(k->queue, k->wake[1], "1", 1);
    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new((int)conf->n_topics);
    for (size_t i = 0; i < conf->n_topics; i++)
        rd_kafka_topic_partition_list_add(topics, conf->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t r = rd_kafka_subscribe(k->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (r) {
        snprintf(err, errsz, "kafka: subscribing: %s", rd_kafka_err2str(r));
        ll_kafka_close(k);
        return LL_EINVAL;
    }
    *out = k;
    return LL_OK;
}

int ll_kafka_set_decode(ll_kafka *k, const struct ll_decode_conf *decode,
                        void *const *match_ctx, char *err, size_t errsz)
{
    if (make_decoders(k, decode, match_ctx, err, errsz) != LL_OK)
        return LL_EINVAL;
    /* What is taken but not handed out yet was decoded with the old rules. */
    if (k->b_next < k->b_n) {
        ll_log(LL_LEVEL_INFO, "kafka", "%zu messages taken before the rules changed are "
               "decoded again", k->b_n - k->b_next);
        decode_batch(k, k->b_next);
    }
    return LL_OK;
}

void ll_kafka_pause(ll_kafka *k, bool pause)
{
    if (pause == k->paused)
        return;
    rd_kafka_topic_partition_list_t *a;
    if (rd_kafka_assignment(k->rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    if (pause)
        rd_kafka_pause_partitions(k->rk, a);
    else
        rd_kafka_resume_partitions(k->rk, a);
    rd_kafka_topic_partition_list_destroy(a);
    k->paused = k->st.paused = pause;
}

const char *ll_kafka_source(const ll_kafka *k, int slot)
{
    return slot >= 0 && slot < k->n_parts && k->parts[slot].used ? k->parts[slot].source : NULL;
}

int ll_kafka_fd(const ll_kafka *k)
{
    return k->wake[0];
}

int ll_kafka_slots(const ll_kafka *k)
{
    return k->n_parts;
}

const struct ll_kafka_stats *ll_kafka_stats(const ll_kafka *k)
{
    return &k->st;
}

void ll_kafka_close(ll_kafka *k)
{
    if (!k)
        return;
    if (k->b)
        release(k);
    if (k->rk) {
        rd_kafka_consumer_close(k->rk); /* revokes through the hooks */
        if (k->queue)
            rd_kafka_queue_destroy(k->queue);
        /* librdkafka before 2.2 (Debian 12 has 2.0) aborts on an assertion
         * when a cooperative-sticky member that joined but never had an
         * assignment is destroyed (its issue 4312): in a group that is
         * rebalancing, a member stopped before its first assignment would
         * crash. It left the group above; its handle is kept (the process
         * is ending), not destroyed. */
        if (k->assigned_once || n_abandoned == ABANDONED_MAX)
            rd_kafka_destroy(k->rk);
        else
            abandoned[n_abandoned++] = k->rk;
    }
    for (int i = 0; i < 2; i++)
        if (k->wake[i] >= 0)
            close(k->wake[i]);
    for (int i = 0; i < k->n_parts; i++)
        if (k->parts[i].used)
            drop_part(k, i);
    ll_free(k->parts);
    for (size_t t = 0; k->dec && t < ll__pool_threads(k->pool); t++) {
        ll_decoder_destroy(k->dec[t].dec);
        ll_arena_free(&k->dec[t].arena);
    }
    ll__pool_free(k->pool);
    ll_free(k->dec);
    ll_free(k->b);
    ll_free(k->brokers);
    ll_free(k->id_header);
    ll_free(k->file_header);
    for (size_t i = 0; i < k->n_topics; i++)
        ll_free(k->topics[i]);
    ll_free(k->topics);
    ll_free(k);
}
