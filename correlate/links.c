/* Link keys: a child's pid, a connection id or a source that a session
 * taught, and the session an event without an id joins through one. A key
 * seen with two workflows is ambiguous and never used; a key dies with the
 * session that taught it. */
#include "corr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Links                                                                     */

void ll__corr_link_unown(struct link *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        l->owner->links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->prev = l->next = NULL;
}

void ll__corr_link_own(struct link *l, struct session *s)
{
    l->owner = s;
    l->prev = NULL;
    l->next = s->links;
    if (s->links)
        s->links->prev = l;
    s->links = l;
}

/* The name's field that points at @p l, which is cached. */
void **ll__corr_cache_of(struct ll_correlator *c, const struct link *l)
{
    struct ll__name *n = &c->names.v[l->cached_by];
    return l->key[0] == LINK_SOURCE ? &n->link : &n->pid_link;
}

/* Points the name @p id's field @p slot at @p l, unless another name's
 * field points there already (keys are cut to MAX_KEY, and processes of
 * two services may share a pid): it then stays empty. */
static void cache_link(void **slot, struct link *l, uint32_t id)
{
    if (*slot)
        ((struct link *)*slot)->cached_by = LL__NAME_NONE;
    *slot = NULL;
    if (l->cached_by == LL__NAME_NONE) {
        l->cached_by = id;
        *slot = l;
    }
}

/* Whether @p l is the link of (@p kind, @p value), a value short enough
 * not to be cut (a pid). */
bool ll__corr_has_key(const struct link *l, char kind, struct ll_str value)
{
    return l->len == value.len + 1 && l->key[0] == kind &&
           ll_mem_eq(l->key + 1, value.ptr, value.len);
}

/* Writes the key "p4318" / "cws-9" into @p out; returns its length. */
static size_t make_key(char kind, struct ll_str value, char *out, size_t size)
{
    out[0] = kind;
    if (value.len < size) {
        memcpy(out + 1, value.ptr, value.len);
        return value.len + 1;
    }
    /* Too long (a container log's path): its head and a hash of all of
     * it, so that values alike in their first bytes stay apart. */
    size_t head = size - 1 - 16;
    memcpy(out + 1, value.ptr, head);
    uint64_t h = ll_hash64(value.ptr, value.len, 0x6b);
    for (int i = 0; i < 16; i++)
        out[1 + head + i] = "0123456789abcdef"[(h >> (60 - 4 * i)) & 15];
    return size;
}

/* Decimal text of @p pid in @p buf (at least 21 bytes), without printf:
 * this runs for most lines. */
struct ll_str ll__corr_pid_str(int64_t pid, char *buf, size_t size)
{
    char *end = buf + size, *p = end;
    uint64_t v = pid < 0 ? 0 - (uint64_t)pid : (uint64_t)pid;
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) && p > buf + 1);
    if (pid < 0)
        *--p = '-';
    return (struct ll_str){p, (size_t)(end - p)};
}

/* The teacher of a key in one session: a line naming a child beats a
 * line's own pid; between equals, the earliest line. */
static bool better_teacher(struct ll_correlator *c, const struct link *l, bool own_pid,
                           const struct ll_event *ev, uint32_t source)
{
    if (l->own_pid != own_pid)
        return !own_pid;
    return cmp_pos(c, ev->ts_ns, source, ev->pos.offset, l->teach_ts, l->teach_src,
                   l->teach_off) < 0;
}

static void set_teacher(struct link *l, bool own_pid, const struct ll_event *ev,
                        uint32_t source, uint32_t service, uint64_t host)
{
    l->own_pid = own_pid;
    l->teach_ts = ev->ts_ns;
    l->teach_src = source;
    l->teach_off = ev->pos.offset;
    l->teacher_service = service;
    l->teacher_host = host;
}

