/*
 * pop3/digest.h - the digests and encodings of POP3 authentication.
 *
 * RFC 1939 section 7 (APOP: MD5 of timestamp and secret, 32 lower-case hex digits),
 * RFC 2195 (CRAM-MD5: HMAC-MD5 keyed with the secret over the challenge), RFC 4648
 * section 4 base64 as RFC 5034 section 4 requires it (strict: characters outside the
 * alphabet and misplaced "=" are refused, RFC5034-4.9). MD5 and HMAC come from
 * OpenSSL's EVP API.
 */
#ifndef POP3_DIGEST_H
#define POP3_DIGEST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 32 hex digits and a NUL. */
#define POP3_MD5_HEX_SIZE 33

/*
 * pop3_apop_digest - MD5(timestamp || secret) as 32 lower-case hex digits and a NUL in
 * `hex`. `timestamp` includes its angle brackets. Returns POP3_OK, or POP3_EUSAGE when
 * OpenSSL refuses MD5 (a FIPS-only provider).
 */
int pop3_apop_digest(const char *timestamp, size_t ts_len, const char *secret, size_t secret_len,
                     char hex[POP3_MD5_HEX_SIZE]);

/*
 * pop3_cram_md5_digest - HMAC-MD5 keyed with `secret` over `challenge` (the decoded
 * server challenge), as 32 lower-case hex digits and a NUL. The SASL response is then
 * base64("user" SP hex). Returns POP3_OK or POP3_EUSAGE as pop3_apop_digest.
 */
int pop3_cram_md5_digest(const char *challenge, size_t challenge_len, const char *secret,
                         size_t secret_len, char hex[POP3_MD5_HEX_SIZE]);

/* Octets base64 needs for `len` input octets, without a NUL. */
size_t pop3_base64_encoded_size(size_t len);

/*
 * pop3_base64_encode - RFC 4648 base64 with padding into `out`; writes a NUL after it
 * (so `cap` must be at least pop3_base64_encoded_size(len) + 1). Returns POP3_OK or
 * POP3_ELIMIT, and sets `*out_len` (NUL not counted).
 */
int pop3_base64_encode(const void *in, size_t len, char *out, size_t cap, size_t *out_len);

/*
 * pop3_base64_decode - strict RFC 4648 base64: length a multiple of 4, padding only at
 * the end, nothing outside the alphabet (no spaces, no line breaks), non-zero pad bits
 * refused. Empty input decodes to nothing. `cap` of len / 4 * 3 always suffices.
 * Returns POP3_OK, POP3_EPROTO (not base64) or POP3_ELIMIT (`cap` too small).
 */
int pop3_base64_decode(const char *in, size_t len, void *out, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
