/*
 * run.c - one pop3-fuzz run: a script served by libpop3mock's server on 127.0.0.1 (port
 * 0, a fresh one each run), the client command started under `sh -c` (or directly, when
 * it is one plain command), and its end classified.
 *
 * The client runs in a process group of its own, so that a hang is ended with one
 * SIGKILL to the group, whatever the shell started. Its stderr is read into a capped
 * buffer (a sanitizer report starts within the first kilobytes); peak memory is wait4's
 * ru_maxrss, which covers the shell's children too.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netfuzz.h"
#include "pop3mock/script.h"
#include "pop3mock/script_factory.h"
#include "pop3mock/server.h"

extern char **environ;

/* Time a client gets past --hang-ms to finish a sanitizer report it has begun. */
#define POP3FUZZ_REPORT_GRACE_MS 30000

/* A hang is --hang-ms with the dialogue standing still, not --hang-ms in all: a slow
 * server (a line dripped an octet at a time) keeps a client busy for longer without the
 * client being stuck. A run that keeps moving is still ended at this many --hang-ms. */
#define POP3FUZZ_RUN_CAP_HANGS 6

/* Both sides must have stood still this long, seen twice this far apart, before the
 * server hangs up ahead of --idle-ms (see client_blocked). */
#define POP3FUZZ_STILL_MS 2

/* Most processes of a client looked at to tell whether it is blocked. */
#define POP3FUZZ_STILL_PROCS 64

/* The part of a client's stderr kept for classification. */
#define POP3FUZZ_STDERR_KEEP ((size_t)64 * 1024)

const char *pop3fuzz_kind_name(pop3fuzz_kind k)
{
    switch (k) {
    case POP3FUZZ_SIGNAL: return "signal";
    case POP3FUZZ_SANITIZER: return "sanitizer";
    case POP3FUZZ_HANG: return "hang";
    case POP3FUZZ_RSS: return "memory";
    case POP3FUZZ_EXIT: return "exit";
    default: return "none";
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *serve(void *arg)
{
    char err[256];
    pop3mock_server_run(arg, err, sizeof err);
    return NULL;
}

/* When the dialogue last moved, either way (milliseconds; 0: nobody connected yet). */
typedef struct activity {
    _Atomic long long last_ms;
} activity;

static void on_transcript(void *ctx, unsigned long conn, char dir, bool tls, const char *data,
                          size_t len)
{
    (void)conn, (void)dir, (void)tls, (void)data, (void)len;
    activity *a = ctx;
    a->last_ms = now_ms();
}

/* Is every thread of process `pid` asleep on something other than a timer? Adds its
 * children to `todo`. False when a thread runs, is in uninterruptible I/O or stopped, or
 * sleeps in nanosleep (a client pausing of its own accord is not waiting for us). */
static bool process_blocked(pid_t pid, pid_t *todo, size_t *ntodo)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL) return true; /* gone: it waits for nothing */
    bool blocked = true;
    struct dirent *e;
    while (blocked && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char buf[512];
        snprintf(path, sizeof path, "/proc/%d/task/%.16s/stat", (int)pid, e->d_name);
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f) fclose(f);
        buf[n] = '\0';
        const char *paren = strrchr(buf, ')'); /* the command name may hold anything */
        char state = paren && paren[1] == ' ' ? paren[2] : '?';
        if (state == 'Z' || state == 'X') continue;
        if (state != 'S') {
            blocked = false;
            break;
        }
        snprintf(path, sizeof path, "/proc/%d/task/%.16s/wchan", (int)pid, e->d_name);
        f = fopen(path, "r");
        n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f) fclose(f);
        buf[n] = '\0';
        if (strstr(buf, "nanosleep") != NULL) blocked = false;
        snprintf(path, sizeof path, "/proc/%d/task/%.16s/children", (int)pid, e->d_name);
        f = fopen(path, "r");
        n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f) fclose(f);
        buf[n] = '\0';
        for (char *p = buf, *end; *p; p = end) {
            long child = strtol(p, &end, 10);
            if (end == p) break;
            if (*ntodo < POP3FUZZ_STILL_PROCS)
                todo[(*ntodo)++] = (pid_t)child;
            else
                blocked = false; /* too many to tell */
        }
    }
    closedir(d);
    return blocked;
}

