/*
 * test_mock_quirks.c - every quirk of pop3mock/quirks.h and every preset, one test each.
 *
 * Quirk numbers (Qn) refer to the quirk catalogue, conformance/QUIRKS.md.
 */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_support.h"
#include "options.h"
#include "pop3mock/quirks.h"

#define LOGIN "USER u\r\nPASS p\r\n"

static pop3mock_maildrop md;

static void setup(void)
{
    mock_maildrop(&md);
}

static void teardown(void)
{
    pop3mock_maildrop_free(&md);
}

TestSuite(mock_quirks, .init = setup, .fini = teardown);

/* The output of `in` under one quirk. */
static char *with(const char *quirk, const char *in, size_t *len)
{
    const char *q[] = {quirk, NULL};
    pop3mock_session *s = mock_session(&md, q);
    char *out = mock_run(s, in, len);
    pop3mock_session_free(s);
    return out;
}

#define HAS(out, text)   cr_expect(strstr(out, text) != NULL, "want %s in:\n%s", #text, out)
#define LACKS(out, text) cr_expect(strstr(out, text) == NULL, "unwanted %s in:\n%s", #text, out)

Test(mock_quirks, every_quirk_has_a_name_and_help)
{
    unsigned n = 0;
    for (unsigned id = 0; pop3mock_quirk_name(id) != NULL; id++, n++)
        cr_expect(pop3mock_quirk_help(id) != NULL && pop3mock_quirk_help(id)[0] != '\0');
    cr_expect_eq(n, POP3MOCK_QUIRK_COUNT);
    pop3mock_quirks q;
    pop3mock_quirks_default(&q);
    const char *why = NULL;
    cr_expect_eq(pop3mock_quirk_enable(&q, "no-such-quirk", &why), -1);
    cr_expect_str_eq(why, "unknown quirk (pop3-mock --help lists them)");
    cr_expect_eq(pop3mock_quirk_enable(&q, "bare-lf=3", &why), -1);
    cr_expect_str_eq(why, "this quirk takes no argument");
    cr_expect_eq(pop3mock_quirk_enable(&q, "slow-drip=0:1", &why), -1);
    cr_expect_eq(pop3mock_quirk_enable(&q, "slow-drip=4:2", &why), 0);
    cr_expect(q.drip_bytes == 4 && q.drip_ms == 2);
    cr_expect_eq(pop3mock_quirk_enable(&q, "top-ignores-lines=x", &why), -1);
    cr_expect_eq(pop3mock_quirk_enable(&q, "max-bad-commands=0", &why), -1);
    cr_expect_str_eq(why, "max-bad-commands=N wants a count of 1 or more");
    cr_expect_eq(pop3mock_quirk_enable(&q, "max-bad-commands=5", &why), 0);
    cr_expect_eq(q.max_bad, 5);
    cr_expect_eq(pop3mock_preset_apply(&q, "nope", &why), -1);
}

Test(mock_quirks, bare_lf)
{
    char *out = with("bare-lf", LOGIN "RETR 1\r\nRETR 2\r\nQUIT\r\n", NULL);
    LACKS(out, "\r");
    HAS(out, "+OK 60 octets\nFrom: a@example\nSubject: one\n\nline 1\n..dot line\nline 3\n.\n");
    HAS(out, "Subject: two\n\nbody without final newline\n.\n");
    free(out);
}

Test(mock_quirks, no_dot_stuffing)
{
    char *out = with("no-dot-stuffing", LOGIN "RETR 1\r\nQUIT\r\n", NULL);
    HAS(out, "\r\nline 1\r\n.dot line\r\nline 3\r\n.\r\n");
    free(out);
}

Test(mock_quirks, dot_no_crlf)
{
    /* Q1: only a message without a final newline is affected. */
    char *out = with("dot-no-crlf", LOGIN "RETR 2\r\nRETR 1\r\nQUIT\r\n", NULL);
    HAS(out, "body without final newline.\r\n+OK 60 octets");
    HAS(out, "line 3\r\n.\r\n");
    free(out);
}

