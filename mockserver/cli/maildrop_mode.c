/*
 * maildrop_mode.c - pop3-mock --maildrop / --users: maildrops, a session per connection
 * (the accounts and their factory, with the RFC 1939 section 7 APOP timestamp, are the
 * engine's accounts.c). SIGHUP drops the deletions made so far (they live only in this
 * process: files on disk are never touched) and reads every maildrop again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "modes.h"

/* SIGHUP: forget the deletions, rescan (a maildrop in use is rescanned at its next
 * login, which every login does anyway). */
static void on_hup(void *vctx)
{
    pop3mock__accounts *a = vctx;
    for (size_t i = 0; i < a->n; i++) {
        char err[512];
        if (pop3mock_maildrop_reset(&a->mds[i], err, sizeof err) != 0)
            pop3mock__say("SIGHUP: %s", err);
    }
}

int pop3mock__run_maildrop(const mock_cli *o)
{
    pop3mock__accounts a;
    char err[1024];
    int lrc = pop3mock__accounts_load(&a, &o->opt, err, sizeof err);
    if (lrc != 0) {
        pop3mock__say("%s", err);
        return lrc == -2 ? EXIT_RUNTIME : EXIT_USAGE;
    }
    int rc = EXIT_USAGE;
    pop3mock_factory f = pop3mock__accounts_factory(&a);
    pop3mock_server *srv = pop3mock_server_new(&o->opt.cfg, &f, err, sizeof err);
    if (srv == NULL) {
        pop3mock__say("%s", err);
        goto out;
    }
    int sig;
    rc = pop3mock__serve(srv, o, on_hup, &a, &sig);
    if (rc == 0 && sig != 0)
        pop3mock__say("stopped by %s after %lu sessions", sig == 2 ? "SIGINT" : "SIGTERM",
                      a.sessions);
out:
    pop3mock_server_free(srv);
    pop3mock__accounts_free(&a);
    return rc;
}
