/*
 * base64.c - RFC 4648 section 4 base64, as RFC 5034 section 4 uses it for SASL
 * challenges, responses and initial responses (pop3/digest.h).
 *
 * The decoder is strict on purpose (RFC5034-4.9: a client cancels with "*" and a server
 * answers -ERR on anything that is not valid base64): the length must be a multiple of 4,
 * "=" may only pad the last quantum, nothing outside the alphabet (no spaces, no line
 * breaks, no base64url), and the pad bits must be zero (RFC 4648 section 3.5), so every
 * decoded value has exactly one accepted encoding. Hand-written rather than OpenSSL's
 * EVP_DecodeBlock, which skips whitespace and accepts some of these.
 */
#include "pop3/digest.h"

#include <stdint.h>

#include "pop3/error.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of a base64 character, or -1 (the "=" included). */
static int sextet(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

size_t pop3_base64_encoded_size(size_t len)
{
    size_t quanta = len / 3 + (len % 3 != 0);
    /* Saturate instead of wrapping, so that a capacity check against it fails. */
    if (quanta > SIZE_MAX / 4) return SIZE_MAX;
    return quanta * 4;
}

int pop3_base64_encode(const void *in, size_t len, char *out, size_t cap, size_t *out_len)
{
    const unsigned char *p = in;
    size_t need = pop3_base64_encoded_size(len);
    /* need + 1 for the NUL, written as need >= cap so it cannot overflow. */
    if (p == NULL && len > 0) return POP3_EUSAGE;
    if (out == NULL || need >= cap) return POP3_ELIMIT;

    size_t o = 0;
    size_t i = 0;
    for (; len - i >= 3; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 0x3f];
        out[o++] = alphabet[(v >> 6) & 0x3f];
        out[o++] = alphabet[v & 0x3f];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 0x3f];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 0x3f];
        out[o++] = alphabet[(v >> 6) & 0x3f];
        out[o++] = '=';
    }
    out[o] = '\0';
    if (out_len != NULL) *out_len = o;
    return POP3_OK;
}

/*
 * Check the whole input before writing anything, so that a refused input leaves `out`
 * untouched and the caller never sees half a decoded secret. Returns the decoded size,
 * or -1 when the input is not base64.
 */
static int validate(const char *in, size_t len, size_t *decoded)
{
    if (len % 4 != 0) return -1;
    size_t pad = 0;
    for (size_t i = 0; i < len; i++) {
        if (sextet(in[i]) >= 0) continue;
        /* "=" only in the last two positions of the last quantum, and "x=y" is not padding. */
        if (in[i] != '=' || i < len - 2 || (i == len - 2 && in[len - 1] != '=')) return -1;
        pad++;
    }
    /* RFC 4648 section 3.5: the bits that the padding leaves over must be zero; without
     * this, "Zh==" and "Zg==" would both decode to "f". */
    if (pad == 2 && (sextet(in[len - 3]) & 0x0f) != 0) return -1;
    if (pad == 1 && (sextet(in[len - 2]) & 0x03) != 0) return -1;
    *decoded = len / 4 * 3 - pad;
    return 0;
}

int pop3_base64_decode(const char *in, size_t len, void *out, size_t cap, size_t *out_len)
{
    size_t need = 0;
    if (in == NULL && len > 0) return POP3_EUSAGE;
    if (len > 0 && validate(in, len, &need) != 0) return POP3_EPROTO;
    if (need > cap || (out == NULL && need > 0)) return POP3_ELIMIT;

    unsigned char *q = out;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        /* Padding decodes as zero bits, which validate() has shown to be the case. */
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int s = sextet(in[i + k]);
            v = v << 6 | (uint32_t)(s < 0 ? 0 : s);
        }
        q[o++] = (unsigned char)(v >> 16);
        if (o < need) q[o++] = (unsigned char)(v >> 8);
        if (o < need) q[o++] = (unsigned char)v;
    }
    if (out_len != NULL) *out_len = o;
    return POP3_OK;
}
