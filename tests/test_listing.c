/*
 * test_listing.c - STAT, LIST and UIDL content parsers and pop3_listing (codec/src/listing.c).
 *
 * RFC 1939 sections 5 and 7 (RFC1939-5.1, 5.2, 7.2, 7.4) and quirks Q13 (64-bit sizes),
 * Q45 (message number 0, duplicates), Q46 (long or spaced unique-ids, extra spaces),
 * Q47 (bounded listings). Each table row is one input line and what must come out.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/error.h"
#include "pop3/parse.h"

/* A string literal with its length, so rows can hold NUL and 8-bit octets. */
#define IN(s) s, sizeof(s) - 1

enum {
    SPACE = POP3_ANOM_EXTRA_SPACE,
    TRAIL = POP3_ANOM_TRAILING,
    ZERO = POP3_ANOM_MSGNO_ZERO,
    DUP = POP3_ANOM_DUPLICATE,
    LONG = POP3_ANOM_UID_LONG,
    CHARS = POP3_ANOM_UID_CHARS,
    DUPUID = POP3_ANOM_DUPLICATE_UID,
};

/* 70 and 71 octets: the RFC1939-7.2 limit and one past it. */
#define UID70 "0123456789012345678901234567890123456789012345678901234567890123456789"
#define UID71 UID70 "x"

/* ---- pop3_parse_stat (RFC1939-5.1) ---- */

struct stat_row {
    const char *what;
    const char *in;
    size_t len;
    int rc;
    uint64_t count, size;
    unsigned anom;
};

static const struct stat_row stat_rows[] = {
    {"RFC 1939 section 5 example", IN("2 320"), POP3_OK, 2, 320, 0},
    {"empty maildrop", IN("0 0"), POP3_OK, 0, 0, 0},
    {"Q13 size above 2^32 (curl STAT 4294967800)", IN("3 4294967800"), POP3_OK, 3, 4294967800u, 0},
    {"UINT64_MAX in both fields", IN("18446744073709551615 18446744073709551615"), POP3_OK,
     UINT64_MAX, UINT64_MAX, 0},
    {"leading zeros are decimal", IN("002 0320"), POP3_OK, 2, 320, 0},
    {"RFC1939-5.1 trailing text kept, flagged", IN("2 320 extra info"), POP3_OK, 2, 320, TRAIL},
    {"two SP between fields", IN("2  320"), POP3_OK, 2, 320, SPACE},
    {"HTAB as separator", IN("2\t320"), POP3_OK, 2, 320, SPACE},
    {"leading SP", IN(" 2 320"), POP3_OK, 2, 320, SPACE},
    {"trailing SP", IN("2 320 "), POP3_OK, 2, 320, SPACE},
    {"trailing HTAB", IN("2 320\t"), POP3_OK, 2, 320, SPACE},
    {"size one past UINT64_MAX", IN("1 18446744073709551616"), POP3_EPROTO, 0, 0, 0},
    {"count one past UINT64_MAX", IN("18446744073709551616 1"), POP3_EPROTO, 0, 0, 0},
    {"20 nines overflow", IN("99999999999999999999 1"), POP3_EPROTO, 0, 0, 0},
    {"empty text", IN(""), POP3_EPROTO, 0, 0, 0},
    {"blank text", IN("   "), POP3_EPROTO, 0, 0, 0},
    {"count only", IN("2"), POP3_EPROTO, 0, 0, 0},
    {"count and SP only", IN("2 "), POP3_EPROTO, 0, 0, 0},
    {"not a number", IN("two 320"), POP3_EPROTO, 0, 0, 0},
    {"minus sign", IN("-2 320"), POP3_EPROTO, 0, 0, 0},
    {"plus sign", IN("+2 320"), POP3_EPROTO, 0, 0, 0},
    {"digit then letter in size", IN("2 320octets"), POP3_EPROTO, 0, 0, 0},
    {"comma in number", IN("2,1 320"), POP3_EPROTO, 0, 0, 0},
    {"NUL inside size",
     IN("2 3\0"
        "20"),
     POP3_EPROTO, 0, 0, 0},
    {"free text (a -ERR-like text)", IN("maildrop locked"), POP3_EPROTO, 0, 0, 0},
};

