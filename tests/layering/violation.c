/*
 * violation.c - what the codec must never do, done on purpose.
 *
 * Compiled into a static library that nothing links, so that the layering check
 * (check_io_free.py --expect) can show it catches a socket call, a poll, a clock read,
 * a TLS call and a write to a stream in an archive like the codec's. memcpy is the
 * control: a plain library call the check must let through.
 */
#define _POSIX_C_SOURCE 200809L

#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int pop3_layer_violation(SSL *ssl, char *buf, int len);

int pop3_layer_violation(SSL *ssl, char *buf, int len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct timespec now;
    if (poll(&p, 1, 0) < 0) return -1;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return -1;
    fprintf(stderr, "%d\n", fd);
    memcpy(buf, &now, sizeof now < (size_t)len ? sizeof now : (size_t)len);
    return SSL_read(ssl, buf, len);
}
