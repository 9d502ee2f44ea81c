/* `logloom repartition`: reads a raw topic (keyed by pod, or not at all)
 * as a consumer group and produces each line again, keyed by its
 * correlation id, into a keyed topic, so that a correlating stage finds
 * every line of a workflow in one partition. Marks tell every keyed
 * partition how far in event time the lines went out (logloom/runner.h,
 * "Facts and marks"): the correlating stage takes its time from them, not
 * from its clock.
 *
 * A line without an id is keyed by the id of the workflow it joins in the
 * correlator, the same one every stage runs (a child's pid or a process's
 * file taught by a line with an id, a connection id, a minted id at a hop):
 * so routing and joining never disagree. A line that joins none when it
 * comes is keyed by its service, so that a service's lines stay together.
 * The file a line came from (the file header) and its id header go along.
 *
 * Nothing is lost or committed early: lines are produced in batches by an
 * idempotent producer, and the raw offsets of a batch are committed only
 * after every delivery report of it came back fine. A partition taken away
 * is committed as far as what was delivered first. */
#include "logloom/core.h"
#include "logloom/correlate.h"
#include "logloom/ingest.h"
#include "logloom/runner.h"

#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define BATCH_EVENTS 10000
#define BATCH_NS (100 * LL_NS_PER_MS)
#define QUIET_NS (1 * LL_NS_PER_SEC) /* no line this long: event time follows the clock */
#define IDLE_NS (500 * LL_NS_PER_MS) /* no line this long: its leader is asked where its end is */
#define WAIT_LOG_NS (10 * LL_NS_PER_SEC) /* queued lines waiting this long are logged */
#define ASK_MS 1000 /* how long leaders are waited for when asked where ends are */
#define RECONNECT_MS 10000 /* librdkafka's reconnect.backoff.max.ms unless set */
#define FLUSH_MS 30000

/* A line without an id that joined no workflow when it came: it goes out
 * once the correlator settles it (it waits for the watermark, as a child
 * that logs before its parent's spawn line does). */
struct held {
    uint64_t seq;
    int64_t ts;
    size_t line_len, origin_len, service_len;
    char data[]; /* line, origin, service */
};

/* A line read and not joined yet: lines are joined and produced in event
 * time order across the input partitions (a partition's lines are in
 * order, the partitions are not with each other: read behind, one gives
 * seconds of its lines at a time), as replay merges files. */
struct queued {
    uint64_t seq;
    int64_t ts; /* the source's: a message's time if the line has none */
    uint64_t offset;
    int slot;
    size_t line_len, origin_len, id_len, source_len;
    char data[]; /* line, origin, id (the source's), source */
};

/* An input partition, by its times (ll_clock_mono_ns(), but ts). */
struct in_part {
    int64_t ts;    /* the newest line's event time (INT64_MIN: none yet) */
    int64_t wall;  /* when a line was last read */
    int64_t end;   /* when it was last found read to its end */
    int64_t asked; /* when its leader was last asked where its end is */
    int64_t away;  /* when its leader last did not answer */
};

