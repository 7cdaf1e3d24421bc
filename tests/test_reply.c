/*
 * test_reply.c - server status lines (codec/src/reply.c).
 *
 * RFC 1939 section 3 (+OK / -ERR, optional text, CRLF), RFC 2449 section 8 and 9
 * (response codes: "[" resp-level *("/" resp-level) "]", rchar = %x21-2E / %x30-5C /
 * %x5E-7F), RFC 5034 section 4 (continuation "+ " base64; empty challenge "+ ",
 * RFC5034-4.6).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pop3/encode.h"
#include "pop3/error.h"

#define GUARD 0x5A

static bool untouched(const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] != GUARD) return false;
    return true;
}

static const struct {
    const char *what;
    pop3_status_kind kind;
    const char *code;
    const char *text;
    const char *wire;
} good_rows[] = {
    {"bare +OK", POP3_STATUS_OK, NULL, "", "+OK\r\n"},
    {"bare -ERR", POP3_STATUS_ERR, NULL, "", "-ERR\r\n"},
    {"RFC 1939 section 5 STAT-like text", POP3_STATUS_OK, NULL,
     "mrose's maildrop has 2 messages (320 octets)",
     "+OK mrose's maildrop has 2 messages (320 octets)\r\n"},
    {"RFC 2449 section 8.1.2 IN-USE", POP3_STATUS_ERR, "IN-USE",
     "Do you have another POP session running?",
     "-ERR [IN-USE] Do you have another POP session running?\r\n"},
    {"hierarchical code", POP3_STATUS_ERR, "SYS/TEMP", "try later",
     "-ERR [SYS/TEMP] try later\r\n"},
    {"three levels", POP3_STATUS_ERR, "SYS/TEMP/QUOTA", "x", "-ERR [SYS/TEMP/QUOTA] x\r\n"},
    {"code without text", POP3_STATUS_ERR, "LOGIN-DELAY", "", "-ERR [LOGIN-DELAY]\r\n"},
    {"code on +OK", POP3_STATUS_OK, "UTF8", "UTF8 enabled", "+OK [UTF8] UTF8 enabled\r\n"},
    {"empty code is no code", POP3_STATUS_ERR, "", "no such message", "-ERR no such message\r\n"},
    {"every rchar class edge", POP3_STATUS_ERR, "!./0\\^\x7f", "t", "-ERR [!./0\\^\x7f] t\r\n"},
    {"RFC5034-4.6 empty challenge", POP3_STATUS_CONTINUE, NULL, "", "+ \r\n"},
    {"empty code on a continuation", POP3_STATUS_CONTINUE, "", "", "+ \r\n"},
    {"RFC 2195 challenge", POP3_STATUS_CONTINUE, NULL,
     "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
     "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"},
    {"TAB and 8-bit in text pass", POP3_STATUS_OK, NULL, "a\tb\xc3\xa9", "+OK a\tb\xc3\xa9\r\n"},
    {"text that looks like a code", POP3_STATUS_ERR, NULL, "[x] y", "-ERR [x] y\r\n"},
};

Test(encode_status, good_rows)
{
    for (size_t r = 0; r < sizeof good_rows / sizeof good_rows[0]; r++) {
        char out[256];
        size_t out_len = 0;
        const char *msg = NULL;
        size_t text_len = strlen(good_rows[r].text);
        size_t want = strlen(good_rows[r].wire);
        int rc = pop3_encode_status(out, sizeof out, &out_len, good_rows[r].kind, good_rows[r].code,
                                    good_rows[r].text, text_len, &msg);
        cr_expect_eq(rc, POP3_OK, "%s: rc %d (%s)", good_rows[r].what, rc, msg ? msg : "");
        cr_expect_eq(out_len, want, "%s: length %zu want %zu", good_rows[r].what, out_len, want);
        cr_expect(rc == POP3_OK && memcmp(out, good_rows[r].wire, want) == 0, "%s: %.*s",
                  good_rows[r].what, (int)out_len, out);

        /* Exactly the line's size is enough; one less writes nothing. */
        char exact[256];
        cr_expect_eq(pop3_encode_status(exact, want, NULL, good_rows[r].kind, good_rows[r].code,
                                        good_rows[r].text, text_len, NULL),
                     POP3_OK, "%s: exact cap", good_rows[r].what);
        for (size_t cap = 0; cap < want; cap++) {
            memset(exact, GUARD, sizeof exact);
            cr_expect_eq(pop3_encode_status(exact, cap, NULL, good_rows[r].kind, good_rows[r].code,
                                            good_rows[r].text, text_len, &msg),
                         POP3_ELIMIT, "%s: cap %zu", good_rows[r].what, cap);
            cr_expect(untouched(exact, sizeof exact), "%s: cap %zu wrote", good_rows[r].what, cap);
        }
    }
}

