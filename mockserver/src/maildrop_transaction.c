/*
 * maildrop_transaction.c - the TRANSACTION state of a maildrop session.
 *
 * RFC 1939 section 5: STAT, LIST, RETR, DELE, NOOP, RSET, with message numbers fixed at
 * login and -ERR for a message that does not exist or is marked deleted; section 7: TOP
 * and UIDL; section 11: sizes count every line end as CRLF and are exactly the octets
 * RETR sends before the terminator. RFC 6856 sections 2.2 and 5: with utf8_strict, RETR
 * and TOP of a message with 8-bit headers answer -ERR [UTF8] until UTF8 is on. Listings
 * and bodies are produced in chunks as the output drains (session.c's back-pressure).
 * The quirks that bend sizes, listings and bodies (Q7, Q9, Q11, Q15, Q18, Q45, Q46) are
 * small departures from this path.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "maildrop_internal.h"
#include "pop3/error.h"
#include "pop3/parse.h"

#define quirk pop3mock__md_quirk
#define ok    pop3mock__md_ok
#define err   pop3mock__md_err

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
    /* Q52 (unterminated-size): some servers size the message as stored, without the
     * CRLF they add before the terminator. */
    if (!m->final_lf && !quirk(st, POP3MOCK_QUIRK(DOT_NO_CRLF)) &&
        !quirk(st, POP3MOCK_QUIRK(UNTERMINATED_SIZE))) {
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

void pop3mock__md_totals(const md_state *st, size_t *count, unsigned long long *octets)
{
    *count = 0;
    *octets = 0;
    for (size_t k = 0; k < st->n; k++) {
        if (st->marked[k]) continue;
        (*count)++;
        *octets += reported_size(st, msg_at(st, k));
    }
}

void pop3mock__md_apply_deletions(md_state *st)
{
    for (size_t k = 0; k < st->n; k++)
        if (st->marked[k]) st->md->msgs[st->idx[k]].removed = true;
}

/* A number argument read by the codec's one number parser (RFC 1939 section 3: digits;
 * no sign, no blank, no base prefix). `what` names it in the -ERR: a value that is not
 * digits and one past 2^64-1 get different answers, so a client that sent either
 * learns which. */
static bool number_arg(pop3mock_session *s, const char *p, size_t len, const char *what,
                       uint64_t *v)
{
    int rc = pop3_parse_number(p, len, v);
    if (rc == POP3_OK) return true;
    if (rc == POP3_ELIMIT)
        err(s, NULL, "%s too large (at most 18446744073709551615)", what);
    else
        err(s, NULL, "invalid %s (digits only)", what);
    return false;
}

/* RFC 1939 section 5: a message number that exists and is not marked deleted. */
static bool msg_arg(pop3mock_session *s, const char *p, size_t len, size_t *k)
{
    md_state *st = s->state;
    uint64_t v;
    if (!number_arg(s, p, len, "message number", &v)) return false;
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

void pop3mock__md_stat(pop3mock_session *s, const pop3mock__command *c)
{
    (void)c;
    size_t count;
    unsigned long long octets;
    pop3mock__md_totals(s->state, &count, &octets);
    ok(s, "%zu %llu", count, octets);
}

static void start_listing(pop3mock_session *s, md_producer kind)
{
    md_state *st = s->state;
    st->prod = kind;
    st->next = 0;
    st->zero_done = !quirk(st, POP3MOCK_QUIRK(MSGNO_ZERO));
}

void pop3mock__md_list(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    size_t k;
    if (c->nargs == 1) {
        if (msg_arg(s, c->arg[0], c->arg_len[0], &k))
            ok(s, "%zu %llu", k + 1, reported_size(st, msg_at(st, k)));
        return;
    }
    size_t count;
    unsigned long long octets;
    pop3mock__md_totals(st, &count, &octets);
    ok(s, "%zu messages (%llu octets)", count, octets);
    start_listing(s, MD_PRODUCE_LIST);
}

void pop3mock__md_uidl(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    size_t k;
    if (c->nargs == 1) {
        if (msg_arg(s, c->arg[0], c->arg_len[0], &k)) {
            char text[256];
            uidl_text(st, k, text, sizeof text);
            ok(s, "%s", text);
        }
        return;
    }
    ok(s, "unique-id listing follows");
    start_listing(s, MD_PRODUCE_UIDL);
}

static pop3mock__body_style body_style(const md_state *st, const pop3mock_message *m)
{
    pop3mock__body_style b = {
        .bare_lf = quirk(st, POP3MOCK_QUIRK(BARE_LF)),
        .no_stuffing = quirk(st, POP3MOCK_QUIRK(NO_DOT_STUFFING)),
        .dot_no_crlf = quirk(st, POP3MOCK_QUIRK(DOT_NO_CRLF)),
        .dot_cr = quirk(st, POP3MOCK_QUIRK(DOT_CR)),
        /* Q7 for every message; Q51 (empty-blank-line) for an empty one only. */
        .extra_blank = quirk(st, POP3MOCK_QUIRK(EXTRA_BLANK_LINE)) ||
                       (m->size == 0 && quirk(st, POP3MOCK_QUIRK(EMPTY_BLANK_LINE))),
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
    pop3mock__body_style style = body_style(st, msg_at(st, k));
    if (pop3mock__body_start(&st->body, st->md, st->idx[k], &style, top, lines) != 0) {
        /* Rewritten since it was measured: the next login measures it again. */
        if (errno == ESTALE) st->md->msgs[st->idx[k]].mtime_ns = POP3MOCK__STALE;
        err(s, "SYS/TEMP", "message %zu cannot be read", k + 1);
        return false;
    }
    return true;
}

void pop3mock__md_retr(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    size_t k;
    if (!msg_arg(s, c->arg[0], c->arg_len[0], &k) || !utf8_allows(s, k)) return;
    if (!start_body(s, k, false, 0)) return;
    ok(s, "%llu octets", reported_size(st, msg_at(st, k)));
    st->prod = MD_PRODUCE_BODY;
}

void pop3mock__md_top(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    size_t k;
    uint64_t lines;
    if (!msg_arg(s, c->arg[0], c->arg_len[0], &k)) return;
    /* RFC 1939 section 7: a non-negative number of lines; any 64-bit count is taken
     * (one past the body's end sends the whole body). */
    if (!number_arg(s, c->arg[1], c->arg_len[1], "line count", &lines)) return;
    if (!utf8_allows(s, k)) return;
    if (quirk(st, POP3MOCK_QUIRK(TOP_IGNORES_LINES))) lines = st->opt.quirks.top_lines;
    if (!start_body(s, k, true, lines)) return;
    ok(s, "top of message follows");
    if (quirk(st, POP3MOCK_QUIRK(TOP_TWICE))) ok(s, "top of message follows"); /* Q18 */
    st->prod = MD_PRODUCE_BODY;
}

void pop3mock__md_dele(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    size_t k;
    if (!msg_arg(s, c->arg[0], c->arg_len[0], &k)) return;
    st->marked[k] = true;
    ok(s, "message %zu deleted", k + 1);
}

void pop3mock__md_noop(pop3mock_session *s, const pop3mock__command *c)
{
    (void)c;
    ok(s, "%s", "");
}

void pop3mock__md_rset(pop3mock_session *s, const pop3mock__command *c)
{
    md_state *st = s->state;
    (void)c;
    memset(st->marked, 0, st->n * sizeof *st->marked);
    size_t count;
    unsigned long long octets;
    pop3mock__md_totals(st, &count, &octets);
    ok(s, "maildrop has %zu messages (%llu octets)", count, octets);
}

void pop3mock__md_produce(pop3mock_session *s)
{
    md_state *st = s->state;
    if (st->prod == MD_PRODUCE_BODY) {
        pop3mock__body_produce(&st->body, &s->out, s->lim.output_high);
        /* The next login measures the file again instead of trusting its name. */
        if (st->body.stale) st->md->msgs[st->body.index].mtime_ns = POP3MOCK__STALE;
        if (!st->body.active) st->prod = MD_PRODUCE_NONE;
        return;
    }
    char text[256];
    if (!st->zero_done) {
        /* Q45: a line for message 0, which does not exist. */
        pop3mock__md_line(s, st->prod == MD_PRODUCE_LIST ? "0 0" : "0 msgno-zero");
        st->zero_done = true;
    }
    /* A batch of lines; the session calls again while the output has room. */
    for (size_t lines = 0; lines < 256 && st->next < st->n; st->next++) {
        size_t k = st->next;
        if (st->marked[k]) continue;
        if (st->prod == MD_PRODUCE_LIST)
            snprintf(text, sizeof text, "%zu %llu", k + 1, reported_size(st, msg_at(st, k)));
        else
            uidl_text(st, k, text, sizeof text);
        pop3mock__md_line(s, text);
        lines++;
    }
    if (st->next >= st->n) {
        pop3mock__md_line(s, ".");
        st->prod = MD_PRODUCE_NONE;
    }
}
