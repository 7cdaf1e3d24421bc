/*
 * test_client_commands.c - every transaction command of the client over a scripted
 * server (the in-memory transport), each reply delivered whole and one octet at a time:
 * what the client sends, byte for byte, and what it makes of the replies.
 *
 * Client-side rows of the RFC matrix: RFC1939-3.4 (un-stuffing), RFC1939-5.1 and 5.2
 * (STAT, LIST, 64-bit sizes), RFC1939-7.2 and 7.4 (UIDL, duplicate ids), RFC1939-6.1
 * (close without QUIT), RFC2449-8.1 and 8.2 (response codes, unknown levels), RFC2449-5.4
 * (CAPA -ERR), RFC6856-5 ([UTF8] on RETR), RFC8314-3.4 (TLS truncation is an error).
 * Quirks: Q2, Q3, Q6, Q13, Q45, Q46, Q48, Q49.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "client_harness.h"

#define GREETING "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"

Test(commands, stat_rfc1939_5_1)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK 2 320\r\n", "+OK 3 4294967800 extra\r\n",
                                "+OK x y\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        uint64_t n = 0, size = 0;
        ASSERT_RC(pop3_stat(h.c, &n, &size), POP3_OK);
        cr_assert_eq(n, 2);
        cr_assert_eq(size, 320);
        /* Q13: sizes past 2^32 (curl's test server), and text after them ignored. */
        ASSERT_RC(pop3_stat(h.c, &n, &size), POP3_OK);
        cr_assert_eq(size, 4294967800ull);
        /* Not numbers: a protocol error, but the reply was framed, the session lives. */
        ASSERT_RC(pop3_stat(h.c, &n, &size), POP3_EPROTO);
        cr_assert(pop3_is_connected(h.c));
        cr_assert_str_eq(harness_out(&h), "STAT\r\nSTAT\r\nSTAT\r\n");
        harness_close(&h);
    }
}

Test(commands, list_rfc1939_5_2)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING,
                                "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n",
                                "+OK 2 200\r\n",
                                "-ERR no such message, only 2 messages in maildrop\r\n",
                                "+OK 0 messages:\r\n.\r\n",
                                "+OK\r\n0 12345\r\n1 4294967400\r\n1 5\r\n3  7\r\n.\r\n",
                                NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        pop3_listing l = {0};
        ASSERT_RC(pop3_list(h.c, &l), POP3_OK);
        cr_assert_eq(l.count, 2);
        cr_assert_eq(l.entries[0].msgno, 1);
        cr_assert_eq(l.entries[0].size, 120);
        cr_assert_eq(l.entries[1].size, 200);
        uint64_t size = 0;
        ASSERT_RC(pop3_list_one(h.c, 2, &size), POP3_OK);
        cr_assert_eq(size, 200);
        ASSERT_RC(pop3_list_one(h.c, 3, &size), POP3_ESERVER);
        cr_assert(harness_has(pop3_errmsg(h.c), "no such message"));
        /* Q3: an empty listing right after the status line. */
        ASSERT_RC(pop3_list(h.c, &l), POP3_OK);
        cr_assert_eq(l.count, 0);
        /* Q45 number 0 and a duplicate left out, Q13 64-bit size, Q46 extra space. */
        ASSERT_RC(pop3_list(h.c, &l), POP3_OK);
        cr_assert_eq(l.count, 2);
        cr_assert_eq(l.entries[0].size, 4294967400ull);
        cr_assert_eq(l.skipped, 2);
        cr_assert(l.anomalies & POP3_ANOM_MSGNO_ZERO);
        cr_assert(l.anomalies & POP3_ANOM_DUPLICATE);
        cr_assert(l.anomalies & POP3_ANOM_EXTRA_SPACE);
        pop3_listing_free(&l);
        cr_assert_str_eq(harness_out(&h), "LIST\r\nLIST 2\r\nLIST 3\r\nLIST\r\nLIST\r\n");
        harness_close(&h);
    }
}

