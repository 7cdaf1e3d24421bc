/*
 * script_factory.c - the sessions of dialogue scripts handed out one per connection.
 *
 * RFC 1939 section 7: the APOP timestamp ({timestamp} in a script) must differ for every
 * greeting; it is <pid.counter.time@pop3kit.mock> with a counter shared by every factory
 * of the process, so that two servers in one process (a parallel conformance run) never
 * hand out the same one.
 */
#define _POSIX_C_SOURCE 200809L
#include "pop3mock/script_factory.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static atomic_ulong greeting_counter;

struct pop3mock_script_factory {
    pthread_mutex_t mu;
    pop3mock_script_slot *slots;
    size_t nslots, next, ended;
    pop3mock_limits lim;
    bool implicit_tls;
    bool once;
    bool closed;
};

pop3mock_script_factory *pop3mock_script_factory_new(pop3mock_script *const *scripts, size_t n,
                                                     const pop3mock_limits *lim, bool implicit_tls,
                                                     bool once)
{
    pop3mock_script_factory *sf = calloc(1, sizeof *sf);
    if (sf == NULL) return NULL;
    for (size_t i = 0; i < n; i++)
        sf->nslots += pop3mock_script_sessions(scripts[i]);
    sf->slots = calloc(sf->nslots > 0 ? sf->nslots : 1, sizeof *sf->slots);
    if (sf->slots == NULL) {
        free(sf);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < pop3mock_script_sessions(scripts[i]); j++)
            sf->slots[k++] = (pop3mock_script_slot){.script = scripts[i], .index = j};
    if (lim != NULL)
        sf->lim = *lim;
    else
        pop3mock_limits_default(&sf->lim);
    sf->implicit_tls = implicit_tls;
    sf->once = once;
    pthread_mutex_init(&sf->mu, NULL);
    return sf;
}

void pop3mock_script_factory_free(pop3mock_script_factory *sf)
{
    if (sf == NULL) return;
    pthread_mutex_destroy(&sf->mu);
    free(sf->slots);
    free(sf);
}

static pop3mock_session *open_session(void *ctx, unsigned long conn)
{
    pop3mock_script_factory *sf = ctx;
    char ts[128];
    snprintf(ts, sizeof ts, "<%ld.%lu.%lld@pop3kit.mock>", (long)getpid(),
             atomic_fetch_add(&greeting_counter, 1) + 1, (long long)time(NULL));
    pthread_mutex_lock(&sf->mu);
    pop3mock_session *s = NULL;
    if (!sf->closed && sf->next < sf->nslots) {
        pop3mock_script_slot *sl = &sf->slots[sf->next];
        s = pop3mock_script_session_new(sl->script, sl->index, &sf->lim, ts, sf->implicit_tls);
        if (s != NULL) {
            sl->started = true;
            sl->conn = conn;
            sf->next++;
        }
    }
    pthread_mutex_unlock(&sf->mu);
    return s;
}

static void closed(void *ctx, unsigned long conn, pop3mock_session *s, pop3mock_end why)
{
    pop3mock_script_factory *sf = ctx;
    pop3mock_script_result r = pop3mock_script_session_finish(s, pop3mock_end_name(why));
    pthread_mutex_lock(&sf->mu);
    for (size_t i = 0; i < sf->next; i++) {
        if (sf->slots[i].conn != conn || sf->slots[i].ended) continue;
        sf->slots[i].ended = true;
        sf->slots[i].result = r;
        sf->ended++;
        break;
    }
    pthread_mutex_unlock(&sf->mu);
}

static bool finished(void *ctx)
{
    pop3mock_script_factory *sf = ctx;
    pthread_mutex_lock(&sf->mu);
    bool f = sf->closed || sf->ended == sf->nslots || (sf->once && sf->ended > 0);
    pthread_mutex_unlock(&sf->mu);
    return f;
}

pop3mock_factory pop3mock_script_factory_get(pop3mock_script_factory *sf)
{
    pop3mock_factory f = {.open = open_session, .closed = closed, .finished = finished, .ctx = sf};
    return f;
}

size_t pop3mock_script_factory_sessions(const pop3mock_script_factory *sf)
{
    return sf->nslots;
}

void pop3mock_script_factory_counts(pop3mock_script_factory *sf, size_t *started, size_t *ended)
{
    pthread_mutex_lock(&sf->mu);
    if (started != NULL) *started = sf->next;
    if (ended != NULL) *ended = sf->ended;
    pthread_mutex_unlock(&sf->mu);
}

void pop3mock_script_factory_close(pop3mock_script_factory *sf)
{
    pthread_mutex_lock(&sf->mu);
    sf->closed = true;
    pthread_mutex_unlock(&sf->mu);
}

bool pop3mock_script_factory_slot(pop3mock_script_factory *sf, size_t i, pop3mock_script_slot *out)
{
    if (i >= sf->nslots) return false;
    pthread_mutex_lock(&sf->mu);
    *out = sf->slots[i];
    pthread_mutex_unlock(&sf->mu);
    return true;
}
