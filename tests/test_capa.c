/*
 * test_capa.c - CAPA capability lists (codec/src/capa.c).
 *
 * RFC 2449 section 5 (the CAPA example, RFC2449-5.5: tags are case-insensitive, lines up
 * to 512 octets), section 6.7 (EXPIRE lines), RFC 5034 section 3 (SASL mechanisms),
 * RFC2595-4.7 (forget the list after STLS). Each row is one capability line and the tag
 * and parameters that must come out of it.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/error.h"
#include "pop3/parse.h"

#define IN(s) s, sizeof(s) - 1
#define MAXP  6

struct capa_row {
    const char *what;
    const char *in;
    size_t len;
    int rc;
    const char *name;
    size_t nparams;
    const char *params[MAXP];
};

static const struct capa_row capa_rows[] = {
    /* RFC 2449 section 5 example, line by line */
    {"RFC2449-5 TOP", IN("TOP"), POP3_OK, "TOP", 0, {NULL}},
    {"RFC2449-5 USER", IN("USER"), POP3_OK, "USER", 0, {NULL}},
    {"RFC2449-5 SASL",
     IN("SASL CRAM-MD5 KERBEROS_V4"),
     POP3_OK,
     "SASL",
     2,
     {"CRAM-MD5", "KERBEROS_V4"}},
    {"RFC2449-5 RESP-CODES", IN("RESP-CODES"), POP3_OK, "RESP-CODES", 0, {NULL}},
    {"RFC2449-5 LOGIN-DELAY", IN("LOGIN-DELAY 900"), POP3_OK, "LOGIN-DELAY", 1, {"900"}},
    {"RFC2449-5 PIPELINING", IN("PIPELINING"), POP3_OK, "PIPELINING", 0, {NULL}},
    {"RFC2449-5 EXPIRE 60", IN("EXPIRE 60"), POP3_OK, "EXPIRE", 1, {"60"}},
    {"RFC2449-5 UIDL", IN("UIDL"), POP3_OK, "UIDL", 0, {NULL}},
    {"RFC2449-5 IMPLEMENTATION",
     IN("IMPLEMENTATION Shlemazle-Plotz-v302"),
     POP3_OK,
     "IMPLEMENTATION",
     1,
     {"Shlemazle-Plotz-v302"}},
    /* RFC 2449 section 6.7 EXPIRE lines */
    {"RFC2449-6.7 EXPIRE 5 USER", IN("EXPIRE 5 USER"), POP3_OK, "EXPIRE", 2, {"5", "USER"}},
    {"RFC2449-6.7 EXPIRE 30", IN("EXPIRE 30"), POP3_OK, "EXPIRE", 1, {"30"}},
    {"RFC2449-6.7 EXPIRE NEVER", IN("EXPIRE NEVER"), POP3_OK, "EXPIRE", 1, {"NEVER"}},
    {"RFC2449-6.7 EXPIRE 0", IN("EXPIRE 0"), POP3_OK, "EXPIRE", 1, {"0"}},
    /* RFC 5034 section 3 example */
    {"RFC5034-3 SASL",
     IN("SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS"),
     POP3_OK,
     "SASL",
     4,
     {"PLAIN", "DIGEST-MD5", "GSSAPI", "ANONYMOUS"}},
    {"RFC5034-3 STLS", IN("STLS"), POP3_OK, "STLS", 0, {NULL}},
    {"RFC5034-3 IMPLEMENTATION",
     IN("IMPLEMENTATION BlurdyBlurp POP3 server"),
     POP3_OK,
     "IMPLEMENTATION",
     3,
     {"BlurdyBlurp", "POP3", "server"}},
    /* spacing */
    {"several SP between params",
     IN("SASL  PLAIN   LOGIN"),
     POP3_OK,
     "SASL",
     2,
     {"PLAIN", "LOGIN"}},
    {"HTAB between params", IN("SASL\tPLAIN\t \tLOGIN"), POP3_OK, "SASL", 2, {"PLAIN", "LOGIN"}},
    {"leading blanks before the tag", IN(" \tTOP"), POP3_OK, "TOP", 0, {NULL}},
    {"trailing blanks", IN("EXPIRE 0 \t "), POP3_OK, "EXPIRE", 1, {"0"}},
    {"lower-case line kept as received", IN("sasl plain"), POP3_OK, "sasl", 1, {"plain"}},
    {"8-bit params kept", IN("X-TEST caf\xc3\xa9"), POP3_OK, "X-TEST", 1, {"caf\xc3\xa9"}},
    /* refused */
    {"empty line", IN(""), POP3_EPROTO, NULL, 0, {NULL}},
    {"blank line, SP", IN("   "), POP3_EPROTO, NULL, 0, {NULL}},
    {"blank line, HTAB", IN("\t"), POP3_EPROTO, NULL, 0, {NULL}},
};

