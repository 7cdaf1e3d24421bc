/*
 * test_command_parse.c - received command lines (codec/src/command_parse.c).
 *
 * RFC 1939 section 3 (case-insensitive 3-4 character keyword, single-SP separated
 * printable arguments of at most 40 characters), section 7 (PASS takes the rest of
 * the line), RFC 2449 sections 3-4 (3*4VCHAR, 1*VCHAR, 255 octets with CRLF), RFC 5034
 * section 4 (AUTH with an initial response), RFC 6856 (UTF8, 8-bit arguments). Each
 * row is one line, the options it is parsed under and what must come out; each line is
 * parsed from a heap block of exactly its size so that a read past it is an
 * AddressSanitizer report. Then round trips with pop3_encode_command.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/command.h"
/* The umbrella header too: the request type must not clash with the client's names. */
#include "pop3/pop3.h"
#include "pop3/encode.h"
#include "pop3/error.h"

#define IN(s) s, sizeof(s) - 1

enum { DEF = 1, STRICT = 2 }; /* which tolerance sets a row runs under (bits) */
enum { SP = POP3_CMDTOL_SPACES, B8 = POP3_CMDTOL_8BIT };

struct row {
    const char *what;
    const char *in;
    size_t len;
    unsigned under;  /* DEF, STRICT or both */
    size_t max_line; /* 0: default */
    size_t max_arg;  /* 0: none */
    int rc;
    pop3_command_fault fault;
    size_t fault_at;
    pop3_command_id id;
    const char *name; /* upper-case keyword */
    size_t nargs;
    const char *args; /* the views joined by '|', first POP3_COMMAND_ARGS_MAX only */
    const char *rest; /* NULL: rest.ptr must be NULL */
    unsigned quirks;
};

#define OK(what, in, under, id, name, nargs, args, rest, quirks)                                   \
    {                                                                                              \
        what, IN(in), under, 0, 0, POP3_OK, POP3_CMDF_NONE, 0, id, name, nargs, args, rest, quirks \
    }
#define BAD(what, in, under, rc, fault, at)                                            \
    {                                                                                  \
        what, IN(in), under, 0, 0, rc, fault, at, POP3_CMD_UNKNOWN, "", 0, "", NULL, 0 \
    }