struct repart {
    ll_kafka *in;
    ll__facts *out; /* the keyed topic's lines and marks */
    const char *to, *id_header, *file_header;
    uint64_t seq, delivered; /* read order: last read, last of a delivered batch */
    uint64_t produced, by_service, linked;
    ll_correlator *corr; /* joins lines as the stages will */
    int64_t newest_ts, newest_wall;
    struct held **held; /* in read order */
    size_t n_held, cap_held;
    int64_t released; /* every line up to this time went out, but held ones */
    int64_t next_mark, mark_sent; /* ll_clock_mono_ns() */
    int64_t mark_was;             /* the time last marked */
    int n_inputs;                 /* of the raw topic (0: not known yet) */
    /* A partition waits for nothing once at its end this long after its
     * last line, or after its leader last did not answer (reach()). */
    int64_t away_ns;
    struct queued **queue; /* a min-heap by time, then read order */
    size_t n_queue, cap_queue;
    struct in_part *parts; /* by slot */
    int n_slots;
    int64_t moved, waits_logged; /* when a queued line last went out; logged */
    ll_decoder *dec; /* lines are decoded again as they leave the queue */
    struct ll_arena arena;
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void ll_cmd_repartition_usage(FILE *out)
{
    fprintf(out,
            "usage: logloom repartition --brokers LIST --group ID --from TOPIC --to TOPIC\n"
            "                           [--id-header NAME | --id-from-key] [--file-header NAME]\n"
            "                           [--config FILE] [--property NAME=VALUE]...\n"
            "\n"
            "Consume the raw topic TOPIC (--from) as member of consumer group ID and produce\n"
            "each line to --to keyed by its correlation id (from the line, else the header\n"
            "or the key), with an idempotent producer; offsets are committed after the\n"
            "brokers acknowledged what was produced. A line without an id is keyed by\n"
            "the workflow it joins as the correlator joins it (a child's pid, a process's\n"
            "file, a connection id), else by its service. The file header (--file-header,\n"
            "default file: the file a shipper read the line from) and the id go along.\n"
            "--config: the correlating stage's file (its decode and correlation sections).\n"
            "Marks tell every partition of --to how far in event time the lines went out.\n"
            "Properties are librdkafka's, for both the consumer and the producer. A\n"
            "partition read to its end lets event time on at the clock's pace from its\n"
            "last line while others bring lines; it waits for nothing once none does, or\n"
            "once at its end for reconnect.backoff.max.ms (10 s unless set; after its\n"
            "broker was away, only then, from when it is back).\n"
            "SIGTERM/SIGINT: deliver what was read, commit, leave the group, exit 0.\n"
            "\n"
            "exit status: 0 stopped, 1 a delivery failed, 2 bad arguments\n");
}

static bool out_failed(const struct repart *r)
{
    uint64_t lines, marks, failed;
    ll__facts_counts(r->out, &lines, &marks, &failed);
    return failed > 0;
}

/* Waits (FLUSH_MS at most) for every delivery report; @returns true if all
 * came back fine, and then everything read so far is delivered. Brokers
 * that do not answer hold the commit back, not the process: librdkafka
 * retries until message.timeout.ms, then a delivery fails. */
static bool deliver(struct repart *r)
{
    if (!ll__facts_flush(r->out, FLUSH_MS))
        return false;
    r->delivered = r->seq;
    return true;
}

/* The oldest read order still needed: a held line, or one not delivered. */
static uint64_t cut(const struct repart *r)
{
    uint64_t c = r->delivered + 1;
    for (size_t i = 0; i < r->n_held; i++)
        if (r->held[i]->seq < c)
            c = r->held[i]->seq;
    for (size_t i = 0; i < r->n_queue; i++)
        if (r->queue[i]->seq < c)
            c = r->queue[i]->seq;
    return c;
}

static void commit_all(struct repart *r, bool sync)
{
    uint64_t c = cut(r);
    for (int i = 0; i < ll_kafka_slots(r->in); i++)
        if (ll_kafka_source(r->in, i))
            ll_kafka_stage(r->in, i, c, NULL);
    ll_kafka_commit(r->in, sync);
}

static void unqueue(struct repart *r, int slot);
static void slot_seen(struct repart *r, int slot);
static void slot_fresh(struct repart *r, int slot);
static int64_t least_reach(const struct repart *r, int64_t now);

static void on_assigned(void *ctx, int slot, const char *source, const char *meta)
{
    (void)source;
    (void)meta;
    struct repart *r = ctx;
    slot_seen(r, slot);
    slot_fresh(r, slot);
}

static void on_revoked(void *ctx, int slot, bool lost)
{
    struct repart *r = ctx;
    if (!lost && deliver(r))
        ll_kafka_stage(r->in, slot, cut(r), NULL);
    unqueue(r, slot);
}

static void no_timeline(void *ctx, const struct ll_timeline *tl)
{
    (void)ctx;
    (void)tl;
}

/* Produces @p line keyed by @p key, with the file it came from and its own
 * id (if any) as headers, at time @p ts. */
static bool produce_line(struct repart *r, struct ll_str line, struct ll_str key,
                         struct ll_str origin, struct ll_str id, int64_t ts)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    if (origin.len)
        rd_kafka_header_add(h, r->file_header, -1, origin.ptr, (ssize_t)origin.len);
    if (id.len)
        rd_kafka_header_add(h, r->id_header, -1, id.ptr, (ssize_t)id.len);
    if (!ll__facts_line(r->out, key, line, ts, h))
        return false;
    r->produced++;
    return true;
}

