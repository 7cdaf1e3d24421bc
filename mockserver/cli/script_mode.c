/*
 * script_mode.c - pop3-mock SCRIPT... and pop3-mock --case FILE: every session of every
 * script, one per connection (the library's script factory).
 *
 * Scripts are all parsed before the server listens, and every certificate they name
 * (!tls-cert) is loaded once to check it: a script error or an unusable certificate is
 * exit status 2 with no client ever connected. A departure is reported on stderr as soon
 * as its session ends; sessions that never ran are listed when the server stops.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_usage.h"
#include "modes.h"
#include "pop3mock/case_file.h"
#include "pop3mock/script.h"
#include "pop3mock/script_factory.h"

typedef struct report_ctx {
    size_t departed;
} report_ctx;

static void session_end(void *ctx, const pop3mock_session_end *e)
{
    report_ctx *r = ctx;
    if (e->verdict != POP3MOCK_SCRIPT_DEPARTED) return;
    fputs(e->report, stderr);
    fflush(stderr);
    r->departed++;
}

/* Every certificate the scripts name must load; `any` says whether one was named. */
static int check_certs(pop3mock_script *const *scripts, const char *const *names, size_t n,
                       bool *any)
{
    for (size_t i = 0; i < n; i++) {
        const char *cert, *key;
        unsigned line;
        for (size_t j = 0; pop3mock_script_tls_cert(scripts[i], j, &cert, &key, &line); j++) {
            *any = true;
            char why[768];
            if (pop3mock_server_tls_check(cert, key, why, sizeof why) != 0) {
                fprintf(stderr, "%s:%u: !tls-cert: %s\n", names[i], line, why);
                return -1;
            }
        }
    }
    return 0;
}

int pop3mock__run_scripts(const mock_cli *o)
{
    size_t nfiles = o->opt.case_file != NULL ? 1 : o->nscripts;
    const char *const *files = o->opt.case_file != NULL ? &o->opt.case_file : o->scripts;
    pop3mock_script **scripts = calloc(nfiles, sizeof *scripts);
    pop3mock_script_factory *sf = NULL;
    pop3mock_server *srv = NULL;
    int rc = EXIT_USAGE;
    char err[1024];
    if (scripts == NULL) goto out;
    for (size_t i = 0; i < nfiles; i++) {
        scripts[i] = o->opt.case_file != NULL
                         ? pop3mock_case_load_with(files[i], &o->opt.sopt, err, sizeof err)
                         : pop3mock_script_load_with(files[i], &o->opt.sopt, err, sizeof err);
        if (scripts[i] == NULL) {
            fprintf(stderr, "%s\n", err);
            goto out;
        }
    }
    bool any_cert = o->opt.cfg.tls_cert != NULL;
    if (check_certs(scripts, files, nfiles, &any_cert) != 0) goto out;
    if (o->opt.mopt.implicit_tls && !any_cert) {
        pop3__usage_error("pop3-mock",
                          "--implicit-tls needs --tls-cert or a !tls-cert in a script");
        goto out;
    }
    sf = pop3mock_script_factory_new(scripts, nfiles, &o->opt.mopt.limits, o->opt.mopt.implicit_tls,
                                     o->opt.cfg.once);
    if (sf == NULL) {
        pop3mock__say("out of memory");
        rc = EXIT_RUNTIME;
        goto out;
    }
    report_ctx rep = {0};
    pop3mock_server_config cfg = o->opt.cfg;
    cfg.on_session_end = session_end;
    cfg.callback_ctx = &rep;
    pop3mock_factory f = pop3mock_script_factory_get(sf);
    srv = pop3mock_server_new(&cfg, &f, err, sizeof err);
    if (srv == NULL) {
        pop3mock__say("%s", err);
        goto out;
    }
    int sig;
    rc = pop3mock__serve(srv, o, NULL, NULL, &sig);
    pop3mock_server_free(srv); /* ends what is left: reported by session_end */
    srv = NULL;
    if (rc != 0) goto out;
    size_t total = pop3mock_script_factory_sessions(sf);
    size_t expected = o->opt.cfg.once ? 1 : total;
    size_t not_run = 0;
    pop3mock_script_slot sl;
    for (size_t i = 0; i < expected && pop3mock_script_factory_slot(sf, i, &sl); i++) {
        if (!sl.started) {
            fprintf(stderr, "%s: session %zu never ran: no client connected for it\n",
                    pop3mock_script_name(sl.script), sl.index + 1);
            not_run++;
        }
    }
    rc = rep.departed > 0 || not_run > 0 ? EXIT_DEPARTED : 0;
out:
    pop3mock_server_free(srv);
    pop3mock_script_factory_free(sf);
    for (size_t i = 0; scripts != NULL && i < nfiles; i++)
        pop3mock_script_free(scripts[i]);
    free(scripts);
    return rc;
}
