/* Hierarchical timer wheel (hashed by the highest bit in which a deadline
 * differs from the clock). A timer whose deadline differs from "now" first
 * in bit b sits at level b / 6, in the slot given by its deadline's six bits
 * of that level. Advancing visits, per level, only the slots the clock moves
 * over; their timers either expire or drop to a lower level. */
#include "logloom/core.h"

#define SLOT_BITS 6

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) == (b < 0)) ? q + 1 : q;
}

static void list_init(struct ll_timer *head)
{
    head->next = head->prev = head;
}

static void list_push(struct ll_timer *head, struct ll_timer *t)
{
    t->prev = head->prev;
    t->next = head;
    head->prev->next = t;
    head->prev = t;
}

static void list_unlink(struct ll_timer *t)
{
    t->prev->next = t->next;
    t->next->prev = t->prev;
    t->next = t->prev = NULL;
}

void ll_timer_init(struct ll_timer *t)
{
    t->next = t->prev = NULL;
    t->deadline = 0;
}

bool ll_timer_armed(const struct ll_timer *t)
{
    return t->next != NULL;
}

int64_t ll_timer_deadline(const struct ll_timer *t)
{
    return t->deadline;
}

void ll_timerwheel_init(struct ll_timerwheel *w, int64_t now_ns, int64_t tick_ns)
{
    w->tick_ns = tick_ns > 0 ? tick_ns : LL_NS_PER_MS;
    w->now = floor_div(now_ns, w->tick_ns);
    w->count = 0;
    list_init(&w->due);
    for (int l = 0; l < LL_TW_LEVELS; l++)
        for (int s = 0; s < LL_TW_SLOTS; s++)
            list_init(&w->slots[l][s]);
}

/* Puts an unlinked timer where its deadline belongs relative to w->now. */
static void place(struct ll_timerwheel *w, struct ll_timer *t)
{
    int64_t d = ceil_div(t->deadline, w->tick_ns);
    if (d <= w->now) {
        list_push(&w->due, t);
        return;
    }
    uint64_t diff = (uint64_t)d ^ (uint64_t)w->now;
    int bit = 63 - __builtin_clzll(diff);
    int level = bit / SLOT_BITS;
    if (level >= LL_TW_LEVELS)
        level = LL_TW_LEVELS - 1; /* beyond the wheel: revisited as the top level turns */
    int slot = (int)(((uint64_t)d >> (SLOT_BITS * level)) & (LL_TW_SLOTS - 1));
    list_push(&w->slots[level][slot], t);
}

void ll_timerwheel_add(struct ll_timerwheel *w, struct ll_timer *t, int64_t deadline_ns)
{
    if (ll_timer_armed(t))
        list_unlink(t);
    else
        w->count++;
    t->deadline = deadline_ns;
    place(w, t);
}

void ll_timerwheel_del(struct ll_timerwheel *w, struct ll_timer *t)
{
    if (!ll_timer_armed(t))
        return;
    list_unlink(t);
    w->count--;
}

/* Moves every timer of one slot list onto @p out. */
static void splice(struct ll_timer *slot, struct ll_timer *out)
{
    while (slot->next != slot) {
        struct ll_timer *t = slot->next;
        list_unlink(t);
        list_push(out, t);
    }
}

size_t ll_timerwheel_advance(struct ll_timerwheel *w, int64_t now_ns, ll_timer_fn *fn,
                             void *ctx)
{
    int64_t target = floor_div(now_ns, w->tick_ns);
    struct ll_timer reached;
    list_init(&reached);
    splice(&w->due, &reached);
    if (target > w->now) {
        for (int l = 0; l < LL_TW_LEVELS; l++) {
            int shift = SLOT_BITS * l;
            int64_t a = w->now >> shift, b = target >> shift;
            if (a == b)
                continue;
            /* Slots after the clock's, up to the target's or the whole turn. */
            int first = (int)((a + 1) & (LL_TW_SLOTS - 1));
            int64_t n = b - a < LL_TW_SLOTS ? b - a : LL_TW_SLOTS;
            for (int64_t k = 0; k < n; k++)
                splice(&w->slots[l][(first + k) & (LL_TW_SLOTS - 1)], &reached);
        }
        w->now = target;
    }
    size_t fired = 0;
    while (reached.next != &reached) {
        struct ll_timer *t = reached.next;
        list_unlink(t);
        if (ceil_div(t->deadline, w->tick_ns) <= w->now) {
            w->count--;
            fired++;
            fn(ctx, t);
        } else {
            place(w, t);
        }
    }
    return fired;
}

struct ll_timer *ll_timerwheel_soonest(const struct ll_timerwheel *w)
{
    if (w->due.next != &w->due)
        return w->due.next;
    /* Below the top level, every timer of level l is earlier than those of
     * level l + 1, and slots after the clock's run in deadline order: the
     * first slot with a timer holds the earliest, within its width. */
    for (int l = 0; l < LL_TW_LEVELS - 1; l++) {
        int from = (int)((w->now >> (SLOT_BITS * l)) & (LL_TW_SLOTS - 1)) + 1;
        for (int s = from; s < LL_TW_SLOTS; s++)
            if (w->slots[l][s].next != &w->slots[l][s])
                return w->slots[l][s].next;
    }
    /* The top level also holds deadlines beyond the wheel: from the clock's
     * slot on, round. */
    int top = LL_TW_LEVELS - 1;
    int from = (int)((w->now >> (SLOT_BITS * top)) & (LL_TW_SLOTS - 1));
    for (int k = 0; k < LL_TW_SLOTS; k++) {
        const struct ll_timer *slot = &w->slots[top][(from + k) & (LL_TW_SLOTS - 1)];
        if (slot->next != slot)
            return slot->next;
    }
    return NULL;
}
