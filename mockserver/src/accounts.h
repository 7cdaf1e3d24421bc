/*
 * accounts.h - the maildrop mode's accounts (--maildrop/--user/--password, or --users
 * FILE) and the factory that opens a session on them per connection, for every front
 * end of the mock: the pop3-mock command and the embedding library.
 *
 * RFC 1939 section 7: the APOP timestamp must differ for every greeting; it is made
 * here as <pid.counter.time@host>, the host being --hostname (already a msg-id host).
 */
#ifndef POP3MOCK_ACCOUNTS_H
#define POP3MOCK_ACCOUNTS_H

#include <stddef.h>

#include "options.h"
#include "pop3mock/maildrop.h"
#include "pop3mock/server.h"

typedef struct pop3mock__accounts {
    pop3mock_maildrop *mds;
    pop3mock_maildrop **ptrs;
    size_t n;
    const pop3mock__options *opt;
    unsigned long sessions; /* greetings made so far (the server's thread alone) */
} pop3mock__accounts;

/*
 * pop3mock__accounts_load - load the maildrops `o` names; `o` must outlive `a`. Returns
 * 0; -1 with "--users FILE:LINE: reason" or "--maildrop reason" in `err` (a usage error);
 * -2 with "out of memory". `a` is empty after a failure.
 */
int pop3mock__accounts_load(pop3mock__accounts *a, const pop3mock__options *o, char *err,
                            size_t errlen);

/* The factory: one session on all the accounts per connection. */
pop3mock_factory pop3mock__accounts_factory(pop3mock__accounts *a);

void pop3mock__accounts_free(pop3mock__accounts *a);

#endif
