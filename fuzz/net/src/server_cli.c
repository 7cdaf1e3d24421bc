/*
 * server_cli.c - the `pop3-fuzz server HOST:PORT` and `pop3-fuzz replay FILE HOST:PORT`
 * commands: options, the password (POP3_PASSWORD or --password-file, as for `pop3`), TLS
 * (RFC 8314 implicit TLS, RFC 2595 STLS) and the exit status: 0 no finding (a replay that
 * did not reproduce), 1 findings (reproduced), 2 usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_fuzz.h"

#define DEFAULT_SECONDS 60
#define DEFAULT_HANG_MS 5000
#define DEFAULT_TRIES   32
#define DEFAULT_STACK   4

static const char usage_text[] =
    "usage: pop3-fuzz server HOST:PORT --user U [options]\n"
    "       pop3-fuzz replay FILE HOST:PORT [--user U] [--tls|--starttls] [--hang-ms MS] ...\n"
    "\n"
    "server mode plays a hostile POP3 client to the server at HOST:PORT ([V6]:PORT too);\n"
    "the password comes from POP3_PASSWORD or --password-file.\n"
    "  --user U              the account (replay: default the transcript's '# user:')\n"
    "  --password-file F     the password in the first line of F\n"
    "  --tls | --starttls    implicit TLS | STLS before every session\n"
    "  --cafile F            trust the certificates in F;  --insecure  verify nothing\n"
    "                        (either one also lets a +OK to STLS go on under TLS)\n"
    "  --seconds N           stop after N seconds (default 60 unless --iterations)\n"
    "  --iterations N        stop after N sessions\n"
    "  --seed N              the campaign's seed (default 1)\n"
    "  --out DIR             where findings are saved (default pop3-fuzz-findings)\n"
    "  --hang-ms MS          a command unanswered this long is a hang (default 5000)\n"
    "  --max-line OCTETS     longest line generated (default 4194304)\n"
    "  --max-steps N         steps in a session at most (default 48)\n"
    "  --max-status OCTETS   longest status line, CRLF included (default 512, RFC 2449)\n"
    "  --max-reply OCTETS    longest multi-line reply (default 67108864)\n"
    "  --corpus-max N        sessions kept for mutation (default 1024)\n"
    "  --check-every N       sessions between checks that the server greets (default 16)\n"
    "  --minimise-tries N    sessions spent shrinking each finding (default 32)\n"
    "  --stack N             mutations per session, at most (default 4)\n"
    "  --destructive         send QUIT after an accepted DELE (messages get deleted)\n"
    "  --restart CMD         after a death, run CMD (sh -c; it returns once it started the\n"
    "                        server again): the finding is shrunk and the campaign goes on\n"
    "  -h, --help            this text\n"
    "A finding (the server stops greeting, a command unanswered, a reply that breaks the\n"
    "protocol) is saved in DIR as a transcript that `pop3-fuzz replay` plays again.\n"
    "exit status: 0 no finding, 1 findings (replay: reproduced), 2 usage\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("pop3-fuzz: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\ntry 'pop3-fuzz server --help'\n", stderr);
    return 2;
}

enum {
    O_USER = 256,
    O_PWFILE,
    O_TLS,
    O_STARTTLS,
    O_CAFILE,
    O_INSECURE,
    O_SECONDS,
    O_ITER,
    O_SEED,
    O_OUT,
    O_HANG,
    O_MAXLINE,
    O_STEPS,
    O_STATUS,
    O_REPLY,
    O_CORPUS,
    O_CHECK,
    O_TRIES,
    O_STACK,
    O_DESTRUCTIVE,
    O_RESTART,
};

static const struct option longopts[] = {
    {"user", required_argument, NULL, O_USER},
    {"password-file", required_argument, NULL, O_PWFILE},
    {"tls", no_argument, NULL, O_TLS},
    {"starttls", no_argument, NULL, O_STARTTLS},
    {"cafile", required_argument, NULL, O_CAFILE},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"seconds", required_argument, NULL, O_SECONDS},
    {"iterations", required_argument, NULL, O_ITER},
    {"seed", required_argument, NULL, O_SEED},
    {"out", required_argument, NULL, O_OUT},
    {"hang-ms", required_argument, NULL, O_HANG},
    {"max-line", required_argument, NULL, O_MAXLINE},
    {"max-steps", required_argument, NULL, O_STEPS},
    {"max-status", required_argument, NULL, O_STATUS},
    {"max-reply", required_argument, NULL, O_REPLY},
    {"corpus-max", required_argument, NULL, O_CORPUS},
    {"check-every", required_argument, NULL, O_CHECK},
    {"minimise-tries", required_argument, NULL, O_TRIES},
    {"stack", required_argument, NULL, O_STACK},
    {"destructive", no_argument, NULL, O_DESTRUCTIVE},
    {"restart", required_argument, NULL, O_RESTART},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Both commands share the options; `replay` says which one runs. */
