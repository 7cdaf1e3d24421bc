/*
 * main.c - the `pop3-conform` command: the conformance suite runner and the server probe.
 *
 *   pop3-conform [--cases DIR] [--filter GLOB]... [-j N] [--tap] [--junit FILE] [--github]
 *                [--client [NAME=]COMMAND]... [--no-reference] [--no-drip] [-v|-vv]
 *   pop3-conform --probe HOST:PORT --user U [--tls | --starttls] [--cafile F] ...
 *
 * The contract (README.md, pop3-conform.1): one line per case with its RFC section, then
 * "N passed, N failed" as the last line; exit status 0 all passed, 1 something failed,
 * 2 usage (a --client that cannot be started included) or a case file error.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_usage.h"
#include "adapter.h"
#include "conform.h"
#include "quirk_names.h"

static const char usage_text[] =
    "usage: pop3-conform [options]                 run the conformance suite\n"
    "       pop3-conform --probe HOST:PORT --user U [probe options]\n"
    "\n"
    "  --cases DIR          case files (default: $POP3_CONFORM_CASES, conformance/cases,\n"
    "                       the installed share/pop3kit/cases, the source tree's)\n"
    "  --filter GLOB        only cases whose name matches (repeatable; fnmatch syntax)\n"
    "  -j, --jobs N         cases run at once (default: twice the CPUs)\n"
    "  --tap                TAP 13 on standard output instead of the text report\n"
    "  --junit FILE         also write JUnit XML to FILE\n"
    "  --github             GitHub Actions annotations for failures (default when\n"
    "                       GITHUB_ACTIONS=true); --no-github turns them off\n"
    "  --client [NAME=]CMD  also run the cases with another client through an adapter\n"
    "                       (repeatable; relative adapter paths are also looked for\n"
    "                       beside the cases folder)\n"
    "  --no-reference       with --client: do not run the reference client\n"
    "  --no-drip            only the delivery with replies written whole\n"
    "  --timeout MS         client read timeout (default 5000)\n"
    "  --watchdog MS        longest run of one case and client (default 30000)\n"
    "  --max-output OCTETS  most an adapter may write for one case, standard output\n"
    "                       and error together (default 16777216)\n"
    "  --one-shot           a process per case for every adapter, even one that\n"
    "                       declares itself persistent\n"
    "  --persistent         every adapter serves many cases in one process (README)\n"
    "  --list               list the cases and what they cover, run nothing\n"
    "  -v, --verbose        details of every client's failures (peers too);\n"
    "                       -vv also n/a reasons and transcripts of passing cases\n"
    "  -h, --help, --version\n"
    "\n"
    "Exit status: 0 every case passed, 1 a case failed, 2 usage, a case file error,\n"
    "or a --client command that cannot be started.\n"
    "Probe options: pop3-conform --probe --help. Manual: pop3-conform(1).\n";

typedef struct runner {
    conform_case **cases;
    size_t ncases;
    conform_client *clients;
    size_t nclients;
    case_outcome *outcomes;
    run_config cfg;
    conform_report rep;
} runner;

/* Runs of an adapter that could not be started before its client is given up: enough to
 * tell a missing program from one case that makes an adapter exit 127 by itself. */
#define CANNOT_START_RUNS 2

static void job(void *ud, size_t j)
{
    runner *r = ud;
    size_t i = j / r->nclients, k = j % r->nclients;
    const conform_client *cl = &r->clients[k];
    char why[256];
    if (cl->command != NULL && adapter_runs(cl->command) >= CANNOT_START_RUNS &&
        adapter_cannot_start(cl->command, why, sizeof why)) {
        /* The shell cannot run it: main reports that once instead of every case. */
        memset(&r->outcomes[j], 0, sizeof r->outcomes[j]);
        r->outcomes[j].v = V_FAIL;
        cbuf_printf(&r->outcomes[j].detail, "  not run: the client command cannot be started\n");
        return;
    }
    case_run(r->cases[i], cl, &r->cfg, &r->outcomes[j]);
}

