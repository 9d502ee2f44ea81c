/* Timelines keyed by correlation id.
 *
 * Open timelines sit in an open-addressing table (linear probing, deletion by
 * backward shift) and on a list ordered by last activity. Events arrive in
 * about event-time order, so the least recently active timeline is the first
 * the watermark can close: closing walks the head of that list and stops at
 * the first timeline still inside its gap. Each timeline owns an arena for the
 * strings it keeps; service names are interned once for the whole run. */
#include "logloom/correlate.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_GAP (30 * LL_NS_PER_SEC)
#define DEFAULT_LATENESS (5 * LL_NS_PER_SEC)
#define DEFAULT_MAX_MSG 4096

struct tl {
    struct tl *prev, *next; /* activity list */
    uint64_t hash;
    struct ll_str corr_id;
    struct ll_arena arena;
    struct ll_tl_event *ev;
    size_t n_ev, cap_ev;
    struct ll_str *services;
    size_t n_services, cap_services;
    int64_t start, end;
    uint64_t n_events, n_errors;
    struct ll_str first_source;
    uint64_t first_offset;
};

/* A slot of the open-timeline table: the hash sits beside the pointer, so
 * probing past other timelines touches no timeline memory. */
struct slot {
    uint64_t hash;
    struct tl *t;
};

struct service {
    struct ll_str name; /* in the correlator's name arena */
    uint64_t hash;
    uint64_t orphans;
};

struct ll_correlator {
    struct ll_corr_conf conf;
    ll_timeline_fn *emit;
    void *ctx;

    struct slot *slots; /* open timelines by hash of correlation id */
    size_t n_slots, n_open;
    struct tl *head, *tail; /* least → most recently active */

    struct service *svc; /* interned service names */
    size_t n_svc, cap_svc;
    uint32_t *svc_slots; /* index + 1 into svc, 0 = empty */
    size_t n_svc_slots;
    struct ll_arena names;
    struct service *last_svc; /* consecutive events mostly share a service */

    int64_t max_ts;
    uint64_t timelines, orphans;
    struct ll_count *orphan_list;
};

/* ------------------------------------------------------------------------ */
/* Interned service names                                                    */

static void svc_rehash(struct ll_correlator *c, size_t n_slots)
{
    ll_free(c->svc_slots);
    c->svc_slots = ll_calloc(n_slots, sizeof *c->svc_slots);
    c->n_svc_slots = n_slots;
    for (size_t i = 0; i < c->n_svc; i++) {
        size_t h = c->svc[i].hash & (n_slots - 1);
        while (c->svc_slots[h])
            h = (h + 1) & (n_slots - 1);
        c->svc_slots[h] = (uint32_t)i + 1;
    }
}

static struct service *svc_intern(struct ll_correlator *c, struct ll_str name)
{
    if (c->last_svc && ll_str_eq(c->last_svc->name, name))
        return c->last_svc;
    uint64_t hash = ll_hash64(name.ptr, name.len, 0);
    size_t mask = c->n_svc_slots - 1;
    size_t h = hash & mask;
    for (; c->svc_slots[h]; h = (h + 1) & mask) {
        struct service *s = &c->svc[c->svc_slots[h] - 1];
        if (s->hash == hash && ll_str_eq(s->name, name))
            return c->last_svc = s;
    }
    if (c->n_svc == c->cap_svc) {
        c->cap_svc = c->cap_svc ? c->cap_svc * 2 : 16;
        c->svc = ll_reallocarray(c->svc, c->cap_svc, sizeof *c->svc);
    }
    struct service *s = &c->svc[c->n_svc++];
    *s = (struct service){ll_arena_dup(&c->names, name), hash, 0};
    c->svc_slots[h] = (uint32_t)c->n_svc;
    if (c->n_svc * 2 > c->n_svc_slots)
        svc_rehash(c, c->n_svc_slots * 2);
    return c->last_svc = s;
}

/* ------------------------------------------------------------------------ */
/* Table of open timelines                                                   */

static size_t slot_find(const struct ll_correlator *c, struct ll_str id, uint64_t hash)
{
    size_t mask = c->n_slots - 1;
    size_t h = hash & mask;
    for (; c->slots[h].t; h = (h + 1) & mask)
        if (c->slots[h].hash == hash && ll_str_eq(c->slots[h].t->corr_id, id))
            return h;
    return h; /* the empty slot where it would go */
}

static void table_grow(struct ll_correlator *c)
{
    struct slot *old = c->slots;
    size_t n_old = c->n_slots;
    c->n_slots *= 2;
    c->slots = ll_calloc(c->n_slots, sizeof *c->slots);
    for (size_t i = 0; i < n_old; i++)
        if (old[i].t) {
            size_t h = old[i].hash & (c->n_slots - 1);
            while (c->slots[h].t)
                h = (h + 1) & (c->n_slots - 1);
            c->slots[h] = old[i];
        }
    ll_free(old);
}