Test(mock_quirks, dot_cr)
{
    size_t len;
    char *out = with("dot-cr", LOGIN "RETR 1\r\nQUIT\r\n", &len);
    const char *end = "line 3\r\n.\r";
    cr_expect(len >= strlen(end) && memcmp(out + len - strlen(end), end, strlen(end)) == 0,
              "ends with .\\r and nothing after: %s", out);
    free(out);
}

Test(mock_quirks, top_ignores_lines)
{
    char *out = with("top-ignores-lines=1", LOGIN "TOP 1 0\r\nQUIT\r\n", NULL);
    HAS(out,
        "+OK top of message follows\r\nFrom: a@example\r\nSubject: one\r\n\r\nline 1\r\n.\r\n");
    free(out);
    out = with("top-ignores-lines", LOGIN "TOP 1 0\r\nQUIT\r\n", NULL);
    HAS(out, "line 3\r\n.\r\n"); /* 10 lines: the whole short message */
    free(out);
}

Test(mock_quirks, top_twice)
{
    char *out = with("top-twice", LOGIN "TOP 1 0\r\nQUIT\r\n", NULL);
    HAS(out, "+OK top of message follows\r\n+OK top of message follows\r\nFrom: a@example");
    free(out);
}

Test(mock_quirks, deletes_on_disconnect)
{
    char *out = with("deletes-on-disconnect", LOGIN "DELE 2\r\n", NULL);
    free(out);
    cr_expect(md.msgs[1].removed, "Q21: removed without QUIT");
    cr_expect(!md.msgs[0].removed);
}

Test(mock_quirks, sizes_lf)
{
    char *out = with("sizes-lf", LOGIN "STAT\r\nLIST\r\nRETR 1\r\nQUIT\r\n", NULL);
    /* Message 2 has no final newline: the CRLF added before "." is one more line end. */
    HAS(out, "+OK 2 111\r\n");
    HAS(out, "1 54\r\n2 57\r\n.\r\n");
    HAS(out, "+OK 54 octets\r\n");
    free(out);
}

Test(mock_quirks, lying_sizes)
{
    char *out = with("lying-sizes", LOGIN "STAT\r\nLIST 1\r\nRETR 2\r\nQUIT\r\n", NULL);
    HAS(out, "+OK 2 61\r\n");
    HAS(out, "+OK 1 30\r\n");
    HAS(out, "+OK 31 octets\r\nFrom: b@example");
    free(out);
}

Test(mock_quirks, capa_after_login)
{
    char *out = with("capa-after-login", "CAPA\r\n" LOGIN "CAPA\r\nQUIT\r\n", NULL);
    char *second = strstr(out, "maildrop has");
    cr_assert(second != NULL);
    *second = '\0';
    LACKS(out, "TOP\r\n");
    LACKS(out, "PIPELINING\r\n");
    HAS(second + 1, "TOP\r\nUIDL\r\n");
    HAS(second + 1, "PIPELINING\r\n");
    free(out);
}

Test(mock_quirks, capa_err)
{
    char *out = with("capa-err", "CAPA\r\nQUIT\r\n", NULL);
    HAS(out, MOCK_TS "\r\n-ERR unknown command\r\n+OK");
    free(out);
}

Test(mock_quirks, banner)
{
    char *out = with("banner", "QUIT\r\n", NULL);
    cr_expect(strncmp(out, "   ___", 6) == 0, "%s", out);
    HAS(out, "banner before the greeting\r\n+OK POP3 server ready");
    free(out);
}

Test(mock_quirks, plus_err)
{
    char *out = with("plus-err", "STAT\r\nQUIT\r\n", NULL);
    HAS(out, "+ERR STAT is not valid");
    LACKS(out, "-ERR");
    free(out);
}

Test(mock_quirks, bogus_apop_timestamp)
{
    char *out =
        with("bogus-apop-timestamp", "APOP u 0123456789abcdef0123456789abcdef\r\nQUIT\r\n", NULL);
    cr_expect(strncmp(out, "+OK POP3 server ready <a.b.c>\r\n", 31) == 0, "%s", out);
    HAS(out, "-ERR APOP is not available\r\n");
    free(out);
}

