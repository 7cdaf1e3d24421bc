/*
 * test_client_auth.c - logging in: USER/PASS, APOP, RPOP, SASL (RFC 5034) with every
 * built-in mechanism, pop3_login's choice and fallbacks, require_tls, and the masking of
 * secrets in traces. Each dialogue runs with whole replies and one octet per read.
 *
 * RFC matrix rows (client side): RFC1939-7.6, RFC1939-7.7, RFC1939-7.8, RFC2449-5.4,
 * RFC5034-3.1, RFC5034-4.1, RFC5034-4.5, RFC5034-4.6, RFC5034-4.7, RFC5034-4.9,
 * RFC5034-4.10, RFC5034-4.15, RFC2595-2.2, RFC8314-5.2b. curl tests 850, 864-867,
 * 870-872, 874, 876, 879, 887-891. Quirks Q33, Q34, Q37, Q39.
 */
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client_harness.h"
#include "pop3/digest.h"

#define GREETING      "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
#define CURL_GREETING "+OK curl POP3 server ready to serve <1972.987654321@curl>\r\n"

static const pop3_credentials user_secret = {"user", "secret", NULL, false};

/* base64 of `len` octets, in a static buffer (tests only). */
static const char *b64(const char *s, size_t len)
{
    static char out[8192];
    size_t n;
    cr_assert_eq(pop3_base64_encode(s, len, out, sizeof out, &n), POP3_OK);
    return out;
}

/* USER, PASS, APOP, RPOP
 * --------------------- */

Test(auth, user_pass_rfc1939_7)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING,
                                "-ERR sorry, no mailbox for frated here\r\n",
                                "+OK mrose is a real hoopy frood\r\n",
                                "-ERR maildrop already locked\r\n",
                                "+OK mrose is a real hoopy frood\r\n",
                                "+OK mrose's maildrop has 2 messages (320 octets)\r\n",
                                NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_user(h.c, "frated"), POP3_ESERVER);
        ASSERT_RC(pop3_user(h.c, "mrose"), POP3_OK);
        ASSERT_RC(pop3_pass(h.c, "secret"), POP3_ESERVER);
        cr_assert(!pop3_is_authenticated(h.c));
        ASSERT_RC(pop3_user(h.c, "mrose"), POP3_OK);
        /* RFC1939-7.6: spaces belong to the password, sent whole. */
        ASSERT_RC(pop3_pass(h.c, "pa ss word"), POP3_OK);
        cr_assert(pop3_is_authenticated(h.c));
        cr_assert_str_eq(harness_out(&h), "USER frated\r\nUSER mrose\r\nPASS secret\r\n"
                                          "USER mrose\r\nPASS pa ss word\r\n");
        /* Logged in: no more login commands. */
        ASSERT_RC(pop3_pass(h.c, "x"), POP3_ESTATE);
        ASSERT_RC(pop3_apop(h.c, "mrose", "x"), POP3_ESTATE);
        ASSERT_RC(pop3_auth(h.c, "PLAIN", &user_secret), POP3_ESTATE);
        ASSERT_RC(pop3_login(h.c, &user_secret), POP3_ESTATE);
        harness_close(&h);
    }
}

Test(auth, user_name_is_one_argument)
{
    harness h = harness_start((const char *[]){GREETING, NULL}, 0, NULL);
    ASSERT_RC(pop3_user(h.c, "two words"), POP3_EUSAGE);
    ASSERT_RC(pop3_user(h.c, ""), POP3_EUSAGE);
    ASSERT_RC(pop3_apop(h.c, "a b", "s"), POP3_EUSAGE);
    ASSERT_RC(pop3_rpop(h.c, "a\tb"), POP3_EUSAGE);
    cr_assert_str_eq(harness_out(&h), "");
    harness_close(&h);
}

Test(auth, apop_rfc1939_7_7)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK maildrop has 1 message (369 octets)\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_apop(h.c, "mrose", "tanstaaf"), POP3_OK);
        cr_assert_str_eq(harness_out(&h), "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
        cr_assert(pop3_is_authenticated(h.c));
        harness_close(&h);
        /* curl test 864. */
        const char *curl[] = {CURL_GREETING, "+OK\r\n", NULL};
        h = harness_start(curl, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_apop(h.c, "user", "secret"), POP3_OK);
        cr_assert_str_eq(harness_out(&h), "APOP user 7501b4cdc224d469940e65e7b5e4d6eb\r\n");
        harness_close(&h);
    }
}

