/* Tombstones of delivered timelines and alerts that straddle a checkpoint
 * (see logloom/runner.h, "Tombstones"), kept in <checkpoint dir>/closed.json:
 *
 *   {"version":1,"tombstones":[
 *     {"kind":"timeline","corr_id":"wf-1","last":1767225600000000000,
 *      "id":"6c1f0e3a9b2d4c58"},
 *     {"kind":"alert","rule":"econnreset","corr_id":"wf-1","service":"agent",
 *      "last":1767225600000000000}]}
 *
 * ("last": the item's last event time, ns). An item after a restart is the
 * remains of a tombstone's when it is of the same kind, rule, correlation
 * id and service, began in the lines read again, and began no later than
 * the tombstone's last event: a new workflow of a reused id starts after a
 * session gap, a new alert of the same rule and key after the old one
 * closed. An item without a correlation id (its linking line was before the
 * checkpoint) matches a tombstone of any id. A timeline's "id" names the
 * workflow for an alert raised again on its remains (ll__closed_timeline_id()). */
#include "logloom/runner.h"

#include "logloom/ingest.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#define FILE_NAME "closed.json"

struct ll__closed_item {
    bool alert;
    char *rule, *corr_id, *service; /* rule and service: alerts only ("" otherwise) */
    int64_t last_ns;
    uint64_t seq_first, seq_last;
    uint64_t hash;
    uint64_t id; /* a timeline's (0: not known) */
};

static uint64_t key_hash(bool alert, struct ll_str rule, struct ll_str corr, struct ll_str svc)
{
    uint64_t h = ll_hash_keyed(rule.ptr, rule.len) ^ (alert ? 0xa1 : 0x71);
    h = (h * UINT64_C(0x9e3779b97f4a7c15)) ^ ll_hash_keyed(corr.ptr, corr.len);
    return (h * UINT64_C(0x9e3779b97f4a7c15)) ^ ll_hash_keyed(svc.ptr, svc.len);
}

/* An item with its three strings in one block (rule first: item_free()
 * frees the block through it). */
static struct ll__closed_item make_item(bool alert, struct ll_str rule, struct ll_str corr,
                                        struct ll_str svc, int64_t last_ns, uint64_t first,
                                        uint64_t last)
{
    char *p = ll_malloc(rule.len + corr.len + svc.len + 3);
    struct ll__closed_item it = {alert, p, NULL, NULL, last_ns, first, last,
                                 key_hash(alert, rule, corr, svc), 0};
    const struct ll_str parts[3] = {rule, corr, svc};
    char **to[3] = {&it.rule, &it.corr_id, &it.service};
    for (int i = 0; i < 3; i++) {
        *to[i] = p;
        if (parts[i].len)
            memcpy(p, parts[i].ptr, parts[i].len);
        p[parts[i].len] = '\0';
        p += parts[i].len + 1;
    }
    return it;
}

static void add(struct ll__closed *c, bool alert, struct ll_str rule, struct ll_str corr,
                struct ll_str svc, int64_t last_ns, uint64_t first, uint64_t last, uint64_t id)
{
    if (!first)
        return; /* not from a live source */
    LL_GROW(c->v, c->n, c->cap, 256);
    c->v[c->n] = make_item(alert, rule, corr, svc, last_ns, first, last);
    c->v[c->n++].id = id;
}

static void item_free(struct ll__closed_item *it)
{
    ll_free(it->rule); /* the block of all three */
}

void ll__closed_init(struct ll__closed *c)
{
    *c = (struct ll__closed){.replay_end = UINT64_MAX};
}

static void drop_dead(struct ll__closed *c)
{
    for (size_t i = 0; i < c->n_dead; i++)
        item_free(&c->dead[i]);
    ll_free(c->dead);
    c->dead = NULL;
    c->n_dead = 0;
}

void ll__closed_free(struct ll__closed *c)
{
    for (size_t i = 0; i < c->n; i++)
        item_free(&c->v[i]);
    ll_free(c->v);
    drop_dead(c);
}

void ll__closed_timeline(struct ll__closed *c, const struct ll_timeline *tl)
{
    add(c, false, ll_str_c(""), tl->corr_id, ll_str_c(""), tl->end_ns, tl->seq_first,
        tl->seq_last, tl->id);
}

void ll__closed_alert(struct ll__closed *c, const struct ll_alert *a)
{
    add(c, true, a->rule, a->corr_id, a->service, a->last_ns, a->seq_first, a->seq_last, 0);
}

/* The tombstone an item that began at @p first_ns is the remains of, by
 * its key (NULL: none). */
