/*
 * maildrop_session.c - a correct POP3 server over maildrops, with optional quirks: the
 * state machine, the command table, and the replies.
 *
 * RFC 1939 sections 3 to 7 and 11: the AUTHORIZATION / TRANSACTION / UPDATE state
 * machine, -ERR for unknown commands, for commands in the wrong state and for a wrong
 * number of arguments, DELE marks applied only at QUIT (a dropped connection applies
 * nothing, section 6). RFC 2449: CAPA (section 5), response codes, PIPELINING (commands
 * answered in order: session.c hands lines over one at a time). RFC 2595 section 4: STLS
 * no longer listed by CAPA under TLS; section 6: SASL PLAIN listed only under TLS.
 * RFC 6856 section 2: UTF8. The commands themselves are in maildrop_auth.c
 * (AUTHORIZATION) and maildrop_transaction.c (TRANSACTION).
 *
 * Each quirk of pop3mock/quirks.h is a small, named departure from this path.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "maildrop_internal.h"
#include "pop3/command.h"
#include "pop3/encode.h"
#include "pop3/error.h"

bool pop3mock__md_quirk(const md_state *st, uint64_t bit)
{
    return (st->q & bit) != 0;
}

#define quirk pop3mock__md_quirk

static const char *eol(const md_state *st)
{
    return quirk(st, POP3MOCK_QUIRK(BARE_LF)) ? "\n" : "\r\n";
}

/* A status line through the codec's encoder, then the quirks that bend it. */
static void status(pop3mock_session *s, pop3_status_kind kind, const char *code, const char *fmt,
                   va_list ap)
{
    md_state *st = s->state;
    char text[MD_TEXT_MAX];
    int n = vsnprintf(text, sizeof text, fmt, ap);
    size_t tlen = n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    char line[MD_TEXT_MAX + 64];
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

void pop3mock__md_ok(pop3mock_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status(s, POP3_STATUS_OK, NULL, fmt, ap);
    va_end(ap);
}

void pop3mock__md_err(pop3mock_session *s, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status(s, POP3_STATUS_ERR, code, fmt, ap);
    va_end(ap);
}

#define ok  pop3mock__md_ok
#define err pop3mock__md_err

/* "+ TEXT": a SASL challenge (RFC 5034 section 4), bent by bare-lf like any line. */
void pop3mock__md_challenge(pop3mock_session *s, const char *text)
{
    md_state *st = s->state;
    char line[1024];
    size_t len = 0;
    if (pop3_encode_status(line, sizeof line, &len, POP3_STATUS_CONTINUE, NULL, text, strlen(text),
                           NULL) != POP3_OK) {
        err(s, "SYS/PERM", "challenge too long");
        st->sasl = MD_SASL_NONE;
        return;
    }
    if (quirk(st, POP3MOCK_QUIRK(BARE_LF))) line[--len - 1] = '\n';
    pop3mock__output_append(&s->out, line, len);
}

void pop3mock__md_line(pop3mock_session *s, const char *text)
{
    pop3mock__output_str(&s->out, text);
    pop3mock__output_str(&s->out, eol(s->state));
}

void pop3mock__md_release(md_state *st)
{
    if (!st->holding) return;
    st->holding = false;
    if (st->md->active > 0) st->md->active--;
    if (st->md->active == 0) pop3mock__maildrop_unhold(st->md);
    if (!pop3mock__md_unlocked(st, st->md)) st->md->locked = false;
}

/* --no-lock, or the no-lock quirk (Q54): sessions of the user never exclude each other. */
bool pop3mock__md_unlocked(const md_state *st, const pop3mock_maildrop *md)
{
    return md->no_lock || quirk(st, POP3MOCK_QUIRK(NO_LOCK));
}

/* The session is over: no more commands, close once the output is sent. */
static void finish(pop3mock_session *s)
{
    md_state *st = s->state;
    pop3mock__md_release(st);
    st->phase = MD_DONE;
    pop3mock__output_mark(&s->out, POP3MOCK__MARK_CLOSE, 0, 0);
}

static void cmd_capa(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    (void)c;
    if (quirk(st, POP3MOCK_QUIRK(CAPA_ERR))) { /* Q30 */
        err(s, NULL, "unknown command");
        return;
    }
    /* Q31: some servers announce these only once logged in. */
    bool late = st->phase == MD_AUTHORIZATION && quirk(st, POP3MOCK_QUIRK(CAPA_AFTER_LOGIN));
    ok(s, "Capability list follows");
    if (quirk(st, POP3MOCK_QUIRK(CAPA_LISTS_CAPA))) pop3mock__md_line(s, "CAPA");
    bool no_plain = pop3mock__md_plaintext_refused(s);
    /* Q53: what logs in is no longer listed once logged in. */
    bool no_auth = st->phase == MD_TRANSACTION && quirk(st, POP3MOCK_QUIRK(CAPA_DROPS_AUTH));
    if (!no_plain && !no_auth) pop3mock__md_line(s, "USER");
    if (!late) pop3mock__md_line(s, "TOP");
    if (!late) pop3mock__md_line(s, "UIDL");
    pop3mock__md_line(s, "RESP-CODES");
    pop3mock__md_line(s, "AUTH-RESP-CODE");
    if (!late) pop3mock__md_line(s, "PIPELINING");
    pop3mock__md_line(s, "UTF8");
    /* RFC 5034 section 3. The command-line contract names "SASL PLAIN" where RFC 2595
     * section 6 allows it (under TLS, or with plain_in_clear); without it CRAM-MD5,
     * which sends no password, is what a client in clear is offered. The others are
     * listed on request (sasl_all). A server that refuses plaintext before TLS lists
     * only what is not plaintext (Dovecot). */
    bool plain = pop3mock__md_plain_allowed(s);
    if (!no_auth)
        pop3mock__md_line(s, no_plain                    ? "SASL CRAM-MD5"
                             : st->opt.sasl_all && plain ? "SASL PLAIN LOGIN CRAM-MD5"
                             : st->opt.sasl_all          ? "SASL LOGIN CRAM-MD5"
                             : plain                     ? "SASL PLAIN"
                                                         : "SASL CRAM-MD5");
    /* RFC 2595 section 4: STLS is listed only where it may be used. */
    if (st->opt.tls_available && !s->tls && st->phase == MD_AUTHORIZATION)
        pop3mock__md_line(s, "STLS");
    char impl[MD_TEXT_MAX];
    snprintf(impl, sizeof impl, "IMPLEMENTATION %s", st->opt.quirks.implementation);
    pop3mock__md_line(s, impl);
    pop3mock__md_line(s, ".");
}

static void cmd_utf8(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    (void)c;
    st->utf8 = true;
    ok(s, "UTF8 enabled");
}

static void cmd_quit(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    (void)c;
    if (st->phase == MD_TRANSACTION) {
        pop3mock__md_apply_deletions(st); /* UPDATE, RFC 1939 section 6 */
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
    finish(s);
}

/* Any number of arguments (the command ignores them, or takes the rest of the line). */
#define ANY_ARGS (POP3MOCK__ARGS_MAX + 1)

typedef struct command {
    const char *name;
    unsigned phases;         /* MD_IN(...) where the command is valid */
    unsigned char min, max;  /* arguments (words); max ANY_ARGS: not counted */
    const char *arity_error; /* the -ERR text when the count is wrong */
    void (*run)(pop3mock_session *s, const pop3mock__command *c);
} command;

#define AUTH_ONLY MD_IN(MD_AUTHORIZATION)
#define TRANS     MD_IN(MD_TRANSACTION)
#define BOTH      (MD_IN(MD_AUTHORIZATION) | MD_IN(MD_TRANSACTION))

/* RFC 1939 sections 4 to 7, RFC 2449 section 5, RFC 2595 section 4, RFC 5034 section 4,
 * RFC 6856 section 2: where each command is valid and what arguments it takes
 * (mockserver/README.md, "Maildrop mode"). */
static const command commands[] = {
    {"USER", AUTH_ONLY, 1, ANY_ARGS, "USER needs a mailbox name", pop3mock__md_user},
    {"PASS", AUTH_ONLY, 0, ANY_ARGS, NULL, pop3mock__md_pass},
    {"APOP", AUTH_ONLY, 2, 2, "APOP needs a name and a digest", pop3mock__md_apop},
    {"AUTH", AUTH_ONLY, 1, 2, "AUTH needs a mechanism and at most an initial response",
     pop3mock__md_auth},
    {"STLS", AUTH_ONLY, 0, 0, "STLS takes no argument", pop3mock__md_stls},
    {"UTF8", AUTH_ONLY, 0, 0, "UTF8 takes no argument", cmd_utf8},
    {"CAPA", BOTH, 0, ANY_ARGS, NULL, cmd_capa},
    {"QUIT", BOTH, 0, ANY_ARGS, NULL, cmd_quit},
    {"STAT", TRANS, 0, 0, "STAT takes no argument", pop3mock__md_stat},
    {"LIST", TRANS, 0, 1, "LIST takes at most one argument", pop3mock__md_list},
    {"RETR", TRANS, 1, 1, "RETR needs one message number", pop3mock__md_retr},
    {"DELE", TRANS, 1, 1, "DELE needs one message number", pop3mock__md_dele},
    {"NOOP", TRANS, 0, 0, "NOOP takes no argument", pop3mock__md_noop},
    {"RSET", TRANS, 0, 0, "RSET takes no argument", pop3mock__md_rset},
    {"TOP", TRANS, 2, 2, "TOP needs a message number and a line count", pop3mock__md_top},
    {"UIDL", TRANS, 0, 1, "UIDL takes at most one argument", pop3mock__md_uidl},
};

static const command *find_command(const pop3mock__command *c)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const command *k = &commands[i];
        /* RFC 1939 section 3: keywords are case-insensitive. */
        if (strlen(k->name) == c->keyword_len &&
            strncasecmp(k->name, c->keyword, c->keyword_len) == 0)
            return k;
    }
    return NULL;
}

