/*
 * pop3_fuzz.c - the `pop3-fuzz` command: network fuzzing of POP3 clients (RFC 1939,
 * RFC 2449, RFC 5034) by a hostile server, and the replay of what it found.
 *
 * Exit status: 0 no finding (or a replay that did not reproduce), 1 findings (or a replay
 * that reproduced), 2 usage. The last line of a campaign is "N runs, N findings".
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "campaign.h"
#include "diff.h"
#include "server_fuzz.h"

#ifndef POP3KIT_VERSION
#define POP3KIT_VERSION "unknown"
#endif

/* Defaults of the limits (each has an option). */
#define DEFAULT_SECONDS        60
#define DEFAULT_HANG_MS        5000
#define DEFAULT_RSS_MB         1024
#define DEFAULT_IDLE_MS        100
#define DEFAULT_MINIMISE_TRIES 64
#define DEFAULT_STACK          4

static const char usage_text[] =
    "usage: pop3-fuzz client --client CMD [options]\n"
    "       pop3-fuzz replay FILE --client CMD [--hang-ms MS] [--idle-ms MS] [--rss-mb MB]\n"
    "                        [--ok-exit LIST]   (the client's stderr is shown)\n"
    "       pop3-fuzz server HOST:PORT --user U [options]   (see pop3-fuzz server --help)\n"
    "       pop3-fuzz replay FILE HOST:PORT [options]         (a server finding)\n"
    "       pop3-fuzz diff --client [NAME=]CMD --client [NAME=]CMD... (pop3-fuzz diff --help)\n"
    "\n"
    "client mode plays a hostile POP3 server to CMD, started with sh -c for each run with\n"
    "POP3_HOST, POP3_PORT, POP3_USER, POP3_PASSWORD set and {port} replaced.\n"
    "  --client CMD          the client command (required)\n"
    "  --seconds N           stop after N seconds (default 60 unless --iterations)\n"
    "  --iterations N        stop after N runs\n"
    "  --seed N              the campaign's seed (default 1): the same seed, the same scripts\n"
    "  --out DIR             where findings are saved (default pop3-fuzz-findings)\n"
    "  --seeds DIR           also start from the *.case and *.pop3 dialogues in DIR\n"
    "  --hang-ms MS          a run not done MS after the dialogue last moved is a hang\n"
    "                        (default 5000; one that keeps moving ends at 6 x MS)\n"
    "  --idle-ms MS          the server hangs up when neither side moved for MS (default 100;\n"
    "                        0: never), or once both are seen blocked; a client stuck after\n"
    "                        that is a hang\n"
    "  --rss-mb MB           peak memory past MB is a finding (default 1024; 0: off)\n"
    "  --ok-exit LIST        exit statuses that are fine, e.g. 0-5,7 (default 0-5)\n"
    "  --minimise-tries N    runs spent minimising each finding (default 64)\n"
    "  --stack N             mutations stacked per run, at most (default 4)\n"
    "  --user U, --password P  what POP3_USER and POP3_PASSWORD say (user, secret)\n"
    "  -j N                  run N clients at once (default 1; at most 64)\n"
    "  -h, --help            this text;  --version  the version\n"
    "A finding (death by a signal, a sanitizer report on stderr, a hang, too much memory, an\n"
    "exit status outside --ok-exit) is minimised and saved as a pop3-mock script.\n"
    "exit status: 0 no finding, 1 findings (replay: reproduced), 2 usage\n";

/* "0-5,7": statuses 0 to 5 and 7. */
static bool parse_ok_exit(const char *s, bool ok[256])
{
    memset(ok, 0, 256 * sizeof *ok);
    char *copy = strdup(s), *save = NULL;
    bool good = copy != NULL && *s != '\0';
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && good;
         t = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(t, '-');
        unsigned long a, b;
        if (dash) *dash = '\0';
        if (!pop3fuzz_parse_ulong(t, 255, &a) ||
            !pop3fuzz_parse_ulong(dash ? dash + 1 : t, 255, &b) || b < a) {
            good = false;
            break;
        }
        for (unsigned long k = a; k <= b; k++)
            ok[k] = true;
    }
    free(copy);
    return good;
}

