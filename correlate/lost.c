/* Ids lost at a hop: a call sent without the id, or an id field renamed
 * on the way (see ll__corr_join_lost() and ll__corr_alias_of()). */
#include "corr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Ids lost at a hop                                                         */

/* Two ways a workflow loses its id between processes leave no pid or
 * connection to join by:
 *   - a call sent without the id: the callee mints a new one, and the work
 *     goes on under it with no upstream. A new id whose first event is at a
 *     service that otherwise only ever joins workflows begun elsewhere is
 *     matched to the call: the latest event of another workflow, within
 *     HOP_WINDOW_NS before, that names that service and has not reached it.
 *     The new id's events join that workflow (via "new id ...").
 *   - a message whose id field was renamed on the way: the receiver logs
 *     it without an id, although its lines of that kind (service and
 *     message) nearly always have one. It joins the workflow whose latest
 *     event, within the window, is from a service the line names and
 *     shares another of its values (a workflow name, a task).
 * Both count as linked, so correlation-lost is raised on the workflow that
 * lost the id. The recent id-carrying events are a small ring holding the
 * first bytes of each line: only a rare event (a new id at a downstream
 * service, an orphan of a kind that has ids) looks into it. */

#define HOP_WINDOW_NS (10 * LL_NS_PER_SEC)
#define KINDS 4096 /* a small cache: kinds that fall out start counting again */
#define MAX_ALIASES 4096

struct alias {
    uint64_t hash;
    char *from, *to;
    uint16_t from_len, to_len;
};

static struct ll_str alias_key(const void *p)
{
    const struct alias *a = p;
    return (struct ll_str){a->from, a->from_len};
}

void ll__corr_recent_add(struct ll_correlator *c, struct session *s, uint32_t service,
                         const struct ll_event *ev)
{
    struct recent *r = &c->recent[c->recent_next++ % RECENT];
    struct ll_str line = cut(ev->line, RECENT_LINE);
    r->ts = ev->ts_ns;
    r->s = s;
    r->service = service;
    r->len = (uint16_t)line.len;
    if (line.len)
        memcpy(r->line, line.ptr, line.len);
    s->recent_seq = (uint32_t)c->recent_next;
}

/* Whether line @p r holds @p v as a whole JSON string value: "v". */
static bool names_value(const struct recent *r, struct ll_str v)
{
    if (!v.len || v.len + 2 > r->len)
        return false;
    for (const char *p = r->line, *end = r->line + r->len - v.len - 1;
         (p = memchr(p, '"', (size_t)(end - p))) != NULL; p++)
        if (memcmp(p + 1, v.ptr, v.len) == 0 && p[v.len + 1] == '"' &&
            (p == r->line || p[-1] == ':' || p[-1] == ' ' || p[-1] == ',' || p[-1] == '['))
            return true;
    return false;
}

/* The string values of a JSON line without escapes in them, at most @p max. */
static size_t line_values(struct ll_str line, struct ll_str *out, size_t max)
{
    size_t n = 0;
    const char *p = line.ptr, *end = line.ptr + line.len;
    while (n < max && p + 2 < end && (p = memchr(p, ':', (size_t)(end - p))) != NULL) {
        p++;
        while (p < end && *p == ' ')
            p++;
        if (p >= end || *p != '"')
            continue;
        const char *v = ++p;
        while (p < end && *p != '"' && *p != '\\')
            p++;
        if (p < end && *p == '"')
            out[n++] = (struct ll_str){v, (size_t)(p - v)};
    }
    return n;
}

static bool has_service(const struct session *s, uint32_t service)
{
    for (uint32_t i = 0; i < s->n_svcs; i++)
        if (s->svcs[i].name == service)
            return true;
    return false;
}

/* The kind of @p ev (its service and message), counted as with an id or
 * not; @returns it as it was before this line. */
