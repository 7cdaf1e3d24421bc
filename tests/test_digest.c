/*
 * test_digest.c - APOP and CRAM-MD5 digests (codec/src/digest.c).
 *
 * RFC 1939 section 7 (APOP, RFC1939-7.7: lower-case hex), RFC 2195 section 2 (CRAM-MD5)
 * and RFC 2104 / RFC 2202 HMAC-MD5 vectors, plus the vectors of curl tests 864 and 867.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "pop3/digest.h"
#include "pop3/error.h"

static bool lower_hex(const char *hex)
{
    for (size_t i = 0; i < 32; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) return false;
    return hex[32] == '\0';
}

static const struct {
    const char *what;
    const char *timestamp;
    size_t ts_len;
    const char *secret;
    size_t secret_len;
    const char *hex;
} apop_rows[] = {
    {"RFC 1939 section 7 example", "<1896.697170952@dbc.mtview.ca.us>", 33, "tanstaaf", 8,
     "c4c9334bac560ecc979e58001b3e22fb"},
    {"curl test 864", "<1972.987654321@curl>", 21, "secret", 6, "7501b4cdc224d469940e65e7b5e4d6eb"},
    /* MD5("") (RFC 1321 appendix A.5). */
    {"both empty", "", 0, "", 0, "d41d8cd98f00b204e9800998ecf8427e"},
    {"NULL and empty", NULL, 0, NULL, 0, "d41d8cd98f00b204e9800998ecf8427e"},
    /* MD5("abc"), split in either place: the digest is of the concatenation. */
    {"abc split 1+2", "a", 1, "bc", 2, "900150983cd24fb0d6963f7d28e17f72"},
    {"abc split 3+0", "abc", 3, "", 0, "900150983cd24fb0d6963f7d28e17f72"},
    {"abc split 0+3", "", 0, "abc", 3, "900150983cd24fb0d6963f7d28e17f72"},
    /* Lengths are honoured: the octets after them are not digested. */
    {"lengths, not NULs", "abcXYZ", 1, "bcXYZ", 2, "900150983cd24fb0d6963f7d28e17f72"},
};

Test(apop, rows)
{
    for (size_t r = 0; r < sizeof apop_rows / sizeof apop_rows[0]; r++) {
        char hex[POP3_MD5_HEX_SIZE];
        memset(hex, 'Z', sizeof hex);
        int rc = pop3_apop_digest(apop_rows[r].timestamp, apop_rows[r].ts_len, apop_rows[r].secret,
                                  apop_rows[r].secret_len, hex);
        cr_expect_eq(rc, POP3_OK, "%s: rc %d", apop_rows[r].what, rc);
        cr_expect(lower_hex(hex), "%s: not 32 lower-case hex digits and a NUL", apop_rows[r].what);
        cr_expect_str_eq(hex, apop_rows[r].hex, "%s", apop_rows[r].what);
    }
}

/* A secret with a NUL inside is digested whole (the length decides, not the NUL). */
Test(apop, secret_with_nul)
{
    char a[POP3_MD5_HEX_SIZE], b[POP3_MD5_HEX_SIZE];
    cr_assert_eq(pop3_apop_digest("<1@x>", 5, "se\0cret", 7, a), POP3_OK);
    cr_assert_eq(pop3_apop_digest("<1@x>", 5, "se", 2, b), POP3_OK);
    cr_expect_str_neq(a, b);
}

static const struct {
    const char *what;
    const char *challenge;
    size_t challenge_len;
    const char *secret;
    size_t secret_len;
    const char *hex;
} cram_rows[] = {
    {"RFC 2195 section 2 example", "<1896.697170952@postoffice.reston.mci.net>", 42,
     "tanstaaftanstaaf", 16, "b913a602c7eda7a495b4e6e7334d3890"},
    {"curl test 867", "<1972.987654321@curl>", 21, "secret", 6, "7031725599fdbb5d412689aa323e3e0b"},
    /* RFC 2104 appendix / RFC 2202 section 2, test cases 1, 2 and 6. */
    {"RFC 2202 case 1", "Hi There", 8,
     "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b", 16,
     "9294727a3638bb1c13f48ef8158bfc9d"},
    {"RFC 2202 case 2", "what do ya want for nothing?", 28, "Jefe", 4,
     "750c783e6ab0b503eaa86e310a5db738"},
    {"RFC 2202 case 6 (key longer than a block)",
     "Test Using Larger Than Block-Size Key - Hash Key First", 54,
     "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa"
     "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa"
     "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa"
     "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa",
     80, "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"},
    /* HMAC-MD5 with an empty key over an empty message: an empty secret is a key too. */
    {"empty key and message", "", 0, "", 0, "74e6f7298a9c2d168935f58c001bad88"},
    {"NULL key and message", NULL, 0, NULL, 0, "74e6f7298a9c2d168935f58c001bad88"},
};

Test(cram_md5, rows)
{
    for (size_t r = 0; r < sizeof cram_rows / sizeof cram_rows[0]; r++) {
        char hex[POP3_MD5_HEX_SIZE];
        memset(hex, 'Z', sizeof hex);
        int rc = pop3_cram_md5_digest(cram_rows[r].challenge, cram_rows[r].challenge_len,
                                      cram_rows[r].secret, cram_rows[r].secret_len, hex);
        cr_expect_eq(rc, POP3_OK, "%s: rc %d", cram_rows[r].what, rc);
        cr_expect(lower_hex(hex), "%s: not 32 lower-case hex digits and a NUL", cram_rows[r].what);
        cr_expect_str_eq(hex, cram_rows[r].hex, "%s", cram_rows[r].what);
    }
}

Test(digest, usage_errors)
{
    char hex[POP3_MD5_HEX_SIZE];
    cr_expect_eq(pop3_apop_digest(NULL, 3, "x", 1, hex), POP3_EUSAGE);
    cr_expect_eq(pop3_apop_digest("x", 1, NULL, 3, hex), POP3_EUSAGE);
    cr_expect_eq(pop3_apop_digest("x", 1, "y", 1, NULL), POP3_EUSAGE);
    cr_expect_eq(pop3_cram_md5_digest(NULL, 3, "x", 1, hex), POP3_EUSAGE);
    cr_expect_eq(pop3_cram_md5_digest("x", 1, NULL, 3, hex), POP3_EUSAGE);
    cr_expect_eq(pop3_cram_md5_digest("x", 1, "y", 1, NULL), POP3_EUSAGE);
}
