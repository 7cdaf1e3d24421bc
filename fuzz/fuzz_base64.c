/*
 * fuzz_base64.c - base64 both ways, and the CRAM-MD5 exchange built on it.
 *
 * Exercises pop3_base64_encoded_size, pop3_base64_encode, pop3_base64_decode and
 * pop3_cram_md5_digest: RFC 4648 section 4 base64 as RFC 5034 section 4 requires it
 * (strict: RFC5034-4.9, non-zero pad bits refused by RFC 4648 section 3.5) and RFC 2195
 * CRAM-MD5 (HMAC-MD5 of RFC 2104 over the decoded challenge, lower-case hex).
 *
 * Input: byte 0 bit 0: run the CRAM-MD5 exchange; byte 1: secret length; then the
 * secret; the rest R is used both as octets to encode and as text to decode.
 *
 * Oracles:
 *  - encoding R gives exactly OpenSSL's EVP_EncodeBlock output, of the announced size,
 *    NUL-terminated, and decodes back to R;
 *  - decoding R is accepted exactly when a reference validator written from RFC 4648
 *    accepts it; then the octets equal a bit-by-bit reference decoder's, and encoding
 *    them gives R again (one encoding per value); refused input writes nothing;
 *  - a capacity one short is POP3_ELIMIT;
 *  - the CRAM-MD5 digest of the decoded challenge (or of R when R is not base64) is
 *    32 lower-case hex digits equal to HMAC-MD5 computed here from RFC 2104 with plain
 *    MD5 (the RFC 2195 example gives its published digest), and the response "user" SP
 *    digest survives a base64 round trip.
 */
#include "fuzz_common.h"

#include <openssl/evp.h>

#include "pop3/digest.h"
#include "pop3/error.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value_of(char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* RFC 4648: quanta of four, "=" only to pad the last one, pad bits zero. */
static bool ref_decode(const char *s, size_t n, fuzz_buf *out)
{
    if (n % 4 != 0) return false;
    size_t pad = 0;
    if (n >= 1 && s[n - 1] == '=') pad = 1;
    if (pad == 1 && s[n - 2] == '=') pad = 2;
    /* Everything before the padding is in the alphabet: no "=" elsewhere. */
    for (size_t i = 0; i < n - pad; i++)
        if (value_of(s[i]) < 0) return false;
    uint32_t bits = 0;
    unsigned nbits = 0;
    for (size_t i = 0; i < n - pad; i++) {
        bits = (bits << 6) | (uint32_t)value_of(s[i]);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            fuzz_put_byte(out, (uint8_t)(bits >> nbits));
            bits &= (1u << nbits) - 1u;
        }
    }
    /* What is left over must be zero bits (RFC 4648 section 3.5). */
    return bits == 0;
}

static void check_encode(const uint8_t *p, size_t n)
{
    size_t need = pop3_base64_encoded_size(n);
    FUZZ_CHECK(need == (n + 2) / 3 * 4);
    char *out = fuzz_xmalloc(need + 1);
    size_t out_len = 0;
    FUZZ_CHECK(pop3_base64_encode(p, n, out, need + 1, &out_len) == POP3_OK);
    FUZZ_CHECK(out_len == need && out[need] == '\0');

    unsigned char *want = fuzz_xmalloc(need + 1);
    int w = EVP_EncodeBlock(want, p, (int)n);
    FUZZ_CHECK(w >= 0 && (size_t)w == need && memcmp(out, want, need) == 0);
    free(want);

    /* No room for the NUL: refused. */
    char *short_out = fuzz_xmalloc(need);
    FUZZ_CHECK(pop3_base64_encode(p, n, short_out, need, &out_len) == POP3_ELIMIT);
    free(short_out);

    char *back = fuzz_xmalloc(n);
    size_t back_len = 0;
    FUZZ_CHECK(pop3_base64_decode(out, need, back, n, &back_len) == POP3_OK);
    FUZZ_CHECK(back_len == n && (n == 0 || memcmp(back, p, n) == 0));
    free(back);
    free(out);
}