Test(mock_quirks, apop_refused)
{
    char *out = with("apop-refused", "APOP u 0123456789abcdef0123456789abcdef\r\nQUIT\r\n", NULL);
    HAS(out, MOCK_TS);
    HAS(out, "-ERR APOP is not available\r\n");
    free(out);
}

Test(mock_quirks, long_uids)
{
    char *out = with("long-uids", LOGIN "UIDL 1\r\nQUIT\r\n", NULL);
    const char *uid = strstr(out, "+OK 1 ");
    cr_assert(uid != NULL, "%s", out);
    uid += 6;
    cr_expect_eq(strcspn(uid, "\r"), 80);
    free(out);
}

Test(mock_quirks, spaced_uids)
{
    char *out = with("spaced-uids", LOGIN "UIDL\r\nUIDL 1\r\nQUIT\r\n", NULL);
    HAS(out, "\r\n1  1000.M 1.host\r\n");
    HAS(out, "+OK 1  1000.M 1.host\r\n");
    free(out);
}

Test(mock_quirks, msgno_zero)
{
    char *out = with("msgno-zero", LOGIN "LIST\r\nUIDL\r\nQUIT\r\n", NULL);
    HAS(out, "(121 octets)\r\n0 0\r\n1 60\r\n");
    HAS(out, "follows\r\n0 msgno-zero\r\n1 1000.M1.host\r\n");
    free(out);
}

Test(mock_quirks, extra_blank_line)
{
    char *out = with("extra-blank-line", LOGIN "RETR 1\r\nRETR 2\r\nQUIT\r\n", NULL);
    HAS(out, "line 3\r\n\r\n.\r\n");
    HAS(out, "final newline\r\n\r\n.\r\n");
    free(out);
}

Test(mock_quirks, nul_bytes)
{
    size_t len;
    char *out = with("nul-bytes", "USER u\r\nQUIT\r\n", &len);
    static const char want[] = "+OK send PASS\0\r\n";
    cr_expect(memmem(out, len, want, sizeof want - 1) != NULL);
    free(out);
}

Test(mock_quirks, slow_drip)
{
    const char *q[] = {"slow-drip=3:7", NULL};
    pop3mock_session *s = mock_session(&md, q);
    pop3mock_action a;
    size_t sends = 0, waits = 0;
    for (;;) {
        pop3mock_session_next(s, &a);
        if (a.kind == POP3MOCK_ACT_SEND) {
            cr_expect_leq(a.data.len, 3);
            sends++;
        } else if (a.kind == POP3MOCK_ACT_WAIT) {
            cr_expect_eq(a.ms, 7);
            waits++;
        } else {
            break;
        }
        pop3mock_session_ack(s, &a, a.data.len);
    }
    cr_expect_eq(sends, (strlen("+OK POP3 server ready " MOCK_TS "\r\n") + 2) / 3);
    cr_expect_eq(waits, sends);
    pop3mock_session_free(s);
}

Test(mock_quirks, capa_lists_capa)
{
    char *out = with("capa-lists-capa", "CAPA\r\nQUIT\r\n", NULL);
    HAS(out, "follows\r\nCAPA\r\nUSER\r\n");
    free(out);
}

Test(mock_quirks, no_apop)
{
    char *out = with("no-apop", "QUIT\r\n", NULL);
    cr_expect(strncmp(out, "+OK POP3 server ready\r\n", 23) == 0, "%s", out);
    free(out);
}

