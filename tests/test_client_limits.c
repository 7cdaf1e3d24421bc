/*
 * test_client_limits.c - every limit of pop3_options, at the limit (accepted) and one
 * past it (a clear POP3_ELIMIT; fatal only where the stream cannot be followed any
 * further), each reply delivered whole and one octet at a time. README.md "Limits".
 * RFC1939-3.3 / RFC2449-4.3 (long status lines), Q43 (body lines are not limited),
 * Q47 (hostile listings).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client_harness.h"

/* A status line of exactly `total` octets, CRLF included. */
static char *status_line(size_t total)
{
    char *s = malloc(total + 1);
    memcpy(s, "+OK ", 4);
    memset(s + 4, 'x', total - 6);
    memcpy(s + total - 2, "\r\n", 3);
    return s;
}

Test(limits, defaults)
{
    pop3_options o;
    pop3_options_default(&o);
    cr_assert_eq(o.max_line, 2048); /* poplib's _MAXLINE */
    cr_assert_eq(o.max_listing, 1000000);
    cr_assert_eq(o.pipeline_window, 32);
    cr_assert_eq(o.timeout_ms, 60000);
    cr_assert(!o.require_tls && !o.allow_apop && o.sasl_ir);
    cr_assert_eq(o.tolerances, POP3_TOL_DEFAULT);
}

Test(limits, options_checked)
{
    pop3_client *c = NULL;
    pop3_options o;
    pop3_options_default(&o);
    o.max_line = 7;
    cr_assert_eq(pop3_client_new(&c, &o), POP3_EUSAGE);
    pop3_options_default(&o);
    o.pipeline_window = 0;
    cr_assert_eq(pop3_client_new(&c, &o), POP3_EUSAGE);
    pop3_options_default(&o);
    o.pipeline_max_bytes = 254; /* must hold one command line of 255 octets */
    cr_assert_eq(pop3_client_new(&c, &o), POP3_EUSAGE);
    pop3_options_default(&o);
    o.connect_timeout_ms = 0;
    cr_assert_eq(pop3_client_new(&c, &o), POP3_EUSAGE);
    pop3_options_default(&o);
    o.max_sasl_line = o.max_line - 1;
    cr_assert_eq(pop3_client_new(&c, &o), POP3_EUSAGE);
    cr_assert_null(c);
    pop3_options_default(&o);
    o.timeout_ms = -1; /* wait forever is allowed */
    cr_assert_eq(pop3_client_new(&c, &o), POP3_OK);
    pop3_client_free(c);
}

Test(limits, max_line_status)
{
    size_t limits[] = {2048, 64};
    for (size_t li = 0; li < 2; li++) {
        for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
            pop3_options o;
            pop3_options_default(&o);
            o.max_line = limits[li];
            char *at = status_line(limits[li]);
            char *past = status_line(limits[li] + 1);
            const char *script[] = {"+OK\r\n", at, past, NULL};
            harness h = harness_start(script, harness_chunks[ci], &o);
            ASSERT_RC(pop3_noop(h.c), POP3_OK);
            cr_assert_eq(strlen(pop3_response(h.c)), limits[li] - 2);
            ASSERT_RC(pop3_noop(h.c), POP3_ELIMIT);
            cr_assert(harness_has(pop3_errmsg(h.c), "line limit"));
            cr_assert(!pop3_is_connected(h.c)); /* the rest of the line cannot be skipped */
            harness_close(&h);
            free(at);
            free(past);
        }
    }
}

Test(limits, greeting_and_listing_lines)
{
    pop3_options o;
    pop3_options_default(&o);
    o.max_line = 32;
    /* The greeting is a status line like any other. */
    char *g = status_line(33);
    harness h = harness_open((const char *[]){g, NULL}, 0, &o);
    cr_assert_eq(h.rc, POP3_ELIMIT);
    harness_close(&h);
    free(g);
    /* A listing line: 30 octets of "1 <digits>" and CRLF is at the limit. */
    const char *script[] = {"+OK\r\n", "+OK\r\n1 1234567890123456789012345678\r\n.\r\n",
                            "+OK\r\n1 12345678901234567890123456789\r\n.\r\n", NULL};
    h = harness_start(script, 1, &o);
    pop3_listing l = {0};
    ASSERT_RC(pop3_uidl(h.c, &l), POP3_OK);
    ASSERT_RC(pop3_uidl(h.c, &l), POP3_ELIMIT);
    pop3_listing_free(&l);
    harness_close(&h);
}

Test(limits, body_lines_are_not_bounded_q43)
{
    pop3_options o;
    pop3_options_default(&o);
    o.max_line = 64;
    size_t n = 100000;
    char *reply = malloc(n + 32);
    memcpy(reply, "+OK\r\n", 5);
    memset(reply + 5, 'b', n);
    memcpy(reply + 5 + n, "\r\n.\r\n", 6);
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        harness h = harness_start((const char *[]){"+OK\r\n", reply, NULL}, harness_chunks[ci], &o);
        harness_buf b = {0};
        ASSERT_RC(pop3_retr(h.c, 1, harness_sink, &b), POP3_OK);
        cr_assert_eq(b.len, n + 2);
        harness_buf_free(&b);
        harness_close(&h);
    }
    free(reply);
}

