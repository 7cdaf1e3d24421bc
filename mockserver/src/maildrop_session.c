/*
 * maildrop_session.c - a correct POP3 server over a maildrop, with optional quirks.
 *
 * RFC 1939 sections 3 to 7 and 11: the AUTHORIZATION / TRANSACTION / UPDATE state
 * machine, -ERR for unknown commands and for commands in the wrong state, message
 * numbers fixed at login, DELE marks applied only at QUIT (a dropped connection applies
 * nothing, section 6), sizes with CRLF counted as two octets, APOP (section 7).
 * RFC 2449: CAPA (section 5), response codes [IN-USE] (8.1.2) and [AUTH] (RFC 3206),
 * PIPELINING (commands answered in order: session.c hands lines over one at a time).
 * RFC 2595 section 4: STLS in AUTHORIZATION only, -ERR once TLS is active, STLS no
 * longer listed by CAPA under TLS. RFC 5034: AUTH with or without an initial
 * response, "*" cancels, "=" is an empty initial response; mechanisms PLAIN (RFC 4616:
 * "+ " empty challenge), LOGIN (draft-murchison-sasl-login: "Username:" then
 * "Password:", base64) and CRAM-MD5 (RFC 2195: the challenge is the session's
 * "<pid.counter.time@host>" timestamp, base64; the answer is base64 of "user SP
 * hmac-md5-hex"). RFC 6856 section 2: UTF8; with utf8_strict, sections 2.2 and 5:
 * RETR and TOP of a message with 8-bit headers answer -ERR [UTF8] until UTF8 is on.
 *
 * Each quirk of pop3mock/quirks.h is a small, named departure from this path.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body.h"
#include "pop3/digest.h"
#include "pop3/encode.h"
#include "pop3/error.h"
#include "pop3/parse.h"
#include "pop3mock/maildrop.h"
#include "session_internal.h"

enum { ST_AUTH = 1, ST_TRANS = 2, ST_DONE = 4 };
enum { PROD_NONE, PROD_BODY, PROD_LIST, PROD_UIDL };
/* The SASL response line the session waits for (RFC 5034 section 4). */
enum { SASL_NONE, SASL_PLAIN, SASL_LOGIN_USER, SASL_LOGIN_PASS, SASL_CRAM_MD5 };

/* Longest user name kept for USER / APOP (a command line is 255 octets anyway). */
#define USER_MAX 256
/* The reply text is built in a buffer of this size; listing and status texts are short. */
#define TEXT_MAX 512

typedef struct md_state {
    pop3mock_maildrop *md;
    pop3mock_maildrop_options opt;
    uint64_t q; /* quirk flags */
    int state;
    bool have_user; /* the last command was a successful USER (PASS may follow) */
    char user[USER_MAX];
    char timestamp[TEXT_MAX];
    size_t *idx;  /* message k (1-based) is md->msgs[idx[k - 1]] */
    bool *marked; /* DELE marks of this session */
    size_t n;
    bool locked;
    int sasl;       /* AUTH sent a challenge and waits for this response line */
    unsigned bad;   /* max-bad-commands: bad commands in a row before login */
    bool login_ok;  /* AUTH LOGIN: the user name given is the account's */
    bool stls_wait; /* STLS answered: nothing more until TLS is up */
    bool utf8;
    int prod;
    size_t next;    /* listing: next message index; */
    bool zero_done; /* listing: the msgno-zero line was sent */
    pop3mock__body body;
} md_state;

static bool quirk(const md_state *st, uint64_t bit)
{
    return (st->q & bit) != 0;
}

static const char *eol(const md_state *st)
{
    return quirk(st, POP3MOCK_QUIRK(BARE_LF)) ? "\n" : "\r\n";
}

/* A status line through the codec's encoder, then the quirks that bend it. */
static void status(pop3mock_session *s, pop3_status_kind kind, const char *code, const char *fmt,
                   va_list ap)
{
    md_state *st = s->state;
    char text[TEXT_MAX];
    int n = vsnprintf(text, sizeof text, fmt, ap);
    size_t tlen = n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    char line[TEXT_MAX + 64];
    size_t len = 0;
    if (pop3_encode_status(line, sizeof line - 2, &len, kind, code, text, tlen, NULL) != POP3_OK) {
        /* Only reachable with a bad code or a text with CR/LF/NUL: a bug here, not the
         * client's doing; answer something well-formed rather than nothing. */
        len =
            (size_t)snprintf(line, sizeof line, "%s\r\n", kind == POP3_STATUS_OK ? "+OK" : "-ERR");
    }
    if (kind == POP3_STATUS_ERR && quirk(st, POP3MOCK_QUIRK(PLUS_ERR))) line[0] = '+';
    if (kind == POP3_STATUS_OK && quirk(st, POP3MOCK_QUIRK(NUL_BYTES))) {
        line[len - 2] = '\0';
        line[len - 1] = '\r';
        line[len++] = '\n';
    }
    if (quirk(st, POP3MOCK_QUIRK(BARE_LF))) {
        line[len - 2] = '\n';
        len--;
    }
    pop3mock__output_append(&s->out, line, len);
}

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