static void job_done(void *ud, size_t j)
{
    runner *r = ud;
    /* A case's line is printed with its last client. */
    if (j % r->nclients != r->nclients - 1) return;
    size_t i = j / r->nclients;
    if (r->rep.tap)
        report_tap_case(&r->rep, i);
    else
        report_case_line(&r->rep, i);
}

static void free_clients(runner *r)
{
    for (size_t k = 0; k < r->nclients; k++) {
        free(r->clients[k].name);
        free(r->clients[k].command);
        free(r->clients[k].file);
    }
    free(r->clients);
    r->clients = NULL;
    r->nclients = 0;
}

/* Two clients with one column name get "-2", "-3": the table must tell them apart. */
static void unique_names(runner *r)
{
    for (size_t k = 1; k < r->nclients; k++) {
        unsigned n = 1;
        for (size_t m = 0; m < k; m++)
            if (strcmp(r->clients[m].name, r->clients[k].name) == 0) n++;
        if (n == 1) continue;
        pop3_buf b = {0};
        cbuf_printf(&b, "%s-%u", r->clients[k].name, n);
        free(r->clients[k].name);
        r->clients[k].name = cbuf_take(&b);
    }
}

enum {
    OPT_CASES = 256,
    OPT_FILTER,
    OPT_TAP,
    OPT_JUNIT,
    OPT_GITHUB,
    OPT_NO_GITHUB,
    OPT_CLIENT,
    OPT_NO_REFERENCE,
    OPT_NO_DRIP,
    OPT_TIMEOUT,
    OPT_WATCHDOG,
    OPT_MAX_OUTPUT,
    OPT_ONE_SHOT,
    OPT_PERSISTENT,
    OPT_LIST,
    OPT_VERSION,
    OPT_PROBE,
};

static const struct option long_options[] = {
    {"cases", required_argument, NULL, OPT_CASES},
    {"filter", required_argument, NULL, OPT_FILTER},
    {"jobs", required_argument, NULL, 'j'},
    {"tap", no_argument, NULL, OPT_TAP},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"github", no_argument, NULL, OPT_GITHUB},
    {"no-github", no_argument, NULL, OPT_NO_GITHUB},
    {"client", required_argument, NULL, OPT_CLIENT},
    {"no-reference", no_argument, NULL, OPT_NO_REFERENCE},
    {"no-drip", no_argument, NULL, OPT_NO_DRIP},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"watchdog", required_argument, NULL, OPT_WATCHDOG},
    {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
    {"one-shot", no_argument, NULL, OPT_ONE_SHOT},
    {"persistent", no_argument, NULL, OPT_PERSISTENT},
    {"list", no_argument, NULL, OPT_LIST},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"probe", required_argument, NULL, OPT_PROBE},
    {NULL, 0, NULL, 0},
};

/* Is this run a probe? "--probe" anywhere before "--" (its options differ: --timeout is
 * in seconds there), abbreviations included. */