Test(stat, table_rfc1939_5_1_and_q13)
{
    for (size_t i = 0; i < sizeof stat_rows / sizeof stat_rows[0]; i++) {
        const struct stat_row *r = &stat_rows[i];
        uint64_t count = 77, size = 77;
        unsigned anom = 0xffff;
        int rc = pop3_parse_stat(r->in, r->len, &count, &size, &anom);
        cr_expect_eq(rc, r->rc, "%s: rc %d, want %d", r->what, rc, r->rc);
        if (r->rc == POP3_OK) {
            cr_expect_eq(count, r->count, "%s: count %llu", r->what, (unsigned long long)count);
            cr_expect_eq(size, r->size, "%s: size %llu", r->what, (unsigned long long)size);
            cr_expect_eq(anom, r->anom, "%s: anomalies %#x, want %#x", r->what, anom, r->anom);
        } else {
            cr_expect_eq(count, 77, "%s: outputs untouched on error", r->what);
            cr_expect_eq(size, 77, "%s: outputs untouched on error", r->what);
        }
    }
}

Test(stat, anomalies_pointer_may_be_null)
{
    uint64_t count = 0, size = 0;
    cr_assert_eq(pop3_parse_stat(IN("2 320 x"), &count, &size, NULL), POP3_OK);
    cr_expect_eq(count, 2);
    cr_expect_eq(size, 320);
}

/* ---- pop3_parse_scan (RFC1939-5.2) ---- */

struct scan_row {
    const char *what;
    const char *in;
    size_t len;
    int rc;
    uint64_t msgno, size;
    unsigned anom;
};

static const struct scan_row scan_rows[] = {
    {"RFC 1939 LIST line 1", IN("1 120"), POP3_OK, 1, 120, 0},
    {"RFC 1939 LIST line 2", IN("2 200"), POP3_OK, 2, 200, 0},
    {"Q13 curl test 853 size 4294967400", IN("1 4294967400"), POP3_OK, 1, 4294967400u, 0},
    {"UINT64_MAX size", IN("7 18446744073709551615"), POP3_OK, 7, UINT64_MAX, 0},
    {"size zero", IN("3 0"), POP3_OK, 3, 0, 0},
    {"Q45 message number 0 parses, flagged", IN("0 12345"), POP3_OK, 0, 12345, ZERO},
    {"trailing text kept, flagged", IN("1 120 octets"), POP3_OK, 1, 120, TRAIL},
    {"Q46 three SP between fields", IN("1   120"), POP3_OK, 1, 120, SPACE},
    {"SP HTAB mix between fields", IN("1 \t 120"), POP3_OK, 1, 120, SPACE},
    {"leading and trailing blanks", IN("\t1 120  "), POP3_OK, 1, 120, SPACE},
    {"extra space and trailing text", IN("1  120 x"), POP3_OK, 1, 120, SPACE | TRAIL},
    {"size one past UINT64_MAX", IN("1 18446744073709551616"), POP3_EPROTO, 0, 0, 0},
    {"Q45 libetpan '0 bad'", IN("0 bad"), POP3_EPROTO, 0, 0, 0},
    {"message number only", IN("1"), POP3_EPROTO, 0, 0, 0},
    {"number then blanks only", IN("1  \t"), POP3_EPROTO, 0, 0, 0},
    {"empty line", IN(""), POP3_EPROTO, 0, 0, 0},
    {"negative size", IN("1 -5"), POP3_EPROTO, 0, 0, 0},
    {"hex size", IN("1 0x10"), POP3_EPROTO, 0, 0, 0},
    {"terminator-like line", IN("."), POP3_EPROTO, 0, 0, 0},
};

Test(scan, table_rfc1939_5_2_q13_q45_q46)
{
    for (size_t i = 0; i < sizeof scan_rows / sizeof scan_rows[0]; i++) {
        const struct scan_row *r = &scan_rows[i];
        uint64_t msgno = 77, size = 77;
        unsigned anom = 0xffff;
        int rc = pop3_parse_scan(r->in, r->len, &msgno, &size, &anom);
        cr_expect_eq(rc, r->rc, "%s: rc %d, want %d", r->what, rc, r->rc);
        if (r->rc != POP3_OK) continue;
        cr_expect_eq(msgno, r->msgno, "%s: msgno %llu", r->what, (unsigned long long)msgno);
        cr_expect_eq(size, r->size, "%s: size %llu", r->what, (unsigned long long)size);
        cr_expect_eq(anom, r->anom, "%s: anomalies %#x, want %#x", r->what, anom, r->anom);
    }
}