static const struct row rows[] = {
    /* RFC 1939 examples, both modes. */
    OK("STAT", "STAT", DEF | STRICT, POP3_CMD_STAT, "STAT", 0, "", NULL, 0),
    OK("USER mrose", "USER mrose", DEF | STRICT, POP3_CMD_USER, "USER", 1, "mrose", "mrose", 0),
    OK("APOP", "APOP mrose c4c9334bac560ecc979e58001b3e22fb", DEF | STRICT, POP3_CMD_APOP, "APOP",
       2, "mrose|c4c9334bac560ecc979e58001b3e22fb", "mrose c4c9334bac560ecc979e58001b3e22fb", 0),
    OK("TOP 1 10", "TOP 1 10", DEF | STRICT, POP3_CMD_TOP, "TOP", 2, "1|10", "1 10", 0),
    OK("LIST 2", "LIST 2", DEF | STRICT, POP3_CMD_LIST, "LIST", 1, "2", "2", 0),
    OK("lower case keyword", "retr 1", DEF | STRICT, POP3_CMD_RETR, "RETR", 1, "1", "1", 0),
    OK("mixed case keyword", "UiDl", DEF | STRICT, POP3_CMD_UIDL, "UIDL", 0, "", NULL, 0),
    OK("every known keyword: CAPA", "capa", DEF | STRICT, POP3_CMD_CAPA, "CAPA", 0, "", NULL, 0),
    OK("STLS", "STLS", DEF | STRICT, POP3_CMD_STLS, "STLS", 0, "", NULL, 0),
    OK("UTF8 (RFC 6856)", "UTF8", DEF | STRICT, POP3_CMD_UTF8, "UTF8", 0, "", NULL, 0),
    OK("LANG (RFC 6856)", "LANG fr", DEF | STRICT, POP3_CMD_LANG, "LANG", 1, "fr", "fr", 0),
    OK("RPOP", "RPOP x", DEF | STRICT, POP3_CMD_RPOP, "RPOP", 1, "x", "x", 0),
    OK("DELE", "DELE 1", DEF | STRICT, POP3_CMD_DELE, "DELE", 1, "1", "1", 0),
    OK("NOOP", "NOOP", DEF | STRICT, POP3_CMD_NOOP, "NOOP", 0, "", NULL, 0),
    OK("RSET", "RSET", DEF | STRICT, POP3_CMD_RSET, "RSET", 0, "", NULL, 0),
    OK("QUIT", "QUIT", DEF | STRICT, POP3_CMD_QUIT, "QUIT", 0, "", NULL, 0),
    OK("unknown keyword parses", "XTND XLST", DEF | STRICT, POP3_CMD_UNKNOWN, "XTND", 1, "XLST",
       "XLST", 0),
    OK("three-character unknown", "FOO", DEF | STRICT, POP3_CMD_UNKNOWN, "FOO", 0, "", NULL, 0),
    OK("punctuation is VCHAR (RFC 2449 keyword)", "X-Y!", DEF | STRICT, POP3_CMD_UNKNOWN, "X-Y!", 0,
       "", NULL, 0),
    /* PASS: the rest of the line is the password (RFC 1939 section 7). */
    OK("PASS with spaces", "PASS my secret", DEF | STRICT, POP3_CMD_PASS, "PASS", 2, "my|secret",
       "my secret", 0),
    OK("PASS double space (tolerant)", "PASS a  b", DEF, POP3_CMD_PASS, "PASS", 2, "a|b", "a  b",
       SP),
    OK("PASS empty (tolerant)", "PASS ", DEF, POP3_CMD_PASS, "PASS", 0, "", "", SP),
    /* AUTH (RFC 5034 section 4): the initial response is argument 2. */
    OK("AUTH PLAIN with IR", "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", DEF | STRICT, POP3_CMD_AUTH, "AUTH",
       2, "PLAIN|dGVzdAB0ZXN0AHRlc3Q=", "PLAIN dGVzdAB0ZXN0AHRlc3Q=", 0),
    OK("AUTH empty IR is =", "AUTH PLAIN =", DEF | STRICT, POP3_CMD_AUTH, "AUTH", 2,
       "PLAIN|=", "PLAIN =", 0),
    /* Spaces. */
    OK("trailing SP (tolerant)", "STAT ", DEF, POP3_CMD_STAT, "STAT", 0, "", "", SP),
    OK("two SPs after keyword (tolerant)", "LIST  1", DEF, POP3_CMD_LIST, "LIST", 1, "1", " 1", SP),
    OK("SP after last arg (tolerant)", "TOP 1 2 ", DEF, POP3_CMD_TOP, "TOP", 2, "1|2", "1 2 ", SP),
    BAD("trailing SP (strict)", "STAT ", STRICT, POP3_EPROTO, POP3_CMDF_SPACES, 4),
    BAD("two SPs after keyword (strict)", "LIST  1", STRICT, POP3_EPROTO, POP3_CMDF_SPACES, 5),
    BAD("two SPs between args (strict)", "TOP 1  2", STRICT, POP3_EPROTO, POP3_CMDF_SPACES, 6),
    BAD("SP after last arg (strict)", "TOP 1 2 ", STRICT, POP3_EPROTO, POP3_CMDF_SPACES, 7),
    /* 8-bit octets: arguments only, and only when tolerated. */
    OK("UTF-8 user name (tolerant)", "USER j\xc3\xb6rg", DEF, POP3_CMD_USER, "USER", 1,
       "j\xc3\xb6rg", "j\xc3\xb6rg", B8),
    BAD("UTF-8 user name (strict)", "USER j\xc3\xb6rg", STRICT, POP3_EPROTO, POP3_CMDF_EIGHT_BIT,
        6),
    BAD("8-bit keyword", "R\xc3\x89TR 1", DEF | STRICT, POP3_EPROTO, POP3_CMDF_KEYWORD, 1),
    /* Keywords. */
    BAD("empty line", "", DEF | STRICT, POP3_EPROTO, POP3_CMDF_EMPTY, 0),
    BAD("two-character keyword", "QU", DEF | STRICT, POP3_EPROTO, POP3_CMDF_KEYWORD, 2),
    BAD("five-character keyword", "QUITS", DEF | STRICT, POP3_EPROTO, POP3_CMDF_KEYWORD, 4),
    BAD("leading SP", " STAT", DEF | STRICT, POP3_EPROTO, POP3_CMDF_KEYWORD, 0),
    BAD("only spaces", "   ", DEF | STRICT, POP3_EPROTO, POP3_CMDF_KEYWORD, 0),
    /* Control octets, named: the server's side of Q42. */
    BAD("CR inside (command injection)", "USER a\rDELE 1", DEF | STRICT, POP3_EPROTO, POP3_CMDF_CR,
        6),
    BAD("LF inside", "USER a\nDELE 1", DEF | STRICT, POP3_EPROTO, POP3_CMDF_LF, 6),
    BAD("NUL inside", "PASS a\0b", DEF | STRICT, POP3_EPROTO, POP3_CMDF_NUL, 6),
    BAD("TAB separator", "LIST\t1", DEF | STRICT, POP3_EPROTO, POP3_CMDF_TAB, 4),
    BAD("ESC", "USER \x1b[0m", DEF | STRICT, POP3_EPROTO, POP3_CMDF_CONTROL, 5),
    BAD("DEL", "USER a\x7f", DEF | STRICT, POP3_EPROTO, POP3_CMDF_CONTROL, 6),
    BAD("trailing CR (a line end left on)", "STAT\r", DEF | STRICT, POP3_EPROTO, POP3_CMDF_CR, 4),
    /* A control octet is refused before the keyword is judged. */
    BAD("control in a bad keyword", "QUITS\x01", DEF | STRICT, POP3_EPROTO, POP3_CMDF_CONTROL, 5),
};

