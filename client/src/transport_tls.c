/*
 * transport_tls.c - TLS for the socket transport, through OpenSSL: implicit TLS
 * (RFC 8314 section 3.1) and the STLS upgrade (RFC 2595 section 4).
 *
 * Secure by default (RFC 8314 section 5, RFC 7817): TLS 1.2 at least, the certificate
 * chain verified against the system store or the caller's CA file, the host dialled
 * checked against the certificate (a DNS name with X509_VERIFY_PARAM_set1_host, an IP
 * literal with X509_VERIFY_PARAM_set1_ip_asc; RFC 7817 section 3: the reference identity
 * is what the user asked for, never a name learnt from DNS). SNI is sent for names only
 * (RFC 6066 section 3 forbids literals). `insecure` is the one way to switch checks off.
 *
 * The socket is non-blocking: every SSL call that wants to read or write is retried
 * after a poll bounded by the caller's deadline, so the handshake and each read and
 * write get their timeout. The socket BIO is our own so that writes use MSG_NOSIGNAL: a
 * server that vanishes must give an error, not a SIGPIPE. A stream that ends without
 * close_notify is an error (RFC 8314 section 3.4): a cut connection must never pass for
 * a complete reply.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "pop3/error.h"
#include "transport_socket.h"

#ifdef POP3_HAVE_TLS

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* The socket BIO
 * -------------- */

static BIO_METHOD *nosig_method;
static CRYPTO_ONCE nosig_once = CRYPTO_ONCE_STATIC_INIT;

static int bio_fd(BIO *b)
{
    return (int)(intptr_t)BIO_get_data(b);
}

