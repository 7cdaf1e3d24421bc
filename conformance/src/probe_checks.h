/*
 * probe_checks.h - the state the probe's checks share, and the checks (probe_session.c:
 * before login; probe_mailbox.c: after login; probe_auth.c: SASL mechanisms).
 */
#ifndef POP3_CONFORM_PROBE_CHECKS_H
#define POP3_CONFORM_PROBE_CHECKS_H

#include "pop3/parse.h"
#include "probe.h"

typedef struct probe_state {
    const probe_config *cfg;
    probe_findings *f;
    char *greeting;
    char *apop_ts; /* the APOP timestamp of the first greeting, NULL when none */
    unsigned greetings;
    pop3_capa_set caps; /* CAPA before login (after STLS when asked), as the codec parses it */
    bool caps_known;
    char login_error[300];
    bool seen_plus_err, seen_nul, seen_bare_lf, seen_capa_err;
} probe_state;

void probe_cmd(probe_conn *c, const char *line, probe_reply *r, bool multi);
void check_status_form(probe_state *st, const probe_reply *r, const char *what);
void check_line_forms(probe_state *st, const probe_reply *r, const char *what);
bool probe_capa(probe_state *st, probe_conn *c, pop3_capa_set *caps, const char *when);
bool check_greeting(probe_state *st, probe_conn *c, bool report);
bool probe_open(probe_state *st, probe_conn *c, bool report);
bool probe_login(probe_state *st, probe_conn *c);
void check_authorization_state(probe_state *st);
void check_bad_password(probe_state *st);
void check_apop(probe_state *st);
void check_bad_command_limit(probe_state *st);
void check_sasl_mechanisms(probe_state *st);
void check_transaction(probe_state *st, probe_conn *c);
void check_destructive(probe_state *st);

#endif
