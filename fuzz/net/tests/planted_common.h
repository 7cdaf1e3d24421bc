/*
 * planted_common.h - the connection and line reading shared by pop3-fuzz's planted-bug
 * test clients (RFC 1939 section 3: CRLF-terminated commands and replies). Only the bugs
 * each client plants are meant to be wrong.
 */
#ifndef PLANTED_COMMON_H
#define PLANTED_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A connected socket to POP3_HOST:POP3_PORT, or exit 3. */
static int planted_connect(void)
{
    const char *host = getenv("POP3_HOST"), *port = getenv("POP3_PORT");
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (host == NULL || port == NULL || getaddrinfo(host, port, &hints, &ai) != 0) exit(2);
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) exit(3);
    freeaddrinfo(ai);
    return fd;
}

/* What was read past the last line: a client that reads on after a line takes it first. */
static char planted_rest[1 << 16];
static size_t planted_rest_at, planted_rest_len;

/* One line without its CRLF, in a buffer of `cap` octets; a longer line is cut. Exit 3
 * at the end of the stream. */
static size_t planted_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        if (planted_rest_at == planted_rest_len) {
            ssize_t got = recv(fd, planted_rest, sizeof planted_rest, 0);
            if (got <= 0) exit(3);
            planted_rest_at = 0;
            planted_rest_len = (size_t)got;
        }
        char c = planted_rest[planted_rest_at++];
        if (c == '\n') break;
        if (n + 1 < cap) buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r') n--;
    buf[n] = '\0';
    return n;
}

static void planted_send(int fd, const char *cmd)
{
    if (send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0) exit(3);
}

/* A status line: +OK goes on, anything else ends the client as `pop3` would (exit 1). */
static void planted_ok(int fd, char *buf, size_t cap)
{
    planted_line(fd, buf, cap);
    if (strncmp(buf, "+OK", 3) != 0) exit(1);
}

#endif