static int run(int argc, char **argv, bool replay)
{
    pop3fuzz_srv_campaign c;
    memset(&c, 0, sizeof c);
    pop3fuzz_target *t = &c.target;
    t->hang_ms = DEFAULT_HANG_MS;
    t->max_status = POP3FUZZ_SRV_STATUS_MAX;
    t->max_reply = POP3FUZZ_SRV_REPLY_MAX;
    c.grammar.long_line = POP3FUZZ_SRV_LONG_LINE_DEFAULT;
    c.grammar.max_steps = POP3FUZZ_SRV_STEPS_DEFAULT;
    c.corpus_max = POP3FUZZ_SRV_CORPUS_DEFAULT;
    c.check_every = POP3FUZZ_SRV_CHECK_EVERY;
    c.minimise_tries = DEFAULT_TRIES;
    c.stack = DEFAULT_STACK;
    c.seed = 1;
    c.out_dir = "pop3-fuzz-findings";
    const char *pwfile = NULL;
    unsigned long v;
    optind = 2;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case O_USER: t->user = optarg; break;
        case O_PWFILE: pwfile = optarg; break;
        case O_TLS: t->tls = true; break;
        case O_STARTTLS: t->starttls = true; break;
        case O_CAFILE: t->tlsopt.ca_file = optarg; break;
        case O_INSECURE: t->tlsopt.insecure = true; break;
        case O_SECONDS:
            if (!pop3fuzz_parse_ulong(optarg, 1u << 30, &v))
                return usage_error("--seconds: '%s' is not a number", optarg);
            c.seconds = (unsigned long)v;
            break;
        case O_ITER:
            if (!pop3fuzz_parse_ulong(optarg, 1ull << 40, &v))
                return usage_error("--iterations: '%s' is not a number", optarg);
            c.iterations = (unsigned long)v;
            break;
        case O_SEED:
            if (!pop3fuzz_parse_ulong(optarg, ~0ul, &v))
                return usage_error("--seed: '%s' is not a number", optarg);
            c.seed = v;
            break;
        case O_OUT: c.out_dir = optarg; break;
        case O_HANG:
            if (!pop3fuzz_parse_ulong(optarg, 3600000, &v) || v == 0)
                return usage_error("--hang-ms: '%s' is not 1 to 3600000", optarg);
            t->hang_ms = (unsigned)v;
            break;
        case O_MAXLINE:
            if (!pop3fuzz_parse_ulong(optarg, POP3FUZZ_SRV_SEND_MAX, &v) || v < 64)
                return usage_error("--max-line: '%s' is not 64 to 67108864", optarg);
            c.grammar.long_line = (size_t)v;
            break;
        case O_STEPS:
            if (!pop3fuzz_parse_ulong(optarg, 1024, &v) || v == 0)
                return usage_error("--max-steps: '%s' is not 1 to 1024", optarg);
            c.grammar.max_steps = (size_t)v;
            break;
        case O_STATUS:
            if (!pop3fuzz_parse_ulong(optarg, POP3FUZZ_SRV_LISTING_LINE, &v) || v < 8)
                return usage_error("--max-status: '%s' is not 8 to 65536", optarg);
            t->max_status = (size_t)v;
            break;
        case O_REPLY:
            if (!pop3fuzz_parse_ulong(optarg, 1ull << 40, &v) || v == 0)
                return usage_error("--max-reply: '%s' is not a number above 0", optarg);
            t->max_reply = v;
            break;
        case O_CORPUS:
            if (!pop3fuzz_parse_ulong(optarg, 1u << 20, &v) || v == 0)
                return usage_error("--corpus-max: '%s' is not 1 to 1048576", optarg);
            c.corpus_max = (size_t)v;
            break;
        case O_CHECK:
            if (!pop3fuzz_parse_ulong(optarg, 1u << 20, &v))
                return usage_error("--check-every: '%s' is not a number", optarg);
            c.check_every = (unsigned)v;
            break;
        case O_TRIES:
            if (!pop3fuzz_parse_ulong(optarg, 1u << 20, &v))
                return usage_error("--minimise-tries: '%s' is not a number", optarg);
            c.minimise_tries = (unsigned)v;
            break;
        case O_STACK:
            if (!pop3fuzz_parse_ulong(optarg, 64, &v) || v == 0)
                return usage_error("--stack: '%s' is not 1 to 64", optarg);
            c.stack = (unsigned)v;
            break;
        case O_DESTRUCTIVE: t->destructive = true; break;
        case O_RESTART: c.restart = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case ':': return usage_error("%s needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *file = NULL, *target = NULL;
    if (replay) {
        if (optind >= argc) return usage_error("%s", "replay needs a FILE");
        file = argv[optind++];
    }
    if (optind >= argc) return usage_error("%s", "HOST:PORT is needed");
    target = argv[optind++];
    if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
    if (t->tls && t->starttls) return usage_error("%s", "--tls and --starttls exclude each other");
    if (t->tlsopt.insecure && t->tlsopt.ca_file)
        return usage_error("%s", "--cafile and --insecure exclude each other");
    char host[256];
    const char *colon = strrchr(target, ':');
    if (colon == NULL || colon == target || !pop3fuzz_parse_ulong(colon + 1, 65535, &v) || v == 0)
        return usage_error("wants HOST:PORT, not '%s'", target);
    t->port = (unsigned)v;
    const char *hs = target;
    size_t hl = (size_t)(colon - target);
    if (hs[0] == '[' && hl > 2 && hs[hl - 1] == ']') {
        hs++;
        hl -= 2;
    }
    if (hl >= sizeof host) return usage_error("%s", "the host name is too long");
    snprintf(host, sizeof host, "%.*s", (int)hl, hs);
    t->host = host;
    t->can_tls = t->tls || t->starttls || t->tlsopt.ca_file || t->tlsopt.insecure;
    c.target_text = target;
    c.mode_text = t->tls ? " --tls" : t->starttls ? " --starttls" : "";

    pop3fuzz_session s = {0};
    char file_user[256] = "", err[1024];
    if (replay) {
        if (pop3fuzz_transcript_read(file, &s, file_user, sizeof file_user, err, sizeof err) != 0) {
            fprintf(stderr, "pop3-fuzz: %s\n", err);
            return 2;
        }
        if (t->user == NULL && file_user[0]) t->user = file_user;
    }
    if (t->user == NULL) {
        pop3fuzz_session_free(&s);
        return usage_error("%s", "--user U is required");
    }
    char pw[1024];
    if (pwfile != NULL) {
        FILE *fp = fopen(pwfile, "r");
        if (fp == NULL || fgets(pw, sizeof pw, fp) == NULL) {
            if (fp) fclose(fp);
            pop3fuzz_session_free(&s);
            return usage_error("cannot read the password from %s", pwfile);
        }
        fclose(fp);
        pw[strcspn(pw, "\r\n")] = '\0';
        t->password = pw;
    } else {
        t->password = getenv("POP3_PASSWORD");
    }
    if (t->password == NULL) {
        pop3fuzz_session_free(&s);
        return usage_error("%s", "no password: set POP3_PASSWORD or give --password-file");
    }
    if (strlen(t->user) > 255 || strlen(t->password) > 255) {
        pop3fuzz_session_free(&s);
        return usage_error("%s", "--user and the password: 255 octets at most");
    }
    signal(SIGPIPE, SIG_IGN);
    if (replay) {
        int rc = pop3fuzz_srv_replay(t, &s, stdout);
        pop3fuzz_session_free(&s);
        if (rc < 0) {
            fprintf(stderr, "pop3-fuzz: out of memory\n");
            return 2;
        }
        return rc;
    }
    if (c.seconds == 0 && c.iterations == 0) c.seconds = DEFAULT_SECONDS;
    c.progress = isatty(2);
    long n = pop3fuzz_srv_campaign_run(&c, stdout, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "pop3-fuzz: %s\n", err);
        return 2;
    }
    return n > 0 ? 1 : 0;
}

int pop3fuzz_server_main(int argc, char **argv)
{
    return run(argc, argv, false);
}

int pop3fuzz_server_replay_main(int argc, char **argv)
{
    return run(argc, argv, true);
}

bool pop3fuzz_is_transcript(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) return false;
    char line[64] = "";
    bool yes = fgets(line, sizeof line, fp) != NULL &&
               strncmp(line, "# pop3-fuzz server transcript", 29) == 0;
    fclose(fp);
    return yes;
}
