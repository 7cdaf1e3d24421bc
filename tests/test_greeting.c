/*
 * test_greeting.c - the APOP timestamp of a greeting (codec/src/greeting.c).
 *
 * RFC 1939 section 7 (RFC1939-7.7, 7.8), msg-id validation against CVE-2007-1558 (Q33)
 * and linear time against CVE-2018-1060 (Q44). Each row is a greeting and the timestamp
 * that must be found in it, or NULL when APOP must not be used.
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "pop3/parse.h"

#define IN(s) s, sizeof(s) - 1

struct ts_row {
    const char *what;
    const char *in;
    size_t len;
    const char *ts; /* expected timestamp, NULL for none */
};

static const struct ts_row ts_rows[] = {
    {"RFC1939-7.7 example", IN("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>"),
     "<1896.697170952@dbc.mtview.ca.us>"},
    {"timestamp followed by text", IN("+OK <1.2@host> ready"), "<1.2@host>"},
    {"timestamp after a response code", IN("+OK [IN-USE] <1@h>"), "<1@h>"},
    {"shortest msg-id", IN("<a@b>"), "<a@b>"},
    {"RFC1939-7.8 no @: <abc>", IN("+OK POP3 server ready <abc>"), NULL},
    {"Q33 E.Novation <a.b.c>", IN("+OK <a.b.c>"), NULL},
    {"poplib test greeting <timestamp>", IN("+OK dummy pop3 server ready. <timestamp>"), NULL},
    {"RFC1939-7.8 8-bit octet",
     IN("+OK <a\x80"
        "@b>"),
     NULL},
    {"nothing before @", IN("+OK <@b>"), NULL},
    {"nothing after @", IN("+OK <a@>"), NULL},
    {"@ alone", IN("+OK <@>"), NULL},
    {"empty brackets", IN("+OK <>"), NULL},
    {"space inside", IN("+OK <a b@c>"), NULL},
    {"HTAB inside", IN("+OK <a\t@c>"), NULL},
    {"NUL inside", IN("+OK <a\0@c>"), NULL},
    {"DEL (0x7F) inside", IN("+OK <a@c\x7f>"), NULL},
    {"CR inside", IN("+OK <a@\rc>"), NULL},
    {"NUL before the timestamp does not matter", IN("+OK\0 <a@b>"), "<a@b>"},
    {"two @ with text around one", IN("+OK <a@b@c>"), "<a@b@c>"},
    {"@@ in the middle", IN("+OK <a@@b>"), "<a@@b>"},
    {"nested: the later < starts the candidate", IN("+OK <<a@b>"), "<a@b>"},
    {"< SP <x@y>", IN("+OK < <x@y>"), "<x@y>"},
    {"< inside a would-be msg-id", IN("+OK <a<b@c>"), "<b@c>"},
    {"> ends the first candidate, rest has no <", IN("+OK <a>b@c>"), NULL},
    {"stray > before the timestamp", IN("+OK > <a@b>"), "<a@b>"},
    {"first valid of several", IN("+OK <1@x> <2@y>"), "<1@x>"},
    {"invalid candidates skipped", IN("+OK <abc> <a b@c> <@x> <2@y> <3@z>"), "<2@y>"},
    {"no > at all", IN("+OK <1896.697170952@dbc.mtview.ca.us"), NULL},
    {"> without <", IN("+OK a@b>"), NULL},
    {"no brackets", IN("+OK POP3 server ready"), NULL},
    {"empty line", IN(""), NULL},
};

Test(apop_timestamp, table_rfc1939_7_q33)
{
    for (size_t i = 0; i < sizeof ts_rows / sizeof ts_rows[0]; i++) {
        const struct ts_row *r = &ts_rows[i];
        pop3_view ts = {NULL, 0};
        bool found = pop3_apop_timestamp(r->in, r->len, &ts);
        if (r->ts == NULL) {
            cr_expect(!found, "%s: no timestamp expected, got \"%.*s\"", r->what, (int)ts.len,
                      ts.ptr ? ts.ptr : "");
            continue;
        }
        cr_expect(found, "%s: timestamp %s not found", r->what, r->ts);
        if (!found) continue;
        cr_expect(ts.ptr >= r->in && ts.ptr + ts.len <= r->in + r->len,
                  "%s: the timestamp is a view into the line", r->what);
        cr_expect_eq(ts.len, strlen(r->ts), "%s: length %zu", r->what, ts.len);
        cr_expect(ts.len == strlen(r->ts) && memcmp(ts.ptr, r->ts, ts.len) == 0,
                  "%s: got \"%.*s\", want \"%s\"", r->what, (int)ts.len, ts.ptr, r->ts);
    }
}

/* ---- Q44 / CVE-2018-1060: hostile greetings of a million octets, in linear time ---- */

#define MILLION 1000000u

/* `prefix` repeated to fill `n` octets (a partial copy at the end), then `tail`. */
static char *repeat(const char *prefix, size_t n, const char *tail, size_t *len)
{
    size_t plen = strlen(prefix), tlen = strlen(tail);
    char *s = malloc(n + tlen);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = prefix[i % plen];
    memcpy(s + n, tail, tlen);
    *len = n + tlen;
    return s;
}

struct hostile_row {
    const char *what;
    const char *unit; /* repeated over a million octets */
    const char *tail;
    const char *ts; /* expected, NULL for none */
};

static const struct hostile_row hostile_rows[] = {
    {"Q44 a million <", "<", "", NULL},
    {"a million <a", "<a", "", NULL},
    {"a million <a@b without >", "<a@b", "", NULL},
    {"a million <abc> candidates, none valid", "<abc>", "", NULL},
    {"a million <a b@c> candidates, none valid", "<a b@c>", "", NULL},
    {"a million < then a timestamp", "<", "a@b>", "<a@b>"},
    {"a million <a@b then >: the last < wins", "<a@b", ">", "<a@b>"},
    {"a million <a@b then SP>: space inside", "<a@b", " >", NULL},
    {"one candidate of a million octets without @", "a", ">", NULL},
};

Test(apop_timestamp, q44_million_octet_greetings_linear_time, .timeout = 10)
{
    for (size_t i = 0; i < sizeof hostile_rows / sizeof hostile_rows[0]; i++) {
        const struct hostile_row *r = &hostile_rows[i];
        size_t len;
        char *s = repeat(r->unit, MILLION, r->tail, &len);
        if (strcmp(r->unit, "a") == 0)
            s[0] = '<'; /* "<aaa...a>": one long candidate, read to its end */
        pop3_view ts = {NULL, 0};
        /* No timing assertion: the test's timeout is a hang guard. A linear scan of
         * these nine megabytes takes milliseconds even under sanitizers; the quadratic
         * regex of CVE-2018-1060 took hours on one of them. */
        bool found = pop3_apop_timestamp(s, len, &ts);
        if (r->ts == NULL) {
            cr_expect(!found, "%s: no timestamp expected", r->what);
        } else {
            cr_expect(found, "%s: timestamp expected", r->what);
            cr_expect(found && ts.len == strlen(r->ts) && memcmp(ts.ptr, r->ts, ts.len) == 0,
                      "%s: wrong timestamp", r->what);
            cr_expect(found && ts.ptr + ts.len == s + len, "%s: at the end", r->what);
        }
        free(s);
    }
}