Test(mock_quirks, max_bad_commands)
{
    /* Two bad commands, a good one (the count starts again), then three in a row: the
     * third is answered, then "Too many invalid bad commands." and the close; what the
     * client pipelined after it is never answered. */
    char *out = with("max-bad-commands",
                     "XYZY\r\nSTAT\r\nCAPA\r\nFOO\r\nRETR 1\r\nBAR\r\n"
                     "QUIT\r\n",
                     NULL);
    cr_expect(strstr(out, "-ERR unknown command\r\n-ERR STAT is not valid in the "
                          "AUTHORIZATION state\r\n+OK Capability list follows") != NULL,
              "%s", out);
    cr_expect(strstr(out, ".\r\n-ERR unknown command\r\n-ERR RETR is not valid in the "
                          "AUTHORIZATION state\r\n-ERR unknown command\r\n"
                          "-ERR Too many invalid bad commands.\r\n") != NULL,
              "%s", out);
    const char *last = "Too many invalid bad commands.\r\n";
    cr_expect(strstr(out, last) + strlen(last) == out + strlen(out),
              "nothing after the last line: %s", out);
    LACKS(out, "signing off");
    free(out);
    /* =N, and only before login: Dovecot's pop3-login counts, not its pop3 process. */
    out = with("max-bad-commands=1", LOGIN "FOO\r\nBAR\r\nQUIT\r\n", NULL);
    HAS(out, "-ERR unknown command\r\n-ERR unknown command\r\n+OK pop3kit-mock");
    free(out);
    out = with("max-bad-commands=1", "FOO\r\nQUIT\r\n", NULL);
    HAS(out, "-ERR unknown command\r\n-ERR Too many invalid bad commands.\r\n");
    LACKS(out, "signing off");
    free(out);
}

/* A session with a certificate configured (STLS offered), under the given quirk. */
static pop3mock_session *tls_session(const char *quirk)
{
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    opt.tls_available = true;
    const char *why;
    if (quirk != NULL) cr_assert_eq(pop3mock_quirk_enable(&opt.quirks, quirk, &why), 0);
    return pop3mock_maildrop_session_new(&md, &opt, MOCK_TS);
}

/* Feed `in` and collect the output up to the next action that is not a SEND. */
static char *until_action(pop3mock_session *s, const char *in, pop3mock_action *a)
{
    if (in != NULL) pop3mock_session_feed(s, in, strlen(in));
    char *out = calloc(1, 65536);
    size_t n = 0;
    for (;;) {
        pop3mock_session_next(s, a);
        if (a->kind != POP3MOCK_ACT_SEND) break;
        memcpy(out + n, a->data.ptr, a->data.len);
        n += a->data.len;
        pop3mock_session_ack(s, a, a->data.len);
    }
    return out;
}

Test(mock_quirks, plaintext_needs_tls)
{
    /* Before TLS: no USER, SASL without PLAIN and LOGIN; USER, PASS, AUTH PLAIN and
     * AUTH LOGIN refused with [AUTH]; CRAM-MD5 and APOP still allowed. */
    pop3mock_session *s = tls_session("plaintext-needs-tls");
    pop3mock_action a;
    char *out = until_action(s,
                             "CAPA\r\nUSER u\r\nPASS p\r\nAUTH PLAIN AHUAcA==\r\n"
                             "AUTH LOGIN\r\nAUTH CRAM-MD5\r\n*\r\nSTLS\r\n",
                             &a);
    const char *refused = "-ERR [AUTH] Plaintext authentication disallowed on non-secure "
                          "(SSL/TLS) connections.\r\n";
    LACKS(out, "USER\r\n");
    HAS(out, "UTF8\r\nSASL CRAM-MD5\r\nSTLS\r\n");
    char want[1024];
    snprintf(want, sizeof want, ".\r\n%s%s%s%s+ ", refused, refused, refused, refused);
    HAS(out, want);
    HAS(out, "-ERR authentication cancelled\r\n+OK Begin TLS negotiation\r\n");
    free(out);
    cr_assert_eq(a.kind, POP3MOCK_ACT_START_TLS);
    pop3mock_session_ack(s, &a, 0);
    /* Under TLS all is as usual. */
    out = mock_run(s, "CAPA\r\n" LOGIN "QUIT\r\n", NULL);
    HAS(out, "follows\r\nUSER\r\n");
    HAS(out, "SASL PLAIN\r\n");
    HAS(out, "+OK u's maildrop has 2 messages");
    free(out);
    pop3mock_session_free(s);
    /* Without a certificate there is no TLS to wait for: nothing is hidden. */
    out = with("plaintext-needs-tls", "CAPA\r\n" LOGIN "QUIT\r\n", NULL);
    HAS(out, "follows\r\nUSER\r\n");
    HAS(out, "+OK u's maildrop has 2 messages");
    free(out);
}

