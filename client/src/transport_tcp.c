/*
 * transport_tcp.c - the TCP transport (pop3/transport.h): name resolution, connect with
 * a timeout, and plain reads and writes, each bounded by poll.
 *
 * RFC 1939 section 3 (a TCP connection to port 110). getaddrinfo gives IPv4 and IPv6
 * addresses in the system's preferred order; each is tried in turn, each attempt a
 * non-blocking connect bounded by the timeout (as Python's socket.create_connection,
 * which poplib uses), so a dead first address does not make a live second one
 * unreachable. The socket stays non-blocking for its whole life: every wait is a poll
 * with a deadline, which is how reads, writes and the TLS handshake get their timeouts.
 * After STLS (RFC 2595 section 4) the same transport carries TLS: the vtable dispatches
 * to transport_tls.c once `ssl` is set.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pop3/error.h"
#include "transport_socket.h"

int64_t pop3__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pop3__deadline(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : pop3__now_ms() + timeout_ms;
}

int pop3__remaining_ms(int64_t deadline)
{
    if (deadline < 0) return -1;
    int64_t left = deadline - pop3__now_ms();
    if (left <= 0) return 0;
    return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int pop3__sock_error(pop3__socket *s, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->base.error, sizeof s->base.error, fmt, ap);
    va_end(ap);
    return error;
}

int pop3__wait_fd(pop3__socket *s, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = s->fd, .events = events, .revents = 0};
        int left = pop3__remaining_ms(deadline);
        int n = poll(&p, 1, left);
        if (n > 0) return POP3_OK; /* POLLERR/POLLHUP: the next read or write says why */
        if (n == 0)
            return pop3__sock_error(s, POP3_ETIMEOUT, "no %s within the timeout (%s:%u)",
                                    events & POLLOUT ? "room to write" : "data from the server",
                                    s->host, s->port);
        if (errno != EINTR) return pop3__sock_error(s, POP3_EIO, "poll: %s", strerror(errno));
    }
}

static int plain_read(pop3__socket *s, char *buf, size_t cap, size_t *got, int timeout_ms)
{
    int64_t deadline = pop3__deadline(timeout_ms);
    *got = 0;
    for (;;) {
        ssize_t n = recv(s->fd, buf, cap, 0);
        if (n > 0) {
            *got = (size_t)n;
            return POP3_OK;
        }
        if (n == 0)
            return pop3__sock_error(s, POP3_ECLOSED, "connection closed by %s:%u", s->host,
                                    s->port);
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return pop3__sock_error(s, POP3_EIO, "read from %s:%u: %s", s->host, s->port,
                                    strerror(errno));
        int rc = pop3__wait_fd(s, POLLIN, deadline);
        if (rc != POP3_OK) return rc;
    }
}

static int plain_write(pop3__socket *s, const char *buf, size_t len, int timeout_ms)
{
    int64_t deadline = pop3__deadline(timeout_ms);
    while (len > 0) {
        /* MSG_NOSIGNAL: a peer that went away is an EPIPE for us, never a SIGPIPE that
         * kills the caller's process. */
        ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return pop3__sock_error(s, POP3_EIO, "write to %s:%u: %s", s->host, s->port,
                                    strerror(errno));
        int rc = pop3__wait_fd(s, POLLOUT, deadline);
        if (rc != POP3_OK) return rc;
    }
    return POP3_OK;
}

static int sock_read(pop3_transport *t, char *buf, size_t cap, size_t *got, int timeout_ms)
{
    pop3__socket *s = (pop3__socket *)t;
    if (s->fd < 0) return pop3__sock_error(s, POP3_EIO, "connection is closed");
    return s->ssl ? pop3__tls_read(s, buf, cap, got, timeout_ms)
                  : plain_read(s, buf, cap, got, timeout_ms);
}

static int sock_write(pop3_transport *t, const char *buf, size_t len, int timeout_ms)
{
    pop3__socket *s = (pop3__socket *)t;
    if (s->fd < 0) return pop3__sock_error(s, POP3_EIO, "connection is closed");
    return s->ssl ? pop3__tls_write(s, buf, len, timeout_ms) : plain_write(s, buf, len, timeout_ms);
}

static int sock_starttls(pop3_transport *t, const pop3_tls_options *tls, int timeout_ms)
{
    pop3__socket *s = (pop3__socket *)t;
    if (s->ssl) return pop3__sock_error(s, POP3_ESTATE, "TLS session already established");
    if (s->fd < 0) return pop3__sock_error(s, POP3_EIO, "connection is closed");
    return pop3__tls_start(s, tls, timeout_ms);
}

