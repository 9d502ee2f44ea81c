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
 * what producers held back meanwhile into late lines.
 *
 * The statistics are read in kafka_stats.c, a service stage's facts and
 * marks in kafka_facts.c; the types they share are in kafka_int.h. */
#include "kafka_int.h"

#include "logloom/kclient.h"
#include "pool.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 1024     /* messages taken from the queue at a time */
#define CHUNK 32       /* messages a decoding thread takes at a time */
#define ALONE 128      /* fewer are decoded on the caller's thread alone */
#define ABANDONED_MAX 16
#define LIMBO_NS (30 * LL_NS_PER_SEC) /* a partition lost: its state kept this long */

/* Consumers closed but not destroyed (ll_kafka_close()): still referenced,
 * so that they are not taken for leaks. */
static rd_kafka_t *abandoned[ABANDONED_MAX];
static int n_abandoned;

/* ------------------------------------------------------------------------ */
/* Partitions                                                                */

/* @returns the slot of @p topic's @p partition, -1 if it is not ours. */
int ll__kafka_find_part(const ll_kafka *k, const char *topic, int32_t partition)
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
        ll__kafka_facts_passed(p, cut);
        p->stage_meta = ll__kafka_facts_meta(p, meta);
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

static void assigned(ll_kafka *k, rd_kafka_topic_partition_list_t *parts)
{
    /* Lost and ours again (a member whose commits failed on a generation
     * change is told its partitions are lost, then gets them back): the
     * state stays, and reading goes on where it was, not at the commit:
     * after the messages taken, some of which the batch may still hold. */
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *t = &parts->elems[i];
        int slot = ll__kafka_find_part(k, t->topic, t->partition);
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
        if (ll__kafka_find_part(k, t->topic, t->partition) >= 0)
            continue;
        int slot = add_part(k, t->topic, t->partition);
        rd_kafka_topic_partition_t *ct =
            err ? NULL : rd_kafka_topic_partition_list_find(c, t->topic, t->partition);
        char *meta = ll_strndup(ct && ct->metadata ? ct->metadata : "",
                                ct && ct->metadata ? ct->metadata_size : 0);
        const char *rest = k->facts ? ll__kafka_facts_load(&k->parts[slot], meta) : meta;
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
        int slot = ll__kafka_find_part(k, parts->elems[i].topic, parts->elems[i].partition);
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

/* The value of header @p name of @p m (borrowed from @p m), or empty. */
struct ll_str ll__kafka_header(const rd_kafka_message_t *m, const char *name)
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
    return ll__kafka_header(m, k->id_header);
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
    if (ll__kafka_header(km->m, LL_KAFKA_FACT_MARK).len) { /* any topic may carry marks */
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
        ll_event_set_origin(&km->ev, ll__kafka_header(km->m, k->file_header), &d->arena);
        return;
    }
    const char *err = ll_decoder_error(d->dec);
    size_t n = strlen(err) + 1;
    km->detail = memcpy(ll_arena_alloc(&d->arena, n), err, n);
    if (km->why == LL_REJECT_NOT_JSON && k->raw_events) {
        ll_decoder_raw_event(d->dec, v, len, &d->arena, &km->ev);
        km->raw = true;
        ll_event_set_origin(&km->ev, ll__kafka_header(km->m, k->file_header), &d->arena);
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
        int s = m->err ? -1 : ll__kafka_find_part(k, rd_kafka_topic_name(m->rkt), m->partition);
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
/* Where reading stands                                                      */

bool ll_kafka_lost(const ll_kafka *k, int slot)
{
    return k->parts[slot].lost_at != 0;
}

bool ll_kafka_caught_up(const ll_kafka *k, int slot)
{
    const struct part *p = &k->parts[slot];
    int64_t lo, hi;
    if ((!k->no_stats && !p->reachable) ||
        rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi) || hi < 0)
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

/* ------------------------------------------------------------------------ */
/* Handing out                                                               */

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
        ll__kafka_read_mark(p, m);
        return false;
    }
    struct fact_note note = {.input = UINT32_MAX};
    if (k->facts && !ll__kafka_from_stage(k, p, m, &note))
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
        ev->corr_id = ll__kafka_header(m, LL_KAFKA_FACT_CORR);
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
    k->id_header = ll_strdup(conf->id_header ? conf->id_header : LL_KAFKA_ID_HEADER);
    k->file_header = ll_strdup(conf->file_header ? conf->file_header : LL_KAFKA_FILE_HEADER);
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
    rd_kafka_conf_set_stats_cb(c, ll__kafka_on_stats);
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
    k->paused = pause;
    k->st.paused = pause;
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

#define KAFKA(field, name, type, help) {name, type, help, offsetof(struct ll_kafka_stats, field)}

const struct ll_metric_field ll_kafka_metrics[] = {
    KAFKA(partitions, "logloom_kafka_partitions", "gauge", "Kafka partitions assigned"),
    KAFKA(messages, "logloom_kafka_messages_total", "counter", "Kafka messages consumed"),
    KAFKA(paused, "logloom_kafka_paused", "gauge", "1 while fetching is paused (sinks full)"),
    KAFKA(commits, "logloom_kafka_commits_total", "counter", "Offset commits sent"),
    KAFKA(commit_failures, "logloom_kafka_commit_failures_total", "counter",
          "Offset commits that failed"),
    KAFKA(rebalances, "logloom_kafka_rebalances_total", "counter",
          "Partitions assigned or revoked"),
    KAFKA(errors, "logloom_kafka_errors_total", "counter", "Kafka client errors"),
    KAFKA(kept, "logloom_kafka_partitions_kept_total", "counter",
          "Partitions lost in a rebalance and assigned again in time: state kept"),
};

const size_t ll_kafka_n_metrics = sizeof ll_kafka_metrics / sizeof ll_kafka_metrics[0];

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
