/*
 * script_mode.c - pop3-mock SCRIPT...: every session of every script, one per connection.
 *
 * Sessions are played in order (the sessions of the first file, then of the next), one
 * per incoming connection, so a script with two sessions serves an [IN-USE] dialogue
 * (RFC 2449 section 8.1.2) to two clients that connect one after the other. The server
 * stops when every session has ended. Scripts are all parsed before the server listens,
 * and every certificate they name (!tls-cert) is loaded once to check it: a script error
 * or an unusable certificate is exit status 2 with no client ever connected.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "modes.h"
#include "pop3mock/script.h"

typedef struct slot {
    pop3mock_script *sc;
    size_t index;
    unsigned long conn; /* the connection playing it */
    bool started;
} slot;

typedef struct script_ctx {
    slot *slots;
    size_t nslots, next, ended, departed;
    const pop3mock_limits *lim;
    unsigned long counter;
    bool once;
    bool implicit_tls;
} script_ctx;

static pop3mock_session *open_session(void *vctx, unsigned long conn)
{
    script_ctx *ctx = vctx;
    (void)conn;
    if (ctx->next >= ctx->nslots) return NULL; /* every session was handed out */
    slot *sl = &ctx->slots[ctx->next];
    char ts[128];
    snprintf(ts, sizeof ts, "<%ld.%lu.%lld@pop3kit.mock>", (long)getpid(), ++ctx->counter,
             (long long)time(NULL));
    pop3mock_session *s =
        pop3mock_script_session_new(sl->sc, sl->index, ctx->lim, ts, ctx->implicit_tls);
    if (s == NULL) return NULL;
    sl->started = true;
    sl->conn = conn;
    ctx->next++;
    return s;
}

static void closed(void *vctx, unsigned long conn, pop3mock_session *s, pop3mock_end why)
{
    script_ctx *ctx = vctx;
    static const char *const names[] = {"closed by the server", "closed by the client",
                                        "idle timeout", "TLS failure", "server shutdown"};
    pop3mock_script_result r = pop3mock_script_session_finish(s, names[why]);
    if (r == POP3MOCK_SCRIPT_DEPARTED) {
        const char *report;
        pop3mock_script_session_result(s, &report);
        fputs(report, stderr);
        fflush(stderr);
        ctx->departed++;
    }
    (void)conn;
    ctx->ended++;
}

static bool finished(void *vctx)
{
    script_ctx *ctx = vctx;
    return ctx->ended == ctx->nslots || (ctx->once && ctx->ended > 0);
}

int pop3mock__run_scripts(const pop3mock_server_config *cfg, const pop3mock_maildrop_options *opt,
                          const char *const *files, size_t nfiles)
{
    script_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.lim = &opt->limits;
    ctx.once = cfg->once;
    ctx.implicit_tls = opt->implicit_tls;
    pop3mock_script **scripts = calloc(nfiles, sizeof *scripts);
    int rc = 2;
    char err[1024];
    if (scripts == NULL) goto out;
    for (size_t i = 0; i < nfiles; i++) {
        scripts[i] = pop3mock_script_load(files[i], err, sizeof err);
        if (scripts[i] == NULL) {
            fprintf(stderr, "%s\n", err);
            goto out;
        }
        ctx.nslots += pop3mock_script_sessions(scripts[i]);
    }
    bool any_cert = cfg->tls_cert != NULL;
    for (size_t i = 0; i < nfiles; i++) {
        const char *cert, *key;
        unsigned line;
        for (size_t j = 0; pop3mock_script_tls_cert(scripts[i], j, &cert, &key, &line); j++) {
            any_cert = true;
            char why[768];
            if (pop3mock_server_tls_check(cert, key, why, sizeof why) != 0) {
                fprintf(stderr, "%s:%u: !tls-cert: %s\n", files[i], line, why);
                goto out;
            }
        }
    }
    if (opt->implicit_tls && !any_cert) {
        fprintf(stderr, "pop3-mock: --implicit-tls needs --tls-cert or a !tls-cert in a "
                        "script (pop3-mock --help)\n");
        goto out;
    }
    ctx.slots = calloc(ctx.nslots, sizeof *ctx.slots);
    if (ctx.slots == NULL) goto out;
    size_t k = 0;
    for (size_t i = 0; i < nfiles; i++)
        for (size_t j = 0; j < pop3mock_script_sessions(scripts[i]); j++)
            ctx.slots[k++] = (slot){.sc = scripts[i], .index = j};
    pop3mock_factory f = {
        .open = open_session, .closed = closed, .finished = finished, .ctx = &ctx};
    int srv = pop3mock_server_run(cfg, &f, err, sizeof err);
    if (srv != 0) {
        fprintf(stderr, "pop3-mock: %s\n", err);
        rc = srv == -2 ? 2 : 3;
        goto out;
    }
    size_t expected = cfg->once ? 1 : ctx.nslots;
    size_t not_run = 0;
    for (size_t i = 0; i < expected && i < ctx.nslots; i++) {
        if (!ctx.slots[i].started) {
            fprintf(stderr, "%s: session %zu never ran: no client connected for it\n",
                    pop3mock_script_name(ctx.slots[i].sc), ctx.slots[i].index + 1);
            not_run++;
        }
    }
    rc = ctx.departed > 0 || not_run > 0 ? 1 : 0;
out:
    for (size_t i = 0; scripts != NULL && i < nfiles; i++)
        pop3mock_script_free(scripts[i]);
    free(scripts);
    free(ctx.slots);
    return rc;
}
