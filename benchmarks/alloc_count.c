/*
 * ll-alloc-count: counts the calls to malloc, calloc, realloc and free of
 * the process it is preloaded into, and writes the counts at exit:
 *
 *   LL_ALLOC_COUNT_OUT=FILE LD_PRELOAD=.../libll-alloc-count.so logloom ...
 *
 * FILE gets one line: "malloc=N calloc=N realloc=N free=N". run.sh divides
 * by the events of a replay to give allocations per event. The calls go on
 * to glibc's own functions, so nothing else changes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

static atomic_ulong n_malloc, n_calloc, n_realloc, n_free;

void *malloc(size_t size)
{
    atomic_fetch_add_explicit(&n_malloc, 1, memory_order_relaxed);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&n_calloc, 1, memory_order_relaxed);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    atomic_fetch_add_explicit(&n_realloc, 1, memory_order_relaxed);
    return __libc_realloc(p, size);
}

void free(void *p)
{
    if (p)
        atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
    __libc_free(p);
}

__attribute__((destructor)) static void ll_alloc_report(void)
{
    const char *path = getenv("LL_ALLOC_COUNT_OUT");
    if (!path)
        return;
    FILE *fp = fopen(path, "w");
    if (!fp)
        return;
    fprintf(fp, "malloc=%lu calloc=%lu realloc=%lu free=%lu\n", atomic_load(&n_malloc),
            atomic_load(&n_calloc), atomic_load(&n_realloc), atomic_load(&n_free));
    fclose(fp);
}
