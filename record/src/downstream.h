/*
 * downstream.h - the recorder's side of the client's connection: a non-blocking socket,
 * and TLS terminated with the recorder's own certificate (--tls-cert, --tls-key) when
 * the client sends STLS (RFC 2595 section 4) or connects with implicit TLS (RFC 8314
 * section 3.1). The OpenSSL plumbing is the mock server's (mockserver/src/tls_server.c).
 */
#ifndef POP3RECORD_DOWNSTREAM_H
#define POP3RECORD_DOWNSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

typedef struct rec_downstream {
    int fd;   /* non-blocking */
    SSL *ssl; /* NULL while plain */
} rec_downstream;

/* Results of rec_downstream_read. */
enum { REC_DS_DATA = 1, REC_DS_AGAIN = 0, REC_DS_EOF = -1, REC_DS_ERROR = -2 };

/* What is there to read, without waiting: REC_DS_DATA with `*got` > 0, REC_DS_AGAIN,
 * REC_DS_EOF (the client closed), REC_DS_ERROR (`err` says why). */
int rec_downstream_read(rec_downstream *d, char *buf, size_t cap, size_t *got, char *err,
                        size_t errlen);

/* Write all `len` octets, waiting at most `timeout_ms` for room each time. 0 or -1. */
int rec_downstream_write(rec_downstream *d, const char *buf, size_t len, int timeout_ms, char *err,
                         size_t errlen);

/* The TLS handshake as the server, within `timeout_ms`. 0 or -1. */
int rec_downstream_starttls(rec_downstream *d, SSL_CTX *ctx, int timeout_ms, char *err,
                            size_t errlen);

/* Decrypted octets wait in OpenSSL. */
bool rec_downstream_buffered(const rec_downstream *d);

/* Close (a close_notify when under TLS) and forget. */
void rec_downstream_close(rec_downstream *d);

#endif