struct kind ll__corr_kind_count(struct ll_correlator *c, uint32_t service,
                                const struct ll_event *ev, bool with_id)
{
    struct ll_str msg = ev->msg.len ? ev->msg : ev->err_msg;
    if (!msg.len || (ev->flags & LL_EV_RAW))
        return (struct kind){0};
    /* Cheap, as it runs for every line: the length, the first and last
     * eight bytes; messages alike there are one kind. */
    uint64_t head = 0, tail = 0;
    memcpy(&head, msg.ptr, msg.len < 8 ? msg.len : 8);
    memcpy(&tail, msg.ptr + (msg.len > 8 ? msg.len - 8 : 0), msg.len < 8 ? msg.len : 8);
    uint64_t key = ((head * 0x9E3779B97F4A7C15ULL) ^ (tail * 0xC2B2AE3D27D4EB4FULL) ^
                    ((uint64_t)service << 32 | msg.len)) | 1;
    key ^= key >> 29;
    /* Four slots a kind may take; a new one replaces the least seen. */
    struct kind *k = NULL, *least = NULL;
    for (size_t i = 0; i < 4 && !k; i++) {
        struct kind *x = &c->kinds[(key + i) % KINDS];
        if (x->key == key)
            k = x;
        else if (!least || x->with + x->without < least->with + least->without)
            least = x;
    }
    if (!k) {
        k = least;
        *k = (struct kind){.key = key};
    }
    struct kind before = *k;
    if (with_id)
        k->with++;
    else
        k->without++;
    return before;
}

/* Joins @p ev to @p s as linked through @p via. */
struct ll_str ll__corr_join_lost(struct ll_correlator *c, struct session *s,
                                 const struct ll_event *ev, uint32_t source, uint32_t service,
                                 const char *via)
{
    struct ll_event linked = *ev;
    linked.flags |= LL_EV_LINKED;
    ll__corr_session_add(c, s, &linked, source, service, via, LL__NAME_NONE, 0);
    return session_id(s);
}

static bool level_name(struct ll_str v)
{
    return ll_level_from_name(v.ptr, v.len) != LL_LEVEL_NONE;
}

/* The values of @p v (@p n of them) that line @p r holds too, beyond the
 * names of services @p a and @p b: a workflow's name, a task. */
static size_t shared_values(const struct recent *r, const struct ll_str *v, size_t n,
                            struct ll_str a, struct ll_str b, struct ll_str *first)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].len >= 6 && !ll_str_eq(v[i], a) && !ll_str_eq(v[i], b) && !level_name(v[i]) &&
            names_value(r, v[i]) && !k++)
            *first = v[i];
    return k;
}

/* The workflow an event of @p service that lost its id belongs to: among
 * the recent events of other workflows, within the window before it, those
 * that @p accept, the one sharing most of its values (the latest on a tie).
 * With no value shared, only a sole candidate within SOLE_WINDOW_NS is
 * taken. @p shared receives the first value the chosen one shares. */
#define SOLE_WINDOW_NS (2 * LL_NS_PER_SEC)

static struct session *lost_from(struct ll_correlator *c, uint32_t service,
                                 const struct ll_event *ev, const struct ll_str *v, size_t nv,
                                 bool (*accept)(struct ll_correlator *, const struct recent *,
                                                uint32_t, const struct ll_str *, size_t),
                                 struct ll_str *shared)
{
    size_t n_cand = 0, best_k = 0;
    struct session *best = NULL, *cand[2];
    int64_t best_ts = 0;
    *shared = LL_STR_NULL;
    for (size_t i = 1; i <= RECENT; i++) {
        struct recent *r = &c->recent[(c->recent_next - i) % RECENT];
        if (!r->s || r->ts > ev->ts_ns || r->service == service)
            continue;
        if (ll_time_add(r->ts, HOP_WINDOW_NS) < ev->ts_ns)
            break;
        if (!accept(c, r, service, v, nv))
            continue;
        if (n_cand < 2 && (!n_cand || cand[0] != r->s))
            cand[n_cand++] = r->s;
        struct ll_str first = LL_STR_NULL;
        size_t k = shared_values(r, v, nv, c->names.v[service].s, c->names.v[r->service].s,
                                 &first);
        if (!best || k > best_k) {
            best = r->s;
            best_k = k;
            best_ts = r->ts;
            *shared = first;
        }
    }
    if (!best || best_k)
        return best;
    return n_cand == 1 && ll_time_add(best_ts, SOLE_WINDOW_NS) >= ev->ts_ns ? best : NULL;
}

/* A call to @p service that has not reached it: a line naming it, of a
 * workflow without events there yet. */
