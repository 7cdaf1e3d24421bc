/*
 * test_client_stls.c - the STLS policy (RFC 2595 section 4) over the in-memory
 * transport, whose starttls only records where the handshake happened: so these tests
 * see exactly which octets went out in clear. Real handshakes are in test_client_tls.c.
 * Also how pop3_tls_info reads a transport's optional tls_info op (a caller's transport
 * with it, without it, or answering incompletely).
 *
 * RFC matrix rows (client side): RFC2595-2.2, RFC2595-4.5, RFC2595-4.6, RFC2595-4.7,
 * RFC2595-4.8, RFC2595-9, RFC8314-5.2b, RFC5034-4.16. curl tests 982, 985. Q32, Q41.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client_harness.h"

#define GREETING "+OK pop.example.com BlurdyBlurp POP3 server ready\r\n"
#define CAPA_PRE                                                                       \
    "+OK List of capabilities follows\r\nSASL DIGEST-MD5 GSSAPI ANONYMOUS\r\nSTLS\r\n" \
    "USER\r\nIMPLEMENTATION BlurdyBlurp POP3 server\r\n.\r\n"
#define CAPA_POST                                                                    \
    "+OK List of capabilities follows\r\nSASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS\r\n" \
    "IMPLEMENTATION BlurdyBlurp POP3 server\r\n.\r\n"

static const pop3_credentials test_cred = {"test", "test", "test", false};

/* No octet of `secret` (a password, a USER/PASS/AUTH/APOP command) before the handshake. */
static void assert_nothing_secret_in_clear(const harness *h)
{
    size_t len;
    const char *out = pop3_transport_memory_output(h->t, &len);
    size_t at = pop3_transport_memory_tls_offset(h->t);
    size_t clear = at == (size_t)-1 ? len : at;
    const char *words[] = {"USER", "PASS", "APOP", "AUTH", "RPOP", "secret", "dGVzd"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        const char *p = strstr(out, words[i]);
        cr_assert(p == NULL || (size_t)(p - out) >= clear, "%s sent in clear: %s", words[i], out);
    }
}

Test(stls, rfc5034_example_1_recapa_rfc2595_4_7)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING,
                                CAPA_PRE,
                                "+OK Begin TLS negotiation now\r\n",
                                CAPA_POST,
                                "+OK Maildrop locked and ready\r\n",
                                NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        cr_assert(!pop3_capa_has_param(pop3_capabilities(h.c), "SASL", "PLAIN"));
        ASSERT_RC(pop3_stls(h.c, NULL), POP3_OK);
        cr_assert(pop3_is_tls(h.c));
        cr_assert_str_eq(pop3_response(h.c), "+OK Begin TLS negotiation now");
        /* Re-asked after the handshake: the list of the TLS session is used. */
        const pop3_capa_set *caps = pop3_capabilities(h.c);
        cr_assert(caps && pop3_capa_has_param(caps, "SASL", "PLAIN"));
        cr_assert_null(pop3_capa_find(caps, "STLS"));
        ASSERT_RC(pop3_login(h.c, &test_cred), POP3_OK);
        cr_assert_str_eq(harness_out(&h),
                         "CAPA\r\nSTLS\r\nCAPA\r\nAUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n");
        /* RFC2595-4.5: the handshake came right after "STLS\r\n", nothing in between. */
        cr_assert_eq(pop3_transport_memory_tls_offset(h.t), strlen("CAPA\r\nSTLS\r\n"));
        assert_nothing_secret_in_clear(&h);
        harness_close(&h);
    }
}

Test(stls, asks_capa_first_when_unknown)
{
    const char *script[] = {GREETING, CAPA_PRE, "+OK go\r\n", CAPA_POST, NULL};
    harness h = harness_start(script, 1, NULL);
    ASSERT_RC(pop3_stls(h.c, NULL), POP3_OK);
    cr_assert_str_eq(harness_out(&h), "CAPA\r\nSTLS\r\nCAPA\r\n");
    harness_close(&h);
}

Test(stls, injection_after_ok_curl_982_rfc2595_4_8)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        /* The +OK and forged post-TLS replies in one segment, as a man in the middle
         * writes them. Read together, the client sees the surplus (EPROTO); read one
         * octet at a time, they are still in the pipe at the handshake, which then
         * fails (ETLS). Either way the session ends with nothing more sent. */
        const char *script[] = {GREETING, CAPA_PRE,
                                "+OK Begin TLS\r\n+OK user accepted\r\n+OK authenticated\r\n",
                                NULL};
        pop3_options opt;
        pop3_options_default(&opt);
        opt.require_tls = true;
        harness h = harness_start(script, harness_chunks[ci], &opt);
        int rc = pop3_login(h.c, &test_cred);
        cr_assert(rc == POP3_EPROTO || rc == POP3_ETLS, "%s", pop3_errname(rc));
        cr_assert(!pop3_is_connected(h.c));
        cr_assert(!pop3_is_authenticated(h.c));
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nSTLS\r\n");
        if (harness_chunks[ci] == 0) cr_assert(harness_has(pop3_errmsg(h.c), "injection"));
        cr_assert_eq(pop3_transport_memory_tls_offset(h.t), (size_t)-1);
        harness_close(&h);
    }
}

