/*
 * client_sasl.c - SASL authentication, RFC 5034 (the POP3 AUTH command), with the
 * mechanisms PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195),
 * XOAUTH2 (Google's) and OAUTHBEARER (RFC 7628).
 *
 * The exchange (RFC 5034 section 4): "AUTH mech [initial-response]", then "+ base64"
 * challenges each answered by one base64 line, until +OK or -ERR.
 *   - An initial response only when CAPA lists SASL (RFC5034-3.1) and the whole AUTH line
 *     fits 255 octets (RFC5034-4.7); otherwise it waits for the server's empty
 *     challenge. An empty initial response is "=" (RFC5034-4.1).
 *   - A challenge that is not strict base64 is answered "*" (RFC5034-4.9); so is any
 *     challenge a mechanism cannot answer; the server then says -ERR (RFC5034-4.5).
 *   - OAUTHBEARER errors arrive as a "+ base64(JSON)" challenge, answered with 0x01
 *     ("AQ==", RFC 7628 section 3.2.3; curl tests 889/890); XOAUTH2's with an empty
 *     line, as Google documents.
 *   - Challenges may be long (RFC5034-4.10): they are read with their own line limit.
 * Traces never show a response: client_io.c masks every SASL line but "*".
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_internal.h"
#include "pop3/digest.h"

/* The engine
 * ---------- */

/* Cancel the exchange with "*" (RFC5034-4.5) and read the server's verdict. */
static int cancel(pop3_client *c, const char *mechanism, const char *why, bool *cancelled)
{
    int rc = pop3__send_sasl_line(c, "*", 1);
    if (rc != POP3_OK) return rc;
    *cancelled = true;
    rc = pop3__expect(c, POP3_EXPECT_SASL, true);
    if (rc != POP3_OK) return rc;
    pop3_status_line st;
    rc = pop3__read_status(c, &st);
    if (rc == POP3_ESERVER)
        return pop3__fail(c, POP3_ESERVER, "AUTH %s cancelled: %s; server: %s", mechanism, why,
                          c->resp);
    if (rc == POP3_OK || rc == POP3_SASL_WAIT)
        return pop3__fatal(c, POP3_EPROTO,
                           "AUTH %s: the server did not reject the cancelled exchange "
                           "(RFC 5034 section 4): %s",
                           mechanism, c->resp);
    return rc;
}

/* base64 of `len` octets, "=" for none when `empty_is_equals` (initial responses). */
static char *encode(const char *raw, size_t len, bool empty_is_equals)
{
    size_t n = pop3_base64_encoded_size(len);
    char *b = malloc(n + 2);
    if (b == NULL) return NULL;
    if (len == 0) {
        strcpy(b, empty_is_equals ? "=" : "");
        return b;
    }
    size_t out = 0;
    if (pop3_base64_encode(raw, len, b, n + 1, &out) != POP3_OK) {
        free(b);
        return NULL;
    }
    return b;
}

