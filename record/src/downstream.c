/*
 * downstream.c - the client's connection to the recorder (see downstream.h): plain or
 * TLS (RFC 2595 section 4, RFC 8314 section 3.1) on a non-blocking socket.
 */
#define _POSIX_C_SOURCE 200809L
#include "downstream.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tls_server.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` until `deadline` (ms): 0 ready, -1 timed out or failed. */
static int wait_for(int fd, short events, int64_t deadline, char *err, size_t errlen)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left < 0) left = 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0) return 0;
        if (n == 0) {
            snprintf(err, errlen, "the client %s within the timeout (--timeout)",
                     events & POLLOUT ? "read nothing" : "sent nothing");
            return -1;
        }
        if (errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

int rec_downstream_read(rec_downstream *d, char *buf, size_t cap, size_t *got, char *err,
                        size_t errlen)
{
    *got = 0;
    if (d->ssl != NULL) {
        int want = 0;
        long n = pop3mock__tls_read(d->ssl, buf, cap, &want);
        if (n > 0) {
            *got = (size_t)n;
            return REC_DS_DATA;
        }
        if (n == 0) return want == POP3MOCK__TLS_WANT_NONE ? REC_DS_EOF : REC_DS_AGAIN;
        char why[200];
        snprintf(err, errlen, "TLS read from the client: %s", pop3mock__tls_error(why, sizeof why));
        return REC_DS_ERROR;
    }
    for (;;) {
        ssize_t n = recv(d->fd, buf, cap, 0);
        if (n > 0) {
            *got = (size_t)n;
            return REC_DS_DATA;
        }
        if (n == 0) return REC_DS_EOF;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return REC_DS_AGAIN;
        if (errno == ECONNRESET) return REC_DS_EOF;
        snprintf(err, errlen, "read from the client: %s", strerror(errno));
        return REC_DS_ERROR;
    }
}

int rec_downstream_write(rec_downstream *d, const char *buf, size_t len, int timeout_ms, char *err,
                         size_t errlen)
{
    int64_t deadline = now_ms() + timeout_ms;
    while (len > 0) {
        short wait = POLLOUT;
        if (d->ssl != NULL) {
            int want = 0;
            long n = pop3mock__tls_write(d->ssl, buf, len, &want);
            if (n > 0) {
                buf += n;
                len -= (size_t)n;
                continue;
            }
            if (n < 0) {
                char why[200];
                snprintf(err, errlen, "TLS write to the client: %s",
                         pop3mock__tls_error(why, sizeof why));
                return -1;
            }
            wait = want == POP3MOCK__TLS_WANT_READ ? POLLIN : POLLOUT;
        } else {
            ssize_t n = send(d->fd, buf, len, MSG_NOSIGNAL);
            if (n > 0) {
                buf += n;
                len -= (size_t)n;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                snprintf(err, errlen, "write to the client: %s", strerror(errno));
                return -1;
            }
        }
        if (wait_for(d->fd, wait, deadline, err, errlen) != 0) return -1;
    }
    return 0;
}

int rec_downstream_starttls(rec_downstream *d, SSL_CTX *ctx, int timeout_ms, char *err,
                            size_t errlen)
{
    char why[200];
    SSL *ssl = SSL_new(ctx);
    BIO *bio = ssl != NULL ? pop3mock__tls_socket_bio(d->fd) : NULL;
    if (ssl == NULL || bio == NULL) {
        snprintf(err, errlen, "TLS: %s", pop3mock__tls_error(why, sizeof why));
        SSL_free(ssl);
        return -1;
    }
    SSL_set_bio(ssl, bio, bio);
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int want = 0;
        int rc = pop3mock__tls_handshake(ssl, &want);
        if (rc == 1) break;
        if (rc < 0) {
            snprintf(err, errlen, "TLS handshake with the client failed: %s",
                     pop3mock__tls_error(why, sizeof why));
            SSL_free(ssl);
            return -1;
        }
        if (wait_for(d->fd, want == POP3MOCK__TLS_WANT_WRITE ? POLLOUT : POLLIN, deadline, err,
                     errlen) != 0) {
            SSL_free(ssl);
            return -1;
        }
    }
    d->ssl = ssl;
    return 0;
}

bool rec_downstream_buffered(const rec_downstream *d)
{
    /* Records read ahead but not yet decrypted count too (see rec_upstream_buffered). */
    return d->ssl != NULL && (SSL_pending(d->ssl) > 0 || SSL_has_pending(d->ssl));
}

void rec_downstream_close(rec_downstream *d)
{
    if (d->ssl != NULL) {
        SSL_shutdown(d->ssl); /* close_notify, not awaited */
        SSL_free(d->ssl);
        d->ssl = NULL;
    }
    if (d->fd >= 0) close(d->fd);
    d->fd = -1;
}
