/*
 * probe_session.c - what the probe checks before login: the greeting (RFC 1939 section 4,
 * the APOP timestamp of section 7), CAPA (RFC 2449 section 5), STLS (RFC 2595 section
 * 4), commands in the wrong state and malformed ones (RFC 1939 section 3), QUIT in
 * AUTHORIZATION (section 4), and logging in (USER/PASS, APOP) on the raw session.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pop3/digest.h"
#include "pop3/error.h"
#include "pop3/parse.h"
#include "probe_checks.h"

void probe_cmd(probe_conn *c, const char *line, probe_reply *r, bool multi)
{
    if (probe_send(c, line) != POP3_OK) {
        memset(r, 0, sizeof *r);
        r->status = c->status;
        return;
    }
    probe_read_reply(c, r, multi, c->cfg->timeout_ms);
}

/* "+ERR" and other status lines that are neither "+OK" nor "-ERR" (Q40, RFC1939-3.1). */
void check_status_form(probe_state *st, const probe_reply *r, const char *what)
{
    if (r->status != POP3_OK || r->ok || r->err) return;
    const probe_line *s = &r->status_line;
    if (r->plus_err) {
        if (!st->seen_plus_err)
            finding(st->f, F_DEV, "RFC1939-3.1", "plus-err Q40",
                    "%s: an error reply spelled \"+ERR\": clients that test only the \"+\" "
                    "take it for success",
                    what);
        st->seen_plus_err = true;
    } else {
        finding(st->f, F_DEV, "RFC1939-3.1", NULL,
                "%s: the reply \"%.60s\" starts with neither +OK nor -ERR", what, s->p);
    }
}

void check_line_forms(probe_state *st, const probe_reply *r, const char *what)
{
    if (r->status_line.has_nul && !st->seen_nul) {
        st->seen_nul = true;
        finding(st->f, F_DEV, "RFC2449-8.1", "nul-bytes Q48",
                "%s: the status line holds a NUL octet (CHAR excludes it; curl rejects it)", what);
    }
    if (r->bare_lf && !st->seen_bare_lf) {
        st->seen_bare_lf = true;
        finding(st->f, F_DEV, "RFC1939-3", "bare-lf Q6", "%s: lines end with a bare LF, not CRLF",
                what);
    }
    /* The codec found no response code where the text opens with "[". */
    if (r->err && r->st.code == POP3_CODE_NONE && r->st.text.len > 0 && r->st.text.ptr[0] == '[')
        finding(st->f, F_DEV, "RFC2449-8.1", NULL,
                "%s: \"%.40s\" starts with \"[\" but is no well-formed response code", what,
                r->status_line.p);
    check_status_form(st, r, what);
}

/* CAPA into `caps`, parsed by the codec (pop3_capa_add: tag and parameters, RFC 2449
 * section 5); lines it refuses (blank ones) are not capabilities and are left out. */
bool probe_capa(probe_state *st, probe_conn *c, pop3_capa_set *caps, const char *when)
{
    probe_reply r;
    probe_cmd(c, "CAPA", &r, true);
    check_line_forms(st, &r, "CAPA");
    bool ok = r.ok && r.terminated;
    if (r.ok && !r.terminated) {
        finding(st->f, F_DEV, "RFC2449-5.5", NULL, "CAPA %s: the list did not end with \".\"",
                when);
    } else if (!r.ok && r.status == POP3_OK) {
        if (!st->seen_capa_err)
            finding(st->f, F_DEV, "RFC2449-5.4", "capa-err Q30",
                    "CAPA %s is refused: clients cannot learn what this server supports", when);
        st->seen_capa_err = true;
    }
    for (size_t i = 0; ok && i < r.nlines; i++) {
        const probe_line *l = &r.lines[i];
        /* A line beginning with "." arrives stuffed; the capability is the rest. */
        const char *p = l->n > 1 && l->p[0] == '.' ? l->p + 1 : l->p;
        (void)pop3_capa_add(caps, p, l->n - (size_t)(p - l->p));
        if (l->n + 2 > 512)
            finding(st->f, F_DEV, "RFC2449-5.5", NULL,
                    "CAPA %s: a capability line of %zu octets (512 at most)", when, l->n + 2);
    }
    probe_reply_free(&r);
    return ok;
}

