/*
 * fuzz_apop.c - the APOP timestamp of a greeting, and the APOP digest.
 *
 * Exercises pop3_apop_timestamp and pop3_apop_digest: RFC 1939 section 7 (the greeting
 * carries a msg-id timestamp "<...@...>"; the digest is MD5 of timestamp and secret in
 * lower-case hex), with the defences of conformance/QUIRKS.md: only a well-formed msg-id
 * counts (Q33, CVE-2007-1558) and the search is linear whatever the greeting (Q44,
 * CVE-2018-1060: a million "<" made poplib's regex quadratic; the fuzzer's -timeout
 * catches a relapse).
 *
 * Input: the greeting line (text after "+OK", or the whole line: both work).
 *
 * Oracles:
 *  - a timestamp found lies inside the line, starts "<", ends ">", and its inside is a
 *    msg-id: printable ASCII without SP, "<" or ">", with an "@" that is neither first
 *    nor last;
 *  - it is the first such "<...>" of the line: a brute-force search over every pair of
 *    positions decides on lines up to 160 octets, a second one-pass search on all;
 *  - the digest is 32 lower-case hex digits and equals MD5 computed here in one piece;
 *    the RFC 1939 section 7 example gives its published digest.
 */
#include "fuzz_common.h"

#include <openssl/evp.h>

#include "pop3/digest.h"
#include "pop3/error.h"
#include "pop3/parse.h"

#define BRUTE_FORCE_MAX 160

static bool msg_id(const char *s, size_t n)
{
    bool at = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7E || c == '<' || c == '>') return false;
        if (c == '@' && i > 0 && i + 1 < n) at = true;
    }
    return at;
}

/* Every "<" ... ">" pair; the valid one that ends first. Returns false when none. */
static bool brute_force(const char *s, size_t len, size_t *start, size_t *end)
{
    for (size_t e = 0; e < len; e++) {
        if (s[e] != '>') continue;
        for (size_t b = 0; b < e; b++) {
            if (s[b] == '<' && msg_id(s + b + 1, e - b - 1)) {
                *start = b;
                *end = e;
                return true;
            }
        }
    }
    return false;
}

/*
 * The same answer in one pass: a valid candidate has no bracket inside, so it is the
 * last "<" before a ">" with no ">" between them.
 */
static bool one_pass(const char *s, size_t len, size_t *start, size_t *end)
{
    size_t last_open = SIZE_MAX, last_close = SIZE_MAX;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '<') last_open = i;
        if (s[i] != '>') continue;
        bool open = last_open != SIZE_MAX && (last_close == SIZE_MAX || last_close < last_open);
        if (open && msg_id(s + last_open + 1, i - last_open - 1)) {
            *start = last_open;
            *end = i;
            return true;
        }
        last_close = i;
    }
    return false;
}

static void check_digest(const char *ts, size_t ts_len)
{
    static const char secret[] = "tanstaaf";
    char hex[POP3_MD5_HEX_SIZE];
    FUZZ_CHECK(pop3_apop_digest(ts, ts_len, secret, sizeof secret - 1, hex) == POP3_OK);
    FUZZ_CHECK(hex[32] == '\0');
    for (size_t i = 0; i < 32; i++)
        FUZZ_CHECK((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'));

    fuzz_buf both = {0};
    fuzz_put(&both, ts, ts_len);
    fuzz_put(&both, secret, sizeof secret - 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    FUZZ_CHECK(EVP_Digest(both.p, both.len, md, &md_len, EVP_md5(), NULL) == 1 && md_len == 16);
    char want[33];
    for (size_t i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    FUZZ_CHECK(memcmp(hex, want, 32) == 0);
    fuzz_buf_free(&both);

    static const char rfc_ts[] = "<1896.697170952@dbc.mtview.ca.us>";
    if (ts_len == sizeof rfc_ts - 1 && memcmp(ts, rfc_ts, ts_len) == 0)
        FUZZ_CHECK(memcmp(hex, "c4c9334bac560ecc979e58001b3e22fb", 32) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    pop3_view ts = {NULL, 0};
    bool found = pop3_apop_timestamp(line, size, &ts);

    size_t start = 0, end = 0;
    bool want = one_pass(line, size, &start, &end);
    FUZZ_CHECK(found == want);
    if (size <= BRUTE_FORCE_MAX) {
        size_t b_start = 0, b_end = 0;
        FUZZ_CHECK(brute_force(line, size, &b_start, &b_end) == want);
        if (want) FUZZ_CHECK(b_start == start && b_end == end);
    }
    if (!found) return 0;

    FUZZ_CHECK(fuzz_inside(ts.ptr, ts.len, line, size) && ts.len >= 5);
    FUZZ_CHECK(ts.ptr == line + start && ts.len == end - start + 1);
    FUZZ_CHECK(ts.ptr[0] == '<' && ts.ptr[ts.len - 1] == '>');
    FUZZ_CHECK(msg_id(ts.ptr + 1, ts.len - 2));
    check_digest(ts.ptr, ts.len);
    return 0;
}