Test(auth, apop_refused_without_valid_timestamp_rfc1939_7_8)
{
    const char *greetings[] = {"+OK POP3 server ready\r\n", "+OK ready <abc>\r\n",
                               "+OK ready <a.b.c>\r\n", "+OK ready <a\x80@b>\r\n",
                               "+OK ready <@b>\r\n"};
    for (size_t i = 0; i < sizeof greetings / sizeof greetings[0]; i++) {
        const char *script[] = {greetings[i], NULL};
        harness h = harness_start(script, 0, NULL);
        ASSERT_RC(pop3_apop(h.c, "user", "secret"), POP3_ESTATE);
        cr_assert_str_eq(harness_out(&h), "", "greeting %zu", i);
        harness_close(&h);
    }
}

Test(auth, rpop)
{
    const char *script[] = {GREETING, "+OK\r\n", NULL};
    harness h = harness_start(script, 1, NULL);
    ASSERT_RC(pop3_rpop(h.c, "mrose"), POP3_OK);
    cr_assert(pop3_is_authenticated(h.c));
    cr_assert_str_eq(harness_out(&h), "RPOP mrose\r\n");
    harness_close(&h);
}

/* SASL
 * ---- */

#define CAPA_SASL(mechs) "+OK\r\nUSER\r\nSASL " mechs "\r\n.\r\n"

Test(auth, plain_rfc5034_6)
{
    pop3_credentials test = {"test", "test", "test", false};
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        /* Example 1: with an initial response, CAPA listing SASL (RFC5034-3.1). */
        const char *ex1[] = {GREETING, CAPA_SASL("PLAIN"), "+OK Maildrop locked and ready\r\n",
                             NULL};
        harness h = harness_start(ex1, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_auth(h.c, "PLAIN", &test), POP3_OK);
        cr_assert(pop3_is_authenticated(h.c));
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nAUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n");
        harness_close(&h);
        /* Example 2: CAPA unknown, so no initial response; the empty challenge "+ " asks
         * for it (RFC5034-4.6). */
        const char *ex2[] = {GREETING, "+ \r\n", "+OK Maildrop locked and ready\r\n", NULL};
        h = harness_start(ex2, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_auth(h.c, "plain", &test), POP3_OK);
        cr_assert_str_eq(harness_out(&h), "AUTH PLAIN\r\ndGVzdAB0ZXN0AHRlc3Q=\r\n");
        harness_close(&h);
        /* curl 865: no authzid. */
        h = harness_start(ex2, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_auth(h.c, "PLAIN", &user_secret), POP3_OK);
        cr_assert_str_eq(harness_out(&h), "AUTH PLAIN\r\nAHVzZXIAc2VjcmV0\r\n");
        harness_close(&h);
    }
}

Test(auth, plain_rejected)
{
    const char *script[] = {GREETING, "+ \r\n", "-ERR [AUTH] Authentication failed\r\n", NULL};
    harness h = harness_start(script, 1, NULL);
    ASSERT_RC(pop3_auth(h.c, "PLAIN", &user_secret), POP3_ESERVER);
    cr_assert_eq(pop3_response_code(h.c), POP3_CODE_AUTH);
    cr_assert(!pop3_is_authenticated(h.c));
    cr_assert(pop3_is_connected(h.c)); /* RFC5034-4.11: as if AUTH never happened */
    harness_close(&h);
}

Test(auth, login_curl_866_872)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *s866[] = {GREETING, "+ VXNlcm5hbWU6\r\n", "+ UGFzc3dvcmQ6\r\n",
                              "+OK Login successful\r\n", NULL};
        harness h = harness_start(s866, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_auth(h.c, "LOGIN", &user_secret), POP3_OK);
        cr_assert_str_eq(harness_out(&h), "AUTH LOGIN\r\ndXNlcg==\r\nc2VjcmV0\r\n");
        harness_close(&h);
        const char *s872[] = {GREETING, CAPA_SASL("LOGIN"), "+ UGFzc3dvcmQ6\r\n",
                              "+OK Login successful\r\n", NULL};
        h = harness_start(s872, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_auth(h.c, "LOGIN", &user_secret), POP3_OK);
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nAUTH LOGIN dXNlcg==\r\nc2VjcmV0\r\n");
        harness_close(&h);
    }
}