Test(commands, list_bad_line_keeps_session)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK\r\n1 100\r\nbogus\r\n2 200\r\n.\r\n", "+OK\r\n",
                                NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        pop3_listing l = {0};
        ASSERT_RC(pop3_list(h.c, &l), POP3_EPROTO);
        cr_assert(harness_has(pop3_errmsg(h.c), "bogus"));
        cr_assert(pop3_is_connected(h.c)); /* the listing was read to its end */
        ASSERT_RC(pop3_noop(h.c), POP3_OK);
        pop3_listing_free(&l);
        harness_close(&h);
    }
}

Test(commands, uidl_rfc1939_7)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {
            GREETING,
            "+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n",
            "+OK 2 QhdPYR:00WBw1Ph7x7\r\n",
            "-ERR no such message, only 2 messages in maildrop\r\n",
            "+OK\r\n1 abc\r\n2 abc\r\n.\r\n",
            NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        pop3_listing l = {0};
        ASSERT_RC(pop3_uidl(h.c, &l), POP3_OK);
        cr_assert_eq(l.count, 2);
        cr_assert_str_eq(l.entries[0].uid, "whqtswO00WBw418f9t5JxYwZ");
        cr_assert_str_eq(pop3_listing_find(&l, 2)->uid, "QhdPYR:00WBw1Ph7x7");
        const char *uid = NULL;
        ASSERT_RC(pop3_uidl_one(h.c, 2, &uid), POP3_OK);
        cr_assert_str_eq(uid, "QhdPYR:00WBw1Ph7x7");
        ASSERT_RC(pop3_uidl_one(h.c, 3, &uid), POP3_ESERVER);
        cr_assert_null(uid);
        /* RFC1939-7.4: two messages with one unique-id: both kept, flagged. */
        ASSERT_RC(pop3_uidl(h.c, &l), POP3_OK);
        cr_assert_eq(l.count, 2);
        cr_assert(l.anomalies & POP3_ANOM_DUPLICATE_UID);
        pop3_listing_free(&l);
        cr_assert_str_eq(harness_out(&h), "UIDL\r\nUIDL 2\r\nUIDL 3\r\nUIDL\r\n");
        harness_close(&h);
    }
}

Test(commands, retr_unstuffing_rfc1939_3_4)
{
    /* curl test 857 and more: "..body", "...triple", a lone "." inside content, ". ",
     * NUL and 8-bit octets, a body line far longer than the status limit. */
    char longline[5000];
    memset(longline, 'x', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    char reply[6000];
    snprintf(reply, sizeof reply,
             "+OK 120 octets\r\n..body\r\n...triple\r\n..\r\n.. space\r\n%s\r\nend\r\n.\r\n",
             longline);
    char want[6000];
    snprintf(want, sizeof want, ".body\r\n..triple\r\n.\r\n. space\r\n%s\r\nend\r\n", longline);
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, reply, NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        harness_buf b = {0};
        ASSERT_RC(pop3_retr(h.c, 1, harness_sink, &b), POP3_OK);
        cr_assert_str_eq(b.p, want);
        cr_assert_str_eq(pop3_response(h.c), "+OK 120 octets");
        cr_assert_str_eq(harness_out(&h), "RETR 1\r\n");
        harness_buf_free(&b);
        harness_close(&h);
    }
}

Test(commands, retr_binary_and_empty)
{
    static const char reply[] = "+OK\r\nA\0B\xff\xfe\r\n\r\n.\r\n";
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        harness h = harness_start((const char *[]){GREETING, NULL}, harness_chunks[ci], NULL);
        pop3_transport_memory_add(h.t, reply, sizeof reply - 1, 1);
        pop3_transport_memory_add_str(h.t, "+OK\r\n.\r\n", 2); /* Q3: empty body */
        harness_buf b = {0};
        ASSERT_RC(pop3_retr(h.c, 1, harness_sink, &b), POP3_OK);
        cr_assert_eq(b.len, 9);
        cr_assert(memcmp(b.p, "A\0B\xff\xfe\r\n\r\n", 9) == 0);
        harness_buf_free(&b);
        ASSERT_RC(pop3_retr(h.c, 2, harness_sink, &b), POP3_OK);
        cr_assert_eq(b.len, 0);
        harness_close(&h);
    }
}