static const struct ll__closed_item *find_dead(const struct ll__closed *c, bool alert,
                                               struct ll_str rule, struct ll_str corr,
                                               struct ll_str svc, int64_t first_ns)
{
    uint64_t h = key_hash(alert, rule, corr, svc);
    size_t lo = 0, hi = c->n_dead;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->dead[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < c->n_dead && c->dead[i].hash == h; i++) {
        const struct ll__closed_item *t = &c->dead[i];
        if (t->alert == alert && ll_str_eq(rule, ll_str_c(t->rule)) &&
            ll_str_eq(corr, ll_str_c(t->corr_id)) && ll_str_eq(svc, ll_str_c(t->service)) &&
            first_ns <= t->last_ns)
            return t;
    }
    return NULL;
}

static bool seen(struct ll__closed *c, bool alert, struct ll_str rule, struct ll_str corr,
                 struct ll_str svc, int64_t first_ns, uint64_t seq_first)
{
    if (!c->n_dead || seq_first > c->replay_end)
        return false;
    /* Read again without the line that linked it to its workflow: the
     * remains of the same rule's on the same service. */
    for (size_t i = 0; !corr.len && i < c->n_dead; i++) {
        const struct ll__closed_item *t = &c->dead[i];
        if (t->alert == alert && ll_str_eq(rule, ll_str_c(t->rule)) &&
            ll_str_eq(svc, ll_str_c(t->service)) && first_ns <= t->last_ns) {
            c->suppressed++;
            return true;
        }
    }
    if (!find_dead(c, alert, rule, corr, svc, first_ns))
        return false;
    c->suppressed++;
    return true;
}

bool ll__closed_seen_timeline(struct ll__closed *c, const struct ll_timeline *tl)
{
    return seen(c, false, ll_str_c(""), tl->corr_id, ll_str_c(""), tl->start_ns, tl->seq_first);
}

bool ll__closed_seen_alert(struct ll__closed *c, const struct ll_alert *a)
{
    return seen(c, true, a->rule, a->corr_id, a->service, a->first_ns, a->seq_first);
}

uint64_t ll__closed_timeline_id(const struct ll__closed *c, const struct ll_alert *a)
{
    if (!c->n_dead || !a->corr_id.len || a->seq_first > c->replay_end)
        return 0;
    const struct ll__closed_item *t =
        find_dead(c, false, ll_str_c(""), a->corr_id, ll_str_c(""), a->first_ns);
    return t ? t->id : 0;
}

void ll__closed_replayed(struct ll__closed *c, uint64_t seq)
{
    if (c->replay_end == UINT64_MAX)
        c->replay_end = seq;
}

static void render(struct ll_buf *b, const struct ll__closed_item *it, bool *first)
{
    ll_buf_puts(b, *first ? "\n" : ",\n");
    *first = false;
    ll_buf_puts(b, it->alert ? "{\"kind\":\"alert\",\"rule\":" : "{\"kind\":\"timeline\"");
    if (it->alert)
        ll_buf_json_str(b, it->rule, strlen(it->rule));
    ll_buf_puts(b, ",\"corr_id\":");
    ll_buf_json_str(b, it->corr_id, strlen(it->corr_id));
    if (it->alert) {
        ll_buf_puts(b, ",\"service\":");
        ll_buf_json_str(b, it->service, strlen(it->service));
    }
    ll_buf_printf(b, ",\"last\":%lld", (long long)it->last_ns);
    if (it->id)
        ll_buf_printf(b, ",\"id\":\"%016llx\"", (unsigned long long)it->id);
    ll_buf_putc(b, '}');
}

static int by_first(const void *a, const void *b)
{
    uint64_t x = (*(const struct ll__closed_item *const *)a)->seq_first;
    uint64_t y = (*(const struct ll__closed_item *const *)b)->seq_first;
    return x < y ? -1 : x > y;
}

uint64_t ll__closed_render(struct ll__closed *c, uint64_t prev, uint64_t cut, int64_t through,
                           size_t limit, struct ll_buf *b)
{
    bool first = true;
    ll_buf_puts(b, "{\"version\":1,");
    if (through >= 0)
        ll_buf_printf(b, "\"through\":%lld,", (long long)through);
    ll_buf_puts(b, "\"tombstones\":[");
    /* Loaded ones: until the lines read again are behind both cuts. */
    if (c->replay_end >= prev)
        for (size_t i = 0; i < c->n_dead; i++)
            render(b, &c->dead[i], &first);
    const struct ll__closed_item **v = ll_calloc(c->n ? c->n : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].seq_first < cut && c->v[i].seq_last >= prev)
            v[n++] = &c->v[i];
    /* Oldest first: if they do not all fit, the cut moves back to the first
     * left out, and none of those left out straddles it any more. */
    qsort(v, n, sizeof *v, by_first);
    struct ll_buf one = {0};
    for (size_t i = 0; i < n; i++) {
        bool f = first;
        ll_buf_reset(&one);
        render(&one, v[i], &f);
        if (limit && b->len + one.len + 3 > limit) {
            cut = v[i]->seq_first;
            break;
        }
        ll_buf_append(b, one.data, one.len);
        first = false;
    }
    ll_buf_free(&one);
    ll_free(v);
    ll_buf_puts(b, "]}");
    return cut;
}

