/*
 * maildrop_mode.c - pop3-mock --maildrop / --users: maildrops, a session per connection.
 *
 * RFC 1939 section 7: the APOP timestamp must differ for every greeting; it is made here,
 * where the process id and the clock are, as <pid.counter.time@host>. SIGHUP drops the
 * deletions made so far (they live only in this process: files on disk are never
 * touched) and reads every maildrop again.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "modes.h"
#include "users_file.h"

typedef struct maildrop_ctx {
    pop3mock_maildrop *mds;
    pop3mock_maildrop **ptrs;
    size_t n;
    const pop3mock_maildrop_options *opt;
    const char *host; /* --hostname, already a msg-id host (the options module) */
    unsigned long counter, sessions;
} maildrop_ctx;

static pop3mock_session *open_session(void *vctx, unsigned long conn)
{
    maildrop_ctx *ctx = vctx;
    (void)conn;
    char ts[256];
    snprintf(ts, sizeof ts, "<%ld.%lu.%lld@%s>", (long)getpid(), ++ctx->counter,
             (long long)time(NULL), ctx->host);
    ctx->sessions++;
    return pop3mock_accounts_session_new(ctx->ptrs, ctx->n, ctx->opt, ts);
}

/* SIGHUP: forget the deletions, rescan (a maildrop in use is rescanned at its next
 * login, which every login does anyway). */
static void on_hup(void *vctx)
{
    maildrop_ctx *ctx = vctx;
    for (size_t i = 0; i < ctx->n; i++) {
        char err[512];
        if (pop3mock_maildrop_reset(&ctx->mds[i], err, sizeof err) != 0)
            pop3mock__say("SIGHUP: %s", err);
    }
}

int pop3mock__run_maildrop(const mock_cli *o)
{
    maildrop_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    char err[1024];
    int rc = EXIT_USAGE;
    pop3mock_server *srv = NULL;
    if (o->opt.users_file != NULL) {
        if (pop3mock__users_load(o->opt.users_file, &ctx.mds, &ctx.n, err, sizeof err) != 0) {
            pop3mock__say("--users %s", err);
            return EXIT_USAGE;
        }
    } else {
        ctx.mds = calloc(1, sizeof *ctx.mds);
        if (ctx.mds == NULL) return EXIT_RUNTIME;
        if (pop3mock_maildrop_load(ctx.mds, o->opt.maildrop, o->opt.user, o->opt.password, err,
                                   sizeof err) != 0) {
            pop3mock__say("--maildrop %s", err);
            free(ctx.mds);
            return EXIT_USAGE;
        }
        ctx.n = 1;
    }
    ctx.ptrs = calloc(ctx.n, sizeof *ctx.ptrs);
    if (ctx.ptrs == NULL) {
        rc = EXIT_RUNTIME;
        goto out;
    }
    for (size_t i = 0; i < ctx.n; i++) {
        ctx.mds[i].no_lock = o->opt.no_lock;
        ctx.ptrs[i] = &ctx.mds[i];
    }
    ctx.opt = &o->opt.mopt;
    ctx.host = o->opt.hostname;
    pop3mock_factory f = {.open = open_session, .ctx = &ctx};
    srv = pop3mock_server_new(&o->opt.cfg, &f, err, sizeof err);
    if (srv == NULL) {
        pop3mock__say("%s", err);
        goto out;
    }
    int sig;
    rc = pop3mock__serve(srv, o, on_hup, &ctx, &sig);
    if (rc == 0 && sig != 0)
        pop3mock__say("stopped by %s after %lu sessions", sig == 2 ? "SIGINT" : "SIGTERM",
                      ctx.sessions);
out:
    pop3mock_server_free(srv);
    for (size_t i = 0; i < ctx.n; i++)
        pop3mock_maildrop_free(&ctx.mds[i]);
    free(ctx.mds);
    free(ctx.ptrs);
    return rc;
}
