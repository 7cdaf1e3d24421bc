/*
 * cli.h - what the parts of the `pop3` command share: its options, the session set-up
 * (connect, TLS, login), and the mapping of errors to exit statuses: 0 ok, 1 the server
 * said -ERR, 2 usage, 3 connection / TLS / timeout, 4 protocol violation or limit
 * exceeded, 5 a local storage error (Maildir, state file).
 */
#ifndef POP3_CLI_H
#define POP3_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3/client.h"
#include "pop3/error.h"

enum {
    EXIT_OK = 0,
    EXIT_SERVER = 1,
    EXIT_USAGE = 2,
    EXIT_CONNECTION = 3,
    EXIT_PROTOCOL = 4,
    EXIT_LOCAL = 5,
    EXIT_SIGINT = 130, /* 128 + SIGINT, as shells report it */
    EXIT_SIGTERM = 143,
};

/* The I/O and connect timeout of `pop3` when --timeout is not given, in seconds. */
#define CLI_TIMEOUT_DEFAULT (POP3_DEFAULT_TIMEOUT_MS / 1000)
/* The largest --timeout, in seconds (a day): beyond it a wait is no timeout at all. */
#define CLI_TIMEOUT_MAX     86400

typedef struct cli_options {
    char *host;    /* malloc'd: from -H or a URL, brackets of an IPv6 literal removed */
    unsigned port; /* 0: 110, or 995 with --tls */
    const char *user;
    char *user_owned; /* a user from a URL or the netrc file (then `user` points here) */
    char *password;   /* see cli_password; never printed */
    const char *password_file;
    const char *password_command;
    const char *netrc_file;
    bool apop;
    const char *auth; /* SASL mechanism, or NULL to let the client choose */
    bool tls;         /* implicit TLS */
    bool starttls;    /* STLS required before login */
    const char *cafile;
    bool insecure;
    double timeout; /* seconds; 0: none */
    int verbose;
    /* fetch */
    bool delete_after;
    bool keep_crlf;        /* store messages as transferred (CRLF); else LF line ends */
    uint64_t max_messages; /* 0: all */
    uint64_t max_size;     /* 0: any size */
    const char *uidl_state;
    bool progress; /* force the progress line even when stderr is no terminal */
    bool no_fsync; /* hidden: benchmarks of everything but the disk */
} cli_options;

/* The exit status for a pop3_error. */
int cli_exit_status(int error);

/* Print "pop3: <what>: <the client's error message>" on stderr; returns the status.
 * A certificate that could not be verified gets a hint at --cafile and --insecure. */
int cli_report(pop3_client *c, int error, const char *what);

/* Set by the SIGINT/SIGTERM handler of `fetch` (the signal number): the transport of
 * cli_connect then stops waiting within a fraction of a second. */
extern volatile sig_atomic_t cli_interrupted;

/* Connect as the options say (TCP or implicit TLS; STLS when --starttls). */
int cli_connect(pop3_client **out, const cli_options *o);

/* Log in as the options say (--apop, --auth MECH, or the client's own choice). */
int cli_login(pop3_client *c, const cli_options *o);

/* Trace a body chunk at -vv (fetch, retr, top): its lines, escaped, on stderr. */
void cli_trace_body(const cli_options *o, const char *data, size_t len);

/* Parse a number given on the command line (a message number, a line count, an option's
 * value) with the codec's pop3_parse_number, the one decimal parser of pop3kit: digits
 * only, no sign, blank or prefix, at most 2^64-1; then require `min` <= value <= `max`.
 * 0 with `*out` set, or -1 (`*out` untouched): the caller names the range it wants. */
int cli_number(const char *s, uint64_t min, uint64_t max, uint64_t *out);

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