static char *preset(const char *name, const char *in)
{
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    const char *why;
    cr_assert_eq(pop3mock_preset_apply(&opt.quirks, name, &why), 0);
    pop3mock_session *s = pop3mock_maildrop_session_new(&md, &opt, MOCK_TS);
    char *out = mock_run(s, in, NULL);
    pop3mock_session_free(s);
    return out;
}

Test(mock_quirks, preset_dovecot)
{
    char *out = preset("dovecot", "CAPA\r\nQUIT\r\n");
    cr_expect(strncmp(out, "+OK Dovecot ready. " MOCK_TS "\r\n", 19) == 0, "%s", out);
    HAS(out, "follows\r\nCAPA\r\n");
    HAS(out, "IMPLEMENTATION Dovecot\r\n");
    free(out);
    /* pop3-login's three bad commands; a line that is no command at all counts too. */
    out = preset("dovecot", "A\r\nBBB\r\nC\r\nQUIT\r\n");
    HAS(out, "-ERR bad command keyword (3 or 4 printable ASCII characters)\r\n"
             "-ERR unknown command\r\n"
             "-ERR bad command keyword (3 or 4 printable ASCII characters)\r\n"
             "-ERR Too many invalid bad commands.\r\n");
    LACKS(out, "Logging out");
    LACKS(out, "signing off");
    free(out);
    /* disable_plaintext_auth: with a certificate, USER is hidden until TLS. */
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    const char *why;
    cr_assert_eq(pop3mock_preset_apply(&opt.quirks, "dovecot", &why), 0);
    opt.tls_available = true;
    pop3mock_session *s = pop3mock_maildrop_session_new(&md, &opt, MOCK_TS);
    pop3mock_action a;
    out = until_action(s, "CAPA\r\nSTLS\r\n", &a);
    HAS(out, "follows\r\nCAPA\r\nTOP\r\n");
    LACKS(out, "USER");
    free(out);
    cr_assert_eq(a.kind, POP3MOCK_ACT_START_TLS);
    pop3mock_session_ack(s, &a, 0);
    out = mock_run(s, "CAPA\r\nQUIT\r\n", NULL);
    HAS(out, "follows\r\nCAPA\r\nUSER\r\n");
    free(out);
    pop3mock_session_free(s);
}

Test(mock_quirks, preset_qmail)
{
    char *out = preset("qmail", "CAPA\r\n" LOGIN "LIST 1\r\nRETR 1\r\nQUIT\r\n");
    cr_expect(strncmp(out, "+OK " MOCK_TS "\r\n", 4 + strlen(MOCK_TS) + 2) == 0, "%s", out);
    HAS(out, "-ERR unknown command\r\n");
    HAS(out, "+OK 1 54\r\n");
    HAS(out, "line 3\r\n\r\n.\r\n");
    free(out);
}

Test(mock_quirks, preset_exchange)
{
    char *out = preset("exchange", LOGIN "LIST 1\r\nRETR 2\r\nQUIT\r\n");
    cr_expect(strstr(out, "<") == NULL, "no APOP timestamp: %s", out);
    HAS(out, "Microsoft Exchange");
    HAS(out, "+OK 1 30\r\n");
    HAS(out, "final newline.\r\n");
    free(out);
}

