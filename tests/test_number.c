/*
 * test_number.c - the decimal number parser (codec/src/number.c, pop3_parse_number).
 *
 * RFC 1939 numbers (sections 5, 7 and 11): digits only, held in 64 bits, and the
 * callers that read them through it (STAT, LIST, UIDL lines). Each row is one field
 * and what must come out; every field is also parsed from a heap block of exactly its
 * length, so that a read past `len` is an AddressSanitizer report.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/error.h"
#include "pop3/parse.h"

#define IN(s) s, sizeof(s) - 1

struct number_row {
    const char *what;
    const char *in;
    size_t len;
    int rc;
    uint64_t value;
};

static const struct number_row number_rows[] = {
    {"zero", IN("0"), POP3_OK, 0},
    {"one digit", IN("7"), POP3_OK, 7},
    {"RFC 1939 STAT example", IN("320"), POP3_OK, 320},
    {"leading zeros", IN("007"), POP3_OK, 7},
    {"all zeros", IN("0000"), POP3_OK, 0},
    {"2^32 (Q13: past 32 bits)", IN("4294967296"), POP3_OK, 4294967296u},
    {"2^64-1, the largest", IN("18446744073709551615"), POP3_OK, UINT64_MAX},
    {"2^64-1 behind leading zeros", IN("00000000000000000000018446744073709551615"), POP3_OK,
     UINT64_MAX},
    {"2^64, one past", IN("18446744073709551616"), POP3_ELIMIT, 0},
    {"2^64-1 with a digit more", IN("184467440737095516150"), POP3_ELIMIT, 0},
    {"twenty nines", IN("99999999999999999999"), POP3_ELIMIT, 0},
    {"a hundred digits",
     IN("1000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000"),
     POP3_ELIMIT, 0},
    {"empty", IN(""), POP3_EPROTO, 0},
    {"plus sign", IN("+1"), POP3_EPROTO, 0},
    {"minus sign", IN("-1"), POP3_EPROTO, 0},
    {"leading space", IN(" 1"), POP3_EPROTO, 0},
    {"trailing space", IN("1 "), POP3_EPROTO, 0},
    {"trailing tab", IN("1\t"), POP3_EPROTO, 0},
    {"trailing CR", IN("1\r"), POP3_EPROTO, 0},
    {"letter after", IN("12a"), POP3_EPROTO, 0},
    {"hex prefix", IN("0x10"), POP3_EPROTO, 0},
    {"decimal point", IN("1.5"), POP3_EPROTO, 0},
    {"exponent", IN("1e3"), POP3_EPROTO, 0},
    {"NUL inside", IN("1\0002"), POP3_EPROTO, 0},
    {"8-bit digit (fullwidth one)", IN("\xef\xbc\x91"), POP3_EPROTO, 0},
    {"Arabic-Indic digit", IN("\xd9\xa1"), POP3_EPROTO, 0},
    {"digits around a colon", IN("1:2"), POP3_EPROTO, 0},
    /* The syntax is judged before the range: this is not a number at all. */
    {"too large and then a letter", IN("99999999999999999999x"), POP3_EPROTO, 0},
};

Test(number, table)
{
    for (size_t i = 0; i < sizeof number_rows / sizeof number_rows[0]; i++) {
        const struct number_row *r = &number_rows[i];
        char *copy = malloc(r->len ? r->len : 1);
        cr_assert(copy != NULL);
        memcpy(copy, r->in, r->len);
        uint64_t v = 0x5a5a5a5a5a5a5a5au;
        int rc = pop3_parse_number(copy, r->len, &v);
        cr_expect(rc == r->rc, "%s: rc %s, want %s", r->what, pop3_errname(rc),
                  pop3_errname(r->rc));
        if (r->rc == POP3_OK)
            cr_expect(v == r->value, "%s: value %llu, want %llu", r->what, (unsigned long long)v,
                      (unsigned long long)r->value);
        else
            cr_expect(v == 0x5a5a5a5a5a5a5a5au, "%s: *out written on error", r->what);
        /* Validation only: same verdict with no output. */
        cr_expect(pop3_parse_number(copy, r->len, NULL) == r->rc, "%s: NULL out", r->what);
        free(copy);
    }
}

Test(number, reads_only_len_octets)
{
    /* The field is the first two octets; what follows is none of its business. */
    uint64_t v = 0;
    cr_expect(pop3_parse_number("12 345", 2, &v) == POP3_OK && v == 12);
    cr_expect(pop3_parse_number("12x", 2, &v) == POP3_OK && v == 12);
    cr_expect(pop3_parse_number("5", 0, &v) == POP3_EPROTO);
    cr_expect(pop3_parse_number(NULL, 0, &v) == POP3_EPROTO);
}

Test(number, every_value_near_the_top)
{
    /* 2^64-1 - k for small k parse, 2^64 + k do not: the overflow test is exact. */
    char buf[32];
    for (unsigned k = 0; k < 1000; k++) {
        uint64_t want = UINT64_MAX - k;
        int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)want);
        uint64_t v = 0;
        cr_assert(pop3_parse_number(buf, (size_t)n, &v) == POP3_OK && v == want, "2^64-1-%u", k);
    }
    /* 18446744073709551616 .. 18446744073709552615: last digits counted by hand. */
    for (unsigned k = 0; k < 1000; k++) {
        int n = snprintf(buf, sizeof buf, "1844674407370955%04u", 1616 + k);
        uint64_t v = 0;
        cr_assert(pop3_parse_number(buf, (size_t)n, &v) == POP3_ELIMIT, "%s", buf);
    }
}

/* The listing parsers read their numbers through it: same rules in context. */
Test(number, listing_lines_use_it)
{
    uint64_t a = 0, b = 0;
    cr_expect(pop3_parse_scan(IN("1 18446744073709551615"), &a, &b, NULL) == POP3_OK &&
              b == UINT64_MAX);
    cr_expect(pop3_parse_scan(IN("1 18446744073709551616"), &a, &b, NULL) == POP3_EPROTO);
    cr_expect(pop3_parse_scan(IN("007 1"), &a, &b, NULL) == POP3_OK && a == 7);
    cr_expect(pop3_parse_stat(IN("+2 320"), &a, &b, NULL) == POP3_EPROTO);
    pop3_view uid;
    cr_expect(pop3_parse_uidl(IN("0x1 abc"), &a, &uid, NULL) == POP3_EPROTO);
}