/* Teaches @p s the key of @p l, which exists. */
static void reteach(struct ll_correlator *c, struct link *l, struct session *s, bool own_pid,
                    const struct ll_event *ev, uint32_t source, uint32_t service, uint64_t host)
{
    if (l->owner == s) {
        if (better_teacher(c, l, own_pid, ev, source))
            set_teacher(l, own_pid, ev, source, service, host);
        return;
    }
    /* Ambiguity is for good: no need to read the other workflow's id. */
    if (!l->ambiguous && !ll_str_eq(session_id(l->owner), session_id(s)))
        l->ambiguous = true;
    ll__corr_link_unown(l);
    ll__corr_link_own(l, s);
    set_teacher(l, own_pid, ev, source, service, host);
}

/* A pid @p value now leads to @p l's owner: lines without time that wait
 * for that pid may join it (ll__corr_claim_timeless(), by the caller). */
static void note_taught(struct ll_correlator *c, const struct link *l, struct ll_str value,
                        struct taught *taught)
{
    if (!c->n_timeless || l->ambiguous || !taught || value.len >= sizeof taught->pid[0])
        return;
    memcpy(taught->pid[taught->n], value.ptr, value.len);
    taught->len[taught->n++] = (uint8_t)value.len;
}

/* Teaches @p s the key (@p kind, @p value); returns its link, now owned by
 * @p s. A pid taught is noted in @p taught (may be NULL). */
static struct link *teach(struct ll_correlator *c, struct session *s, char kind,
                          struct ll_str value, bool own_pid, const struct ll_event *ev,
                          uint32_t source, uint32_t service, uint64_t host,
                          struct taught *taught)
{
    char key[MAX_KEY];
    size_t len = make_key(kind, value, key, sizeof key);
    uint64_t hash = ll_hash_keyed(key, len);
    struct link *l = ll_idmap_get(&c->links, hash, (struct ll_str){key, len});
    if (!l) {
        size_t size;
        l = ll_blocks_get(&c->blocks, sizeof *l + len, &size);
        *l = (struct link){.hash = hash, .cached_by = LL__NAME_NONE, .len = (uint16_t)len};
        memcpy(l->key, key, len);
        set_teacher(l, own_pid, ev, source, service, host);
        ll__corr_link_own(l, s);
        ll_idmap_put(&c->links, hash, l);
    } else {
        reteach(c, l, s, own_pid, ev, source, service, host);
    }
    if (kind == LINK_PID)
        note_taught(c, l, value, taught);
    return l;
}

/* The line's own pid, taught to @p s. Most lines of a workflow come from
 * the process of the line before: its link is kept first in the session's
 * list (the order means nothing else), and found there without a lookup. */
static void teach_own_pid(struct ll_correlator *c, struct session *s, const struct ll_event *ev,
                          uint32_t source, uint32_t service, uint64_t host,
                          struct taught *taught)
{
    char pbuf[24];
    struct ll_str pid = ll__corr_pid_str(ev->pid, pbuf, sizeof pbuf);
    struct link *l = s->links;
    if (l && ll__corr_has_key(l, LINK_PID, pid)) {
        if (better_teacher(c, l, true, ev, source))
            set_teacher(l, true, ev, source, service, host);
        return;
    }
    /* Else most often the link another workflow of the same process has. */
    struct ll__name *svc = &c->names.v[service];
    l = svc->pid_link;
    if (l && ll__corr_has_key(l, LINK_PID, pid)) {
        reteach(c, l, s, true, ev, source, service, host);
    } else {
        l = teach(c, s, LINK_PID, pid, true, ev, source, service, host, taught);
        cache_link(&svc->pid_link, l, service);
    }
    if (l != s->links) {
        ll__corr_link_unown(l);
        ll__corr_link_own(l, s);
    }
}

