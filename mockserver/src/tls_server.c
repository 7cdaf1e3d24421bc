/*
 * tls_server.c - the server side of TLS over non-blocking sockets.
 *
 * RFC 2595 section 4: after STLS +OK the handshake starts at once; RFC 8314 section 3.1:
 * on an implicit-TLS port it starts before the greeting. RFC 8314 section 4.1: TLS 1.2 or
 * later, unless a test caps the version below it on purpose (--tls-max, !tls-max) to
 * check that clients refuse. Every call maps OpenSSL's SSL_ERROR_WANT_READ / WANT_WRITE
 * to what the epoll loop must wait for, so no call ever blocks the other sessions.
 */
#define _POSIX_C_SOURCE 200809L
#include "tls_server.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

const char *pop3mock__tls_error(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (e == 0)
        snprintf(buf, len, "no OpenSSL error recorded");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

SSL_CTX *pop3mock__tls_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(err, errlen, "TLS: %s", pop3mock__tls_error(why, sizeof why));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* A partial SSL_write may be retried with a moved buffer: the session's output
     * buffer can be compacted between two attempts. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "%s: %s", cert, pop3mock__tls_error(why, sizeof why));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "%s: %s", key, pop3mock__tls_error(why, sizeof why));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int pop3mock__tls_cap(SSL *ssl, unsigned max_version)
{
    if (max_version == 0) return 0;
    if (SSL_set_max_proto_version(ssl, (int)max_version) != 1) return -1;
    if (max_version < TLS1_2_VERSION) {
        /* A server stuck below RFC 8314's TLS 1.2 is what the cap imitates. OpenSSL 3
         * signs TLS 1.0 and 1.1 handshakes with MD5-SHA1 and SHA-1, which it allows at
         * security level 0 only: without this it would refuse every client instead of
         * offering the old version. */
        if (SSL_set_min_proto_version(ssl, TLS1_VERSION) != 1) return -1;
        SSL_set_security_level(ssl, 0);
        if (SSL_set_cipher_list(ssl, "DEFAULT:@SECLEVEL=0") != 1) return -1;
    }
    return 0;
}

static int want_of(SSL *ssl, int rc)
{
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ: return POP3MOCK__TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return POP3MOCK__TLS_WANT_WRITE;
    default: return -1;
    }
}

int pop3mock__tls_handshake(SSL *ssl, int *want)
{
    *want = POP3MOCK__TLS_WANT_NONE;
    int rc = SSL_accept(ssl);
    if (rc == 1) return 1;
    int w = want_of(ssl, rc);
    if (w < 0) return -1;
    *want = w;
    return 0;
}

long pop3mock__tls_read(SSL *ssl, char *buf, size_t len, int *want)
{
    *want = POP3MOCK__TLS_WANT_NONE;
    size_t n = 0;
    errno = 0;
    int rc = SSL_read_ex(ssl, buf, len, &n);
    if (rc == 1) return (long)n;
    int e = SSL_get_error(ssl, rc);
    if (e == SSL_ERROR_ZERO_RETURN) return 0; /* close_notify */
    /* errno is 0 and the queue empty when the socket read hit EOF (SSL_ERROR_SYSCALL). */
    bool bare_eof = e == SSL_ERROR_SYSCALL && errno == 0 && ERR_peek_error() == 0;
    if (bare_eof || (e == SSL_ERROR_SSL &&
                     ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        /* The client closed TCP without a close_notify, as Python's ssl module and many
         * others do after QUIT. For POP3 that is still the client closing (RFC 1939
         * section 6: the session is over once QUIT is answered); treating it as a read
         * error made "C: <close connection>" fail at random, depending on whether the
         * FIN or an error was read first. */
        ERR_clear_error();
        return 0;
    }
    int w = want_of(ssl, rc);
    if (w < 0) return -1;
    *want = w;
    return 0;
}

long pop3mock__tls_write(SSL *ssl, const char *buf, size_t len, int *want)
{
    *want = POP3MOCK__TLS_WANT_NONE;
    size_t n = 0;
    int rc = SSL_write_ex(ssl, buf, len, &n);
    if (rc == 1) return (long)n;
    int w = want_of(ssl, rc);
    if (w < 0) return -1;
    *want = w;
    return 0;
}

/* The socket BIO of OpenSSL writes with write(2), which raises SIGPIPE on a reset
 * connection; this one sends with MSG_NOSIGNAL. The fd is the BIO's data. */
static int nosig_write(BIO *b, const char *p, int n)
{
    int fd = (int)(intptr_t)BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t w = send(fd, p, (size_t)n, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)w;
}

static int nosig_read(BIO *b, char *p, int n)
{
    int fd = (int)(intptr_t)BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t r = recv(fd, p, (size_t)n, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
    return (int)r;
}

static long nosig_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int nosig_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

/* Made once and kept for the life of the process (immutable after this). */
static void nosig_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pop3mock socket");
    if (m == NULL) return;
    if (BIO_meth_set_write(m, nosig_write) != 1 || BIO_meth_set_read(m, nosig_read) != 1 ||
        BIO_meth_set_ctrl(m, nosig_ctrl) != 1 || BIO_meth_set_create(m, nosig_create) != 1) {
        BIO_meth_free(m);
        return;
    }
    nosig_method = m;
}

BIO *pop3mock__tls_socket_bio(int fd)
{
    pthread_once(&nosig_once, nosig_init);
    if (nosig_method == NULL) return NULL;
    BIO *b = BIO_new(nosig_method);
    if (b != NULL) BIO_set_data(b, (void *)(intptr_t)fd);
    return b;
}
