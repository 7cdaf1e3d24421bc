/*
 * test_base64.c - strict base64 (codec/src/base64.c).
 *
 * RFC 4648 section 10 vectors both ways, the RFC 5034 section 6 PLAIN example, and the
 * refusals of RFC5034-4.9 (characters outside the alphabet, misplaced "=") and of RFC 4648
 * section 3.5 (non-zero pad bits).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "pop3/digest.h"
#include "pop3/error.h"

#define GUARD 0xC3

static bool untouched(const unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != GUARD) return false;
    return true;
}

static const struct {
    const char *plain;
    size_t plain_len;
    const char *encoded;
} vectors[] = {
    {"", 0, ""},
    {"f", 1, "Zg=="},
    {"fo", 2, "Zm8="},
    {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg=="},
    {"fooba", 5, "Zm9vYmE="},
    {"foobar", 6, "Zm9vYmFy"},
    /* RFC 5034 section 6: AUTH PLAIN initial response */
    {"test\0test\0test", 14, "dGVzdAB0ZXN0AHRlc3Q="},
    /* every alphabet character, "+" and "/" included */
    {"\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51\x55\x97\x61\x96\x9b\x71"
     "\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2\x9a\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3\x5d\xb7\xe3\x9e"
     "\xbb\xf3\xdf\xbf",
     48, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"},
    {"\xff\xff\xff", 3, "////"},
    {"\xfb\xff", 2, "+/8="},
};

Test(base64, vectors_encode)
{
    for (size_t r = 0; r < sizeof vectors / sizeof vectors[0]; r++) {
        size_t want = strlen(vectors[r].encoded);
        cr_expect_eq(pop3_base64_encoded_size(vectors[r].plain_len), want, "row %zu size", r);
        char out[128];
        size_t out_len = 999;
        int rc =
            pop3_base64_encode(vectors[r].plain, vectors[r].plain_len, out, want + 1, &out_len);
        cr_expect_eq(rc, POP3_OK, "row %zu: rc %d", r, rc);
        cr_expect_eq(out_len, want, "row %zu", r);
        cr_expect_str_eq(out, vectors[r].encoded, "row %zu", r);
        /* The NUL needs room too: exactly the encoded size is one short. */
        memset(out, GUARD, sizeof out);
        out_len = 999;
        cr_expect_eq(
            pop3_base64_encode(vectors[r].plain, vectors[r].plain_len, out, want, &out_len),
            POP3_ELIMIT, "row %zu: cap without the NUL", r);
        cr_expect(untouched((unsigned char *)out, sizeof out), "row %zu: written on failure", r);
    }
}

Test(base64, vectors_decode)
{
    for (size_t r = 0; r < sizeof vectors / sizeof vectors[0]; r++) {
        size_t len = strlen(vectors[r].encoded);
        unsigned char out[128];
        size_t out_len = 999;
        /* len / 4 * 3 always suffices (digest.h) */
        int rc = pop3_base64_decode(vectors[r].encoded, len, out, len / 4 * 3, &out_len);
        cr_expect_eq(rc, POP3_OK, "row %zu: rc %d", r, rc);
        cr_expect_eq(out_len, vectors[r].plain_len, "row %zu", r);
        cr_expect(memcmp(out, vectors[r].plain, vectors[r].plain_len) == 0, "row %zu", r);
        /* Exactly the decoded size is enough; one less is ELIMIT and writes nothing. */
        cr_expect_eq(
            pop3_base64_decode(vectors[r].encoded, len, out, vectors[r].plain_len, &out_len),
            POP3_OK, "row %zu: exact cap", r);
        if (vectors[r].plain_len > 0) {
            memset(out, GUARD, sizeof out);
            cr_expect_eq(pop3_base64_decode(vectors[r].encoded, len, out, vectors[r].plain_len - 1,
                                            &out_len),
                         POP3_ELIMIT, "row %zu: cap - 1", r);
            cr_expect(untouched(out, sizeof out), "row %zu: written on failure", r);
        }
    }
}

static const struct {
    const char *what;
    const char *in;
    size_t len;
} refused[] = {
    {"RFC5034-4.9 leading pad", "=AAA", 4},
    {"RFC5034-4.9 pad in the middle", "AAA=BBB", 7},
    {"pad then data in a quantum", "AA=A", 4},
    {"one character", "A", 1},
    {"two characters", "AB", 2},
    {"three with a pad", "AB=", 3},
    {"missing a pad", "Zg=", 3},
    {"non-zero pad bits, two pads", "Zh==", 4},
    {"non-zero pad bits, one pad", "Zm9=", 4},
    {"all pads", "====", 4},
    {"three pads", "Z===", 4},
    {"three pads after a quantum", "Zm9vY===", 8},
    {"padded quantum then more", "Zg==Zg==", 8},
    {"one pad then more", "Zm8=Zm8=", 8},
    {"extra pads", "Zm9v====", 8},
    {"leading space", " Zm9v", 5},
    {"space inside", "Zm 9v", 5},
    {"space quantum", "Zm9v    ", 8},
    {"trailing newline", "Zm9v\n", 5},
    {"CRLF inside", "Zm9v\r\nYmFy", 10},
    {"TAB", "Zm9\tv", 5},
    {"base64url -", "Zm-v", 4},
    {"base64url _", "Zm_v", 4},
    {"NUL inside", "Zm\0v", 4},
    {"8-bit", "Zm\xc3\xa9", 4},
    {"dot", "Zm.v", 4},
    {"quoted", "\"Zm9v\"", 6},
};