Test(mock_quirks, empty_blank_line)
{
    /* Q51: only an empty message gets the empty line; its size stays 0. */
    pop3mock_maildrop_add(&md, "1002.M3.host", "", 0);
    char *out = with("empty-blank-line", LOGIN "LIST 3\r\nRETR 3\r\nRETR 1\r\nQUIT\r\n", NULL);
    HAS(out, "+OK 3 0\r\n+OK 0 octets\r\n\r\n.\r\n+OK 60 octets\r\n");
    HAS(out, "line 3\r\n.\r\n+OK");
    free(out);
    out = with(NULL, LOGIN "RETR 3\r\nQUIT\r\n", NULL);
    HAS(out, "+OK 0 octets\r\n.\r\n");
    free(out);
}

Test(mock_quirks, unterminated_size)
{
    /* Q52: message 2 has no final line end; it is sent with CRLF before "." but sized
     * without it. Message 1 (ends in a line end) is sized as usual. */
    char *out = with("unterminated-size", LOGIN "LIST 1\r\nLIST 2\r\nRETR 2\r\nQUIT\r\n", NULL);
    HAS(out, "+OK 1 60\r\n+OK 2 59\r\n+OK 59 octets\r\n");
    HAS(out, "body without final newline\r\n.\r\n");
    free(out);
    out = with(NULL, LOGIN "LIST 2\r\nQUIT\r\n", NULL);
    HAS(out, "+OK 2 61\r\n");
    free(out);
}

Test(mock_quirks, capa_drops_auth)
{
    /* Q53: USER and SASL before login, neither after. */
    char *out = with("capa-drops-auth", "CAPA\r\n" LOGIN "CAPA\r\nQUIT\r\n", NULL);
    const char *after = strstr(out, "maildrop has");
    cr_assert(after != NULL, "%s", out);
    cr_expect(strstr(out, "USER\r\n") < after && strstr(out, "SASL ") < after, "%s", out);
    cr_expect(strstr(after, "USER\r\n") == NULL && strstr(after, "SASL") == NULL, "%s", out);
    HAS(after, "TOP\r\nUIDL\r\n");
    free(out);
}

/* Log `s` in and leave it in TRANSACTION (no EOF, unlike mock_run). */
static void logged_in(pop3mock_session *s)
{
    pop3mock_action act;
    pop3mock_session_feed(s, LOGIN, strlen(LOGIN));
    do {
        pop3mock_session_next(s, &act);
        pop3mock_session_ack(s, &act, act.data.len);
    } while (act.kind != POP3MOCK_ACT_IDLE);
}

Test(mock_quirks, no_lock)
{
    /* Q54: a second session of the user logs in while the first is in TRANSACTION. */
    const char *q[] = {"no-lock", NULL};
    pop3mock_session *s1 = mock_session(&md, q);
    logged_in(s1);
    cr_expect(!md.locked);
    char *out = with("no-lock", LOGIN "QUIT\r\n", NULL);
    HAS(out, "+OK u's maildrop has 2 messages");
    LACKS(out, "IN-USE");
    free(out);
    pop3mock_session_free(s1);
    /* Without it the second session gets [IN-USE]. */
    s1 = mock_session(&md, NULL);
    logged_in(s1);
    cr_expect(md.locked);
    out = with(NULL, LOGIN "QUIT\r\n", NULL);
    HAS(out, "-ERR [IN-USE]");
    free(out);
    pop3mock_session_free(s1);
}

Test(mock_quirks, preset_dovecot_as_found)
{
    /* What the probe found in Dovecot 2.3.19 beside the above (tests/preset_probe.py). */
    pop3mock_quirks q;
    pop3mock_quirks_default(&q);
    const char *why;
    cr_assert_eq(pop3mock_preset_apply(&q, "dovecot", &why), 0);
    uint64_t want = POP3MOCK_QUIRK(EMPTY_BLANK_LINE) | POP3MOCK_QUIRK(UNTERMINATED_SIZE) |
                    POP3MOCK_QUIRK(CAPA_DROPS_AUTH) | POP3MOCK_QUIRK(NO_LOCK);
    cr_expect_eq(q.flags & want, want);
    char *out = preset("dovecot", LOGIN "LIST 2\r\nCAPA\r\nQUIT\r\n");
    HAS(out, "+OK 2 59\r\n");
    const char *after = strstr(out, "+OK 2 59");
    cr_expect(after != NULL && strstr(after, "USER") == NULL, "%s", out);
    free(out);
}