static char *listing(size_t entries)
{
    char *s = malloc(32 + entries * 16);
    size_t o = (size_t)sprintf(s, "+OK\r\n");
    for (size_t i = 1; i <= entries; i++)
        o += (size_t)sprintf(s + o, "%zu 100\r\n", i);
    sprintf(s + o, ".\r\n");
    return s;
}

Test(limits, max_listing_q47)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        pop3_options o;
        pop3_options_default(&o);
        o.max_listing = 50;
        char *at = listing(50), *past = listing(51);
        const char *script[] = {"+OK\r\n", at, at, past, at, past, NULL};
        harness h = harness_start(script, harness_chunks[ci], &o);
        pop3_listing l = {0};
        ASSERT_RC(pop3_list(h.c, &l), POP3_OK);
        cr_assert_eq(l.count, 50);
        pop3_lines lines;
        ASSERT_RC(pop3_list_lines(h.c, &lines), POP3_OK);
        cr_assert_eq(lines.count, 50);
        pop3_lines_free(&lines);
        /* The buffered shape is read to its end, so the session survives. */
        ASSERT_RC(pop3_list_lines(h.c, &lines), POP3_ELIMIT);
        pop3_lines_free(&lines);
        cr_assert(pop3_is_connected(h.c));
        ASSERT_RC(pop3_list(h.c, &l), POP3_OK);
        /* The structured listing stops at the decoder: fatal. */
        ASSERT_RC(pop3_list(h.c, &l), POP3_ELIMIT);
        cr_assert(!pop3_is_connected(h.c));
        pop3_listing_free(&l);
        harness_close(&h);
        free(at);
        free(past);
    }
}

Test(limits, max_capa)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        pop3_options o;
        pop3_options_default(&o);
        o.max_capa = 3;
        const char *script[] = {"+OK\r\n", "+OK\r\nA\r\nB\r\nC\r\n.\r\n",
                                "+OK\r\nA\r\nB\r\nC\r\nD\r\n.\r\n", "+OK\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], &o);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_OK);
        cr_assert_eq(pop3_capabilities(h.c)->count, 3);
        ASSERT_RC(pop3_capa(h.c, NULL), POP3_ELIMIT);
        cr_assert_null(pop3_capabilities(h.c)); /* an incomplete list is no list */
        cr_assert(pop3_is_connected(h.c));
        ASSERT_RC(pop3_noop(h.c), POP3_OK);
        harness_close(&h);
    }
}

Test(limits, max_buffered)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        pop3_options o;
        pop3_options_default(&o);
        o.max_buffered = 12; /* "0123456789\r\n" */
        const char *script[] = {"+OK\r\n", "+OK\r\n0123456789\r\n.\r\n",
                                "+OK\r\n0123456789A\r\n.\r\n", "+OK 1 13\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], &o);
        pop3_lines l;
        ASSERT_RC(pop3_retr_lines(h.c, 1, &l), POP3_OK);
        cr_assert_eq(l.octets, 12);
        cr_assert_str_eq(l.lines[0].ptr, "0123456789");
        pop3_lines_free(&l);
        ASSERT_RC(pop3_retr_lines(h.c, 2, &l), POP3_ELIMIT);
        cr_assert(harness_has(pop3_errmsg(h.c), "max_buffered"));
        cr_assert_str_eq(l.response, "+OK");
        pop3_lines_free(&l);
        /* The rest of the body was skipped: the next reply is read right. */
        uint64_t size = 0;
        ASSERT_RC(pop3_list_one(h.c, 1, &size), POP3_OK);
        cr_assert_eq(size, 13);
        harness_close(&h);
    }
}

Test(limits, max_sasl_line)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        pop3_options o;
        pop3_options_default(&o);
        o.max_line = 64;
        o.max_sasl_line = 128;
        /* "+ " + 124 base64 octets + CRLF = 128. */
        char at[160], past[160];
        memcpy(at, "+ ", 2);
        memset(at + 2, 'Q', 124);
        memcpy(at + 126, "\r\n", 3);
        memcpy(past, "+ ", 2);
        memset(past + 2, 'Q', 128);
        memcpy(past + 130, "\r\n", 3);
        const char *script[] = {"+OK\r\n", at, "-ERR no\r\n", past, NULL};
        harness h = harness_start(script, harness_chunks[ci], &o);
        pop3_credentials cred = {"u", "p", NULL, false};
        ASSERT_RC(pop3_auth(h.c, "CRAM-MD5", &cred), POP3_ESERVER);
        ASSERT_RC(pop3_auth(h.c, "CRAM-MD5", &cred), POP3_ELIMIT);
        cr_assert(!pop3_is_connected(h.c));
        harness_close(&h);
    }
}

Test(limits, pipeline_window_at_most)
{
    /* Covered with a counting server in test_client_pipeline.c; here the plain rule:
     * a window of one is "no pipelining" whatever CAPA says. */
    pop3_options o;
    pop3_options_default(&o);
    o.pipelining = POP3_PIPELINING_ON;
    o.pipeline_window = 1;
    const char *script[] = {"+OK\r\n", "+OK\r\na\r\n.\r\n", "+OK\r\nb\r\n.\r\n", NULL};
    harness h = harness_start(script, 0, &o);
    cr_assert(pop3_pipelining_active(h.c));
    harness_close(&h);
}
