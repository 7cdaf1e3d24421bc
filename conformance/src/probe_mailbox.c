/*
 * probe_mailbox.c - what the probe checks once logged in, read-only: CAPA in TRANSACTION
 * (RFC 2449 section 5), STAT, LIST and UIDL and their consistency (RFC 1939 sections 5
 * and 7), each message's RETR against its LIST size (section 11: the octets RETR sends, each
 * line end counted as two and the byte-stuffing not, are the size LIST gives; RFC1939-11) and
 * its byte-stuffing (section 3), TOP (section 7), commands in the wrong state and
 * malformed ones (section 3), a 255-octet command (RFC 2449 section 4), PIPELINING
 * (RFC 2449 section 6.6), a second session ([IN-USE], RFC 2449 section 8.1.2), the
 * autologout (RFC 1939 section 3), QUIT (section 6). With --destructive: DELE and RSET
 * (section 5) and a drop without QUIT (section 6).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pop3/error.h"
#include "pop3/parse.h"
#include "probe_checks.h"

typedef struct entry {
    uint64_t msg, size;
    char *uid;
} entry;

typedef struct listing {
    entry *v;
    size_t n;
    bool ok;
} listing;

static void listing_free(listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].uid);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static const entry *find(const listing *l, uint64_t msg)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].msg == msg) return &l->v[i];
    return NULL;
}

/* The text of a status line up to a NUL octet: the NUL is reported on its own (Q48,
 * check_line_forms); these checks are about the numbers before it. */
static size_t before_nul(pop3_view v)
{
    const char *nul = v.len > 0 ? memchr(v.ptr, '\0', v.len) : NULL;
    return nul != NULL ? (size_t)(nul - v.ptr) : v.len;
}

static void read_listing(probe_state *st, probe_conn *c, bool uidl, listing *out)
{
    memset(out, 0, sizeof *out);
    probe_reply r;
    probe_cmd(c, uidl ? "UIDL" : "LIST", &r, true);
    check_line_forms(st, &r, uidl ? "UIDL" : "LIST");
    out->ok = r.ok && r.terminated;
    if (!out->ok) {
        if (r.status == POP3_OK && !(uidl && r.err))
            finding(st->f, F_DEV, uidl ? "RFC1939-7.2" : "RFC1939-5.2", NULL, "%s failed: %.100s",
                    uidl ? "UIDL" : "LIST",
                    r.status_line.p != NULL ? r.status_line.p : pop3_strerror(r.status));
        probe_reply_free(&r);
        return;
    }
    /* Each line as the codec reads it (pop3_parse_scan, pop3_parse_uidl); its anomaly bits
     * are what the probe reports. Duplicates are across lines: counted here. */
    bool zero = false, dup = false, lng = false, spaced = false, bad = false;
    out->v = xcalloc(r.nlines + 1, sizeof *out->v);
    for (size_t i = 0; i < r.nlines; i++) {
        const probe_line *l = &r.lines[i];
        uint64_t msg = 0, size = 0;
        pop3_view uid = {0};
        unsigned anom = 0;
        int rc = uidl ? pop3_parse_uidl(l->p, l->n, &msg, &uid, &anom)
                      : pop3_parse_scan(l->p, l->n, &msg, &size, &anom);
        if (rc != POP3_OK) {
            bad = true;
            continue;
        }
        if (anom & POP3_ANOM_EXTRA_SPACE) spaced = true;
        if (anom & POP3_ANOM_MSGNO_ZERO) zero = true;
        if (anom & POP3_ANOM_UID_LONG) lng = true;
        /* A space inside a unique-id (the codec keeps "1 abc def" as one id). */
        if ((anom & POP3_ANOM_UID_CHARS) && memchr(uid.ptr, ' ', uid.len) != NULL) spaced = true;
        if (find(out, msg) != NULL) dup = true;
        entry *en = &out->v[out->n++];
        en->msg = msg;
        en->size = size;
        if (uidl) en->uid = xstrndup(uid.ptr, uid.len);
    }
    const char *what = uidl ? "UIDL" : "LIST";
    if (zero)
        finding(st->f, F_DEV, "RFC1939-5.2", "msgno-zero Q45",
                "%s lists a message 0 (messages are numbered from 1)", what);
    if (dup) finding(st->f, F_DEV, "RFC1939-5.2", "Q45", "%s lists a message number twice", what);
    if (lng)
        finding(st->f, F_DEV, "RFC1939-7.2", "long-uids Q46",
                "UIDL has unique-ids longer than 70 octets");
    if (spaced)
        finding(st->f, F_DEV, "RFC1939-7.2", "spaced-uids Q46",
                "%s lines have extra spaces, or spaces inside a unique-id", what);
    if (bad)
        finding(st->f, F_DEV, uidl ? "RFC1939-7.2" : "RFC1939-5.2", NULL,
                "%s has lines that are not \"msg %s\"", what, uidl ? "unique-id" : "size");
    probe_reply_free(&r);
}