static void hold(struct repart *r, const struct ll_event *ev)
{
    struct held *h = ll_malloc(sizeof *h + ev->line.len + ev->origin.len + ev->service.len);
    *h = (struct held){ev->seq, ev->ts_ns, ev->line.len, ev->origin.len, ev->service.len};
    char *d = h->data;
    struct ll_str parts[] = {ev->line, ev->origin, ev->service};
    for (size_t i = 0; i < 3; d += parts[i++].len)
        if (parts[i].len) /* an empty one may have no pointer */
            memcpy(d, parts[i].ptr, parts[i].len);
    LL_GROW(r->held, r->n_held, r->cap_held, 64);
    r->held[r->n_held++] = h;
}

/* Held line @p seq settled into workflow @p id (empty: none, so it goes
 * by its service). */
static void on_settled(void *ctx, uint64_t seq, struct ll_str id)
{
    struct repart *r = ctx;
    size_t i = 0;
    while (i < r->n_held && r->held[i]->seq != seq)
        i++;
    if (i == r->n_held)
        return;
    struct held *h = r->held[i];
    struct ll_str line = {h->data, h->line_len}, origin = {h->data + h->line_len, h->origin_len};
    struct ll_str service = {origin.ptr + origin.len, h->service_len};
    if (id.len)
        r->linked++;
    else
        r->by_service++;
    produce_line(r, line, id.len ? id : service.len ? service : LL_STR("-"), origin, LL_STR(""),
                 h->ts);
    memmove(r->held + i, r->held + i + 1, (r->n_held - i - 1) * sizeof *r->held);
    r->n_held--;
    ll_free(h);
}

/* While no line comes, event time follows the clock from the newest line's
 * (as in the stages), as far as every partition got (reach()), so that
 * workflows close and their keys can be taught anew. @p n: lines of the
 * batch just read. */
static void quiet(struct repart *r, int n)
{
    int64_t now = ll_clock_mono_ns();
    if (n || r->n_queue) {
        r->newest_wall = now;
        return;
    }
    if (!r->newest_ts || now - r->newest_wall < QUIET_NS)
        return;
    int64_t t = r->newest_ts + (now - r->newest_wall), low = least_reach(r, now);
    if (low != INT64_MAX && (low == INT64_MIN || low - 1 < t))
        t = low == INT64_MIN ? 0 : low - 1;
    if (t > r->released)
        ll_correlator_tick(r->corr, r->released = t);
}

/* @p ev goes out keyed by the id of the workflow it joins (at once, or
 * once settled: held until then). */
static bool emit(struct repart *r, const struct ll_event *ev)
{
    if (ev->ts_ns > r->newest_ts)
        r->newest_ts = ev->ts_ns;
    if (!ev->corr_id.len)
        hold(r, ev); /* first: it may settle inside the push */
    struct ll_str joined = ll_correlator_push(r->corr, ev);
    if (!ev->corr_id.len) {
        if (joined.len)
            on_settled(r, ev->seq, joined);
        return !out_failed(r);
    }
    return produce_line(r, ev->line, joined.len ? joined : ev->corr_id, ev->origin, ev->corr_id,
                        ev->ts_ns);
}


static bool queued_before(const void *ctx, const struct queued *a, const struct queued *b)
{
    (void)ctx;
    return a->ts != b->ts ? a->ts < b->ts : a->seq < b->seq;
}

LL_HEAP(queue, struct queued *, const void *, queued_before, LL_HEAP_UNPLACED)

/* Partition @p slot has its line times tracked from now on. */
static void slot_seen(struct repart *r, int slot)
{
    while (r->n_slots <= slot) {
        r->parts = ll_reallocarray(r->parts, (size_t)r->n_slots + 1, sizeof *r->parts);
        slot_fresh(r, r->n_slots++);
    }
}

/* Partition @p slot has no line read, nor its end asked, from now on. */
static void slot_fresh(struct repart *r, int slot)
{
    r->parts[slot] = (struct in_part){.ts = INT64_MIN, .wall = ll_clock_mono_ns()};
}