/* ---- pop3_parse_uidl (RFC1939-7.2) ---- */

struct uidl_row {
    const char *what;
    const char *in;
    size_t len;
    int rc;
    uint64_t msgno;
    const char *uid; /* expected view contents */
    size_t uid_len;
    unsigned anom;
};

static const struct uidl_row uidl_rows[] = {
    {"RFC 1939 UIDL line 1", IN("1 whqtswO00WBw418f9t5JxYwZ"), POP3_OK, 1,
     IN("whqtswO00WBw418f9t5JxYwZ"), 0},
    {"RFC 1939 UIDL line 2", IN("2 QhdPYR:00WBw1Ph7x7"), POP3_OK, 2, IN("QhdPYR:00WBw1Ph7x7"), 0},
    {"one-octet uid", IN("3 x"), POP3_OK, 3, IN("x"), 0},
    {"uid of exactly 70 octets", IN("1 " UID70), POP3_OK, 1, IN(UID70), 0},
    {"Q46 uid of 71 octets kept whole, flagged", IN("1 " UID71), POP3_OK, 1, IN(UID71), LONG},
    {"Q46 uid with a space kept whole", IN("1 abc def"), POP3_OK, 1, IN("abc def"), CHARS},
    {"Q46 uid with 8-bit octet", IN("1 ab\xc3\xa9"), POP3_OK, 1, IN("ab\xc3\xa9"), CHARS},
    {"uid with HTAB inside", IN("1 a\tb"), POP3_OK, 1, IN("a\tb"), CHARS},
    {"uid with NUL inside", IN("1 a\0b"), POP3_OK, 1, IN("a\0b"), CHARS},
    {"uid with DEL (0x7F)", IN("1 a\x7f"), POP3_OK, 1, IN("a\x7f"), CHARS},
    {"Q46 Maillennium: several SP before uid", IN("1    abc"), POP3_OK, 1, IN("abc"), SPACE},
    {"HTAB before uid", IN("1\tabc"), POP3_OK, 1, IN("abc"), SPACE},
    {"trailing SP removed from uid", IN("1 abc  "), POP3_OK, 1, IN("abc"), SPACE},
    {"leading SP", IN(" 1 abc"), POP3_OK, 1, IN("abc"), SPACE},
    {"spaced uid with trailing SP", IN("1 a b \t"), POP3_OK, 1, IN("a b"), CHARS | SPACE},
    {"long spaced 8-bit uid, all flags", IN("1  " UID70 " \x80"), POP3_OK, 1, IN(UID70 " \x80"),
     SPACE | LONG | CHARS},
    {"Q45 message number 0", IN("0 abc"), POP3_OK, 0, IN("abc"), ZERO},
    {"UINT64_MAX message number", IN("18446744073709551615 u"), POP3_OK, UINT64_MAX, IN("u"), 0},
    {"number past 64 bits", IN("18446744073709551616 u"), POP3_EPROTO, 0, IN(""), 0},
    {"no uid", IN("1"), POP3_EPROTO, 0, IN(""), 0},
    {"no uid, SP only", IN("1 "), POP3_EPROTO, 0, IN(""), 0},
    {"no uid, blanks only", IN("1 \t "), POP3_EPROTO, 0, IN(""), 0},
    {"empty line", IN(""), POP3_EPROTO, 0, IN(""), 0},
    {"no number", IN("abc def"), POP3_EPROTO, 0, IN(""), 0},
    {"number glued to uid", IN("1abc"), POP3_EPROTO, 0, IN(""), 0},
};

Test(uidl, table_rfc1939_7_2_q45_q46)
{
    for (size_t i = 0; i < sizeof uidl_rows / sizeof uidl_rows[0]; i++) {
        const struct uidl_row *r = &uidl_rows[i];
        uint64_t msgno = 77;
        pop3_view uid = {NULL, 0};
        unsigned anom = 0xffff;
        int rc = pop3_parse_uidl(r->in, r->len, &msgno, &uid, &anom);
        cr_expect_eq(rc, r->rc, "%s: rc %d, want %d", r->what, rc, r->rc);
        if (r->rc != POP3_OK) {
            cr_expect_null(uid.ptr, "%s: uid untouched on error", r->what);
            continue;
        }
        cr_expect_eq(msgno, r->msgno, "%s: msgno %llu", r->what, (unsigned long long)msgno);
        cr_expect_eq(uid.len, r->uid_len, "%s: uid length %zu, want %zu", r->what, uid.len,
                     r->uid_len);
        cr_expect(uid.ptr >= r->in && uid.ptr + uid.len <= r->in + r->len,
                  "%s: uid is a view into the line", r->what);
        if (uid.len == r->uid_len)
            cr_expect(memcmp(uid.ptr, r->uid, uid.len) == 0, "%s: uid contents", r->what);
        cr_expect_eq(anom, r->anom, "%s: anomalies %#x, want %#x", r->what, anom, r->anom);
    }
}

