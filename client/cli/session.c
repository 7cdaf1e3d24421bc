/*
 * session.c - how the `pop3` command opens a session: implicit TLS (RFC 8314 section
 * 3.1) or TCP, STLS when required (RFC 2595 section 4; nothing but CAPA and STLS is sent
 * in clear then, RFC 8314 section 5.2), and the login the options ask for (RFC 1939
 * section 7 USER/PASS and APOP, RFC 5034 AUTH).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_exit_status(int error)
{
    switch (error) {
    case POP3_OK: return EXIT_OK;
    case POP3_ESERVER:
    case POP3_ESTATE: /* the server cannot do what was asked (no APOP timestamp, no usable
                         login): the server's answer, not a fault of ours */
        return EXIT_SERVER;
    case POP3_EUSAGE: return EXIT_USAGE;
    case POP3_EIO:
    case POP3_ETLS:
    case POP3_ETIMEOUT:
    case POP3_ECLOSED: return EXIT_CONNECTION;
    default: return EXIT_PROTOCOL; /* EPROTO, ELIMIT, ENOMEM */
    }
}

int cli_report(pop3_client *c, int error, const char *what)
{
    const char *msg = c ? pop3_errmsg(c) : "";
    if (!msg || !*msg) msg = pop3_strerror(error);
    /* The client's message often names the command already ("STLS: ..."). */
    size_t n = strlen(what);
    if (strncmp(msg, what, n) == 0 && msg[n] == ':')
        fprintf(stderr, "pop3: %s\n", msg);
    else
        fprintf(stderr, "pop3: %s: %s\n", what, msg);
    return cli_exit_status(error);
}

int cli_number(const char *s, uint64_t *out, bool allow_zero)
{
    uint64_t v = 0;
    if (!s || !*s) return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v == 0 && !allow_zero) return -1;
    *out = v;
    return 0;
}

int cli_connect(pop3_client **out, const cli_options *o)
{
    pop3_options opt;
    pop3_options_default(&opt);
    opt.require_tls = o->starttls || o->tls;
    opt.allow_apop = true; /* DESIGN.md: strongest SASL, then APOP, then USER/PASS */
    pop3_client *c = NULL;
    int rc = pop3_client_new(&c, &opt);
    if (rc != POP3_OK) {
        fprintf(stderr, "pop3: %s\n", pop3_strerror(rc));
        return rc;
    }
    if (o->verbose > 0) {
        pop3_set_debug_stream(c, stderr);
        pop3_set_debuglevel(c, o->verbose > 2 ? 2 : o->verbose);
    }
    pop3_tls_options tls;
    memset(&tls, 0, sizeof tls);
    tls.ca_file = o->cafile;
    tls.insecure = o->insecure;
    double timeout = o->timeout >= 0 ? o->timeout : POP3_TIMEOUT_DEFAULT;
    if (o->tls)
        rc = pop3_connect_tls(c, o->host, o->port ? o->port : POP3_TLS_PORT, timeout, &tls);
    else
        rc = pop3_connect(c, o->host, o->port ? o->port : POP3_PORT, timeout);
    if (rc != POP3_OK) {
        cli_report(c, rc, "connect");
        pop3_client_free(c);
        return rc;
    }
    if (o->starttls && !o->tls) {
        rc = pop3_stls(c, &tls);
        if (rc != POP3_OK) {
            /* A refused or missing STLS is a TLS failure for the user: they asked for it. */
            if (rc == POP3_ESERVER) rc = POP3_ETLS;
            cli_report(c, rc, "STLS");
            pop3_client_free(c);
            return rc;
        }
    }
    *out = c;
    return POP3_OK;
}

static bool bearer_mechanism(const char *mech)
{
    return mech && (strcmp(mech, "XOAUTH2") == 0 || strcmp(mech, "OAUTHBEARER") == 0);
}

int cli_login(pop3_client *c, const cli_options *o)
{
    if (!o->user || !o->password) {
        fprintf(stderr, "pop3: a user (-u) and a password (POP3_PASSWORD or --password-file) "
                        "are needed\n");
        return POP3_EUSAGE;
    }
    int rc;
    const char *what;
    if (o->apop) {
        what = "APOP";
        rc = pop3_apop(c, o->user, o->password);
    } else {
        pop3_credentials cred;
        memset(&cred, 0, sizeof cred);
        cred.user = o->user;
        cred.secret = o->password;
        if (o->auth) {
            what = "AUTH";
            cred.bearer = bearer_mechanism(o->auth);
            rc = pop3_auth(c, o->auth, &cred);
        } else {
            what = "login";
            rc = pop3_login(c, &cred);
        }
    }
    if (rc != POP3_OK) cli_report(c, rc, what);
    return rc;
}
