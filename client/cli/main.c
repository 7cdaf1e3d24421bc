/*
 * main.c - the `pop3` command: options and dispatch (the manual page is pop3.1).
 *
 * Conventions every pop3kit program follows: getopt_long; -h/--help and --version
 * print to stdout and exit 0; a usage error is two lines on stderr ("pop3: <what>"
 * and "try 'pop3 --help'") and exit status 2.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "cli_usage.h"
#include "cli.h"
#include "pop3/parse.h"

/* The help text; "%d" is the default timeout. */
static const char usage_text[] =
    "usage: pop3 [options] COMMAND [ARGS]\n"
    "commands:\n"
    "  capa              the server's capabilities (RFC 2449), before login\n"
    "  stat              COUNT SIZE\n"
    "  list [N]          N SIZE lines\n"
    "  uidl [N]          N UID lines\n"
    "  retr N            message N to stdout, byte for byte\n"
    "  top N LINES       headers and LINES body lines of message N to stdout\n"
    "  dele N            delete message N (committed by QUIT)\n"
    "  noop              log in and out\n"
    "  fetch DIR         every message into the Maildir DIR\n"
    "options:\n"
    "  -H, --host HOST[:PORT]  server; [IPv6]:PORT; or pop3://[USER@]HOST[:PORT],\n"
    "                          pop3s://... (implicit TLS, port 995) in its place\n"
    "  -p, --port PORT         port (110; 995 with --tls)\n"
    "  -u, --user USER         user name\n"
    "      --password-command CMD  run CMD (sh -c): its first output line is the password\n"
    "      --password-file F   password (or bearer token) in the first line of F\n"
    "      --netrc-file F      user and password from F (curl's netrc format)\n"
    "                          password from: --password-command, else --password-file,\n"
    "                          else $POP3_PASSWORD, else --netrc-file\n"
    "      --apop              log in with APOP\n"
    "      --auth MECH         SASL: PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER\n"
    "      --tls               implicit TLS (pop3s)\n"
    "      --starttls          require STLS; fail before login without it\n"
    "      --cafile FILE       trusted certificates (PEM) instead of the system's\n"
    "      --insecure          do not verify the server's certificate\n"
    "      --timeout SECONDS   connect and I/O timeout, each wait (default %d; 0: none)\n"
    "  -v, --verbose           trace commands and replies on stderr; -vv adds listing\n"
    "                          and body lines\n"
    "  -h, --help              this help\n"
    "      --version           the version\n"
    "fetch options:\n"
    "      --delete            delete messages once safely in the Maildir\n"
    "      --keep-crlf         store CRLF line ends as transferred (default: LF)\n"
    "      --max-messages N    fetch at most N messages\n"
    "      --max-size OCTETS   skip messages larger than OCTETS\n"
    "      --uidl-state FILE   skip messages fetched before; FILE is kept up to date\n"
    "      --progress          show the progress line even when stderr is no terminal\n"
    "exit status: 0 ok, 1 the server said -ERR, 2 usage, 3 connection/TLS/timeout,\n"
    "             4 protocol violation or limit exceeded, 5 local storage (Maildir,\n"
    "             state file), 130/143 fetch stopped by SIGINT/SIGTERM\n";

enum {
    OPT_PASSWORD_FILE = 256,
    OPT_PASSWORD_COMMAND,
    OPT_NETRC_FILE,
    OPT_APOP,
    OPT_AUTH,
    OPT_TLS,
    OPT_STARTTLS,
    OPT_CAFILE,
    OPT_INSECURE,
    OPT_TIMEOUT,
    OPT_DELETE,
    OPT_KEEP_CRLF,
    OPT_MAX_MESSAGES,
    OPT_MAX_SIZE,
    OPT_UIDL_STATE,
    OPT_PROGRESS,
    OPT_NO_FSYNC,
    OPT_VERSION,
};

static const struct option long_options[] = {
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"user", required_argument, NULL, 'u'},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"password-command", required_argument, NULL, OPT_PASSWORD_COMMAND},
    {"netrc-file", required_argument, NULL, OPT_NETRC_FILE},
    {"apop", no_argument, NULL, OPT_APOP},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"tls", no_argument, NULL, OPT_TLS},
    {"starttls", no_argument, NULL, OPT_STARTTLS},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"delete", no_argument, NULL, OPT_DELETE},
    {"keep-crlf", no_argument, NULL, OPT_KEEP_CRLF},
    {"max-messages", required_argument, NULL, OPT_MAX_MESSAGES},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"uidl-state", required_argument, NULL, OPT_UIDL_STATE},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-fsync", no_argument, NULL, OPT_NO_FSYNC},
    {NULL, 0, NULL, 0},
};