Test(stls, err_with_injected_replies_curl_982)
{
    /* curl 982 proper: -ERR to STLS followed by forged successes in the same write.
     * With require_tls the client stops before any credential. */
    pop3_options opt;
    pop3_options_default(&opt);
    opt.require_tls = true;
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, CAPA_PRE,
                                "-ERR Not now\r\n+OK user accepted\r\n+OK authenticated\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], &opt);
        int rc = pop3_login(h.c, &test_cred);
        cr_assert_eq(rc, POP3_ETLS, "%s", pop3_errname(rc));
        cr_assert(harness_has(pop3_errmsg(h.c), "before any credential"));
        cr_assert(!pop3_is_authenticated(h.c));
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nSTLS\r\n");
        harness_close(&h);
    }
    /* Without require_tls the -ERR is just a reply; the surplus is caught next. */
    const char *script[] = {GREETING, CAPA_PRE,
                            "-ERR Not now\r\n+OK user accepted\r\n+OK authenticated\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_stls(h.c, NULL), POP3_ESERVER);
    ASSERT_RC(pop3_user(h.c, "test"), POP3_EPROTO);
    cr_assert_str_eq(harness_out(&h), "CAPA\r\nSTLS\r\n");
    harness_close(&h);
}

Test(stls, stripped_from_capa_rfc2595_9)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_stls(h.c, NULL), POP3_ETLS);
        cr_assert(harness_has(pop3_errmsg(h.c), "STLS not supported by server"));
        cr_assert(pop3_is_connected(h.c));
        cr_assert_str_eq(harness_out(&h), "CAPA\r\n");
        harness_close(&h);

        pop3_options opt;
        pop3_options_default(&opt);
        opt.require_tls = true;
        h = harness_start(script, harness_chunks[ci], &opt);
        ASSERT_RC(pop3_login(h.c, &test_cred), POP3_ETLS);
        cr_assert_str_eq(harness_out(&h), "CAPA\r\n");
        harness_close(&h);
    }
}

Test(stls, capa_err_with_require_tls_curl_985)
{
    pop3_options opt;
    pop3_options_default(&opt);
    opt.require_tls = true;
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "-ERR Unrecognized command\r\n", "+OK\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], &opt);
        ASSERT_RC(pop3_login(h.c, &test_cred), POP3_ETLS);
        /* Only CAPA was sent: no downgrade to USER/PASS. */
        cr_assert_str_eq(harness_out(&h), "CAPA\r\n");
        harness_close(&h);
    }
}

Test(stls, refused_stays_in_clear)
{
    const char *script[] = {GREETING, CAPA_PRE, "-ERR [SYS/TEMP] TLS not available now\r\n",
                            "+OK\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_stls(h.c, NULL), POP3_ESERVER);
    cr_assert_eq(pop3_response_code(h.c), POP3_CODE_SYS_TEMP);
    cr_assert(pop3_is_connected(h.c) && !pop3_is_tls(h.c));
    ASSERT_RC(pop3_noop(h.c), POP3_OK); /* the caller chose to go on in clear */
    harness_close(&h);
}

Test(stls, only_before_login_and_once_rfc2595_4_6)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, CAPA_PRE, "+OK\r\n", "+OK\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_user(h.c, "u"), POP3_OK);
        ASSERT_RC(pop3_pass(h.c, "p"), POP3_OK);
        ASSERT_RC(pop3_stls(h.c, NULL), POP3_ESTATE);
        cr_assert_str_eq(pop3_errmsg(h.c),
                         "STLS is only allowed before login (RFC 2595 section 4)");
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nUSER u\r\nPASS p\r\n");
        harness_close(&h);

        const char *twice[] = {GREETING, CAPA_PRE, "+OK\r\n", CAPA_POST, NULL};
        h = harness_start(twice, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_stls(h.c, NULL), POP3_OK);
        ASSERT_RC(pop3_stls(h.c, NULL), POP3_ESTATE);
        cr_assert_str_eq(pop3_errmsg(h.c), "TLS session already established");
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nSTLS\r\nCAPA\r\n");
        harness_close(&h);
    }
}