static bool view_is(pop3_view v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.ptr, s, v.len) == 0;
}

/* Each row alone in a fresh list. */
Test(capa, table_rfc2449_rfc5034_lines)
{
    for (size_t i = 0; i < sizeof capa_rows / sizeof capa_rows[0]; i++) {
        const struct capa_row *r = &capa_rows[i];
        pop3_capa_set c;
        pop3_capa_init(&c);
        int rc = pop3_capa_add(&c, r->in, r->len);
        cr_expect_eq(rc, r->rc, "%s: rc %d, want %d", r->what, rc, r->rc);
        if (r->rc != POP3_OK) {
            cr_expect_eq(c.count, 0, "%s: nothing kept", r->what);
            pop3_capa_free(&c);
            continue;
        }
        cr_assert_eq(c.count, 1, "%s: one capability", r->what);
        const pop3_capability *cap = &c.caps[0];
        cr_expect(view_is(cap->name, r->name), "%s: name \"%.*s\", want \"%s\"", r->what,
                  (int)cap->name.len, cap->name.ptr, r->name);
        cr_expect(cap->line.len == r->len && memcmp(cap->line.ptr, r->in, r->len) == 0,
                  "%s: line kept as received", r->what);
        cr_expect(cap->line.ptr != r->in, "%s: the line is a copy", r->what);
        cr_expect_eq(cap->nparams, r->nparams, "%s: nparams %zu, want %zu", r->what, cap->nparams,
                     r->nparams);
        for (size_t k = 0; k < r->nparams && k < cap->nparams; k++)
            cr_expect(view_is(cap->params[k], r->params[k]), "%s: param %zu \"%.*s\", want \"%s\"",
                      r->what, k, (int)cap->params[k].len, cap->params[k].ptr, r->params[k]);
        cr_expect_eq(pop3_capa_find(&c, r->name), cap, "%s: found by its name", r->what);
        pop3_capa_free(&c);
    }
}

/* The whole RFC 2449 section 5 response, then look-ups as a client makes them. */
Test(capa, rfc2449_5_example_list_and_case_insensitive_lookup)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    for (size_t i = 0; i < 9; i++)
        cr_assert_eq(pop3_capa_add(&c, capa_rows[i].in, capa_rows[i].len), POP3_OK);
    cr_expect_eq(c.count, 9);

    /* RFC2449-5.5: tags are case-insensitive */
    const pop3_capability *sasl = pop3_capa_find(&c, "sasl");
    cr_assert_not_null(sasl);
    cr_expect(view_is(sasl->name, "SASL"), "name kept as received");
    cr_expect_eq(pop3_capa_find(&c, "Sasl"), sasl);
    cr_expect_eq(pop3_capa_find(&c, "SASL"), sasl);
    cr_expect_not_null(pop3_capa_find(&c, "uidl"));
    cr_expect_not_null(pop3_capa_find(&c, "Login-Delay"));
    cr_expect_null(pop3_capa_find(&c, "STLS"));
    cr_expect_null(pop3_capa_find(&c, "SAS"), "a prefix is not a match");
    cr_expect_null(pop3_capa_find(&c, "SASLX"), "a longer name is not a match");
    cr_expect_null(pop3_capa_find(&c, ""));

    cr_expect(pop3_capa_has_param(&c, "SASL", "CRAM-MD5"));
    cr_expect(pop3_capa_has_param(&c, "sasl", "cram-md5"));
    cr_expect(pop3_capa_has_param(&c, "SaSl", "Kerberos_V4"));
    cr_expect(!pop3_capa_has_param(&c, "SASL", "PLAIN"));
    cr_expect(!pop3_capa_has_param(&c, "SASL", "CRAM"), "a prefix is not a match");
    cr_expect(!pop3_capa_has_param(&c, "SASL", "SASL"), "the tag is not a parameter");
    cr_expect(!pop3_capa_has_param(&c, "STLS", "CRAM-MD5"));
    cr_expect(pop3_capa_has_param(&c, "expire", "60"));
    cr_expect(!pop3_capa_has_param(&c, "TOP", ""));
    pop3_capa_free(&c);
}