/* A usage error: "pop3: MESSAGE" and the hint on stderr; returns exit status 2. */
#define bad_usage(...) pop3__usage_error("pop3", __VA_ARGS__)

static const char *option_name(int ch)
{
    for (const struct option *lo = long_options; lo->name; lo++)
        if (lo->val == ch) return lo->name;
    return "?";
}

typedef int (*command_fn)(const cli_options *o, int argc, char **argv);

static const struct {
    const char *name;
    command_fn fn;
    bool login;
} commands[] = {
    {"capa", cli_capa, false}, {"stat", cli_stat, true}, {"list", cli_list, true},
    {"uidl", cli_uidl, true},  {"retr", cli_retr, true}, {"top", cli_top, true},
    {"dele", cli_dele, true},  {"noop", cli_noop, true}, {"fetch", cli_fetch, true},
};

static void wipe(char *s)
{
    if (!s) return;
    for (volatile char *p = s; *p; p++)
        *p = '\0';
    free(s);
}

/* The password, by the documented precedence. 0, or an exit status. */
static int find_password(cli_options *o)
{
    char err[512] = "";
    if (o->password_command) {
        if (cli_secret_from_command(o->password_command, &o->password, err, sizeof err)) {
            fprintf(stderr, "pop3: %s\n", err);
            return EXIT_USAGE;
        }
        return 0;
    }
    if (o->password_file) {
        if (cli_secret_from_file(o->password_file, &o->password, err, sizeof err)) {
            fprintf(stderr, "pop3: %s\n", err);
            return EXIT_USAGE;
        }
        return 0;
    }
    if (getenv("POP3_PASSWORD")) {
        o->password = strdup(getenv("POP3_PASSWORD"));
        return 0;
    }
    if (o->netrc_file) {
        char *login = NULL, *pass = NULL;
        int rc = cli_netrc_lookup(o->netrc_file, o->host, o->user, &login, &pass, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "pop3: %s\n", err);
            return EXIT_USAGE;
        }
        if (rc == 0) {
            if (!o->user && login) {
                o->user_owned = login;
                o->user = login;
                login = NULL;
            }
            o->password = pass;
        }
        free(login);
    }
    return 0;
}

/*
 * --timeout SECONDS: digits, or digits, a dot and digits ("0.5"); each run of digits is
 * read by the codec's pop3_parse_number, so no sign, blank, exponent, hex or "inf" gets
 * in as strtod would let it. From 0 to CLI_TIMEOUT_MAX.
 */
static int parse_seconds(const char *arg, double *out)
{
    const char *dot = strchr(arg, '.');
    size_t whole_len = dot ? (size_t)(dot - arg) : strlen(arg);
    uint64_t whole;
    if (pop3_parse_number(arg, whole_len, &whole) != POP3_OK || whole > CLI_TIMEOUT_MAX) return -1;
    double t = (double)whole;
    if (dot) {
        const char *frac = dot + 1;
        size_t len = strlen(frac);
        /* Every octet must be a digit; past the ninth (nanoseconds) they cannot change a
         * timeout kept in milliseconds, so a long tail is checked but not converted. */
        int rc = pop3_parse_number(frac, len, NULL);
        if (rc != POP3_OK && rc != POP3_ELIMIT) return -1;
        size_t used = len > 9 ? 9 : len;
        uint64_t v = 0;
        (void)pop3_parse_number(frac, used, &v); /* 9 digits always fit */
        double scale = 1;
        for (size_t i = 0; i < used; i++)
            scale *= 10;
        t += (double)v / scale;
    }
    if (t > CLI_TIMEOUT_MAX) return -1;
    *out = t;
    return 0;
}