/* ---- pop3_listing: sequences of body lines ---- */

#define MAXL 8

struct listing_row {
    const char *what;
    bool uidl, strict;
    const char *lines[MAXL]; /* NULL-terminated */
    int rc[MAXL];            /* pop3_listing_add's result per line */
    size_t count;            /* entries kept */
    uint64_t msgno[MAXL];    /* their numbers, in order */
    uint64_t size[MAXL];     /* LIST sizes */
    const char *uid[MAXL];   /* UIDL ids */
    size_t skipped;
    unsigned anomalies;
};

#define OK     POP3_OK
#define EPROTO POP3_EPROTO

static const struct listing_row listing_rows[] = {
    {"RFC 1939 section 10 LIST body",
     false,
     false,
     {"1 120", "2 200"},
     {OK, OK},
     2,
     {1, 2},
     {120, 200},
     {NULL},
     0,
     0},
    {"RFC 1939 section 7 UIDL body",
     true,
     false,
     {"1 whqtswO00WBw418f9t5JxYwZ", "2 QhdPYR:00WBw1Ph7x7"},
     {OK, OK},
     2,
     {1, 2},
     {0, 0},
     {"whqtswO00WBw418f9t5JxYwZ", "QhdPYR:00WBw1Ph7x7"},
     0,
     0},
    {"Q13 64-bit sizes kept",
     false,
     false,
     {"1 4294967400", "2 18446744073709551615"},
     {OK, OK},
     2,
     {1, 2},
     {4294967400u, UINT64_MAX},
     {NULL},
     0,
     0},
    {"Q45 message number 0 skipped",
     false,
     false,
     {"0 100", "1 120"},
     {OK, OK},
     1,
     {1},
     {120},
     {NULL},
     1,
     ZERO},
    {"Q45 message number 0 refused in strict mode",
     false,
     true,
     {"0 100", "1 120"},
     {EPROTO, OK},
     1,
     {1},
     {120},
     {NULL},
     0,
     ZERO},
    {"Q45 duplicate ascending number: first kept",
     false,
     false,
     {"1 120", "1 999", "2 200"},
     {OK, OK, OK},
     2,
     {1, 2},
     {120, 200},
     {NULL},
     1,
     DUP},
    {"Q45 duplicates out of order",
     false,
     false,
     {"3 30", "1 10", "2 20", "1 11", "3 31", "4 40"},
     {OK, OK, OK, OK, OK, OK},
     4,
     {3, 1, 2, 4},
     {30, 10, 20, 40},
     {NULL},
     2,
     DUP},
    {"Q45 duplicate refused in strict mode",
     false,
     true,
     {"1 120", "1 999"},
     {OK, EPROTO},
     1,
     {1},
     {120},
     {NULL},
     0,
     DUP},
    {"descending numbers all kept",
     false,
     false,
     {"5 5", "4 4", "3 3", "2 2", "1 1"},
     {OK, OK, OK, OK, OK},
     5,
     {5, 4, 3, 2, 1},
     {5, 4, 3, 2, 1},
     {NULL},
     0,
     0},
    {"RFC1939-7.4 duplicate uid kept, flagged",
     true,
     false,
     {"1 abc", "2 abc", "3 xyz"},
     {OK, OK, OK},
     3,
     {1, 2, 3},
     {0},
     {"abc", "abc", "xyz"},
     0,
     DUPUID},
    {"RFC1939-7.4 duplicate uid refused in strict mode",
     true,
     true,
     {"1 abc", "2 abc"},
     {OK, EPROTO},
     1,
     {1},
     {0},
     {"abc"},
     0,
     DUPUID},
    {"uids differ only in case are distinct",
     true,
     false,
     {"1 abc", "2 ABC"},
     {OK, OK},
     2,
     {1, 2},
     {0},
     {"abc", "ABC"},
     0,
     0},
    {"duplicate msgno with new uid skipped, not a duplicate uid",
     true,
     false,
     {"1 abc", "1 def", "2 def"},
     {OK, OK, OK},
     2,
     {1, 2},
     {0},
     {"abc", "def"},
     1,
     DUP},
    {"Q46 extra spaces kept",
     false,
     false,
     {"1  120", " 2 200 "},
     {OK, OK},
     2,
     {1, 2},
     {120, 200},
     {NULL},
     0,
     SPACE},
    {"Q46 extra spaces refused in strict mode",
     false,
     true,
     {"1  120", "2 200"},
     {EPROTO, OK},
     1,
     {2},
     {200},
     {NULL},
     0,
     SPACE},
    {"trailing text kept", false, false, {"1 120 octets"}, {OK}, 1, {1}, {120}, {NULL}, 0, TRAIL},
    {"Q46 long and spaced uids kept",
     true,
     false,
     {"1 " UID71, "2 a b"},
     {OK, OK},
     2,
     {1, 2},
     {0},
     {UID71, "a b"},
     0,
     LONG | CHARS},
    {"Q46 long uid refused in strict mode",
     true,
     true,
     {"1 " UID71, "2 " UID70},
     {EPROTO, OK},
     1,
     {2},
     {0},
     {UID70},
     0,
     LONG},
    {"unparseable lines refused, not counted",
     false,
     false,
     {"", "x 1", "1", "1 120"},
     {EPROTO, EPROTO, EPROTO, OK},
     1,
     {1},
     {120},
     {NULL},
     0,
     0},
    {"LIST-shaped line in a UIDL listing is a uid",
     true,
     false,
     {"1 120"},
     {OK},
     1,
     {1},
     {0},
     {"120"},
     0,
     0},
    {"UIDL line in a LIST listing refused",
     false,
     false,
     {"1 abc"},
     {EPROTO},
     0,
     {0},
     {0},
     {NULL},
     0,
     0},
};