static void check_decode(const char *s, size_t n, fuzz_buf *decoded, bool *valid)
{
    *valid = ref_decode(s, n, decoded);
    size_t cap = n / 4 * 3;
    char *out = fuzz_xmalloc(cap);
    memset(out, 0x5A, cap ? cap : 1);
    size_t out_len = 999;
    int rc = pop3_base64_decode(s, n, out, cap, &out_len);
    if (!*valid) {
        FUZZ_CHECK(rc == POP3_EPROTO && out_len == 999);
        for (size_t i = 0; i < cap; i++)
            FUZZ_CHECK((unsigned char)out[i] == 0x5A);
        free(out);
        return;
    }
    FUZZ_CHECK(rc == POP3_OK);
    FUZZ_CHECK(out_len == decoded->len && (out_len == 0 || memcmp(out, decoded->p, out_len) == 0));
    if (out_len > 0) {
        FUZZ_CHECK(pop3_base64_decode(s, n, out, out_len - 1, NULL) == POP3_ELIMIT);
    }
    /* Canonical: the value encodes back to the very same text. */
    char *again = fuzz_xmalloc(n + 1);
    size_t again_len = 0;
    FUZZ_CHECK(pop3_base64_encode(out, out_len, again, n + 1, &again_len) == POP3_OK);
    FUZZ_CHECK(again_len == n && memcmp(again, s, n) == 0);
    free(again);
    free(out);
}

static void md5(const void *a, size_t alen, const void *b, size_t blen, unsigned char md[16])
{
    fuzz_buf both = {0};
    fuzz_put(&both, a, alen);
    fuzz_put(&both, b, blen);
    unsigned int len = 0;
    FUZZ_CHECK(EVP_Digest(both.p, both.len, md, &len, EVP_md5(), NULL) == 1 && len == 16);
    fuzz_buf_free(&both);
}

/* RFC 2104 section 2, for MD5 (block size 64). */
static void ref_hmac_md5(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len,
                         char hex[33])
{
    unsigned char k0[64] = {0}, ipad[64], opad[64], inner[16], outer[16];
    if (key_len > 64)
        md5(key, key_len, "", 0, k0);
    else if (key_len > 0)
        memcpy(k0, key, key_len);
    for (size_t i = 0; i < 64; i++) {
        ipad[i] = (unsigned char)(k0[i] ^ 0x36);
        opad[i] = (unsigned char)(k0[i] ^ 0x5c);
    }
    md5(ipad, 64, msg, msg_len, inner);
    md5(opad, 64, inner, 16, outer);
    for (size_t i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", outer[i]);
}

static void check_cram(const uint8_t *secret, size_t secret_len, const void *challenge,
                       size_t challenge_len)
{
    char hex[POP3_MD5_HEX_SIZE], want[33];
    FUZZ_CHECK(pop3_cram_md5_digest(challenge, challenge_len, (const char *)secret, secret_len,
                                    hex) == POP3_OK);
    FUZZ_CHECK(hex[32] == '\0');
    ref_hmac_md5(secret, secret_len, challenge, challenge_len, want);
    FUZZ_CHECK(memcmp(hex, want, 32) == 0);
    static const char rfc_challenge[] = "<1896.697170952@postoffice.reston.mci.net>";
    static const char rfc_secret[] = "tanstaaftanstaaf";
    if (challenge_len == sizeof rfc_challenge - 1 &&
        memcmp(challenge, rfc_challenge, challenge_len) == 0 &&
        secret_len == sizeof rfc_secret - 1 && memcmp(secret, rfc_secret, secret_len) == 0)
        FUZZ_CHECK(memcmp(hex, "b913a602c7eda7a495b4e6e7334d3890", 32) == 0);

    /* The SASL response line: base64("user" SP digest), RFC 2195 section 2. */
    char response[5 + 32];
    memcpy(response, "user ", 5);
    memcpy(response + 5, hex, 32);
    check_encode((const uint8_t *)response, sizeof response);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    size_t secret_len = fuzz_byte(&in);
    if (secret_len > in.len) secret_len = in.len;
    uint8_t *secret = (uint8_t *)fuzz_dup(in.p, secret_len);
    in.p += secret_len;
    in.len -= secret_len;
    char *r = fuzz_dup(in.p, in.len);

    check_encode((const uint8_t *)r, in.len);
    fuzz_buf decoded = {0};
    bool valid = false;
    check_decode(r, in.len, &decoded, &valid);
    if (flags & 1) {
        if (valid)
            check_cram(secret, secret_len, decoded.p, decoded.len);
        else
            check_cram(secret, secret_len, r, in.len);
    }
    FUZZ_CHECK(pop3_base64_encoded_size(SIZE_MAX) == SIZE_MAX);

    fuzz_buf_free(&decoded);
    free(r);
    free(secret);
    return 0;
}
