/*
 * cli.h - what the parts of the `pop3` command share: its options, the session set-up
 * (connect, TLS, login), and the mapping of errors to exit statuses (DESIGN.md:
 * 0 ok, 1 the server said -ERR, 2 usage, 3 connection / TLS / timeout, 4 protocol
 * violation or limit exceeded).
 */
#ifndef POP3_CLI_H
#define POP3_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "pop3/client.h"
#include "pop3/error.h"

enum {
    EXIT_OK = 0,
    EXIT_SERVER = 1,
    EXIT_USAGE = 2,
    EXIT_CONNECTION = 3,
    EXIT_PROTOCOL = 4,
};

typedef struct cli_options {
    const char *host;
    unsigned port; /* 0: 110, or 995 with --tls */
    const char *user;
    char *password; /* from POP3_PASSWORD or --password-file; never printed */
    const char *password_file;
    bool apop;
    const char *auth; /* SASL mechanism, or NULL to let the client choose */
    bool tls;         /* implicit TLS */
    bool starttls;    /* STLS required before login */
    const char *cafile;
    bool insecure;
    double timeout; /* seconds; negative: the library's defaults */
    int verbose;
    /* fetch */
    bool delete_after;
    const char *uidl_state;
    bool progress; /* force the progress line even when stderr is no terminal */
    bool no_fsync; /* hidden: benchmarks of everything but the disk */
} cli_options;

/* The exit status for a pop3_error. */
int cli_exit_status(int error);

/* Print "pop3: <what>: <the client's error message>" on stderr; returns the status. */
int cli_report(pop3_client *c, int error, const char *what);

/* Connect as the options say (TCP or implicit TLS; STLS when --starttls). */
int cli_connect(pop3_client **out, const cli_options *o);

/* Log in as the options say (--apop, --auth MECH, or the client's own choice). */
int cli_login(pop3_client *c, const cli_options *o);

/* Parse a message number or a line count: decimal, no sign. 0 on success. */
int cli_number(const char *s, uint64_t *out, bool allow_zero);

/* The commands; argv holds the command's own arguments. */
int cli_capa(const cli_options *o, int argc, char **argv);
int cli_stat(const cli_options *o, int argc, char **argv);
int cli_list(const cli_options *o, int argc, char **argv);
int cli_uidl(const cli_options *o, int argc, char **argv);
int cli_retr(const cli_options *o, int argc, char **argv);
int cli_top(const cli_options *o, int argc, char **argv);
int cli_dele(const cli_options *o, int argc, char **argv);
int cli_noop(const cli_options *o, int argc, char **argv);
int cli_fetch(const cli_options *o, int argc, char **argv);

#endif