Test(capa, lower_case_server_lines_found_by_upper_case_names)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    cr_assert_eq(pop3_capa_add(&c, IN("sasl plain login")), POP3_OK);
    cr_assert_eq(pop3_capa_add(&c, IN("stls")), POP3_OK);
    cr_expect_not_null(pop3_capa_find(&c, "STLS"));
    cr_expect(pop3_capa_has_param(&c, "SASL", "PLAIN"));
    cr_expect(pop3_capa_has_param(&c, "SASL", "LOGIN"));
    cr_expect(!pop3_capa_has_param(&c, "SASL", "XOAUTH2"));
    pop3_capa_free(&c);
}

Test(capa, has_param_looks_at_every_line_with_the_tag)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    cr_assert_eq(pop3_capa_add(&c, IN("SASL PLAIN")), POP3_OK);
    cr_assert_eq(pop3_capa_add(&c, IN("SASL XOAUTH2")), POP3_OK);
    cr_expect(view_is(pop3_capa_find(&c, "SASL")->params[0], "PLAIN"), "find gives the first");
    cr_expect(pop3_capa_has_param(&c, "SASL", "XOAUTH2"));
    pop3_capa_free(&c);
}

/* RFC2449-5.5 quirk: a 600-octet IMPLEMENTATION line is over the RFC's 512 but kept. */
Test(capa, long_implementation_line_kept)
{
    char line[600 + 16];
    memcpy(line, "IMPLEMENTATION ", 15);
    memset(line + 15, 'x', 600 - 15);
    pop3_capa_set c;
    pop3_capa_init(&c);
    cr_assert_eq(pop3_capa_add(&c, line, 600), POP3_OK);
    const pop3_capability *cap = pop3_capa_find(&c, "implementation");
    cr_assert_not_null(cap);
    cr_expect_eq(cap->line.len, 600);
    cr_expect_eq(cap->nparams, 1);
    cr_expect_eq(cap->params[0].len, 600 - 15);
    pop3_capa_free(&c);
}

Test(capa, max_caps_at_limit_ok_past_limit_elimit)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    c.max_caps = 3;
    cr_expect_eq(pop3_capa_add(&c, IN("TOP")), POP3_OK);
    cr_expect_eq(pop3_capa_add(&c, IN("USER")), POP3_OK);
    cr_expect_eq(pop3_capa_add(&c, IN("UIDL")), POP3_OK);
    cr_expect_eq(pop3_capa_add(&c, IN("STLS")), POP3_ELIMIT);
    cr_expect_eq(c.count, 3);
    cr_expect_null(pop3_capa_find(&c, "STLS"));
    cr_expect_eq(pop3_capa_add(&c, IN("")), POP3_EPROTO, "a blank line is refused first");
    pop3_capa_free(&c);
}

Test(capa, default_max_caps_256)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    cr_expect_eq(c.max_caps, 256);
    char line[32];
    for (int i = 0; i < 256; i++) {
        int n = snprintf(line, sizeof line, "X-CAP-%d %d", i, i);
        cr_assert_eq(pop3_capa_add(&c, line, (size_t)n), POP3_OK, "line %d", i);
    }
    cr_expect_eq(pop3_capa_add(&c, IN("X-ONE-TOO-MANY")), POP3_ELIMIT);
    cr_expect_eq(c.count, 256);
    pop3_capa_free(&c);
}

/*
 * Growth of the store and of the parameter array moves them: every view inside the list
 * must be moved along and still read what was added (ASan catches one left behind).
 */
Test(capa, views_stay_valid_across_growth)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    c.max_caps = 200;
    char line[512];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(line, sizeof line, "X-%d", i);
        for (int k = 0; k < i % 9; k++)
            n += snprintf(line + n, sizeof line - (size_t)n, " p%d-%d", i, k);
        cr_assert_eq(pop3_capa_add(&c, line, (size_t)n), POP3_OK);
    }
    for (int i = 0; i < 200; i++) {
        char want[32];
        snprintf(want, sizeof want, "x-%d", i);
        const pop3_capability *cap = pop3_capa_find(&c, want);
        cr_assert_not_null(cap, "%s", want);
        cr_assert_eq(cap, &c.caps[i]);
        cr_expect_eq(cap->nparams, (size_t)(i % 9));
        for (int k = 0; k < i % 9; k++) {
            snprintf(want, sizeof want, "p%d-%d", i, k);
            cr_expect(view_is(cap->params[k], want), "cap %d param %d", i, k);
        }
        cr_expect(cap->line.ptr <= cap->name.ptr &&
                      cap->name.ptr + cap->name.len <= cap->line.ptr + cap->line.len,
                  "cap %d: the name lies inside the line", i);
    }
    pop3_capa_free(&c);
}

