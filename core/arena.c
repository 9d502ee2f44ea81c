/* Bump allocator: chunks that double in size, released all at once. */
#include "logloom/core.h"

#include <string.h>

struct ll_arena_chunk {
    struct ll_arena_chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    max_align_t data[];
};

void ll_arena_init(struct ll_arena *a, size_t first_size)
{
    *a = (struct ll_arena){.first_size = first_size ? first_size : 4096};
}

static struct ll_arena_chunk *chunk_new(size_t size, struct ll_arena_chunk *next)
{
    struct ll_arena_chunk *c = ll_malloc(sizeof *c + size);
    c->next = next;
    c->size = size;
    c->used = 0;
    return c;
}

void *ll_arena_alloc(struct ll_arena *a, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    struct ll_arena_chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t want = c ? c->size * 2 : (a->first_size ? a->first_size : 4096);
        if (want > (size_t)1 << 24)
            want = (size_t)1 << 24;
        if (want < size)
            want = size;
        c = a->head = chunk_new(want, a->head);
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    a->used_total += size;
    return p;
}

struct ll_str ll_arena_dup(struct ll_arena *a, struct ll_str s)
{
    if (!s.len)
        return (struct ll_str){"", 0};
    char *p = ll_arena_alloc(a, s.len);
    memcpy(p, s.ptr, s.len);
    return (struct ll_str){p, s.len};
}

void ll_arena_reset(struct ll_arena *a)
{
    struct ll_arena_chunk *keep = a->head;
    if (!keep)
        return;
    for (struct ll_arena_chunk *c = keep->next; c;) {
        struct ll_arena_chunk *next = c->next;
        ll_free(c);
        c = next;
    }
    keep->next = NULL;
    keep->used = 0;
    a->used_total = 0;
}

void ll_arena_free(struct ll_arena *a)
{
    for (struct ll_arena_chunk *c = a->head; c;) {
        struct ll_arena_chunk *next = c->next;
        ll_free(c);
        c = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

size_t ll_arena_footprint(const struct ll_arena *a)
{
    size_t n = 0;
    for (const struct ll_arena_chunk *c = a->head; c; c = c->next)
        n += sizeof *c + c->size;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Pool                                                                      */

#define CHUNK_SIZE ((size_t)64 << 10)

struct ll_pool_chunk {
    struct ll_pool_chunk *next;
    size_t size, used, live;
    max_align_t data[];
};

/* Each record is preceded by a pointer to its chunk. */
void *ll_pool_alloc(struct ll_pool *p, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    size_t need = size + sizeof(struct ll_pool_chunk *);
    struct ll_pool_chunk *c = p->tail;
    if (!c || c->size - c->used < need) {
        if (p->spare && p->spare->size >= need) {
            c = p->spare;
            p->spare = NULL;
        } else {
            size_t sz = need > CHUNK_SIZE ? need : CHUNK_SIZE;
            c = ll_malloc(sizeof *c + sz);
            c->size = sz;
        }
        c->next = NULL;
        c->used = c->live = 0;
        if (p->tail)
            p->tail->next = c;
        else
            p->head = c;
        p->tail = c;
    }
    char *at = (char *)c->data + c->used;
    memcpy(at, &c, sizeof c);
    c->used += need;
    c->live++;
    p->live++;
    return at + sizeof c;
}

void ll_pool_release(struct ll_pool *p, void *rec)
{
    struct ll_pool_chunk *c;
    memcpy(&c, (char *)rec - sizeof c, sizeof c);
    c->live--;
    p->live--;
    /* Free chunks from the head while they hold nothing live. */
    while (p->head && p->head->live == 0) {
        struct ll_pool_chunk *h = p->head;
        if (h == p->tail) {
            h->used = 0; /* empty: reuse from the start */
            break;
        }
        p->head = h->next;
        ll_free(p->spare);
        p->spare = h;
    }
}

void ll_pool_free(struct ll_pool *p)
{
    for (struct ll_pool_chunk *c = p->head; c;) {
        struct ll_pool_chunk *next = c->next;
        ll_free(c);
        c = next;
    }
    ll_free(p->spare);
    *p = (struct ll_pool){0};
}
