/*
 * pool.c - run jobs on a few threads and report them in order.
 *
 * Cases are independent (each has its own mock on its own port), and most of their time
 * is spent waiting on loopback sockets, so a few more threads than cores keep a run short.
 * Results are handed to `done` in job order, each as soon as it and every job before it
 * has finished, so the per-case lines stream out in a stable order.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>

#include "conform.h"

typedef struct pool {
    size_t njobs, next, reported;
    bool *finished;
    void (*fn)(void *, size_t);
    void (*done)(void *, size_t);
    void *ud;
    pthread_mutex_t mu;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t job = p->next < p->njobs ? p->next++ : p->njobs;
        pthread_mutex_unlock(&p->mu);
        if (job >= p->njobs) return NULL;
        p->fn(p->ud, job);
        pthread_mutex_lock(&p->mu);
        p->finished[job] = true;
        while (p->reported < p->njobs && p->finished[p->reported])
            p->done(p->ud, p->reported++);
        pthread_mutex_unlock(&p->mu);
    }
}

void pool_run(size_t njobs, unsigned nthreads, void (*fn)(void *ud, size_t job),
              void (*done)(void *ud, size_t job), void *ud)
{
    pool p = {.njobs = njobs, .fn = fn, .done = done, .ud = ud};
    p.finished = xcalloc(njobs, sizeof *p.finished);
    pthread_mutex_init(&p.mu, NULL);
    if (nthreads == 0) nthreads = 1;
    if (nthreads > njobs) nthreads = njobs > 0 ? (unsigned)njobs : 1;
    pthread_t *th = xcalloc(nthreads, sizeof *th);
    unsigned started = 0;
    for (unsigned i = 0; i < nthreads; i++)
        if (pthread_create(&th[started], NULL, worker, &p) == 0) started++;
    if (started == 0) worker(&p); /* no threads to be had: run them here */
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);
    free(th);
    free(p.finished);
}