Test(auth, cram_md5_curl_867_891)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        /* Server-first: never an initial response, even when CAPA lists SASL. */
        const char *s867[] = {GREETING, CAPA_SASL("CRAM-MD5"), "+ PDE5NzIuOTg3NjU0MzIxQGN1cmw+\r\n",
                              "+OK Login successful\r\n", NULL};
        harness h = harness_start(s867, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_auth(h.c, "CRAM-MD5", &user_secret), POP3_OK);
        char want[256];
        const char *resp = "user 7031725599fdbb5d412689aa323e3e0b";
        snprintf(want, sizeof want, "CAPA\r\nAUTH CRAM-MD5\r\n%s\r\n", b64(resp, strlen(resp)));
        cr_assert_str_eq(harness_out(&h), want);
        harness_close(&h);
        /* Q39 / curl 891: "+" alone with a bare LF is an empty challenge. */
        const char *s891[] = {GREETING, "+\n", "-ERR Authentication failed\r\n", NULL};
        h = harness_start(s891, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_auth(h.c, "CRAM-MD5", &user_secret), POP3_ESERVER);
        char hex[POP3_MD5_HEX_SIZE];
        cr_assert_eq(pop3_cram_md5_digest("", 0, "secret", 6, hex), POP3_OK);
        char r891[64];
        snprintf(r891, sizeof r891, "user %s", hex);
        snprintf(want, sizeof want, "AUTH CRAM-MD5\r\n%s\r\n", b64(r891, strlen(r891)));
        cr_assert_str_eq(harness_out(&h), want);
        cr_assert(pop3_quirks(h.c) & POP3_TOL_BARE_PLUS);
        harness_close(&h);
    }
}

Test(auth, cancel_on_bad_base64_rfc5034_4_9)
{
    const char *bad[] = {"AAA=BBB", "=AAA", "not base64!", "QQ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
            char challenge[64];
            snprintf(challenge, sizeof challenge, "+ %s\r\n", bad[i]);
            const char *script[] = {GREETING, challenge, "-ERR AUTH exchange cancelled\r\n",
                                    "+OK\r\n", NULL};
            harness h = harness_start(script, harness_chunks[ci], NULL);
            ASSERT_RC(pop3_auth(h.c, "CRAM-MD5", &user_secret), POP3_ESERVER);
            cr_assert(harness_has(pop3_errmsg(h.c), "cancelled"));
            cr_assert(harness_has(pop3_errmsg(h.c), "not base64"));
            cr_assert_str_eq(harness_out(&h), "AUTH CRAM-MD5\r\n*\r\n");
            cr_assert(pop3_is_connected(h.c));
            ASSERT_RC(pop3_noop(h.c), POP3_OK);
            harness_close(&h);
        }
    }
}

Test(auth, cancel_then_server_accepts_is_fatal)
{
    const char *script[] = {GREETING, "+ !!!\r\n", "+OK welcome anyway\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_auth(h.c, "CRAM-MD5", &user_secret), POP3_EPROTO);
    cr_assert(!pop3_is_connected(h.c));
    harness_close(&h);
}

Test(auth, xoauth2_curl_870_874)
{
    pop3_credentials tok = {"user", "mF_9.B5f-4.1JqM", NULL, true};
    const char *raw = "user=user\001auth=Bearer mF_9.B5f-4.1JqM\001\001";
    char want[512];
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *s870[] = {GREETING, "+ \r\n", "+OK Login successful\r\n", NULL};
        harness h = harness_start(s870, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_auth(h.c, "XOAUTH2", &tok), POP3_OK);
        snprintf(want, sizeof want, "AUTH XOAUTH2\r\n%s\r\n", b64(raw, strlen(raw)));
        cr_assert_str_eq(harness_out(&h), want);
        harness_close(&h);
        const char *s874[] = {GREETING, CAPA_SASL("XOAUTH2"), "+OK Login successful\r\n", NULL};
        h = harness_start(s874, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_auth(h.c, "XOAUTH2", &tok), POP3_OK);
        snprintf(want, sizeof want, "CAPA\r\nAUTH XOAUTH2 %s\r\n", b64(raw, strlen(raw)));
        cr_assert_str_eq(harness_out(&h), want);
        harness_close(&h);
        /* An error challenge gets an empty response, then -ERR. */
        const char *err[] = {GREETING, "+ \r\n", "+ eyJzdGF0dXMiOiI0MDEifQ==\r\n",
                             "-ERR Authentication failed\r\n", NULL};
        h = harness_start(err, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_auth(h.c, "XOAUTH2", &tok), POP3_ESERVER);
        snprintf(want, sizeof want, "AUTH XOAUTH2\r\n%s\r\n\r\n", b64(raw, strlen(raw)));
        cr_assert_str_eq(harness_out(&h), want);
        harness_close(&h);
    }
}

