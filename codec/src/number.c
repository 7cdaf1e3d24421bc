/*
 * number.c - the one decimal number parser of pop3kit (pop3/parse.h).
 *
 * RFC 1939 writes every number on the wire as decimal digits: message numbers and
 * octet counts (sections 5 and 11), the counts of STAT, TOP's line count (section 7),
 * and RFC 2449's LOGIN-DELAY and EXPIRE arguments (section 6). None has a sign, a
 * blank or a base prefix, and none is bounded by the RFCs; pop3kit holds them in
 * 64 bits, so a value past 2^64-1 is a limit, refused rather than wrapped (libetpan's
 * 32-bit sizes wrapped, Q13). The codec's parsers read their numbers here, and so do
 * the other parts of pop3kit, so that "12", "012" and "+12" mean the same thing
 * everywhere.
 */
#include <stdint.h>

#include "pop3/error.h"
#include "pop3/parse.h"

int pop3_parse_number(const char *s, size_t len, uint64_t *out)
{
    if (s == NULL || len == 0) return POP3_EPROTO;
    /* The syntax first, over the whole field: "99999999999999999999x" is not a number,
     * and a caller must hear that, not that it is too large. */
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9') return POP3_EPROTO;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - digit) / 10u) return POP3_ELIMIT;
        v = v * 10u + digit;
    }
    if (out != NULL) *out = v;
    return POP3_OK;
}
