/*
 * client_auth.c - logging in: USER/PASS and APOP (RFC 1939 section 7), RPOP (RFC 1081),
 * and pop3_login, which picks the best method the server offers.
 *
 * RFC1939-7.6: a password may contain spaces and goes whole in one PASS line.
 * RFC1939-7.8 / CVE-2007-1558: APOP only with a greeting timestamp in msg-id form (Q33).
 * RFC6856-2.7: non-ASCII user names and passwords only after CAPA "UTF8 USER".
 * RFC2595-2.2, RFC8314-5.2b: with require_tls no credential ever leaves in clear (the
 * check sits in client_io.c's send path, so no caller can go around it).
 * pop3_login's order: SASL (strongest first; on to the next mechanism only when the
 * previous one failed before any credential left or was cancelled, Q37), APOP when
 * allowed (a refusal falls back, Q34, unless the reply says the login itself was good
 * but the maildrop is busy: [IN-USE], [LOGIN-DELAY], [SYS/...], RFC 2449 section 8,
 * RFC 3206), then USER/PASS when CAPA lists USER or CAPA is not implemented (RFC2449-5.4,
 * as curl does).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "client_internal.h"
#include "pop3/digest.h"

void pop3__logged_in(pop3_client *c)
{
    c->authenticated = true;
    /* What CAPA said before login may be incomplete (Q31); it may be asked again. */
    c->capa_tried = false;
}

/* Preconditions of every credential command. */
static int guard(pop3_client *c, const char *keyword)
{
    int rc = pop3__need_connection(c);
    if (rc != POP3_OK) return rc;
    snprintf(c->cmdname, sizeof c->cmdname, "%s", keyword);
    if (c->authenticated)
        return pop3__fail(c, POP3_ESTATE, "%s: already authenticated (RFC 1939 section 7)",
                          keyword);
    return POP3_OK;
}

/*
 * RFC6856-2.7: credentials with octets beyond ASCII only when the server said it takes
 * UTF-8 ones ("UTF8 USER" in CAPA); elsewhere their meaning is undefined and a server
 * may compare them as anything.
 */
static int check_charset(pop3_client *c, const char *keyword, const char *s)
{
    bool eight = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80) eight = true;
    if (!eight || (c->capa_known && pop3_capa_has_param(&c->capa, "UTF8", "USER"))) return POP3_OK;
    return pop3__fail(c, POP3_EUSAGE,
                      "%s not sent: non-ASCII credentials need the server's \"UTF8 USER\" "
                      "capability (RFC 6856 section 2)",
                      keyword);
}

/* A user name is one argument: no SP (the encoder allows one in a last argument). */
static int check_user(pop3_client *c, const char *keyword, const char *user)
{
    const char *why = NULL;
    if (user == NULL || user[0] == '\0')
        return pop3__fail(c, POP3_EUSAGE, "%s not sent: empty user name", keyword);
    if (pop3_check_arg(user, strlen(user), false, &why) != POP3_OK)
        return pop3__fail(c, POP3_EUSAGE, "%s not sent: user name: %s", keyword, why);
    return check_charset(c, keyword, user);
}

int pop3_user(pop3_client *c, const char *user)
{
    int rc = guard(c, "USER");
    if (rc == POP3_OK) rc = check_user(c, "USER", user);
    if (rc != POP3_OK) return rc;
    const char *args[] = {user};
    return pop3__simple(c, "USER", args, 1, 0, NULL);
}

int pop3_pass(pop3_client *c, const char *password)
{
    int rc = guard(c, "PASS");
    if (rc != POP3_OK) return rc;
    if (password == NULL) return pop3__fail(c, POP3_EUSAGE, "PASS not sent: no password");
    rc = check_charset(c, "PASS", password);
    if (rc != POP3_OK) return rc;
    const char *args[] = {password};
    rc = pop3__simple(c, "PASS", args, 1, POP3__SEND_MASK_LAST, NULL);
    if (rc == POP3_OK) pop3__logged_in(c);
    return rc;
}

int pop3_apop(pop3_client *c, const char *user, const char *secret)
{
    int rc = guard(c, "APOP");
    if (rc == POP3_OK) rc = check_user(c, "APOP", user);
    if (rc != POP3_OK) return rc;
    if (secret == NULL) return pop3__fail(c, POP3_EUSAGE, "APOP not sent: no secret");
    rc = check_charset(c, "APOP", secret); /* RFC6856-2.6: the digest covers the octets */
    if (rc != POP3_OK) return rc;
    pop3_view ts;
    const char *w = c->welcome ? c->welcome : "";
    if (!pop3_apop_timestamp(w, strlen(w), &ts))
        return pop3__fail(c, POP3_ESTATE,
                          "APOP not supported by server: the greeting has no timestamp of the "
                          "form <...@...> (RFC 1939 section 7)");
    char hex[POP3_MD5_HEX_SIZE];
    rc = pop3_apop_digest(ts.ptr, ts.len, secret, strlen(secret), hex);
    if (rc != POP3_OK)
        return pop3__fail(c, rc, "APOP not sent: MD5 is not available in this OpenSSL");
    const char *args[] = {user, hex};
    rc = pop3__simple(c, "APOP", args, 2, POP3__SEND_MASK_LAST, NULL);
    if (rc == POP3_OK) pop3__logged_in(c);
    return rc;
}