Test(auth, oauthbearer_curl_887_888_889_890)
{
    pop3_credentials tok = {"user", "mF_9.B5f-4.1JqM", NULL, true};
    const char *raw = "n,a=user,\001host=pop.example.org\001port=110\001auth=Bearer "
                      "mF_9.B5f-4.1JqM\001\001";
    char want[512];
    char ir[256];
    snprintf(ir, sizeof ir, "%s", b64(raw, strlen(raw)));
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        /* 887: no initial response. */
        const char *s887[] = {GREETING, "+ \r\n", "+OK Login successful\r\n", NULL};
        harness h = harness_start(s887, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_auth(h.c, "OAUTHBEARER", &tok), POP3_OK);
        snprintf(want, sizeof want, "AUTH OAUTHBEARER\r\n%s\r\n", ir);
        cr_assert_str_eq(harness_out(&h), want);
        harness_close(&h);
        /* 888: initial response. */
        const char *s888[] = {GREETING, CAPA_SASL("OAUTHBEARER"), "+OK Login successful\r\n", NULL};
        h = harness_start(s888, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_auth(h.c, "OAUTHBEARER", &tok), POP3_OK);
        snprintf(want, sizeof want, "CAPA\r\nAUTH OAUTHBEARER %s\r\n", ir);
        cr_assert_str_eq(harness_out(&h), want);
        harness_close(&h);
        /* 889: failure as a "+ base64(JSON)" continuation, answered "AQ==". */
        const char *s889[] = {GREETING, "+ \r\n",
                              "+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3Bl"
                              "Iiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53"
                              "ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=\r\n",
                              "-ERR Authentication failed\r\n", NULL};
        h = harness_start(s889, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_auth(h.c, "OAUTHBEARER", &tok), POP3_ESERVER);
        snprintf(want, sizeof want, "AUTH OAUTHBEARER\r\n%s\r\nAQ==\r\n", ir);
        cr_assert_str_eq(harness_out(&h), want);
        harness_close(&h);
        /* 890: the same with an initial response. */
        const char *s890[] = {GREETING, CAPA_SASL("OAUTHBEARER"),
                              "+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n",
                              "-ERR Authentication failed\r\n", NULL};
        h = harness_start(s890, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_auth(h.c, "OAUTHBEARER", &tok), POP3_ESERVER);
        snprintf(want, sizeof want, "CAPA\r\nAUTH OAUTHBEARER %s\r\nAQ==\r\n", ir);
        cr_assert_str_eq(harness_out(&h), want);
        harness_close(&h);
    }
}

Test(auth, oauthbearer_escapes_saslname)
{
    pop3_credentials tok = {"a,b=c", "t", NULL, true};
    const char *script[] = {GREETING, "+ \r\n", "+OK\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_auth(h.c, "OAUTHBEARER", &tok), POP3_OK);
    const char *raw = "n,a=a=2Cb=3Dc,\001host=pop.example.org\001port=110\001auth=Bearer t\001\001";
    char want[512];
    snprintf(want, sizeof want, "AUTH OAUTHBEARER\r\n%s\r\n", b64(raw, strlen(raw)));
    cr_assert_str_eq(harness_out(&h), want);
    harness_close(&h);
    /* ^A in a credential would forge a field: refused before anything is sent. */
    pop3_credentials evil = {"user", "tok\001auth=x", NULL, true};
    h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_auth(h.c, "XOAUTH2", &evil), POP3_EUSAGE);
    cr_assert_str_eq(harness_out(&h), "");
    harness_close(&h);
}

Test(auth, initial_response_255_rule_rfc5034_4_7)
{
    /* A token that makes "AUTH XOAUTH2 <ir>" longer than 255 octets. */
    char token[400];
    memset(token, 'T', sizeof token - 1);
    token[sizeof token - 1] = '\0';
    pop3_credentials tok = {"user", token, NULL, true};
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, CAPA_SASL("XOAUTH2"), "+ \r\n", "+OK\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_auth(h.c, "XOAUTH2", &tok), POP3_OK);
        char raw[512];
        int n = snprintf(raw, sizeof raw, "user=user\001auth=Bearer %s\001\001", token);
        char want[1024];
        snprintf(want, sizeof want, "CAPA\r\nAUTH XOAUTH2\r\n%s\r\n", b64(raw, (size_t)n));
        cr_assert_str_eq(harness_out(&h), want);
        /* Every command line on the wire stays within 255 octets (RFC2449-4.2). */
        const char *out = harness_out(&h);
        const char *auth = strstr(out, "AUTH");
        cr_assert(strchr(auth, '\n') - auth + 1 <= 255);
        harness_close(&h);
    }
}

/* A mechanism of the caller's: an empty initial response, then echo challenges back,
 * then an empty line for the final "+ rspauth" (RFC5034-4.15). */
typedef struct echo_mech {
    int calls;
    size_t last_len;
} echo_mech;

