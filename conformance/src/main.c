/*
 * main.c - the `pop3-conform` command: the conformance suite runner and the server probe.
 *
 *   pop3-conform [--cases DIR] [--filter GLOB]... [-j N] [--tap] [--junit FILE]
 *                [--client [NAME=]COMMAND]... [--no-reference] [--no-drip] [-v]
 *   pop3-conform --probe HOST:PORT --user U [--tls | --starttls] [--cafile F] ...
 *
 * The contract (README.md here): one line per case with its RFC section, then
 * "N passed, N failed" as the last line, exit status 1 when anything failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conform.h"
#include "quirk_names.h"

#ifndef POP3_CONFORM_CASES_DIR
#define POP3_CONFORM_CASES_DIR "conformance/cases"
#endif
#ifndef POP3KIT_VERSION
#define POP3KIT_VERSION "0"
#endif

static const char usage_text[] =
    "usage: pop3-conform [options]                 run the conformance suite\n"
    "       pop3-conform --probe HOST:PORT --user U [probe options]\n"
    "\n"
    "  --cases DIR          case files (default: conformance/cases, or $POP3_CONFORM_CASES)\n"
    "  --filter GLOB        only cases whose name matches (repeatable; fnmatch syntax)\n"
    "  -j, --jobs N         cases run at once (default: twice the CPUs)\n"
    "  --tap                TAP 13 on standard output instead of the text report\n"
    "  --junit FILE         also write JUnit XML to FILE\n"
    "  --client [NAME=]CMD  also run the cases with another client through an adapter\n"
    "                       (repeatable; conformance/README.md describes the contract)\n"
    "  --no-reference       with --client: do not run the reference client\n"
    "  --no-drip            only the delivery with replies written whole\n"
    "  --timeout MS         client read timeout (default 5000)\n"
    "  --watchdog MS        longest run of one case and client (default 30000)\n"
    "  --list               list the cases and what they cover, run nothing\n"
    "  -v, --verbose        details of every failure (peers too) and of passing cases\n"
    "  --help, --version\n"
    "\n"
    "Probe options (read-only unless --destructive): --tls, --starttls, --cafile FILE,\n"
    "--insecure, --password-file FILE (else $POP3_PASSWORD), --timeout SECONDS,\n"
    "--destructive, --idle SECONDS. pop3-conform --probe --help says more.\n";

typedef struct runner {
    conform_case **cases;
    size_t ncases;
    conform_client *clients;
    size_t nclients;
    case_outcome *outcomes;
    run_config cfg;
    conform_report rep;
} runner;

static void job(void *ud, size_t j)
{
    runner *r = ud;
    size_t i = j / r->nclients, k = j % r->nclients;
    case_run(r->cases[i], &r->clients[k], &r->cfg, &r->outcomes[j]);
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

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void add_client(runner *r, const char *spec)
{
    const char *eq = strchr(spec, '=');
    size_t nl = 0;
    if (eq != NULL) {
        nl = (size_t)(eq - spec);
        for (size_t i = 0; i < nl; i++) {
            char ch = spec[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.')) {
                nl = 0;
                break;
            }
        }
    }
    r->clients = xrealloc(r->clients, (r->nclients + 1) * sizeof *r->clients);
    conform_client *cl = &r->clients[r->nclients++];
    if (nl > 0) {
        cl->name = xstrndup(spec, nl);
        cl->command = xstrdup(eq + 1);
        return;
    }
    cl->command = xstrdup(spec);
    /* The name from the command's first word: ".../poplib_adapter.py" -> "poplib". */
    size_t wl = strcspn(spec, " \t");
    const char *base = spec;
    for (size_t i = 0; i < wl; i++)
        if (spec[i] == '/') base = spec + i + 1;
    size_t bl = (size_t)(spec + wl - base);
    const char *dot = memchr(base, '.', bl);
    if (dot != NULL) bl = (size_t)(dot - base);
    if (bl > 8 && strncmp(base + bl - 8, "_adapter", 8) == 0) bl -= 8;
    cl->name = xstrndup(base, bl > 0 ? bl : 1);
}