int pop3__sasl(pop3_client *c, const char *mechanism, pop3_sasl_fn step, void *ud, bool *creds_sent,
               bool *cancelled)
{
    *creds_sent = false;
    *cancelled = false;
    int rc = pop3__need_connection(c);
    if (rc != POP3_OK) return rc;
    snprintf(c->cmdname, sizeof c->cmdname, "AUTH");
    if (c->authenticated)
        return pop3__fail(c, POP3_ESTATE, "AUTH: already authenticated (RFC 5034 section 4)");
    if (mechanism == NULL || mechanism[0] == '\0' ||
        pop3_check_arg(mechanism, strlen(mechanism), false, NULL) != POP3_OK)
        return pop3__fail(c, POP3_EUSAGE, "AUTH: bad mechanism name");
    if (c->opt.require_tls && !c->t->ops->is_tls(c->t))
        return pop3__fail(c, POP3_ETLS,
                          "AUTH not sent: TLS is required (require_tls) and the session is not "
                          "encrypted (RFC 8314 section 5.2)");

    /* Responses are raw octets up to what a challenge line can carry. */
    size_t cap = c->opt.max_sasl_line / 4 * 3;
    char *out = malloc(cap);
    char *challenge = malloc(cap);
    char *pending = NULL; /* an initial response too long for the AUTH line */
    if (out == NULL || challenge == NULL) {
        free(out);
        free(challenge);
        return pop3__fail(c, POP3_ENOMEM, "out of memory");
    }

    bool ir_allowed = c->opt.sasl_ir && c->capa_known && pop3_capa_find(&c->capa, "SASL");
    const char *ir = NULL;
    char *ir_b64 = NULL;
    if (ir_allowed) {
        size_t n = 0;
        int r = step(ud, NULL, 0, out, cap, &n);
        if (r == POP3_OK) {
            ir_b64 = encode(out, n, true);
            if (ir_b64 == NULL) {
                rc = pop3__fail(c, POP3_ENOMEM, "out of memory");
                goto done;
            }
            /* "AUTH " mech SP ir CRLF must fit 255 octets (RFC5034-4.7). */
            if (5 + strlen(mechanism) + 1 + strlen(ir_b64) + 2 <= POP3_COMMAND_MAX)
                ir = ir_b64;
            else
                pending = ir_b64; /* "=" never gets here: it always fits */
        } else if (r != POP3_SASL_WAIT) {
            rc = pop3__fail(c, pop3__callback_error(r), "AUTH %s: the mechanism cannot start (%s)",
                            mechanism, pop3_errname(r));
            goto done;
        }
    }

    const char *args[] = {mechanism, ir};
    rc = pop3__send(c, "AUTH", args, ir ? 2 : 1, ir ? POP3__SEND_MASK_LAST : 0, NULL);
    if (rc != POP3_OK) goto done;
    if (ir) *creds_sent = true;

    for (;;) {
        rc = pop3__expect(c, POP3_EXPECT_SASL, true);
        if (rc != POP3_OK) goto done;
        pop3_status_line st;
        rc = pop3__read_status(c, &st);
        if (rc == POP3_OK) {
            pop3__logged_in(c);
            rc = pop3__ok(c);
            goto done;
        }
        if (rc != POP3_SASL_WAIT) goto done; /* -ERR (message set) or fatal */
        size_t clen = 0;
        if (st.text.len / 4 * 3 > cap ||
            pop3_base64_decode(st.text.ptr, st.text.len, challenge, cap, &clen) != POP3_OK) {
            rc =
                cancel(c, mechanism, "the challenge is not base64 (RFC 5034 section 4)", cancelled);
            goto done;
        }
        if (pending) {
            /* The deferred initial response answers the empty challenge (RFC5034-4.6). */
            if (clen != 0) {
                rc = cancel(c, mechanism, "a challenge came where an empty one was due", cancelled);
                goto done;
            }
            rc = pop3__send_sasl_line(c, pending, strlen(pending));
            pending = NULL;
            if (rc != POP3_OK) goto done;
            *creds_sent = true;
            continue;
        }
        size_t n = 0;
        int r = step(ud, challenge, clen, out, cap, &n);
        if (r != POP3_OK) {
            rc = cancel(c, mechanism, "the mechanism cannot answer this challenge", cancelled);
            goto done;
        }
        char *line = encode(out, n, false);
        if (line == NULL) {
            rc = pop3__fail(c, POP3_ENOMEM, "out of memory");
            goto done;
        }
        rc = pop3__send_sasl_line(c, line, strlen(line));
        free(line);
        if (rc != POP3_OK) goto done;
        *creds_sent = true;
    }
done:
    free(ir_b64);
    free(out);
    free(challenge);
    return rc;
}

int pop3_auth_custom(pop3_client *c, const char *mechanism, pop3_sasl_fn step, void *ud)
{
    bool sent, cancelled;
    if (step == NULL) return pop3__fail(c, POP3_EUSAGE, "AUTH: no mechanism function");
    return pop3__sasl(c, mechanism, step, ud, &sent, &cancelled);
}

/* The built-in mechanisms
 * ----------------------- */

typedef struct mech {
    const pop3_credentials *cred;
    const char *host;
    unsigned port;
    int calls; /* responses produced so far */
} mech;

/* Append `len` octets at `*o`; false when `cap` is exceeded. */
static bool put(char *out, size_t cap, size_t *o, const char *s, size_t len)
{
    if (len > cap - *o) return false;
    memcpy(out + *o, s, len);
    *o += len;
    return true;
}

