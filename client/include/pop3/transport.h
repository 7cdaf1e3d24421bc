/*
 * pop3/transport.h - the byte pipes under the client: TCP and TLS (implicit and STLS).
 * The in-memory pipe for tests has a header of its own, pop3/transport_memory.h.
 *
 * A transport is a small vtable (read with a timeout, write everything with a timeout,
 * start TLS, is-TLS, close, and optionally describe the TLS session), so the client never
 * knows what carries its bytes. The
 * socket transports implement RFC 1939 section 3 (TCP, port 110), RFC 8314 section 3.1
 * (implicit TLS, port 995, TLS 1.2 minimum per RFC 8314 section 5), RFC 2595 section 4
 * (the STLS upgrade of a plain connection) and the server identity check of RFC 2595
 * section 2.4 / RFC 7817 (DNS name or IP address in the certificate). A TLS connection
 * that ends without close_notify is reported as an error, not as an end of stream
 * (RFC 8314 section 3.4: a truncation attack must not look like a complete reply).
 *
 * Whoever writes a transport of their own embeds `pop3_transport` as the first member
 * of their struct and points `ops` at their table.
 *
 * The table has no size or version field, so it only ever grows at its end and every op
 * after `close` is optional: NULL means "not provided". A table written with designated
 * initialisers (or any static or zeroed table) gets NULL for the ops it does not name;
 * a positional one listing only the first five compiles the same way (gcc's -Wextra
 * then warns of the missing initialiser).
 * A program compiled against a header older than an op must be rebuilt before a library
 * that reads that op is used with it: the library cannot tell a short table from a long
 * one (0.x releases keep source compatibility, not binary compatibility, here).
 */
#ifndef POP3_TRANSPORT_H
#define POP3_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* OpenSSL's SSL_CTX, named without including OpenSSL's headers. */
struct ssl_ctx_st;

/* Room for a readable error message, OpenSSL's reason included. */
#define POP3_TRANSPORT_ERROR_SIZE 256

/* How TLS is set up. Zero-initialised means: verify against the system store. */
typedef struct pop3_tls_options {
    /* PEM file of trusted certificates instead of the system store (NULL: system). */
    const char *ca_file;
    /* Directory of hashed certificates (c_rehash), in addition to ca_file (NULL: none). */
    const char *ca_path;
    /* A context configured by the caller (trust store, protocol versions, client
     * certificate). Borrowed: the transport takes its own reference. Its verify mode is
     * respected; when it verifies peers, the host name check is added to each
     * connection. NULL: a default context (TLS 1.2 minimum, verification on). */
    struct ssl_ctx_st *ssl_ctx;
    /* The name to check the certificate against and to send as SNI, when it differs from
     * the host dialled (NULL: the host dialled, RFC 7817 section 3). */
    const char *server_name;
    /* Skip certificate and host name verification. For tests and for servers the
     * caller has decided to trust blindly; never the default. */
    bool insecure;
} pop3_tls_options;

typedef struct pop3_transport pop3_transport;

typedef struct pop3_transport_ops {
    /*
     * Read what is available, at least 1 octet, at most `cap`, waiting up to `timeout_ms`
     * (-1: forever). Returns POP3_OK with `*got` > 0; POP3_ECLOSED on an orderly end of
     * stream (a TLS close_notify, or a TCP FIN on a plain connection); POP3_ETIMEOUT;
     * POP3_EIO; POP3_ETLS (including a TLS stream cut without close_notify).
     */
    int (*read)(pop3_transport *t, char *buf, size_t cap, size_t *got, int timeout_ms);
    /* Write all `len` octets, each wait bounded by `timeout_ms`. POP3_OK, POP3_ETIMEOUT,
     * POP3_EIO or POP3_ETLS. */
    int (*write)(pop3_transport *t, const char *buf, size_t len, int timeout_ms);
    /* Run the TLS handshake on the open connection (STLS). POP3_OK, POP3_ETLS,
     * POP3_ETIMEOUT, POP3_EIO, or POP3_ESTATE when TLS is already active. */
    int (*starttls)(pop3_transport *t, const pop3_tls_options *tls, int timeout_ms);
    /* True once TLS protects the connection. */
    bool (*is_tls)(const pop3_transport *t);
    /* Close the connection (a TLS close_notify is sent, not awaited) and release the
     * transport. The memory transport is the exception (pop3/transport_memory.h). */
    void (*close)(pop3_transport *t);

    /* Optional ops (NULL: not provided), appended in the order they were added. */

    /*
     * Describe the TLS session: `*version` the protocol version as OpenSSL names it
     * ("TLSv1.3", SSL_get_version) and `*cipher` the cipher suite ("TLS_AES_256_GCM_SHA384",
     * SSL_get_cipher_name). The strings are owned by the transport and stay valid until it
     * is closed. POP3_OK, or POP3_ESTATE (both set to NULL) while no TLS session is
     * established. pop3_tls_info and the library's trace read it.
     */
    int (*tls_info)(const pop3_transport *t, const char **version, const char **cipher);
} pop3_transport_ops;

struct pop3_transport {
    const pop3_transport_ops *ops;
    /* Readable detail of the last failure (OpenSSL's reason, the verify result, the
     * errno text); "" when there is none. */
    char error[POP3_TRANSPORT_ERROR_SIZE];
};

/*
 * pop3_transport_tcp_connect - resolve `host` (a name, an IPv4 or an IPv6 literal) with
 * getaddrinfo and connect to each address in turn until one answers, each attempt
 * bounded by `timeout_ms` (-1: the system's own limit). TCP_NODELAY is set: commands are
 * small and pipelined batches are written at once.
 * Returns POP3_OK and `*out` (owned by the caller; release with its close op), or
 * POP3_EIO (name not found, refused, unreachable), POP3_ETIMEOUT, POP3_EUSAGE (NULL or
 * empty host, port 0 or above 65535), POP3_ENOMEM; then `err` (may be NULL) holds the
 * reason.
 */
int pop3_transport_tcp_connect(pop3_transport **out, const char *host, unsigned port,
                               int timeout_ms, char *err, size_t errlen);

/*
 * pop3_transport_tls_connect - TCP as above, then the TLS handshake at once (implicit
 * TLS, RFC 8314 section 3.1) with the checks described on pop3_tls_options: certificate
 * chain, host name (X509_VERIFY_PARAM_set1_host) or IP address (set1_ip_asc) when
 * `host` is an IP literal, SNI for names only (RFC 6066 section 3), TLS 1.2 minimum.
 * `tls` may be NULL for the defaults. Returns what pop3_transport_tcp_connect returns,
 * or POP3_ETLS with OpenSSL's reason and the verify result in `err`.
 */
int pop3_transport_tls_connect(pop3_transport **out, const char *host, unsigned port,
                               int timeout_ms, const pop3_tls_options *tls, char *err,
                               size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