int pop3_rpop(pop3_client *c, const char *user)
{
    int rc = guard(c, "RPOP");
    if (rc == POP3_OK) rc = check_user(c, "RPOP", user);
    if (rc != POP3_OK) return rc;
    const char *args[] = {user};
    rc = pop3__simple(c, "RPOP", args, 1, 0, NULL);
    if (rc == POP3_OK) pop3__logged_in(c);
    return rc;
}

/* The reply says the credentials were fine but the login cannot happen now: trying
 * another method would not help and could lock the account. */
static bool busy(const pop3_client *c)
{
    return c->code == POP3_CODE_IN_USE || c->code == POP3_CODE_LOGIN_DELAY ||
           c->code == POP3_CODE_SYS_TEMP || c->code == POP3_CODE_SYS_PERM ||
           c->code == POP3_CODE_SYS;
}

static const char *const password_mechs[] = {"CRAM-MD5", "PLAIN", "LOGIN"};
static const char *const bearer_mechs[] = {"OAUTHBEARER", "XOAUTH2"};

int pop3_login(pop3_client *c, const pop3_credentials *cred)
{
    int rc = guard(c, "login");
    if (rc != POP3_OK) return rc;
    if (cred == NULL || cred->user == NULL || cred->secret == NULL)
        return pop3__fail(c, POP3_EUSAGE, "login: credentials need a user and a secret");

    if (c->opt.require_tls && !c->t->ops->is_tls(c->t)) {
        rc = pop3_stls(c, NULL);
        if (rc != POP3_OK) {
            if (c->t == NULL) return rc; /* fatal: closed already */
            char why[POP3__ERRMSG_SIZE];
            memcpy(why, c->errmsg, sizeof why);
            return pop3__fail(c, POP3_ETLS,
                              "login stopped before any credential: TLS is required and STLS "
                              "failed: %s",
                              why);
        }
    }
    if (!c->capa_known) {
        rc = pop3_capa(c, NULL);
        if (rc != POP3_OK && c->t == NULL) return rc;
    }

    /* SASL, strongest first. */
    const char *const *mechs = cred->bearer ? bearer_mechs : password_mechs;
    size_t nmechs = cred->bearer ? 2 : 3;
    int last = POP3_OK;
    for (size_t i = 0; i < nmechs; i++) {
        if (!c->capa_known || !pop3_capa_has_param(&c->capa, "SASL", mechs[i])) continue;
        bool sent, cancelled;
        rc = pop3__auth_builtin(c, mechs[i], cred, &sent, &cancelled);
        if (rc == POP3_OK) return rc;
        if (c->t == NULL || rc != POP3_ESERVER || (sent && !cancelled) || busy(c)) return rc;
        last = rc;
    }
    if (cred->bearer) {
        if (last != POP3_OK) return last;
        return pop3__fail(c, POP3_ESTATE,
                          "login: the server offers neither OAUTHBEARER nor XOAUTH2 in CAPA");
    }

    /* APOP: only when allowed, only with a valid timestamp. */
    pop3_view ts;
    const char *w = c->welcome ? c->welcome : "";
    if (c->opt.allow_apop && pop3_apop_timestamp(w, strlen(w), &ts)) {
        rc = pop3_apop(c, cred->user, cred->secret);
        if (rc == POP3_OK || c->t == NULL || rc != POP3_ESERVER || busy(c)) return rc;
        last = rc;
    }

    /* USER/PASS when the server says it takes them, or cannot say (no CAPA). */
    if (!c->capa_known || pop3_capa_find(&c->capa, "USER")) {
        rc = pop3_user(c, cred->user);
        if (rc != POP3_OK) return rc;
        return pop3_pass(c, cred->secret);
    }
    if (last != POP3_OK) return last;
    return pop3__fail(c, POP3_ESTATE,
                      "login: no usable method: CAPA offers no supported SASL mechanism and no "
                      "USER%s",
                      c->opt.allow_apop ? ", and the greeting has no APOP timestamp"
                                        : " (APOP is not allowed)");
}