PRINTF_LIKE(2, 3) static void ok(pop3mock_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status(s, POP3_STATUS_OK, NULL, fmt, ap);
    va_end(ap);
}

PRINTF_LIKE(3, 4) static void err(pop3mock_session *s, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status(s, POP3_STATUS_ERR, code, fmt, ap);
    va_end(ap);
}

/* "+ TEXT": a SASL challenge (RFC 5034 section 4), bent by bare-lf like any line. */
static void challenge(pop3mock_session *s, const char *text)
{
    md_state *st = s->state;
    char line[1024];
    size_t len = 0;
    if (pop3_encode_status(line, sizeof line, &len, POP3_STATUS_CONTINUE, NULL, text, strlen(text),
                           NULL) != POP3_OK) {
        err(s, "SYS/PERM", "challenge too long");
        st->sasl = SASL_NONE;
        return;
    }
    if (quirk(st, POP3MOCK_QUIRK(BARE_LF))) line[--len - 1] = '\n';
    pop3mock__output_append(&s->out, line, len);
}

static void line_out(pop3mock_session *s, const char *text)
{
    pop3mock__output_str(&s->out, text);
    pop3mock__output_str(&s->out, eol(s->state));
}

static const pop3mock_message *msg_at(const md_state *st, size_t k)
{
    return &st->md->msgs[st->idx[k]];
}

/* The size reported by STAT, LIST and RETR: RFC 1939 section 11, or a quirk's. The
 * size is what the client receives before the terminator: a message whose last line
 * has no line end gets the CRLF that RFC 1939 section 3 needs before ".", so those two
 * octets are part of the message as transmitted and are counted (unless dot-no-crlf,
 * Q1, sends no such CRLF). */
static unsigned long long reported_size(const md_state *st, const pop3mock_message *m)
{
    uint64_t size = m->size, ends = m->lines;
    if (!m->final_lf && !quirk(st, POP3MOCK_QUIRK(DOT_NO_CRLF))) {
        size += 2;
        ends++;
    }
    if (quirk(st, POP3MOCK_QUIRK(SIZES_LF))) size -= ends;             /* Q11 */
    if (quirk(st, POP3MOCK_QUIRK(LYING_SIZES))) size = (size + 1) / 2; /* Q9 */
    return (unsigned long long)size;
}

/* The unique-id as sent, bent by long-uids (Q46). */
static void uid_text(const md_state *st, const pop3mock_message *m, char *out, size_t cap)
{
    snprintf(out, cap, "%s", m->uid);
    if (quirk(st, POP3MOCK_QUIRK(LONG_UIDS))) {
        size_t len = strlen(out);
        while (len < 80 && len + 1 < cap)
            out[len++] = 'x';
        out[len] = '\0';
    }
}

/* "n uid" as a UIDL listing line or reply text, bent by spaced-uids (Q46). */
static void uidl_text(const md_state *st, size_t k, char *out, size_t cap)
{
    char uid[128];
    uid_text(st, msg_at(st, k), uid, sizeof uid);
    if (quirk(st, POP3MOCK_QUIRK(SPACED_UIDS))) {
        size_t half = strlen(uid) / 2;
        snprintf(out, cap, "%zu  %.*s %s", k + 1, (int)half, uid, uid + half);
    } else {
        snprintf(out, cap, "%zu %s", k + 1, uid);
    }
}

static void totals(const md_state *st, size_t *count, unsigned long long *octets)
{
    *count = 0;
    *octets = 0;
    for (size_t k = 0; k < st->n; k++) {
        if (st->marked[k]) continue;
        (*count)++;
        *octets += reported_size(st, msg_at(st, k));
    }
}

/* Up to `max` space-separated words of `a`; returns the count, max + 1 when more. */
static size_t words(const char *a, size_t len, const char **w, size_t *wl, size_t max)
{
    size_t count = 0, i = 0;
    for (;;) {
        while (i < len && a[i] == ' ')
            i++;
        if (i == len) return count;
        if (count == max) return max + 1;
        w[count] = a + i;
        while (i < len && a[i] != ' ')
            i++;
        wl[count] = (size_t)(a + i - w[count]);
        count++;
    }
}

static bool parse_u64(const char *p, size_t len, uint64_t *v)
{
    if (len == 0 || len > 19) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        x = x * 10 + (uint64_t)(p[i] - '0');
    }
    *v = x;
    return true;
}

