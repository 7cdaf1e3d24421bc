/*
 * fuzz_fast_base64.c - base64 decoding, parse only: the fast twin of fuzz_base64.
 *
 * Exercises pop3_base64_decode: RFC 4648 section 4 base64 as RFC 5034 section 4 wants
 * it for SASL (strict: RFC5034-4.9, no characters outside the alphabet, "=" only at the
 * end, non-zero pad bits refused by RFC 4648 section 3.5), and its capacity check.
 *
 * Why a twin: fuzz_base64 also encodes, compares with OpenSSL and with a reference
 * validator and decoder, round-trips both ways and computes CRAM-MD5 digests. This
 * target runs the decoder alone into a static block, so that its time is the
 * decoder's; the references, the encoder and the digests stay with fuzz_base64.
 *
 * Input: byte 0 the output capacity: 255 for len / 4 * 3 (always enough), else the
 * value; the rest is the text to decode, ending where the input does. The output lies at
 * the end of a static block, so that a write past the capacity is a global-buffer
 * overflow for AddressSanitizer (an input longer than the block, possible only in
 * replay, gets the block's size).
 *
 * Invariants: the result is OK, EPROTO or ELIMIT; OK only for a length that is a
 * multiple of 4, with an output length of len / 4 * 3 less at most two padding octets,
 * within the capacity; ELIMIT only when that would not fit.
 */
#include "fuzz_common.h"

#include "pop3/digest.h"
#include "pop3/error.h"

static unsigned char block[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t cap = fuzz_byte(&in);
    const char *text = (const char *)in.p;
    size_t len = in.len;
    size_t most = len / 4 * 3;
    if (cap == 255) cap = most;
    if (cap > sizeof block) cap = sizeof block;

    size_t out_len = 12345;
    int rc = pop3_base64_decode(text, len, block + sizeof block - cap, cap, &out_len);
    switch (rc) {
    case POP3_OK:
        FUZZ_CHECK(len % 4 == 0);
        FUZZ_CHECK(out_len <= most && out_len + 2 >= most && out_len <= cap);
        break;
    case POP3_ELIMIT: FUZZ_CHECK(len % 4 == 0 && most > cap && out_len == 12345); break;
    case POP3_EPROTO: FUZZ_CHECK(len > 0 && out_len == 12345); break;
    default: FUZZ_UNREACHABLE("unexpected result");
    }
    return 0;
}