uint64_t ll__closed_last(const struct ll__closed *c, uint64_t cut)
{
    uint64_t last = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].seq_first < cut && c->v[i].seq_last >= cut && c->v[i].seq_last > last)
            last = c->v[i].seq_last;
    return last;
}

int ll__closed_save(struct ll__closed *c, const char *dir, uint64_t prev, uint64_t cut,
                    char *err, size_t errsz)
{
    struct ll_buf b = {0};
    ll__closed_render(c, prev, cut, -1, 0, &b);
    ll_buf_puts(&b, "\n");
    int rc = ll_checkpoint_file_save(dir, FILE_NAME, b.data, b.len, err, errsz);
    ll_buf_free(&b);
    return rc;
}

void ll__closed_forget(struct ll__closed *c, uint64_t cut)
{
    size_t keep = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].seq_last >= cut)
            c->v[keep++] = c->v[i];
        else
            item_free(&c->v[i]);
    }
    c->n = keep;
    if (c->replay_end < cut)
        drop_dead(c);
}

static const char *get_str(yajl_val o, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(o, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

static int by_hash(const void *a, const void *b)
{
    uint64_t x = ((const struct ll__closed_item *)a)->hash;
    uint64_t y = ((const struct ll__closed_item *)b)->hash;
    return x < y ? -1 : x > y;
}

int64_t ll__closed_parse(struct ll__closed *c, const char *text, const char *where)
{
    char perr[256];
    yajl_val root = yajl_tree_parse(text, perr, sizeof perr);
    const char *tk[] = {"tombstones", NULL}, *hk[] = {"through", NULL};
    yajl_val list = root ? yajl_tree_get(root, tk, yajl_t_array) : NULL;
    yajl_val through = root ? yajl_tree_get(root, hk, yajl_t_number) : NULL;
    if (!list)
        ll_log(LL_LEVEL_WARN, "checkpoint", "%s: not a tombstone list; ignored (workflows that "
               "straddle the checkpoint may be delivered again, in part)", where);
    else if (YAJL_GET_ARRAY(list)->len)
        c->dead = ll_reallocarray(c->dead, c->n_dead + YAJL_GET_ARRAY(list)->len,
                                  sizeof *c->dead);
    for (size_t i = 0; list && i < YAJL_GET_ARRAY(list)->len; i++) {
        yajl_val o = YAJL_GET_ARRAY(list)->values[i];
        const char *kind = get_str(o, "kind"), *corr = get_str(o, "corr_id");
        const char *lk[] = {"last", NULL};
        yajl_val last = yajl_tree_get(o, lk, yajl_t_number);
        bool alert = kind && strcmp(kind, "alert") == 0;
        const char *rule = alert ? get_str(o, "rule") : "", *svc = alert ? get_str(o, "service") : "";
        if (!kind || !corr || !last || !YAJL_IS_INTEGER(last) || !rule || !svc ||
            (!alert && strcmp(kind, "timeline") != 0))
            continue;
        const char *id = get_str(o, "id");
        c->dead[c->n_dead] = make_item(alert, ll_str_c(rule), ll_str_c(corr), ll_str_c(svc),
                                       YAJL_GET_INTEGER(last), 0, UINT64_MAX);
        c->dead[c->n_dead++].id = id ? strtoull(id, NULL, 16) : 0;
    }
    int64_t t = list && through && YAJL_IS_INTEGER(through) ? YAJL_GET_INTEGER(through) : -1;
    yajl_tree_free(root);
    if (c->n_dead)
        qsort(c->dead, c->n_dead, sizeof *c->dead, by_hash);
    return t;
}

int ll__closed_load(struct ll__closed *c, const char *dir, char *err, size_t errsz)
{
    char *text;
    if (ll_checkpoint_file_load(dir, FILE_NAME, &text, err, errsz) != LL_OK)
        return LL_EIO;
    if (!text)
        return LL_OK;
    char where[700];
    snprintf(where, sizeof where, "%s/" FILE_NAME, dir);
    ll__closed_parse(c, text, where);
    ll_free(text);
    return LL_OK;
}