/* RFC 1939 section 5: a message number that exists and is not marked deleted. */
static bool msg_arg(pop3mock_session *s, const char *p, size_t len, size_t *k)
{
    md_state *st = s->state;
    uint64_t v;
    if (!parse_u64(p, len, &v)) {
        err(s, NULL, "invalid message number");
        return false;
    }
    if (v == 0 || v > st->n) {
        err(s, NULL, "no such message, only %zu messages in maildrop", st->n);
        return false;
    }
    if (st->marked[v - 1]) {
        err(s, NULL, "message %llu already deleted", (unsigned long long)v);
        return false;
    }
    *k = (size_t)(v - 1);
    return true;
}

static void unlock(md_state *st)
{
    if (st->locked) st->md->locked = false;
    st->locked = false;
}

/* UPDATE (RFC 1939 section 6), also what deletes-on-disconnect (Q21) does on a drop. */
static void apply_deletions(md_state *st)
{
    for (size_t k = 0; k < st->n; k++)
        if (st->marked[k]) st->md->msgs[st->idx[k]].removed = true;
}

/* Credentials are right: lock the maildrop and fix the message numbers (section 4). */
static void login(pop3mock_session *s)
{
    md_state *st = s->state;
    if (st->md->locked && !st->md->no_lock) {
        err(s, "IN-USE", "maildrop already locked by another session");
        return;
    }
    size_t live = 0;
    for (size_t i = 0; i < st->md->count; i++)
        if (!st->md->msgs[i].removed) live++;
    st->idx = malloc((live > 0 ? live : 1) * sizeof *st->idx);
    st->marked = calloc(live > 0 ? live : 1, sizeof *st->marked);
    if (st->idx == NULL || st->marked == NULL) {
        err(s, "SYS/TEMP", "out of memory");
        return;
    }
    st->n = 0;
    for (size_t i = 0; i < st->md->count; i++)
        if (!st->md->msgs[i].removed) st->idx[st->n++] = i;
    if (!st->md->no_lock) st->md->locked = true;
    st->locked = true;
    st->state = ST_TRANS;
    size_t count;
    unsigned long long octets;
    totals(st, &count, &octets);
    ok(s, "%s's maildrop has %zu messages (%llu octets)", st->user, count, octets);
}

static bool has_apop(const md_state *st)
{
    return !quirk(st, POP3MOCK_QUIRK(NO_APOP) | POP3MOCK_QUIRK(BOGUS_APOP_TIMESTAMP) |
                          POP3MOCK_QUIRK(APOP_REFUSED));
}

static void set_user(md_state *st, const char *p, size_t len)
{
    if (len >= sizeof st->user) len = sizeof st->user - 1;
    memcpy(st->user, p, len);
    st->user[len] = '\0';
}

static bool is_user(const md_state *st, const char *p, size_t len)
{
    return strlen(st->md->user) == len && memcmp(st->md->user, p, len) == 0;
}

static bool plaintext_refused(const pop3mock_session *s);
static void refuse_plaintext(pop3mock_session *s);

static void cmd_user(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    if (plaintext_refused(s)) {
        refuse_plaintext(s);
        return;
    }
    if (alen == 0) {
        err(s, NULL, "USER needs a mailbox name");
        return;
    }
    /* RFC 3206 section 5: no [AUTH] on USER, and +OK even for an unknown name
     * (RFC 1939 section 7 allows it), so USER does not reveal who exists. */
    set_user(st, a, alen);
    st->have_user = true;
    ok(s, "send PASS");
}

static void cmd_pass(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    if (plaintext_refused(s)) {
        refuse_plaintext(s);
        return;
    }
    if (!st->have_user) {
        err(s, NULL, "PASS must follow a successful USER");
        return;
    }
    st->have_user = false;
    /* RFC 1939 section 7: the password is the rest of the line, spaces included. */
    const char *pw = st->md->password;
    if (strcmp(st->user, st->md->user) != 0 || strlen(pw) != alen || memcmp(pw, a, alen) != 0) {
        err(s, "AUTH", "invalid user name or password");
        return;
    }
    login(s);
}

