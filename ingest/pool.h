/* Private to ingest/: a fork-join pool for decoding a batch on several
 * threads. The caller is thread 0 and works too; ll__pool_run() returns
 * once every item is done, so the items' results are the caller's again
 * and need no lock to read. */
#ifndef LOGLOOM_INGEST_POOL_H
#define LOGLOOM_INGEST_POOL_H

#include <stddef.h>

struct ll__pool;

/* Item @p i, on thread @p thread (0: the caller; else 1 .. threads-1). */
typedef void ll__pool_fn(void *ctx, size_t thread, size_t i);

/* A pool of @p threads in all, the caller included (1: no thread is
 * started and every run is the caller's). */
struct ll__pool *ll__pool_new(size_t threads);
/* Items 0 .. @p n - 1, taken @p chunk at a time by whichever thread is
 * free; fewer than @p alone items are the caller's alone (waking threads
 * for a handful costs more than it saves). */
void ll__pool_run(struct ll__pool *p, size_t n, size_t chunk, size_t alone, ll__pool_fn *fn,
                  void *ctx);
size_t ll__pool_threads(const struct ll__pool *p);
void ll__pool_free(struct ll__pool *p);

#endif