Test(mock_quirks, preset_popa3d)
{
    char *out = preset("popa3d", "CAPA\r\n" LOGIN "QUIT\r\n");
    cr_expect(strncmp(out, "+OK\r\n", 5) == 0, "a bare +OK greeting: %s", out);
    HAS(out, "-ERR unknown command\r\n");
    HAS(out, "+OK u's maildrop has 2 messages");
    free(out);
    pop3mock_quirks q;
    pop3mock_quirks_default(&q);
    const char *why;
    cr_assert_eq(pop3mock_preset_apply(&q, "popa3d", &why), 0);
    cr_expect(q.flags & POP3MOCK_QUIRK(NO_LOCK));
}

Test(mock_quirks, preset_cyrus)
{
    char *out = preset("cyrus", "CAPA\r\n" LOGIN "CAPA\r\nQUIT\r\n");
    cr_expect(strncmp(out, "+OK Cyrus POP3 server ready " MOCK_TS "\r\n", 28) == 0, "%s", out);
    HAS(out, "IMPLEMENTATION Cyrus POP3\r\n");
    const char *after = strstr(out, "maildrop has");
    cr_assert(after != NULL, "%s", out);
    cr_expect(strstr(after, "USER") == NULL && strstr(after, "SASL") == NULL, "%s", out);
    free(out);
    pop3mock_quirks q;
    pop3mock_quirks_default(&q);
    const char *why;
    cr_assert_eq(pop3mock_preset_apply(&q, "cyrus", &why), 0);
    cr_expect(q.flags & POP3MOCK_QUIRK(NO_LOCK));
    cr_expect_eq(pop3mock_preset_apply(&q, "nope", &why), -1);
    cr_expect_str_eq(why, "unknown preset (dovecot, popa3d, cyrus, qmail or exchange)");
}

/* --allow-plaintext drops a preset's plaintext-needs-tls, before or after --preset. */
static uint64_t flags_of(const char *const *args)
{
    pop3mock__options o;
    pop3mock__options_default(&o);
    char err[256];
    for (size_t i = 0; args[i] != NULL; i += 2)
        cr_assert_eq(pop3mock__options_set(&o, args[i], args[i + 1], err, sizeof err), 0, "%s",
                     err);
    cr_assert_eq(pop3mock__options_check(&o, 0, err, sizeof err), 0, "%s", err);
    return o.mopt.quirks.flags;
}

Test(mock_quirks, allow_plaintext)
{
    const char *plain[] = {"maildrop", "d",      "user",    "u", "password",
                           "p",        "preset", "dovecot", NULL};
    cr_expect(flags_of(plain) & POP3MOCK_QUIRK(PLAINTEXT_NEEDS_TLS));
    const char *before[] = {"allow-plaintext", NULL, "maildrop", "d",       "user", "u",
                            "password",        "p",  "preset",   "dovecot", NULL};
    uint64_t f = flags_of(before);
    cr_expect((f & POP3MOCK_QUIRK(PLAINTEXT_NEEDS_TLS)) == 0);
    cr_expect(f & POP3MOCK_QUIRK(CAPA_LISTS_CAPA), "the rest of the preset stays");
    const char *after[] = {"maildrop",        "d",  "user",   "u",
                           "password",        "p",  "preset", "dovecot",
                           "allow-plaintext", NULL, NULL};
    cr_expect((flags_of(after) & POP3MOCK_QUIRK(PLAINTEXT_NEEDS_TLS)) == 0);
    /* Script mode has no maildrop to guard. */
    pop3mock__options o;
    pop3mock__options_default(&o);
    char err[256];
    cr_assert_eq(pop3mock__options_set(&o, "allow-plaintext", NULL, err, sizeof err), 0);
    cr_expect_eq(pop3mock__options_check(&o, 1, err, sizeof err), -1);
    cr_expect(strstr(err, "--allow-plaintext belong to maildrop mode") != NULL, "%s", err);
}