/* max-bad-commands: Dovecot's pop3-login counts commands it does not know (which,
 * before login, includes the TRANSACTION ones) and drops the client at the third in a
 * row, after answering it. */
static void bad_command(pop3mock_session *s)
{
    md_state *st = s->state;
    if (!quirk(st, POP3MOCK_QUIRK(MAX_BAD_COMMANDS)) || st->phase != MD_AUTHORIZATION) return;
    if (++st->bad < st->opt.quirks.max_bad) return;
    err(s, NULL, "Too many invalid bad commands.");
    finish(s);
}

/* Why the codec refused a line, in the -ERR text: a client (or its author) learns which
 * rule it broke. The octet rules say whether the octet is in the keyword or after it. */
static void refuse_line(pop3mock_session *s, const pop3_request *req, const char *line, size_t len)
{
    const char *sp = memchr(line, ' ', len);
    size_t keyword_end = sp != NULL ? (size_t)(sp - line) : len;
    const char *where = req->fault_at < keyword_end ? "command keyword" : "argument";
    switch (req->fault) {
    case POP3_CMDF_EMPTY: err(s, NULL, "empty command line"); break;
    case POP3_CMDF_TOO_LONG:
        err(s, NULL, "line too long (max %zu octets)", s->lim.max_command);
        break;
    case POP3_CMDF_NUL: err(s, NULL, "%s holds a NUL octet", where); break;
    case POP3_CMDF_CR: err(s, NULL, "%s holds a CR octet (a line ends with CRLF)", where); break;
    case POP3_CMDF_LF: err(s, NULL, "%s holds an LF octet", where); break;
    case POP3_CMDF_TAB:
        err(s, NULL, "%s holds a TAB (arguments are separated by a space)", where);
        break;
    case POP3_CMDF_CONTROL: err(s, NULL, "%s holds a control octet", where); break;
    case POP3_CMDF_EIGHT_BIT: err(s, NULL, "%s holds an 8-bit octet", where); break;
    case POP3_CMDF_KEYWORD:
        err(s, NULL, "bad command keyword (3 or 4 printable ASCII characters)");
        break;
    case POP3_CMDF_SPACES: err(s, NULL, "arguments must be separated by one space"); break;
    case POP3_CMDF_ARG_TOO_LONG: err(s, NULL, "argument too long"); break;
    case POP3_CMDF_NONE: err(s, NULL, "unknown command"); break; /* not reached */
    }
}