/* The greeting: banner lines before it (Q35), its form, the APOP timestamp. */
bool check_greeting(probe_state *st, probe_conn *c, bool report)
{
    unsigned reads_before = c->reads;
    probe_reply r;
    int banners = 0;
    for (;;) {
        probe_read_reply(c, &r, false, c->cfg->timeout_ms);
        if (r.status != POP3_OK || r.ok || r.err || r.status_line.n == 0 ||
            (r.status_line.p[0] == '+' && r.status_line.n >= 3) || banners >= 16)
            break;
        banners++;
        probe_reply_free(&r);
    }
    if (r.status != POP3_OK) {
        finding(st->f, F_DEV, "RFC1939-4.1", NULL, "no greeting: %s (%s)", pop3_strerror(r.status),
                c->error);
        probe_reply_free(&r);
        return false;
    }
    free(st->greeting);
    st->greeting = xstrndup(r.status_line.p, r.status_line.n);
    if (!report) {
        bool ok = r.ok;
        probe_reply_free(&r);
        return ok;
    }
    if (banners > 0)
        finding(st->f, F_DEV, "RFC1939-4.1", "banner Q35",
                "%d line(s) before the greeting (curl skips them, poplib fails)", banners);
    check_line_forms(st, &r, "greeting");
    if (r.ok)
        finding(st->f, F_PASS, "RFC1939-4.1", NULL, "greeting: %.200s", st->greeting);
    else if (r.err)
        finding(st->f, F_DEV, "RFC1939-4.1", NULL, "the greeting is -ERR: %.200s", st->greeting);
    if (r.status_line.n + 2 > 512)
        finding(st->f, F_DEV, "RFC1939-3.3", NULL, "the greeting is %zu octets (512 at most)",
                r.status_line.n + 2);
    /* slow-drip: a greeting that came in many reads, one or a few octets each. */
    unsigned reads = c->reads - reads_before;
    if (r.status_line.n >= 20 && reads * 2 >= r.status_line.n)
        finding(st->f, F_NOTE, "RFC2449-6.6b", "slow-drip",
                "the greeting came in %u reads for %zu octets: the server writes a few octets "
                "at a time",
                reads, r.status_line.n + 2);
    pop3_view ts;
    const char *lt = memchr(r.status_line.p, '<', r.status_line.n);
    if (pop3_apop_timestamp(r.status_line.p, r.status_line.n, &ts)) {
        st->apop_ts = xstrndup(ts.ptr, ts.len);
        finding(st->f, F_PASS, "RFC1939-7.7", NULL, "APOP offered: timestamp %.*s", (int)ts.len,
                ts.ptr);
    } else if (lt != NULL) {
        finding(st->f, F_DEV, "RFC1939-7.8", "bogus-apop-timestamp Q33",
                "the greeting has \"<...>\" that is not a msg-id: clients must not use it for "
                "APOP (CVE-2007-1558)");
    } else {
        finding(st->f, F_NOTE, "RFC1939-7.8", "no-apop",
                "no APOP timestamp in the greeting: APOP is not offered");
    }
    bool ok = r.ok;
    probe_reply_free(&r);
    return ok;
}

/* USER/PASS on the raw session; APOP when that is all there is. */
bool probe_login(probe_state *st, probe_conn *c)
{
    const probe_config *cfg = c->cfg;
    probe_reply r;
    char line[600];
    if (st->caps_known && pop3_capa_find(&st->caps, "USER") == NULL && st->apop_ts != NULL) {
        char hex[POP3_MD5_HEX_SIZE];
        pop3_apop_digest(st->apop_ts, strlen(st->apop_ts), cfg->password, strlen(cfg->password),
                         hex);
        snprintf(line, sizeof line, "APOP %s %s", cfg->user, hex);
        probe_cmd(c, line, &r, false);
        bool ok = r.ok;
        probe_reply_free(&r);
        return ok;
    }
    snprintf(line, sizeof line, "USER %s", cfg->user);
    probe_cmd(c, line, &r, false);
    check_line_forms(st, &r, "USER");
    bool ok = r.ok;
    probe_reply_free(&r);
    if (!ok) return false;
    snprintf(line, sizeof line, "PASS %s", cfg->password);
    probe_cmd(c, line, &r, false);
    check_line_forms(st, &r, "PASS");
    ok = r.ok;
    if (!ok && r.status == POP3_OK)
        snprintf(st->login_error, sizeof st->login_error, "%.200s", r.status_line.p);
    probe_reply_free(&r);
    return ok;
}

