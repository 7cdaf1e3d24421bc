/*
 * fuzz_fast_apop.c - the APOP timestamp of a greeting, parse only: the fast twin of
 * fuzz_apop.
 *
 * Exercises pop3_apop_timestamp: RFC 1939 section 7 (the greeting carries a msg-id
 * timestamp "<...@...>"), with the defences of conformance/QUIRKS.md: only a
 * well-formed msg-id counts (Q33, CVE-2007-1558) and the search is linear whatever the
 * greeting (Q44, CVE-2018-1060; libFuzzer's -timeout and the exec/s figure catch a
 * relapse).
 *
 * Why a twin: fuzz_apop checks the answer against a brute-force search and a second
 * one-pass search and computes MD5 digests. This target runs the extractor alone, so
 * that its time is the extractor's; the reference searches and the digest stay with
 * fuzz_apop.
 *
 * Input: the greeting line, no header (as in fuzz_apop, whose seeds serve unchanged); it
 * ends where the input does, so that AddressSanitizer sees a read past it.
 *
 * Invariants: a timestamp found lies inside the line, starts "<" and ends ">", and has
 * an "@" that is neither the first nor the last octet inside the brackets.
 */
#include "fuzz_common.h"

#include "pop3/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    pop3_view ts = {NULL, 0};
    if (!pop3_apop_timestamp(line, size, &ts)) return 0;
    FUZZ_CHECK(ts.len >= 5 && fuzz_inside(ts.ptr, ts.len, line, size));
    FUZZ_CHECK(ts.ptr[0] == '<' && ts.ptr[ts.len - 1] == '>');
    const char *at = memchr(ts.ptr + 2, '@', ts.len - 4);
    FUZZ_CHECK(at != NULL);
    return 0;
}
