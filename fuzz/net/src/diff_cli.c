/*
 * diff_cli.c - the command line of `pop3-fuzz diff` (several clients, one mutated
 * dialogue each run, their disagreements) and of `pop3-fuzz replay FILE.case` (one saved
 * disagreement played again). Exit status: 0 no disagreement (a replay that did not
 * reproduce), 1 disagreements (a replay that reproduced), 2 usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapter.h"
#include "diff.h"
#include "netfuzz.h"

static const char diff_usage[] =
    "usage: pop3-fuzz diff --client [NAME=]CMD --client [NAME=]CMD... [options]\n"
    "       pop3-fuzz replay FILE.case [--client [NAME=]CMD]... [--timeout-ms MS] [--hang-ms MS]\n"
    "\n"
    "diff plays one mutated conformance dialogue per run to every client, each driven as\n"
    "pop3-conform drives an adapter (CMD gets the case's options and operations on stdin and\n"
    "POP3_CONFORM_HOST, _PORT, _CAFILE, _TIMEOUT, _CASE in its environment); CMD 'reference'\n"
    "(or --client pop3kit) is the reference client, in-process. A disagreement: the clients\n"
    "differ on success vs failure of an operation, a message count, the octets of a body,\n"
    "or credentials sent in clear when TLS was required.\n"
    "  --client [NAME=]CMD   a client (two at least; at most 16)\n"
    "  --seconds N           stop after N seconds (default 60 unless --iterations)\n"
    "  --iterations N        stop after N runs\n"
    "  --seed N              the campaign's seed (default 1)\n"
    "  --out DIR             where disagreements are saved (default pop3-fuzz-diff)\n"
    "  --cases DIR           the seed cases (default: pop3-conform's cases folder)\n"
    "  --filter GLOB         only seed cases whose name matches (repeatable)\n"
    "  --hang-ms MS          one client's run of one case, at most (default 10000)\n"
    "  --timeout-ms MS       the clients' read timeout (default 1000)\n"
    "  --stack N             mutations stacked per run, at most (default 2)\n"
    "  --max-output OCTETS   most an adapter may print for one case (default 16 MiB)\n"
    "  --minimise-tries N    runs of the disagreeing clients spent shrinking each new\n"
    "                        disagreement's dialogue (default 0: none; 24 is a good start)\n"
    "  --one-shot            a new adapter process per case, even for an adapter that\n"
    "                        declares itself persistent (as pop3-conform --one-shot)\n"
    "Each distinct disagreement (field, clients grouped by value, mutation families) is\n"
    "saved as DIR/FIELD-HASH.case, which pop3-conform runs and pop3-fuzz replay replays.\n"
    "exit status: 0 no disagreement, 1 disagreements (replay: reproduced), 2 usage\n";

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

bool pop3fuzz_diff_claims(int argc, char **argv)
{
    /* The first argument that is not an option or an option's value. */
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-') {
            if (strchr(a, '=') == NULL && strcmp(a, "-h") != 0 && strcmp(a, "--help") != 0 &&
                strcmp(a, "--one-shot") != 0)
                i++; /* every option of replay but --help and --one-shot takes a value */
            continue;
        }
        return ends_with(a, ".case");
    }
    return false;
}

enum {
    OPT_CLIENT = 256,
    OPT_SECONDS,
    OPT_ITER,
    OPT_SEED,
    OPT_OUT,
    OPT_CASES,
    OPT_FILTER,
    OPT_HANG,
    OPT_TIMEOUT,
    OPT_STACK,
    OPT_MAX_OUTPUT,
    OPT_ONE_SHOT,
    OPT_MINIMISE,
};