/* Open a session: connect, greeting, STLS if asked. */
bool probe_open(probe_state *st, probe_conn *c, bool report)
{
    char err[512];
    if (probe_conn_open(c, st->cfg, err, sizeof err) != POP3_OK) {
        snprintf(st->login_error, sizeof st->login_error, "connect: %.280s", err);
        return false;
    }
    if (!check_greeting(st, c, report)) return false;
    if (!st->cfg->starttls) return true;
    probe_reply r;
    probe_cmd(c, "STLS", &r, false);
    bool ok = r.ok;
    probe_reply_free(&r);
    if (!ok) {
        snprintf(st->login_error, sizeof st->login_error, "STLS refused");
        return false;
    }
    if (probe_unsolicited(c, 0) > 0) {
        finding(st->f, F_DEV, "RFC2595-4.8", "Q41",
                "octets followed the STLS +OK before the handshake");
        return false;
    }
    if (probe_starttls(c) != POP3_OK) {
        snprintf(st->login_error, sizeof st->login_error, "TLS handshake: %.250s", c->error);
        return false;
    }
    return true;
}

/* Commands before login that must be refused, and QUIT in AUTHORIZATION. */
void check_authorization_state(probe_state *st)
{
    probe_conn c;
    if (!probe_open(st, &c, false)) {
        probe_conn_close(&c);
        return;
    }
    /* Good commands between the bad ones: Dovecot hangs up after three bad ones in a row. */
    static const struct {
        const char *cmd, *id, *why;
        bool must_fail;
    } seq[] = {
        {"STAT", "RFC1939-3.6", "STAT before login", true},
        {"CAPA", NULL, NULL, false},
        {"XYZY", "RFC1939-3.5", "an unknown command", true},
        {"capa", "RFC1939-3.2", "a command in lower case", false},
        {"PASS nothing", "RFC1939-3.6", "PASS without USER", true},
        {"CAPA", NULL, NULL, false},
        {"RETR 1", "RFC1939-3.6", "RETR before login", true},
    };
    bool capa_ok = false; /* the last upper-case CAPA of the sequence was answered +OK */
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        probe_reply r;
        bool multi = strcasecmp(seq[i].cmd, "CAPA") == 0;
        probe_cmd(&c, seq[i].cmd, &r, multi);
        check_line_forms(st, &r, seq[i].cmd);
        if (r.status != POP3_OK) {
            finding(st->f, F_DEV, seq[i].id != NULL ? seq[i].id : "RFC1939-3.5", NULL,
                    "%s: no reply (%s)", seq[i].cmd, pop3_strerror(r.status));
            probe_reply_free(&r);
            break;
        }
        if (seq[i].id != NULL && seq[i].must_fail) {
            bool refused = r.err || r.plus_err;
            finding(st->f, refused ? F_PASS : F_DEV, seq[i].id, NULL, "%s is %s", seq[i].why,
                    refused ? "refused" : "accepted");
        } else if (seq[i].id != NULL && !capa_ok) {
            /* A server without CAPA (popa3d) refuses "capa" as it refuses "CAPA": that says
             * nothing about case, so it is a note, not a deviation. */
            finding(st->f, F_NOTE, seq[i].id, NULL,
                    "%s not checked: the server refuses CAPA in upper case too", seq[i].why);
        } else if (seq[i].id != NULL) {
            /* Lower-case keyword (RFC 1939 section 3: case-insensitive). */
            finding(st->f, r.ok ? F_PASS : F_DEV, seq[i].id, NULL, "%s is %s", seq[i].why,
                    r.ok ? "accepted" : "refused");
        }
        if (multi && seq[i].id == NULL) capa_ok = r.ok;
        probe_reply_free(&r);
    }
    probe_reply r;
    probe_cmd(&c, "QUIT", &r, false);
    finding(st->f, r.ok ? F_PASS : F_DEV, "RFC1939-4.4", NULL, "QUIT before login: %s",
            r.ok                  ? "+OK"
            : r.status == POP3_OK ? "not +OK"
                                  : pop3_strerror(r.status));
    probe_reply_free(&r);
    probe_conn_close(&c);
}

