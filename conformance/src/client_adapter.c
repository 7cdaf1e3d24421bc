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
 * watchdog; the adapter's process group is killed when it expires.
 */
/* pipe2: descriptors that are close-on-exec from birth. With pipe() and a later fcntl(),
 * an adapter forked by another thread in between would inherit our pipe and keep it open,
 * and this run would wait for that other adapter to end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

extern char **environ;

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

void client_adapter_run(const conform_case *c, const char *command, const client_env *env,
                        int watchdog_ms, client_output *out)
{
    memset(out, 0, sizeof *out);
    out->ops = xcalloc(c->nops, sizeof *out->ops);
    out->nops = c->nops;

    pop3_buf input = {0};
    for (size_t i = 0; i < c->options.n; i++)
        cbuf_printf(&input, "option %s\n", c->options.v[i]);
    for (size_t i = 0; i < c->nops; i++)
        cbuf_printf(&input, "%s\n", c->ops[i].text);

    strlist envv = {0};
    for (char **e = environ; *e != NULL; e++)
        if (strncmp(*e, "POP3_CONFORM_", 13) != 0) strlist_add(&envv, *e);
    char tmp[64];
    add_env(&envv, "POP3_CONFORM_HOST", env->host);
    snprintf(tmp, sizeof tmp, "%u", env->port);
    add_env(&envv, "POP3_CONFORM_PORT", tmp);
    add_env(&envv, "POP3_CONFORM_CAFILE", env->ca_file);
    add_env(&envv, "POP3_CONFORM_OTHER_CAFILE", env->other_ca_file);
    snprintf(tmp, sizeof tmp, "%.3f", env->timeout_ms / 1000.0);
    add_env(&envv, "POP3_CONFORM_TIMEOUT", tmp);
    add_env(&envv, "POP3_CONFORM_CASE", c->id);
    strlist_take(&envv, NULL);

    int in[2], so[2], se[2];
    if (pipe2(in, O_CLOEXEC) != 0) goto fail_pipe0;
    if (pipe2(so, O_CLOEXEC) != 0) goto fail_pipe1;
    if (pipe2(se, O_CLOEXEC) != 0) goto fail_pipe2;
    pid_t pid = fork();
    if (pid < 0) {
        cbuf_printf(&out->problems, "fork: %s\n", strerror(errno));
        close(se[0]);
        close(se[1]);
        goto fail_pipe2;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls between fork and exec: the runner has threads. */
        setpgid(0, 0);
        dup2(in[0], 0);
        dup2(so[1], 1);
        dup2(se[1], 2);
        char *argv[] = {"sh", "-c", (char *)command, NULL};
        execve("/bin/sh", argv, envv.v);
        _exit(127);
    }
    setpgid(pid, pid);
    close(in[0]);
    close(so[1]);
    close(se[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    pop3_buf sout = {0};
    size_t written = 0;
    bool open_out = true, open_err = true, open_in = true;
    bool killed = false;
    int64_t deadline = mono_ms() + watchdog_ms;
    while (open_out || open_err) {
        struct pollfd pfd[3];
        int np = 0;
        int iout = -1, ierr = -1, iin = -1;
        if (open_out) {
            pfd[np] = (struct pollfd){.fd = so[0], .events = POLLIN};
            iout = np++;
        }
        if (open_err) {
            pfd[np] = (struct pollfd){.fd = se[0], .events = POLLIN};
            ierr = np++;
        }
        if (open_in) {
            pfd[np] = (struct pollfd){.fd = in[1], .events = POLLOUT};
            iin = np++;
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            kill(-pid, SIGKILL);
            killed = true;
            break;
        }
        if (poll(pfd, (nfds_t)np, (int)left) < 0 && errno != EINTR) break;
        char buf[65536];
        if (iin >= 0 && (pfd[iin].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(in[1], input.ptr + written, input.len - written);
            if (w > 0) written += (size_t)w;
            if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.len;
            if (written >= input.len) {
                close(in[1]);
                open_in = false;
            }
        }
        if (iout >= 0 && (pfd[iout].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(so[0], buf, sizeof buf);
            if (r > 0)
                cbuf_add(&sout, buf, (size_t)r);
            else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                open_out = false;
        }
        if (ierr >= 0 && (pfd[ierr].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(se[0], buf, sizeof buf);
            if (r > 0) {
                if (out->log.len < (1u << 20)) cbuf_add(&out->log, buf, (size_t)r);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                open_err = false;
            }
        }
    }
    if (open_in) close(in[1]);
    close(so[0]);
    close(se[0]);
    int wst = 0;
    if (!killed) {
        /* stdout and stderr are closed; the adapter is exiting. Do not wait forever on a
         * child that closed its pipes and went on running. */
        int64_t until = mono_ms() + 2000;
        while (waitpid(pid, &wst, WNOHANG) == 0) {
            if (mono_ms() > until) {
                kill(-pid, SIGKILL);
                killed = true;
                break;
            }
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
    if (killed) {
        waitpid(pid, &wst, 0);
        cbuf_printf(&out->problems, "the adapter did not finish within %d ms and was killed\n",
                    watchdog_ms);
    } else if (WIFEXITED(wst) && WEXITSTATUS(wst) != 0) {
        cbuf_printf(&out->problems, "the adapter exited with status %d\n", WEXITSTATUS(wst));

    } else if (WIFSIGNALED(wst)) {
        cbuf_printf(&out->problems, "the adapter died of signal %d\n", WTERMSIG(wst));
    }
    tally_note(command,
               !killed && WIFEXITED(wst) && (WEXITSTATUS(wst) == 126 || WEXITSTATUS(wst) == 127),
               &out->log);
    parse_output(c, sout.ptr != NULL ? sout.ptr : "", sout.len, out);
    cbuf_free(&sout);
    cbuf_free(&input);
    strlist_free(&envv);
    return;
fail_pipe2:
    close(so[0]);
    close(so[1]);
fail_pipe1:
    close(in[0]);
    close(in[1]);
fail_pipe0:
    if (out->problems.len == 0) cbuf_printf(&out->problems, "pipe: %s\n", strerror(errno));
    cbuf_free(&input);
    strlist_free(&envv);
}