static bool puts_(char *out, size_t cap, size_t *o, const char *s)
{
    return put(out, cap, o, s, strlen(s));
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static int plain_step(void *ud, const char *ch, size_t chlen, char *out, size_t cap, size_t *n)
{
    (void)ch, (void)chlen;
    mech *m = ud;
    if (m->calls++ > 0) return POP3_EPROTO;
    size_t o = 0;
    const char *z = m->cred->authzid ? m->cred->authzid : "";
    if (!puts_(out, cap, &o, z) || !put(out, cap, &o, "", 1) ||
        !puts_(out, cap, &o, m->cred->user) || !put(out, cap, &o, "", 1) ||
        !puts_(out, cap, &o, m->cred->secret))
        return POP3_ELIMIT;
    *n = o;
    return POP3_OK;
}

/* LOGIN: the user name, then the password, whatever the prompts say. */
static int login_step(void *ud, const char *ch, size_t chlen, char *out, size_t cap, size_t *n)
{
    (void)ch, (void)chlen;
    mech *m = ud;
    int call = m->calls++;
    if (call > 1) return POP3_EPROTO;
    size_t o = 0;
    if (!puts_(out, cap, &o, call == 0 ? m->cred->user : m->cred->secret)) return POP3_ELIMIT;
    *n = o;
    return POP3_OK;
}

/* RFC 2195: user SP hex(HMAC-MD5(secret, challenge)); server-first. */
static int cram_step(void *ud, const char *ch, size_t chlen, char *out, size_t cap, size_t *n)
{
    mech *m = ud;
    if (ch == NULL) return POP3_SASL_WAIT;
    if (m->calls++ > 0) return POP3_EPROTO;
    char hex[POP3_MD5_HEX_SIZE];
    int rc = pop3_cram_md5_digest(ch, chlen, m->cred->secret, strlen(m->cred->secret), hex);
    if (rc != POP3_OK) return rc;
    size_t o = 0;
    if (!puts_(out, cap, &o, m->cred->user) || !puts_(out, cap, &o, " ") ||
        !puts_(out, cap, &o, hex))
        return POP3_ELIMIT;
    *n = o;
    return POP3_OK;
}

/* XOAUTH2: "user=" user ^A "auth=Bearer " token ^A ^A; an error challenge gets an empty
 * response, after which the server says -ERR. */
static int xoauth2_step(void *ud, const char *ch, size_t chlen, char *out, size_t cap, size_t *n)
{
    (void)ch, (void)chlen;
    mech *m = ud;
    int call = m->calls++;
    size_t o = 0;
    if (call == 0) {
        if (!puts_(out, cap, &o, "user=") || !puts_(out, cap, &o, m->cred->user) ||
            !puts_(out, cap, &o, "\001auth=Bearer ") || !puts_(out, cap, &o, m->cred->secret) ||
            !puts_(out, cap, &o, "\001\001"))
            return POP3_ELIMIT;
    } else if (call > 1) {
        return POP3_EPROTO;
    }
    *n = o;
    return POP3_OK;
}

/* RFC 5801 saslname: "," and "=" are written =2C and =3D. */
static bool put_saslname(char *out, size_t cap, size_t *o, const char *s)
{
    for (; *s; s++) {
        bool ok = *s == ','   ? puts_(out, cap, o, "=2C")
                  : *s == '=' ? puts_(out, cap, o, "=3D")
                              : put(out, cap, o, s, 1);
        if (!ok) return false;
    }
    return true;
}

/* RFC 7628 section 3.1: gs2 header "n,a=user," then ^A-separated key=value pairs: host,
 * port (when known) and "auth=Bearer token", closed by ^A^A. An error challenge
 * (section 3.2.3) is answered by a single ^A. */
static int oauthbearer_step(void *ud, const char *ch, size_t chlen, char *out, size_t cap,
                            size_t *n)
{
    (void)ch, (void)chlen;
    mech *m = ud;
    int call = m->calls++;
    size_t o = 0;
    if (call == 0) {
        char port[16];
        snprintf(port, sizeof port, "%u", m->port);
        bool ok = puts_(out, cap, &o, "n,a=") && put_saslname(out, cap, &o, m->cred->user) &&
                  puts_(out, cap, &o, ",");
        if (ok && m->host) ok = puts_(out, cap, &o, "\001host=") && puts_(out, cap, &o, m->host);
        if (ok && m->port) ok = puts_(out, cap, &o, "\001port=") && puts_(out, cap, &o, port);
        ok = ok && puts_(out, cap, &o, "\001auth=Bearer ") &&
             puts_(out, cap, &o, m->cred->secret) && puts_(out, cap, &o, "\001\001");
        if (!ok) return POP3_ELIMIT;
    } else if (call == 1) {
        if (!puts_(out, cap, &o, "\001")) return POP3_ELIMIT;
    } else {
        return POP3_EPROTO;
    }
    *n = o;
    return POP3_OK;
}

static const struct {
    const char *name;
    pop3_sasl_fn step;
    bool token; /* the secret is a bearer token */
} mechanisms[] = {
    {"PLAIN", plain_step, false},
    {"LOGIN", login_step, false},
    {"CRAM-MD5", cram_step, false},
    {"XOAUTH2", xoauth2_step, true},
    {"OAUTHBEARER", oauthbearer_step, true},
};

int pop3__auth_builtin(pop3_client *c, const char *mechanism, const pop3_credentials *cred,
                       bool *creds_sent, bool *cancelled)
{
    *creds_sent = *cancelled = false;
    snprintf(c->cmdname, sizeof c->cmdname, "AUTH");
    if (cred == NULL || cred->user == NULL || cred->secret == NULL || mechanism == NULL)
        return pop3__fail(c, POP3_EUSAGE, "AUTH: credentials need a user and a secret");
    /* ^A separates the OAuth fields; a user or token holding one would forge fields. */
    if (strchr(cred->user, '\001') || strchr(cred->secret, '\001'))
        return pop3__fail(c, POP3_EUSAGE, "AUTH: control octet 0x01 in the credentials");
    for (size_t i = 0; i < sizeof mechanisms / sizeof mechanisms[0]; i++) {
        if (strcasecmp(mechanism, mechanisms[i].name) != 0) continue;
        mech m = {cred, c->host, c->port, 0};
        return pop3__sasl(c, mechanisms[i].name, mechanisms[i].step, &m, creds_sent, cancelled);
    }
    return pop3__fail(c, POP3_EUSAGE,
                      "AUTH: unknown mechanism %s (built in: PLAIN, LOGIN, CRAM-MD5, XOAUTH2, "
                      "OAUTHBEARER; others through pop3_auth_custom)",
                      mechanism);
}

int pop3_auth(pop3_client *c, const char *mechanism, const pop3_credentials *cred)
{
    bool sent, cancelled;
    return pop3__auth_builtin(c, mechanism, cred, &sent, &cancelled);
}