Test(commands, retr_bare_lf_q6)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK\nline1\n..dot\n.\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        harness_buf b = {0};
        ASSERT_RC(pop3_retr(h.c, 1, harness_sink, &b), POP3_OK);
        cr_assert_str_eq(b.p, "line1\n.dot\n");
        cr_assert(pop3_quirks(h.c) & POP3_TOL_BARE_LF);
        harness_buf_free(&b);
        harness_close(&h);
    }
    /* Strict mode refuses it, and that is fatal. */
    pop3_options opt;
    pop3_options_default(&opt);
    opt.tolerances = POP3_TOL_STRICT;
    const char *script[] = {GREETING, "+OK\nline1\n.\n", NULL};
    harness h = harness_start(script, 0, &opt);
    ASSERT_RC(pop3_retr(h.c, 1, NULL, NULL), POP3_EPROTO);
    cr_assert(!pop3_is_connected(h.c));
    harness_close(&h);
}

Test(commands, retr_err_with_code_rfc6856_5)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING,
                                "-ERR [UTF8] message needs UTF-8 mode\r\n",
                                "-ERR [SYS/TEMP/QUOTA] try again\r\n",
                                "-ERR [FOO/BAR] whatever\r\n",
                                "-ERR [in-use] busy\r\n",
                                NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        harness_buf b = {0};
        ASSERT_RC(pop3_retr(h.c, 1, harness_sink, &b), POP3_ESERVER);
        cr_assert_eq(b.calls, 0);
        cr_assert_eq(pop3_response_code(h.c), POP3_CODE_UTF8);
        cr_assert_str_eq(pop3_response_code_text(h.c), "UTF8");
        cr_assert(harness_has(pop3_errmsg(h.c), "[UTF8]"));
        /* RFC2449-8.2: unknown deeper levels are ignored. */
        ASSERT_RC(pop3_dele(h.c, 1), POP3_ESERVER);
        cr_assert_eq(pop3_response_code(h.c), POP3_CODE_SYS_TEMP);
        cr_assert_str_eq(pop3_response_code_text(h.c), "SYS/TEMP/QUOTA");
        ASSERT_RC(pop3_noop(h.c), POP3_ESERVER);
        cr_assert_eq(pop3_response_code(h.c), POP3_CODE_OTHER);
        /* RFC2449-8.1: case-insensitive. */
        ASSERT_RC(pop3_rset(h.c), POP3_ESERVER);
        cr_assert_eq(pop3_response_code(h.c), POP3_CODE_IN_USE);
        cr_assert(pop3_is_connected(h.c)); /* -ERR never closes */
        harness_close(&h);
    }
}

/* A hostile server's text reaches pop3_errmsg, which programs print on terminals: its
 * control octets (an escape sequence, a bare CR) are shown as \xNN there and in the
 * trace, while pop3_response keeps the line as sent. */
static void collect_trace(void *ud, int level, const char *line)
{
    (void)level;
    harness_buf *b = ud;
    harness_sink(b, line, strlen(line));
    harness_sink(b, "\n", 1);
}

Test(commands, server_text_escaped_in_errmsg_and_trace)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "-ERR \x1b[2Jgone\rfake\x7f\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        harness_buf trace = {0};
        pop3_set_debuglevel(h.c, 1);
        pop3_set_debug_callback(h.c, collect_trace, &trace);
        ASSERT_RC(pop3_dele(h.c, 1), POP3_ESERVER);
        cr_assert(harness_has(pop3_errmsg(h.c), "\\x1b[2Jgone\\x0dfake\\x7f"), "%s",
                  pop3_errmsg(h.c));
        cr_assert_str_eq(pop3_response(h.c), "-ERR \x1b[2Jgone\rfake\x7f");
        cr_assert(trace.len > 0);
        for (size_t i = 0; i < trace.len; i++)
            cr_assert(trace.p[i] == '\n' ||
                      ((unsigned char)trace.p[i] >= 0x20 && trace.p[i] != 0x7f));
        free(trace.p);
        harness_close(&h);
    }
}

