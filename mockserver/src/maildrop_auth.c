/*
 * maildrop_auth.c - the AUTHORIZATION state of a maildrop session: who the client is.
 *
 * RFC 1939 section 7: USER/PASS (the password is the rest of the line) and APOP (MD5 of
 * the greeting's timestamp and the secret); section 4: a login locks the maildrop
 * ([IN-USE], RFC 2449 section 8.1.2) and fixes the message numbers. RFC 3206: [AUTH] on
 * bad credentials. RFC 2595 section 4: STLS; section 6: PLAIN only under TLS. RFC 5034:
 * AUTH with or without an initial response, "*" cancels, "=" is an empty initial
 * response; mechanisms PLAIN (RFC 4616: "+ " empty challenge), LOGIN
 * (draft-murchison-sasl-login: "Username:" then "Password:", base64) and CRAM-MD5
 * (RFC 2195: the challenge is the session's "<pid.counter.time@host>" timestamp, base64;
 * the answer is base64 of "user SP hmac-md5-hex"). Several accounts may share a server
 * (--users): the name given picks the maildrop.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maildrop_internal.h"
#include "pop3/digest.h"
#include "pop3/encode.h"
#include "pop3/error.h"
#include "pop3/parse.h"

#define quirk pop3mock__md_quirk
#define ok    pop3mock__md_ok
#define err   pop3mock__md_err

/* The account named `p` (`len` octets), or NULL. */
static pop3mock_maildrop *find_account(const md_state *st, const char *p, size_t len)
{
    for (size_t i = 0; i < st->naccounts; i++) {
        const char *u = st->accounts[i]->user;
        if (strlen(u) == len && memcmp(u, p, len) == 0) return st->accounts[i];
    }
    return NULL;
}

static bool is_password(const pop3mock_maildrop *md, const char *p, size_t len)
{
    return md != NULL && strlen(md->password) == len && memcmp(md->password, p, len) == 0;
}

static void set_user(md_state *st, const char *p, size_t len)
{
    if (len >= sizeof st->user) len = sizeof st->user - 1;
    memcpy(st->user, p, len);
    st->user[len] = '\0';
}

/* Credentials are right: lock the maildrop, read it again (messages delivered since the
 * last login are seen) and fix the message numbers (RFC 1939 section 4). */
static void login(pop3mock_session *s, pop3mock_maildrop *md)
{
    md_state *st = s->state;
    if (md->locked && !pop3mock__md_unlocked(st, md)) {
        err(s, "IN-USE", "maildrop already locked by another session");
        return;
    }
    char why[256];
    (void)pop3mock_maildrop_rescan(md, why, sizeof why); /* on failure the old list stays */
    size_t live = 0;
    for (size_t i = 0; i < md->count; i++)
        if (!md->msgs[i].removed) live++;
    free(st->idx);
    free(st->marked);
    st->idx = malloc((live > 0 ? live : 1) * sizeof *st->idx);
    st->marked = calloc(live > 0 ? live : 1, sizeof *st->marked);
    if (st->idx == NULL || st->marked == NULL) {
        err(s, "SYS/TEMP", "out of memory");
        return;
    }
    st->n = 0;
    for (size_t i = 0; i < md->count; i++)
        if (!md->msgs[i].removed) st->idx[st->n++] = i;
    st->md = md;
    if (!pop3mock__md_unlocked(st, md)) md->locked = true;
    if (md->active++ == 0) pop3mock__maildrop_hold(md);
    st->holding = true;
    st->phase = MD_TRANSACTION;
    size_t count;
    unsigned long long octets;
    pop3mock__md_totals(st, &count, &octets);
    ok(s, "%s's maildrop has %zu messages (%llu octets)", st->user, count, octets);
}

static bool has_apop(const md_state *st)
{
    return !quirk(st, POP3MOCK_QUIRK(NO_APOP) | POP3MOCK_QUIRK(BOGUS_APOP_TIMESTAMP) |
                          POP3MOCK_QUIRK(APOP_REFUSED));
}

/* Dovecot's disable_plaintext_auth (plaintext-needs-tls): no password in clear while
 * TLS is available but not active. */
bool pop3mock__md_plaintext_refused(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return quirk(st, POP3MOCK_QUIRK(PLAINTEXT_NEEDS_TLS)) && st->opt.tls_available && !s->tls;
}

/* RFC 2595 section 6: PLAIN is neither advertised nor used unless TLS is active;
 * plain_in_clear is the "backwards compatibility dictates otherwise" of that section. */
bool pop3mock__md_plain_allowed(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return s->tls || st->opt.plain_in_clear;
}

static void refuse_plaintext(pop3mock_session *s)
{
    err(s, "AUTH", "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.");
}

void pop3mock__md_user(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    if (pop3mock__md_plaintext_refused(s)) {
        refuse_plaintext(s);
        return;
    }
    /* RFC 3206 section 5: no [AUTH] on USER, and +OK even for an unknown name
     * (RFC 1939 section 7 allows it), so USER does not reveal who exists. */
    set_user(st, c->rest, c->rest_len);
    st->have_user = true;
    ok(s, "send PASS");
}