/* Limits, each at and past it. */
static const struct row limit_rows[] = {
    {"253 octets + CRLF = 255: at the limit", NULL, 253, DEF | STRICT, 0, 0, POP3_OK,
     POP3_CMDF_NONE, 0, POP3_CMD_PASS, "PASS", 1, NULL, NULL, 0},
    {"254 octets + CRLF = 256: past it", NULL, 254, DEF | STRICT, 0, 0, POP3_ELIMIT,
     POP3_CMDF_TOO_LONG, 253, POP3_CMD_UNKNOWN, "", 0, NULL, NULL, 0},
    {"raised limit 512: 510 octets", NULL, 510, DEF | STRICT, 512, 0, POP3_OK, POP3_CMDF_NONE, 0,
     POP3_CMD_PASS, "PASS", 1, NULL, NULL, 0},
    {"raised limit 512: 511 octets", NULL, 511, DEF | STRICT, 512, 0, POP3_ELIMIT,
     POP3_CMDF_TOO_LONG, 510, POP3_CMD_UNKNOWN, "", 0, NULL, NULL, 0},
};

static void check(const struct row *r, const char *in, size_t len, unsigned tol)
{
    char *copy = malloc(len ? len : 1);
    cr_assert(copy != NULL);
    memcpy(copy, in, len);
    pop3_command_options o = {.max_line = r->max_line, .max_arg = r->max_arg, .tolerances = tol};
    pop3_request c;
    const char *msg = NULL;
    int rc = pop3_parse_command(copy, len, &o, &c, &msg);
    const char *mode = tol ? "tolerant" : "strict";
    cr_expect(rc == r->rc, "%s (%s): rc %s, want %s (%s)", r->what, mode, pop3_errname(rc),
              pop3_errname(r->rc), msg ? msg : "");
    cr_expect(c.fault == r->fault, "%s (%s): fault %d, want %d", r->what, mode, (int)c.fault,
              (int)r->fault);
    if (r->rc != POP3_OK) {
        cr_expect(c.fault_at == r->fault_at, "%s (%s): fault at %zu, want %zu", r->what, mode,
                  c.fault_at, r->fault_at);
        cr_expect(msg != NULL && strcmp(msg, pop3_command_fault_message(r->fault)) == 0,
                  "%s: message", r->what);
        free(copy);
        return;
    }
    cr_expect(c.id == r->id, "%s: id %d, want %d", r->what, (int)c.id, (int)r->id);
    cr_expect(strcmp(c.name, r->name) == 0, "%s: name %s", r->what, c.name);
    cr_expect(c.keyword.ptr == copy && c.keyword.len == strlen(r->name), "%s: keyword view",
              r->what);
    cr_expect(c.nargs == r->nargs, "%s: nargs %zu, want %zu", r->what, c.nargs, r->nargs);
    cr_expect(c.quirks == r->quirks, "%s: quirks %x, want %x", r->what, c.quirks, r->quirks);
    if (r->args != NULL) {
        char joined[512] = "";
        for (size_t i = 0; i < c.nargs && i < POP3_COMMAND_ARGS_MAX; i++) {
            cr_assert(c.args[i].ptr >= copy && c.args[i].ptr + c.args[i].len <= copy + len);
            if (i) strcat(joined, "|");
            strncat(joined, c.args[i].ptr, c.args[i].len);
        }
        cr_expect(strcmp(joined, r->args) == 0, "%s: args '%s', want '%s'", r->what, joined,
                  r->args);
    }
    if (r->in != NULL) {
        if (r->rest == NULL) {
            cr_expect(c.rest.ptr == NULL && c.rest.len == 0, "%s: rest should be absent", r->what);
        } else {
            cr_expect(c.rest.ptr != NULL && c.rest.len == strlen(r->rest) &&
                          memcmp(c.rest.ptr, r->rest, c.rest.len) == 0,
                      "%s: rest", r->what);
            cr_expect(c.rest.ptr + c.rest.len == copy + len, "%s: rest runs to the end", r->what);
        }
    }
    free(copy);
}