static void check_listing(const struct listing_row *r, const pop3_listing *l)
{
    cr_expect_eq(l->count, r->count, "%s: count %zu, want %zu", r->what, l->count, r->count);
    cr_expect_eq(l->skipped, r->skipped, "%s: skipped %zu", r->what, l->skipped);
    cr_expect_eq(l->anomalies, r->anomalies, "%s: anomalies %#x, want %#x", r->what, l->anomalies,
                 r->anomalies);
    for (size_t i = 0; i < r->count && i < l->count; i++) {
        const pop3_listing_entry *e = &l->entries[i];
        cr_expect_eq(e->msgno, r->msgno[i], "%s: entry %zu msgno", r->what, i);
        cr_expect_eq(pop3_listing_find(l, r->msgno[i]), e, "%s: find %llu", r->what,
                     (unsigned long long)r->msgno[i]);
        if (r->uidl) {
            cr_expect_eq(e->size, 0, "%s: UIDL size is 0", r->what);
            cr_assert_not_null(e->uid, "%s: entry %zu uid", r->what, i);
            cr_expect_eq(e->uid_len, strlen(r->uid[i]), "%s: entry %zu uid_len", r->what, i);
            cr_expect_str_eq(e->uid, r->uid[i], "%s: entry %zu uid", r->what, i);
        } else {
            cr_expect_eq(e->size, r->size[i], "%s: entry %zu size", r->what, i);
            cr_expect_null(e->uid, "%s: LIST has no uid", r->what);
        }
    }
    cr_expect_null(pop3_listing_find(l, 0), "%s: message 0 is never found", r->what);
}

Test(listing, table_sequences_rfc1939_q45_q46)
{
    for (size_t i = 0; i < sizeof listing_rows / sizeof listing_rows[0]; i++) {
        const struct listing_row *r = &listing_rows[i];
        pop3_listing l;
        pop3_listing_init(&l, r->uidl);
        l.strict = r->strict;
        for (size_t k = 0; k < MAXL && r->lines[k]; k++) {
            int rc = pop3_listing_add(&l, r->lines[k], strlen(r->lines[k]));
            cr_expect_eq(rc, r->rc[k], "%s: line %zu \"%s\": rc %d, want %d", r->what, k,
                         r->lines[k], rc, r->rc[k]);
        }
        check_listing(r, &l);
        pop3_listing_free(&l);
    }
}

