/*
 * adapter_persist.c - persistent adapters: one long-lived process per worker thread and
 * command, started with POP3_CONFORM_ADAPTER_MODE=persistent, that serves the thread's
 * cases one at a time: a request frame on its standard input, a reply frame on its
 * standard output (adapter_frame.c; the contract is in conformance/README.md).
 *
 * A process that dies, does not answer within the watchdog, writes a malformed frame or a
 * reply past --max-output ends that case with a problem that says so; it is stopped (its
 * process group killed) and the thread starts a fresh one for its next case. Its own
 * standard error, outside the frames (an interpreter's traceback when it dies), is added
 * to the case's log.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapter.h"

extern char **environ;

/* The most octets of the process's own standard error added to one case's log. */
#define PROC_ERR_MAX 65536

typedef struct persist_proc {
    pthread_t owner;
    const char *command; /* the client's own string, alive for the whole run */
    adapter_proc p;
    size_t served; /* cases this process has answered */
} persist_proc;

/* Every process of the run, each used by its owner thread only; the list is shared so
 * that adapter_persist_close_all finds them when the workers are gone. */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static persist_proc **all;
static size_t nall, all_cap;

static persist_proc *mine(const char *command)
{
    pthread_t self = pthread_self();
    persist_proc *pp = NULL;
    pthread_mutex_lock(&all_lock);
    for (size_t i = 0; i < nall && pp == NULL; i++)
        if (pthread_equal(all[i]->owner, self) && strcmp(all[i]->command, command) == 0)
            pp = all[i];
    if (pp == NULL) {
        pp = xcalloc(1, sizeof *pp);
        *pp = (persist_proc){
            .owner = self, .command = command, .p = {.in = -1, .out = -1, .err = -1}};
        all = xarray_grow(all, &all_cap, nall + 1, sizeof *all);
        all[nall++] = pp;
    }
    pthread_mutex_unlock(&all_lock);
    return pp;
}

static int start(persist_proc *pp, pop3_buf *why)
{
    strlist envv = {0};
    for (char **e = environ; *e != NULL; e++)
        if (strncmp(*e, "POP3_CONFORM_", 13) != 0) strlist_add(&envv, *e);
    strlist_add(&envv, ADAPTER_MODE_VAR "=persistent");
    strlist_take(&envv, NULL);
    int rc = adapter_proc_start(&pp->p, pp->command, envv.v, why);
    strlist_free(&envv);
    pp->served = 0;
    return rc;
}

typedef struct persist_read {
    adapter_frame_reader fr;
    adapter_frame_status st;
    adapter_result *res;
    pop3_buf proc_err; /* the process's own standard error during this case */
} persist_read;

static bool on_out(void *ud, const char *p, size_t n)
{
    persist_read *r = ud;
    size_t used = 0;
    r->st = adapter_frame_feed(&r->fr, p, n, &used, r->res);
    if (r->st == FRAME_DONE && used < n) {
        r->st = FRAME_BAD;
        snprintf(r->fr.why, sizeof r->fr.why, "%zu octets after the end of the reply", n - used);
    }
    return r->st == FRAME_MORE;
}

static void on_err(void *ud, const char *p, size_t n)
{
    persist_read *r = ud;
    if (r->proc_err.len < PROC_ERR_MAX) cbuf_add(&r->proc_err, p, n);
}

static void how_it_ended(pop3_buf *b, int wst)
{
    if (WIFEXITED(wst))
        cbuf_printf(b, "exit status %d", WEXITSTATUS(wst));
    else if (WIFSIGNALED(wst))
        cbuf_printf(b, "signal %d", WTERMSIG(wst));
    else
        cbuf_puts(b, "killed");
}

