/*
 * upstream.h - the recorder's connection to the real server, on libpop3's transports:
 * plain TCP (RFC 1939 section 3), implicit TLS (RFC 8314 section 3.1) or STLS (RFC 2595
 * section 4), with the certificate and host name checked (RFC 7817) unless --insecure.
 *
 * The transports are blocking calls with a timeout; the recorder multiplexes them with
 * the client's socket by polling the descriptor first and reading with a zero timeout,
 * so it needs the descriptor and OpenSSL's buffered octets, which only the library's
 * internal view of its socket transport shows (client/src/transport_socket.h).
 */
#ifndef POP3RECORD_UPSTREAM_H
#define POP3RECORD_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "pop3/transport.h"

typedef enum rec_up_mode {
    REC_UP_PLAIN = 0,
    REC_UP_TLS,      /* --upstream-tls: the handshake precedes the greeting */
    REC_UP_STARTTLS, /* --upstream-starttls: STLS before anything but CAPA */
} rec_up_mode;

/* Connect to host:port (TLS at once for REC_UP_TLS). POP3_OK or an error with `err`. */
int rec_upstream_connect(pop3_transport **out, const char *host, unsigned port, rec_up_mode mode,
                         const pop3_tls_options *tls, int timeout_ms, char *err, size_t errlen);

/* The socket to poll. */
int rec_upstream_fd(pop3_transport *t);

/* Octets already decrypted and waiting in OpenSSL (a poll would not show them). */
bool rec_upstream_buffered(pop3_transport *t);

#endif