static bool calls(struct ll_correlator *c, const struct recent *r, uint32_t service,
                  const struct ll_str *v, size_t n)
{
    (void)v;
    (void)n;
    return !has_service(r->s, service) && names_value(r, c->names.v[service].s);
}

/* A sender the line names. */
static bool sent(struct ll_correlator *c, const struct recent *r, uint32_t service,
                 const struct ll_str *v, size_t n)
{
    (void)service;
    for (size_t k = 0; k < n; k++)
        if (ll_str_eq(v[k], c->names.v[r->service].s))
            return true;
    return false;
}

/* A new id at @p service: the workflow whose call it continues, or NULL. */
static struct session *minted_from(struct ll_correlator *c, uint32_t service,
                                   const struct ll_event *ev)
{
    const struct ll__name *n = &c->names.v[service];
    if (n->later < 5 || n->first * 20 > n->later)
        return NULL; /* not a service that only joins workflows begun elsewhere */
    struct ll_str v[24], shared;
    size_t nv = line_values(ev->line, v, 24);
    return lost_from(c, service, ev, v, nv, calls, &shared);
}

/* An orphan of a kind that has ids: the workflow it belongs to, or NULL. */
struct session *ll__corr_renamed_from(struct ll_correlator *c, uint32_t service,
                                      const struct ll_event *ev, struct ll_str *shared)
{
    /* Only a line that names a service logging ids can name its sender. */
    struct ll_str v[24];
    size_t nv = line_values(ev->line, v, 24);
    bool names = false;
    for (size_t k = 0; k < nv && !names; k++) {
        uint32_t id = ll__names_find(&c->names, v[k]);
        names = id != LL__NAME_NONE && id != service && c->names.v[id].with_id;
    }
    if (!names)
        return NULL;
    struct session *s = lost_from(c, service, ev, v, nv, sent, shared);
    return s && shared->len ? s : NULL; /* a sender named is not enough */
}

/* The workflow a minted id @p ev carries continues, found now; or NULL,
 * with @p known the id it was found to continue before (empty if none). */
struct session *ll__corr_alias_of(struct ll_correlator *c, uint64_t hash, uint32_t service,
                                  const struct ll_event *ev, struct ll_str *known)
{
    struct alias *a = ll_idmap_get(&c->aliases, hash, ev->corr_id);
    *known = a ? (struct ll_str){a->to, a->to_len} : LL_STR_NULL;
    if (a)
        return NULL;
    struct session *s = minted_from(c, service, ev);
    if (!s)
        return NULL;
    if (c->n_aliases == MAX_ALIASES) { /* the oldest goes */
        struct alias *old = c->alias_fifo[c->alias_head];
        ll_idmap_del(&c->aliases, old->hash, old);
        ll_free(old);
        c->alias_head = (c->alias_head + 1) % MAX_ALIASES;
        c->n_aliases--;
    }
    struct ll_str to = session_id(s), from = ev->corr_id;
    a = ll_malloc(sizeof *a + from.len + to.len);
    *a = (struct alias){.hash = hash, .from = (char *)(a + 1), .from_len = (uint16_t)from.len,
                        .to_len = (uint16_t)to.len};
    a->to = a->from + from.len;
    memcpy(a->from, from.ptr, from.len);
    memcpy(a->to, to.ptr, to.len);
    ll_idmap_put(&c->aliases, hash, a);
    c->alias_fifo[(c->alias_head + c->n_aliases++) % MAX_ALIASES] = a;
    return s;
}

void ll__corr_lost_init(struct ll_correlator *c)
{
    ll_idmap_init(&c->aliases, 64, alias_key);
    c->alias_fifo = ll_calloc(MAX_ALIASES, sizeof *c->alias_fifo);
    c->recent = ll_calloc(RECENT, sizeof *c->recent);
    c->kinds = ll_calloc(KINDS, sizeof *c->kinds);
}

void ll__corr_lost_free(struct ll_correlator *c)
{
    for (size_t i = 0; i < c->n_aliases; i++)
        ll_free(c->alias_fifo[(c->alias_head + i) % MAX_ALIASES]);
    ll_idmap_free(&c->aliases);
    ll_free(c->alias_fifo);
    ll_free(c->recent);
    ll_free(c->kinds);
}