Test(command_parse, table)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        if (r->under & DEF) check(r, r->in, r->len, POP3_CMDTOL_DEFAULT);
        if (r->under & STRICT) check(r, r->in, r->len, POP3_CMDTOL_STRICT);
    }
}

Test(command_parse, line_limit_at_and_past)
{
    for (size_t i = 0; i < sizeof limit_rows / sizeof limit_rows[0]; i++) {
        const struct row *r = &limit_rows[i];
        char *line = malloc(r->len);
        cr_assert(line != NULL);
        memcpy(line, "PASS ", 5);
        memset(line + 5, 'p', r->len - 5);
        check(r, line, r->len, POP3_CMDTOL_DEFAULT);
        check(r, line, r->len, POP3_CMDTOL_STRICT);
        free(line);
    }
}

Test(command_parse, argument_limit_rfc1939)
{
    /* 40 characters pass, 41 do not, when the server holds to RFC 1939 section 3. */
    char line[64];
    pop3_command_options o;
    pop3_command_options_default(&o);
    o.max_arg = POP3_ARG_MAX_RFC1939;
    pop3_request c;
    int n = snprintf(line, sizeof line, "USER %040d", 7);
    cr_expect(pop3_parse_command(line, (size_t)n, &o, &c, NULL) == POP3_OK && c.args[0].len == 40);
    n = snprintf(line, sizeof line, "USER %041d", 7);
    cr_expect(pop3_parse_command(line, (size_t)n, &o, &c, NULL) == POP3_ELIMIT);
    cr_expect(c.fault == POP3_CMDF_ARG_TOO_LONG && c.fault_at == 5);
    /* The second argument too, and the default has no such limit (RFC 2449 section 4). */
    n = snprintf(line, sizeof line, "TOP 1 %041d", 7);
    cr_expect(pop3_parse_command(line, (size_t)n, &o, &c, NULL) == POP3_ELIMIT && c.fault_at == 6);
    cr_expect(pop3_parse_command(line, (size_t)n, NULL, &c, NULL) == POP3_OK && c.nargs == 2);
}

Test(command_parse, more_arguments_than_views)
{
    /* nargs counts them all, the views cover the first POP3_COMMAND_ARGS_MAX, rest all. */
    const char line[] = "XYZ 1 2 3 4 5 6 7 8 9 10";
    pop3_request c;
    cr_assert(pop3_parse_command(line, sizeof line - 1, NULL, &c, NULL) == POP3_OK);
    cr_expect(c.nargs == 10);
    cr_expect(c.args[POP3_COMMAND_ARGS_MAX - 1].len == 1 &&
              c.args[POP3_COMMAND_ARGS_MAX - 1].ptr[0] == '8');
    cr_expect(c.rest.len == sizeof line - 1 - 4);
}

Test(command_parse, defaults_and_names)
{
    pop3_command_options o;
    pop3_command_options_default(&o);
    cr_expect(o.max_line == 255 && o.max_arg == 0 && o.tolerances == POP3_CMDTOL_DEFAULT);
    pop3_request c;
    /* NULL options are the defaults: tolerant of spaces. */
    cr_expect(pop3_parse_command("STAT ", 5, NULL, &c, NULL) == POP3_OK);
    /* Zero-initialised options are strict. */
    pop3_command_options zero = {0};
    cr_expect(pop3_parse_command("STAT ", 5, &zero, &c, NULL) == POP3_EPROTO);
    cr_expect(pop3_parse_command(NULL, 0, NULL, &c, NULL) == POP3_EPROTO &&
              c.fault == POP3_CMDF_EMPTY);
    cr_expect(strcmp(pop3_command_name(POP3_CMD_RETR), "RETR") == 0);
    cr_expect(strcmp(pop3_command_name(POP3_CMD_UNKNOWN), "") == 0);
    cr_expect(strcmp(pop3_command_name((pop3_command_id)999), "") == 0);
    cr_expect(strcmp(pop3_command_fault_message((pop3_command_fault)999), "unknown fault") == 0);
    /* A name for every id, and a parse that finds it again. */
    for (int id = POP3_CMD_UNKNOWN + 1; id <= POP3_CMD_QUIT; id++) {
        const char *name = pop3_command_name((pop3_command_id)id);
        cr_assert(strlen(name) >= 3 && strlen(name) <= 4);
        cr_expect(pop3_parse_command(name, strlen(name), NULL, &c, NULL) == POP3_OK &&
                      c.id == (pop3_command_id)id,
                  "%s", name);
    }
}