/* @p ev, read from partition @p slot, waits its turn (copied). */
static void enqueue(struct repart *r, const struct ll_event *ev, int slot)
{
    slot_seen(r, slot);
    if (ev->ts_ns > r->parts[slot].ts)
        r->parts[slot].ts = ev->ts_ns;
    r->parts[slot].wall = ll_clock_mono_ns();
    struct ll_str parts[] = {ev->line, ev->origin, ev->corr_id, ev->pos.source};
    size_t n = 0;
    for (size_t i = 0; i < 4; i++)
        n += parts[i].len;
    struct queued *q = ll_malloc(sizeof *q + n);
    *q = (struct queued){ev->seq, ev->ts_ns, ev->pos.offset, slot, ev->line.len,
                         ev->origin.len, ev->corr_id.len, ev->pos.source.len};
    char *d = q->data;
    for (size_t i = 0; i < 4; i++) {
        if (parts[i].len)
            memcpy(d, parts[i].ptr, parts[i].len);
        d += parts[i].len;
    }
    queue_push(NULL, &r->queue, &r->n_queue, &r->cap_queue, q);
}

/* The line of @p q decoded again, as the source had it. */
static void decoded(struct repart *r, const struct queued *q, struct ll_event *ev)
{
    const char *line = q->data, *origin = line + q->line_len, *id = origin + q->origin_len;
    const char *source = id + q->id_len;
    enum ll_reject why;
    if (ll_decoder_decode(r->dec, line, q->line_len, &r->arena, ev, &why) != LL_OK)
        ll_decoder_raw_event(r->dec, line, q->line_len, &r->arena, ev);
    ev->pos = (struct ll_pos){{source, q->source_len}, q->offset};
    ev->seq = q->seq;
    if (!ev->corr_id.len)
        ev->corr_id = (struct ll_str){id, q->id_len};
    if (ev->ts_ns == LL_TIME_NONE) {
        ev->ts_ns = q->ts;
        ev->flags |= LL_EV_TIME_INFERRED;
    }
    ll_event_set_origin(ev, (struct ll_str){origin, q->origin_len}, &r->arena);
}

/* Whether partition @p p was not found read to its end since its last line
 * (nor its leader unanswered since): its next lines may be on their way. */
static bool live(const struct in_part *p)
{
    return p->end <= (p->wall > p->away ? p->wall : p->away);
}

/* Whether some partition read is live(): lines still flow in. */
static bool flowing(const struct repart *r)
{
    for (int i = 0; i < r->n_slots; i++)
        if (ll_kafka_source(r->in, i) && live(&r->parts[i]))
            return true;
    return false;
}

/* How far partition @p i has got in event time: the line it gives next is
 * at this time or later (INT64_MAX: it waits for nothing). @p flow:
 * flowing().
 * - live(): its last line's time. A live partition is read to its end
 *   between two lines all the time, so its leader is asked only after
 *   IDLE_NS without one; nor do the ends the last fetch brought say
 *   anything (they stand still while its leader is away or moving).
 * - Found at its end while others still bring lines: event time follows
 *   the clock from its last line, or from when its leader last did not
 *   answer (the clock stands while it is away). A producer that holds one
 *   partition's lines back a moment (a batch, a stalled connection) sends
 *   them within that; read faster than the clock (a backlog, a corpus),
 *   the others do not run ahead of it.
 * - Found at its end away_ns after that, or when no partition brings lines
 *   any more: nothing. After its leader did not answer, only the first:
 *   the producers that lost the same broker take as long to get back to it
 *   (reconnect.backoff.max.ms, theirs as ours). A partition that had no
 *   line yet waits for nothing once found at its end. */
static int64_t reach(const struct repart *r, int i, int64_t now, bool flow)
{
    const struct in_part *p = &r->parts[i];
    int64_t since = p->wall > p->away ? p->wall : p->away;
    if (live(p))
        return p->ts;
    if (p->end - p->away >= r->away_ns &&
        (p->ts == INT64_MIN || !flow || p->end - since >= r->away_ns))
        return INT64_MAX;
    return p->ts == INT64_MIN ? INT64_MIN : p->ts + (now - since);
}

