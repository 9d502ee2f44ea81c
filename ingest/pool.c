/* Fork-join pool: see pool.h.
 *
 * A run publishes its items under the lock and bumps the round; workers
 * take the round's parameters under the same lock and count themselves
 * busy, then claim chunks with an atomic counter. The run returns when
 * every item is done and no worker is busy, and a new run first waits for
 * the same, so a worker that woke late never claims a later round's items
 * with an earlier round's function. */
#include "pool.h"

#include "logloom/core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct ll__pool {
    size_t threads;
    pthread_t *tid;
    size_t started;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a round began, or stop */
    pthread_cond_t done_cv; /* a worker left its round */
    uint64_t round;
    size_t busy;
    bool stop;
    /* The round's, set under mu while no worker is busy. */
    ll__pool_fn *fn;
    void *ctx;
    size_t n, chunk;
    atomic_size_t next, done;
};

struct worker_arg {
    struct ll__pool *p;
    size_t thread;
};

/* Claims and does chunks until none is left. */
static void claim(struct ll__pool *p, ll__pool_fn *fn, void *ctx, size_t n, size_t chunk,
                  size_t thread)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, chunk);
        if (i >= n)
            return;
        size_t end = n - i < chunk ? n : i + chunk;
        for (size_t j = i; j < end; j++)
            fn(ctx, thread, j);
        atomic_fetch_add(&p->done, end - i);
    }
}

static void *worker(void *arg)
{
    struct worker_arg *w = arg;
    struct ll__pool *p = w->p;
    size_t thread = w->thread;
    ll_free(w);
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->round == seen)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->stop)
            break;
        seen = p->round;
        ll__pool_fn *fn = p->fn;
        void *ctx = p->ctx;
        size_t n = p->n, chunk = p->chunk;
        p->busy++;
        pthread_mutex_unlock(&p->mu);
        claim(p, fn, ctx, n, chunk, thread);
        pthread_mutex_lock(&p->mu);
        p->busy--;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct ll__pool *ll__pool_new(size_t threads)
{
    struct ll__pool *p = ll_calloc(1, sizeof *p);
    p->threads = threads ? threads : 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->done, 0);
    p->tid = ll_calloc(p->threads, sizeof *p->tid);
    for (size_t t = 1; t < p->threads; t++) {
        struct worker_arg *w = ll_malloc(sizeof *w);
        *w = (struct worker_arg){p, t};
        if (pthread_create(&p->tid[p->started], NULL, worker, w) != 0) {
            ll_free(w);
            ll_log(LL_LEVEL_WARN, "decode", "started %zu of %zu decoding threads",
                   p->started + 1, p->threads);
            break;
        }
        p->started++;
    }
    return p;
}

size_t ll__pool_threads(const struct ll__pool *p)
{
    return p->threads;
}

void ll__pool_run(struct ll__pool *p, size_t n, size_t chunk, size_t alone, ll__pool_fn *fn,
                  void *ctx)
{
    if (!p->started || n < alone || n <= chunk) {
        for (size_t i = 0; i < n; i++)
            fn(ctx, 0, i);
        return;
    }
    pthread_mutex_lock(&p->mu);
    while (p->busy)
        pthread_cond_wait(&p->done_cv, &p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = chunk ? chunk : 1;
    atomic_store(&p->next, 0);
    atomic_store(&p->done, 0);
    p->round++;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);

    claim(p, fn, ctx, n, p->chunk, 0);

    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->done) < n || p->busy)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void ll__pool_free(struct ll__pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t t = 0; t < p->started; t++)
        pthread_join(p->tid[t], NULL);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    ll_free(p->tid);
    ll_free(p);
}