static void on_line(pop3mock_session *s, const char *line, size_t len, bool crlf)
{
    md_state *st = s->state;
    (void)crlf; /* a bare LF is tolerated from clients (Q6 seen from the other side) */
    if (st->sasl != MD_SASL_NONE) {
        md_sasl step = st->sasl;
        st->sasl = MD_SASL_NONE;
        pop3mock__md_sasl_line(s, step, line, len);
        return;
    }
    pop3mock__command c;
    pop3_request req;
    if (!pop3mock__command_split(line, len, &c, &req)) {
        st->have_user = false;
        /* Not a command by the codec's rules: -ERR saying which rule (RFC1939-3.5), and
         * counted as a bad command like an unknown keyword. */
        refuse_line(s, &req, line, len);
        bad_command(s);
        return;
    }
    /* PASS is valid only right after USER (RFC 1939 section 7): any other command, or a
     * USER/PASS that fails before its handler, forgets the name. */
    bool was_user = st->have_user;
    st->have_user = false;
    const command *k = find_command(&c);
    if (k == NULL) {
        err(s, NULL, "unknown command"); /* RFC1939-3.5 */
        bad_command(s);
        return;
    }
    if ((k->phases & MD_IN(st->phase)) == 0) {
        err(s, NULL, "%s is not valid in the %s state", k->name,
            st->phase == MD_AUTHORIZATION ? "AUTHORIZATION" : "TRANSACTION"); /* RFC1939-3.6 */
        bad_command(s);
        return;
    }
    st->bad = 0;
    if (k->max != ANY_ARGS && (c.nargs < k->min || c.nargs > k->max)) {
        err(s, NULL, "%s", k->arity_error); /* RFC1939-3.5 */
        return;
    }
    if (k->max == ANY_ARGS && c.nargs < k->min) {
        err(s, NULL, "%s", k->arity_error);
        return;
    }
    if (k->run == pop3mock__md_pass) st->have_user = was_user;
    k->run(s, &c);
}

