/*
 * upstream.c - the connection to the real server (see upstream.h): libpop3's socket
 * and TLS transports, whose checks (certificate chain, host name or IP address, TLS 1.2
 * minimum, RFC 8314 section 5) are the client's own.
 */
#include "upstream.h"

#include <stdio.h>

#include "pop3/error.h"
#include "transport_socket.h"

#ifdef POP3_HAVE_TLS
#include <openssl/ssl.h>
#endif

int rec_upstream_connect(pop3_transport **out, const char *host, unsigned port, rec_up_mode mode,
                         const pop3_tls_options *tls, int timeout_ms, char *err, size_t errlen)
{
    if (mode == REC_UP_TLS)
        return pop3_transport_tls_connect(out, host, port, timeout_ms, tls, err, errlen);
    return pop3_transport_tcp_connect(out, host, port, timeout_ms, err, errlen);
}

int rec_upstream_fd(pop3_transport *t)
{
    return ((pop3__socket *)t)->fd;
}

bool rec_upstream_buffered(pop3_transport *t)
{
#ifdef POP3_HAVE_TLS
    pop3__socket *s = (pop3__socket *)t;
    /* SSL_has_pending, not SSL_pending alone: the client reads ahead, several records
     * at once, and records not yet decrypted never make the socket readable again. */
    return s->ssl != NULL && (SSL_pending((SSL *)s->ssl) > 0 || SSL_has_pending((SSL *)s->ssl));
#else
    (void)t;
    return false;
#endif
}