static int echo_step(void *ud, const char *ch, size_t chlen, char *out, size_t cap, size_t *n)
{
    echo_mech *m = ud;
    m->calls++;
    if (ch == NULL) {
        *n = 0; /* an empty initial response: "=" (RFC5034-4.1) */
        return POP3_OK;
    }
    m->last_len = chlen;
    if (chlen > cap) return POP3_ELIMIT;
    if (chlen >= 7 && memcmp(ch, "rspauth", 7) == 0) {
        *n = 0;
        return POP3_OK;
    }
    memcpy(out, ch, chlen);
    *n = chlen;
    return POP3_OK;
}

Test(auth, custom_mechanism_rfc5034_4_1_4_10_4_15)
{
    /* A 40 KiB challenge, far longer than any status line (RFC5034-4.10). */
    size_t big = 40 * 1024;
    char *raw = malloc(big);
    memset(raw, 'c', big);
    size_t blen = pop3_base64_encoded_size(big);
    char *enc = malloc(blen + 1);
    size_t n;
    cr_assert_eq(pop3_base64_encode(raw, big, enc, blen + 1, &n), POP3_OK);
    char *challenge = malloc(blen + 8);
    snprintf(challenge, blen + 8, "+ %s\r\n", enc);
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING,       CAPA_SASL("X-ECHO"),
                                challenge,      "+ cnNwYXV0aD0xMjM=\r\n",
                                "+OK done\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        echo_mech m = {0};
        ASSERT_RC(pop3_auth_custom(h.c, "X-ECHO", echo_step, &m), POP3_OK);
        cr_assert_eq(m.last_len, 11);
        const char *out = harness_out(&h);
        cr_assert(strncmp(out, "CAPA\r\nAUTH X-ECHO =\r\n", 21) == 0);
        cr_assert(strncmp(out + 21, enc, blen) == 0);  /* echoed back whole */
        cr_assert_str_eq(out + 21 + blen, "\r\n\r\n"); /* then the empty final response */
        harness_close(&h);
    }
    /* Past max_sasl_line: a limit error, fatal. */
    pop3_options opt;
    pop3_options_default(&opt);
    opt.max_sasl_line = 4096;
    const char *script[] = {GREETING, challenge, NULL};
    harness h = harness_start(script, 0, &opt);
    echo_mech m = {0};
    ASSERT_RC(pop3_auth_custom(h.c, "X-ECHO", echo_step, &m), POP3_ELIMIT);
    cr_assert(!pop3_is_connected(h.c));
    harness_close(&h);
    free(raw);
    free(enc);
    free(challenge);
}

Test(auth, unknown_mechanism)
{
    harness h = harness_start((const char *[]){GREETING, NULL}, 0, NULL);
    ASSERT_RC(pop3_auth(h.c, "GSSAPI", &user_secret), POP3_EUSAGE);
    ASSERT_RC(pop3_auth(h.c, "PLAIN", NULL), POP3_EUSAGE);
    ASSERT_RC(pop3_auth_custom(h.c, "BAD MECH", echo_step, NULL), POP3_EUSAGE);
    cr_assert_str_eq(harness_out(&h), "");
    harness_close(&h);
}

/* pop3_login
 * ---------- */

Test(auth, login_picks_strongest_sasl)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, CAPA_SASL("LOGIN PLAIN CRAM-MD5"),
                                "+ PDE5NzIuOTg3NjU0MzIxQGN1cmw+\r\n", "+OK\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_login(h.c, &user_secret), POP3_OK);
        cr_assert(strncmp(harness_out(&h), "CAPA\r\nAUTH CRAM-MD5\r\n", 21) == 0);
        cr_assert(pop3_is_authenticated(h.c));
        harness_close(&h);
    }
}

Test(auth, login_downgrades_after_cancel_curl_879_q37)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING,
                                CAPA_SASL("CRAM-MD5 PLAIN"),
                                "+ Garbage\r\n",
                                "-ERR AUTH exchange cancelled\r\n",
                                "+OK Login successful\r\n",
                                NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_login(h.c, &user_secret), POP3_OK);
        cr_assert_str_eq(harness_out(&h),
                         "CAPA\r\nAUTH CRAM-MD5\r\n*\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
        harness_close(&h);
        /* A mechanism refused before any credential left also makes way. */
        const char *refused[] = {GREETING, CAPA_SASL("CRAM-MD5 PLAIN"),
                                 "-ERR Unrecognized authentication type\r\n", "+OK\r\n", NULL};
        h = harness_start(refused, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_login(h.c, &user_secret), POP3_OK);
        cr_assert_str_eq(harness_out(&h),
                         "CAPA\r\nAUTH CRAM-MD5\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
        harness_close(&h);
    }
}