/* Log in again on a fresh connection after one was lost in the middle of a check. */
static bool reopen(probe_state *st, probe_conn *c)
{
    probe_conn_close(c);
    return probe_open(st, c, false) && probe_login(st, c);
}

typedef struct body {
    uint64_t octets; /* un-stuffed, every line end counted as CRLF (RFC 1939 section 11) */
    size_t lines;
    size_t header_lines; /* up to and with the first empty line */
    bool unstuffed;      /* a line ".x" that was not byte-stuffed (Q4) */
    bool last_empty;
} body;

static void measure(const probe_reply *r, size_t from, body *b)
{
    memset(b, 0, sizeof *b);
    bool in_header = true;
    for (size_t i = from; i < r->nlines; i++) {
        const probe_line *l = &r->lines[i];
        size_t n = l->n;
        if (n > 0 && l->p[0] == '.') {
            if (n == 1 || l->p[1] != '.') b->unstuffed = true;
            n--;
        }
        b->octets += n + 2;
        b->lines++;
        if (in_header) {
            b->header_lines++;
            if (l->n == 0) in_header = false;
        }
        b->last_empty = l->n == 0;
    }
}

/* RETR and TOP of one message. Returns false when the session was lost. */
static bool check_message(probe_state *st, probe_conn *c, uint64_t msg, uint64_t size, bool *seen)
{
    char line[64];
    snprintf(line, sizeof line, "RETR %llu", (unsigned long long)msg);
    probe_reply r;
    probe_cmd(c, line, &r, true);
    check_line_forms(st, &r, "RETR");
    if (r.dot_cr_eof) {
        if (!seen[0])
            finding(st->f, F_DEV, "RFC1939-3.4", "dot-cr Q2",
                    "RETR %llu ended with \".\\r\" and the connection closed",
                    (unsigned long long)msg);
        seen[0] = true;
        probe_reply_free(&r);
        return false;
    }
    if (!r.terminated) {
        const probe_line *last = r.nlines > 0 ? &r.lines[r.nlines - 1] : NULL;
        if (r.ok && last != NULL && last->n > 1 && last->p[last->n - 1] == '.') {
            if (!seen[1])
                finding(st->f, F_DEV, "RFC1939-3.4", "dot-no-crlf Q1",
                        "RETR %llu: \".\" was glued to the last line; the terminator never came",
                        (unsigned long long)msg);
            seen[1] = true;
        } else if (r.ok) {
            finding(st->f, F_DEV, "RFC1939-3.4", NULL, "RETR %llu: the body never ended (%s)",
                    (unsigned long long)msg, pop3_strerror(r.status));
        } else if (r.status == POP3_OK) {
            finding(st->f, F_DEV, "RFC1939-5.3", NULL, "RETR %llu refused: %.100s",
                    (unsigned long long)msg, r.status_line.p);
            probe_reply_free(&r);
            return true;
        }
        probe_reply_free(&r);
        return false;
    }
    body b;
    measure(&r, 0, &b);
    if (b.unstuffed && !seen[2]) {
        seen[2] = true;
        finding(st->f, F_DEV, "RFC1939-3.4", "no-dot-stuffing Q4",
                "RETR %llu: a body line starting with \".\" was not byte-stuffed",
                (unsigned long long)msg);
    }
    if (probe_unsolicited(c, 100) > 0) {
        finding(st->f, F_DEV, "RFC1939-3.4", b.unstuffed ? "no-dot-stuffing Q4" : NULL,
                "RETR %llu: octets arrived after the end of the reply (an unstuffed \".\" "
                "line?)",
                (unsigned long long)msg);
        probe_reply_free(&r);
        return false;
    }
    /* Which rule gives LIST's size from what RETR sent: exact (RFC 1939 section 11, the
     * requirement RFC1939-11 every size finding is labelled with; section 5 makes LIST's
     * size "the exact size of the message in octets"), line
     * ends counted once (Q11), half (Q9); each with or without an extra blank line at the
     * end (Q7, qmail), since servers combine them. */
    int rule = -1;
    bool extra = false;
    for (int e = 0; e <= (b.last_empty ? 1 : 0) && rule < 0; e++) {
        uint64_t o = b.octets - (e ? 2 : 0);
        uint64_t nl = b.lines - (e ? 1 : 0);
        if (size == o)
            rule = 0;
        else if (size + nl == o)
            rule = 1;
        else if (size == o / 2 || size == (o + 1) / 2)
            rule = 2;
        extra = rule >= 0 && e == 1;
    }
    /* An empty message (LIST says 0) sent as one empty line is Q51, unless every message
     * so far had that line (qmail's Q7). */
    bool empty_blank = extra && size == 0 && b.lines == 1 && !seen[5];
    if (empty_blank) {
        finding(st->f, F_DEV, "RFC1939-11", "empty-blank-line Q51",
                "RETR %llu of an empty message sends one empty line", (unsigned long long)msg);
    } else if (extra && !seen[5]) {
        seen[5] = true;
        finding(st->f, F_DEV, "RFC1939-11", "extra-blank-line Q7",
                "RETR %llu ends with an empty line the message does not have",
                (unsigned long long)msg);
    }
    if (rule == 0 && (!extra || empty_blank) && !seen[3]) {
        seen[3] = true;
        finding(st->f, F_PASS, "RFC1939-11", NULL, "LIST sizes match RETR octets");
    } else if (rule == 1 && !seen[4]) {
        seen[4] = true;
        finding(st->f, F_DEV, "RFC1939-11", "sizes-lf Q11",
                "LIST %llu says %llu, RETR gives %llu octets: line ends counted as one octet",
                (unsigned long long)msg, (unsigned long long)size, (unsigned long long)b.octets);
    } else if (rule == 2 && !seen[6]) {
        seen[6] = true;
        finding(st->f, F_DEV, "RFC1939-11", "lying-sizes Q9",
                "LIST %llu says %llu, RETR gives %llu octets: half the real size",
                (unsigned long long)msg, (unsigned long long)size, (unsigned long long)b.octets);
    } else if (rule < 0 && b.octets == size + 2 && !b.last_empty) {
        /* Q52: two octets short, the last line not empty: the CRLF the server had to add
         * before "." to a message without a final line end is not counted. */
        finding(st->f, F_DEV, "RFC1939-11", "unterminated-size Q52",
                "LIST %llu says %llu, RETR gives %llu octets: the line end added before the "
                "terminator is not counted",
                (unsigned long long)msg, (unsigned long long)size, (unsigned long long)b.octets);
    } else if (rule < 0) {
        finding(st->f, F_DEV, "RFC1939-11", NULL, "LIST %llu says %llu, RETR gives %llu octets",
                (unsigned long long)msg, (unsigned long long)size, (unsigned long long)b.octets);
    }
    size_t body_lines = b.lines - b.header_lines;
    size_t header_lines = b.header_lines;
    probe_reply_free(&r);

    /* TOP msg 0: the headers and the blank line only; TOP msg 2: two body lines more. */
    unsigned asks[2] = {0, 2};
    for (int k = 0; k < 2; k++) {
        snprintf(line, sizeof line, "TOP %llu %u", (unsigned long long)msg, asks[k]);
        probe_cmd(c, line, &r, true);
        if (!r.ok || !r.terminated) {
            bool lost = r.status != POP3_OK || (r.ok && !r.terminated);
            if (r.err && k == 0)
                finding(st->f, F_NOTE, "RFC1939-7.1", NULL, "TOP is not supported");
            probe_reply_free(&r);
            if (lost) return false;
            return true;
        }
        size_t from = 0;
        pop3_status_line first;
        if (r.nlines > 0 &&
            pop3_parse_status(r.lines[0].p, r.lines[0].n, POP3_EXPECT_SINGLE, POP3_TOL_STRICT,
                              &first, NULL, NULL) == POP3_OK &&
            first.kind == POP3_STATUS_OK) {
            if (!seen[7])
                finding(st->f, F_DEV, "RFC1939-7.1", "top-twice Q18",
                        "TOP %llu %u was answered with +OK twice", (unsigned long long)msg,
                        asks[k]);
            seen[7] = true;
            from = 1;
        }
        body t;
        measure(&r, from, &t);
        size_t want = header_lines + (asks[k] < body_lines ? asks[k] : body_lines);
        /* qmail's extra blank line (Q7), already reported for RETR, ends TOP too. */
        if ((seen[5] || empty_blank) && t.lines == want + 1 && t.last_empty) want++;
        if (t.lines == want && from == 0 && !seen[9]) {
            seen[9] = true;
            finding(st->f, F_PASS, "RFC1939-7.1", NULL,
                    "TOP %llu %u gives the headers, the blank line and %u body lines",
                    (unsigned long long)msg, asks[k], asks[k]);
        }
        if (t.lines != want && !seen[8]) {
            seen[8] = true;
            finding(st->f, F_DEV, "RFC1939-7.1", "top-ignores-lines Q15 Q16",
                    "TOP %llu %u gave %zu lines, %zu expected (headers, blank line, %u body "
                    "lines)",
                    (unsigned long long)msg, asks[k], t.lines, want, asks[k]);
        }
        probe_reply_free(&r);
    }
    return true;
}