static void cmd_apop(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    st->have_user = false;
    const char *w[2];
    size_t wl[2];
    if (words(a, alen, w, wl, 2) != 2) {
        err(s, NULL, "APOP needs a name and a digest");
        return;
    }
    if (!has_apop(st)) {
        err(s, NULL, "APOP is not available");
        return;
    }
    char want[POP3_MD5_HEX_SIZE];
    const char *pw = st->md->password;
    if (pop3_apop_digest(st->timestamp, strlen(st->timestamp), pw, strlen(pw), want) != POP3_OK) {
        err(s, "SYS/PERM", "MD5 is not available");
        return;
    }
    if (!is_user(st, w[0], wl[0]) || wl[1] != 32 || strncasecmp(want, w[1], 32) != 0) {
        err(s, "AUTH", "authentication failed");
        return;
    }
    set_user(st, w[0], wl[0]);
    login(s);
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

static bool is_password(const md_state *st, const char *p, size_t len)
{
    const char *want = st->md->password;
    return strlen(want) == len && memcmp(want, p, len) == 0;
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
    bool good = false;
    if (nul2 != NULL) {
        size_t zlen = (size_t)(nul1 - raw);
        const char *cid = nul1 + 1;
        size_t clen = (size_t)(nul2 - cid);
        const char *pw = nul2 + 1;
        size_t plen = rlen - (size_t)(pw - raw);
        good = is_user(st, cid, clen) &&
               (zlen == 0 || (zlen == clen && memcmp(raw, cid, clen) == 0)) &&
               is_password(st, pw, plen);
        if (good) set_user(st, cid, clen);
    }
    free(raw);
    if (!good) {
        err(s, "AUTH", "authentication failed");
        return;
    }
    login(s);
}

/* LOGIN: the user name (initial response or first answer), then "Password:". The
 * challenges are base64 of "Username:" and "Password:", as every LOGIN server sends. */
static void login_user(pop3mock_session *s, const char *b64, size_t len)
{
    md_state *st = s->state;
    size_t rlen = 0;
    char *raw = sasl_decode(s, b64, len, &rlen);
    if (raw == NULL) return;
    /* Compared whole here: `user` keeps only a prefix of a very long name. */
    st->login_ok = is_user(st, raw, rlen);
    set_user(st, raw, rlen);
    free(raw);
    st->sasl = SASL_LOGIN_PASS;
    challenge(s, "UGFzc3dvcmQ6");
}

static void login_pass(pop3mock_session *s, const char *b64, size_t len)
{
    md_state *st = s->state;
    size_t rlen = 0;
    char *raw = sasl_decode(s, b64, len, &rlen);
    if (raw == NULL) return;
    bool good = st->login_ok && is_password(st, raw, rlen);
    st->login_ok = false;
    free(raw);
    if (!good) {
        err(s, "AUTH", "authentication failed");
        return;
    }
    login(s);
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
    bool good = false;
    if (sp != NULL && (size_t)(raw + rlen - sp - 1) == 32) {
        char want[POP3_MD5_HEX_SIZE];
        const char *ch = cram_challenge(st);
        const char *pw = st->md->password;
        if (pop3_cram_md5_digest(ch, strlen(ch), pw, strlen(pw), want) != POP3_OK) {
            free(raw);
            err(s, "SYS/PERM", "MD5 is not available");
            return;
        }
        size_t ulen = (size_t)(sp - raw);
        good = is_user(st, raw, ulen) && strncasecmp(want, sp + 1, 32) == 0;
        if (good) set_user(st, raw, ulen);
    }
    free(raw);
    if (!good) {
        err(s, "AUTH", "authentication failed");
        return;
    }
    login(s);
}

/* Dovecot's disable_plaintext_auth (plaintext-needs-tls): no password in clear while
 * TLS is available but not active. */
static bool plaintext_refused(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return quirk(st, POP3MOCK_QUIRK(PLAINTEXT_NEEDS_TLS)) && st->opt.tls_available && !s->tls;
}

/* RFC 2595 section 6: PLAIN is neither advertised nor used unless TLS is active;
 * plain_in_clear is the "backwards compatibility dictates otherwise" of that section. */
static bool plain_allowed(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return s->tls || st->opt.plain_in_clear;
}

static void refuse_plaintext(pop3mock_session *s)
{
    err(s, "AUTH", "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.");
}

static bool mech_is(const char *w, size_t wl, const char *name)
{
    return strlen(name) == wl && strncasecmp(w, name, wl) == 0;
}

static void cmd_auth(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    st->have_user = false;
    const char *w[2];
    size_t wl[2];
    size_t n = words(a, alen, w, wl, 2);
    if (n == 0 || n > 2) {
        err(s, NULL, "AUTH needs a mechanism and at most an initial response");
        return;
    }
    bool plain = mech_is(w[0], wl[0], "PLAIN"), login_mech = mech_is(w[0], wl[0], "LOGIN");
    bool cram = mech_is(w[0], wl[0], "CRAM-MD5");
    if (!plain && !login_mech && !cram) {
        err(s, NULL, "unsupported authentication mechanism");
        return;
    }
    if ((plain || login_mech) && plaintext_refused(s)) {
        refuse_plaintext(s);
        return;
    }
    if (plain && !plain_allowed(s)) {
        err(s, "AUTH", "PLAIN needs TLS (RFC 2595 section 6)");
        return;
    }
    if (cram) {
        /* RFC 2195: the server speaks first, so there is no initial response. */
        if (n == 2) {
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
        st->sasl = SASL_CRAM_MD5;
        challenge(s, b64);
        return;
    }
    if (login_mech) {
        if (n == 2) {
            login_user(s, w[1], wl[1]);
            return;
        }
        st->sasl = SASL_LOGIN_USER;
        challenge(s, "VXNlcm5hbWU6");
        return;
    }
    if (n == 2) {
        plain_response(s, w[1], wl[1]);
        return;
    }
    /* RFC5034-4.6: no initial response, so an empty challenge "+ ". */
    st->sasl = SASL_PLAIN;
    challenge(s, "");
}

static void cmd_stls(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    (void)a;
    if (alen > 0) {
        err(s, NULL, "STLS takes no argument");
    } else if (s->tls) {
        err(s, NULL, "command not permitted when TLS active"); /* RFC2595-4.4 */
    } else if (!st->opt.tls_available) {
        err(s, NULL, "TLS is not available");
    } else {
        ok(s, "Begin TLS negotiation");
        pop3mock__output_mark(&s->out, POP3MOCK__MARK_START_TLS, 0, 0);
        st->stls_wait = true;
        st->have_user = false;
    }
}

static void cmd_capa(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    (void)a;
    (void)alen;
    if (quirk(st, POP3MOCK_QUIRK(CAPA_ERR))) { /* Q30 */
        err(s, NULL, "unknown command");
        return;
    }
    /* Q31: some servers announce these only once logged in. */
    bool late = st->state == ST_AUTH && quirk(st, POP3MOCK_QUIRK(CAPA_AFTER_LOGIN));
    ok(s, "Capability list follows");
    if (quirk(st, POP3MOCK_QUIRK(CAPA_LISTS_CAPA))) line_out(s, "CAPA");
    bool no_plain = plaintext_refused(s);
    if (!no_plain) line_out(s, "USER");
    if (!late) line_out(s, "TOP");
    if (!late) line_out(s, "UIDL");
    line_out(s, "RESP-CODES");
    line_out(s, "AUTH-RESP-CODE");
    if (!late) line_out(s, "PIPELINING");
    line_out(s, "UTF8");
    /* RFC 5034 section 3. The command-line contract names "SASL PLAIN" where RFC 2595
     * section 6 allows it (under TLS, or with plain_in_clear); without it CRAM-MD5,
     * which sends no password, is what a client in clear is offered. The others are
     * listed on request (sasl_all). A server that refuses plaintext before TLS lists
     * only what is not plaintext (Dovecot). */
    bool plain = plain_allowed(s);
    line_out(s, no_plain                    ? "SASL CRAM-MD5"
                : st->opt.sasl_all && plain ? "SASL PLAIN LOGIN CRAM-MD5"
                : st->opt.sasl_all          ? "SASL LOGIN CRAM-MD5"
                : plain                     ? "SASL PLAIN"
                                            : "SASL CRAM-MD5");
    /* RFC 2595 section 4: STLS is listed only where it may be used. */
    if (st->opt.tls_available && !s->tls && st->state == ST_AUTH) line_out(s, "STLS");
    char impl[TEXT_MAX];
    snprintf(impl, sizeof impl, "IMPLEMENTATION %s", st->opt.quirks.implementation);
    line_out(s, impl);
    line_out(s, ".");
}

static void cmd_utf8(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    (void)a;
    if (alen > 0) {
        err(s, NULL, "UTF8 takes no argument");
        return;
    }
    st->utf8 = true;
    ok(s, "UTF8 enabled");
}

static void cmd_quit(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    (void)a;
    (void)alen;
    if (st->state == ST_TRANS) {
        apply_deletions(st);
        size_t left = 0;
        for (size_t k = 0; k < st->n; k++)
            if (!st->marked[k]) left++;
        if (left == 0)
            ok(s, "pop3kit-mock POP3 server signing off (maildrop empty)");
        else
            ok(s, "pop3kit-mock POP3 server signing off (%zu messages left)", left);
    } else {
        ok(s, "pop3kit-mock POP3 server signing off");
    }
    unlock(st);
    st->state = ST_DONE;
    pop3mock__output_mark(&s->out, POP3MOCK__MARK_CLOSE, 0, 0);
}

static void cmd_stat(pop3mock_session *s, const char *a, size_t alen)
{
    (void)a;
    if (alen > 0) {
        err(s, NULL, "STAT takes no argument");
        return;
    }
    size_t count;
    unsigned long long octets;
    totals(s->state, &count, &octets);
    ok(s, "%zu %llu", count, octets);
}

static void start_listing(pop3mock_session *s, int kind)
{
    md_state *st = s->state;
    st->prod = kind;
    st->next = 0;
    st->zero_done = !quirk(st, POP3MOCK_QUIRK(MSGNO_ZERO));
}

static void cmd_list(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    const char *w[1];
    size_t wl[1];
    size_t n = words(a, alen, w, wl, 1);
    size_t k;
    if (n > 1) {
        err(s, NULL, "LIST takes at most one argument");
    } else if (n == 1) {
        if (msg_arg(s, w[0], wl[0], &k)) ok(s, "%zu %llu", k + 1, reported_size(st, msg_at(st, k)));
    } else {
        size_t count;
        unsigned long long octets;
        totals(st, &count, &octets);
        ok(s, "%zu messages (%llu octets)", count, octets);
        start_listing(s, PROD_LIST);
    }
}

static void cmd_uidl(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    const char *w[1];
    size_t wl[1];
    size_t n = words(a, alen, w, wl, 1);
    size_t k;
    if (n > 1) {
        err(s, NULL, "UIDL takes at most one argument");
    } else if (n == 1) {
        if (msg_arg(s, w[0], wl[0], &k)) {
            char text[256];
            uidl_text(st, k, text, sizeof text);
            ok(s, "%s", text);
        }
    } else {
        ok(s, "unique-id listing follows");
        start_listing(s, PROD_UIDL);
    }
}

static pop3mock__body_style body_style(const md_state *st)
{
    pop3mock__body_style b = {
        .bare_lf = quirk(st, POP3MOCK_QUIRK(BARE_LF)),
        .no_stuffing = quirk(st, POP3MOCK_QUIRK(NO_DOT_STUFFING)),
        .dot_no_crlf = quirk(st, POP3MOCK_QUIRK(DOT_NO_CRLF)),
        .dot_cr = quirk(st, POP3MOCK_QUIRK(DOT_CR)),
        .extra_blank = quirk(st, POP3MOCK_QUIRK(EXTRA_BLANK_LINE)),
    };
    return b;
}

/* RFC 6856 sections 2.2 and 5: outside UTF-8 mode a message whose header is not ASCII
 * is not sent raw; -ERR [UTF8] tells the client that UTF8 would get it. */
static bool utf8_allows(pop3mock_session *s, size_t k)
{
    md_state *st = s->state;
    if (!st->opt.utf8_strict || st->utf8 || !msg_at(st, k)->header_8bit) return true;
    err(s, "UTF8", "message %zu has a non-ASCII header: enable UTF8 first", k + 1);
    return false;
}

static bool start_body(pop3mock_session *s, size_t k, bool top, uint64_t lines)
{
    md_state *st = s->state;
    pop3mock__body_style style = body_style(st);
    if (pop3mock__body_start(&st->body, st->md, st->idx[k], &style, top, lines) != 0) {
        err(s, "SYS/TEMP", "message %zu cannot be read", k + 1);
        return false;
    }
    return true;
}

static void cmd_retr(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    const char *w[1];
    size_t wl[1];
    size_t k;
    if (words(a, alen, w, wl, 1) != 1) {
        err(s, NULL, "RETR needs one message number");
        return;
    }
    if (!msg_arg(s, w[0], wl[0], &k) || !utf8_allows(s, k)) return;
    if (!start_body(s, k, false, 0)) return;
    ok(s, "%llu octets", reported_size(st, msg_at(st, k)));
    st->prod = PROD_BODY;
}

static void cmd_top(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    const char *w[2];
    size_t wl[2];
    size_t k;
    uint64_t lines;
    if (words(a, alen, w, wl, 2) != 2) {
        err(s, NULL, "TOP needs a message number and a line count");
        return;
    }
    if (!msg_arg(s, w[0], wl[0], &k)) return;
    if (!parse_u64(w[1], wl[1], &lines)) {
        err(s, NULL, "invalid line count");
        return;
    }
    if (!utf8_allows(s, k)) return;
    if (quirk(st, POP3MOCK_QUIRK(TOP_IGNORES_LINES))) lines = st->opt.quirks.top_lines;
    if (!start_body(s, k, true, lines)) return;
    ok(s, "top of message follows");
    if (quirk(st, POP3MOCK_QUIRK(TOP_TWICE))) ok(s, "top of message follows"); /* Q18 */
    st->prod = PROD_BODY;
}

static void cmd_dele(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    const char *w[1];
    size_t wl[1];
    size_t k;
    if (words(a, alen, w, wl, 1) != 1) {
        err(s, NULL, "DELE needs one message number");
        return;
    }
    if (!msg_arg(s, w[0], wl[0], &k)) return;
    st->marked[k] = true;
    ok(s, "message %zu deleted", k + 1);
}

static void cmd_noop(pop3mock_session *s, const char *a, size_t alen)
{
    (void)a;
    if (alen > 0)
        err(s, NULL, "NOOP takes no argument");
    else
        ok(s, "%s", "");
}

static void cmd_rset(pop3mock_session *s, const char *a, size_t alen)
{
    md_state *st = s->state;
    (void)a;
    if (alen > 0) {
        err(s, NULL, "RSET takes no argument");
        return;
    }
    memset(st->marked, 0, st->n * sizeof *st->marked);
    size_t count;
    unsigned long long octets;
    totals(st, &count, &octets);
    ok(s, "maildrop has %zu messages (%llu octets)", count, octets);
}

typedef struct command {
    const char *name;
    int states;
    void (*run)(pop3mock_session *s, const char *args, size_t alen);
} command;

/* RFC 1939 sections 4 to 7, RFC 2449 section 5, RFC 2595 section 4, RFC 5034 section 4,
 * RFC 6856 section 2: where each command is valid (reference A.2). */
static const command commands[] = {
    {"USER", ST_AUTH, cmd_user},
    {"PASS", ST_AUTH, cmd_pass},
    {"APOP", ST_AUTH, cmd_apop},
    {"AUTH", ST_AUTH, cmd_auth},
    {"STLS", ST_AUTH, cmd_stls},
    {"UTF8", ST_AUTH, cmd_utf8},
    {"CAPA", ST_AUTH | ST_TRANS, cmd_capa},
    {"QUIT", ST_AUTH | ST_TRANS, cmd_quit},
    {"STAT", ST_TRANS, cmd_stat},
    {"LIST", ST_TRANS, cmd_list},
    {"RETR", ST_TRANS, cmd_retr},
    {"DELE", ST_TRANS, cmd_dele},
    {"NOOP", ST_TRANS, cmd_noop},
    {"RSET", ST_TRANS, cmd_rset},
    {"TOP", ST_TRANS, cmd_top},
    {"UIDL", ST_TRANS, cmd_uidl},
};

/* max-bad-commands: Dovecot's pop3-login counts commands it does not know (which,
 * before login, includes the TRANSACTION ones) and drops the client at the third in a
 * row, after answering it. */
static void bad_command(pop3mock_session *s)
{
    md_state *st = s->state;
    if (!quirk(st, POP3MOCK_QUIRK(MAX_BAD_COMMANDS)) || st->state != ST_AUTH) return;
    if (++st->bad < st->opt.quirks.max_bad) return;
    err(s, NULL, "Too many invalid bad commands.");
    unlock(st);
    st->state = ST_DONE;
    pop3mock__output_mark(&s->out, POP3MOCK__MARK_CLOSE, 0, 0);
}

static void on_line(pop3mock_session *s, const char *line, size_t len, bool crlf)
{
    md_state *st = s->state;
    (void)crlf; /* a bare LF is tolerated from clients (Q6 seen from the other side) */
    if (st->sasl != SASL_NONE) {
        int step = st->sasl;
        st->sasl = SASL_NONE;
        switch (step) {
        case SASL_PLAIN: plain_response(s, line, len); break;
        case SASL_LOGIN_USER: login_user(s, line, len); break;
        case SASL_LOGIN_PASS: login_pass(s, line, len); break;
        default: cram_response(s, line, len); break;
        }
        return;
    }
    size_t kw = 0;
    while (kw < len && line[kw] != ' ')
        kw++;
    const char *args = kw < len ? line + kw + 1 : line + len;
    size_t alen = kw < len ? len - kw - 1 : 0;
    bool was_user = st->have_user;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const command *c = &commands[i];
        /* RFC 1939 section 3: keywords are case-insensitive. */
        if (strlen(c->name) != kw || strncasecmp(c->name, line, kw) != 0) continue;
        if ((c->states & st->state) == 0) {
            err(s, NULL, "%s is not valid in the %s state", c->name,
                st->state == ST_AUTH ? "AUTHORIZATION" : "TRANSACTION"); /* RFC1939-3.6 */
            st->have_user = false;
            bad_command(s);
            return;
        }
        st->bad = 0;
        c->run(s, args, alen);
        /* PASS is valid only right after USER (RFC 1939 section 7). */
        if (was_user && c->run != cmd_user && c->run != cmd_pass) st->have_user = false;
        return;
    }
    st->have_user = false;
    err(s, NULL, "unknown command"); /* RFC1939-3.5 */
    bad_command(s);
}

static void on_too_long(pop3mock_session *s)
{
    md_state *st = s->state;
    st->sasl = SASL_NONE;
    st->have_user = false;
    err(s, NULL, "line too long");
}

static size_t max_line(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return st->sasl != SASL_NONE ? s->lim.max_sasl_line : s->lim.max_command;
}

static bool blocked(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return st->stls_wait || st->state == ST_DONE;
}

static bool producing(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return st->prod != PROD_NONE;
}

static void produce(pop3mock_session *s)
{
    md_state *st = s->state;
    if (st->prod == PROD_BODY) {
        pop3mock__body_produce(&st->body, &s->out);
        if (!st->body.active) st->prod = PROD_NONE;
        return;
    }
    char text[256];
    if (!st->zero_done) {
        /* Q45: a line for message 0, which does not exist. */
        line_out(s, st->prod == PROD_LIST ? "0 0" : "0 msgno-zero");
        st->zero_done = true;
    }
    /* A batch of lines; the session calls again while the output has room. */
    for (size_t lines = 0; lines < 256 && st->next < st->n; st->next++) {
        size_t k = st->next;
        if (st->marked[k]) continue;
        if (st->prod == PROD_LIST)
            snprintf(text, sizeof text, "%zu %llu", k + 1, reported_size(st, msg_at(st, k)));
        else
            uidl_text(st, k, text, sizeof text);
        line_out(s, text);
        lines++;
    }
    if (st->next >= st->n) {
        line_out(s, ".");
        st->prod = PROD_NONE;
    }
}

static void start(pop3mock_session *s)
{
    md_state *st = s->state;
    if (st->opt.implicit_tls) pop3mock__output_mark(&s->out, POP3MOCK__MARK_START_TLS, 0, 0);
    if (quirk(st, POP3MOCK_QUIRK(SLOW_DRIP)))
        pop3mock__output_mark(&s->out, POP3MOCK__MARK_DRIP, st->opt.quirks.drip_bytes,
                              st->opt.quirks.drip_ms);
    if (quirk(st, POP3MOCK_QUIRK(BANNER))) { /* Q35 */
        line_out(s, "   ___  ___  ___ ____");
        line_out(s, "  | _ \\/ _ \\| _ \\__ /  pop3kit-mock");
        line_out(s, "  |  _/ (_) |  _/|_ \\  banner before the greeting");
    }
    const char *text = st->opt.quirks.greeting;
    const char *sep = text[0] != '\0' ? " " : "";
    if (quirk(st, POP3MOCK_QUIRK(NO_APOP)))
        ok(s, "%s", text);
    else if (quirk(st, POP3MOCK_QUIRK(BOGUS_APOP_TIMESTAMP)))
        ok(s, "%s%s<a.b.c>", text, sep); /* Q33: not a msg-id */
    else
        ok(s, "%s%s%s", text, sep, st->timestamp);
}

static void on_eof(pop3mock_session *s)
{
    md_state *st = s->state;
    /* RFC1939-6.1: a session that ends without QUIT applies nothing, unless the
     * deletes-on-disconnect quirk (Q21) says otherwise. */
    if (st->state == ST_TRANS && quirk(st, POP3MOCK_QUIRK(DELETES_ON_DISCONNECT)))
        apply_deletions(st);
    unlock(st);
    st->state = ST_DONE;
    pop3mock__output_mark(&s->out, POP3MOCK__MARK_CLOSE, 0, 0);
}

static void tls_started(pop3mock_session *s)
{
    md_state *st = s->state;
    st->stls_wait = false;
    st->sasl = SASL_NONE;
}

static void destroy(pop3mock_session *s)
{
    md_state *st = s->state;
    if (st->state == ST_TRANS && quirk(st, POP3MOCK_QUIRK(DELETES_ON_DISCONNECT)))
        apply_deletions(st);
    unlock(st);
    pop3mock__body_stop(&st->body);
    free(st->idx);
    free(st->marked);
    free(st);
}

static const pop3mock__engine engine = {
    .start = start,
    .line = on_line,
    .too_long = on_too_long,
    .max_line = max_line,
    .blocked = blocked,
    .producing = producing,
    .produce = produce,
    .eof = on_eof,
    .tls_started = tls_started,
    .destroy = destroy,
};

void pop3mock_maildrop_options_default(pop3mock_maildrop_options *opt)
{
    memset(opt, 0, sizeof *opt);
    pop3mock_limits_default(&opt->limits);
    pop3mock_quirks_default(&opt->quirks);
}

pop3mock_session *pop3mock_maildrop_session_new(pop3mock_maildrop *md,
                                                const pop3mock_maildrop_options *opt,
                                                const char *timestamp)
{
    md_state *st = calloc(1, sizeof *st);
    if (st == NULL) return NULL;
    st->md = md;
    if (opt != NULL)
        st->opt = *opt;
    else
        pop3mock_maildrop_options_default(&st->opt);
    st->q = st->opt.quirks.flags;
    st->state = ST_AUTH;
    snprintf(st->timestamp, sizeof st->timestamp, "%s", timestamp != NULL ? timestamp : "");
    pop3mock_session *s = pop3mock__session_new(&engine, st, &st->opt.limits, false);
    if (s == NULL) free(st);
    return s;
}