Test(auth, login_stops_after_credentials_rejected)
{
    const char *script[] = {GREETING, CAPA_SASL("PLAIN"), "-ERR [AUTH] bad password\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_login(h.c, &user_secret), POP3_ESERVER);
    /* No second guess with the same bad password over USER/PASS. */
    cr_assert_str_eq(harness_out(&h), "CAPA\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
    harness_close(&h);
}

Test(auth, login_capa_err_falls_back_to_user_pass_curl_850)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {CURL_GREETING, "-ERR Unrecognized command\r\n", "+OK\r\n",
                                "+OK Login successful\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_login(h.c, &user_secret), POP3_OK);
        /* RFC5034-3.1 / RFC2449-5.4: no CAPA, no AUTH; APOP not allowed by default. */
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nUSER user\r\nPASS secret\r\n");
        harness_close(&h);
    }
}

Test(auth, login_apop_when_allowed_q34)
{
    pop3_options opt;
    pop3_options_default(&opt);
    opt.allow_apop = true;
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *ok[] = {CURL_GREETING, "+OK\r\nUSER\r\n.\r\n", "+OK\r\n", NULL};
        harness h = harness_start(ok, harness_chunks[ci], &opt);
        ASSERT_RC(pop3_login(h.c, &user_secret), POP3_OK);
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nAPOP user 7501b4cdc224d469940e65e7b5e4d6eb\r\n");
        harness_close(&h);
        /* Q34: a valid timestamp but APOP refused: USER/PASS. */
        const char *refused[] = {CURL_GREETING,
                                 "+OK\r\nUSER\r\n.\r\n",
                                 "-ERR APOP not supported\r\n",
                                 "+OK\r\n",
                                 "+OK\r\n",
                                 NULL};
        h = harness_start(refused, harness_chunks[ci], &opt);
        ASSERT_RC(pop3_login(h.c, &user_secret), POP3_OK);
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nAPOP user 7501b4cdc224d469940e65e7b5e4d6eb\r\n"
                                          "USER user\r\nPASS secret\r\n");
        harness_close(&h);
        /* [IN-USE]: the credentials were good, the maildrop is busy: stop there. */
        const char *busy[] = {CURL_GREETING, "+OK\r\nUSER\r\n.\r\n",
                              "-ERR [IN-USE] Do you have another POP session running?\r\n", NULL};
        h = harness_start(busy, harness_chunks[ci], &opt);
        ASSERT_RC(pop3_login(h.c, &user_secret), POP3_ESERVER);
        cr_assert_eq(pop3_response_code(h.c), POP3_CODE_IN_USE);
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nAPOP user 7501b4cdc224d469940e65e7b5e4d6eb\r\n");
        harness_close(&h);
    }
}