/* A wrong password: refused, with [AUTH] when AUTH-RESP-CODE is announced (RFC 3206). */
void check_bad_password(probe_state *st)
{
    probe_conn c;
    if (!probe_open(st, &c, false) || pop3_capa_find(&st->caps, "USER") == NULL) {
        probe_conn_close(&c);
        return;
    }
    char line[600];
    probe_reply r;
    snprintf(line, sizeof line, "USER %s", st->cfg->user);
    probe_cmd(&c, line, &r, false);
    probe_reply_free(&r);
    probe_cmd(&c, "PASS pop3-conform-wrong-password", &r, false);
    if (r.ok) {
        finding(st->f, F_DEV, "RFC1939-7.6", NULL, "a wrong password was accepted");
    } else if (r.status == POP3_OK) {
        bool auth = r.st.code == POP3_CODE_AUTH;
        if (pop3_capa_find(&st->caps, "AUTH-RESP-CODE") != NULL)
            finding(st->f, auth ? F_PASS : F_DEV, "RFC3206-6", NULL,
                    "AUTH-RESP-CODE announced; a wrong password gets %s",
                    auth ? "[AUTH]" : "no [AUTH]");
        else
            finding(st->f, F_PASS, "RFC1939-7.6", NULL, "a wrong password is refused");
    } else {
        /* Courier answers a wrong password only after 5 s: with a --timeout that short the
         * check would vanish from the report instead of saying it was not made. */
        finding(st->f, F_NOTE, "RFC1939-7.6", NULL,
                "a wrong password was not answered within --timeout (%s)", pop3_strerror(r.status));
    }
    probe_reply_free(&r);
    probe_cmd(&c, "QUIT", &r, false);
    probe_reply_free(&r);
    probe_conn_close(&c);
}

/* APOP on its own connection, when the greeting offers it. */
void check_apop(probe_state *st)
{
    if (st->apop_ts == NULL) return;
    probe_conn c;
    if (!probe_open(st, &c, false)) {
        probe_conn_close(&c);
        return;
    }
    pop3_view ts;
    char line[600], hex[POP3_MD5_HEX_SIZE];
    if (!pop3_apop_timestamp(st->greeting, strlen(st->greeting), &ts)) {
        probe_conn_close(&c);
        return;
    }
    if (strncmp(ts.ptr, st->apop_ts, ts.len) == 0 && st->greetings > 0)
        finding(st->f, F_DEV, "RFC1939-7.7", NULL,
                "two greetings carried the same APOP timestamp (it must differ every time)");
    pop3_apop_digest(ts.ptr, ts.len, st->cfg->password, strlen(st->cfg->password), hex);
    snprintf(line, sizeof line, "APOP %s %s", st->cfg->user, hex);
    probe_reply r;
    probe_cmd(&c, line, &r, false);
    if (r.ok)
        finding(st->f, F_PASS, "RFC1939-7.7", NULL, "APOP works");
    else if (r.status == POP3_OK)
        finding(st->f, F_NOTE, "RFC1939-7.7", "apop-refused Q34",
                "APOP is refused although the greeting offers it: %.100s", r.status_line.p);
    probe_reply_free(&r);
    probe_cmd(&c, "QUIT", &r, false);
    probe_reply_free(&r);
    probe_conn_close(&c);
}

/* Some servers hang up after a few bad commands in a row before login (Dovecot: three).
 * Allowed (RFC 1939 section 3 lets a server close after -ERR); clients that probe with
 * unknown commands must know. */
void check_bad_command_limit(probe_state *st)
{
    probe_conn c;
    if (!probe_open(st, &c, false)) {
        probe_conn_close(&c);
        return;
    }
    unsigned answered = 0;
    for (unsigned i = 0; i < 6; i++) {
        probe_reply r;
        probe_cmd(&c, "XYZY", &r, false);
        bool got = r.status == POP3_OK;
        probe_reply_free(&r);
        if (!got) break;
        answered++;
        if (probe_unsolicited(&c, 0) == 0 && c.status != POP3_OK) break;
    }
    /* Did the server close after the last answer? */
    bool closed = c.status != POP3_OK;
    if (!closed) {
        probe_reply r;
        probe_cmd(&c, "NOOP", &r, false);
        closed = r.status != POP3_OK;
        probe_reply_free(&r);
    }
    if (closed && answered < 6)
        finding(st->f, F_NOTE, "RFC1939-3.5", "max-bad-commands",
                "the server hangs up after %u unknown commands in a row before login", answered);
    else
        finding(st->f, F_PASS, "RFC1939-3.5", NULL,
                "six unknown commands in a row are each refused and the session goes on");
    probe_reply q;
    probe_cmd(&c, "QUIT", &q, false);
    probe_reply_free(&q);
    probe_conn_close(&c);
}
