/*
 * pop3/transport.h - the byte pipes under the client: TCP, TLS (implicit and STLS) and an
 * in-memory pipe for tests.
 *
 * A transport is a small vtable (read with a timeout, write everything with a timeout,
 * start TLS, is-TLS, close), so the client never knows what carries its bytes. The
 * socket transports implement RFC 1939 section 3 (TCP, port 110), RFC 8314 section 3.1
 * (implicit TLS, port 995, TLS 1.2 minimum per RFC 8314 section 5), RFC 2595 section 4
 * (the STLS upgrade of a plain connection) and the server identity check of RFC 2595
 * section 2.4 / RFC 7817 (DNS name or IP address in the certificate). A TLS connection
 * that ends without close_notify is reported as an error, not as an end of stream
 * (RFC 8314 section 3.4: a truncation attack must not look like a complete reply).
 *
 * Whoever writes a transport of their own embeds `pop3_transport` as the first member
 * of their struct and points `ops` at their table.
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
     * transport. The memory transport is the exception: see below. */
    void (*close)(pop3_transport *t);
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

/*
 * The in-memory transport, for tests. The test scripts the server's bytes as segments;
 * a segment is released once the client has made `after_writes` writes (0: at once),
 * in order, so a reply can wait for its command as on a real connection (the scheme of
 * curl-fuzzer). A read returns octets of one segment only, at most `chunk` of them (0:
 * no limit; 1: one octet at a time). When the released segments are exhausted, a read
 * returns POP3_ETIMEOUT if a segment still waits for a write (the server would wait for
 * a command that never comes), else the end status (POP3_ECLOSED unless set).
 * Everything the client writes is kept. starttls records the output offset at which it
 * was called and switches is_tls on; it fails with POP3_ETLS when released octets were
 * left unread, as a real handshake would choke on them.
 *
 * Ownership: unlike the other transports, close only marks the transport closed so that
 * the test can inspect it after the client is gone; the test frees it with
 * pop3_transport_memory_free.
 */
pop3_transport *pop3_transport_memory_new(void);
void pop3_transport_memory_free(pop3_transport *t);

/* Append a segment (copied). POP3_OK or POP3_ENOMEM. */
int pop3_transport_memory_add(pop3_transport *t, const void *data, size_t len,
                              unsigned after_writes);
/* Append a NUL-terminated string as a segment. */
int pop3_transport_memory_add_str(pop3_transport *t, const char *s, unsigned after_writes);
/* At most `chunk` octets per read (0: no limit). */
void pop3_transport_memory_set_chunk(pop3_transport *t, size_t chunk);
/* Pretend TLS is active from the start (an implicit-TLS server). */
void pop3_transport_memory_set_tls(pop3_transport *t, bool active);
/* What a read returns once every segment is consumed: POP3_ECLOSED (default), POP3_EIO,
 * or POP3_ETLS (a TLS stream cut without close_notify). */
void pop3_transport_memory_set_end(pop3_transport *t, int error);
/* Make the `nth` write (1-based; 0: none) fail with `error`, nothing written. */
void pop3_transport_memory_fail_write(pop3_transport *t, unsigned nth, int error);
/* Make starttls fail with `error` (POP3_OK: succeed, the default). */
void pop3_transport_memory_fail_starttls(pop3_transport *t, int error);

/*
 * A responder turns the memory transport into a tiny in-process server: it is called
 * after each successful write with the octets written and may add segments.
 */
typedef void (*pop3_memory_responder_fn)(void *ud, pop3_transport *t, const char *data, size_t len);
void pop3_transport_memory_set_responder(pop3_transport *t, pop3_memory_responder_fn fn, void *ud);

/* Everything written so far, NUL-terminated for convenience (the length excludes it).
 * Owned by the transport, valid until its next write or its free. */
const char *pop3_transport_memory_output(const pop3_transport *t, size_t *len);
/* Number of writes so far. */
unsigned pop3_transport_memory_writes(const pop3_transport *t);
/* Output offset at which starttls was called, or (size_t)-1 when it never was. */
size_t pop3_transport_memory_tls_offset(const pop3_transport *t);
/* True once the client closed it. */
bool pop3_transport_memory_closed(const pop3_transport *t);
/* Octets released but not yet read by the client. */
size_t pop3_transport_memory_unread(const pop3_transport *t);

#ifdef __cplusplus
}
#endif
#endif