Test(auth, login_never_apop_by_default_nor_with_bad_timestamp)
{
    const char *script[] = {CURL_GREETING, "+OK\r\nUSER\r\n.\r\n", "+OK\r\n", "+OK\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_login(h.c, &user_secret), POP3_OK);
    cr_assert_str_eq(harness_out(&h), "CAPA\r\nUSER user\r\nPASS secret\r\n");
    harness_close(&h);
    pop3_options opt;
    pop3_options_default(&opt);
    opt.allow_apop = true;
    const char *q33[] = {"+OK E.Novation ready <a.b.c>\r\n", "+OK\r\nUSER\r\n.\r\n", "+OK\r\n",
                         "+OK\r\n", NULL};
    h = harness_start(q33, 0, &opt);
    ASSERT_RC(pop3_login(h.c, &user_secret), POP3_OK);
    cr_assert_str_eq(harness_out(&h), "CAPA\r\nUSER user\r\nPASS secret\r\n");
    harness_close(&h);
}

Test(auth, login_no_usable_method_rfc1939_4_2)
{
    const char *script[] = {"+OK ready\r\n", "+OK\r\nTOP\r\nSASL GSSAPI\r\n.\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_login(h.c, &user_secret), POP3_ESTATE);
    cr_assert(harness_has(pop3_errmsg(h.c), "no usable method"));
    cr_assert_str_eq(harness_out(&h), "CAPA\r\n");
    harness_close(&h);
}

Test(auth, login_bearer_uses_oauth_only)
{
    pop3_credentials tok = {"user", "tok", NULL, true};
    const char *script[] = {GREETING, CAPA_SASL("PLAIN XOAUTH2 OAUTHBEARER"), "+OK\r\n", NULL};
    harness h = harness_start(script, 1, NULL);
    ASSERT_RC(pop3_login(h.c, &tok), POP3_OK);
    cr_assert(strncmp(harness_out(&h), "CAPA\r\nAUTH OAUTHBEARER ", 23) == 0);
    harness_close(&h);
    const char *none[] = {GREETING, CAPA_SASL("PLAIN"), NULL};
    h = harness_start(none, 0, NULL);
    ASSERT_RC(pop3_login(h.c, &tok), POP3_ESTATE);
    cr_assert_str_eq(harness_out(&h), "CAPA\r\n"); /* the token never goes to PLAIN */
    harness_close(&h);
}

/* require_tls: nothing but CAPA, STLS and QUIT in clear
 * ---------------------------------------------------- */

Test(auth, require_tls_blocks_credentials_rfc8314_5_2b)
{
    pop3_options opt;
    pop3_options_default(&opt);
    opt.require_tls = true;
    const char *script[] = {GREETING, "+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n", "+OK bye\r\n", NULL};
    harness h = harness_start(script, 0, &opt);
    ASSERT_RC(pop3_user(h.c, "user"), POP3_ETLS);
    ASSERT_RC(pop3_pass(h.c, "secret"), POP3_ETLS);
    ASSERT_RC(pop3_apop(h.c, "user", "secret"), POP3_ETLS);
    ASSERT_RC(pop3_rpop(h.c, "user"), POP3_ETLS);
    ASSERT_RC(pop3_auth(h.c, "PLAIN", &user_secret), POP3_ETLS);
    ASSERT_RC(pop3_stat(h.c, NULL, NULL), POP3_ETLS);
    ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
    /* CAPA without STLS: login stops before any credential (RFC2595-2.2). */
    ASSERT_RC(pop3_login(h.c, &user_secret), POP3_ETLS);
    cr_assert(pop3_is_connected(h.c));
    ASSERT_RC(pop3_quit(h.c), POP3_OK);
    cr_assert_str_eq(harness_out(&h), "CAPA\r\nQUIT\r\n");
    harness_close(&h);
}

/* Traces and the putline hook
 * --------------------------- */

typedef struct trace {
    char text[8192];
    size_t len;
} trace;

static void collect_trace(void *ud, int level, const char *line)
{
    trace *t = ud;
    int n = snprintf(t->text + t->len, sizeof t->text - t->len, "%d %s\n", level, line);
    if (n > 0) t->len += (size_t)n;
}

Test(auth, traces_mask_secrets)
{
    for (int level = 1; level <= 2; level++) {
        const char *script[] = {GREETING, CAPA_SASL("PLAIN"), "+OK\r\n", "+OK\r\n",
                                "+ \r\n", "+OK\r\n",          NULL};
        harness h = harness_open(script, 0, NULL);
        trace t = {{0}, 0};
        pop3_set_debug_callback(h.c, collect_trace, &t);
        pop3_set_debuglevel(h.c, level);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_user(h.c, "user"), POP3_OK);
        ASSERT_RC(pop3_pass(h.c, "s3cr3t pw"), POP3_OK);
        /* A second session part: SASL lines are masked too. */
        pop3_close(h.c);
        harness_close(&h);

        const char *sasl[] = {GREETING, "+ \r\n", "+OK\r\n", NULL};
        h = harness_open(sasl, 0, NULL);
        pop3_set_debug_callback(h.c, collect_trace, &t);
        pop3_set_debuglevel(h.c, level);
        pop3_credentials cred = {"user", "s3cr3t pw", NULL, false};
        ASSERT_RC(pop3_auth(h.c, "PLAIN", &cred), POP3_OK);
        harness_close(&h);

        cr_assert(harness_has(t.text, "*cmd* PASS ****"), "%s", t.text);
        cr_assert(harness_has(t.text, "*cmd* USER user"));
        cr_assert(!harness_has(t.text, "s3cr3t"), "%s", t.text);
        cr_assert(!harness_has(t.text, b64("\0user\0s3cr3t pw", 15)), "%s", t.text);
        if (level == 2) {
            cr_assert(harness_has(t.text, "*put* PASS ****"));
            cr_assert(harness_has(t.text, "*resp* +OK"));
            cr_assert(harness_has(t.text, "*get* SASL PLAIN"));
            cr_assert(harness_has(t.text, "*cmd* ****"));
        } else {
            cr_assert(!harness_has(t.text, "*put*"));
        }
    }
}

Test(auth, custom_command_secrets_masked_too)
{
    const char *script[] = {GREETING, "+OK\r\n", "+OK\r\n", NULL};
    harness h = harness_open(script, 0, NULL);
    trace t = {{0}, 0};
    pop3_set_debug_callback(h.c, collect_trace, &t);
    pop3_set_debuglevel(h.c, 2);
    const char *pass[] = {"hunter2"};
    ASSERT_RC(pop3_command(h.c, "pass", pass, 1, NULL, NULL), POP3_OK);
    const char *apop[] = {"user", "0123456789abcdef0123456789abcdef"};
    ASSERT_RC(pop3_command(h.c, "APOP", apop, 2, NULL, NULL), POP3_OK);
    cr_assert(!harness_has(t.text, "hunter2") && !harness_has(t.text, "0123456789abcdef"), "%s",
              t.text);
    cr_assert(harness_has(t.text, "*cmd* pass ****"));
    cr_assert(harness_has(t.text, "*cmd* APOP user ****"));
    harness_close(&h);
}

Test(auth, debug_to_a_stream)
{
    char buf[4096] = {0};
    FILE *fp = fmemopen(buf, sizeof buf, "w");
    const char *script[] = {GREETING, "+OK\r\n", NULL};
    harness h = harness_open(script, 0, NULL);
    pop3_set_debug_stream(h.c, fp);
    pop3_set_debuglevel(h.c, 1);
    ASSERT_RC(pop3_pass(h.c, "hunter2"), POP3_OK);
    fclose(fp);
    cr_assert(harness_has(buf, "*cmd* PASS ****\n"), "%s", buf);
    cr_assert(!harness_has(buf, "hunter2"));
    harness_close(&h);
}

typedef struct audit {
    char lines[4096];
    size_t len;
    int veto_on; /* refuse the line containing this letter, 0 none */
} audit;

static int audit_hook(void *ud, const char *line, size_t len)
{
    audit *a = ud;
    memcpy(a->lines + a->len, line, len);
    a->len += len;
    if (a->veto_on && memchr(line, a->veto_on, len)) return POP3_EUSAGE;
    return POP3_OK;
}

Test(auth, putline_hook_sees_every_line_unmasked)
{
    const char *script[] = {GREETING, "+OK\r\n", "+OK\r\n", "+ \r\n", "+OK\r\n", NULL};
    harness h = harness_open(script, 1, NULL);
    audit a = {{0}, 0, 0};
    pop3_set_putline(h.c, audit_hook, &a);
    ASSERT_RC(pop3_user(h.c, "user"), POP3_OK);
    ASSERT_RC(pop3_pass(h.c, "secret"), POP3_OK);
    cr_assert_str_eq(a.lines, "USER user\r\nPASS secret\r\n");
    harness_close(&h);

    const char *s2[] = {GREETING, "+OK\r\n", NULL};
    h = harness_open(s2, 0, NULL);
    audit v = {{0}, 0, 'Z'};
    pop3_set_putline(h.c, audit_hook, &v);
    ASSERT_RC(pop3_user(h.c, "ZED"), POP3_EUSAGE);
    cr_assert_str_eq(harness_out(&h), ""); /* vetoed: nothing sent */
    ASSERT_RC(pop3_user(h.c, "ok"), POP3_OK);
    cr_assert_str_eq(harness_out(&h), "USER ok\r\n");
    harness_close(&h);
}

/* RFC6856-2.7: UTF-8 credentials only after "UTF8 USER" */

Test(auth, non_ascii_credentials_need_utf8_user_rfc6856_2_7)
{
    const char *plain_capa[] = {GREETING, "+OK\r\nUSER\r\nUTF8\r\n.\r\n", NULL};
    harness h = harness_start(plain_capa, 0, NULL);
    ASSERT_RC(pop3_user(h.c, "j\xc3\xb6rg"), POP3_EUSAGE); /* CAPA unknown */
    ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
    ASSERT_RC(pop3_user(h.c, "j\xc3\xb6rg"), POP3_EUSAGE); /* UTF8 without USER */
    ASSERT_RC(pop3_pass(h.c, "p\xc3\xa4ss"), POP3_EUSAGE);
    ASSERT_RC(pop3_apop(h.c, "user", "p\xc3\xa4ss"), POP3_EUSAGE);
    cr_assert(harness_has(pop3_errmsg(h.c), "UTF8 USER"));
    cr_assert_str_eq(harness_out(&h), "CAPA\r\n");
    harness_close(&h);

    const char *utf8_capa[] = {
        GREETING, "+OK\r\nUSER\r\nUTF8 USER\r\n.\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", NULL};
    h = harness_start(utf8_capa, 0, NULL);
    ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
    ASSERT_RC(pop3_utf8(h.c), POP3_OK);
    ASSERT_RC(pop3_user(h.c, "j\xc3\xb6rg"), POP3_OK);
    ASSERT_RC(pop3_pass(h.c, "p\xc3\xa4ss"), POP3_OK);
    cr_assert_str_eq(harness_out(&h), "CAPA\r\nUTF8\r\nUSER j\xc3\xb6rg\r\nPASS p\xc3\xa4ss\r\n");
    harness_close(&h);
}
