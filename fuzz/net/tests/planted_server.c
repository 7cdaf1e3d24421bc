/*
 * planted_server.c - a tiny POP3 server (RFC 1939 sections 4-6, RFC 2449 CAPA) with one
 * planted bug, for pop3-fuzz's server mode to find:
 *
 *     planted_server die|hang|broken|extra PORT_FILE [PORT]
 *
 *   die     LIST with an argument after an accepted DELE: the server exits (it stops
 *           listening, as a crash would)
 *   hang    TOP n 0: no reply, ever, on that connection (it is read to its end)
 *   broken  NOOP after an accepted RSET: "OK" without its status indicator
 *   extra   STAT: its reply, then a second "+OK" line nobody asked for
 *
 * Like Dovecot, it hangs up after too many unknown commands (5), with a last -ERR line
 * after the reply to the last one: a farewell, which is not a finding.
 * One connection at a time, user "user", password "secret", two messages. Everything
 * else is meant to be right. It listens on 127.0.0.1:PORT (default 0, a free one) and
 * writes the bound port to PORT_FILE.
 */
#define _POSIX_C_SOURCE 200809L
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_MAX_OCTETS    512
/* Seconds the server lives at most. */
#define PLANTED_LIFETIME_S 600

static const char *const messages[] = {
    "Subject: one\r\n\r\nfirst\r\n",
    "Subject: two\r\n\r\nsecond\r\n..dot\r\n",
};
#define NMSG 2

static char in[65536];
static size_t in_at, in_len;

/* One line (LF ends it, a CR before it dropped), cut at LINE_MAX_OCTETS; -1 at EOF. */
static long read_line(int fd, char *buf, size_t cap, int *too_long)
{
    size_t n = 0;
    *too_long = 0;
    for (;;) {
        if (in_at == in_len) {
            ssize_t got = recv(fd, in, sizeof in, 0);
            if (got <= 0) return -1;
            in_at = 0;
            in_len = (size_t)got;
        }
        char c = in[in_at++];
        if (c == '\n') break;
        if (n + 1 < cap)
            buf[n++] = c;
        else
            *too_long = 1;
    }
    if (n > 0 && buf[n - 1] == '\r') n--;
    buf[n] = '\0';
    return (long)n;
}