static const struct option longopts[] = {
    {"client", required_argument, NULL, OPT_CLIENT},
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"iterations", required_argument, NULL, OPT_ITER},
    {"seed", required_argument, NULL, OPT_SEED},
    {"out", required_argument, NULL, OPT_OUT},
    {"cases", required_argument, NULL, OPT_CASES},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"hang-ms", required_argument, NULL, OPT_HANG},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"stack", required_argument, NULL, OPT_STACK},
    {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
    {"one-shot", no_argument, NULL, OPT_ONE_SHOT},
    {"minimise-tries", required_argument, NULL, OPT_MINIMISE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void free_clients(pop3diff_options *o)
{
    for (size_t k = 0; k < o->nclients; k++) {
        free(o->clients[k].name);
        free(o->clients[k].command);
        free(o->clients[k].file);
    }
    o->nclients = 0;
}

/* `pop3kit`, `reference` or `NAME=reference`: the reference client. */
static bool reference_spec(const char *spec, conform_client *cl)
{
    const char *eq = strchr(spec, '=');
    const char *cmd = eq != NULL ? eq + 1 : spec;
    if (strcmp(cmd, "reference") != 0 && !(eq == NULL && strcmp(spec, "pop3kit") == 0))
        return false;
    cl->name = eq != NULL && eq > spec ? xstrndup(spec, (size_t)(eq - spec)) : xstrdup("pop3kit");
    cl->command = NULL;
    return true;
}

int pop3fuzz_diff_main(int argc, char **argv)
{
    bool replay = strcmp(argv[1], "replay") == 0;
    pop3diff_options o;
    memset(&o, 0, sizeof o);
    o.seed = 1;
    o.out_dir = "pop3-fuzz-diff";
    o.hang_ms = POP3DIFF_DEFAULT_HANG_MS;
    o.timeout_ms = POP3DIFF_DEFAULT_TIMEOUT_MS;
    o.max_stack = POP3DIFF_DEFAULT_STACK;
    o.max_output = POP3DIFF_DEFAULT_MAX_OUTPUT;
    o.minimise_tries = POP3DIFF_DEFAULT_MINIMISE;
    char *cases = NULL;
    const char *specs[POP3DIFF_MAX_CLIENTS];
    size_t nspecs = 0;
    unsigned long v;
    bool one_shot = false;
    int rc = 2;
    optind = 2;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_CLIENT:
            if (nspecs == POP3DIFF_MAX_CLIENTS) {
                rc = pop3fuzz_usage_error("%s", "--client: at most 16 clients");
                goto out;
            }
            specs[nspecs++] = optarg;
            break;
        case OPT_SECONDS:
            if (!pop3fuzz_parse_ulong(optarg, 1u << 30, &o.seconds)) {
                rc = pop3fuzz_usage_error("--seconds: '%s' is not a number", optarg);
                goto out;
            }
            break;
        case OPT_ITER:
            if (!pop3fuzz_parse_ulong(optarg, 1ul << 40, &o.iterations)) {
                rc = pop3fuzz_usage_error("--iterations: '%s' is not a number", optarg);
                goto out;
            }
            break;
        case OPT_SEED:
            if (!pop3fuzz_parse_ulong(optarg, ~0ul, &v)) {
                rc = pop3fuzz_usage_error("--seed: '%s' is not a number", optarg);
                goto out;
            }
            o.seed = v;
            break;
        case OPT_OUT: o.out_dir = optarg; break;
        case OPT_CASES:
            free(cases);
            cases = xstrdup(optarg);
            break;
        case OPT_FILTER: strlist_add(&o.filters, optarg); break;
        case OPT_HANG:
            if (!pop3fuzz_parse_ulong(optarg, 3600000, &v) || v == 0) {
                rc = pop3fuzz_usage_error("--hang-ms: '%s' is not 1 to 3600000", optarg);
                goto out;
            }
            o.hang_ms = (unsigned)v;
            break;
        case OPT_TIMEOUT:
            if (!pop3fuzz_parse_ulong(optarg, 3600000, &v) || v == 0) {
                rc = pop3fuzz_usage_error("--timeout-ms: '%s' is not 1 to 3600000", optarg);
                goto out;
            }
            o.timeout_ms = (unsigned)v;
            break;
        case OPT_STACK:
            if (!pop3fuzz_parse_ulong(optarg, 64, &v) || v == 0) {
                rc = pop3fuzz_usage_error("--stack: '%s' is not 1 to 64", optarg);
                goto out;
            }
            o.max_stack = (unsigned)v;
            break;
        case OPT_MAX_OUTPUT:
            if (!pop3fuzz_parse_ulong(optarg, 1ul << 32, &v) || v == 0) {
                rc = pop3fuzz_usage_error("--max-output: '%s' is not 1 to 2^32", optarg);
                goto out;
            }
            o.max_output = (size_t)v;
            break;
        case OPT_ONE_SHOT: one_shot = true; break;
        case OPT_MINIMISE:
            if (!pop3fuzz_parse_ulong(optarg, 1u << 20, &o.minimise_tries)) {
                rc = pop3fuzz_usage_error("--minimise-tries: '%s' is not 0 to 1048576", optarg);
                goto out;
            }
            break;
        case 'h':
            fputs(diff_usage, stdout);
            rc = 0;
            goto out;
        case ':': rc = pop3fuzz_usage_error("%s needs a value", argv[optind - 1]); goto out;
        default: rc = pop3fuzz_usage_error("unknown option '%s'", argv[optind - 1]); goto out;
        }
    }
    const char *file = NULL;
    if (replay && optind < argc) file = argv[optind++];
    if (optind < argc) {
        rc = pop3fuzz_usage_error("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!replay && nspecs < 2) {
        rc = pop3fuzz_usage_error("%s", "diff needs two --client at least");
        goto out;
    }
    if (!replay && o.seconds == 0 && o.iterations == 0) o.seconds = POP3DIFF_DEFAULT_SECONDS;
    o.cases_dir = cases != NULL ? cases : (cases = cases_default_dir());
    char err[1024];
    for (size_t k = 0; k < nspecs; k++) {
        conform_client *cl = &o.clients[o.nclients];
        if (!reference_spec(specs[k], cl) &&
            client_spec_prepare(cl, specs[k], o.cases_dir, err, sizeof err) != 0) {
            rc = pop3fuzz_usage_error("%s", err);
            goto out;
        }
        /* An adapter that declares itself persistent serves every run from one process
         * (pop3-conform's contract): no interpreter started per client per run. */
        cl->persistent = !one_shot && cl->command != NULL && cl->file != NULL &&
                         adapter_file_is_persistent(cl->file);
        o.nclients++;
        for (size_t j = 0; j + 1 < o.nclients; j++)
            if (strcmp(o.clients[j].name, cl->name) == 0) {
                rc = pop3fuzz_usage_error("--client: two clients are named '%s' (use NAME=CMD)",
                                          cl->name);
                goto out;
            }
    }
    /* A client that dies between our writes must not take the fuzzer with it. */
    signal(SIGPIPE, SIG_IGN);
    if (replay) {
        o.echo_stderr = true;
        int r = pop3diff_replay(&o, file, stdout, err, sizeof err);
        if (r < 0) fprintf(stderr, "pop3-fuzz: %s\n", err);
        rc = r < 0 ? 2 : r;
        goto out;
    }
    o.progress = isatty(2);
    long n = pop3diff_campaign(&o, stdout, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "pop3-fuzz: %s\n", err);
        rc = 2;
    } else {
        rc = n > 0 ? 1 : 0;
    }
out:
    adapter_persist_close_all();
    free_clients(&o);
    strlist_free(&o.filters);
    free(cases);
    return rc;
}