Test(commands, top_dele_rset_noop_quit)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING,
                                "+OK\r\nSubject: x\r\n\r\nbody 1\r\n.\r\n",
                                "+OK message 1 deleted\r\n",
                                "-ERR message 1 already deleted\r\n",
                                "+OK maildrop has 2 messages (320 octets)\r\n",
                                "+OK\r\n",
                                "+OK dewey POP3 server signing off (maildrop empty)\r\n",
                                NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        harness_buf b = {0};
        ASSERT_RC(pop3_top(h.c, 1, 10, harness_sink, &b), POP3_OK);
        cr_assert_str_eq(b.p, "Subject: x\r\n\r\nbody 1\r\n");
        ASSERT_RC(pop3_dele(h.c, 1), POP3_OK);
        ASSERT_RC(pop3_dele(h.c, 1), POP3_ESERVER);
        ASSERT_RC(pop3_rset(h.c), POP3_OK);
        ASSERT_RC(pop3_noop(h.c), POP3_OK);
        ASSERT_RC(pop3_quit(h.c), POP3_OK);
        cr_assert(!pop3_is_connected(h.c));
        cr_assert(pop3_transport_memory_closed(h.t));
        cr_assert_str_eq(harness_out(&h),
                         "TOP 1 10\r\nDELE 1\r\nDELE 1\r\nRSET\r\nNOOP\r\nQUIT\r\n");
        harness_buf_free(&b);
        harness_close(&h);
    }
}

Test(commands, quit_err_still_closes_rfc1939_6_2)
{
    const char *script[] = {GREETING, "-ERR some deleted messages not removed\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_quit(h.c), POP3_ESERVER);
    cr_assert(!pop3_is_connected(h.c));
    cr_assert(harness_has(pop3_errmsg(h.c), "not removed"));
    harness_close(&h);
}

Test(commands, close_without_quit_rfc1939_6_1)
{
    const char *script[] = {GREETING, "+OK\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_dele(h.c, 1), POP3_OK);
    pop3_close(h.c);
    cr_assert(pop3_transport_memory_closed(h.t));
    cr_assert_str_eq(harness_out(&h), "DELE 1\r\n"); /* no QUIT: nothing is removed */
    ASSERT_RC(pop3_noop(h.c), POP3_ESTATE);
    harness_close(&h);
}

Test(commands, capa_rfc2449_5)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING,
                                "+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL CRAM-MD5 "
                                "KERBEROS_V4\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\nPIPELINING\r\n"
                                "EXPIRE 60\r\nUIDL\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n"
                                "..dotted\r\n.\r\n",
                                "-ERR unknown command\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        cr_assert_null(pop3_capabilities(h.c));
        const pop3_capa_set *caps = NULL;
        ASSERT_RC(pop3_capa(h.c, &caps), POP3_OK);
        cr_assert_eq(caps, pop3_capabilities(h.c));
        cr_assert_eq(caps->count, 10);
        cr_assert(pop3_capa_has_param(caps, "sasl", "cram-md5"));
        const pop3_capability *ld = pop3_capa_find(caps, "LOGIN-DELAY");
        cr_assert(ld && ld->nparams == 1 && ld->params[0].len == 3);
        /* Q50: a capability line starting with "." does not end the list. */
        cr_assert(pop3_capa_find(caps, ".dotted") != NULL);
        cr_assert(pop3_pipelining_active(h.c));
        /* RFC2449-5.4: -ERR means no CAPA; the old list is gone. */
        ASSERT_RC(pop3_capa(h.c, &caps), POP3_ESERVER);
        cr_assert_null(caps);
        cr_assert_null(pop3_capabilities(h.c));
        cr_assert(pop3_is_connected(h.c));
        harness_close(&h);
    }
}

