/*
 * test_mock_session.c - the maildrop session engine, in memory (no sockets).
 *
 * RFC 1939 sections 3 to 7 and 11 (state machine, -ERR in the wrong state, sizes with
 * CRLF counted as two, byte-stuffing, TOP, UIDL, DELE only at QUIT), RFC 2449 (CAPA,
 * [IN-USE], PIPELINING order, 255-octet commands), RFC 2595 (STLS), RFC 5034 (AUTH
 * PLAIN, LOGIN; RFC 2195 CRAM-MD5), RFC 6856 (UTF8; sections 2.2 and 5, [UTF8] under
 * utf8_strict). Every limit is tested at the limit and past it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_support.h"
#include "pop3/digest.h"
#include "pop3/error.h"
#include "pop3mock/maildrop.h"

#define GREETING  "+OK POP3 server ready " MOCK_TS "\r\n"
#define LOGIN     "USER u\r\nPASS p\r\n"
#define LOGGED_IN GREETING "+OK send PASS\r\n+OK u's maildrop has 2 messages (121 octets)\r\n"
#define BYE       "+OK pop3kit-mock POP3 server signing off (2 messages left)\r\n"

static pop3mock_maildrop md;

static void setup(void)
{
    mock_maildrop(&md);
}

static void teardown(void)
{
    pop3mock_maildrop_free(&md);
}

TestSuite(mock_session, .init = setup, .fini = teardown);

static void expect_dialogue(const char *in, const char *want)
{
    pop3mock_session *s = mock_session(&md, NULL);
    char *out = mock_run(s, in, NULL);
    cr_expect_str_eq(out, want);
    free(out);
    pop3mock_session_free(s);
    /* The same octets fed one at a time, output taken one at a time. */
    s = mock_session(&md, NULL);
    out = mock_run_bytewise(s, in, NULL);
    cr_expect_str_eq(out, want, "bytewise");
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, greeting_and_quit_in_authorization)
{
    expect_dialogue("QUIT\r\n", GREETING "+OK pop3kit-mock POP3 server signing off\r\n");
}

Test(mock_session, full_transaction)
{
    expect_dialogue(LOGIN "STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 1\r\nRETR 1\r\nRETR 2\r\n"
                          "TOP 1 1\r\nTOP 1 0\r\nTOP 2 99\r\nNOOP\r\nQUIT\r\n",
                    LOGGED_IN
                    "+OK 2 121\r\n"
                    "+OK 2 messages (121 octets)\r\n1 60\r\n2 61\r\n.\r\n"
                    "+OK 2 61\r\n"
                    "+OK unique-id listing follows\r\n1 1000.M1.host\r\n2 1001.M2.host\r\n.\r\n"
                    "+OK 1 1000.M1.host\r\n"
                    "+OK 60 octets\r\nFrom: a@example\r\nSubject: one\r\n\r\nline 1\r\n"
                    "..dot line\r\nline 3\r\n.\r\n"
                    "+OK 61 octets\r\n" MOCK_MSG2 "\r\n.\r\n"
                    "+OK top of message follows\r\nFrom: a@example\r\nSubject: one\r\n"
                    "\r\nline 1\r\n.\r\n"
                    "+OK top of message follows\r\nFrom: a@example\r\nSubject: one\r\n"
                    "\r\n.\r\n"
                    "+OK top of message follows\r\n" MOCK_MSG2 "\r\n.\r\n"
                    "+OK\r\n" BYE);
}

Test(mock_session, wrong_state_and_unknown_commands)
{
    /* RFC1939-3.5, 3.6: -ERR for unknown, malformed, and wrong-state commands. */
    expect_dialogue("STAT\r\nPASS p\r\nXYZY\r\nUSER u\r\nNOOP\r\nPASS p\r\n" LOGIN
                    "USER u\r\nRETR\r\nRETR x\r\nLIST 1 2\r\nRETR 3\r\nRETR 0\r\nUTF8\r\nQUIT\r\n",
                    GREETING "-ERR STAT is not valid in the AUTHORIZATION state\r\n"
                             "-ERR PASS must follow a successful USER\r\n"
                             "-ERR unknown command\r\n"
                             "+OK send PASS\r\n"
                             "-ERR NOOP is not valid in the AUTHORIZATION state\r\n"
                             "-ERR PASS must follow a successful USER\r\n"
                             "+OK send PASS\r\n+OK u's maildrop has 2 messages (121 octets)\r\n"
                             "-ERR USER is not valid in the TRANSACTION state\r\n"
                             "-ERR RETR needs one message number\r\n"
                             "-ERR invalid message number (digits only)\r\n"
                             "-ERR LIST takes at most one argument\r\n"
                             "-ERR no such message, only 2 messages in maildrop\r\n"
                             "-ERR no such message, only 2 messages in maildrop\r\n"
                             "-ERR UTF8 is not valid in the TRANSACTION state\r\n" BYE);
}

