/*
 * accounts.c - the maildrop mode's accounts and their session factory (RFC 1939
 * section 7: a fresh APOP timestamp for every greeting, <pid.counter.time@host>, made
 * here where the process id and the clock are).
 */
#define _POSIX_C_SOURCE 200809L
#include "accounts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "users_file.h"

int pop3mock__accounts_load(pop3mock__accounts *a, const pop3mock__options *o, char *err,
                            size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->opt = o;
    char why[1024];
    if (o->users_file != NULL) {
        if (pop3mock__users_load(o->users_file, &a->mds, &a->n, why, sizeof why) != 0) {
            snprintf(err, errlen, "--users %s", why);
            return -1;
        }
    } else {
        a->mds = calloc(1, sizeof *a->mds);
        if (a->mds == NULL) {
            snprintf(err, errlen, "out of memory");
            return -2;
        }
        if (pop3mock_maildrop_load(a->mds, o->maildrop, o->user, o->password, why, sizeof why) !=
            0) {
            snprintf(err, errlen, "--maildrop %s", why);
            free(a->mds);
            a->mds = NULL;
            return -1;
        }
        a->n = 1;
    }
    a->ptrs = calloc(a->n, sizeof *a->ptrs);
    if (a->ptrs == NULL) {
        snprintf(err, errlen, "out of memory");
        pop3mock__accounts_free(a);
        return -2;
    }
    for (size_t i = 0; i < a->n; i++) {
        a->mds[i].no_lock = o->no_lock;
        a->ptrs[i] = &a->mds[i];
    }
    return 0;
}

static pop3mock_session *open_session(void *ctx, unsigned long conn)
{
    pop3mock__accounts *a = ctx;
    (void)conn;
    char ts[256];
    snprintf(ts, sizeof ts, "<%ld.%lu.%lld@%s>", (long)getpid(), ++a->sessions,
             (long long)time(NULL), a->opt->hostname);
    return pop3mock_accounts_session_new(a->ptrs, a->n, &a->opt->mopt, ts);
}

pop3mock_factory pop3mock__accounts_factory(pop3mock__accounts *a)
{
    return (pop3mock_factory){.open = open_session, .ctx = a};
}

void pop3mock__accounts_free(pop3mock__accounts *a)
{
    for (size_t i = 0; i < a->n; i++)
        pop3mock_maildrop_free(&a->mds[i]);
    free(a->mds);
    free(a->ptrs);
    memset(a, 0, sizeof *a);
}