/* The least reach() of the partitions read (INT64_MAX: none waits). */
static int64_t least_reach(const struct repart *r, int64_t now)
{
    int64_t low = INT64_MAX;
    bool flow = flowing(r);
    for (int i = 0; i < r->n_slots; i++) {
        int64_t t = ll_kafka_source(r->in, i) ? reach(r, i, now, flow) : INT64_MAX;
        if (t < low)
            low = t;
    }
    return low;
}

/* Asks the leaders of the partitions without a line for IDLE_NS, and not
 * asked for as long, where their ends are. */
static void ask_ends(struct repart *r)
{
    int64_t now = ll_clock_mono_ns();
    bool flow = flowing(r);
    int *slots = ll_calloc((size_t)r->n_slots + 1, sizeof *slots), n = 0;
    for (int i = 0; i < r->n_slots; i++)
        if (ll_kafka_source(r->in, i) && reach(r, i, now, flow) != INT64_MAX &&
            now - r->parts[i].wall >= IDLE_NS &&
            now - r->parts[i].asked >= IDLE_NS) {
            r->parts[i].asked = now;
            slots[n++] = i;
        }
    if (!n) {
        ll_free(slots);
        return;
    }
    enum ll_kafka_end *end = ll_calloc((size_t)n, sizeof *end);
    ll_kafka_ends(r->in, slots, n, end, ASK_MS);
    for (int j = 0; j < n; j++) {
        struct in_part *p = &r->parts[slots[j]];
        if (end[j] == LL_KAFKA_AT_END)
            p->end = now;
        else if (end[j] == LL_KAFKA_UNANSWERED)
            p->away = now;
    }
    ll_free(end);
    ll_free(slots);
}

/* Names, in the log, the partitions that the queued lines wait for (the
 * newest line time of each @p low or older), and why. */
static void log_waits(struct repart *r, int64_t low, int64_t now)
{
    r->waits_logged = now;
    bool flow = flowing(r);
    for (int i = 0; i < r->n_slots; i++) {
        const struct in_part *p = &r->parts[i];
        if (!ll_kafka_source(r->in, i) || reach(r, i, now, flow) > low)
            continue;
        char why[96];
        if (!live(p))
            snprintf(why, sizeof why, "at its end, waits for nothing %lld ms after its %s",
                     (long long)(r->away_ns / LL_NS_PER_MS),
                     p->away > p->wall ? "leader answered again" : "last line");
        else
            snprintf(why, sizeof why, "%s", p->away > p->wall ? "its leader did not answer"
                                                              : "not found read to its end");
        ll_log(LL_LEVEL_INFO, "repartition",
               "%zu lines wait %llds for %s: no line for %lld ms, %s", r->n_queue,
               (long long)((now - r->moved) / LL_NS_PER_SEC), ll_kafka_source(r->in, i),
               (long long)((now - p->wall) / LL_NS_PER_MS), why);
    }
}

/* Joins and produces the queued lines no partition can come before: those
 * no later than every partition got (reach()), all of them with @p all. */
static bool release(struct repart *r, bool all)
{
    if (!all)
        ask_ends(r);
    int64_t now = ll_clock_mono_ns(), low = all ? INT64_MAX : least_reach(r, now);
    bool ok = true;
    if (!r->n_queue || r->queue[0]->ts <= low || !r->moved)
        r->moved = now;
    else if (now - r->moved >= WAIT_LOG_NS && now - r->waits_logged >= WAIT_LOG_NS)
        log_waits(r, low, now);
    while (ok && r->n_queue && r->queue[0]->ts <= low) {
        struct queued *q = queue_pop(NULL, r->queue, &r->n_queue);
        struct ll_event ev;
        decoded(r, q, &ev);
        ok = emit(r, &ev);
        ll_arena_reset(&r->arena);
        ll_free(q);
    }
    /* Every partition has its next line at @p low or later. */
    int64_t upto = low == INT64_MAX ? r->newest_ts : low == INT64_MIN ? 0 : low - 1;
    if (upto > r->released)
        r->released = upto;
    return ok;
}

/* Partition @p slot went elsewhere: its queued lines are its next owner's. */
static void unqueue(struct repart *r, int slot)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->n_queue; i++) {
        if (r->queue[i]->slot == slot)
            ll_free(r->queue[i]);
        else
            r->queue[kept++] = r->queue[i];
    }
    r->n_queue = kept;
    queue_heapify(NULL, r->queue, r->n_queue); /* a heap again */
    if (slot < r->n_slots)
        slot_fresh(r, slot);
}

