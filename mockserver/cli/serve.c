/*
 * serve.c - the process side of pop3-mock: signals, the descriptor limit, the ready
 * line and the port file, around the library's server loop.
 *
 * The library touches nothing of the process; the command does. SIGTERM and SIGINT call
 * pop3mock_server_stop (async-signal-safe: an atomic flag and an eventfd write), so the
 * loop ends every connection and returns, and the command exits 0 after its report.
 * SIGHUP sets a flag and wakes the loop; the mode's hook runs between two steps (the
 * maildrop mode drops its pending deletions and rescans). The port file is written once
 * the socket listens, under a temporary name then renamed, so a reader never sees a
 * partial number.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli_usage.h"
#include "modes.h"

static pop3mock_server *volatile signal_server;
static volatile sig_atomic_t got_stop, got_hup;

static void on_stop(int sig)
{
    got_stop = sig;
    if (signal_server != NULL) pop3mock_server_stop(signal_server);
}

static void on_hup(int sig)
{
    (void)sig;
    got_hup = 1;
    if (signal_server != NULL) pop3mock_server_wake(signal_server);
}

void pop3mock__say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pop3__vsay("pop3-mock", fmt, ap);
    va_end(ap);
}

/* Many sessions need many descriptors: take the hard limit (load tests run 1000). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int write_port_file(const char *path, unsigned port)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (tmp == NULL) return -1;
    snprintf(tmp, n, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (f != NULL) {
        int w = fprintf(f, "%u\n", port);
        if (fclose(f) == 0 && w > 0 && rename(tmp, path) == 0) rc = 0;
    }
    if (rc != 0) {
        pop3mock__say("--port-file %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static void install(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

int pop3mock__serve(pop3mock_server *srv, const mock_cli *o, mock_hup_fn hup, void *ctx,
                    int *signalled)
{
    char err[512];
    *signalled = 0;
    raise_fd_limit();
    /* A client that vanishes mid-write is an error return, never a signal: the library
     * sends with MSG_NOSIGNAL; this covers anything else that writes to a socket. */
    install(SIGPIPE, SIG_IGN);
    got_stop = got_hup = 0;
    signal_server = srv;
    install(SIGTERM, on_stop);
    install(SIGINT, on_stop);
    install(SIGHUP, on_hup);
    int rc = 0;
    if (pop3mock_server_bind(srv, err, sizeof err) != 0) {
        pop3mock__say("%s", err);
        rc = EXIT_RUNTIME;
        goto out;
    }
    /* The port file first: whoever waits for the ready line may read it at once. */
    if (o->opt.port_file != NULL &&
        write_port_file(o->opt.port_file, pop3mock_server_port(srv)) != 0) {
        rc = EXIT_RUNTIME;
        goto out;
    }
    char addr[320];
    pop3mock_server_address(srv, addr, sizeof addr);
    printf("pop3-mock listening on %s\n", addr);
    fflush(stdout);
    int step;
    while ((step = pop3mock_server_step(srv, -1, err, sizeof err)) == 1) {
        if (got_hup) {
            got_hup = 0;
            if (hup != NULL) hup(ctx);
        }
    }
    if (step < 0) {
        pop3mock__say("%s", err);
        rc = EXIT_RUNTIME;
    }
out:
    install(SIGTERM, SIG_DFL);
    install(SIGINT, SIG_DFL);
    install(SIGHUP, SIG_DFL);
    signal_server = NULL;
    *signalled = got_stop;
    return rc;
}
