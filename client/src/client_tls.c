/*
 * client_tls.c - STLS, RFC 2595 section 4, and its policy.
 *
 *   - STLS only in AUTHORIZATION state (RFC2595-4.6) and only while no TLS layer is
 *     active, so only once (RFC2595-4.4); poplib's messages. Never after UTF8
 *     (RFC6856-2.5).
 *   - The server must list STLS in CAPA (RFC2595-4.1/4.2; poplib and curl test 985 ask
 *     CAPA first); otherwise nothing is sent.
 *   - The handshake starts right after the CRLF of the +OK (RFC2595-4.3); nothing is
 *     sent in between (RFC2595-4.5). Any octet received after the +OK and before the
 *     handshake was injected in clear (RFC2595-4.8, curl test 982, Q41): the session
 *     ends. Octets still in the socket make the handshake itself fail.
 *   - Afterwards every capability learnt in clear is forgotten and CAPA is asked again
 *     (RFC2595-4.7, RFC2595-9): a man in the middle may have edited the first list.
 *
 * Also what the TLS session negotiated (pop3_tls_info), for implicit TLS (RFC 8314
 * section 3.1) as for STLS: the protocol version and cipher suite the transport reports.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

int pop3_tls_info(const pop3_client *c, const char **version, const char **cipher)
{
    const char *v = NULL, *n = NULL;
    int rc = POP3_ESTATE;
    /* tls_info is optional (NULL in tables written before it existed). */
    if (c != NULL && c->t != NULL && c->t->ops->is_tls(c->t) && c->t->ops->tls_info != NULL)
        rc = c->t->ops->tls_info(c->t, &v, &n);
    /* A caller's transport may answer anything: only a complete answer counts. */
    if (rc != POP3_OK || v == NULL || n == NULL || *v == '\0' || *n == '\0') {
        v = n = NULL;
        rc = POP3_ESTATE;
    }
    if (version) *version = v;
    if (cipher) *cipher = n;
    return rc;
}

void pop3__trace_tls(pop3_client *c)
{
    const char *v, *n;
    if (pop3_tls_info(c, &v, &n) == POP3_OK)
        pop3__trace(c, 1, "*tls* TLS established: %s, %s", v, n);
    else
        pop3__trace(c, 1, "*tls* TLS established");
}

int pop3_stls(pop3_client *c, const pop3_tls_options *tls)
{
    int rc = pop3__need_connection(c);
    if (rc != POP3_OK) return rc;
    snprintf(c->cmdname, sizeof c->cmdname, "STLS");
    if (c->t->ops->is_tls(c->t))
        return pop3__fail(c, POP3_ESTATE, "TLS session already established");
    if (c->authenticated)
        return pop3__fail(c, POP3_ESTATE, "STLS is only allowed before login (RFC 2595 section 4)");
    if (c->utf8_mode)
        return pop3__fail(c, POP3_ESTATE, "STLS is not allowed after UTF8 (RFC 6856 section 2)");
    if (!c->capa_known) {
        rc = pop3_capa(c, NULL);
        if (c->t == NULL) return rc;
        if (rc != POP3_OK)
            return pop3__fail(c, POP3_ETLS, "STLS not supported by server: CAPA failed (%s)",
                              c->resp[0] ? c->resp : pop3_errname(rc));
        snprintf(c->cmdname, sizeof c->cmdname, "STLS");
    }
    if (pop3_capa_find(&c->capa, "STLS") == NULL)
        return pop3__fail(c, POP3_ETLS, "STLS not supported by server (not listed in CAPA)");

    rc = pop3__simple(c, "STLS", NULL, 0, 0, NULL);
    if (rc != POP3_OK) return rc; /* -ERR: still in clear, the caller decides */
    rc = pop3__check_unsolicited(c, "after the STLS +OK, before the TLS handshake: response "
                                    "injection (RFC 2595 section 4)");
    if (rc != POP3_OK) return rc;

    char *reply = strdup(c->resp);
    if (reply == NULL) return pop3__fatal(c, POP3_ENOMEM, "out of memory");
    rc =
        pop3__callback_error(c->t->ops->starttls(c->t, tls ? tls : &c->opt.tls, c->opt.timeout_ms));
    if (rc != POP3_OK) {
        free(reply);
        return pop3__fatal(c, rc == POP3_ESTATE ? POP3_ETLS : rc, "STLS: %s", c->t->error);
    }
    pop3__trace_tls(c);

    c->capa_known = false;
    c->capa_after_auth = false;
    c->capa_tried = false;
    pop3_capa_clear(&c->capa);
    rc = pop3_capa(c, NULL);
    if (c->t == NULL) {
        free(reply);
        return rc;
    }
    /* The reply of this call is STLS's, as poplib returns it. */
    snprintf(c->resp, c->resp_cap, "%s", reply);
    c->code = POP3_CODE_NONE;
    c->code_text[0] = '\0';
    free(reply);
    snprintf(c->cmdname, sizeof c->cmdname, "STLS");
    return pop3__ok(c);
}
