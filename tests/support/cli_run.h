/*
 * cli_run.h - test support for the tests that drive the real `pop3` program: a
 * scripted POP3 server on loopback (a thread) and a runner that starts the program with
 * arguments and collects its exit status, standard output and standard error.
 *
 * The server answers each command line with the reply of the first rule whose
 * command matches (exactly, or up to a final '*'), "-ERR unknown command" otherwise.
 * A reply may stall: CLI_HANG after its text keeps the connection open and silent
 * until the client goes away; with `drip_ms` a multi-line reply is sent one line at a
 * time with that pause between lines. Sessions are served one after another until
 * cli_server_stop. Header-only (static inline), like client_harness.h.
 */
#ifndef POP3_TEST_CLI_RUN_H
#define POP3_TEST_CLI_RUN_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Appended to a reply: after it, say nothing more and keep the connection open. */
#define CLI_HANG "\x01HANG"

typedef struct cli_rule {
    const char *command; /* "RETR 1", or "USER *" */
    const char *reply;   /* raw octets, CRLF included */
} cli_rule;

typedef struct cli_server {
    const char *greeting; /* NULL: "+OK ready\r\n" */
    const cli_rule *rules;
    size_t nrules;
    int drip_ms;
    /* filled in */
    int fd;
    unsigned port;
    pthread_t thread;
    volatile bool stop;
    pthread_mutex_t lock;
    char log[65536]; /* every command received, one per line */
    size_t loglen;
    unsigned sessions;
} cli_server;

static inline void cli_send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static inline bool cli_rule_matches(const char *pattern, const char *line)
{
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*') return strncasecmp(pattern, line, n - 1) == 0;
    return strcasecmp(pattern, line) == 0;
}

static inline void cli_reply(cli_server *s, int fd, const char *reply)
{
    const char *hang = strstr(reply, CLI_HANG);
    size_t n = hang ? (size_t)(hang - reply) : strlen(reply);
    if (s->drip_ms > 0) {
        const char *p = reply, *end = reply + n;
        while (p < end && !s->stop) {
            const char *lf = memchr(p, '\n', (size_t)(end - p));
            size_t len = lf ? (size_t)(lf - p) + 1 : (size_t)(end - p);
            cli_send_all(fd, p, len);
            p += len;
            struct timespec ts = {0, (long)s->drip_ms * 1000000L};
            nanosleep(&ts, NULL);
        }
    } else {
        cli_send_all(fd, reply, n);
    }
    if (hang) {
        char sink[256];
        while (!s->stop) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 50) > 0 && recv(fd, sink, sizeof sink, 0) <= 0) break;
        }
    }
}

static inline void cli_session(cli_server *s, int fd)
{
    const char *g = s->greeting ? s->greeting : "+OK ready\r\n";
    cli_send_all(fd, g, strlen(g));
    char buf[8192];
    size_t len = 0;
    while (!s->stop) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (r <= 0) return;
        len += (size_t)r;
        char *lf;
        while ((lf = memchr(buf, '\n', len)) != NULL) {
            size_t ll = (size_t)(lf - buf) + 1;
            char line[8192];
            size_t n = ll - 1;
            if (n > 0 && buf[n - 1] == '\r') n--;
            memcpy(line, buf, n);
            line[n] = '\0';
            memmove(buf, buf + ll, len - ll);
            len -= ll;
            pthread_mutex_lock(&s->lock);
            if (s->loglen + n + 2 < sizeof s->log) {
                memcpy(s->log + s->loglen, line, n);
                s->loglen += n;
                s->log[s->loglen++] = '\n';
                s->log[s->loglen] = '\0';
            }
            pthread_mutex_unlock(&s->lock);
            const char *reply = "-ERR unknown command\r\n";
            for (size_t i = 0; i < s->nrules; i++)
                if (cli_rule_matches(s->rules[i].command, line)) {
                    reply = s->rules[i].reply;
                    break;
                }
            if (strcasecmp(line, "QUIT") == 0 && reply[0] == '-') reply = "+OK bye\r\n";
            cli_reply(s, fd, reply);
            if (strcasecmp(line, "QUIT") == 0 || strstr(reply, CLI_HANG)) return;
        }
    }
}

static inline void *cli_server_main(void *arg)
{
    cli_server *s = arg;
    while (!s->stop) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) continue;
        s->sessions++;
        cli_session(s, c);
        close(c);
    }
    return NULL;
}

static inline void cli_server_start(cli_server *s)
{
    pthread_mutex_init(&s->lock, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(s->fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s->fd, 8), 0);
    socklen_t al = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&s->thread, NULL, cli_server_main, s), 0);
}

static inline void cli_server_stop(cli_server *s)
{
    s->stop = true;
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* The commands received so far, one per line. */
static inline const char *cli_server_log(cli_server *s)
{
    return s->log;
}

typedef struct cli_result {
    int status; /* exit status, or 128 + signal */
    char out[131072];
    size_t out_len;
    char err[16384];
} cli_result;

static inline void cli_slurp(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    unlink(path);
}

/* Start the program: `argv` is NULL-terminated, argv[0] ignored. Returns its pid; its
 * stdout and stderr go to files named after the pid (cli_wait collects them). */
static inline pid_t cli_start(char *const *argv, char *out_path, char *err_path)
{
    static unsigned n;
    snprintf(out_path, 64, "/tmp/pop3kit-cli-%d-%u.out", (int)getpid(), n);
    snprintf(err_path, 64, "/tmp/pop3kit-cli-%d-%u.err", (int)getpid(), n++);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *args[64];
    size_t i = 0;
    args[i++] = (char *)POP3_CLI_BIN;
    for (size_t k = 1; argv[k] && i < 63; k++)
        args[i++] = argv[k];
    args[i] = NULL;
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, POP3_CLI_BIN, &fa, NULL, args, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static inline void cli_wait(pid_t pid, const char *out_path, const char *err_path, cli_result *r)
{
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    cli_slurp(out_path, r->out, sizeof r->out, &r->out_len);
    cli_slurp(err_path, r->err, sizeof r->err, NULL);
}

/* Run the program to its end. */
static inline cli_result *cli_run(char *const *argv)
{
    cli_result *r = calloc(1, sizeof *r);
    char out[64], err[64];
    pid_t pid = cli_start(argv, out, err);
    cli_wait(pid, out, err, r);
    return r;
}

#define CLI_ARGS(...) ((char *const[]){"pop3", __VA_ARGS__, NULL})

#endif
