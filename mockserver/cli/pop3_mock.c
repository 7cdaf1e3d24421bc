/*
 * pop3_mock.c - the `pop3-mock` command: options (getopt_long over the options module
 * table, whose names, values and messages the embedding library shares), then a mode.
 *
 * pop3-mock [options] (SCRIPT... | --case FILE | --maildrop DIR --user U --password P |
 *                      --users FILE)
 * The command-line contract (names, the ready line, exit statuses) is relied on by tests
 * outside this repository; the man page pop3-mock.1 documents it.
 *
 * Exit status: 0 every session went as it should (maildrop mode: the server stopped
 * cleanly, also on SIGTERM or SIGINT); 1 a client departed from a script; 2 usage, script
 * or configuration error (reported before any client can connect); 3 the server could
 * not run (address in use, I/O failure). A usage error is two lines on stderr:
 * "pop3-mock: MESSAGE" and "try 'pop3-mock --help'".
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_usage.h"
#include "modes.h"
#include "pop3mock/quirks.h"

static void usage(FILE *f)
{
    fputs("usage: pop3-mock [options] SCRIPT...\n"
          "       pop3-mock [options] --case FILE\n"
          "       pop3-mock [options] --maildrop DIR --user U --password P\n"
          "       pop3-mock [options] --users FILE\n"
          "\n"
          "  --listen ADDR:PORT      where to listen (127.0.0.1:0; port 0 picks a free one)\n"
          "  --port-file FILE        write the bound port to FILE once listening\n"
          "  --once                  serve one connection, then exit\n"
          "  --idle-timeout SECONDS  close a silent connection (600; 0 = never)\n"
          "  --max-sessions N        connections at once (4096)\n"
          "  --log FILE              transcript of both directions, timestamped\n"
          "  --log-format text|json  transcript format (text)\n"
          "  --tls-cert PEM          certificate chain: enables STLS\n"
          "  --tls-key PEM           private key (default: the --tls-cert file)\n"
          "  --implicit-tls          TLS handshake before the greeting (port 995 style)\n"
          "  --tls-max VERSION       highest TLS version offered: 1.0, 1.1, 1.2 or 1.3\n"
          "  --max-command OCTETS    longest command line, CRLF included (255)\n"
          "  --max-sasl-line OCTETS  longest SASL response line (16384)\n"
          "  --max-input OCTETS      client octets buffered per session (65536)\n"
          "  --output-buffer OCTETS  output queued per session before it waits (65536)\n"
          "  --max-output OCTETS     output queued per session at most; past it the\n"
          "                          session ends (16777216)\n"
          "script mode:\n"
          "  SCRIPT...               dialogue scripts, one session per connection\n"
          "  --case FILE             the dialogue of a conformance case file\n"
          "  --max-steps N           steps (S:, C: lines, directives) in one scripted\n"
          "                          session (1048576)\n"
          "maildrop mode:\n"
          "  --maildrop DIR          a Maildir (cur/, new/) or a folder of message files\n"
          "  --user U --password P   the one account (the password is also the APOP secret)\n"
          "  --users FILE            accounts, one per line: USER PASSWORD MAILDIR\n"
          "  --no-lock               several sessions of a user at once (no [IN-USE])\n"
          "  --quirk NAME[=ARG]      misbehave in a named way (repeatable; --list-quirks)\n"
          "  --preset NAME           imitate a server: dovecot, popa3d, cyrus, qmail,\n"
          "                          exchange\n"
          "  --hostname NAME         host part of the APOP timestamp (pop3kit.mock)\n"
          "  --sasl-all              CAPA lists SASL PLAIN LOGIN CRAM-MD5 (default: PLAIN\n"
          "                          under TLS, CRAM-MD5 in clear)\n"
          "  --plain-in-clear        list and accept SASL PLAIN without TLS too\n"
          "                          (RFC 2595 section 6 wants TLS first)\n"
          "  --allow-plaintext       USER and plaintext SASL without TLS even where a\n"
          "                          preset refuses them (Dovecot counts loopback as secure)\n"
          "  --utf8-strict           RETR/TOP of a message with 8-bit headers: -ERR [UTF8]\n"
          "                          until the client sends UTF8 (RFC 6856 section 2.2)\n"
          "\n"
          "  --list-quirks           the quirks and what each does\n"
          "  -h, --help              this text\n"
          "  --version               the version\n"
          "\n"
          "Signals: SIGTERM and SIGINT stop the server cleanly (exit 0 in maildrop mode);\n"
          "SIGHUP drops the deletions made so far and reads the maildrops again.\n"
          "Exit status: 0 ok, 1 a client departed from a script, 2 usage or configuration\n"
          "error, 3 the server could not run.\n",
          f);
}

static void list_quirks(void)
{
    for (unsigned id = 0; pop3mock_quirk_name(id) != NULL; id++)
        printf("%-22s %s\n", pop3mock_quirk_name(id), pop3mock_quirk_help(id));
}

/* A usage error: "pop3-mock: MESSAGE" and the hint on stderr; returns exit status 2. */
#define bad(...) pop3__usage_error("pop3-mock", __VA_ARGS__)