Test(commands, utf8_and_custom_command)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK UTF8 enabled\r\n", "+OK\r\na\r\n..b\r\n.\r\n",
                                "+OK 2 320\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        ASSERT_RC(pop3_utf8(h.c), POP3_OK);
        harness_buf b = {0};
        const char *args[] = {"1", "0"};
        ASSERT_RC(pop3_command(h.c, "XTND", args, 2, harness_sink, &b), POP3_OK);
        cr_assert_str_eq(b.p, "a\r\n.b\r\n");
        ASSERT_RC(pop3_command(h.c, "stat", NULL, 0, NULL, NULL), POP3_OK);
        cr_assert_str_eq(pop3_response(h.c), "+OK 2 320");
        cr_assert_str_eq(harness_out(&h), "UTF8\r\nXTND 1 0\r\nstat\r\n");
        /* Arguments are checked whatever the command (Q42). */
        const char *bad[] = {"1\r\nDELE 1"};
        ASSERT_RC(pop3_command(h.c, "RETR", bad, 1, NULL, NULL), POP3_EUSAGE);
        const char *kw_bad[] = {"x"};
        ASSERT_RC(pop3_command(h.c, "RE TR", kw_bad, 1, NULL, NULL), POP3_EUSAGE);
        cr_assert_str_eq(harness_out(&h), "UTF8\r\nXTND 1 0\r\nstat\r\n");
        harness_buf_free(&b);
        harness_close(&h);
    }
}

Test(commands, eof_mid_reply_is_fatal)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK\r\npart of a body\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        harness_buf b = {0};
        ASSERT_RC(pop3_retr(h.c, 1, harness_sink, &b), POP3_ECLOSED);
        cr_assert(!pop3_is_connected(h.c));
        cr_assert(harness_has(pop3_errmsg(h.c), "closed"));
        harness_buf_free(&b);
        harness_close(&h);
    }
    /* Q1: "." appended without CRLF, then close: explained, still an error. */
    const char *q1[] = {GREETING, "+OK\r\nlast line.\r\n", NULL};
    harness h = harness_start(q1, 0, NULL);
    ASSERT_RC(pop3_retr(h.c, 1, NULL, NULL), POP3_ECLOSED);
    cr_assert(harness_has(pop3_errmsg(h.c), "Q1"));
    harness_close(&h);
    /* EOF in a status line and before any reply. */
    const char *cut[] = {GREETING, "+OK 2 3", NULL};
    h = harness_start(cut, 1, NULL);
    ASSERT_RC(pop3_stat(h.c, NULL, NULL), POP3_ECLOSED);
    harness_close(&h);
}

Test(commands, dot_cr_eof_q2)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK\r\nbody\r\n.\r", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        harness_buf b = {0};
        ASSERT_RC(pop3_retr(h.c, 1, harness_sink, &b), POP3_OK);
        cr_assert_str_eq(b.p, "body\r\n");
        cr_assert(pop3_quirks(h.c) & POP3_TOL_DOT_CR_EOF);
        harness_buf_free(&b);
        harness_close(&h);
    }
}

Test(commands, tls_truncation_rfc8314_3_4)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        /* The TLS stream ends without close_notify in the middle of a body: an error,
         * never a short message taken for a whole one. */
        const char *script[] = {GREETING, "+OK\r\nfirst half\r\n", NULL};
        harness h = harness_open(script, harness_chunks[ci], NULL);
        pop3_transport_memory_set_tls(h.t, true);
        pop3_transport_memory_set_end(h.t, POP3_ETLS);
        harness_buf b = {0};
        ASSERT_RC(pop3_retr(h.c, 1, harness_sink, &b), POP3_ETLS);
        cr_assert(!pop3_is_connected(h.c));
        cr_assert(harness_has(pop3_errmsg(h.c), "close_notify"));
        harness_buf_free(&b);
        harness_close(&h);
    }
}