int main(int argc, char **argv)
{
    cli_options o;
    memset(&o, 0, sizeof o);
    o.timeout = CLI_TIMEOUT_DEFAULT;
    bool fetch_only_seen = false;
    const char *fetch_only = NULL;
    const char *host_arg = NULL;
    int ch;
    opterr = 0; /* our own messages, in our own format */
    while ((ch = getopt_long(argc, argv, ":H:p:u:vh", long_options, NULL)) != -1) {
        uint64_t n;
        switch (ch) {
        case 'H': host_arg = optarg; break;
        case 'p':
            if (pop3__arg_number("pop3", "--port", "a number", optarg, 1, 65535, &n) != 0)
                return EXIT_USAGE;
            o.port = (unsigned)n;
            break;
        case 'u': o.user = optarg; break;
        case OPT_PASSWORD_FILE: o.password_file = optarg; break;
        case OPT_PASSWORD_COMMAND: o.password_command = optarg; break;
        case OPT_NETRC_FILE: o.netrc_file = optarg; break;
        case OPT_APOP: o.apop = true; break;
        case OPT_AUTH: o.auth = optarg; break;
        case OPT_TLS: o.tls = true; break;
        case OPT_STARTTLS: o.starttls = true; break;
        case OPT_CAFILE: o.cafile = optarg; break;
        case OPT_INSECURE: o.insecure = true; break;
        case OPT_TIMEOUT:
            if (parse_seconds(optarg, &o.timeout))
                return bad_usage("--timeout wants seconds from 0 (no timeout) to %d, not '%s'",
                                 CLI_TIMEOUT_MAX, optarg);
            break;
        case 'v': o.verbose++; break;
        case 'h': printf(usage_text, CLI_TIMEOUT_DEFAULT); return EXIT_OK;
        case OPT_VERSION: return pop3__print_version("pop3");
        case OPT_MAX_MESSAGES:
        case OPT_MAX_SIZE:
            if (pop3__arg_number("pop3", ch == OPT_MAX_MESSAGES ? "--max-messages" : "--max-size",
                                 "a number", optarg, 1, UINT64_MAX, &n) != 0)
                return EXIT_USAGE;
            if (ch == OPT_MAX_MESSAGES)
                o.max_messages = n;
            else
                o.max_size = n;
            fetch_only_seen = true;
            fetch_only = option_name(ch);
            break;
        case OPT_DELETE:
        case OPT_KEEP_CRLF:
        case OPT_UIDL_STATE:
        case OPT_PROGRESS:
        case OPT_NO_FSYNC:
            if (ch == OPT_DELETE) o.delete_after = true;
            if (ch == OPT_KEEP_CRLF) o.keep_crlf = true;
            if (ch == OPT_UIDL_STATE) o.uidl_state = optarg;
            if (ch == OPT_PROGRESS) o.progress = true;
            if (ch == OPT_NO_FSYNC) o.no_fsync = true;
            fetch_only_seen = true;
            fetch_only = option_name(ch);
            break;
        default:
            /* "retr -1" reaches here: getopt takes a negative number for an option. */
            if (ch == '?' && optopt >= '0' && optopt <= '9')
                return bad_usage("unknown option '-%c' (numbers take no sign)", optopt);
            return pop3__getopt_error("pop3", ch, argv, long_options);
        }
    }
    if (optind >= argc) return bad_usage("no command");
    const char *name = argv[optind];
    size_t which = SIZE_MAX;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) which = i;
    if (which == SIZE_MAX) return bad_usage("unknown command '%s'", name);
    if (fetch_only_seen && commands[which].fn != cli_fetch)
        return bad_usage("--%s is only for fetch", fetch_only);

    if (!host_arg) return bad_usage("no server: -H HOST or -H pop3://HOST");
    char err[512] = "";
    bool url_tls = false;
    unsigned url_port = 0;
    int u = cli_parse_url(host_arg, &o.user_owned, &o.host, &url_port, &url_tls, err, sizeof err);
    if (u < 0) return bad_usage("%s", err);
    if (u == 0) {
        if (url_tls && o.starttls) return bad_usage("pop3s:// and --starttls exclude each other");
        o.tls = o.tls || url_tls;
        if (!o.port) o.port = url_port;
        if (o.user_owned && !o.user) o.user = o.user_owned;
    } else if (cli_parse_host(host_arg, &o.host, &o.port, err, sizeof err)) {
        return bad_usage("-H %s", err);
    }
    int status = EXIT_USAGE;
    if (o.tls && o.starttls) {
        status = bad_usage("--tls and --starttls exclude each other");
        goto out;
    }
    if (o.apop && o.auth) {
        status = bad_usage("--apop and --auth exclude each other");
        goto out;
    }
    if (o.password_command && o.password_file) {
        status = bad_usage("--password-command and --password-file exclude each other");
        goto out;
    }
    if (commands[which].login) {
        status = find_password(&o);
        if (status != 0) goto out;
    }
    /* A peer that closes early must give an error, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    status = commands[which].fn(&o, argc - optind - 1, argv + optind + 1);
out:
    /* Do not leave the secret lying in freed memory. */
    wipe(o.password);
    free(o.host);
    free(o.user_owned);
    return status;
}
