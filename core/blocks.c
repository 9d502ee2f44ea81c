/* Size-class blocks: a free list per power of two, the link stored in the
 * free block itself. */
#include "logloom/core.h"

#include <string.h>

/* The class of a block of @p size bytes, or LL_BLOCKS_CLASSES if too big. */
static unsigned class_of(size_t size)
{
    unsigned k = 0;
    size_t c = LL_BLOCKS_MIN;
    while (c < size && k < LL_BLOCKS_CLASSES) {
        c <<= 1;
        k++;
    }
    return k;
}

void *ll_blocks_get(struct ll_blocks *b, size_t size, size_t *cap)
{
    unsigned k = class_of(size);
    if (k == LL_BLOCKS_CLASSES) {
        *cap = size;
        return ll_malloc(size);
    }
    *cap = (size_t)LL_BLOCKS_MIN << k;
    void *p = b->free[k];
    if (!p)
        return ll_malloc(*cap);
    memcpy(&b->free[k], p, sizeof(void *));
    b->n_free[k]--;
    return p;
}

void ll_blocks_put(struct ll_blocks *b, void *p, size_t size)
{
    if (!p)
        return;
    unsigned k = class_of(size);
    if (k == LL_BLOCKS_CLASSES ||
        (b->n_free[k] + 1) * ((size_t)LL_BLOCKS_MIN << k) > LL_BLOCKS_KEEP) {
        ll_free(p);
        return;
    }
    memcpy(p, &b->free[k], sizeof(void *));
    b->free[k] = p;
    b->n_free[k]++;
}

void *ll_blocks_grow(struct ll_blocks *b, void *p, size_t used, size_t size, size_t *cap)
{
    size_t old = *cap;
    void *q = ll_blocks_get(b, size, cap);
    if (used)
        memcpy(q, p, used);
    ll_blocks_put(b, p, old);
    return q;
}

void ll_blocks_free(struct ll_blocks *b)
{
    for (unsigned k = 0; k < LL_BLOCKS_CLASSES; k++)
        while (b->free[k]) {
            void *p = b->free[k];
            memcpy(&b->free[k], p, sizeof(void *));
            ll_free(p);
        }
    memset(b, 0, sizeof *b);
}