/* Tells every keyed partition how far in event time the lines of this
 * member's raw partitions went out (logloom/runner.h, "Facts and marks"):
 * up to the time released, short of the oldest held line, which goes out
 * later. */
static void send_marks(struct repart *r)
{
    int64_t now = ll_clock_mono_ns();
    if (now < r->next_mark)
        return;
    r->next_mark = now + LL__MARK_EVERY_NS;
    if (!r->n_inputs && !(r->n_inputs = ll_kafka_topic_partitions(r->in, 1000)))
        return;
    int64_t t = r->released;
    for (size_t i = 0; i < r->n_held; i++)
        if (r->held[i]->ts <= t)
            t = r->held[i]->ts - 1;
    if (!t || (t == r->mark_was && now - r->mark_sent < LL__MARK_ANYWAY_NS))
        return;
    int n_slots = ll_kafka_slots(r->in);
    const char **sources = ll_calloc((size_t)n_slots + 1, sizeof *sources);
    int64_t *times = ll_calloc((size_t)n_slots + 1, sizeof *times);
    size_t n = 0;
    for (int i = 0; i < n_slots; i++)
        if (ll_kafka_source(r->in, i) && !ll_kafka_lost(r->in, i)) {
            sources[n] = ll_kafka_source(r->in, i);
            times[n++] = t;
        }
    if (n) {
        ll__facts_mark(r->out, sources, times, n, r->n_inputs);
        r->mark_was = t;
        r->mark_sent = now;
    }
    ll_free(sources);
    ll_free(times);
}