void ll__corr_learn_links(struct ll_correlator *c, struct session *s, const struct ll_event *ev,
                          uint32_t source, uint32_t service, uint64_t host,
                          struct taught *taught)
{
    taught->n = 0;
    char pbuf[24];
    /* Every line teaches: the teacher kept is the best one (see
     * better_teacher), whatever order the lines came in. */
    if (ev->flags & LL_EV_HAS_CHILD_PID)
        teach(c, s, LINK_PID, ll__corr_pid_str(ev->child_pid, pbuf, sizeof pbuf), false, ev, source,
              service, host, taught);
    /* The source itself (the file a Kafka message names, if any), for raw
     * lines printed by the same process. */
    uint32_t file = ev->origin.len ? ll__names_intern(&c->names, ev->origin, &c->cache_origin)
                                   : source;
    struct ll__name *src = &c->names.v[file];
    if (src->taught_by != s->serial) {
        /* A source's key never changes: its link needs no key test. */
        if (src->link) {
            reteach(c, src->link, s, false, ev, source, service, host);
        } else {
            cache_link(&src->link,
                       teach(c, s, LINK_SOURCE, src->s, false, ev, source, service, host, NULL),
                       file);
        }
        src->taught_by = s->serial;
    }
    if (ev->conn_id.len)
        teach(c, s, LINK_CONN, ev->conn_id, false, ev, source, service, host, NULL);
    if (ev->flags & LL_EV_HAS_PID) /* last: its link stays first */
        teach_own_pid(c, s, ev, source, service, host, taught);
}

bool ll__corr_joinable(const struct ll_correlator *c, const struct session *s, int64_t ts)
{
    int64_t gap = c->conf.session_gap_ns;
    if (ts < ll_time_sub(s->start, gap) || ts > ll_time_add(s->end, gap))
        return false;
    int64_t lo = ts < s->start ? ts : s->start, hi = ts > s->end ? ts : s->end;
    return ll_time_sub(hi, lo) <= c->conf.max_span_ns;
}

/* The link that claims @p ev for an open session, or NULL. @p via receives
 * the key as text ("pid:4318"). */
struct key_try {
    char kind;
    struct ll_str value;
    const char *label;
};

/* The pid a file of text alone is named after (child-4312, a container
 * worker-4312): three digits or more after the last '-'. */
bool ll__corr_pid_in_name(struct ll_str name, int64_t *pid)
{
    size_t d = 0;
    while (d < name.len && name.ptr[name.len - 1 - d] >= '0' && name.ptr[name.len - 1 - d] <= '9')
        d++;
    if (d < 3 || d > 18 || d == name.len || name.ptr[name.len - 1 - d] != '-')
        return false;
    int64_t v = 0;
    for (size_t i = name.len - d; i < name.len; i++)
        v = v * 10 + (name.ptr[i] - '0');
    *pid = v;
    return true;
}

struct link *ll__corr_resolve(struct ll_correlator *c, const struct ll_event *ev,
                              uint32_t service, uint64_t host, char *via, size_t via_size)
{
    char pbuf[24];
    struct key_try keys[3];
    int n = 0;
    if (ev->flags & LL_EV_RAW) {
        keys[n++] = (struct key_try){LINK_SOURCE, ev->origin.len ? ev->origin : ev->pos.source,
                                     "source"};
        /* A file named after its process (child-4312.log, a container
         * worker-4312) whose lines are all text: its pid is in the name. */
        struct ll_str name = c->names.v[service].s;
        int64_t pid;
        if (ll__corr_pid_in_name(name, &pid))
            keys[n++] = (struct key_try){LINK_PID, ll__corr_pid_str(pid, pbuf, sizeof pbuf), "pid"};
    } else if (ev->flags & LL_EV_HAS_PID)
        keys[n++] = (struct key_try){LINK_PID, ll__corr_pid_str(ev->pid, pbuf, sizeof pbuf), "pid"};
    if (ev->conn_id.len)
        keys[n++] = (struct key_try){LINK_CONN, ev->conn_id, "conn"};
    for (int i = 0; i < n; i++) {
        char key[MAX_KEY];
        size_t len = make_key(keys[i].kind, keys[i].value, key, sizeof key);
        struct link *l =
            ll_idmap_get(&c->links, ll_hash_keyed(key, len), (struct ll_str){key, len});
        if (!l || l->ambiguous || (l->own_pid && l->teacher_service == service))
            continue;
        if (l->teacher_host && host && l->teacher_host != host)
            continue;
        if (!ll__corr_joinable(c, l->owner, ev->ts_ns))
            continue;
        if (keys[i].kind == LINK_SOURCE)
            snprintf(via, via_size, "source");
        else
            snprintf(via, via_size, "%s:%.*s", keys[i].label, (int)keys[i].value.len,
                     keys[i].value.ptr);
        return l;
    }
    return NULL;
}