typedef struct stopper {
    harness_buf buf;
    unsigned max_calls;
} stopper;

static int stop_sink(void *ud, const char *data, size_t len)
{
    stopper *s = ud;
    if (s->buf.calls >= s->max_calls) return POP3_ELIMIT;
    return harness_sink(&s->buf, data, len);
}

Test(commands, sink_stop_drains_and_continues)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK\r\nline 1\r\nline 2\r\nline 3\r\n.\r\n",
                                "+OK 1 2\r\n", NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        stopper s = {{0}, 0};
        ASSERT_RC(pop3_retr(h.c, 1, stop_sink, &s), POP3_ELIMIT);
        cr_assert(harness_has(pop3_errmsg(h.c), "sink"));
        cr_assert(pop3_is_connected(h.c));
        uint64_t n;
        ASSERT_RC(pop3_stat(h.c, &n, NULL), POP3_OK); /* still in step */
        cr_assert_eq(n, 1);
        harness_buf_free(&s.buf);
        harness_close(&h);
    }
}

/* A callback that answers outside the error space: the caller gets POP3_EUSAGE, never
 * the stray value (it used to come back as is: -42 from pop3_retr). */
static int odd_sink(void *ud, const char *data, size_t len)
{
    (void)ud, (void)data, (void)len;
    return -42;
}

static int odd_putline(void *ud, const char *line, size_t len)
{
    (void)line, (void)len;
    return *(int *)ud;
}

Test(commands, callback_values_stay_in_the_error_space)
{
    const char *script[] = {GREETING, "+OK\r\nline 1\r\n.\r\n", "+OK 1 2\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_retr(h.c, 1, odd_sink, NULL), POP3_EUSAGE);
    cr_assert(pop3_is_connected(h.c));
    int veto = -1000;
    pop3_set_putline(h.c, odd_putline, &veto);
    uint64_t n;
    ASSERT_RC(pop3_stat(h.c, &n, NULL), POP3_EUSAGE);
    veto = POP3_ELIMIT; /* a pop3_error is passed on as it is */
    ASSERT_RC(pop3_stat(h.c, &n, NULL), POP3_ELIMIT);
    harness_close(&h);
}

Test(commands, unsolicited_bytes_end_the_session)
{
    /* Without pipelining a server speaks only when spoken to: a second reply that came
     * with the first (Q18, a double +OK) is unsolicited, and the next command sees it. */
    const char *script[] = {GREETING, "+OK first\r\n+OK surplus\r\n", "+OK\r\n", NULL};
    harness h = harness_start(script, 0, NULL);
    ASSERT_RC(pop3_noop(h.c), POP3_OK);
    ASSERT_RC(pop3_noop(h.c), POP3_EPROTO);
    cr_assert(harness_has(pop3_errmsg(h.c), "nobody asked for"));
    cr_assert(!pop3_is_connected(h.c));
    cr_assert_str_eq(harness_out(&h), "NOOP\r\n");
    harness_close(&h);
}

Test(commands, not_connected)
{
    pop3_client *c;
    cr_assert_eq(pop3_client_new(&c, NULL), POP3_OK);
    cr_assert_eq(pop3_stat(c, NULL, NULL), POP3_ESTATE);
    cr_assert_str_eq(pop3_errmsg(c), "not connected");
    cr_assert_eq(pop3_retr(c, 1, NULL, NULL), POP3_ESTATE);
    cr_assert_eq(pop3_stls(c, NULL), POP3_ESTATE);
    cr_assert_str_eq(pop3_getwelcome(c), "");
    cr_assert_str_eq(pop3_response(c), "");
    cr_assert(!pop3_is_connected(c) && !pop3_is_tls(c) && !pop3_is_authenticated(c));
    pop3_close(c);
    pop3_client_free(c);
    pop3_client_free(NULL);
}

Test(commands, greeting_cases_rfc1939_4)
{
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        /* Q35: banner lines before +OK are skipped. */
        const char *banner[] = {"  ___ ASCII art\r\n |   |\r\n+OK curl POP3 server\r\n", NULL};
        harness h = harness_start(banner, harness_chunks[ci], NULL);
        cr_assert_str_eq(pop3_getwelcome(h.c), "+OK curl POP3 server");
        cr_assert(pop3_quirks(h.c) & POP3_TOL_BANNER);
        harness_close(&h);
        /* A -ERR greeting ends the session. */
        const char *neg[] = {"-ERR [SYS/PERM] go away\r\n", NULL};
        h = harness_open(neg, harness_chunks[ci], NULL);
        cr_assert_eq(h.rc, POP3_ESERVER);
        cr_assert_eq(pop3_response_code(h.c), POP3_CODE_SYS_PERM);
        cr_assert(!pop3_is_connected(h.c));
        cr_assert(pop3_transport_memory_closed(h.t));
        harness_close(&h);
        /* A bare "+OK" (RFC 1957). */
        const char *bare[] = {"+OK\r\n", NULL};
        h = harness_start(bare, harness_chunks[ci], NULL);
        cr_assert_str_eq(pop3_getwelcome(h.c), "+OK");
        harness_close(&h);
        /* Nothing at all. */
        const char *none[] = {NULL};
        h = harness_open(none, harness_chunks[ci], NULL);
        cr_assert_eq(h.rc, POP3_ECLOSED);
        harness_close(&h);
        /* NUL in the greeting (Q48): a protocol violation. */
        pop3_transport *t = pop3_transport_memory_new();
        pop3_transport_memory_add(t, "+OK a\0b\r\n", 9, 0);
        pop3_transport_memory_set_chunk(t, harness_chunks[ci]);
        pop3_client *c;
        cr_assert_eq(pop3_client_new(&c, NULL), POP3_OK);
        cr_assert_eq(pop3_connect_transport(c, t, NULL, 0), POP3_EPROTO);
        pop3_client_free(c);
        pop3_transport_memory_free(t);
    }
}