/* Linear-probing deletion: shift later members of the cluster back. */
static void table_remove(struct ll_correlator *c, const struct tl *t)
{
    size_t mask = c->n_slots - 1;
    size_t i = slot_find(c, t->corr_id, t->hash);
    c->slots[i] = (struct slot){0};
    for (size_t j = (i + 1) & mask; c->slots[j].t; j = (j + 1) & mask) {
        size_t home = c->slots[j].hash & mask;
        /* Move j to the hole at i if its home is not in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            c->slots[i] = c->slots[j];
            c->slots[j] = (struct slot){0};
            i = j;
        }
    }
    c->n_open--;
}

static void list_unlink(struct ll_correlator *c, struct tl *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        c->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        c->tail = t->prev;
    t->prev = t->next = NULL;
}

static void list_append(struct ll_correlator *c, struct tl *t)
{
    t->prev = c->tail;
    t->next = NULL;
    if (c->tail)
        c->tail->next = t;
    else
        c->head = t;
    c->tail = t;
}

/* ------------------------------------------------------------------------ */
/* Timelines                                                                 */

static uint64_t timeline_id(const struct tl *t)
{
    unsigned char off[8];
    for (int i = 0; i < 8; i++)
        off[i] = (unsigned char)(t->first_offset >> (8 * i));
    uint64_t h = ll_hash64(t->corr_id.ptr, t->corr_id.len, 0);
    h = ll_hash64(t->first_source.ptr, t->first_source.len, h);
    return ll_hash64(off, sizeof off, h);
}

static void timeline_close(struct ll_correlator *c, struct tl *t, enum ll_tl_reason why)
{
    table_remove(c, t);
    list_unlink(c, t);
    struct ll_timeline rec = {
        .id = timeline_id(t),
        .corr_id = t->corr_id,
        .start_ns = t->start,
        .end_ns = t->end,
        .status = t->n_errors ? LL_TL_FAILED : LL_TL_OK,
        .reason = why,
        .services = t->services,
        .n_services = t->n_services,
        .events = t->ev,
        .n_events_kept = t->n_ev,
        .n_events = t->n_events,
        .n_errors = t->n_errors,
    };
    c->timelines++;
    c->emit(c->ctx, &rec);
    ll_arena_free(&t->arena);
    ll_free(t->ev);
    ll_free(t->services);
    ll_free(t);
}

static struct tl *timeline_open(struct ll_correlator *c, size_t slot, uint64_t hash,
                                const struct ll_event *ev)
{
    struct tl *t = ll_calloc(1, sizeof *t);
    ll_arena_init(&t->arena, 512);
    t->hash = hash;
    t->corr_id = ll_arena_dup(&t->arena, ev->corr_id);
    t->start = t->end = ev->ts_ns;
    t->first_source = ev->pos.source;
    t->first_offset = ev->pos.offset;
    c->slots[slot] = (struct slot){hash, t};
    c->n_open++;
    if (c->n_open * 2 > c->n_slots)
        table_grow(c);
    return t;
}

/* Cuts @p s to at most @p max bytes without splitting a UTF-8 sequence. */
static struct ll_str utf8_cut(struct ll_str s, size_t max)
{
    if (s.len <= max)
        return s;
    size_t n = max;
    while (n && ((unsigned char)s.ptr[n] & 0xC0) == 0x80)
        n--;
    return (struct ll_str){s.ptr, n};
}

static void timeline_add(struct ll_correlator *c, struct tl *t, const struct ll_event *ev,
                         struct ll_str service)
{
    bool known = false;
    for (size_t i = 0; i < t->n_services && !known; i++)
        known = t->services[i].ptr == service.ptr;
    if (!known) {
        if (t->n_services == t->cap_services) {
            t->cap_services = t->cap_services ? t->cap_services * 2 : 4;
            t->services = ll_reallocarray(t->services, t->cap_services, sizeof *t->services);
        }
        t->services[t->n_services++] = service;
    }
    if (t->n_ev == t->cap_ev) {
        t->cap_ev = t->cap_ev ? t->cap_ev * 2 : 8;
        t->ev = ll_reallocarray(t->ev, t->cap_ev, sizeof *t->ev);
    }
    /* Keep event-time order; input is nearly sorted, so this rarely moves. */
    size_t pos = t->n_ev;
    while (pos && t->ev[pos - 1].ts_ns > ev->ts_ns)
        pos--;
    memmove(t->ev + pos + 1, t->ev + pos, (t->n_ev - pos) * sizeof *t->ev);
    t->n_ev++;
    struct ll_str msg = ev->msg.len ? ev->msg : ev->err_msg;
    t->ev[pos] = (struct ll_tl_event){
        .ts_ns = ev->ts_ns,
        .offset = ev->pos.offset,
        .source = ev->pos.source,
        .service = service,
        .msg = ll_arena_dup(&t->arena, utf8_cut(msg, c->conf.max_msg_bytes)),
        .err_code = ll_arena_dup(&t->arena, utf8_cut(ev->err_code, 128)),
        .flags = ev->flags,
        .level = ev->level,
    };
    t->n_events++;
    if (ll_event_is_error(ev))
        t->n_errors++;
    if (ev->ts_ns < t->start)
        t->start = ev->ts_ns;
    if (ev->ts_ns > t->end)
        t->end = ev->ts_ns;
}

/* ------------------------------------------------------------------------ */
/* API                                                                       */

ll_correlator *ll_correlator_new(const struct ll_corr_conf *conf, ll_timeline_fn *emit,
                                 void *ctx)
{
    ll_correlator *c = ll_calloc(1, sizeof *c);
    if (conf)
        c->conf = *conf;
    if (!c->conf.session_gap_ns)
        c->conf.session_gap_ns = DEFAULT_GAP;
    if (!c->conf.allowed_lateness_ns)
        c->conf.allowed_lateness_ns = DEFAULT_LATENESS;
    if (c->conf.allowed_lateness_ns < 0)
        c->conf.allowed_lateness_ns = 0;
    if (!c->conf.max_msg_bytes)
        c->conf.max_msg_bytes = DEFAULT_MAX_MSG;
    c->emit = emit;
    c->ctx = ctx;
    c->n_slots = 1024;
    c->slots = ll_calloc(c->n_slots, sizeof *c->slots);
    ll_arena_init(&c->names, 4096);
    svc_rehash(c, 64);
    c->max_ts = INT64_MIN;
    return c;
}

static void close_expired(struct ll_correlator *c)
{
    if (c->max_ts == INT64_MIN)
        return;
    int64_t watermark = c->max_ts - c->conf.allowed_lateness_ns;
    while (c->head && c->head->end < watermark - c->conf.session_gap_ns)
        timeline_close(c, c->head, LL_TL_CLOSED_GAP);
}

void ll_correlator_push(ll_correlator *c, const struct ll_event *ev)
{
    struct service *svc = svc_intern(c, ev->service);
    if (ev->ts_ns > c->max_ts) {
        c->max_ts = ev->ts_ns;
        close_expired(c);
    }
    if (!ev->corr_id.len) {
        svc->orphans++;
        c->orphans++;
        return;
    }
    uint64_t hash = ll_hash64(ev->corr_id.ptr, ev->corr_id.len, 0);
    size_t slot = slot_find(c, ev->corr_id, hash);
    struct tl *t = c->slots[slot].t;
    if (t)
        list_unlink(c, t);
    else
        t = timeline_open(c, slot, hash, ev);
    list_append(c, t);
    timeline_add(c, t, ev, svc->name);
}

void ll_correlator_flush(ll_correlator *c)
{
    while (c->head)
        timeline_close(c, c->head, LL_TL_CLOSED_END);
}

uint64_t ll_correlator_timelines(const ll_correlator *c)
{
    return c->timelines;
}

size_t ll_correlator_open_count(const ll_correlator *c)
{
    return c->n_open;
}

uint64_t ll_correlator_orphans(const ll_correlator *c)
{
    return c->orphans;
}

static int cmp_count(const void *a, const void *b)
{
    const struct ll_count *x = a, *y = b;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int r = n ? memcmp(x->name.ptr, y->name.ptr, n) : 0;
    return r ? r : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

const struct ll_count *ll_correlator_orphans_by_service(ll_correlator *c, size_t *n)
{
    c->orphan_list = ll_reallocarray(c->orphan_list, c->n_svc ? c->n_svc : 1,
                                     sizeof *c->orphan_list);
    size_t k = 0;
    for (size_t i = 0; i < c->n_svc; i++)
        if (c->svc[i].orphans)
            c->orphan_list[k++] = (struct ll_count){c->svc[i].name, c->svc[i].orphans};
    qsort(c->orphan_list, k, sizeof *c->orphan_list, cmp_count);
    *n = k;
    return c->orphan_list;
}

void ll_correlator_destroy(ll_correlator *c)
{
    if (!c)
        return;
    while (c->head) {
        struct tl *t = c->head;
        list_unlink(c, t);
        ll_arena_free(&t->arena);
        ll_free(t->ev);
        ll_free(t->services);
        ll_free(t);
    }
    ll_free(c->slots);
    ll_free(c->svc);
    ll_free(c->svc_slots);
    ll_free(c->orphan_list);
    ll_arena_free(&c->names);
    ll_free(c);
}