static int nosig_write(BIO *b, const char *buf, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = send(bio_fd(b), buf, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static int nosig_read(BIO *b, char *buf, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = recv(bio_fd(b), buf, (size_t)len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
    return (int)n;
}

static long nosig_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    /* Nothing is buffered in this BIO, so a flush has nothing to do; every other
     * control (kTLS, peek, pending) is "not supported" and OpenSSL copes. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int nosig_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void nosig_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pop3 socket");
    if (m == NULL) return;
    BIO_meth_set_write(m, nosig_write);
    BIO_meth_set_read(m, nosig_read);
    BIO_meth_set_ctrl(m, nosig_ctrl);
    BIO_meth_set_create(m, nosig_create);
    nosig_method = m;
}

static BIO *nosig_bio(int fd)
{
    if (!CRYPTO_THREAD_run_once(&nosig_once, nosig_init) || nosig_method == NULL) return NULL;
    BIO *b = BIO_new(nosig_method);
    if (b) BIO_set_data(b, (void *)(intptr_t)fd);
    return b;
}

/* Errors
 * ------ */

/* OpenSSL's queued reason, "" when the queue is empty; the queue is emptied. */
static void openssl_reason(char *out, size_t cap)
{
    unsigned long e = ERR_get_error(), last = e;
    /* The earliest error is the root cause; later ones only add context. */
    while (last != 0) {
        unsigned long next = ERR_get_error();
        if (next == 0) break;
        last = next;
    }
    out[0] = '\0';
    if (e != 0) ERR_error_string_n(e, out, cap);
}

/* The error after a failed SSL call `ret` in `what`; `*want` set for retries. */
static int ssl_failure(pop3__socket *s, int ret, const char *what, short *want)
{
    SSL *ssl = s->ssl;
    int err = SSL_get_error(ssl, ret);
    *want = 0;
    if (err == SSL_ERROR_WANT_READ) {
        *want = POLLIN;
        return POP3_OK;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
        *want = POLLOUT;
        return POP3_OK;
    }
    if (err == SSL_ERROR_ZERO_RETURN)
        return pop3__sock_error(s, POP3_ECLOSED, "TLS session closed by %s:%u (close_notify)",
                                s->host, s->port);
    int saved_errno = errno;
    unsigned long first = ERR_peek_error();
    char reason[160];
    openssl_reason(reason, sizeof reason);
    s->tls_dead = true;
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    bool eof = err == SSL_ERROR_SSL && ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
    bool eof = false;
#endif
    /* OpenSSL 1.1 reports the same truncation as a syscall error with errno 0. */
    if (err == SSL_ERROR_SYSCALL && first == 0 && (ret == 0 || saved_errno == 0)) eof = true;
    if (eof && strcmp(what, "handshake") == 0)
        return pop3__sock_error(s, POP3_ETLS, "TLS handshake with %s:%u: connection closed",
                                s->host, s->port);
    if (eof)
        return pop3__sock_error(s, POP3_ETLS,
                                "TLS stream from %s:%u ended without close_notify (truncated, "
                                "RFC 8314 section 3.4)",
                                s->host, s->port);
    if (err == SSL_ERROR_SYSCALL)
        return pop3__sock_error(s, POP3_EIO, "TLS %s with %s:%u: %s", what, s->host, s->port,
                                saved_errno ? strerror(saved_errno) : "I/O error");
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK)
        return pop3__sock_error(s, POP3_ETLS, "TLS %s with %s:%u failed: %s; certificate: %s", what,
                                s->host, s->port, reason[0] ? reason : "error",
                                X509_verify_cert_error_string(vr));
    return pop3__sock_error(s, POP3_ETLS, "TLS %s with %s:%u failed: %s", what, s->host, s->port,
                            reason[0] ? reason : "error");
}

/* Setup
 * ----- */

/* An IP literal gets an address check and no SNI. A zone ("fe80::1%eth0") is not part
 * of the address in a certificate, so it is cut off. Returns true for a literal and
 * copies its address text into `ip`. */
static bool ip_literal(const char *host, char *ip, size_t cap)
{
    size_t n = strlen(host);
    if (n >= cap) return false; /* longer than any address text */
    memcpy(ip, host, n + 1);
    char *pct = strchr(ip, '%');
    if (pct) *pct = '\0';
    unsigned char bin[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1;
}

/* OpenSSL's read buffer with read-ahead: four full records (16 KiB each, plus framing). */
#define POP3__TLS_READ_BUFFER (4 * (16384 + 2048))

static SSL_CTX *default_ctx(pop3__socket *s, const pop3_tls_options *tls)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return NULL;
    /* RFC 8314 section 5 / RFC8314-5a: TLS 1.2 or later. */
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) goto fail;
    if (!tls->insecure) {
        int ok = 1;
        if (tls->ca_file || tls->ca_path)
            ok = SSL_CTX_load_verify_locations(ctx, tls->ca_file, tls->ca_path);
        else
            ok = SSL_CTX_set_default_verify_paths(ctx);
        if (!ok) {
            char reason[160];
            openssl_reason(reason, sizeof reason);
            pop3__sock_error(s, POP3_ETLS, "cannot load trusted certificates from %s: %s",
                             tls->ca_file   ? tls->ca_file
                             : tls->ca_path ? tls->ca_path
                                            : "the system store",
                             reason);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int pop3__tls_start(pop3__socket *s, const pop3_tls_options *tls, int timeout_ms)
{
    pop3_tls_options none = {0};
    if (tls == NULL) tls = &none;
    int64_t deadline = pop3__deadline(timeout_ms);
    ERR_clear_error();
    s->base.error[0] = '\0';

    SSL_CTX *ctx = tls->ssl_ctx;
    bool own_ctx = ctx == NULL;
    if (own_ctx) {
        ctx = default_ctx(s, tls);
        if (ctx == NULL) {
            if (s->base.error[0] == '\0') {
                char reason[160];
                openssl_reason(reason, sizeof reason);
                pop3__sock_error(s, POP3_ETLS, "cannot create a TLS context: %s", reason);
            }
            return POP3_ETLS;
        }
    }
    SSL *ssl = SSL_new(ctx); /* holds its own reference to ctx */
    /* Read-ahead lets OpenSSL take whole socket buffers rather than a record header and
     * then its body: half the system calls on a large RETR. */
    if (ssl) {
        SSL_set_read_ahead(ssl, 1);
        /* With read-ahead, one socket read fills OpenSSL's buffer: at its default size
         * (one record) that is one read per record; several records per read halve the
         * reads of a large RETR again. */
        SSL_set_default_read_buffer_len(ssl, POP3__TLS_READ_BUFFER);
    }
    if (own_ctx) SSL_CTX_free(ctx);
    BIO *bio = ssl ? nosig_bio(s->fd) : NULL;
    if (ssl == NULL || bio == NULL) {
        SSL_free(ssl);
        return pop3__sock_error(s, POP3_ETLS, "cannot create a TLS session (out of memory)");
    }
    SSL_set_bio(ssl, bio, bio);
    SSL_set_connect_state(ssl);
    s->ssl = ssl;
    s->tls_dead = false;

    const char *given = tls->server_name ? tls->server_name : s->host;
    /* RFC 6125 section 6.4.1: a fully qualified name's trailing dot is not part of the
     * identity, and RFC 6066 section 3 sends SNI without it. */
    char name[256];
    size_t nlen = strlen(given);
    int setup = nlen < sizeof name; /* a DNS name is at most 253 octets */
    if (!setup) nlen = sizeof name - 1;
    memcpy(name, given, nlen);
    name[nlen] = '\0';
    if (nlen > 1 && name[nlen - 1] == '.') name[nlen - 1] = '\0';
    char ip[64];
    bool literal = ip_literal(name, ip, sizeof ip);
    if (!literal) setup = setup && SSL_set_tlsext_host_name(ssl, name) == 1;

    /* A caller's context decides whether peers are verified; ours always does. */
    bool verify = !tls->insecure && (own_ctx || (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER));
    if (tls->insecure) {
        SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    } else if (verify) {
        if (own_ctx) SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        if (literal) {
            setup = setup && X509_VERIFY_PARAM_set1_ip_asc(param, ip);
        } else {
            /* RFC7817-3.5: "*" only as a whole left-most label. */
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            setup = setup && X509_VERIFY_PARAM_set1_host(param, name, 0);
        }
    }
    if (!setup) {
        char reason[160];
        openssl_reason(reason, sizeof reason);
        s->tls_dead = true;
        pop3__tls_free(s);
        return pop3__sock_error(s, POP3_ETLS, "cannot set the TLS server name %s: %s", name,
                                reason);
    }

    for (;;) {
        ERR_clear_error();
        int ret = SSL_connect(ssl);
        if (ret == 1) break;
        short want;
        int rc = ssl_failure(s, ret, "handshake", &want);
        if (rc == POP3_OK) rc = pop3__wait_fd(s, want, deadline);
        if (rc != POP3_OK) {
            if (rc == POP3_ECLOSED)
                pop3__sock_error(s, POP3_ETLS, "TLS handshake with %s:%u: connection closed",
                                 s->host, s->port);
            s->tls_dead = true;
            pop3__tls_free(s);
            return rc == POP3_ECLOSED ? POP3_ETLS : rc;
        }
    }
    return POP3_OK;
}

int pop3__tls_read(pop3__socket *s, char *buf, size_t cap, size_t *got, int timeout_ms)
{
    int64_t deadline = pop3__deadline(timeout_ms);
    *got = 0;
    for (;;) {
        ERR_clear_error();
        size_t n = 0;
        int ret = SSL_read_ex(s->ssl, buf, cap, &n);
        if (ret == 1) {
            /* One record is at most 16 KiB: take what else is already here, decrypted or
             * on the socket, without waiting, so the caller gets big chunks. */
            size_t total = n;
            while (total < cap) {
                ERR_clear_error();
                ret = SSL_read_ex(s->ssl, buf + total, cap - total, &n);
                if (ret != 1) {
                    /* Whatever stopped us (no data yet, close_notify, an error) is seen
                     * again by the next call, after these octets are consumed. */
                    ERR_clear_error();
                    break;
                }
                total += n;
            }
            *got = total;
            return POP3_OK;
        }
        short want;
        int rc = ssl_failure(s, ret, "read", &want);
        if (rc != POP3_OK) return rc;
        rc = pop3__wait_fd(s, want, deadline);
        if (rc != POP3_OK) return rc;
    }
}

int pop3__tls_write(pop3__socket *s, const char *buf, size_t len, int timeout_ms)
{
    int64_t deadline = pop3__deadline(timeout_ms);
    while (len > 0) {
        ERR_clear_error();
        size_t n = 0;
        /* Without partial writes, a retried SSL_write must see the same buffer, which
         * it does: only a completed write advances `buf`. */
        int ret = SSL_write_ex(s->ssl, buf, len, &n);
        if (ret == 1) {
            buf += n;
            len -= n;
            continue;
        }
        short want;
        int rc = ssl_failure(s, ret, "write", &want);
        if (rc == POP3_ECLOSED)
            rc = pop3__sock_error(s, POP3_EIO, "TLS write to %s:%u: session closed", s->host,
                                  s->port);
        if (rc != POP3_OK) return rc;
        rc = pop3__wait_fd(s, want, deadline);
        if (rc != POP3_OK) return rc;
    }
    return POP3_OK;
}

int pop3__tls_describe(const pop3__socket *s, const char **version, const char **cipher)
{
    /* Both names come from OpenSSL's static tables, so they outlive the SSL object. */
    const SSL *ssl = s->ssl;
    const char *v = ssl && SSL_is_init_finished(ssl) ? SSL_get_version(ssl) : NULL;
    const char *n = v ? SSL_get_cipher_name(ssl) : NULL;
    if (v == NULL || n == NULL || strcmp(n, "(NONE)") == 0) {
        *version = *cipher = NULL;
        return POP3_ESTATE;
    }
    *version = v;
    *cipher = n;
    return POP3_OK;
}

void pop3__tls_free(pop3__socket *s)
{
    SSL *ssl = s->ssl;
    if (ssl == NULL) return;
    /* One close_notify, not awaited (RFC8314-3.4 lets the client close at once). On a
     * non-blocking socket this never waits; after a fatal error it must not be sent. */
    if (!s->tls_dead && SSL_is_init_finished(ssl)) (void)SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
    s->ssl = NULL;
}

#else /* !POP3_HAVE_TLS */

int pop3__tls_start(pop3__socket *s, const pop3_tls_options *tls, int timeout_ms)
{
    (void)tls, (void)timeout_ms;
    return pop3__sock_error(s, POP3_ETLS, "libpop3 was built without TLS (POP3_TLS=OFF)");
}

int pop3__tls_read(pop3__socket *s, char *buf, size_t cap, size_t *got, int timeout_ms)
{
    (void)buf, (void)cap, (void)timeout_ms;
    *got = 0;
    return pop3__sock_error(s, POP3_ETLS, "libpop3 was built without TLS (POP3_TLS=OFF)");
}

int pop3__tls_write(pop3__socket *s, const char *buf, size_t len, int timeout_ms)
{
    (void)buf, (void)len, (void)timeout_ms;
    return pop3__sock_error(s, POP3_ETLS, "libpop3 was built without TLS (POP3_TLS=OFF)");
}

int pop3__tls_describe(const pop3__socket *s, const char **version, const char **cipher)
{
    (void)s;
    *version = *cipher = NULL;
    return POP3_ESTATE;
}

void pop3__tls_free(pop3__socket *s)
{
    s->ssl = NULL;
}

#endif