/* Is the client (the shell `pid` and everything it started) blocked? Read from /proc;
 * where /proc cannot tell (another system), the answer is no and --idle-ms decides. */
static bool client_blocked(pid_t pid)
{
    pid_t todo[POP3FUZZ_STILL_PROCS];
    size_t ntodo = 1;
    todo[0] = pid;
    for (size_t i = 0; i < ntodo; i++)
        if (!process_blocked(todo[i], todo, &ntodo)) return false;
    char probe[64];
    snprintf(probe, sizeof probe, "/proc/%d/task", (int)pid);
    return access(probe, F_OK) == 0;
}

/* A client command that runs without a shell: the program to exec and its arguments, in
 * one allocation. */
typedef struct plain_cmd {
    const char *file; /* the program found: argv[0] itself, or on PATH */
    char **argv;
} plain_cmd;

/* CMD as a program and its arguments when it is one plain command (words of ordinary
 * characters between single spaces, no assignment in front) and the program is found:
 * it is then started without a shell, one exec fewer per run, and a death by a signal is
 * seen as one (sh -c would report it as exit status 128+N). False: sh -c runs it.
 * Everything is allocated here, before fork (the child allocates nothing); free argv. */
static bool plain_command(const char *cmd, plain_cmd *out)
{
    static const char special[] = "'\"\\$`;&|<>(){}*?[]~#!\t\n\r";
    size_t len = strlen(cmd);
    out->argv = NULL;
    if (len == 0 || strpbrk(cmd, special) != NULL || cmd[0] == ' ' || cmd[len - 1] == ' ' ||
        strstr(cmd, "  ") != NULL || memchr(cmd, '=', strcspn(cmd, " ")) != NULL)
        return false;
    size_t words = 1;
    for (const char *c = cmd; *c; c++)
        words += *c == ' ';
    const char *path = getenv("PATH");
    size_t plen = path ? strlen(path) : 0;
    /* The vector, the words, and room for "DIR/PROG" with DIR at most all of PATH. */
    char **argv = malloc((words + 1) * sizeof *argv + (len + 1) + (plen + len + 2));
    if (argv == NULL) return false;
    char *text = (char *)(argv + words + 1), *file = text + len + 1;
    memcpy(text, cmd, len + 1);
    size_t n = 0;
    for (char *w = strtok(text, " "); w != NULL; w = strtok(NULL, " "))
        argv[n++] = w;
    argv[n] = NULL;
    if (strchr(argv[0], '/') != NULL) {
        snprintf(file, plen + len + 2, "%s", argv[0]);
    } else {
        file[0] = '\0';
        for (const char *d = path; d != NULL && *d && file[0] == '\0';) {
            const char *colon = strchr(d, ':');
            size_t dl = colon ? (size_t)(colon - d) : strlen(d);
            snprintf(file, plen + len + 2, "%.*s/%s", (int)dl, d, argv[0]);
            if (dl == 0 || access(file, X_OK) != 0) file[0] = '\0';
            d = colon ? colon + 1 : NULL;
        }
    }
    if (file[0] == '\0' || access(file, X_OK) != 0) {
        free(argv);
        return false;
    }
    out->file = file;
    out->argv = argv;
    return true;
}

/* CMD with every {port} replaced. */
static char *expand_cmd(const char *cmd, unsigned port)
{
    char p[16];
    snprintf(p, sizeof p, "%u", port);
    size_t n = 0;
    for (const char *c = cmd; (c = strstr(c, "{port}")) != NULL; c += 6)
        n++;
    char *out = malloc(strlen(cmd) + n * strlen(p) + 1), *o = out;
    if (out == NULL) return NULL;
    for (const char *c = cmd; *c;) {
        if (strncmp(c, "{port}", 6) == 0) {
            o = stpcpy(o, p);
            c += 6;
        } else {
            *o++ = *c++;
        }
    }
    *o = '\0';
    return out;
}