/* A command that must be refused; answers a "+ " SASL challenge with "*". */
static void must_refuse(probe_state *st, probe_conn *c, const char *cmd, const char *id,
                        const char *why)
{
    probe_reply r;
    probe_cmd(c, cmd, &r, false);
    /* A "+ " continuation, or any other "+" line that is not +OK: answer it with "*" so
     * that a SASL exchange the server may have started ends (RFC 5034 section 4). */
    if (r.status == POP3_OK &&
        (r.cont || (r.status_line.n >= 1 && r.status_line.p[0] == '+' && !r.ok))) {
        probe_reply_free(&r);
        probe_cmd(c, "*", &r, false);
        finding(st->f, F_DEV, id, NULL, "%s is accepted (a SASL exchange started)", why);
    } else {
        bool refused = r.err || r.plus_err;
        finding(st->f, refused ? F_PASS : F_DEV, id, NULL, "%s is %s", why,
                refused               ? "refused"
                : r.status != POP3_OK ? "left unanswered"
                                      : "accepted");
    }
    probe_reply_free(&r);
    probe_cmd(c, "NOOP", &r, false); /* Dovecot disconnects after three bad commands in a row */
    probe_reply_free(&r);
}

static void check_pipelining(probe_state *st, probe_conn *c, const pop3_capa_set *caps)
{
    if (pop3_capa_find(caps, "PIPELINING") == NULL) {
        finding(st->f, F_NOTE, "RFC2449-6.6a", NULL, "PIPELINING is not announced");
        return;
    }
    if (probe_send_raw(c, "NOOP\r\nSTAT\r\nNOOP\r\nLIST\r\nUIDL\r\n", 30) != POP3_OK) return;
    probe_reply r[5];
    bool ok = true;
    for (int i = 0; i < 5; i++) {
        probe_read_reply(c, &r[i], i >= 3, c->cfg->timeout_ms);
        ok = ok && r[i].ok && (i < 3 || r[i].terminated);
    }
    uint64_t count, size;
    ok = ok && pop3_parse_stat(r[1].st.text.ptr, before_nul(r[1].st.text), &count, &size, NULL) ==
                   POP3_OK;
    finding(st->f, ok ? F_PASS : F_DEV, "RFC2449-6.6a", NULL,
            "five pipelined commands (NOOP STAT NOOP LIST UIDL) %s",
            ok ? "were answered in order" : "were not answered in order");
    for (int i = 0; i < 5; i++)
        probe_reply_free(&r[i]);
}