Test(stls, handshake_failure_is_fatal)
{
    const char *script[] = {GREETING, CAPA_PRE, "+OK\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    pop3_transport_memory_fail_starttls(h.t, POP3_ETLS);
    ASSERT_RC(pop3_stls(h.c, NULL), POP3_ETLS);
    cr_assert(!pop3_is_connected(h.c));
    cr_assert(harness_has(pop3_errmsg(h.c), "handshake"));
    harness_close(&h);
}

Test(stls, require_tls_login_runs_stls_first_rfc8314_5_2b)
{
    pop3_options opt;
    pop3_options_default(&opt);
    opt.require_tls = true;
    const pop3_credentials user = {"mrose", "secret", NULL, false};
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {"+OK ready\r\n",
                                "+OK\r\nSTLS\r\nUSER\r\n.\r\n",
                                "+OK go\r\n",
                                "+OK\r\nUSER\r\n.\r\n",
                                "+OK\r\n",
                                "+OK locked\r\n",
                                NULL};
        harness h = harness_start(script, harness_chunks[ci], &opt);
        ASSERT_RC(pop3_login(h.c, &user), POP3_OK);
        cr_assert_str_eq(harness_out(&h), "CAPA\r\nSTLS\r\nCAPA\r\nUSER mrose\r\nPASS secret\r\n");
        assert_nothing_secret_in_clear(&h);
        harness_close(&h);
    }
}

Test(stls, implicit_tls_needs_no_stls)
{
    pop3_options opt;
    pop3_options_default(&opt);
    opt.require_tls = true;
    const char *script[] = {"+OK ready\r\n", "+OK\r\nUSER\r\n.\r\n", "+OK\r\n", "+OK\r\n", NULL};
    /* A transport that is TLS from the start (RFC 8314 section 3.1). */
    pop3_transport *t = pop3_transport_memory_new();
    pop3_transport_memory_set_tls(t, true);
    for (unsigned i = 0; script[i]; i++)
        pop3_transport_memory_add_str(t, script[i], i);
    pop3_client *c;
    cr_assert_eq(pop3_client_new(&c, &opt), POP3_OK);
    cr_assert_eq(pop3_connect_transport(c, t, "h", 995), POP3_OK);
    const pop3_credentials user = {"mrose", "secret", NULL, false};
    cr_assert_eq(pop3_login(c, &user), POP3_OK, "%s", pop3_errmsg(c));
    cr_assert_str_eq(pop3_transport_memory_output(t, NULL),
                     "CAPA\r\nUSER mrose\r\nPASS secret\r\n");
    pop3_client_free(c);
    pop3_transport_memory_free(t);
}

