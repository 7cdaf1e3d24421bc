/*
 * main.c - the `pop3` command: options and dispatch (its contract is the manual page,
 * pop3.1, and the top-level README.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
    "  -H, --host HOST         server (required)\n"
    "  -p, --port PORT         port (110; 995 with --tls)\n"
    "  -u, --user USER         user name\n"
    "      --password-file F   password (or bearer token) in F; else $POP3_PASSWORD\n"
    "      --apop              log in with APOP\n"
    "      --auth MECH         SASL: PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER\n"
    "      --tls               implicit TLS (pop3s)\n"
    "      --starttls          require STLS; fail before login without it\n"
    "      --cafile FILE       trusted certificates (PEM) instead of the system's\n"
    "      --insecure          do not verify the server's certificate\n"
    "      --timeout SECONDS   connect and I/O timeout\n"
    "  -v, --verbose           trace the dialogue on stderr (twice: more)\n"
    "fetch options:\n"
    "      --delete            delete messages once safely in the Maildir\n"
    "      --uidl-state FILE   skip messages fetched before; FILE is kept up to date\n"
    "      --progress          show the progress line even when stderr is no terminal\n"
    "exit status: 0 ok, 1 the server said -ERR, 2 usage, 3 connection/TLS/timeout,\n"
    "             4 protocol violation or limit exceeded\n";

enum {
    OPT_PASSWORD_FILE = 256,
    OPT_APOP,
    OPT_AUTH,
    OPT_TLS,
    OPT_STARTTLS,
    OPT_CAFILE,
    OPT_INSECURE,
    OPT_TIMEOUT,
    OPT_DELETE,
    OPT_UIDL_STATE,
    OPT_PROGRESS,
    OPT_NO_FSYNC,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"user", required_argument, NULL, 'u'},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"apop", no_argument, NULL, OPT_APOP},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"tls", no_argument, NULL, OPT_TLS},
    {"starttls", no_argument, NULL, OPT_STARTTLS},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"verbose", no_argument, NULL, 'v'},
    {"delete", no_argument, NULL, OPT_DELETE},
    {"uidl-state", required_argument, NULL, OPT_UIDL_STATE},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-fsync", no_argument, NULL, OPT_NO_FSYNC},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int bad_usage(const char *why)
{
    fprintf(stderr, "pop3: %s\n%s", why, usage_text);
    return EXIT_USAGE;
}

/* The first line of the file, without its line end: a password or a bearer token. */
static char *read_secret(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "pop3: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n < 0) {
        free(line);
        line = strdup("");
        return line;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

typedef int (*command_fn)(const cli_options *o, int argc, char **argv);

static const struct {
    const char *name;
    command_fn fn;
} commands[] = {
    {"capa", cli_capa}, {"stat", cli_stat}, {"list", cli_list},
    {"uidl", cli_uidl}, {"retr", cli_retr}, {"top", cli_top},
    {"dele", cli_dele}, {"noop", cli_noop}, {"fetch", cli_fetch},
};

int main(int argc, char **argv)
{
    cli_options o;
    memset(&o, 0, sizeof o);
    o.timeout = -1;
    int ch;
    while ((ch = getopt_long(argc, argv, "H:p:u:v", long_options, NULL)) != -1) {
        uint64_t n;
        switch (ch) {
        case 'H': o.host = optarg; break;
        case 'p':
            if (cli_number(optarg, &n, false) || n > 65535) return bad_usage("bad --port");
            o.port = (unsigned)n;
            break;
        case 'u': o.user = optarg; break;
        case OPT_PASSWORD_FILE: o.password_file = optarg; break;
        case OPT_APOP: o.apop = true; break;
        case OPT_AUTH: o.auth = optarg; break;
        case OPT_TLS: o.tls = true; break;
        case OPT_STARTTLS: o.starttls = true; break;
        case OPT_CAFILE: o.cafile = optarg; break;
        case OPT_INSECURE: o.insecure = true; break;
        case OPT_TIMEOUT: {
            char *end;
            errno = 0;
            double t = strtod(optarg, &end);
            /* 0 is refused like poplib refuses it: this is a blocking client. */
            if (errno || end == optarg || *end || !(t > 0) || t > 86400)
                return bad_usage("--timeout wants seconds, more than 0");
            o.timeout = t;
            break;
        }
        case 'v': o.verbose++; break;
        case OPT_DELETE: o.delete_after = true; break;
        case OPT_UIDL_STATE: o.uidl_state = optarg; break;
        case OPT_PROGRESS: o.progress = true; break;
        case OPT_NO_FSYNC: o.no_fsync = true; break;
        case OPT_HELP: fputs(usage_text, stdout); return EXIT_OK;
        default: return bad_usage("unknown option");
        }
    }
    if (optind >= argc) return bad_usage("no command");
    const char *name = argv[optind];
    command_fn fn = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) fn = commands[i].fn;
    if (!fn) return bad_usage("unknown command");
    if (!o.host) return bad_usage("no --host");
    if (o.tls && o.starttls) return bad_usage("--tls and --starttls exclude each other");
    if (o.apop && o.auth) return bad_usage("--apop and --auth exclude each other");

    if (o.password_file) {
        o.password = read_secret(o.password_file);
        if (!o.password) return EXIT_USAGE;
    } else if (getenv("POP3_PASSWORD")) {
        o.password = strdup(getenv("POP3_PASSWORD"));
    }
    /* A peer that closes early must give an error, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    int status = fn(&o, argc - optind - 1, argv + optind + 1);
    if (o.password) {
        /* Do not leave the secret lying in freed memory. */
        volatile char *p = o.password;
        while (*p)
            *p++ = '\0';
        free(o.password);
    }
    return status;
}