void pop3mock__md_pass(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    if (pop3mock__md_plaintext_refused(s)) {
        refuse_plaintext(s);
        return;
    }
    if (!st->have_user) {
        err(s, NULL, "PASS must follow a successful USER");
        return;
    }
    st->have_user = false;
    /* RFC 1939 section 7: the password is the rest of the line, spaces included. */
    pop3mock_maildrop *md = find_account(st, st->user, strlen(st->user));
    if (!is_password(md, c->rest, c->rest_len)) {
        err(s, "AUTH", "invalid user name or password");
        return;
    }
    login(s, md);
}

void pop3mock__md_apop(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    if (!has_apop(st)) {
        err(s, NULL, "APOP is not available");
        return;
    }
    pop3mock_maildrop *md = find_account(st, c->arg[0], c->arg_len[0]);
    char want[POP3_MD5_HEX_SIZE];
    if (md != NULL && pop3_apop_digest(st->timestamp, strlen(st->timestamp), md->password,
                                       strlen(md->password), want) != POP3_OK) {
        err(s, "SYS/PERM", "MD5 is not available");
        return;
    }
    if (md == NULL || c->arg_len[1] != 32 || strncasecmp(want, c->arg[1], 32) != 0) {
        err(s, "AUTH", "authentication failed");
        return;
    }
    set_user(st, c->arg[0], c->arg_len[0]);
    login(s, md);
}

/* Decode a SASL response (RFC 5034 section 4): "*" cancels, "=" is an empty initial
 * response (section 4, for AUTH's argument only, but harmless on a line), otherwise
 * strict base64. Returns the octets (NUL-terminated, caller frees) in `*out`, or NULL
 * after answering -ERR. */
static char *sasl_decode(pop3mock_session *s, const char *b64, size_t len, size_t *out)
{
    if (len == 1 && b64[0] == '*') {
        err(s, NULL, "authentication cancelled");
        return NULL;
    }
    if (len == 1 && b64[0] == '=') len = 0; /* RFC5034-4.1 */
    size_t cap = len / 4 * 3 + 3;
    char *raw = malloc(cap + 1);
    if (raw == NULL) {
        err(s, "SYS/TEMP", "out of memory");
        return NULL;
    }
    if (pop3_base64_decode(b64, len, raw, cap, out) != POP3_OK) {
        free(raw);
        err(s, NULL, "invalid base64 in the SASL response");
        return NULL;
    }
    raw[*out] = '\0';
    return raw;
}

/* RFC 4616 message: [authzid] NUL authcid NUL passwd, base64 (RFC 5034 section 4). */
static void plain_response(pop3mock_session *s, const char *b64, size_t len)
{
    md_state *st = s->state;
    size_t rlen = 0;
    char *raw = sasl_decode(s, b64, len, &rlen);
    if (raw == NULL) return;
    const char *nul1 = memchr(raw, '\0', rlen);
    const char *nul2 =
        nul1 != NULL ? memchr(nul1 + 1, '\0', rlen - (size_t)(nul1 + 1 - raw)) : NULL;
    pop3mock_maildrop *md = NULL;
    if (nul2 != NULL) {
        size_t zlen = (size_t)(nul1 - raw);
        const char *cid = nul1 + 1;
        size_t clen = (size_t)(nul2 - cid);
        const char *pw = nul2 + 1;
        size_t plen = rlen - (size_t)(pw - raw);
        md = find_account(st, cid, clen);
        bool authz = zlen == 0 || (zlen == clen && memcmp(raw, cid, clen) == 0);
        if (!authz || !is_password(md, pw, plen))
            md = NULL;
        else
            set_user(st, cid, clen);
    }
    free(raw);
    if (md == NULL) {
        err(s, "AUTH", "authentication failed");
        return;
    }
    login(s, md);
}

/* LOGIN: the user name (initial response or first answer), then "Password:". The
 * challenges are base64 of "Username:" and "Password:", as every LOGIN server sends. */
static void login_user(pop3mock_session *s, const char *b64, size_t len)
{
    md_state *st = s->state;
    size_t rlen = 0;
    char *raw = sasl_decode(s, b64, len, &rlen);
    if (raw == NULL) return;
    /* Looked up whole here: `user` keeps only a prefix of a very long name. */
    st->login_account = find_account(st, raw, rlen);
    set_user(st, raw, rlen);
    free(raw);
    st->sasl = MD_SASL_LOGIN_PASS;
    pop3mock__md_challenge(s, "UGFzc3dvcmQ6");
}

static void login_pass(pop3mock_session *s, const char *b64, size_t len)
{
    md_state *st = s->state;
    size_t rlen = 0;
    char *raw = sasl_decode(s, b64, len, &rlen);
    if (raw == NULL) return;
    pop3mock_maildrop *md = st->login_account;
    st->login_account = NULL;
    bool good = is_password(md, raw, rlen);
    free(raw);
    if (!good) {
        err(s, "AUTH", "authentication failed");
        return;
    }
    login(s, md);
}