void adapter_persist_run(const adapter_case *ac, adapter_result *res)
{
    persist_proc *pp = mine(ac->command);
    int wst = 0;
    /* One that ended between cases (of itself) is started again without a word. */
    if (pp->p.pid > 0 && waitpid(pp->p.pid, &wst, WNOHANG) == pp->p.pid) {
        pp->p.pid = 0;
        adapter_proc_reap(&pp->p, 0, &wst);
    }
    if (pp->p.pid <= 0 && start(pp, &res->problem) != 0) return;

    pop3_buf req = {0};
    adapter_frame_request(&req, ac->env, ac->input, ac->len);
    persist_read r = {.fr = {.limit = ac->max_output}, .st = FRAME_MORE, .res = res};
    adapter_sink sink = {.out = on_out, .err = on_err, .ud = &r};
    adapter_pump_end end = adapter_proc_pump(&pp->p, req.ptr, req.len, false, false,
                                             mono_ms() + ac->watchdog_ms, &sink);
    cbuf_free(&req);
    if (end == PUMP_STOPPED && r.st == FRAME_DONE && pp->p.unwritten > 0) {
        r.st = FRAME_BAD;
        snprintf(r.fr.why, sizeof r.fr.why,
                 "a reply before the adapter had read the whole request (%zu octets not read)",
                 pp->p.unwritten);
    }
    if (end == PUMP_STOPPED && r.st == FRAME_DONE) {
        pp->served++;
    } else {
        const char *again = "; it is restarted for the next case";
        if (end == PUMP_STOPPED && r.st == FRAME_TOO_BIG) {
            adapter_proc_kill(&pp->p, &wst);
            cbuf_printf(&res->problem,
                        "the persistent adapter's reply passed --max-output (%zu octets of "
                        "standard output and error) and it was killed%s\n",
                        ac->max_output, again);
        } else if (end == PUMP_STOPPED) {
            adapter_proc_kill(&pp->p, &wst);
            cbuf_printf(&res->problem,
                        "the persistent adapter wrote a malformed reply frame: %s; it was "
                        "killed%s\n",
                        r.fr.why, again);
        } else if (end == PUMP_EOF) {
            bool first = pp->served == 0 && r.fr.total == 0;
            adapter_proc_reap(&pp->p, 1000, &wst);
            cbuf_printf(&res->problem, "the persistent adapter ended (");
            how_it_ended(&res->problem, wst);
            cbuf_printf(&res->problem,
                        ") before its reply to this case was complete (%zu octets of it came)%s\n",
                        r.fr.total, again);
            res->cannot_start =
                first && WIFEXITED(wst) && (WEXITSTATUS(wst) == 126 || WEXITSTATUS(wst) == 127);
        } else if (end == PUMP_TIMEOUT) {
            adapter_proc_kill(&pp->p, &wst);
            cbuf_printf(&res->problem,
                        "the persistent adapter did not answer within %d ms and was killed%s\n",
                        ac->watchdog_ms, again);
        } else {
            adapter_proc_kill(&pp->p, &wst);
            cbuf_printf(&res->problem, "poll: %s; the adapter was killed%s\n", strerror(errno),
                        again);
        }
        /* What a broken reply said is not a result. */
        cbuf_free(&res->out);
        res->exited = false;
        res->status = 0;
    }
    if (r.proc_err.len > 0) {
        /* Alone it is the whole story (a shell that cannot find the interpreter says so
         * on the first line, which main.c reports); after the case's own, it is marked. */
        if (res->err.len > 0)
            cbuf_puts(&res->err, "(the persistent adapter's own standard error:)\n");
        cbuf_add(&res->err, r.proc_err.ptr, r.proc_err.len);
    }
    cbuf_free(&r.proc_err);
}

void adapter_persist_close_all(void)
{
    pthread_mutex_lock(&all_lock);
    /* End of input first, for all at once: each then ends by itself. */
    for (size_t i = 0; i < nall; i++)
        if (all[i]->p.in >= 0) {
            close(all[i]->p.in);
            all[i]->p.in = -1;
        }
    int64_t until = mono_ms() + 2000;
    for (size_t i = 0; i < nall; i++) {
        int wst;
        int64_t left = until - mono_ms();
        adapter_proc_reap(&all[i]->p, left > 0 ? (int)left : 0, &wst);
        free(all[i]);
    }
    free(all);
    all = NULL;
    nall = all_cap = 0;
    pthread_mutex_unlock(&all_lock);
}