static void check_second_session(probe_state *st)
{
    probe_conn c2;
    if (!probe_open(st, &c2, false)) {
        probe_conn_close(&c2);
        return;
    }
    st->greetings++;
    char line[600];
    probe_reply r;
    snprintf(line, sizeof line, "USER %s", st->cfg->user);
    probe_cmd(&c2, line, &r, false);
    probe_reply_free(&r);
    snprintf(line, sizeof line, "PASS %s", st->cfg->password);
    probe_cmd(&c2, line, &r, false);
    if (r.ok)
        finding(st->f, F_NOTE, "RFC1939-4.3", "no-lock Q54",
                "a second session of the user is let in while the first is open (no maildrop "
                "lock)");
    else if (r.status == POP3_OK)
        finding(st->f, r.st.code == POP3_CODE_IN_USE ? F_PASS : F_NOTE, "RFC2449-8.1", NULL,
                "a second session of the user is refused: %.100s", r.status_line.p);
    probe_reply_free(&r);
    probe_cmd(&c2, "QUIT", &r, false);
    probe_reply_free(&r);
    probe_conn_close(&c2);
}

void check_transaction(probe_state *st, probe_conn *c)
{
    const probe_config *cfg = st->cfg;
    pop3_capa_set after;
    pop3_capa_init(&after);
    if (probe_capa(st, c, &after, "after login")) {
        pop3_buf missing = {0};
        bool auth_only = true; /* only USER and SASL are missing (Q53) */
        for (size_t i = 0; i < st->caps.count; i++) {
            char tag[64];
            snprintf(tag, sizeof tag, "%.*s", (int)st->caps.caps[i].name.len,
                     st->caps.caps[i].name.ptr);
            /* STLS is for AUTHORIZATION only (RFC 2595 section 4); USER and SASL are
             * announced in both states (RFC 2449 section 6, RFC 5034 section 3). */
            if (strcasecmp(tag, "STLS") == 0 || pop3_capa_find(&after, tag) != NULL) continue;
            cbuf_printf(&missing, " %s", tag);
            if (strcasecmp(tag, "USER") != 0 && strcasecmp(tag, "SASL") != 0) auth_only = false;
        }
        if (missing.len > 0)
            finding(st->f, F_DEV, "RFC2449-5.2", auth_only ? "capa-drops-auth Q53" : NULL,
                    "CAPA after login omits what it announced before login:%s", missing.ptr);
        else
            finding(st->f, F_PASS, "RFC2449-5.2", NULL,
                    "CAPA after login still lists what it listed before");
        cbuf_free(&missing);
        static const char *const late[] = {"TOP", "UIDL", "PIPELINING"};
        for (size_t i = 0; i < 3; i++)
            if (st->caps_known && pop3_capa_find(&st->caps, late[i]) == NULL &&
                pop3_capa_find(&after, late[i]) != NULL) {
                finding(st->f, F_NOTE, "RFC2449-5.1", "capa-after-login Q31",
                        "%s is announced only after login", late[i]);
                break;
            }
        if (pop3_capa_find(&after, "STLS") != NULL)
            finding(st->f, F_DEV, "RFC2595-4.2", NULL, "STLS is still announced after login");
    }
    probe_reply r;
    probe_cmd(c, "STAT", &r, false);
    check_line_forms(st, &r, "STAT");
    uint64_t count = 0, size = 0;
    unsigned anom = 0;
    bool stat_ok =
        r.ok && pop3_parse_stat(r.st.text.ptr, r.st.text.len, &count, &size, &anom) == POP3_OK;
    if (!stat_ok)
        finding(st->f, F_DEV, "RFC1939-5.1", NULL, "STAT reply \"%.60s\" is not \"+OK nn mm\"",
                r.status_line.p != NULL ? r.status_line.p : "");
    else
        finding(st->f, anom ? F_NOTE : F_PASS, "RFC1939-5.1", NULL,
                "STAT: %llu messages, %llu octets%s", (unsigned long long)count,
                (unsigned long long)size, anom ? " (with text after the numbers)" : "");
    probe_reply_free(&r);

    listing list, uidl;
    read_listing(st, c, false, &list);
    read_listing(st, c, true, &uidl);
    if (list.ok && stat_ok) {
        uint64_t sum = 0, real = 0;
        for (size_t i = 0; i < list.n; i++)
            if (list.v[i].msg != 0) sum += list.v[i].size, real++;
        bool same = real == count && sum == size;
        finding(st->f, same ? F_PASS : F_DEV, "RFC1939-5.2", NULL,
                "LIST has %llu messages, %llu octets; STAT said %llu, %llu",
                (unsigned long long)real, (unsigned long long)sum, (unsigned long long)count,
                (unsigned long long)size);
    }
    if (uidl.ok && list.ok) {
        bool same = true;
        for (size_t i = 0; i < list.n; i++)
            if (list.v[i].msg != 0 && find(&uidl, list.v[i].msg) == NULL) same = false;
        finding(st->f, same ? F_PASS : F_DEV, "RFC1939-7.2", NULL,
                "UIDL %s every message LIST lists", same ? "names" : "does not name");
        for (size_t i = 0; i < uidl.n; i++)
            for (size_t j = i + 1; j < uidl.n; j++)
                if (uidl.v[i].msg != 0 && uidl.v[j].msg != 0 &&
                    strcmp(uidl.v[i].uid, uidl.v[j].uid) == 0) {
                    finding(st->f, F_NOTE, "RFC1939-7.4", NULL,
                            "messages %llu and %llu share a unique-id",
                            (unsigned long long)uidl.v[i].msg, (unsigned long long)uidl.v[j].msg);
                    i = j = uidl.n;
                }
    } else if (!uidl.ok) {
        finding(st->f, F_NOTE, "RFC1939-7.2", NULL, "UIDL is not supported");
    }
    /* LIST n and UIDL n agree with the listings (first messages only). */
    for (size_t i = 0; i < list.n && i < 5; i++) {
        if (list.v[i].msg == 0) continue;
        char line[64];
        snprintf(line, sizeof line, "LIST %llu", (unsigned long long)list.v[i].msg);
        probe_cmd(c, line, &r, false);
        char want[64];
        snprintf(want, sizeof want, "+OK %llu %llu", (unsigned long long)list.v[i].msg,
                 (unsigned long long)list.v[i].size);
        /* The codec's reading of "+OK n size": the same numbers, one space between (text
         * after them is allowed, RFC 1939 section 5). */
        uint64_t m = 0, sz = 0;
        unsigned scan_anom = 0;
        bool same = r.ok && pop3_parse_scan(r.st.text.ptr, before_nul(r.st.text), &m, &sz,
                                            &scan_anom) == POP3_OK;
        same = same && m == list.v[i].msg && sz == list.v[i].size &&
               !(scan_anom & POP3_ANOM_EXTRA_SPACE);
        if (!same)
            finding(st->f, F_DEV, "RFC1939-5.2", NULL, "LIST %llu answers \"%.60s\", not \"%s\"",
                    (unsigned long long)list.v[i].msg,
                    r.status_line.p != NULL ? r.status_line.p : "", want);
        probe_reply_free(&r);
    }

    /* Messages. */
    bool seen[10] = {false};
    unsigned done = 0;
    for (size_t i = 0; i < list.n && done < cfg->max_msgs; i++) {
        if (list.v[i].msg == 0 || list.v[i].size > cfg->max_octets) continue;
        done++;
        if (!check_message(st, c, list.v[i].msg, list.v[i].size, seen) && !reopen(st, c)) {
            finding(st->f, F_DEV, "RFC1939-3.4", NULL, "could not log in again: %s",
                    st->login_error);
            listing_free(&list);
            listing_free(&uidl);
            pop3_capa_free(&after);
            return;
        }
    }

    /* Wrong state and malformed commands (RFC 1939 section 3). */
    char line[600];
    snprintf(line, sizeof line, "USER %s", cfg->user);
    must_refuse(st, c, line, "RFC1939-3.6", "USER after login");
    if (pop3_capa_find(&st->caps, "STLS") != NULL || cfg->starttls)
        must_refuse(st, c, "STLS", "RFC2595-4.6", "STLS after login");
    if (pop3_capa_find(&st->caps, "SASL") != NULL)
        must_refuse(st, c, "AUTH PLAIN", "RFC5034-4.2", "AUTH after login");
    must_refuse(st, c, "RETR", "RFC1939-3.5", "RETR without an argument");
    must_refuse(st, c, "RETR x", "RFC1939-3.5", "RETR x");
    snprintf(line, sizeof line, "RETR %llu", (unsigned long long)(count + 1));
    must_refuse(st, c, line, "RFC1939-5.3", "RETR of a message that does not exist");
    must_refuse(st, c, "LIST 1 2", "RFC1939-3.5", "LIST with two arguments");

    /* RFC 2449 section 4: a 255-octet command is not too long. */
    pop3_buf longcmd = {0};
    cbuf_puts(&longcmd, "NOOP ");
    while (longcmd.len < 253)
        cbuf_putc(&longcmd, 'x');
    probe_cmd(c, longcmd.ptr, &r, false);
    cbuf_free(&longcmd);
    bool alive = r.status == POP3_OK;
    probe_reply_free(&r);
    probe_cmd(c, "NOOP", &r, false);
    alive = alive && r.ok;
    finding(st->f, alive ? F_PASS : F_DEV, "RFC2449-4.1", NULL, "a 255-octet command line %s",
            alive ? "is answered and the session goes on" : "breaks the session");
    probe_reply_free(&r);
    if (!alive && !reopen(st, c)) goto out;

    check_pipelining(st, c, &after);
    check_second_session(st);

    if (cfg->idle_s > 0) {
        struct timespec ts = {.tv_sec = (time_t)cfg->idle_s, .tv_nsec = 0};
        nanosleep(&ts, NULL);
        probe_cmd(c, "NOOP", &r, false);
        bool up = r.ok;
        finding(st->f, up || cfg->idle_s >= 600 ? F_PASS : F_DEV, "RFC1939-3.7", NULL,
                "after %u s idle the session is %s", cfg->idle_s, up ? "still open" : "gone");
        probe_reply_free(&r);
        if (!up && !reopen(st, c)) goto out;
    }
    probe_cmd(c, "QUIT", &r, false);
    finding(st->f, r.ok ? F_PASS : F_DEV, "RFC1939-6.2", NULL, "QUIT after login: %s",
            r.ok                  ? "+OK"
            : r.status == POP3_OK ? "not +OK"
                                  : pop3_strerror(r.status));
    probe_reply_free(&r);
out:
    listing_free(&list);
    listing_free(&uidl);
    pop3_capa_free(&after);
}