/* The CRAM-MD5 challenge: the session's timestamp, unique per greeting (RFC 2195
 * section 2 wants a fresh msg-id-like string), so no clock is needed here. */
static const char *cram_challenge(const md_state *st)
{
    return st->timestamp[0] != '\0' ? st->timestamp : "<0.0@pop3kit.mock>";
}

/* RFC 2195 section 2: base64 of "user SP digest", the digest 32 lower-case hex digits
 * of HMAC-MD5 keyed with the secret over the challenge. */
static void cram_response(pop3mock_session *s, const char *b64, size_t len)
{
    md_state *st = s->state;
    size_t rlen = 0;
    char *raw = sasl_decode(s, b64, len, &rlen);
    if (raw == NULL) return;
    /* The user name may hold spaces; the digest is after the last one. */
    const char *sp = NULL;
    for (size_t i = rlen; i > 0 && sp == NULL; i--)
        if (raw[i - 1] == ' ') sp = raw + i - 1;
    pop3mock_maildrop *md = NULL;
    if (sp != NULL && (size_t)(raw + rlen - sp - 1) == 32) {
        size_t ulen = (size_t)(sp - raw);
        md = find_account(st, raw, ulen);
        char want[POP3_MD5_HEX_SIZE];
        const char *ch = cram_challenge(st);
        if (md != NULL && pop3_cram_md5_digest(ch, strlen(ch), md->password, strlen(md->password),
                                               want) != POP3_OK) {
            free(raw);
            err(s, "SYS/PERM", "MD5 is not available");
            return;
        }
        if (md != NULL && strncasecmp(want, sp + 1, 32) != 0) md = NULL;
        if (md != NULL) set_user(st, raw, ulen);
    }
    free(raw);
    if (md == NULL) {
        err(s, "AUTH", "authentication failed");
        return;
    }
    login(s, md);
}

void pop3mock__md_sasl_line(pop3mock_session *s, md_sasl step, const char *line, size_t len)
{
    switch (step) {
    case MD_SASL_PLAIN: plain_response(s, line, len); break;
    case MD_SASL_LOGIN_USER: login_user(s, line, len); break;
    case MD_SASL_LOGIN_PASS: login_pass(s, line, len); break;
    case MD_SASL_CRAM_MD5: cram_response(s, line, len); break;
    case MD_SASL_NONE: break;
    }
}

static bool mech_is(const char *w, size_t wl, const char *name)
{
    return strlen(name) == wl && strncasecmp(w, name, wl) == 0;
}

void pop3mock__md_auth(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    const char *mech = c->arg[0];
    size_t ml = c->arg_len[0];
    bool initial = c->nargs == 2;
    bool plain = mech_is(mech, ml, "PLAIN"), login_mech = mech_is(mech, ml, "LOGIN");
    bool cram = mech_is(mech, ml, "CRAM-MD5");
    if (!plain && !login_mech && !cram) {
        err(s, NULL, "unsupported authentication mechanism");
        return;
    }
    if ((plain || login_mech) && pop3mock__md_plaintext_refused(s)) {
        refuse_plaintext(s);
        return;
    }
    if (plain && !pop3mock__md_plain_allowed(s)) {
        err(s, "AUTH", "PLAIN needs TLS (RFC 2595 section 6)");
        return;
    }
    if (cram) {
        /* RFC 2195: the server speaks first, so there is no initial response. */
        if (initial) {
            err(s, NULL, "CRAM-MD5 takes no initial response");
            return;
        }
        const char *ch = cram_challenge(st);
        char b64[700];
        size_t blen = 0;
        if (pop3_base64_encode(ch, strlen(ch), b64, sizeof b64, &blen) != POP3_OK) {
            err(s, "SYS/PERM", "challenge too long");
            return;
        }
        st->sasl = MD_SASL_CRAM_MD5;
        pop3mock__md_challenge(s, b64);
        return;
    }
    if (login_mech) {
        if (initial) {
            login_user(s, c->arg[1], c->arg_len[1]);
            return;
        }
        st->sasl = MD_SASL_LOGIN_USER;
        pop3mock__md_challenge(s, "VXNlcm5hbWU6");
        return;
    }
    if (initial) {
        plain_response(s, c->arg[1], c->arg_len[1]);
        return;
    }
    /* RFC5034-4.6: no initial response, so an empty challenge "+ ". */
    st->sasl = MD_SASL_PLAIN;
    pop3mock__md_challenge(s, "");
}

void pop3mock__md_stls(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    (void)c;
    if (s->tls) {
        err(s, NULL, "command not permitted when TLS active"); /* RFC2595-4.4 */
    } else if (!st->opt.tls_available) {
        err(s, NULL, "TLS is not available");
    } else {
        ok(s, "Begin TLS negotiation");
        pop3mock__output_mark(&s->out, POP3MOCK__MARK_START_TLS, 0, 0);
        st->stls_wait = true;
    }
}