/*
 * The parameter views of a line are written as its words are cut, so the parameter
 * array may grow several times within one line: the views already written for it and
 * those of earlier lines must all move along.
 */
Test(capa, parameter_array_grows_within_one_line)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    cr_assert_eq(pop3_capa_add(&c, IN("SASL PLAIN LOGIN")), POP3_OK);
    char line[512];
    int n = snprintf(line, sizeof line, "X-MANY");
    for (int k = 0; k < 100; k++)
        n += snprintf(line + n, sizeof line - (size_t)n, "\t%d", k);
    cr_assert_eq(pop3_capa_add(&c, line, (size_t)n), POP3_OK);
    cr_expect(pop3_capa_has_param(&c, "sasl", "login"));
    const pop3_capability *cap = pop3_capa_find(&c, "X-MANY");
    cr_assert_not_null(cap);
    cr_assert_eq(cap->nparams, 100);
    for (int k = 0; k < 100; k++) {
        char want[8];
        snprintf(want, sizeof want, "%d", k);
        cr_expect(view_is(cap->params[k], want), "param %d", k);
    }
    pop3_capa_free(&c);
}

/* A caller may add a line that is one of our own views; growth must not free it first. */
Test(capa, re_adding_own_line_view_while_growing)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    cr_assert_eq(pop3_capa_add(&c, IN("SASL PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER")), POP3_OK);
    for (int i = 0; i < 100; i++) {
        pop3_view v = c.caps[0].line;
        cr_assert_eq(pop3_capa_add(&c, v.ptr, v.len), POP3_OK);
    }
    cr_expect_eq(c.count, 101);
    for (size_t i = 0; i < c.count; i++) {
        cr_expect(view_is(c.caps[i].line, "SASL PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER"));
        cr_expect(view_is(c.caps[i].params[4], "OAUTHBEARER"));
    }
    pop3_capa_free(&c);
}

/* RFC2595-4.7: after STLS the client forgets what it knew and asks again. */
Test(capa, clear_forgets_capabilities_keeps_limit)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    c.max_caps = 2;
    cr_assert_eq(pop3_capa_add(&c, IN("SASL DIGEST-MD5 GSSAPI ANONYMOUS")), POP3_OK);
    cr_assert_eq(pop3_capa_add(&c, IN("STLS")), POP3_OK);
    pop3_capa_clear(&c);
    cr_expect_eq(c.count, 0);
    cr_expect_eq(c.max_caps, 2);
    cr_expect_null(pop3_capa_find(&c, "STLS"));
    cr_expect(!pop3_capa_has_param(&c, "SASL", "GSSAPI"));
    /* the list after STLS (RFC 5034 section 4 example) */
    cr_assert_eq(pop3_capa_add(&c, IN("SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS")), POP3_OK);
    cr_assert_eq(pop3_capa_add(&c, IN("IMPLEMENTATION BlurdyBlurp POP3 server")), POP3_OK);
    cr_expect_eq(pop3_capa_add(&c, IN("STLS")), POP3_ELIMIT);
    cr_expect(pop3_capa_has_param(&c, "SASL", "PLAIN"));
    cr_expect_null(pop3_capa_find(&c, "STLS"));
    pop3_capa_free(&c);
}

Test(capa, free_keeps_limit_and_allows_reuse)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    c.max_caps = 1;
    cr_assert_eq(pop3_capa_add(&c, IN("TOP")), POP3_OK);
    pop3_capa_free(&c);
    cr_expect_eq(c.count, 0);
    cr_expect_null(c.caps);
    cr_expect_eq(c.max_caps, 1);
    cr_expect_eq(pop3_capa_add(&c, IN("USER")), POP3_OK);
    cr_expect_eq(pop3_capa_add(&c, IN("TOP")), POP3_ELIMIT);
    cr_expect_not_null(pop3_capa_find(&c, "user"));
    pop3_capa_free(&c);
    pop3_capa_free(&c);
}

Test(capa, empty_list_finds_nothing)
{
    pop3_capa_set c;
    pop3_capa_init(&c);
    cr_expect_null(pop3_capa_find(&c, "TOP"));
    cr_expect(!pop3_capa_has_param(&c, "SASL", "PLAIN"));
    pop3_capa_free(&c);
}