/* --destructive: DELE, RSET, and a drop without QUIT. Nothing is committed. */
void check_destructive(probe_state *st)
{
    probe_conn c;
    if (!probe_open(st, &c, false) || !probe_login(st, &c)) {
        probe_conn_close(&c);
        return;
    }
    probe_reply r;
    uint64_t n0 = 0, s0 = 0, n1 = 0, s1 = 0, size1 = 0;
    probe_cmd(&c, "STAT", &r, false);
    bool ok = r.ok && pop3_parse_stat(r.st.text.ptr, r.st.text.len, &n0, &s0, NULL) == POP3_OK;
    probe_reply_free(&r);
    if (!ok || n0 == 0) {
        finding(st->f, F_NOTE, "RFC1939-5.4", NULL, "no message to DELE: skipped");
        probe_conn_close(&c);
        return;
    }
    probe_cmd(&c, "LIST 1", &r, false);
    if (r.ok) {
        uint64_t m;
        pop3_parse_scan(r.st.text.ptr, r.st.text.len, &m, &size1, NULL);
    }
    probe_reply_free(&r);
    probe_cmd(&c, "DELE 1", &r, false);
    finding(st->f, r.ok ? F_PASS : F_DEV, "RFC1939-5.4", NULL, "DELE 1 %s",
            r.ok ? "marks message 1" : "is refused");
    probe_reply_free(&r);
    static const struct {
        const char *cmd, *id, *why;
    } after[] = {
        {"LIST 1", "RFC1939-5.2", "LIST of a deleted message"},
        {"RETR 1", "RFC1939-5.3", "RETR of a deleted message"},
        {"DELE 1", "RFC1939-5.4", "DELE of a deleted message"},
    };
    for (size_t i = 0; i < 3; i++) {
        probe_cmd(&c, after[i].cmd, &r, false);
        if (r.ok && strcmp(after[i].cmd, "RETR 1") == 0) {
            /* It sent the body: read it away. */
            probe_reply_free(&r);
            probe_read_reply(&c, &r, true, c.cfg->timeout_ms);
        }
        finding(st->f, r.err ? F_PASS : F_DEV, after[i].id, NULL, "%s is %s", after[i].why,
                r.err ? "refused" : "accepted");
        probe_reply_free(&r);
    }
    probe_cmd(&c, "STAT", &r, false);
    ok = r.ok && pop3_parse_stat(r.st.text.ptr, r.st.text.len, &n1, &s1, NULL) == POP3_OK;
    finding(st->f, ok && n1 == n0 - 1 && s1 == s0 - size1 ? F_PASS : F_DEV, "RFC1939-5.1", NULL,
            "STAT after DELE: %llu messages, %llu octets (before: %llu, %llu)",
            (unsigned long long)n1, (unsigned long long)s1, (unsigned long long)n0,
            (unsigned long long)s0);
    probe_reply_free(&r);
    probe_cmd(&c, "RSET", &r, false);
    probe_reply_free(&r);
    probe_cmd(&c, "LIST 1", &r, false);
    finding(st->f, r.ok ? F_PASS : F_DEV, "RFC1939-5.5", NULL, "after RSET message 1 is %s",
            r.ok ? "back" : "still gone");
    probe_reply_free(&r);
    /* RFC 1939 section 6: DELE, then the connection drops without QUIT: nothing goes. */
    probe_cmd(&c, "DELE 1", &r, false);
    probe_reply_free(&r);
    probe_conn_close(&c);
    probe_conn c2;
    if (!probe_open(st, &c2, false) || !probe_login(st, &c2)) {
        probe_conn_close(&c2);
        return;
    }
    probe_cmd(&c2, "STAT", &r, false);
    uint64_t n2 = 0, s2 = 0;
    ok = r.ok && pop3_parse_stat(r.st.text.ptr, r.st.text.len, &n2, &s2, NULL) == POP3_OK;
    probe_reply_free(&r);
    if (ok && n2 == n0)
        finding(st->f, F_PASS, "RFC1939-6.1", NULL,
                "a DELE followed by a dropped connection removed nothing");
    else
        finding(st->f, F_DEV, "RFC1939-6.1", "deletes-on-disconnect Q21",
                "a DELE followed by a dropped connection removed the message (%llu messages, "
                "%llu before)",
                (unsigned long long)n2, (unsigned long long)n0);
    probe_cmd(&c2, "QUIT", &r, false);
    probe_reply_free(&r);
    probe_conn_close(&c2);
}
