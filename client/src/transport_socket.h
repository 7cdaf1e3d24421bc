/*
 * transport_socket.h - library-internal: the socket transport shared by
 * transport_tcp.c (connect, plain I/O, the vtable) and transport_tls.c (OpenSSL).
 *
 * One struct serves a plain connection and the same connection after STLS (RFC 2595
 * section 4): the client keeps one transport pointer for the whole session, and the
 * vtable dispatches to TLS once `ssl` is set.
 */
#ifndef POP3_TRANSPORT_SOCKET_H
#define POP3_TRANSPORT_SOCKET_H

#include <stdarg.h>
#include <stdint.h>

#include "pop3/transport.h"

typedef struct pop3__socket {
    pop3_transport base;
    int fd;        /* non-blocking */
    char *host;    /* as dialled: the reference identity for the certificate check */
    unsigned port; /* for error messages */
    void *ssl;     /* SSL *, NULL while plain */
    bool tls_dead; /* a fatal TLS error happened: no close_notify on close */
} pop3__socket;

/* Milliseconds of a monotonic clock; deadlines are computed against it. */
int64_t pop3__now_ms(void);
/* Milliseconds left until `deadline` (-1 stays -1: no deadline), never below 0. */
int pop3__remaining_ms(int64_t deadline);
/* A deadline `timeout_ms` from now, or -1 for none. */
int64_t pop3__deadline(int timeout_ms);

/* Wait until `fd` is ready for `events` (POLLIN / POLLOUT) or the deadline passes.
 * POP3_OK, POP3_ETIMEOUT or POP3_EIO (message in `s`). */
int pop3__wait_fd(pop3__socket *s, short events, int64_t deadline);

/* Format into the transport's error buffer; returns `error`. */
int pop3__sock_error(pop3__socket *s, int error, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* TLS on an open socket (transport_tls.c). Without POP3_HAVE_TLS these fail with
 * POP3_ETLS, "built without TLS". */
int pop3__tls_start(pop3__socket *s, const pop3_tls_options *tls, int timeout_ms);
int pop3__tls_read(pop3__socket *s, char *buf, size_t cap, size_t *got, int timeout_ms);
int pop3__tls_write(pop3__socket *s, const char *buf, size_t len, int timeout_ms);
/* The negotiated protocol version and cipher suite (OpenSSL's static names);
 * POP3_ESTATE while no handshake has completed. */
int pop3__tls_describe(const pop3__socket *s, const char **version, const char **cipher);
/* Send close_notify (unless the session is dead) and free the SSL object. */
void pop3__tls_free(pop3__socket *s);

#endif