Test(base64, refusals)
{
    for (size_t r = 0; r < sizeof refused / sizeof refused[0]; r++) {
        unsigned char out[64];
        memset(out, GUARD, sizeof out);
        size_t out_len = 777;
        int rc = pop3_base64_decode(refused[r].in, refused[r].len, out, sizeof out, &out_len);
        cr_expect_eq(rc, POP3_EPROTO, "%s: rc %d", refused[r].what, rc);
        cr_expect(untouched(out, sizeof out), "%s: written on failure", refused[r].what);
        cr_expect_eq(out_len, 777, "%s: out_len set on failure", refused[r].what);
        /* Not base64 wins over a small buffer: the caller learns to cancel ("*"). */
        cr_expect_eq(pop3_base64_decode(refused[r].in, refused[r].len, out, 0, &out_len),
                     POP3_EPROTO, "%s: cap 0", refused[r].what);
    }
}

/* Zero pad bits: of the 16 characters that could end "Z?==", only those with the low
 * four bits clear are accepted (RFC 4648 section 3.5). */
Test(base64, pad_bits_exhaustive)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t v = 0; v < 64; v++) {
        char two[4] = {'Z', alphabet[v], '=', '='};
        char one[4] = {'Z', 'm', alphabet[v], '='};
        unsigned char out[3];
        size_t out_len = 0;
        cr_expect_eq(pop3_base64_decode(two, 4, out, sizeof out, &out_len),
                     (v & 0x0f) == 0 ? POP3_OK : POP3_EPROTO, "Z%c==", alphabet[v]);
        cr_expect_eq(pop3_base64_decode(one, 4, out, sizeof out, &out_len),
                     (v & 0x03) == 0 ? POP3_OK : POP3_EPROTO, "Zm%c=", alphabet[v]);
    }
}

/* Every octet value at every length up to 3 * 86 + 2 round-trips, and the encoding is the
 * one the decoder accepts. A local LCG keeps the test deterministic. */
Test(base64, round_trip)
{
    unsigned char in[260];
    char enc[360];
    unsigned char dec[260];
    uint32_t seed = 12345;
    for (size_t i = 0; i < sizeof in; i++) {
        seed = seed * 1103515245u + 12345u;
        in[i] = (unsigned char)(i < 256 ? (uint32_t)i : seed >> 16);
    }
    for (size_t len = 0; len <= sizeof in; len++) {
        size_t enc_len = 0, dec_len = 0;
        cr_assert_eq(pop3_base64_encode(in, len, enc, sizeof enc, &enc_len), POP3_OK);
        cr_assert_eq(enc_len, pop3_base64_encoded_size(len));
        cr_assert_eq(enc[enc_len], '\0');
        cr_assert_eq(pop3_base64_decode(enc, enc_len, dec, sizeof dec, &dec_len), POP3_OK,
                     "len %zu", len);
        cr_assert_eq(dec_len, len);
        cr_assert(memcmp(dec, in, len) == 0, "len %zu", len);
    }
}

Test(base64, edges)
{
    size_t out_len = 5;
    char out[4];
    /* Empty input: nothing out, any buffer, even none. */
    cr_expect_eq(pop3_base64_decode("", 0, NULL, 0, &out_len), POP3_OK);
    cr_expect_eq(out_len, 0);
    cr_expect_eq(pop3_base64_decode(NULL, 0, NULL, 0, NULL), POP3_OK);
    cr_expect_eq(pop3_base64_encode("", 0, out, 1, &out_len), POP3_OK);
    cr_expect_eq(out_len, 0);
    cr_expect_eq(out[0], '\0');
    cr_expect_eq(pop3_base64_encode("", 0, out, 0, &out_len), POP3_ELIMIT);
    cr_expect_eq(pop3_base64_encode("f", 1, NULL, 0, &out_len), POP3_ELIMIT);
    cr_expect_eq(pop3_base64_decode("Zg==", 4, NULL, 0, &out_len), POP3_ELIMIT);
    /* Sizes, and no wrap-around near SIZE_MAX. */
    cr_expect_eq(pop3_base64_encoded_size(0), 0);
    cr_expect_eq(pop3_base64_encoded_size(1), 4);
    cr_expect_eq(pop3_base64_encoded_size(3), 4);
    cr_expect_eq(pop3_base64_encoded_size(4), 8);
    cr_expect_eq(pop3_base64_encoded_size(SIZE_MAX), SIZE_MAX);
    cr_expect_eq(pop3_base64_encoded_size(SIZE_MAX / 4 * 3), SIZE_MAX / 4 * 4);
}