int ll_cmd_repartition(int argc, char **argv)
{
    static const struct option opts[] = {{"brokers", required_argument, NULL, 'b'},
                                         {"group", required_argument, NULL, 'g'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         {"id-header", required_argument, NULL, 'H'},
                                         {"id-from-key", no_argument, NULL, 'k'},
                                         {"file-header", required_argument, NULL, 'F'},
                                         {"property", required_argument, NULL, 'X'},
                                         {"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *brokers = NULL, *group = NULL, *from = NULL, *header = NULL;
    struct repart r = {0};
    const char *config = NULL;
    bool key_as_id = false;
    char *props[64];
    size_t n_props = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:g:f:t:H:kF:X:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': brokers = optarg; break;
        case 'g': group = optarg; break;
        case 'f': from = optarg; break;
        case 't': r.to = optarg; break;
        case 'H': header = optarg; break;
        case 'k': key_as_id = true; break;
        case 'F': r.file_header = optarg; break;
        case 'c': config = optarg; break;
        case 'X':
            if (!strchr(optarg, '=') || *optarg == '=' || n_props == 64) {
                fprintf(stderr, "logloom repartition: --property '%s' is not NAME=VALUE\n",
                        optarg);
                return LL_EXIT_USAGE;
            }
            props[n_props++] = optarg;
            if (strncmp(optarg, "reconnect.backoff.max.ms=", 25) == 0)
                r.away_ns = atoll(optarg + 25) * LL_NS_PER_MS;
            break;
        case 'h': ll_cmd_repartition_usage(stdout); return LL_EXIT_OK;
        default: ll_cmd_repartition_usage(stderr); return LL_EXIT_USAGE;
        }
    }
    if (!brokers || !group || !from || !r.to || optind != argc) {
        ll_cmd_repartition_usage(stderr);
        return LL_EXIT_USAGE;
    }
    if (strcmp(from, r.to) == 0) {
        fprintf(stderr, "logloom repartition: --from and --to are the same topic\n");
        return LL_EXIT_USAGE;
    }
    char err[1024];
    /* The correlating stage's decode and correlation sections: lines are
     * joined here as they will be there. */
    struct ll__run_conf rc = {0};
    struct ll_corr_conf cc = {0};
    struct ll_decode_conf dconf = {0};
    if (config) {
        struct ll_config cfg;
        struct ll_buf errors = {0};
        int loaded = ll_config_load(config, &cfg, &errors);
        fputs(errors.data ? errors.data : "", stderr);
        ll_buf_free(&errors);
        bool ok = loaded == LL_OK && ll__run_conf_load(&cfg, &rc);
        ll_config_free(&cfg);
        if (!ok) {
            ll__run_conf_free(&rc);
            return LL_EXIT_USAGE;
        }
        cc = rc.corr;
        cc.max_open_timelines = rc.corr.max_open_timelines;
        dconf = (struct ll_decode_conf){
            .id_paths = (const char *const *)rc.id_fields, .n_id_paths = rc.n_id_fields,
            .service_paths = (const char *const *)rc.service_fields,
            .n_service_paths = rc.n_service_fields};
    }
    struct ll_kafka_conf kc = {
        .brokers = brokers, .group_id = group, .topics = &from, .n_topics = 1,
        .props = (const char *const *)props, .n_props = n_props, .id_header = header,
        .key_as_id = key_as_id, .file_header = r.file_header, .raw_events = true,
        .decode = &dconf,
        .threads = ll__auto_threads(), .hooks = {on_assigned, on_revoked, &r}, .seq = &r.seq};
    if (r.away_ns <= 0)
        r.away_ns = RECONNECT_MS * LL_NS_PER_MS;
    r.id_header = header ? header : LL_KAFKA_ID_HEADER;
    if (!r.file_header)
        r.file_header = LL_KAFKA_FILE_HEADER;
    if (!(r.out = ll__facts_open(brokers, props, n_props, r.to, r.file_header, err,
                                 sizeof err)) ||
        ll_kafka_open(&kc, &r.in, err, sizeof err) != LL_OK) {
        fprintf(stderr, "logloom repartition: %s\n", err);
        ll__facts_close(r.out);
        ll__run_conf_free(&rc);
        return LL_EXIT_USAGE;
    }
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* Timelines are not kept: the correlator only joins. */
    cc.max_events_kept = 2;
    cc.max_msg_bytes = 16;
    r.corr = ll_correlator_new(&cc, &(struct ll_corr_out){no_timeline, NULL, on_settled, &r});
    r.dec = ll_decoder_new(&dconf, err, sizeof err); /* made by the source already: fine */
    ll_arena_init(&r.arena, 16 << 10);
    ll_log(LL_LEVEL_INFO, "repartition", "%s -> %s, keyed by correlation id", from, r.to);
    int status = LL_EXIT_OK;
    while (!stop_requested && status == LL_EXIT_OK) {
        int64_t end = ll_clock_mono_ns() + BATCH_NS;
        int n = 0;
        const struct ll_event *ev;
        int slot;
        while (n < BATCH_EVENTS && ll_clock_mono_ns() < end && !stop_requested &&
               ll_kafka_next(r.in, &ev, &slot, n ? 0 : BATCH_NS) == LL_OK) {
            enqueue(&r, ev, slot);
            n++;
        }
        uint64_t produced = r.produced;
        if (!release(&r, false))
            status = LL_EXIT_FAILURE;
        quiet(&r, n); /* may settle held lines */
        send_marks(&r);
        if (out_failed(&r))
            status = LL_EXIT_FAILURE; /* not committed: read again after a restart */
        if (!n && produced == r.produced)
            continue;
        if (status == LL_EXIT_OK && deliver(&r))
            commit_all(&r, false);
    }
    if (status == LL_EXIT_OK && deliver(&r))
        commit_all(&r, true);
    ll_kafka_close(r.in); /* leaves the group (revokes commit what was delivered) */
    ll__facts_close(r.out);
    ll_log(LL_LEVEL_INFO, "repartition",
           "stopped: %llu lines produced (%llu keyed through a link key, %llu by service); "
           "%zu waiting their turn and %zu their workflow, read again after a restart",
           (unsigned long long)r.produced, (unsigned long long)r.linked,
           (unsigned long long)r.by_service, r.n_queue, r.n_held);
    ll_correlator_destroy(r.corr);
    for (size_t i = 0; i < r.n_held; i++) /* read again after a restart */
        ll_free(r.held[i]);
    ll_free(r.held);
    for (size_t i = 0; i < r.n_queue; i++)
        ll_free(r.queue[i]);
    ll_free(r.queue);
    ll_free(r.parts);
    ll_decoder_destroy(r.dec);
    ll_arena_free(&r.arena);
    ll__run_conf_free(&rc);
    return status;
}
