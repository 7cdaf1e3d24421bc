/*
 * tls_server.h - server-side OpenSSL, non-blocking (RFC 2595 STLS, RFC 8314 implicit TLS).
 */
#ifndef POP3MOCK_TLS_SERVER_H
#define POP3MOCK_TLS_SERVER_H

#include <stddef.h>

#include <openssl/ssl.h>

/* What a non-blocking call is waiting for. */
enum { POP3MOCK__TLS_WANT_NONE = 0, POP3MOCK__TLS_WANT_READ, POP3MOCK__TLS_WANT_WRITE };

/* A context for `cert` (PEM chain) and `key`; NULL with `err` filled on failure. */
SSL_CTX *pop3mock__tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen);

/* Cap the TLS version of one connection at `max_version` (TLS1_x_VERSION; 0 leaves
 * the context's range). Returns 0 or -1. */
int pop3mock__tls_cap(SSL *ssl, unsigned max_version);

/* One step of the handshake: 1 done, 0 in progress (`*want` set), -1 failed. */
int pop3mock__tls_handshake(SSL *ssl, int *want);

/* Octets read or written (> 0); 0 would block (`*want` set) or, for read, the peer
 * closed (`*want` NONE); -1 on error. */
long pop3mock__tls_read(SSL *ssl, char *buf, size_t len, int *want);
long pop3mock__tls_write(SSL *ssl, const char *buf, size_t len, int *want);

/* A BIO on socket `fd` that never raises SIGPIPE: writes go out with send(MSG_NOSIGNAL),
 * so a client that vanishes under an SSL_write is an error return, not a signal, and the
 * library need not touch the process's signal dispositions. NULL when out of memory. */
BIO *pop3mock__tls_socket_bio(int fd);

/* The last OpenSSL error as text, for the transcript. */
const char *pop3mock__tls_error(char *buf, size_t len);

#endif
