/*
 * probe_auth.c - which SASL mechanisms of the server's CAPA actually log in (RFC 5034),
 * each on a connection of its own, run by the reference client's own mechanisms (PLAIN,
 * LOGIN, CRAM-MD5) so that the probe tests the server, not a second implementation.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "pop3/client.h"
#include "pop3/error.h"
#include "probe_checks.h"

static int try_mechanism(const probe_config *cfg, const char *mech, char *why, size_t len)
{
    pop3_options opt;
    pop3_options_default(&opt);
    opt.timeout_ms = cfg->timeout_ms;
    opt.connect_timeout_ms = cfg->timeout_ms;
    opt.tls = cfg->tlsopt;
    pop3_client *c = NULL;
    int rc = pop3_client_new(&c, &opt);
    if (rc != POP3_OK) return rc;
    rc = cfg->tls ? pop3_connect_tls(c, cfg->host, cfg->port, POP3_TIMEOUT_DEFAULT, &cfg->tlsopt)
                  : pop3_connect(c, cfg->host, cfg->port, POP3_TIMEOUT_DEFAULT);
    if (rc == POP3_OK && cfg->starttls) rc = pop3_stls(c, &cfg->tlsopt);
    if (rc == POP3_OK) rc = pop3_capa(c, NULL);
    if (rc == POP3_OK) {
        pop3_credentials cr = {.user = cfg->user, .secret = cfg->password};
        rc = pop3_auth(c, mech, &cr);
    }
    snprintf(why, len, "%s", rc == POP3_OK ? "" : pop3_errmsg(c));
    if (pop3_is_connected(c)) pop3_quit(c);
    pop3_client_free(c);
    return rc;
}

void check_sasl_mechanisms(probe_state *st)
{
    static const char *const mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5"};
    bool any = false;
    for (size_t i = 0; i < sizeof mechs / sizeof mechs[0]; i++) {
        if (!pop3_capa_has_param(&st->caps, "SASL", mechs[i])) continue;
        any = true;
        char why[400];
        int rc = try_mechanism(st->cfg, mechs[i], why, sizeof why);
        if (rc == POP3_OK) strlist_add(&st->f->sasl_works, mechs[i]);
        if (rc == POP3_OK)
            finding(st->f, F_PASS, "RFC5034-4.11", NULL, "AUTH %s works", mechs[i]);
        else
            finding(st->f, F_DEV, "RFC5034-4.11", NULL, "AUTH %s is announced but fails: %s",
                    mechs[i], why);
    }
    if (!any && st->caps_known)
        finding(st->f, F_NOTE, "RFC5034-3.1", NULL,
                "no SASL mechanism this probe knows (PLAIN, LOGIN, CRAM-MD5) is announced");
    if (pop3_capa_has_param(&st->caps, "SASL", "PLAIN") && !st->cfg->tls && !st->cfg->starttls)
        finding(st->f, F_DEV, "RFC2595-6", NULL,
                "SASL PLAIN is offered on a connection without TLS");
}
