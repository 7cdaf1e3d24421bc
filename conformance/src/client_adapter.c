/*
 * client_adapter.c - the operation language run with another client, through an adapter.
 *
 * The adapter contract (conformance/README.md): the runner starts the command with
 * /bin/sh -c, tells it where the mock listens in the environment (POP3_CONFORM_HOST,
 * POP3_CONFORM_PORT, POP3_CONFORM_CAFILE, POP3_CONFORM_OTHER_CAFILE,
 * POP3_CONFORM_TIMEOUT, POP3_CONFORM_CASE), writes the case's client options ("option
 * NAME") and operations (one per line, as written in the case) to its standard input,
 * and reads one block of result lines per operation from its standard output: "ok",
 * "err KIND", or "n/a REASON" when that client cannot express the operation, followed by
 * the values. Standard error is kept for the report. The whole run is bounded by a
 * watchdog and by --max-output.
 *
 * How the command is run is adapter_oneshot.c's (a process per case) or
 * adapter_persist.c's (a long-lived process per worker that gets each case as a frame);
 * this file builds the case's variables and input and reads what came back, the same for
 * both, so a case's verdict does not depend on the mode.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

/*
 * How each adapter command's runs ended, across the threads of a run: a command the shell
 * cannot execute (126) or find (127) on every run is reported once as a usage error by
 * main.c, and the cases not yet run with it are skipped.
 */
typedef struct tally {
    const char *command; /* the client's own string, alive for the whole run */
    size_t runs, cannot;
    char why[256]; /* the first stderr line of such a run */
} tally;

static pthread_mutex_t tally_lock = PTHREAD_MUTEX_INITIALIZER;
static tally *tallies; /* one per client command; grown under tally_lock */
static size_t ntallies, tallies_cap;

/* Under tally_lock; the pointer is valid until the lock is released. */
static tally *tally_find(const char *command, bool add)
{
    for (size_t i = 0; i < ntallies; i++)
        if (strcmp(tallies[i].command, command) == 0) return &tallies[i];
    if (!add) return NULL;
    tallies = xarray_grow(tallies, &tallies_cap, ntallies + 1, sizeof *tallies);
    tallies[ntallies] = (tally){.command = command};
    return &tallies[ntallies++];
}

static void tally_note(const char *command, bool cannot, const pop3_buf *err)
{
    pthread_mutex_lock(&tally_lock);
    tally *t = tally_find(command, true);
    if (t != NULL) {
        t->runs++;
        if (cannot && t->cannot++ == 0) {
            const char *e = err->ptr != NULL ? err->ptr : "";
            size_t n = strcspn(e, "\n");
            snprintf(t->why, sizeof t->why, "%.*s", (int)n, e);
        }
    }
    pthread_mutex_unlock(&tally_lock);
}

bool adapter_cannot_start(const char *command, char *why, size_t len)
{
    pthread_mutex_lock(&tally_lock);
    tally *t = tally_find(command, false);
    bool cannot = t != NULL && t->runs > 0 && t->cannot == t->runs;
    if (cannot) snprintf(why, len, "%s", t->why[0] ? t->why : "exit status 126/127");
    pthread_mutex_unlock(&tally_lock);
    return cannot;
}

size_t adapter_runs(const char *command)
{
    pthread_mutex_lock(&tally_lock);
    tally *t = tally_find(command, false);
    size_t n = t != NULL ? t->runs : 0;
    pthread_mutex_unlock(&tally_lock);
    return n;
}

static void add_env(strlist *env, const char *name, const char *value)
{
    pop3_buf b = {0};
    cbuf_printf(&b, "%s=%s", name, value);
    strlist_take(env, cbuf_take(&b));
}

static bool is_status(const char *l)
{
    return strcmp(l, "ok") == 0 || strncmp(l, "err ", 4) == 0 || strcmp(l, "err") == 0 ||
           strncmp(l, "n/a", 3) == 0;
}

static bool reporting(const char *text)
{
    static const char *const names[] = {"quirks", "anomalies", "capabilities", "pipelining"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(text, names[i]) == 0) return true;
    return false;
}

static void parse_output(const conform_case *c, const char *text, size_t len, client_output *out)
{
    size_t op = 0;
    bool started = false;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
            n--;
        char *l = xstrndup(p, n);
        p += (nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p));
        if (n == 0) {
            free(l);
            continue;
        }
        if (is_status(l)) {
            if (started) op++;
            started = true;
            if (op >= c->nops) {
                cbuf_printf(&out->problems,
                            "the adapter printed more results than operations: %s\n", l);
                free(l);
                continue;
            }
            if (strncmp(l, "n/a", 3) == 0 && !reporting(c->ops[op].text) && out->na == NULL) {
                const char *why = l + 3;
                while (*why == ' ')
                    why++;
                pop3_buf b = {0};
                cbuf_printf(&b, "%s: %s", c->ops[op].text, *why ? why : "not supported");
                out->na = cbuf_take(&b);
            }
        } else if (!started || op >= c->nops) {
            cbuf_printf(&out->problems, "the adapter printed a line outside any result: %s\n", l);
            free(l);
            continue;
        }
        strlist_take(&out->ops[op].lines, l);
    }
}

void client_adapter_run(const conform_case *c, const conform_client *cl, const client_env *env,
                        const run_config *cfg, client_output *out)
{
    memset(out, 0, sizeof *out);
    out->ops = xcalloc(c->nops, sizeof *out->ops);
    out->nops = c->nops;

    pop3_buf input = {0};
    for (size_t i = 0; i < c->options.n; i++)
        cbuf_printf(&input, "option %s\n", c->options.v[i]);
    for (size_t i = 0; i < c->nops; i++)
        cbuf_printf(&input, "%s\n", c->ops[i].text);

    strlist vars = {0};
    char tmp[64];
    add_env(&vars, "POP3_CONFORM_HOST", env->host);
    snprintf(tmp, sizeof tmp, "%u", env->port);
    add_env(&vars, "POP3_CONFORM_PORT", tmp);
    add_env(&vars, "POP3_CONFORM_CAFILE", env->ca_file);
    add_env(&vars, "POP3_CONFORM_OTHER_CAFILE", env->other_ca_file);
    snprintf(tmp, sizeof tmp, "%.3f", env->timeout_ms / 1000.0);
    add_env(&vars, "POP3_CONFORM_TIMEOUT", tmp);
    add_env(&vars, "POP3_CONFORM_CASE", c->id);

    adapter_case ac = {.command = cl->command,
                       .env = &vars,
                       .input = input.ptr != NULL ? input.ptr : "",
                       .len = input.len,
                       .watchdog_ms = cfg->watchdog_ms,
                       .max_output = cfg->max_output};
    adapter_result res = {0};
    if (cl->persistent)
        adapter_persist_run(&ac, &res);
    else
        adapter_oneshot_run(&ac, &res);

    /* From here on both modes are one: the verdict cannot tell them apart. */
    if (res.problem.len > 0)
        cbuf_add(&out->problems, res.problem.ptr, res.problem.len);
    else if (res.exited && res.status != 0)
        cbuf_printf(&out->problems, "the adapter exited with status %d\n", res.status);
    else if (res.signal != 0)
        cbuf_printf(&out->problems, "the adapter died of signal %d\n", res.signal);
    if (res.err.len > 0) cbuf_add(&out->log, res.err.ptr, res.err.len);
    tally_note(cl->command, res.cannot_start, &out->log);
    parse_output(c, res.out.ptr != NULL ? res.out.ptr : "", res.out.len, out);
    adapter_result_free(&res);
    cbuf_free(&input);
    strlist_free(&vars);
}