Test(listing, init_defaults)
{
    pop3_listing l;
    pop3_listing_init(&l, true);
    cr_expect_eq(l.max_entries, 1000000);
    cr_expect(l.uidl);
    cr_expect(!l.strict);
    cr_expect_eq(l.count, 0);
    cr_expect_eq(l.skipped, 0);
    cr_expect_eq(l.anomalies, 0);
    cr_expect_null(pop3_listing_find(&l, 1));
    pop3_listing_free(&l);
}

Test(listing, find_missing_numbers_in_sorted_and_unsorted_listings)
{
    static const char *const sorted[] = {"2 1", "4 1", "6 1"};
    static const char *const unsorted[] = {"6 1", "2 1", "4 1"};
    const char *const *sets[] = {sorted, unsorted};
    for (size_t s = 0; s < 2; s++) {
        pop3_listing l;
        pop3_listing_init(&l, false);
        for (size_t i = 0; i < 3; i++)
            cr_assert_eq(pop3_listing_add(&l, sets[s][i], strlen(sets[s][i])), POP3_OK);
        for (uint64_t n = 0; n <= 8; n++) {
            const pop3_listing_entry *e = pop3_listing_find(&l, n);
            if (n == 2 || n == 4 || n == 6) {
                cr_assert_not_null(e, "set %zu: find %llu", s, (unsigned long long)n);
                cr_expect_eq(e->msgno, n);
            } else {
                cr_expect_null(e, "set %zu: find %llu", s, (unsigned long long)n);
            }
        }
        cr_expect_null(pop3_listing_find(&l, UINT64_MAX));
        pop3_listing_free(&l);
    }
}

/* Q47: max_entries, at the limit and one past it. */
Test(listing, max_entries_at_limit_ok_past_limit_elimit)
{
    pop3_listing l;
    pop3_listing_init(&l, false);
    l.max_entries = 3;
    cr_expect_eq(pop3_listing_add(&l, IN("1 10")), POP3_OK);
    cr_expect_eq(pop3_listing_add(&l, IN("2 20")), POP3_OK);
    cr_expect_eq(pop3_listing_add(&l, IN("3 30")), POP3_OK);
    cr_expect_eq(pop3_listing_add(&l, IN("4 40")), POP3_ELIMIT);
    cr_expect_eq(l.count, 3);
    cr_expect_null(pop3_listing_find(&l, 4));
    /* A line that would be skipped costs no memory: still skipped, not a limit error. */
    cr_expect_eq(pop3_listing_add(&l, IN("2 20")), POP3_OK);
    cr_expect_eq(l.skipped, 1);
    /* Raising the limit lets the listing grow again. */
    l.max_entries = 4;
    cr_expect_eq(pop3_listing_add(&l, IN("4 40")), POP3_OK);
    cr_expect_eq(l.count, 4);
    cr_expect_eq(pop3_listing_find(&l, 4)->size, 40);
    pop3_listing_free(&l);
}

Test(listing, max_entries_zero_refuses_first_line)
{
    pop3_listing l;
    pop3_listing_init(&l, true);
    l.max_entries = 0;
    cr_expect_eq(pop3_listing_add(&l, IN("1 abc")), POP3_ELIMIT);
    cr_expect_eq(l.count, 0);
    pop3_listing_free(&l);
}

Test(listing, free_empties_and_keeps_settings_for_reuse)
{
    pop3_listing l;
    pop3_listing_init(&l, true);
    l.strict = true;
    l.max_entries = 2;
    cr_assert_eq(pop3_listing_add(&l, IN("2 b")), POP3_OK);
    cr_assert_eq(pop3_listing_add(&l, IN("1 a")), POP3_OK);
    cr_assert_eq(pop3_listing_add(&l, IN("1 a")), POP3_EPROTO);
    pop3_listing_free(&l);
    cr_expect_eq(l.count, 0);
    cr_expect_eq(l.skipped, 0);
    cr_expect_eq(l.anomalies, 0);
    cr_expect_null(l.entries);
    cr_expect(l.uidl);
    cr_expect(l.strict);
    cr_expect_eq(l.max_entries, 2);
    cr_expect_null(pop3_listing_find(&l, 1));
    cr_expect_eq(pop3_listing_add(&l, IN("1 a")), POP3_OK);
    cr_expect_eq(pop3_listing_add(&l, IN("2 a")), POP3_EPROTO); /* duplicate uid, strict */
    cr_expect_str_eq(pop3_listing_find(&l, 1)->uid, "a");
    pop3_listing_free(&l);
    pop3_listing_free(&l); /* freeing twice is harmless */
}