static bool sock_is_tls(const pop3_transport *t)
{
    return ((const pop3__socket *)t)->ssl != NULL;
}

static int sock_tls_info(const pop3_transport *t, const char **version, const char **cipher)
{
    return pop3__tls_describe((const pop3__socket *)t, version, cipher);
}

static void sock_close(pop3_transport *t)
{
    pop3__socket *s = (pop3__socket *)t;
    if (s->ssl) pop3__tls_free(s);
    if (s->fd >= 0) close(s->fd);
    free(s->host);
    free(s);
}

static const pop3_transport_ops socket_ops = {
    .read = sock_read,
    .write = sock_write,
    .starttls = sock_starttls,
    .is_tls = sock_is_tls,
    .close = sock_close,
    .tls_info = sock_tls_info,
};

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

/* "[::1]:110" or "127.0.0.1:110", for error messages. */
static void format_addr(const struct addrinfo *ai, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN + 16], serv[16];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, cap, "(unprintable address)");
        return;
    }
    if (ai->ai_family == AF_INET6)
        snprintf(out, cap, "[%s]:%s", host, serv);
    else
        snprintf(out, cap, "%s:%s", host, serv);
}

/* One non-blocking connect bounded by `timeout_ms`. Returns the fd or -1 with `*error`
 * and `why` set. */
static int try_connect(const struct addrinfo *ai, int timeout_ms, int *error, char *why,
                       size_t whylen)
{
    char where[INET6_ADDRSTRLEN + 40];
    format_addr(ai, where, sizeof where);
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        *error = POP3_EIO;
        snprintf(why, whylen, "socket for %s: %s", where, strerror(errno));
        return -1;
    }
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
        int64_t deadline = pop3__deadline(timeout_ms);
        for (;;) {
            struct pollfd p = {.fd = fd, .events = POLLOUT, .revents = 0};
            int n = poll(&p, 1, pop3__remaining_ms(deadline));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                *error = POP3_EIO;
                snprintf(why, whylen, "connect to %s: poll: %s", where, strerror(errno));
                close(fd);
                return -1;
            }
            if (n == 0) {
                close(fd);
                *error = POP3_ETIMEOUT;
                snprintf(why, whylen, "connect to %s: timed out", where);
                return -1;
            }
            break;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) soerr = errno;
        if (soerr != 0) {
            errno = soerr;
            rc = -1;
        } else {
            rc = 0;
        }
    }
    if (rc < 0) {
        *error = POP3_EIO;
        snprintf(why, whylen, "connect to %s: %s", where, strerror(errno));
        close(fd);
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int pop3_transport_tcp_connect(pop3_transport **out, const char *host, unsigned port,
                               int timeout_ms, char *err, size_t errlen)
{
    *out = NULL;
    if (host == NULL || host[0] == '\0' || port == 0 || port > 65535) {
        set_err(err, errlen, "host must be non-empty and port within 1..65535");
        return POP3_EUSAGE;
    }
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    /* No AI_ADDRCONFIG: on a machine with only a loopback interface it would hide
     * 127.0.0.1 and ::1, the very addresses the tests use. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        if (err && errlen) snprintf(err, errlen, "resolve %s: %s", host, gai_strerror(gai));
        return POP3_EIO;
    }

    int error = POP3_EIO, fd = -1;
    char why[POP3_TRANSPORT_ERROR_SIZE] = "no address to connect to";
    for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = try_connect(ai, timeout_ms, &error, why, sizeof why);
    freeaddrinfo(res);
    if (fd < 0) {
        set_err(err, errlen, why);
        return error;
    }

    pop3__socket *s = calloc(1, sizeof *s);
    char *h = strdup(host);
    if (s == NULL || h == NULL) {
        free(s);
        free(h);
        close(fd);
        set_err(err, errlen, "out of memory");
        return POP3_ENOMEM;
    }
    s->base.ops = &socket_ops;
    s->fd = fd;
    s->host = h;
    s->port = port;
    *out = &s->base;
    return POP3_OK;
}

int pop3_transport_tls_connect(pop3_transport **out, const char *host, unsigned port,
                               int timeout_ms, const pop3_tls_options *tls, char *err,
                               size_t errlen)
{
    pop3_transport *t = NULL;
    int rc = pop3_transport_tcp_connect(&t, host, port, timeout_ms, err, errlen);
    if (rc != POP3_OK) return rc;
    pop3_tls_options defaults = {0};
    rc = pop3__tls_start((pop3__socket *)t, tls ? tls : &defaults, timeout_ms);
    if (rc != POP3_OK) {
        set_err(err, errlen, t->error);
        t->ops->close(t);
        *out = NULL;
        return rc;
    }
    *out = t;
    return POP3_OK;
}