/* The environment of the client, built before fork (the server's thread may hold the
 * allocator's lock at that moment, so the child allocates nothing). */
static char **client_env(const pop3fuzz_options *o, unsigned port, char *store, size_t storelen)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 5, sizeof *env);
    if (env == NULL) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "POP3_HOST=", 10) && strncmp(environ[i], "POP3_PORT=", 10) &&
            strncmp(environ[i], "POP3_USER=", 10) && strncmp(environ[i], "POP3_PASSWORD=", 14))
            env[k++] = environ[i];
    int w = snprintf(store, storelen,
                     "POP3_HOST=127.0.0.1%cPOP3_PORT=%u%cPOP3_USER=%s%cPOP3_PASSWORD=%s", 0, port,
                     0, o->user, 0, o->password);
    if (w < 0 || (size_t)w >= storelen) {
        free(env);
        return NULL;
    }
    for (char *s = store; k < n + 4 && s < store + w; s += strlen(s) + 1)
        env[k++] = s;
    env[k] = NULL;
    return env;
}

/* "stack-buffer-overflow in f < g < h": the sanitizer's error type and its top frames. */
static bool sanitizer_signature(const char *err, char *sig, size_t len)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer: ",
                                        "ERROR: LeakSanitizer: ",
                                        "ERROR: MemorySanitizer: ",
                                        "WARNING: ThreadSanitizer: ",
                                        "ERROR: UndefinedBehaviorSanitizer: ",
                                        "runtime error: "};
    const char *at = NULL, *mark = NULL;
    for (size_t i = 0; i < sizeof marks / sizeof *marks && at == NULL; i++)
        if ((at = strstr(err, marks[i])) != NULL) mark = marks[i];
    if (at == NULL) return false;
    const char *t = at + strlen(mark);
    size_t tl = strcspn(t, " \n");
    if (strcmp(mark, "runtime error: ") == 0) { /* UBSan: FILE:LINE:COL: before the mark */
        const char *b = at;
        while (b > err && b[-1] != '\n')
            b--;
        tl = (size_t)(at - b);
        t = b;
    }
    int w = snprintf(sig, len, "%.*s", (int)(tl > 120 ? 120 : tl), t);
    int frames = 0;
    for (const char *f = at; frames < 3 && (f = strstr(f, "\n    #")) != NULL; f++) {
        const char *in = strstr(f, " in ");
        const char *eol = strchr(f + 1, '\n');
        if (in == NULL || (eol != NULL && in > eol)) continue;
        in += 4;
        size_t fl = strcspn(in, " \n");
        if (w >= 0 && (size_t)w < len)
            w += snprintf(sig + w, len - (size_t)w, "%s%.*s", frames ? " < " : " in ",
                          (int)(fl > 80 ? 80 : fl), in);
        frames++;
    }
    return true;
}