static long number_arg(const char *s, long lo, long hi)
{
    char *e;
    long v = s != NULL ? strtol(s, &e, 10) : 0;
    if (s == NULL || *s == '\0' || *e != '\0' || v < lo || v > hi) return -1;
    return v;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--probe") == 0) return probe_main(argc, argv);

    runner r;
    memset(&r, 0, sizeof r);
    const char *cases_dir = NULL;
    const char *junit = NULL;
    strlist globs = {0};
    long jobs = 0;
    bool tap = false, list = false, no_ref = false, verbose = false;
    r.cfg.timeout_ms = 5000;
    r.cfg.watchdog_ms = 30000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("pop3-conform %s\n", POP3KIT_VERSION);
            return 0;
        } else if (strcmp(a, "--cases") == 0 && v != NULL) {
            cases_dir = v;
            i++;
        } else if (strcmp(a, "--filter") == 0 && v != NULL) {
            strlist_add(&globs, v);
            i++;
        } else if ((strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) &&
                   (jobs = number_arg(v, 1, 256)) > 0) {
            i++;
        } else if (strncmp(a, "-j", 2) == 0 && a[2] != '\0' &&
                   (jobs = number_arg(a + 2, 1, 256)) > 0) {
        } else if (strcmp(a, "--tap") == 0) {
            tap = true;
        } else if (strcmp(a, "--junit") == 0 && v != NULL) {
            junit = v;
            i++;
        } else if (strcmp(a, "--client") == 0 && v != NULL && *v != '\0') {
            add_client(&r, v);
            i++;
        } else if (strcmp(a, "--no-reference") == 0) {
            no_ref = true;
        } else if (strcmp(a, "--no-drip") == 0) {
            r.cfg.whole_only = true;
        } else if (strcmp(a, "--timeout") == 0 && number_arg(v, 1, 600000) > 0) {
            r.cfg.timeout_ms = (int)number_arg(v, 1, 600000);
            i++;
        } else if (strcmp(a, "--watchdog") == 0 && number_arg(v, 100, 3600000) > 0) {
            r.cfg.watchdog_ms = (int)number_arg(v, 100, 3600000);
            i++;
        } else if (strcmp(a, "--list") == 0) {
            list = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = true;
        } else {
            fprintf(stderr, "pop3-conform: unknown or incomplete option \"%s\"\n%s", a, usage_text);
            for (size_t k = 0; k < r.nclients; k++) {
                free(r.clients[k].name);
                free(r.clients[k].command);
            }
            free(r.clients);
            strlist_free(&globs);
            return 2;
        }
    }
    if (no_ref && r.nclients == 0) {
        fputs("pop3-conform: --no-reference needs at least one --client\n", stderr);
        strlist_free(&globs);
        free(r.clients);
        return 2;
    }
    if (!no_ref) {
        /* The reference client comes first in every table. */
        r.clients = xrealloc(r.clients, (r.nclients + 1) * sizeof *r.clients);
        memmove(r.clients + 1, r.clients, r.nclients * sizeof *r.clients);
        r.clients[0] = (conform_client){.name = xstrdup("pop3kit"), .command = NULL};
        r.nclients++;
    }
    if (cases_dir == NULL) cases_dir = getenv("POP3_CONFORM_CASES");
    if (cases_dir == NULL || *cases_dir == '\0')
        cases_dir = is_dir("conformance/cases") ? "conformance/cases" : POP3_CONFORM_CASES_DIR;

    char err[2048];
    strlist paths = {0};
    int rc = 2;
    conform_tls tls;
    memset(&tls, 0, sizeof tls);
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
    r.cfg.verbose = verbose;
    r.outcomes = xcalloc(r.ncases * r.nclients, sizeof *r.outcomes);
    r.rep = (conform_report){.cases = r.cases,
                             .ncases = r.ncases,
                             .clients = r.clients,
                             .nclients = r.nclients,
                             .outcomes = r.outcomes,
                             .tap = tap,
                             .verbose = verbose,
                             .out = stdout};
    if (jobs <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus > 0 ? 2 * cpus : 2;
    }
    if (tap) report_tap_plan(&r.rep);
    pool_run(r.ncases * r.nclients, (unsigned)jobs, job, job_done, &r);
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
    /* The closing line, exactly: CI reads it. */
    printf("%zu passed, %zu failed\n", passed, failed);
    fflush(stdout);
done:
    tls_fixture_remove(&tls);
    for (size_t i = 0; r.outcomes != NULL && i < r.ncases * r.nclients; i++)
        cbuf_free(&r.outcomes[i].detail);
    for (size_t i = 0; i < r.ncases; i++)
        case_free(r.cases[i]);
    for (size_t k = 0; k < r.nclients; k++) {
        free(r.clients[k].name);
        free(r.clients[k].command);
    }
    free(r.clients);
    free(r.cases);
    free(r.outcomes);
    strlist_free(&paths);
    strlist_free(&globs);
    return rc;
}