Test(commands, reconnect_after_close)
{
    harness h = harness_start((const char *[]){GREETING, NULL}, 0, NULL);
    pop3_close(h.c);
    pop3_transport *t2 = pop3_transport_memory_new();
    pop3_transport_memory_add_str(t2, "+OK second\r\n", 0);
    ASSERT_RC(pop3_connect_transport(h.c, t2, NULL, 0), POP3_OK);
    cr_assert_str_eq(pop3_getwelcome(h.c), "+OK second");
    /* Connecting while connected is refused, and the offered transport is closed. */
    pop3_transport *t3 = pop3_transport_memory_new();
    ASSERT_RC(pop3_connect_transport(h.c, t3, NULL, 0), POP3_ESTATE);
    cr_assert(pop3_transport_memory_closed(t3));
    pop3_transport_memory_free(t3);
    harness_close(&h);
    pop3_transport_memory_free(t2);
}

Test(commands, sizes_are_advisory_rfc1939_11_q9_q11)
{
    /* LIST says 10 octets, the body has 40: every octet is delivered; a size never
     * ends a read (Q9, Q11). */
    for (size_t ci = 0; ci < HARNESS_NCHUNKS; ci++) {
        const char *script[] = {GREETING, "+OK 1 10\r\n",
                                "+OK 10 octets\r\n0123456789\r\n0123456789\r\n"
                                "0123456789\r\n012345\r\n.\r\n",
                                NULL};
        harness h = harness_start(script, harness_chunks[ci], NULL);
        uint64_t size = 0;
        ASSERT_RC(pop3_list_one(h.c, 1, &size), POP3_OK);
        cr_assert_eq(size, 10);
        harness_buf b = {0};
        ASSERT_RC(pop3_retr(h.c, 1, harness_sink, &b), POP3_OK);
        cr_assert_eq(b.len, 44);
        harness_buf_free(&b);
        harness_close(&h);
    }
}
