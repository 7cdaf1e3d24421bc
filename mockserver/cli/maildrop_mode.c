/*
 * maildrop_mode.c - pop3-mock --maildrop: one maildrop, a session per connection.
 *
 * RFC 1939 section 7: the APOP timestamp must differ for every greeting; it is made here,
 * where the process id and the clock are, as <pid.counter.time@host>.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "modes.h"

typedef struct maildrop_ctx {
    pop3mock_maildrop md;
    const pop3mock_maildrop_options *opt;
    char host[128];
    unsigned long counter;
} maildrop_ctx;

static pop3mock_session *open_session(void *vctx, unsigned long conn)
{
    maildrop_ctx *ctx = vctx;
    (void)conn;
    char ts[256];
    snprintf(ts, sizeof ts, "<%ld.%lu.%lld@%s>", (long)getpid(), ++ctx->counter,
             (long long)time(NULL), ctx->host);
    return pop3mock_maildrop_session_new(&ctx->md, ctx->opt, ts);
}

/* The host part must keep the timestamp a msg-id: printable, no space, no angle bracket. */
static void clean_host(char *out, size_t cap, const char *in)
{
    size_t k = 0;
    for (; *in != '\0' && k + 1 < cap; in++) {
        char c = *in;
        bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '-' || c == '_';
        if (okc) out[k++] = c;
    }
    if (k == 0) k = (size_t)snprintf(out, cap, "localhost");
    out[k] = '\0';
}

int pop3mock__run_maildrop(const pop3mock_server_config *cfg, const pop3mock_maildrop_options *opt,
                           const char *dir, const char *user, const char *password,
                           const char *hostname, int no_lock)
{
    maildrop_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    char err[512];
    if (pop3mock_maildrop_load(&ctx.md, dir, user, password, err, sizeof err) != 0) {
        fprintf(stderr, "pop3-mock: --maildrop %s\n", err);
        return 2;
    }
    ctx.md.no_lock = no_lock != 0;
    ctx.opt = opt;
    clean_host(ctx.host, sizeof ctx.host, hostname);
    pop3mock_factory f = {.open = open_session, .ctx = &ctx};
    int rc = pop3mock_server_run(cfg, &f, err, sizeof err);
    pop3mock_maildrop_free(&ctx.md);
    if (rc != 0) {
        fprintf(stderr, "pop3-mock: %s\n", err);
        return rc == -2 ? 2 : 3;
    }
    return 0;
}