static const struct {
    const char *what;
    pop3_status_kind kind;
    const char *code;
    const char *text;
    size_t text_len;
} bad_rows[] = {
    {"unknown kind 0", (pop3_status_kind)0, NULL, "", 0},
    {"unknown kind 99", (pop3_status_kind)99, NULL, "", 0},
    {"code on a continuation", POP3_STATUS_CONTINUE, "AUTH", "", 0},
    {"SP in a code", POP3_STATUS_ERR, "IN USE", "x", 1},
    {"] in a code", POP3_STATUS_ERR, "IN-USE]", "x", 1},
    {"brackets given", POP3_STATUS_ERR, "[IN-USE]", "x", 1},
    {"empty middle level", POP3_STATUS_ERR, "SYS//TEMP", "x", 1},
    {"empty first level", POP3_STATUS_ERR, "/SYS", "x", 1},
    {"empty last level", POP3_STATUS_ERR, "SYS/", "x", 1},
    {"only a slash", POP3_STATUS_ERR, "/", "x", 1},
    {"8-bit in a code", POP3_STATUS_ERR, "UTF\xc3\xa9", "x", 1},
    {"CR in a code", POP3_STATUS_ERR, "A\rB", "x", 1},
    {"LF in a code", POP3_STATUS_ERR, "A\nB", "x", 1},
    {"TAB in a code", POP3_STATUS_ERR, "A\tB", "x", 1},
    {"CR in text", POP3_STATUS_OK, NULL, "a\rb", 3},
    {"LF in text", POP3_STATUS_ERR, NULL, "a\nb", 3},
    {"NUL in text", POP3_STATUS_OK, NULL, "a\0b", 3},
    {"CRLF injected in text", POP3_STATUS_OK, NULL, "x\r\n+OK y", 8},
    {"CR in a challenge", POP3_STATUS_CONTINUE, NULL, "AAAA\r", 5},
    {"NULL text with a length", POP3_STATUS_OK, NULL, NULL, 4},
};

Test(encode_status, bad_rows)
{
    for (size_t r = 0; r < sizeof bad_rows / sizeof bad_rows[0]; r++) {
        char out[128];
        memset(out, GUARD, sizeof out);
        size_t out_len = 4242;
        const char *msg = NULL;
        int rc = pop3_encode_status(out, sizeof out, &out_len, bad_rows[r].kind, bad_rows[r].code,
                                    bad_rows[r].text, bad_rows[r].text_len, &msg);
        cr_expect_eq(rc, POP3_EUSAGE, "%s: rc %d", bad_rows[r].what, rc);
        cr_expect_not_null(msg, "%s: no message", bad_rows[r].what);
        cr_expect(untouched(out, sizeof out), "%s: written on failure", bad_rows[r].what);
        cr_expect_eq(out_len, 4242, "%s: out_len set on failure", bad_rows[r].what);
        cr_expect_eq(pop3_encode_status(out, sizeof out, NULL, bad_rows[r].kind, bad_rows[r].code,
                                        bad_rows[r].text, bad_rows[r].text_len, NULL),
                     POP3_EUSAGE, "%s: NULL message pointer", bad_rows[r].what);
    }
}

/* Every octet as a one-octet code: accepted exactly when it is an rchar. */
Test(encode_status, rchar_table)
{
    for (unsigned v = 1; v < 256; v++) {
        bool rchar =
            (v >= 0x21 && v <= 0x2e) || (v >= 0x30 && v <= 0x5c) || (v >= 0x5e && v <= 0x7f);
        char code[2] = {(char)v, '\0'};
        char out[32];
        int rc = pop3_encode_status(out, sizeof out, NULL, POP3_STATUS_ERR, code, "", 0, NULL);
        cr_expect_eq(rc, rchar ? POP3_OK : POP3_EUSAGE, "octet 0x%02x: rc %d", v, rc);
    }
}

/* The 512-octet limit of RFC 1939 section 3 is the mock's to break (RFC1939-3.3 quirk). */
Test(encode_status, long_text_is_cap_bound_only)
{
    static char text[4096];
    static char out[4096 + 16];
    memset(text, 'x', sizeof text);
    size_t out_len = 0;
    cr_assert_eq(pop3_encode_status(out, sizeof out, &out_len, POP3_STATUS_OK, NULL, text,
                                    sizeof text, NULL),
                 POP3_OK);
    cr_expect_eq(out_len, 4 + sizeof text + 2);
    cr_expect_eq(pop3_encode_status(NULL, 0, NULL, POP3_STATUS_OK, NULL, "", 0, NULL), POP3_ELIMIT);
}