/* The command's own options; every other comes from the options module's table. */
enum { OPT_MODULE = 256, OPT_LIST_QUIRKS = 1, OPT_VERSION = 2 };
static const struct option own_options[] = {
    {"list-quirks", no_argument, NULL, OPT_LIST_QUIRKS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
};
#define NOWN (sizeof own_options / sizeof own_options[0])

/* getopt_long's table: the module's options (val OPT_MODULE + their index), then the
 * command's own, then the terminator. NULL when out of memory. */
static struct option *long_options_new(void)
{
    size_t n = 0;
    while (pop3mock__option_name(n) != NULL)
        n++;
    struct option *t = calloc(n + NOWN + 1, sizeof *t);
    if (t == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *name = pop3mock__option_name(i);
        t[i] = (struct option){name, pop3mock__option_kind(name) ? required_argument : no_argument,
                               NULL, OPT_MODULE + (int)i};
    }
    memcpy(&t[n], own_options, sizeof own_options);
    return t; /* calloc left the terminator zero */
}

/* Everything but the allocation of `scripts`, so that every return frees it. */
static int run(int argc, char **argv, const char **scripts, const struct option *long_options)
{
    mock_cli o;
    memset(&o, 0, sizeof o);
    pop3mock__options_default(&o.opt);
    o.scripts = scripts;
    char err[512];
    opterr = 0; /* the messages below are ours: two lines, the contract's words */
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (opt) {
        case 'h': usage(stdout); return 0;
        case OPT_VERSION: return pop3__print_version("pop3-mock");
        case OPT_LIST_QUIRKS: list_quirks(); return 0;
        case ':':
        case '?': return pop3__getopt_error("pop3-mock", opt, argv, long_options);
        default:
            if (opt < OPT_MODULE) return bad("internal error: option %d", opt);
            if (pop3mock__options_set(&o.opt, long_options[opt - OPT_MODULE].name, optarg, err,
                                      sizeof err) != 0)
                return bad("%s", err);
            break;
        }
    }
    while (optind < argc)
        scripts[o.nscripts++] = argv[optind++];
    if (pop3mock__options_check(&o.opt, o.nscripts, err, sizeof err) != 0) return bad("%s", err);
    if (o.opt.maildrop != NULL || o.opt.users_file != NULL) return pop3mock__run_maildrop(&o);
    return pop3mock__run_scripts(&o);
}

int main(int argc, char **argv)
{
    const char **scripts = calloc((size_t)argc + 1, sizeof *scripts);
    struct option *long_options = long_options_new();
    int rc = scripts != NULL && long_options != NULL ? run(argc, argv, scripts, long_options)
                                                     : EXIT_RUNTIME;
    free(long_options);
    free(scripts);
    return rc;
}