/* ---- round trips with pop3_encode_command (pop3/encode.h) ---- */

struct rt_row {
    const char *keyword;
    const char *args[3];
    size_t nargs;
};

static const struct rt_row rt_rows[] = {
    {"STAT", {NULL}, 0},
    {"USER", {"mrose"}, 1},
    {"PASS", {"secret with spaces"}, 1},
    {"PASS", {""}, 1},
    {"APOP", {"mrose", "c4c9334bac560ecc979e58001b3e22fb"}, 2},
    {"TOP", {"1", "10"}, 2},
    {"AUTH", {"PLAIN", "dGVzdAB0ZXN0AHRlc3Q="}, 2},
    {"USER", {"j\xc3\xb6rg"}, 1},
    {"utf8", {NULL}, 0},
    {"XTND", {"a", "b", "c d"}, 3},
};

Test(command_parse, round_trip_with_the_encoder)
{
    for (size_t i = 0; i < sizeof rt_rows / sizeof rt_rows[0]; i++) {
        const struct rt_row *r = &rt_rows[i];
        char wire[POP3_COMMAND_MAX];
        size_t n = 0;
        cr_assert(pop3_encode_command(wire, sizeof wire, &n, 0, r->keyword, r->args, r->nargs,
                                      NULL) == POP3_OK);
        cr_assert(n >= 2 && wire[n - 2] == '\r' && wire[n - 1] == '\n');
        pop3_request c;
        const char *msg = NULL;
        int rc = pop3_parse_command(wire, n - 2, NULL, &c, &msg);
        cr_assert(rc == POP3_OK, "%s: %s", r->keyword, msg);
        cr_expect(c.keyword.len == strlen(r->keyword) &&
                  memcmp(c.keyword.ptr, r->keyword, c.keyword.len) == 0);
        /* `rest` is the encoder's arguments joined by one SP. */
        char joined[POP3_COMMAND_MAX] = "";
        for (size_t k = 0; k < r->nargs; k++) {
            if (k) strcat(joined, " ");
            strcat(joined, r->args[k]);
        }
        cr_expect((r->nargs == 0) == (c.rest.ptr == NULL), "%s: rest present", r->keyword);
        cr_expect(c.rest.len == strlen(joined) &&
                      (c.rest.len == 0 || memcmp(c.rest.ptr, joined, c.rest.len) == 0),
                  "%s: rest", r->keyword);
        /* And parse -> encode gives the same octets back. */
        const char *back[POP3_COMMAND_ARGS_MAX];
        char store[POP3_COMMAND_ARGS_MAX][POP3_COMMAND_MAX];
        size_t nb = c.nargs;
        for (size_t k = 0; k < nb; k++) {
            memcpy(store[k], c.args[k].ptr, c.args[k].len);
            store[k][c.args[k].len] = '\0';
            back[k] = store[k];
        }
        if (c.quirks & POP3_CMDTOL_SPACES) continue; /* "PASS ": no argument to give back */
        char kw[5];
        memcpy(kw, c.keyword.ptr, c.keyword.len);
        kw[c.keyword.len] = '\0';
        char again[POP3_COMMAND_MAX];
        size_t m = 0;
        cr_assert(pop3_encode_command(again, sizeof again, &m, 0, kw, back, nb, NULL) == POP3_OK);
        cr_expect(m == n && memcmp(again, wire, n) == 0, "%s: re-encoded differently", r->keyword);
    }
}

Test(command_parse, encoder_refusals_are_parser_refusals)
{
    /* What the encoder refuses to send, the parser refuses to read. */
    const char *lines[] = {"USER a\rb", "USER a\nb", "USER a\tb", "US", "USERS x"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        pop3_request c;
        cr_expect(pop3_parse_command(lines[i], strlen(lines[i]), NULL, &c, NULL) == POP3_EPROTO,
                  "%s", lines[i]);
    }
}