Test(stls, never_after_utf8_rfc6856_2_5)
{
    const char *script[] = {GREETING, CAPA_PRE, "+OK UTF8 enabled\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
    ASSERT_RC(pop3_utf8(h.c), POP3_OK);
    ASSERT_RC(pop3_stls(h.c, NULL), POP3_ESTATE);
    cr_assert(harness_has(pop3_errmsg(h.c), "after UTF8"));
    cr_assert_str_eq(harness_out(&h), "CAPA\r\nUTF8\r\n");
    harness_close(&h);
}

/* pop3_tls_info asks the transport's optional tls_info op
 * ------------------------------------------------------- */

/* A caller's transport around the memory one, as the `pop3` command wraps its socket:
 * with or without the tls_info op, or with one that answers incompletely. */
typedef struct wrapped {
    pop3_transport base;
    pop3_transport *inner;
    const char *version, *cipher;
} wrapped;

static int w_read(pop3_transport *t, char *buf, size_t cap, size_t *got, int timeout_ms)
{
    wrapped *w = (wrapped *)t;
    return w->inner->ops->read(w->inner, buf, cap, got, timeout_ms);
}

static int w_write(pop3_transport *t, const char *buf, size_t len, int timeout_ms)
{
    wrapped *w = (wrapped *)t;
    return w->inner->ops->write(w->inner, buf, len, timeout_ms);
}

static int w_starttls(pop3_transport *t, const pop3_tls_options *tls, int timeout_ms)
{
    wrapped *w = (wrapped *)t;
    return w->inner->ops->starttls(w->inner, tls, timeout_ms);
}

static bool w_is_tls(const pop3_transport *t)
{
    const wrapped *w = (const wrapped *)t;
    return w->inner->ops->is_tls(w->inner);
}

static void w_close(pop3_transport *t)
{
    (void)t; /* the test frees both */
}

static int w_tls_info(const pop3_transport *t, const char **version, const char **cipher)
{
    const wrapped *w = (const wrapped *)t;
    *version = w->version;
    *cipher = w->cipher;
    return POP3_OK; /* even when a name is missing: the client must not trust that */
}

/* A table written before tls_info existed: the op is NULL. */
static const pop3_transport_ops old_ops = {
    .read = w_read, .write = w_write, .starttls = w_starttls, .is_tls = w_is_tls, .close = w_close};
static const pop3_transport_ops new_ops = {.read = w_read,
                                           .write = w_write,
                                           .starttls = w_starttls,
                                           .is_tls = w_is_tls,
                                           .close = w_close,
                                           .tls_info = w_tls_info};

static char tls_line[256];

static void keep_tls_line(void *ud, int level, const char *line)
{
    (void)ud, (void)level;
    if (strncmp(line, "*tls* ", 6) == 0) snprintf(tls_line, sizeof tls_line, "%s", line);
}

/* A client whose "*tls*" trace line lands in tls_line. */
static pop3_client *traced_client(void)
{
    pop3_client *c;
    cr_assert_eq(pop3_client_new(&c, NULL), POP3_OK);
    tls_line[0] = '\0';
    pop3_set_debuglevel(c, 1);
    pop3_set_debug_callback(c, keep_tls_line, NULL);
    return c;
}

/* Run STLS over a wrapped transport; pop3_tls_info's status, its names in `v`/`n`. */
static int stls_info(const pop3_transport_ops *ops, const char *version, const char *cipher,
                     const char **v, const char **n)
{
    const char *script[] = {GREETING, CAPA_PRE, "+OK Begin TLS\r\n", CAPA_POST, NULL};
    wrapped w = {.base.ops = ops, .version = version, .cipher = cipher};
    w.inner = pop3_transport_memory_new();
    for (unsigned i = 0; script[i]; i++)
        pop3_transport_memory_add_str(w.inner, script[i], i);
    pop3_client *c = traced_client();
    cr_assert_eq(pop3_connect_transport(c, &w.base, "h", 110), POP3_OK);
    *v = *n = "x";
    cr_assert_eq(pop3_tls_info(c, v, n), POP3_ESTATE, "in clear");
    cr_assert(*v == NULL && *n == NULL);
    cr_assert_eq(pop3_stls(c, NULL), POP3_OK, "%s", pop3_errmsg(c));
    *v = *n = "x";
    int rc = pop3_tls_info(c, v, n);
    pop3_client_free(c);
    pop3_transport_memory_free(w.inner);
    return rc;
}

Test(stls, tls_info_from_the_transport)
{
    const char *v, *n;
    cr_assert_eq(stls_info(&new_ops, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", &v, &n), POP3_OK);
    cr_assert_str_eq(v, "TLSv1.2");
    cr_assert_str_eq(n, "ECDHE-RSA-AES128-GCM-SHA256");
    cr_assert_str_eq(tls_line, "*tls* TLS established: TLSv1.2, ECDHE-RSA-AES128-GCM-SHA256");
}

Test(stls, tls_info_not_provided_by_an_older_table)
{
    const char *v, *n;
    cr_assert_eq(stls_info(&old_ops, NULL, NULL, &v, &n), POP3_ESTATE);
    cr_assert(v == NULL && n == NULL);
    /* The session is TLS all the same, and the trace says so without names. */
    cr_assert_str_eq(tls_line, "*tls* TLS established");
}

Test(stls, tls_info_incomplete_answer_is_not_passed_on)
{
    const char *v, *n;
    cr_assert_eq(stls_info(&new_ops, "TLSv1.3", NULL, &v, &n), POP3_ESTATE);
    cr_assert(v == NULL && n == NULL);
    cr_assert_eq(stls_info(&new_ops, "", "TLS_AES_128_GCM_SHA256", &v, &n), POP3_ESTATE);
    cr_assert(v == NULL && n == NULL);
    cr_assert_str_eq(tls_line, "*tls* TLS established");
}

Test(stls, tls_info_of_implicit_tls_is_traced_before_the_greeting)
{
    pop3_transport *t = pop3_transport_memory_new();
    pop3_transport_memory_set_tls(t, true);
    pop3_transport_memory_add_str(t, "+OK ready\r\n", 0);
    wrapped w = {.base.ops = &new_ops,
                 .inner = t,
                 .version = "TLSv1.3",
                 .cipher = "TLS_CHACHA20_POLY1305_SHA256"};
    pop3_client *c = traced_client();
    cr_assert_eq(pop3_connect_transport(c, &w.base, "h", 995), POP3_OK);
    cr_assert_str_eq(tls_line, "*tls* TLS established: TLSv1.3, TLS_CHACHA20_POLY1305_SHA256");
    const char *v;
    cr_assert_eq(pop3_tls_info(c, &v, NULL), POP3_OK);
    cr_assert_str_eq(v, "TLSv1.3");
    pop3_client_free(c);
    pop3_transport_memory_free(t);
}