static void say(int fd, const char *s)
{
    send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* A message number 1..NMSG that is not deleted, or 0. */
static int msgno(const char *arg, const int *deleted)
{
    if (arg == NULL || strlen(arg) != 1 || arg[0] < '1' || arg[0] > '0' + NMSG) return 0;
    int n = arg[0] - '0';
    return deleted[n - 1] ? 0 : n;
}

static void session(int fd, const char *bug)
{
    char line[LINE_MAX_OCTETS], out[256];
    int user = 0, trans = 0, deleted[NMSG] = {0}, dele_seen = 0, rset_seen = 0, too_long;
    int unknown = 0;
    in_at = in_len = 0;
    say(fd, "+OK planted ready\r\n");
    for (;;) {
        long n = read_line(fd, line, sizeof line, &too_long);
        if (n < 0) return;
        if (too_long) {
            say(fd, "-ERR line too long\r\n");
            continue;
        }
        if (strlen(line) != (size_t)n) {
            say(fd, "-ERR NUL in command\r\n");
            continue;
        }
        char *save = NULL, *verb = strtok_r(line, " ", &save);
        char *a1 = strtok_r(NULL, " ", &save), *a2 = strtok_r(NULL, " ", &save);
        if (verb == NULL) {
            say(fd, "-ERR empty command\r\n");
        } else if (strcasecmp(verb, "QUIT") == 0) {
            say(fd, "+OK bye\r\n");
            return;
        } else if (strcasecmp(verb, "CAPA") == 0) {
            say(fd, "+OK\r\nUSER\r\nTOP\r\nUIDL\r\n.\r\n");
        } else if (strcasecmp(verb, "NOOP") == 0 && trans) {
            say(fd, strcmp(bug, "broken") == 0 && rset_seen ? "OK\r\n" : "+OK\r\n");
        } else if (!trans) {
            if (strcasecmp(verb, "USER") == 0 && a1 && strcmp(a1, "user") == 0) {
                user = 1;
                say(fd, "+OK\r\n");
            } else if (strcasecmp(verb, "PASS") == 0 && user && a1 && strcmp(a1, "secret") == 0) {
                trans = 1;
                say(fd, "+OK logged in\r\n");
            } else {
                user = 0;
                say(fd, "-ERR no\r\n");
            }
        } else if (strcasecmp(verb, "STAT") == 0) {
            size_t count = 0, size = 0;
            for (int k = 0; k < NMSG; k++)
                if (!deleted[k]) count++, size += strlen(messages[k]);
            /* One write with the line out of turn, so that it arrives with the reply. */
            snprintf(out, sizeof out, "+OK %zu %zu\r\n%s", count, size,
                     strcmp(bug, "extra") == 0 ? "+OK\r\n" : "");
            say(fd, out);
        } else if (strcasecmp(verb, "LIST") == 0 || strcasecmp(verb, "UIDL") == 0) {
            int list = strcasecmp(verb, "LIST") == 0;
            if (list && a1 != NULL && dele_seen && strcmp(bug, "die") == 0) exit(1);
            if (a1 != NULL) {
                int m = msgno(a1, deleted);
                if (m == 0) {
                    say(fd, "-ERR no such message\r\n");
                } else {
                    if (list)
                        snprintf(out, sizeof out, "+OK %d %zu\r\n", m, strlen(messages[m - 1]));
                    else
                        snprintf(out, sizeof out, "+OK %d uid-%d\r\n", m, m);
                    say(fd, out);
                }
            } else {
                say(fd, "+OK listing\r\n");
                for (int k = 0; k < NMSG; k++) {
                    if (deleted[k]) continue;
                    if (list)
                        snprintf(out, sizeof out, "%d %zu\r\n", k + 1, strlen(messages[k]));
                    else
                        snprintf(out, sizeof out, "%d uid-%d\r\n", k + 1, k + 1);
                    say(fd, out);
                }
                say(fd, ".\r\n");
            }
        } else if (strcasecmp(verb, "RETR") == 0 || strcasecmp(verb, "TOP") == 0) {
            int top = strcasecmp(verb, "TOP") == 0;
            if (top && a2 != NULL && strcmp(a2, "0") == 0 && strcmp(bug, "hang") == 0) {
                while (read_line(fd, line, sizeof line, &too_long) >= 0) {
                }
                return;
            }
            int m = msgno(a1, deleted);
            if (m == 0 || (top && (a2 == NULL || a2[0] < '0' || a2[0] > '9'))) {
                say(fd, "-ERR no such message\r\n");
            } else {
                say(fd, "+OK\r\n");
                say(fd, messages[m - 1]);
                say(fd, ".\r\n");
            }
        } else if (strcasecmp(verb, "DELE") == 0) {
            int m = msgno(a1, deleted);
            if (m == 0) {
                say(fd, "-ERR no such message\r\n");
            } else {
                deleted[m - 1] = 1;
                dele_seen = 1;
                say(fd, "+OK deleted\r\n");
            }
        } else if (strcasecmp(verb, "RSET") == 0) {
            memset(deleted, 0, sizeof deleted);
            rset_seen = 1;
            say(fd, "+OK\r\n");
        } else {
            /* As Dovecot does, the unknown verb is echoed (a SASL line sent as a command:
             * the credentials, which no transcript may hold). */
            size_t vl = strcspn(verb, "\r\n");
            snprintf(out, sizeof out, "-ERR unknown command: %.*s\r\n", (int)(vl < 64 ? vl : 64),
                     verb);
            say(fd, out);
            if (++unknown == 5) {
                say(fd, "-ERR too many unknown commands\r\n");
                return;
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fputs("usage: planted_server die|hang|broken|extra PORT_FILE [PORT]\n", stderr);
        return 2;
    }
    /* Never outlive a test that was killed before it could stop us. */
    alarm(PLANTED_LIFETIME_S);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)(argc == 4 ? atoi(argv[3]) : 0))};
    socklen_t sl = sizeof sa;
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 16) != 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &sl) != 0) {
        perror("planted_server");
        return 3;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *fp = fopen(tmp, "w");
    if (fp == NULL) return 3;
    fprintf(fp, "%u\n", ntohs(sa.sin_port));
    fclose(fp);
    rename(tmp, argv[2]);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) continue;
        /* Replies go out in several small writes: no Nagle delay between them. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        session(fd, argv[1]);
        close(fd);
    }
}
