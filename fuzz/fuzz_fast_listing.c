/*
 * fuzz_fast_listing.c - STAT, LIST and UIDL lines, parse only: the fast twin of
 * fuzz_listing.
 *
 * Exercises pop3_parse_number, pop3_parse_stat, pop3_parse_scan and pop3_parse_uidl:
 * RFC 1939 section 5 (STAT "nn mm", scan listings "msg size"), section 7 (UIDL "msg
 * unique-id") and the quirks Q13 (sizes past 2^32), Q45 (message number 0), Q46 (long
 * or spaced unique-ids, extra spaces).
 *
 * Why a twin: fuzz_listing compares every parser with a reference parser and keeps a
 * model of the pop3_listing collection, which allocates per line. This target gives
 * the line to the four parsers and nothing else, so that its time is theirs; the
 * collection and the reference parsers stay with fuzz_listing.
 *
 * Input: one line without its line end (no header: the parsers take no settings); it
 * ends where the input does, so that AddressSanitizer sees a read past it.
 *
 * Invariants: results are OK, EPROTO or ELIMIT (the number) and OK or EPROTO (the
 * lines); an output is set only on success and a number is only OK for a non-empty
 * line; the unique-id lies inside the line and is not empty; anomaly bits are known
 * ones.
 */
#include "fuzz_common.h"

#include "pop3/error.h"
#include "pop3/parse.h"

#define ANOM_MASK 0x7Fu

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    size_t len = size;

    uint64_t n = 42;
    int rc = pop3_parse_number(line, len, &n);
    FUZZ_CHECK(rc == POP3_OK || rc == POP3_EPROTO || rc == POP3_ELIMIT);
    if (rc != POP3_OK) FUZZ_CHECK(n == 42);
    if (rc == POP3_OK || rc == POP3_ELIMIT) FUZZ_CHECK(len > 0);

    uint64_t a = 0, b = 0;
    unsigned anomalies = 0;
    rc = pop3_parse_stat(line, len, &a, &b, &anomalies);
    FUZZ_CHECK(rc == POP3_OK || rc == POP3_EPROTO);
    FUZZ_CHECK((anomalies & ~ANOM_MASK) == 0);

    anomalies = 0;
    rc = pop3_parse_scan(line, len, &a, &b, &anomalies);
    FUZZ_CHECK(rc == POP3_OK || rc == POP3_EPROTO);
    FUZZ_CHECK((anomalies & ~ANOM_MASK) == 0);
    if (rc == POP3_OK) FUZZ_CHECK((a == 0) == ((anomalies & POP3_ANOM_MSGNO_ZERO) != 0));

    pop3_view uid = {NULL, 0};
    anomalies = 0;
    rc = pop3_parse_uidl(line, len, &a, &uid, &anomalies);
    FUZZ_CHECK(rc == POP3_OK || rc == POP3_EPROTO);
    FUZZ_CHECK((anomalies & ~ANOM_MASK) == 0);
    if (rc == POP3_OK) {
        FUZZ_CHECK(uid.len > 0 && fuzz_inside(uid.ptr, uid.len, line, len));
        FUZZ_CHECK(uid.len <= POP3_UID_MAX || (anomalies & POP3_ANOM_UID_LONG));
    }
    return 0;
}