enum {
    OPT_CLIENT = 256,
    OPT_SECONDS,
    OPT_ITER,
    OPT_SEED,
    OPT_OUT,
    OPT_SEEDS,
    OPT_HANG,
    OPT_RSS,
    OPT_IDLE,
    OPT_OK,
    OPT_TRIES,
    OPT_STACK,
    OPT_USER,
    OPT_PASSWORD,
    OPT_VERSION
};

static const struct option longopts[] = {
    {"client", required_argument, NULL, OPT_CLIENT},
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"iterations", required_argument, NULL, OPT_ITER},
    {"seed", required_argument, NULL, OPT_SEED},
    {"out", required_argument, NULL, OPT_OUT},
    {"seeds", required_argument, NULL, OPT_SEEDS},
    {"hang-ms", required_argument, NULL, OPT_HANG},
    {"rss-mb", required_argument, NULL, OPT_RSS},
    {"idle-ms", required_argument, NULL, OPT_IDLE},
    {"ok-exit", required_argument, NULL, OPT_OK},
    {"minimise-tries", required_argument, NULL, OPT_TRIES},
    {"stack", required_argument, NULL, OPT_STACK},
    {"user", required_argument, NULL, OPT_USER},
    {"password", required_argument, NULL, OPT_PASSWORD},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    if (argc < 2)
        return pop3fuzz_usage_error("%s", "a mode is needed: client, diff, replay or server");
    const char *mode = argv[1];
    if (strcmp(mode, "-h") == 0 || strcmp(mode, "--help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(mode, "--version") == 0) {
        printf("pop3-fuzz %s\n", POP3KIT_VERSION);
        return 0;
    }
    if (strcmp(mode, "server") == 0 ||
        (strcmp(mode, "replay") == 0 && argc > 2 && pop3fuzz_is_transcript(argv[2])))
        return mode[0] == 's' ? pop3fuzz_server_main(argc, argv)
                              : pop3fuzz_server_replay_main(argc, argv);
    bool replay = strcmp(mode, "replay") == 0;
    if (strcmp(mode, "diff") == 0 || (replay && pop3fuzz_diff_claims(argc, argv)))
        return pop3fuzz_diff_main(argc, argv);
    if (!replay && strcmp(mode, "client") != 0)
        return pop3fuzz_usage_error("unknown mode '%s' (client, diff, replay or server)", mode);

    pop3fuzz_campaign_options c;
    memset(&c, 0, sizeof c);
    c.run.hang_ms = DEFAULT_HANG_MS;
    c.run.rss_mb = DEFAULT_RSS_MB;
    c.run.idle_ms = DEFAULT_IDLE_MS;
    for (int k = 0; k <= 5; k++)
        c.run.ok_exit[k] = true;
    c.run.user = "user";
    c.run.password = "secret";
    c.seed = 1;
    c.out_dir = "pop3-fuzz-findings";
    c.minimise_tries = DEFAULT_MINIMISE_TRIES;
    c.max_stack = DEFAULT_STACK;
    const char *seed_dirs[16];
    size_t nseed_dirs = 0;
    unsigned long v;

    optind = 2;
    int opt;
    while ((opt = getopt_long(argc, argv, ":hj:", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_CLIENT: c.run.client = optarg; break;
        case OPT_SECONDS:
            if (!pop3fuzz_parse_ulong(optarg, 1u << 30, &c.seconds))
                return pop3fuzz_usage_error("--seconds: '%s' is not a number", optarg);
            break;
        case OPT_ITER:
            if (!pop3fuzz_parse_ulong(optarg, 1ul << 40, &c.iterations))
                return pop3fuzz_usage_error("--iterations: '%s' is not a number", optarg);
            break;
        case OPT_SEED:
            if (!pop3fuzz_parse_ulong(optarg, ~0ul, &v))
                return pop3fuzz_usage_error("--seed: '%s' is not a number", optarg);
            c.seed = v;
            break;
        case OPT_OUT: c.out_dir = optarg; break;
        case OPT_SEEDS:
            if (nseed_dirs == 16) return pop3fuzz_usage_error("%s", "--seeds: at most 16 folders");
            seed_dirs[nseed_dirs++] = optarg;
            break;
        case OPT_HANG:
            if (!pop3fuzz_parse_ulong(optarg, 3600000, &v) || v == 0)
                return pop3fuzz_usage_error("--hang-ms: '%s' is not 1 to 3600000", optarg);
            c.run.hang_ms = (unsigned)v;
            break;
        case OPT_RSS:
            if (!pop3fuzz_parse_ulong(optarg, 1u << 30, &c.run.rss_mb))
                return pop3fuzz_usage_error("--rss-mb: '%s' is not a number", optarg);
            break;
        case OPT_IDLE:
            if (!pop3fuzz_parse_ulong(optarg, 3600000, &v))
                return pop3fuzz_usage_error("--idle-ms: '%s' is not 0 to 3600000", optarg);
            c.run.idle_ms = (unsigned)v;
            break;
        case OPT_OK:
            if (!parse_ok_exit(optarg, c.run.ok_exit))
                return pop3fuzz_usage_error("--ok-exit: '%s' is not a list like 0-5,7", optarg);
            break;
        case OPT_TRIES:
            if (!pop3fuzz_parse_ulong(optarg, 1u << 20, &v))
                return pop3fuzz_usage_error("--minimise-tries: '%s' is not a number", optarg);
            c.minimise_tries = (unsigned)v;
            break;
        case OPT_STACK:
            if (!pop3fuzz_parse_ulong(optarg, 64, &v) || v == 0)
                return pop3fuzz_usage_error("--stack: '%s' is not 1 to 64", optarg);
            c.max_stack = (unsigned)v;
            break;
        case OPT_USER: c.run.user = optarg; break;
        case OPT_PASSWORD: c.run.password = optarg; break;
        case 'j':
            if (!pop3fuzz_parse_ulong(optarg, 64, &v) || v == 0)
                return pop3fuzz_usage_error("-j: '%s' is not 1 to 64", optarg);
            c.jobs = (unsigned)v;
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        case OPT_VERSION: printf("pop3-fuzz %s\n", POP3KIT_VERSION); return 0;
        case ':': return pop3fuzz_usage_error("%s needs a value", argv[optind - 1]);
        default: return pop3fuzz_usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *file = NULL;
    if (replay) {
        if (optind >= argc) return pop3fuzz_usage_error("%s", "replay needs a FILE");
        file = argv[optind++];
    }
    if (optind < argc) return pop3fuzz_usage_error("unexpected argument '%s'", argv[optind]);
    if (c.run.client == NULL) return pop3fuzz_usage_error("%s", "--client CMD is required");
    if (strlen(c.run.user) + strlen(c.run.password) > 512)
        return pop3fuzz_usage_error("%s", "--user and --password: too long");

    /* A client that dies between our writes must not take the fuzzer with it. */
    signal(SIGPIPE, SIG_IGN);
    char err[1024];
    if (replay) {
        c.run.echo_stderr = true;
        int rc = pop3fuzz_replay(&c.run, file, stdout, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "pop3-fuzz: %s\n", err);
            return 2;
        }
        return rc;
    }
    if (c.seconds == 0 && c.iterations == 0) c.seconds = DEFAULT_SECONDS;
    pop3fuzz_seeds seeds = {0};
    if (!pop3fuzz_seeds_builtin(&seeds)) {
        fputs("pop3-fuzz: out of memory\n", stderr);
        return 2;
    }
    for (size_t k = 0; k < nseed_dirs; k++)
        if (pop3fuzz_seeds_load_dir(&seeds, seed_dirs[k], err, sizeof err) < 0) {
            pop3fuzz_seeds_free(&seeds);
            return pop3fuzz_usage_error("--seeds: %s", err);
        }
    c.seeds = &seeds;
    c.progress = isatty(2);
    long n = pop3fuzz_campaign(&c, stdout, err, sizeof err);
    pop3fuzz_seeds_free(&seeds);
    if (n < 0) {
        fprintf(stderr, "pop3-fuzz: %s\n", err);
        return 2;
    }
    return n > 0 ? 1 : 0;
}