static bool probe_requested(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) return false;
        size_t n = strcspn(a, "=");
        if (n >= 5 && strncmp(a, "--probe", n) == 0) return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    if (probe_requested(argc, argv)) return probe_main(argc, argv);

    runner r;
    memset(&r, 0, sizeof r);
    const char *cases_arg = NULL;
    const char *junit = NULL;
    strlist globs = {0}, specs = {0};
    uint64_t jobs = 0, v = 0;
    int verbose = 0;
    bool tap = false, list = false, no_ref = false;
    const char *ga = getenv("GITHUB_ACTIONS");
    bool github = ga != NULL && strcmp(ga, "true") == 0;
    r.cfg.timeout_ms = 5000;
    r.cfg.watchdog_ms = 30000;
    r.cfg.max_output = (size_t)16 << 20;
    bool one_shot = false, persistent = false;
    int c, rc = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hj:v", long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            rc = 0;
            goto out_args;
        case OPT_VERSION: rc = conform_version(); goto out_args;
        case OPT_CASES: cases_arg = optarg; break;
        case OPT_FILTER: strlist_add(&globs, optarg); break;
        case 'j':
            rc = pop3__arg_number("pop3-conform", "--jobs", "a number", optarg, 1, 256, &jobs);
            if (rc != 0) goto out_args;
            break;
        case OPT_TAP: tap = true; break;
        case OPT_JUNIT: junit = optarg; break;
        case OPT_GITHUB: github = true; break;
        case OPT_NO_GITHUB: github = false; break;
        case OPT_CLIENT:
            if (*optarg == '\0') {
                rc = conform_usage_error("--client wants a command, not an empty string");
                goto out_args;
            }
            strlist_add(&specs, optarg);
            break;
        case OPT_NO_REFERENCE: no_ref = true; break;
        case OPT_NO_DRIP: r.cfg.whole_only = true; break;
        case OPT_TIMEOUT:
            rc = pop3__arg_number("pop3-conform", "--timeout", "milliseconds", optarg, 1, 600000,
                                  &v);
            if (rc != 0) goto out_args;
            r.cfg.timeout_ms = (int)v;
            break;
        case OPT_WATCHDOG:
            rc = pop3__arg_number("pop3-conform", "--watchdog", "milliseconds", optarg, 100,
                                  3600000, &v);
            if (rc != 0) goto out_args;
            r.cfg.watchdog_ms = (int)v;
            break;
        case OPT_MAX_OUTPUT:
            rc = pop3__arg_number("pop3-conform", "--max-output", "octets", optarg, 1,
                                  (uint64_t)1 << 40, &v);
            if (rc != 0) goto out_args;
            r.cfg.max_output = (size_t)v;
            break;
        case OPT_ONE_SHOT: one_shot = true; break;
        case OPT_PERSISTENT: persistent = true; break;
        case OPT_LIST: list = true; break;
        case 'v': verbose++; break;
        default: rc = conform_getopt_error(c, argv, long_options); goto out_args;
        }
    }
    if (optind < argc) {
        rc = conform_usage_error("unexpected argument '%s'", argv[optind]);
        goto out_args;
    }
    if (one_shot && persistent) {
        rc = conform_usage_error("--one-shot and --persistent exclude each other");
        goto out_args;
    }
    if (no_ref && specs.n == 0) {
        rc = conform_usage_error("--no-reference needs at least one --client");
        goto out_args;
    }

    /* Option parsing set rc to 0 on every number it read: from here on a path to `done`
     * without a verdict is a usage or case file error. */
    rc = 2;
    char *cases_dir = cases_arg != NULL ? xstrdup(cases_arg) : cases_default_dir();
    char err[2048];
    strlist paths = {0};
    conform_tls tls;
    memset(&tls, 0, sizeof tls);
    size_t clients_cap = 0;
    if (!no_ref) {
        r.clients = xarray_grow(r.clients, &clients_cap, 1, sizeof *r.clients);
        r.clients[r.nclients++] = (conform_client){.name = xstrdup("pop3kit")};
    }
    for (size_t i = 0; i < specs.n; i++) {
        r.clients = xarray_grow(r.clients, &clients_cap, r.nclients + 1, sizeof *r.clients);
        if (client_spec_prepare(&r.clients[r.nclients], specs.v[i], cases_dir, err, sizeof err) !=
            0) {
            /* One line: the reason is the whole story, the usage would bury it. */
            fprintf(stderr, "pop3-conform: %s\n", err);
            goto done;
        }
        conform_client *cl = &r.clients[r.nclients++];
        cl->persistent =
            !one_shot && (persistent || (cl->file != NULL && adapter_file_is_persistent(cl->file)));
    }
    unique_names(&r);
    if (cases_list(cases_dir, &globs, &paths, err, sizeof err) != 0) {
        fprintf(stderr, "pop3-conform: %s\n", err);
        goto done;
    }
    if (paths.n == 0) {
        fprintf(stderr, "pop3-conform: no case under %s matches\n", cases_dir);
        goto done;
    }
    r.cases = xcalloc(paths.n, sizeof *r.cases);
    for (size_t i = 0; i < paths.n; i++) {
        r.cases[i] = case_load(paths.v[i], err, sizeof err);
        if (r.cases[i] == NULL) {
            fprintf(stderr, "pop3-conform: %s\n", err);
            goto done;
        }
        r.ncases++;
    }
    if (list) {
        for (size_t i = 0; i < r.ncases; i++) {
            printf("%-44s  %-20s ", r.cases[i]->id, r.cases[i]->section);
            for (size_t j = 0; j < r.cases[i]->covers.n; j++) {
                char label[96]; /* a quirk id with its catalogue name: "Q6 (bare-lf)" */
                printf(" %s",
                       pop3conform_quirk_annotate(r.cases[i]->covers.v[j], label, sizeof label));
            }
            printf("\n");
        }
        printf("%zu cases\n", r.ncases);
        rc = 0;
        goto done;
    }

    signal(SIGPIPE, SIG_IGN); /* an adapter that exits early must not kill the runner */
    if (tls_fixture_make(&tls, err, sizeof err) != 0) {
        fprintf(stderr, "pop3-conform: %s\n", err);
        goto done;
    }
    r.cfg.tls = &tls;
    r.cfg.verbose = verbose >= 2;
    r.outcomes = xcalloc(r.ncases * r.nclients, sizeof *r.outcomes);
    r.rep = (conform_report){.cases = r.cases,
                             .ncases = r.ncases,
                             .clients = r.clients,
                             .nclients = r.nclients,
                             .outcomes = r.outcomes,
                             .tap = tap,
                             .verbose = verbose,
                             .out = stdout};
    if (jobs == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus > 0 ? 2 * (uint64_t)cpus : 2;
    }
    if (tap) report_tap_plan(&r.rep);
    pool_run(r.ncases * r.nclients, (unsigned)jobs, job, job_done, &r);
    adapter_persist_close_all();
    /* A client whose every run the shell could not start is a usage error, not N failed
     * cases: the check before the run catches most, this catches the rest (a missing
     * interpreter in a "#!" line, a command built with shell expansions). */
    for (size_t k = 0; k < r.nclients; k++) {
        char why[256];
        if (r.clients[k].command == NULL ||
            !adapter_cannot_start(r.clients[k].command, why, sizeof why))
            continue;
        fflush(stdout);
        fprintf(stderr, "pop3-conform: --client %s: '%s' cannot be started: %s\n",
                r.clients[k].name, r.clients[k].command, why);
        goto done;
    }
    size_t passed = 0, failed = 0;
    if (!tap) {
        report_summary(&r.rep, &passed, &failed);
    } else {
        for (size_t i = 0; i < r.ncases * r.nclients; i++) {
            passed += r.outcomes[i].v == V_PASS;
            failed += r.outcomes[i].v == V_FAIL;
        }
    }
    rc = failed > 0 ? 1 : 0;
    if (junit != NULL && report_junit(&r.rep, junit, err, sizeof err) != 0) {
        fprintf(stderr, "pop3-conform: %s\n", err);
        rc = rc == 0 ? 2 : rc;
    }
    if (github) report_github(&r.rep);
    /* The closing line, exactly: CI reads it. */
    printf("%zu passed, %zu failed\n", passed, failed);
    fflush(stdout);
done:
    tls_fixture_remove(&tls);
    for (size_t i = 0; r.outcomes != NULL && i < r.ncases * r.nclients; i++)
        cbuf_free(&r.outcomes[i].detail);
    for (size_t i = 0; i < r.ncases; i++)
        case_free(r.cases[i]);
    free(r.cases);
    free(r.outcomes);
    strlist_free(&paths);
    free(cases_dir);
out_args:
    free_clients(&r);
    strlist_free(&globs);
    strlist_free(&specs);
    return rc;
}
