/*
 * adapter_oneshot.c - one case, one process: the adapter is started for the case with the
 * case's variables in its environment, gets the operations on its standard input, which
 * is then closed, and its standard output and error are read until both end. The
 * watchdog and --max-output bound the run; its process group is killed past either.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <sys/wait.h>

#include "adapter.h"

extern char **environ;

typedef struct oneshot {
    adapter_result *res;
    size_t seen, max; /* octets of standard output and error together, and the limit */
    bool too_big;
} oneshot;

static bool on_out(void *ud, const char *p, size_t n)
{
    oneshot *o = ud;
    o->seen += n;
    if (o->seen > o->max) {
        o->too_big = true;
        return false;
    }
    cbuf_add(&o->res->out, p, n);
    return true;
}

static void on_err(void *ud, const char *p, size_t n)
{
    oneshot *o = ud;
    o->seen += n;
    if (o->seen > o->max) o->too_big = true;
    if (o->res->err.len < ADAPTER_LOG_MAX) cbuf_add(&o->res->err, p, n);
}

void adapter_oneshot_run(const adapter_case *ac, adapter_result *res)
{
    strlist envv = {0};
    for (char **e = environ; *e != NULL; e++)
        if (strncmp(*e, "POP3_CONFORM_", 13) != 0) strlist_add(&envv, *e);
    for (size_t i = 0; i < ac->env->n; i++)
        strlist_add(&envv, ac->env->v[i]);
    strlist_take(&envv, NULL);

    adapter_proc p;
    if (adapter_proc_start(&p, ac->command, envv.v, &res->problem) != 0) {
        strlist_free(&envv);
        return;
    }
    oneshot o = {.res = res, .max = ac->max_output};
    adapter_sink sink = {.out = on_out, .err = on_err, .ud = &o};
    adapter_pump_end end =
        adapter_proc_pump(&p, ac->input, ac->len, true, true, mono_ms() + ac->watchdog_ms, &sink);
    int wst = 0;
    bool killed = end != PUMP_EOF || o.too_big;
    if (killed)
        adapter_proc_kill(&p, &wst);
    else
        /* stdout and stderr are closed; the adapter is exiting. */
        killed = !adapter_proc_reap(&p, 2000, &wst);
    if (o.too_big) {
        cbuf_printf(&res->problem,
                    "the adapter wrote more than %zu octets (--max-output) and was killed\n",
                    ac->max_output);
    } else if (killed) {
        cbuf_printf(&res->problem, "the adapter did not finish within %d ms and was killed\n",
                    ac->watchdog_ms);
    } else if (WIFEXITED(wst)) {
        res->exited = true;
        res->status = WEXITSTATUS(wst);
        res->cannot_start = res->status == 126 || res->status == 127;
    } else if (WIFSIGNALED(wst)) {
        res->signal = WTERMSIG(wst);
    }
    strlist_free(&envv);
}