static void classify(const pop3fuzz_options *o, bool hung, int status, const struct rusage *ru,
                     const char *err, pop3fuzz_result *res)
{
    char sig[400];
    res->rss_kb = (unsigned long)ru->ru_maxrss;
    if (hung) {
        res->kind = POP3FUZZ_HANG;
        snprintf(res->signature, sizeof res->signature, "hang");
        snprintf(res->detail, sizeof res->detail,
                 "still running %u ms after the dialogue last moved", o->hang_ms);
    } else if (sanitizer_signature(err, sig, sizeof sig)) {
        res->kind = POP3FUZZ_SANITIZER;
        snprintf(res->signature, sizeof res->signature, "sanitizer %s", sig);
        snprintf(res->detail, sizeof res->detail, "%.200s", sig);
    } else if (WIFSIGNALED(status)) {
        res->kind = POP3FUZZ_SIGNAL;
        snprintf(res->signature, sizeof res->signature, "signal %s",
                 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
        snprintf(res->detail, sizeof res->detail, "killed by SIG%s",
                 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
    } else if (o->rss_mb > 0 && res->rss_kb > o->rss_mb * 1024) {
        res->kind = POP3FUZZ_RSS;
        snprintf(res->signature, sizeof res->signature, "memory");
        snprintf(res->detail, sizeof res->detail, "peak RSS %lu MiB", res->rss_kb / 1024);
    } else if (WIFEXITED(status) && !o->ok_exit[WEXITSTATUS(status) & 0xff]) {
        res->kind = POP3FUZZ_EXIT;
        snprintf(res->signature, sizeof res->signature, "exit %d", WEXITSTATUS(status));
        snprintf(res->detail, sizeof res->detail, "exit status %d", WEXITSTATUS(status));
    }
}

int pop3fuzz_run(const pop3fuzz_options *o, const char *text, size_t len, pop3fuzz_result *res,
                 char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    char why[512];
    pop3mock_script *sc = pop3mock_script_parse("pop3-fuzz", text, len, why, sizeof why);
    if (sc == NULL) {
        res->script_error = true;
        return 0;
    }
    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    pop3mock_script_factory *sf = pop3mock_script_factory_new(&sc, 1, &lim, false, false);
    pop3mock_server_config cfg;
    pop3mock_server_config_default(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.idle_timeout = 0; /* the run's deadline ends every session */
    cfg.max_sessions = 64;
    activity act = {0};
    cfg.on_transcript = on_transcript;
    cfg.callback_ctx = &act;
    pop3mock_factory f = sf ? pop3mock_script_factory_get(sf) : (pop3mock_factory){0};
    pop3mock_server *srv = sf ? pop3mock_server_new(&cfg, &f, why, sizeof why) : NULL;
    if (srv == NULL || pop3mock_server_bind(srv, why, sizeof why) != 0) {
        snprintf(err, errlen, "the mock did not start: %s", srv ? why : "out of memory");
        pop3mock_server_free(srv);
        pop3mock_script_factory_free(sf);
        pop3mock_script_free(sc);
        return -1;
    }
    pthread_t th;
    int rc = -1;
    char store[1024];
    char *cmd = expand_cmd(o->client, pop3mock_server_port(srv));
    char **env = client_env(o, pop3mock_server_port(srv), store, sizeof store);
    plain_cmd plain = {NULL, NULL};
    if (cmd != NULL) (void)plain_command(cmd, &plain);
    int pfd[2] = {-1, -1};
    if (pthread_create(&th, NULL, serve, srv) != 0) {
        snprintf(err, errlen, "cannot start the server's thread");
        goto out_nothread;
    }
    if (cmd == NULL || env == NULL || pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "out of memory or descriptors");
        goto out;
    }
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        if (devnull >= 0) close(devnull);
        goto out;
    }
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGPIPE, SIG_DFL);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        dup2(pfd[1], 2);
        if (plain.argv != NULL) execve(plain.file, plain.argv, env);
        execve("/bin/sh", (char *[]){"sh", "-c", cmd, NULL}, env);
        _exit(127);
    }
    setpgid(pid, pid); /* both sides, so that the kill below cannot miss */
    if (devnull >= 0) close(devnull);
    close(pfd[1]);
    pfd[1] = -1;
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);

    char *ebuf = malloc(POP3FUZZ_STDERR_KEEP + 1);
    size_t elen = 0;
    bool eof = false, hung = false, reaped = false;
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    long long start = now_ms(), grace = 0;
    long long cap = start + (long long)POP3FUZZ_RUN_CAP_HANGS * o->hang_ms;
    bool hung_up = false, graced = false;
    long long still_at = 0; /* `last` when both sides were first seen blocked, or 0 */
    while (!reaped || !eof) {
        long long t = now_ms(), last = act.last_ms;
        long long deadline = (last > start ? last : start) + o->hang_ms;
        if (deadline > cap) deadline = cap;
        deadline += grace;
        long long left = deadline - t;
        /* Both sides waiting (a reply the script dropped, a line without its end): the
         * server hangs up, as an autologout timer would (RFC 1939 section 3). A client
         * still running after that is stuck for reasons of its own. */
        bool idle = !hung_up && o->idle_ms > 0 && last > 0 && t - last >= (long long)o->idle_ms;
        /* Most such waits are seen long before --idle-ms: the mock says it waits for its
         * client, and the client's threads all sleep in the kernel. Seen twice, with
         * nothing moving in between, that is the same wait, and waiting it out would only
         * cost time (about half of all mutated dialogues end this way). */
        if (!hung_up && !idle && o->idle_ms > 0 && last > 0 && t - last >= POP3FUZZ_STILL_MS) {
            long long quiet = pop3mock_server_quiet_since(srv);
            bool still = quiet > 0 && t - quiet >= POP3FUZZ_STILL_MS && client_blocked(pid);
            if (!still || still_at != last)
                still_at = still ? last : 0;
            else if (t - last >= 2 * POP3FUZZ_STILL_MS)
                idle = true;
        }
        if (idle) {
            pop3mock_script_factory_close(sf);
            pop3mock_server_stop(srv);
            hung_up = true;
        }
        if (left <= 0 && !reaped && !graced && ebuf != NULL && elen > 0) {
            /* A sanitizer that is writing its report (symbolising can take seconds on a
             * loaded machine) is given time to finish it: the finding is the report. */
            char sig[64];
            ebuf[elen] = '\0';
            if (sanitizer_signature(ebuf, sig, sizeof sig)) {
                grace = POP3FUZZ_REPORT_GRACE_MS;
                graced = true;
                continue;
            }
        }
        if (left <= 0) {
            hung = !reaped;
            break;
        }
        if (!eof) {
            struct pollfd p = {.fd = pfd[0], .events = POLLIN};
            /* Ticks of POP3FUZZ_STILL_MS once the dialogue stands still, to see it soon. */
            long long tick = !hung_up && last > 0 && t - last >= 1 ? POP3FUZZ_STILL_MS : 10;
            poll(&p, 1, reaped ? 0 : (int)(left < tick ? left : tick));
            char tmp[4096];
            ssize_t got;
            while ((got = read(pfd[0], tmp, sizeof tmp)) > 0)
                if (ebuf && elen < POP3FUZZ_STDERR_KEEP) {
                    size_t take = (size_t)got < POP3FUZZ_STDERR_KEEP - elen
                                      ? (size_t)got
                                      : POP3FUZZ_STDERR_KEEP - elen;
                    memcpy(ebuf + elen, tmp, take);
                    elen += take;
                }
            /* A descendant that outlives the client keeps the pipe open: once the client
             * itself is gone, what it wrote is all that counts. */
            if (got == 0 || reaped) eof = true;
        } else {
            struct timespec ts = {0, 2 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (!reaped && wait4(pid, &status, WNOHANG, &ru) == pid) reaped = true;
    }
    kill(-pid, SIGKILL);
    if (!reaped) wait4(pid, &status, 0, &ru);
    if (ebuf) ebuf[elen] = '\0';
    if (ebuf && o->echo_stderr) fwrite(ebuf, 1, elen, stderr);
    classify(o, hung, status, &ru, ebuf ? ebuf : "", res);
    free(ebuf);
    rc = 0;
out:
    pop3mock_script_factory_close(sf);
    pop3mock_server_stop(srv);
    pthread_join(th, NULL);
out_nothread:
    if (pfd[0] >= 0) close(pfd[0]);
    if (pfd[1] >= 0) close(pfd[1]);
    free(cmd);
    free(plain.argv);
    free(env);
    pop3mock_server_free(srv);
    pop3mock_script_factory_free(sf);
    pop3mock_script_free(sc);
    return rc;
}