Test(mock_session, number_arguments_at_and_past_their_limits)
{
    /* RFC 1939 section 3: a message number or a line count is digits. The codec's
     * number parser reads them: a sign or a base prefix is not a number; leading zeros
     * are; a value past 2^64-1 gets its own -ERR; 2^64-1 itself is a number (a message
     * that does not exist, a line count past any body). One row: a command, its reply. */
#define NOT_DIGITS(what) "-ERR invalid " what " (digits only)\r\n"
#define TOO_LARGE(what)  "-ERR " what " too large (at most 18446744073709551615)\r\n"
#define TOP1             "+OK top of message follows\r\nFrom: a@example\r\nSubject: one\r\n\r\n"
    static const struct {
        const char *command, *reply;
    } rows[] = {
        {"RETR +1", NOT_DIGITS("message number")},
        {"RETR -1", NOT_DIGITS("message number")},
        {"DELE 0x1", NOT_DIGITS("message number")},
        {"LIST 1.", NOT_DIGITS("message number")},
        {"UIDL 1e0", NOT_DIGITS("message number")},
        {"RETR 18446744073709551615", "-ERR no such message, only 2 messages in maildrop\r\n"},
        {"RETR 18446744073709551616", TOO_LARGE("message number")},
        {"LIST 99999999999999999999999", TOO_LARGE("message number")},
        {"LIST 0002", "+OK 2 61\r\n"},
        {"TOP 1 +1", NOT_DIGITS("line count")},
        {"TOP 1 -1", NOT_DIGITS("line count")},
        {"TOP +1 1", NOT_DIGITS("message number")},
        {"TOP 1 18446744073709551616", TOO_LARGE("line count")},
        {"TOP 1 18446744073709551615", TOP1 "line 1\r\n..dot line\r\nline 3\r\n.\r\n"},
        {"TOP 1 00", TOP1 ".\r\n"},
        /* Blanks are not part of a number: runs of spaces separate arguments (a
         * tolerance, RFC 1939 wants one), so "LIST  1 " is LIST 1. */
        {"LIST  1 ", "+OK 1 60\r\n"},
        /* An empty argument is no argument: the command's own count says what is missing. */
        {"RETR ", "-ERR RETR needs one message number\r\n"},
        {"TOP 1 ", "-ERR TOP needs a message number and a line count\r\n"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char in[256], want[512];
        snprintf(in, sizeof in, LOGIN "%s\r\nQUIT\r\n", rows[i].command);
        snprintf(want, sizeof want, LOGGED_IN "%s" BYE, rows[i].reply);
        expect_dialogue(in, want);
    }
#undef NOT_DIGITS
#undef TOO_LARGE
#undef TOP1
}

Test(mock_session, keywords_are_case_insensitive)
{
    expect_dialogue("user u\r\npAsS p\r\nstat\r\nQuit\r\n", LOGGED_IN "+OK 2 121\r\n" BYE);
}

Test(mock_session, bad_password_is_auth_code)
{
    expect_dialogue("USER u\r\nPASS nope\r\nUSER x\r\nPASS p\r\nQUIT\r\n",
                    GREETING "+OK send PASS\r\n-ERR [AUTH] invalid user name or password\r\n"
                             "+OK send PASS\r\n-ERR [AUTH] invalid user name or password\r\n"
                             "+OK pop3kit-mock POP3 server signing off\r\n");
}

Test(mock_session, password_with_spaces)
{
    pop3mock_maildrop m2;
    pop3mock_maildrop_init(&m2, "u", "pa ss word");
    pop3mock_session *s = mock_session(&m2, NULL);
    char *out = mock_run(s, "USER u\r\nPASS pa ss word\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "+OK u's maildrop has 0 messages (0 octets)\r\n") != NULL, "%s", out);
    cr_expect(strstr(out, "signing off (maildrop empty)") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
    pop3mock_maildrop_free(&m2);
}

Test(mock_session, dele_rset_and_deleted_messages)
{
    /* RFC1939-5.4, 5.5: marks, -ERR on a marked message, RSET unmarks. */
    expect_dialogue(LOGIN "DELE 1\r\nDELE 1\r\nRETR 1\r\nLIST 1\r\nLIST\r\nSTAT\r\nRSET\r\nLIST\r\n"
                          "QUIT\r\n",
                    LOGGED_IN "+OK message 1 deleted\r\n-ERR message 1 already deleted\r\n"
                              "-ERR message 1 already deleted\r\n-ERR message 1 already deleted\r\n"
                              "+OK 1 messages (61 octets)\r\n2 61\r\n.\r\n+OK 1 61\r\n"
                              "+OK maildrop has 2 messages (121 octets)\r\n"
                              "+OK 2 messages (121 octets)\r\n1 60\r\n2 61\r\n.\r\n" BYE);
}

Test(mock_session, deletions_apply_only_at_quit)
{
    /* RFC1939-6.1: a dropped session removes nothing. */
    pop3mock_session *s = mock_session(&md, NULL);
    free(mock_run(s, LOGIN "DELE 1\r\n", NULL));
    pop3mock_session_free(s);
    cr_expect(!md.msgs[0].removed);
    cr_expect(!md.locked, "the lock is released on a drop");

    /* RFC1939-6.2: QUIT in TRANSACTION removes what was marked. */
    s = mock_session(&md, NULL);
    char *out = mock_run(s, LOGIN "DELE 1\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "signing off (1 messages left)") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
    cr_expect(md.msgs[0].removed);

    /* The next session numbers what is left from 1. */
    s = mock_session(&md, NULL);
    out = mock_run(s, LOGIN "LIST\r\nUIDL 1\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "has 1 messages (61 octets)") != NULL, "%s", out);
    cr_expect(strstr(out, "+OK 1 messages (61 octets)\r\n1 61\r\n.\r\n") != NULL, "%s", out);
    cr_expect(strstr(out, "+OK 1 1001.M2.host\r\n") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, second_session_is_in_use)
{
    /* RFC 2449 section 8.1.2. */
    pop3mock_session *a = mock_session(&md, NULL);
    pop3mock_session *b = mock_session(&md, NULL);
    char out[4096];
    size_t n = pop3mock_session_run(a, LOGIN, strlen(LOGIN), out, sizeof out);
    out[n] = '\0';
    cr_expect(strstr(out, "+OK u's maildrop") != NULL, "%s", out);
    pop3mock_session_free(a); /* run() sent EOF: a dropped the lock */
    a = mock_session(&md, NULL);
    pop3mock_action act;
    pop3mock_session_feed(a, LOGIN, strlen(LOGIN));
    do {
        pop3mock_session_next(a, &act);
        pop3mock_session_ack(a, &act, act.data.len);
    } while (act.kind != POP3MOCK_ACT_IDLE);
    cr_expect(md.locked);
    n = pop3mock_session_run(b, LOGIN "QUIT\r\n", strlen(LOGIN "QUIT\r\n"), out, sizeof out);
    out[n] = '\0';
    cr_expect(strstr(out, "-ERR [IN-USE] maildrop already locked by another session\r\n") != NULL,
              "%s", out);
    pop3mock_session_free(b);
    pop3mock_session_free(a);
    cr_expect(!md.locked);
}

Test(mock_session, no_lock_allows_concurrent_sessions)
{
    md.no_lock = true;
    pop3mock_session *a = mock_session(&md, NULL);
    pop3mock_session_feed(a, LOGIN, strlen(LOGIN));
    pop3mock_action act;
    do {
        pop3mock_session_next(a, &act);
        pop3mock_session_ack(a, &act, act.data.len);
    } while (act.kind != POP3MOCK_ACT_IDLE);
    pop3mock_session *b = mock_session(&md, NULL);
    char *out = mock_run(b, LOGIN "QUIT\r\n", NULL);
    cr_expect(strstr(out, "+OK u's maildrop has 2") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(b);
    pop3mock_session_free(a);
}

Test(mock_session, apop)
{
    /* RFC1939-7.7: MD5 of the greeting's timestamp and the secret. */
    char hex[POP3_MD5_HEX_SIZE];
    pop3_apop_digest(MOCK_TS, strlen(MOCK_TS), "p", 1, hex);
    char in[256];
    snprintf(in, sizeof in, "APOP u 0123456789abcdef0123456789abcdef\r\nAPOP u %s\r\nQUIT\r\n",
             hex);
    pop3mock_session *s = mock_session(&md, NULL);
    char *out = mock_run(s, in, NULL);
    cr_expect_str_eq(out, GREETING "-ERR [AUTH] authentication failed\r\n"
                                   "+OK u's maildrop has 2 messages (121 octets)\r\n" BYE);
    free(out);
    pop3mock_session_free(s);
}

/* A session whose options allow PLAIN without TLS (--plain-in-clear). */
static pop3mock_session *plain_session(pop3mock_maildrop *m)
{
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    opt.plain_in_clear = true;
    return pop3mock_maildrop_session_new(m, &opt, MOCK_TS);
}

static void expect_plain_dialogue(const char *in, const char *want)
{
    pop3mock_session *s = plain_session(&md);
    char *out = mock_run(s, in, NULL);
    cr_expect_str_eq(out, want);
    free(out);
    pop3mock_session_free(s);
    s = plain_session(&md);
    out = mock_run_bytewise(s, in, NULL);
    cr_expect_str_eq(out, want, "bytewise");
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, plain_needs_tls_by_default)
{
    /* RFC 2595 section 6: without TLS, PLAIN is neither listed nor accepted; CRAM-MD5
     * is what CAPA offers. (Regression: the default mock listed "SASL PLAIN" in clear
     * and pop3-conform --probe reported it.) */
    expect_dialogue("CAPA\r\nAUTH PLAIN AHUAcA==\r\nAUTH PLAIN\r\nQUIT\r\n",
                    GREETING "+OK Capability list follows\r\nUSER\r\nTOP\r\nUIDL\r\n"
                             "RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nUTF8\r\n"
                             "SASL CRAM-MD5\r\nIMPLEMENTATION pop3kit-mock\r\n.\r\n"
                             "-ERR [AUTH] PLAIN needs TLS (RFC 2595 section 6)\r\n"
                             "-ERR [AUTH] PLAIN needs TLS (RFC 2595 section 6)\r\n"
                             "+OK pop3kit-mock POP3 server signing off\r\n");
    /* --sasl-all in clear: LOGIN and CRAM-MD5, still no PLAIN. */
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    opt.sasl_all = true;
    pop3mock_session *s = pop3mock_maildrop_session_new(&md, &opt, MOCK_TS);
    char *out = mock_run(s, "CAPA\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "\r\nSASL LOGIN CRAM-MD5\r\n") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
    /* plain_in_clear: listed and accepted, as before the rule. */
    s = plain_session(&md);
    out = mock_run(s, "CAPA\r\nAUTH PLAIN AHUAcA==\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "\r\nSASL PLAIN\r\n") != NULL, "%s", out);
    cr_expect(strstr(out, "+OK u's maildrop has 2 messages") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, size_counts_the_crlf_added_before_the_terminator)
{
    /* RFC 1939 sections 3 and 11: message 2 ends without a line end, so the server
     * sends CRLF before "."; LIST, STAT and RETR count those two octets, and RETR sends
     * exactly that many octets before the terminator. (Regression: LIST said 59 while
     * 61 octets arrived.) */
    pop3mock_session *s = mock_session(&md, NULL);
    char *out = mock_run(s, LOGIN "LIST 2\r\nRETR 2\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "+OK 2 61\r\n") != NULL, "%s", out);
    const char *body = strstr(out, "+OK 61 octets\r\n");
    cr_assert(body != NULL, "%s", out);
    body += strlen("+OK 61 octets\r\n");
    const char *end = strstr(body, "\r\n.\r\n");
    cr_assert(end != NULL, "%s", out);
    cr_expect_eq((size_t)(end + 2 - body), 61, "octets before the terminator");
    free(out);
    pop3mock_session_free(s);
    /* A message that ends with its line end gets nothing added: 60 as stored. */
    s = mock_session(&md, NULL);
    out = mock_run(s, LOGIN "LIST 1\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "+OK 1 60\r\n") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, auth_plain)
{
    /* RFC 5034 section 4; "dQB1AHA=" is "u\0u\0p", "AHUAcA==" is "\0u\0p". */
    expect_plain_dialogue("AUTH PLAIN AHUAeA==\r\nAUTH PLAIN\r\n*\r\nAUTH GSSAPI\r\nAUTH PLAIN\r\n"
                          "!!!!\r\nAUTH PLAIN\r\nAHUAcA==\r\nAUTH PLAIN AHUAcA==\r\nQUIT\r\n",
                          GREETING "-ERR [AUTH] authentication failed\r\n"
                                   "+ \r\n-ERR authentication cancelled\r\n"
                                   "-ERR unsupported authentication mechanism\r\n"
                                   "+ \r\n-ERR invalid base64 in the SASL response\r\n"
                                   "+ \r\n+OK u's maildrop has 2 messages (121 octets)\r\n"
                                   "-ERR AUTH is not valid in the TRANSACTION state\r\n" BYE);
    pop3mock_session *s = plain_session(&md);
    char *out = mock_run(s, "auth plain dQB1AHA=\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "+OK u's maildrop has 2") != NULL, "authzid = authcid: %s", out);
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, auth_login)
{
    /* "dQ==" u, "cA==" p, "eA==" x; the challenges are "Username:" and "Password:". */
    expect_dialogue("AUTH LOGIN\r\n*\r\nAUTH LOGIN\r\ndQ==\r\n*\r\nAUTH LOGIN eA==\r\ncA==\r\n"
                    "AUTH LOGIN dQ==\r\neA==\r\nAUTH LOGIN\r\n!!\r\nauth login\r\ndQ==\r\n"
                    "cA==\r\nQUIT\r\n",
                    GREETING "+ VXNlcm5hbWU6\r\n-ERR authentication cancelled\r\n"
                             "+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n-ERR authentication cancelled\r\n"
                             "+ UGFzc3dvcmQ6\r\n-ERR [AUTH] authentication failed\r\n"
                             "+ UGFzc3dvcmQ6\r\n-ERR [AUTH] authentication failed\r\n"
                             "+ VXNlcm5hbWU6\r\n-ERR invalid base64 in the SASL response\r\n"
                             "+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n"
                             "+OK u's maildrop has 2 messages (121 octets)\r\n" BYE);
    /* With an initial response: only "Password:" is asked. */
    expect_dialogue("AUTH LOGIN dQ==\r\ncA==\r\nQUIT\r\n", GREETING
                    "+ UGFzc3dvcmQ6\r\n+OK u's maildrop has 2 messages (121 octets)\r\n" BYE);
    /* A response line may be longer than a command line (max_sasl_line), not longer. */
    pop3mock_session *s = mock_session(&md, NULL);
    char in[20000];
    snprintf(in, sizeof in, "AUTH LOGIN\r\n%s\r\nQUIT\r\n", "");
    size_t k = strlen("AUTH LOGIN\r\n");
    memset(in + k, 'A', 16400);
    strcpy(in + k + 16400, "\r\nQUIT\r\n");
    char *out = mock_run(s, in, NULL);
    cr_expect_str_eq(out, GREETING "+ VXNlcm5hbWU6\r\n-ERR line too long (max 16384 octets)\r\n"
                                   "+OK pop3kit-mock POP3 server signing off\r\n");
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, auth_login_long_user_name)
{
    /* The account name is 255 octets; a name of 300 that starts with it is not it. */
    char name[301], b64[512], in[1200];
    memset(name, 'a', 300);
    name[300] = '\0';
    pop3mock_maildrop m;
    name[255] = '\0';
    pop3mock_maildrop_init(&m, name, "p");
    name[255] = 'a';
    size_t n = 0;
    cr_assert_eq(pop3_base64_encode(name, 300, b64, sizeof b64, &n), POP3_OK);
    snprintf(in, sizeof in, "AUTH LOGIN\r\n%s\r\ncA==\r\nQUIT\r\n", b64);
    pop3mock_session *s = pop3mock_maildrop_session_new(&m, NULL, MOCK_TS);
    char *out = mock_run(s, in, NULL);
    cr_expect(strstr(out, "+ UGFzc3dvcmQ6\r\n-ERR [AUTH] authentication failed\r\n") != NULL, "%s",
              out);
    free(out);
    pop3mock_session_free(s);
    cr_assert_eq(pop3_base64_encode(name, 255, b64, sizeof b64, &n), POP3_OK);
    snprintf(in, sizeof in, "AUTH LOGIN\r\n%s\r\ncA==\r\nQUIT\r\n", b64);
    s = pop3mock_maildrop_session_new(&m, NULL, MOCK_TS);
    out = mock_run(s, in, NULL);
    cr_expect(strstr(out, "maildrop has 0 messages") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
    pop3mock_maildrop_free(&m);
}

/* base64("USER SP hmac-md5-hex") for the challenge MOCK_TS, as RFC 2195 section 2. */
static void cram_answer(const char *user, const char *secret, char *out, size_t cap)
{
    char hex[POP3_MD5_HEX_SIZE], plain[128];
    cr_assert_eq(pop3_cram_md5_digest(MOCK_TS, strlen(MOCK_TS), secret, strlen(secret), hex),
                 POP3_OK);
    snprintf(plain, sizeof plain, "%s %s", user, hex);
    size_t n = 0;
    cr_assert_eq(pop3_base64_encode(plain, strlen(plain), out, cap, &n), POP3_OK);
}

Test(mock_session, auth_cram_md5)
{
    /* RFC 2195 section 2: the challenge is the greeting's timestamp, base64-encoded. */
    char b64ts[128];
    size_t n = 0;
    cr_assert_eq(pop3_base64_encode(MOCK_TS, strlen(MOCK_TS), b64ts, sizeof b64ts, &n), POP3_OK);
    char good[128], wrong_secret[128], wrong_user[128];
    cram_answer("u", "p", good, sizeof good);
    cram_answer("u", "q", wrong_secret, sizeof wrong_secret);
    cram_answer("v", "p", wrong_user, sizeof wrong_user);
    char in[1024], want[2048];
    snprintf(in, sizeof in,
             "AUTH CRAM-MD5 dQ==\r\nAUTH CRAM-MD5\r\n*\r\nAUTH CRAM-MD5\r\n%s\r\n"
             "AUTH CRAM-MD5\r\n%s\r\nAUTH CRAM-MD5\r\ndSBw\r\nAUTH cram-md5\r\n%s\r\nQUIT\r\n",
             wrong_secret, wrong_user, good);
    snprintf(want, sizeof want,
             GREETING "-ERR CRAM-MD5 takes no initial response\r\n"
                      "+ %s\r\n-ERR authentication cancelled\r\n"
                      "+ %s\r\n-ERR [AUTH] authentication failed\r\n"
                      "+ %s\r\n-ERR [AUTH] authentication failed\r\n"
                      "+ %s\r\n-ERR [AUTH] authentication failed\r\n"
                      "+ %s\r\n+OK u's maildrop has 2 messages (121 octets)\r\n" BYE,
             b64ts, b64ts, b64ts, b64ts, b64ts);
    expect_dialogue(in, want);
    /* The digest may come in upper-case hex. */
    char hex[POP3_MD5_HEX_SIZE], plain[64], b64[128];
    pop3_cram_md5_digest(MOCK_TS, strlen(MOCK_TS), "p", 1, hex);
    for (char *c = hex; *c != '\0'; c++)
        if (*c >= 'a' && *c <= 'f') *c = (char)(*c - 'a' + 'A');
    snprintf(plain, sizeof plain, "u %s", hex);
    pop3_base64_encode(plain, strlen(plain), b64, sizeof b64, &n);
    snprintf(in, sizeof in, "AUTH CRAM-MD5\r\n%s\r\nQUIT\r\n", b64);
    pop3mock_session *s = mock_session(&md, NULL);
    char *out = mock_run(s, in, NULL);
    cr_expect(strstr(out, "+OK u's maildrop has 2") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
}

/* A maildrop whose first message has a non-ASCII header, its second one a non-ASCII body
 * only, its third a non-ASCII octet right after the header's empty line. */
static void utf8_maildrop(pop3mock_maildrop *m)
{
    static const char h8[] = "From: a@example\r\nSubject: caf\xc3\xa9\r\n\r\nplain\r\n";
    static const char b8[] = "From: b@example\nSubject: ascii\n\ncaf\xc3\xa9\n";
    static const char edge[] = "Subject: x\n\r\n\xe9 first body octet\n";
    pop3mock_maildrop_init(m, "u", "p");
    pop3mock_maildrop_add(m, "1", h8, strlen(h8));
    pop3mock_maildrop_add(m, "2", b8, strlen(b8));
    pop3mock_maildrop_add(m, "3", edge, strlen(edge));
}

Test(mock_session, utf8_header_detection)
{
    pop3mock_maildrop m;
    utf8_maildrop(&m);
    cr_expect(m.msgs[0].header_8bit);
    cr_expect(!m.msgs[1].header_8bit);
    cr_expect(!m.msgs[2].header_8bit);
    pop3mock_maildrop_free(&m);
    /* A header that is all of the message (no empty line) is header throughout. */
    pop3mock_maildrop_init(&m, "u", "p");
    pop3mock_maildrop_add(&m, "h", "Subject: \xff", 10);
    cr_expect(m.msgs[0].header_8bit);
    pop3mock_maildrop_free(&m);
}

Test(mock_session, utf8_strict)
{
    pop3mock_maildrop m;
    utf8_maildrop(&m);
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    /* Without utf8_strict everything is served, as before. */
    pop3mock_session *s = pop3mock_maildrop_session_new(&m, &opt, MOCK_TS);
    char *out = mock_run(s, LOGIN "RETR 1\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "Subject: caf\xc3\xa9\r\n") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
    /* RFC 6856 sections 2.2 and 5: -ERR [UTF8] for RETR and TOP of message 1 only. */
    opt.utf8_strict = true;
    s = pop3mock_maildrop_session_new(&m, &opt, MOCK_TS);
    out = mock_run(s, LOGIN "RETR 1\r\nTOP 1 0\r\nLIST 1\r\nRETR 2\r\nTOP 3 1\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "-ERR [UTF8] message 1 has a non-ASCII header: enable UTF8 first\r\n"
                          "-ERR [UTF8] message 1 has a non-ASCII header: enable UTF8 first\r\n"
                          "+OK 1 ") != NULL,
              "%s", out);
    cr_expect(strstr(out, "caf\xc3\xa9\r\n.\r\n") != NULL, "message 2 served: %s", out);
    cr_expect(strstr(out, "\xe9 first body octet\r\n.\r\n") != NULL, "message 3: %s", out);
    free(out);
    pop3mock_session_free(s);
    /* After UTF8 (AUTHORIZATION state) they are served. */
    s = pop3mock_maildrop_session_new(&m, &opt, MOCK_TS);
    out = mock_run(s, "UTF8\r\n" LOGIN "RETR 1\r\nTOP 1 0\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "[UTF8]") == NULL, "%s", out);
    cr_expect(strstr(out, "+OK top of message follows\r\nFrom: a@example\r\nSubject: "
                          "caf\xc3\xa9\r\n\r\n.\r\n") != NULL,
              "%s", out);
    free(out);
    pop3mock_session_free(s);
    pop3mock_maildrop_free(&m);
}

Test(mock_session, capa_and_utf8)
{
    expect_dialogue("CAPA\r\nUTF8\r\nQUIT\r\n",
                    GREETING "+OK Capability list follows\r\nUSER\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
                             "AUTH-RESP-CODE\r\nPIPELINING\r\nUTF8\r\nSASL CRAM-MD5\r\n"
                             "IMPLEMENTATION pop3kit-mock\r\n.\r\n+OK UTF8 enabled\r\n"
                             "+OK pop3kit-mock POP3 server signing off\r\n");
}

Test(mock_session, stls)
{
    /* Without a certificate STLS is refused and not listed. */
    expect_dialogue("STLS\r\nQUIT\r\n", GREETING "-ERR TLS is not available\r\n"
                                                 "+OK pop3kit-mock POP3 server signing off\r\n");
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    opt.tls_available = true;
    pop3mock_session *s = pop3mock_maildrop_session_new(&md, &opt, MOCK_TS);
    /* Plaintext pipelined after STLS must not survive into the TLS session (RFC 2595
     * section 4, curl test 982 seen from the server). */
    const char *in = "CAPA\r\nSTLS\r\nUSER u\r\n";
    pop3mock_session_feed(s, in, strlen(in));
    char out[2048];
    size_t n = 0;
    pop3mock_action a;
    for (;;) {
        pop3mock_session_next(s, &a);
        if (a.kind != POP3MOCK_ACT_SEND) break;
        memcpy(out + n, a.data.ptr, a.data.len);
        n += a.data.len;
        pop3mock_session_ack(s, &a, a.data.len);
    }
    out[n] = '\0';
    /* Before TLS no PLAIN (RFC 2595 section 6); under TLS it is listed. */
    cr_expect(strstr(out, "SASL CRAM-MD5\r\nSTLS\r\nIMPLEMENTATION") != NULL, "%s", out);
    cr_expect(strstr(out, "+OK Begin TLS negotiation\r\n") != NULL, "%s", out);
    cr_assert_eq(a.kind, POP3MOCK_ACT_START_TLS);
    cr_expect(!pop3mock_session_tls(s));
    pop3mock_session_ack(s, &a, 0);
    cr_expect(pop3mock_session_tls(s));
    char *rest = mock_run(s, "CAPA\r\nSTLS\r\nQUIT\r\n", NULL);
    cr_expect(strstr(rest, "STLS\r\n") == NULL || strstr(rest, "STLS\r\n") > strstr(rest, "."),
              "CAPA under TLS lists no STLS: %s", rest);
    cr_expect(strstr(rest, "SASL PLAIN\r\nIMPLEMENTATION") != NULL, "%s", rest);
    cr_expect(strstr(rest, "-ERR command not permitted when TLS active\r\n") != NULL, "%s", rest);
    cr_expect(strstr(rest, "send PASS") == NULL, "the injected USER was dropped: %s", rest);
    free(rest);
    pop3mock_session_free(s);
}

Test(mock_session, implicit_tls_starts_with_handshake)
{
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    opt.tls_available = true;
    opt.implicit_tls = true;
    pop3mock_session *s = pop3mock_maildrop_session_new(&md, &opt, MOCK_TS);
    pop3mock_action a;
    pop3mock_session_next(s, &a);
    cr_expect_eq(a.kind, POP3MOCK_ACT_START_TLS);
    pop3mock_session_ack(s, &a, 0);
    char *out = mock_run(s, "CAPA\r\nQUIT\r\n", NULL);
    cr_expect(strncmp(out, GREETING, strlen(GREETING)) == 0, "%s", out);
    cr_expect(strstr(out, "STLS") == NULL, "%s", out);
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, pipelining_answers_in_order)
{
    /* RFC2449-6.6a: everything in one segment, answered strictly in order. */
    const char *in = LOGIN "RETR 1\r\nDELE 1\r\nRETR 2\r\nLIST\r\nQUIT\r\n";
    pop3mock_session *s = mock_session(&md, NULL);
    char *all = mock_run(s, in, NULL);
    pop3mock_session_free(s);
    cr_expect(strstr(all, "line 3\r\n.\r\n+OK message 1 deleted\r\n+OK 61 octets\r\n") != NULL,
              "%s", all);
    cr_expect(strstr(all, "+OK 1 messages (61 octets)\r\n2 61\r\n.\r\n+OK pop3kit-mock POP3 server "
                          "signing off (1 messages left)\r\n") != NULL,
              "%s", all);
    free(all);
}

Test(mock_session, command_line_limit)
{
    /* RFC2449-4.1: 255 octets with the CRLF are accepted; 256 are not. */
    char in[1024];
    memset(in, 0, sizeof in);
    strcpy(in, "USER ");
    memset(in + 5, 'x', 248);
    strcat(in, "\r\n");
    cr_assert_eq(strlen(in), 255);
    strcat(in, "USER ");
    memset(in + strlen(in), 'y', 249);
    strcat(in, "\r\nQUIT\r\n");
    expect_dialogue(in, GREETING "+OK send PASS\r\n-ERR line too long (max 255 octets)\r\n"
                                 "+OK pop3kit-mock POP3 server signing off\r\n");
}

Test(mock_session, command_line_limit_is_the_setting)
{
    /* The -ERR names the limit in force: --max-command 300 lets a 300-octet line in. */
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    opt.limits.max_command = 300;
    char in[1024] = "USER ";
    memset(in + 5, 'x', 293);
    strcat(in, "\r\nUSER ");
    memset(in + strlen(in), 'y', 294);
    strcat(in, "\r\nQUIT\r\n");
    pop3mock_session *s = pop3mock_maildrop_session_new(&md, &opt, MOCK_TS);
    char *out = mock_run(s, in, NULL);
    cr_expect_str_eq(out, GREETING "+OK send PASS\r\n-ERR line too long (max 300 octets)\r\n"
                                   "+OK pop3kit-mock POP3 server signing off\r\n");
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, refused_lines_say_why)
{
    /* A line the codec's command parser refuses gets -ERR naming the rule it broke
     * (RFC 1939 section 3: a keyword of 3 or 4 printable characters, arguments
     * separated by a space, printable octets; CRLF ends a line). A well-formed keyword
     * that is no command stays "unknown command". Each is a bad command: USER is
     * forgotten, PASS then fails. */
    static const struct {
        const char *line; /* without its CRLF; may hold a NUL (length from sizeof) */
        size_t len;
        const char *reply;
    } rows[] = {
#define ROW(l, r) {l, sizeof l - 1, "-ERR " r "\r\n"}
        ROW("XYZY", "unknown command"),
        ROW("XYZ", "unknown command"),
        ROW("XYZZY", "bad command keyword (3 or 4 printable ASCII characters)"),
        ROW("XY", "bad command keyword (3 or 4 printable ASCII characters)"),
        ROW("", "empty command line"),
        ROW("USER a\0b", "argument holds a NUL octet"),
        ROW("US\0R a", "command keyword holds a NUL octet"),
        ROW("USER a\rb", "argument holds a CR octet (a line ends with CRLF)"),
        ROW("USER\ta", "command keyword holds a TAB (arguments are separated by a space)"),
        ROW("USER a\tb", "argument holds a TAB (arguments are separated by a space)"),
        ROW("USER a\001b", "argument holds a control octet"),
        ROW("USER a\177", "argument holds a control octet"),
        ROW("US\001R a", "command keyword holds a control octet"),
        ROW("US\303\251R a", "bad command keyword (3 or 4 printable ASCII characters)"),
#undef ROW
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char in[128], want[256];
        size_t n = 0;
        memcpy(in, "USER u\r\n", 8);
        n = 8;
        memcpy(in + n, rows[i].line, rows[i].len);
        n += rows[i].len;
        memcpy(in + n, "\r\nPASS p\r\nQUIT\r\n", 16);
        n += 16;
        snprintf(want, sizeof want,
                 GREETING "+OK send PASS\r\n%s-ERR PASS must follow a successful USER\r\n"
                          "+OK pop3kit-mock POP3 server signing off\r\n",
                 rows[i].reply);
        pop3mock_session *s = mock_session(&md, NULL);
        char out[1024];
        size_t got = pop3mock_session_run(s, in, n, out, sizeof out - 1);
        out[got] = '\0';
        cr_expect_str_eq(out, want, "row %zu", i);
        pop3mock_session_free(s);
    }
    /* 8-bit octets in an argument are tolerated (RFC 6856 UTF-8 names). */
    expect_dialogue("USER \303\251\r\nQUIT\r\n",
                    GREETING "+OK send PASS\r\n+OK pop3kit-mock POP3 server signing off\r\n");
}

Test(mock_session, huge_line_is_discarded_in_bounded_memory)
{
    pop3mock_session *s = mock_session(&md, NULL);
    static char chunk[65536];
    memset(chunk, 'A', sizeof chunk);
    /* 64 MiB without a line end: taken and thrown away, never buffered. */
    for (int i = 0; i < 1024; i++) {
        cr_assert_gt(pop3mock_session_room(s), 0);
        size_t used = 0;
        while (used < sizeof chunk) {
            size_t room = pop3mock_session_room(s);
            size_t n = sizeof chunk - used < room ? sizeof chunk - used : room;
            used += pop3mock_session_feed(s, chunk + used, n);
        }
    }
    char *out = mock_run(s, "\r\nQUIT\r\n", NULL);
    cr_expect_str_eq(out, GREETING "-ERR line too long (max 255 octets)\r\n"
                                   "+OK pop3kit-mock POP3 server signing off\r\n");
    free(out);
    pop3mock_session_free(s);
}

Test(mock_session, garbage_gets_errors_not_crashes)
{
    static const char garbage[] = "\x00\xff\r\n\r\n \r\n\x01\x02\x03\n....\r\nUSER\r\n";
    pop3mock_session *s = mock_session(&md, NULL);
    char out[4096];
    size_t n = pop3mock_session_run(s, garbage, sizeof garbage - 1, out, sizeof out - 1);
    out[n] = '\0';
    cr_expect(strstr(out, "-ERR unknown command\r\n") != NULL);
    cr_expect(strstr(out, "-ERR USER needs a mailbox name\r\n") != NULL, "%s", out);
    pop3mock_session_free(s);
}

Test(mock_session, large_message_streams_with_back_pressure)
{
    /* A 5 MiB message with a small output limit: the queue never holds much more than
     * the limit, and every octet arrives. */
    size_t size = 5u << 20;
    char *big = malloc(size);
    for (size_t i = 0; i < size; i++)
        big[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
    pop3mock_maildrop m2;
    pop3mock_maildrop_init(&m2, "u", "p");
    pop3mock_maildrop_add(&m2, "big", big, size);
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    opt.limits.output_high = 4096;
    pop3mock_session *s = pop3mock_maildrop_session_new(&m2, &opt, MOCK_TS);
    const char *in = LOGIN "RETR 1\r\nQUIT\r\n";
    pop3mock_session_feed(s, in, strlen(in));
    size_t total = 0, largest = 0;
    pop3mock_action a;
    for (;;) {
        pop3mock_session_next(s, &a);
        if (a.kind != POP3MOCK_ACT_SEND) break;
        if (a.data.len > largest) largest = a.data.len;
        total += a.data.len;
        pop3mock_session_ack(s, &a, a.data.len);
    }
    cr_expect_eq(a.kind, POP3MOCK_ACT_CLOSE);
    /* Pending output is at most the limit plus one encoded 16 KiB chunk. */
    cr_expect_leq(largest, 4096 + 2 * 16384 + 64);
    size_t wire = size + size / 64; /* every LF became CRLF */
    cr_expect_gt(total, wire);
    pop3mock_session_free(s);
    pop3mock_maildrop_free(&m2);
    free(big);
}

Test(mock_session, input_is_bounded_by_max_input)
{
    /* While a large response is pending, a pipelining client is pushed back. */
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    opt.limits.max_input = 256;
    opt.limits.max_sasl_line = 256;
    opt.limits.output_high = 64;
    pop3mock_session *s = pop3mock_maildrop_session_new(&md, &opt, MOCK_TS);
    char in[4096] = "";
    for (int i = 0; i < 100; i++)
        strcat(in, "CAPA\r\n");
    size_t used = pop3mock_session_feed(s, in, strlen(in));
    cr_expect_lt(used, strlen(in), "took %zu of %zu", used, strlen(in));
    cr_expect_eq(pop3mock_session_room(s), 0);
    pop3mock_session_free(s);
}

Test(mock_session, uids_are_stable_and_valid)
{
    pop3mock_maildrop a, b;
    pop3mock_maildrop_init(&a, "u", "p");
    pop3mock_maildrop_init(&b, "u", "p");
    const char *names[] = {
        "1.eml", "a name with spaces", "1700000000.M1P2.host,S=12:2,S",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    for (size_t i = 0; i < 4; i++) {
        pop3mock_maildrop_add(&a, names[i], "x\n", 2);
        pop3mock_maildrop_add(&b, names[i], "different\n", 10);
    }
    cr_expect_str_eq(a.msgs[0].uid, "1.eml");
    cr_expect_str_eq(a.msgs[2].uid, "1700000000.M1P2.host,S=12",
                     "Maildir flags are not part of it");
    for (size_t i = 0; i < 4; i++) {
        cr_expect_str_eq(a.msgs[i].uid, b.msgs[i].uid, "same name, same uid");
        size_t len = strlen(a.msgs[i].uid);
        cr_expect(len >= 1 && len <= 70, "RFC 1939 section 7 length: %s", a.msgs[i].uid);
        for (size_t k = 0; k < len; k++)
            cr_expect(a.msgs[i].uid[k] >= 0x21 && a.msgs[i].uid[k] <= 0x7e);
    }
    pop3mock_maildrop_free(&a);
    pop3mock_maildrop_free(&b);
}

Test(mock_session, client_eof_closes)
{
    pop3mock_session *s = mock_session(&md, NULL);
    char *out = mock_run(s, "USER u\r\nPASS p\r\nDELE 1\r\nSTAT", NULL);
    /* The last line has no line end: it is not a command. */
    cr_expect(strstr(out, "+OK message 1 deleted\r\n") != NULL);
    cr_expect(strstr(out, "+OK 1 61") == NULL, "%s", out);
    cr_expect(pop3mock_session_done(s));
    free(out);
    pop3mock_session_free(s);
    cr_expect(!md.msgs[0].removed);
}

Test(mock_session, several_accounts)
{
    /* --users: the name given picks the maildrop; each account has its own lock and
     * password, for USER/PASS, APOP and SASL alike. */
    pop3mock_maildrop bob;
    pop3mock_maildrop_init(&bob, "bob", "b pw");
    pop3mock_maildrop_add(&bob, "9.x", "Subject: b\n\nfor bob\n", 20);
    pop3mock_maildrop *accounts[] = {&md, &bob};
    pop3mock_session *a = pop3mock_accounts_session_new(accounts, 2, NULL, MOCK_TS);
    char *out = mock_run(a, "USER bob\r\nPASS p\r\nUSER bob\r\nPASS b pw\r\nSTAT\r\n", NULL);
    cr_expect(strstr(out, "-ERR [AUTH] invalid user name or password\r\n") != NULL, "%s", out);
    cr_expect(strstr(out, "+OK bob's maildrop has 1 messages (23 octets)\r\n+OK 1 23\r\n") != NULL,
              "%s", out);
    free(out);
    pop3mock_session *b = pop3mock_accounts_session_new(accounts, 2, NULL, MOCK_TS);
    out = mock_run(b, "AUTH LOGIN dQ==\r\ncA==\r\nQUIT\r\n", NULL);
    cr_expect(strstr(out, "+OK u's maildrop has 2 messages") != NULL, "%s", out);
    free(out);
    pop3mock_session_free(b);
    pop3mock_session_free(a);
    cr_expect(!bob.locked);
    cr_expect_eq(bob.active, 0u);
    pop3mock_maildrop_free(&bob);
}