/* ---- a million lines: linear time, and the default limit (Q47) ---- */

#define MILLION 1000000u

static void add_fmt(pop3_listing *l, int want, const char *fmt, unsigned long long a,
                    unsigned long long b)
{
    char line[96];
    int n = snprintf(line, sizeof line, fmt, a, b);
    cr_assert(n > 0 && (size_t)n < sizeof line);
    int rc = pop3_listing_add(l, line, (size_t)n);
    if (rc != want) cr_assert_fail("line \"%s\": rc %d, want %d", line, rc, want);
}

Test(listing, million_ascending_lines_then_default_limit, .timeout = 60)
{
    pop3_listing l;
    pop3_listing_init(&l, false);
    for (unsigned long long i = 1; i <= MILLION; i++)
        add_fmt(&l, POP3_OK, "%llu %llu", i, i * 4294967296ull);
    cr_expect_eq(l.count, MILLION);
    cr_expect_null(l.by_msgno, "ascending numbers need no index");
    /* one past the default max_entries */
    add_fmt(&l, POP3_ELIMIT, "%llu %llu", MILLION + 1ull, 1);
    /* a duplicate at the limit is still recognised and skipped */
    add_fmt(&l, POP3_OK, "%llu %llu", 500000ull, 1);
    cr_expect_eq(l.skipped, 1);
    cr_expect_eq(l.anomalies, DUP);
    cr_expect_eq(pop3_listing_find(&l, 777777)->size, 777777ull * 4294967296ull);
    pop3_listing_free(&l);
}

Test(listing, million_descending_lines_not_quadratic, .timeout = 60)
{
    pop3_listing l;
    pop3_listing_init(&l, false);
    for (unsigned long long i = MILLION; i >= 1; i--)
        add_fmt(&l, POP3_OK, "%llu %llu", i, i);
    cr_expect_eq(l.count, MILLION);
    /* every number again: all duplicates, each found through the index */
    for (unsigned long long i = 1; i <= MILLION; i += 997)
        add_fmt(&l, POP3_OK, "%llu %llu", i, 0);
    cr_expect_eq(l.count, MILLION);
    cr_expect_eq(l.skipped, (MILLION + 996) / 997);
    cr_expect_eq(pop3_listing_find(&l, 1)->size, 1);
    cr_expect_eq(pop3_listing_find(&l, MILLION)->size, MILLION);
    pop3_listing_free(&l);
}

/* Numbers that differ only in their high bits defeat a hash that keeps the low bits. */
Test(listing, million_numbers_sharing_low_bits_not_quadratic, .timeout = 60)
{
    pop3_listing l;
    pop3_listing_init(&l, false);
    for (unsigned long long i = MILLION; i >= 1; i--)
        add_fmt(&l, POP3_OK, "%llu %llu", i << 32, i);
    cr_expect_eq(l.count, MILLION);
    cr_expect_eq(pop3_listing_find(&l, 12345ull << 32)->size, 12345);
    cr_expect_null(pop3_listing_find(&l, (12345ull << 32) + 1));
    pop3_listing_free(&l);
}

Test(listing, million_uids_with_one_duplicate_not_quadratic, .timeout = 60)
{
    pop3_listing l;
    pop3_listing_init(&l, true);
    for (unsigned long long i = 1; i <= MILLION; i++)
        add_fmt(&l, POP3_OK, "%llu uid-%llu", i, i * 7919);
    cr_expect_eq(l.anomalies, 0);
    add_fmt(&l, POP3_ELIMIT, "%llu uid-%llu", MILLION + 1ull, 1);
    l.max_entries = MILLION + 1;
    add_fmt(&l, POP3_OK, "%llu uid-%llu", MILLION + 1ull, 7919ull * 4242);
    cr_expect_eq(l.anomalies, DUPUID);
    cr_expect_eq(l.count, MILLION + 1);
    cr_expect_str_eq(pop3_listing_find(&l, MILLION + 1ull)->uid, "uid-33592398");
    cr_expect_str_eq(pop3_listing_find(&l, 4242)->uid, "uid-33592398");
    pop3_listing_free(&l);
}