static size_t max_line(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return st->sasl != MD_SASL_NONE ? s->lim.max_sasl_line : s->lim.max_command;
}

static void on_too_long(pop3mock_session *s)
{
    md_state *st = s->state;
    size_t max = max_line(s); /* the limit the line broke, before the state changes */
    st->sasl = MD_SASL_NONE;
    st->have_user = false;
    /* RFC 2449 section 4 (commands), or the server's own limit for SASL lines. */
    err(s, NULL, "line too long (max %zu octets)", max);
}

static bool blocked(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return st->stls_wait || st->phase == MD_DONE;
}

static bool producing(const pop3mock_session *s)
{
    const md_state *st = s->state;
    return st->prod != MD_PRODUCE_NONE;
}

static void start(pop3mock_session *s)
{
    md_state *st = s->state;
    if (st->opt.implicit_tls) pop3mock__output_mark(&s->out, POP3MOCK__MARK_START_TLS, 0, 0);
    if (quirk(st, POP3MOCK_QUIRK(SLOW_DRIP)))
        pop3mock__output_mark(&s->out, POP3MOCK__MARK_DRIP, st->opt.quirks.drip_bytes,
                              st->opt.quirks.drip_ms);
    if (quirk(st, POP3MOCK_QUIRK(BANNER))) { /* Q35 */
        pop3mock__md_line(s, "   ___  ___  ___ ____");
        pop3mock__md_line(s, "  | _ \\/ _ \\| _ \\__ /  pop3kit-mock");
        pop3mock__md_line(s, "  |  _/ (_) |  _/|_ \\  banner before the greeting");
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
    if (st->phase == MD_TRANSACTION && quirk(st, POP3MOCK_QUIRK(DELETES_ON_DISCONNECT)))
        pop3mock__md_apply_deletions(st);
    finish(s);
}

static void tls_started(pop3mock_session *s)
{
    md_state *st = s->state;
    st->stls_wait = false;
    st->sasl = MD_SASL_NONE;
}

static void destroy(pop3mock_session *s)
{
    md_state *st = s->state;
    if (st->phase == MD_TRANSACTION && quirk(st, POP3MOCK_QUIRK(DELETES_ON_DISCONNECT)))
        pop3mock__md_apply_deletions(st);
    pop3mock__body_stop(&st->body);
    pop3mock__md_release(st);
    free(st->idx);
    free(st->marked);
    free(st->accounts);
    free(st);
}

static const pop3mock__engine engine = {
    .start = start,
    .line = on_line,
    .too_long = on_too_long,
    .max_line = max_line,
    .blocked = blocked,
    .producing = producing,
    .produce = pop3mock__md_produce,
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

pop3mock_session *pop3mock_accounts_session_new(pop3mock_maildrop *const *accounts, size_t n,
                                                const pop3mock_maildrop_options *opt,
                                                const char *timestamp)
{
    md_state *st = calloc(1, sizeof *st);
    if (st == NULL) return NULL;
    st->accounts = calloc(n > 0 ? n : 1, sizeof *st->accounts);
    if (st->accounts == NULL) {
        free(st);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        st->accounts[i] = accounts[i];
    st->naccounts = n;
    if (opt != NULL)
        st->opt = *opt;
    else
        pop3mock_maildrop_options_default(&st->opt);
    st->q = st->opt.quirks.flags;
    st->phase = MD_AUTHORIZATION;
    snprintf(st->timestamp, sizeof st->timestamp, "%s", timestamp != NULL ? timestamp : "");
    pop3mock_session *s = pop3mock__session_new(&engine, st, &st->opt.limits, false);
    if (s == NULL) {
        free(st->accounts);
        free(st);
    }
    return s;
}

pop3mock_session *pop3mock_maildrop_session_new(pop3mock_maildrop *md,
                                                const pop3mock_maildrop_options *opt,
                                                const char *timestamp)
{
    return pop3mock_accounts_session_new(&md, 1, opt, timestamp);
}
