/*
 * digest.c - the MD5 digests of POP3 authentication (pop3/digest.h).
 *
 * RFC 1939 section 7: the APOP digest, MD5(timestamp || secret) sent as 32 lower-case hex
 * digits. RFC 2195 section 2: the CRAM-MD5 digest, HMAC-MD5 (RFC 2104) keyed with the
 * shared secret over the decoded server challenge, also as lower-case hex.
 *
 * MD5 and HMAC come from OpenSSL's EVP API. Algorithms are fetched explicitly so that a
 * provider set without MD5 (FIPS) shows up as a returned error instead of a crash or an
 * empty digest. Nothing here keeps state between calls.
 */
#include "pop3/digest.h"

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#include <limits.h>
#include <openssl/hmac.h>
#endif

#include "pop3/error.h"

#define MD5_LEN 16

/* RFC 1939 section 7 asks for lower case; some servers compare case-sensitively. */
static void to_hex(const unsigned char *digest, char hex[POP3_MD5_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < MD5_LEN; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0f];
    }
    hex[2 * MD5_LEN] = '\0';
}

int pop3_apop_digest(const char *timestamp, size_t ts_len, const char *secret, size_t secret_len,
                     char hex[POP3_MD5_HEX_SIZE])
{
    if (hex == NULL || (timestamp == NULL && ts_len > 0) || (secret == NULL && secret_len > 0))
        return POP3_EUSAGE;

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    int ok = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD *md = EVP_MD_fetch(NULL, "MD5", NULL);
#else
    const EVP_MD *md = EVP_md5();
#endif
    /* Two updates rather than one buffer: the timestamp and the secret are never copied
     * together, so nothing holding the secret needs wiping. */
    if (ctx != NULL && md != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
        (ts_len == 0 || EVP_DigestUpdate(ctx, timestamp, ts_len) == 1) &&
        (secret_len == 0 || EVP_DigestUpdate(ctx, secret, secret_len) == 1) &&
        EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1 && digest_len == MD5_LEN)
        ok = 1;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD_free(md);
#endif
    EVP_MD_CTX_free(ctx);
    if (!ok) return POP3_EUSAGE;
    to_hex(digest, hex);
    return POP3_OK;
}

int pop3_cram_md5_digest(const char *challenge, size_t challenge_len, const char *secret,
                         size_t secret_len, char hex[POP3_MD5_HEX_SIZE])
{
    if (hex == NULL || (challenge == NULL && challenge_len > 0) ||
        (secret == NULL && secret_len > 0))
        return POP3_EUSAGE;
    /* OpenSSL wants real pointers even for empty inputs (an empty secret is a valid HMAC
     * key, RFC 2104 section 2). */
    if (challenge == NULL) challenge = "";
    if (secret == NULL) secret = "";

    unsigned char digest[EVP_MAX_MD_SIZE];
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    size_t digest_len = 0;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, secret, secret_len,
                  (const unsigned char *)challenge, challenge_len, digest, sizeof digest,
                  &digest_len) == NULL ||
        digest_len != MD5_LEN)
        return POP3_EUSAGE;
#else
    unsigned int digest_len = 0;
    if (secret_len > INT_MAX ||
        HMAC(EVP_md5(), secret, (int)secret_len, (const unsigned char *)challenge, challenge_len,
             digest, &digest_len) == NULL ||
        digest_len != MD5_LEN)
        return POP3_EUSAGE;
#endif
    to_hex(digest, hex);
    return POP3_OK;
}
