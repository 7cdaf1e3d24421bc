/*
 * fuzz_fast_status.c - status lines and response codes, parse only: the fast twin of
 * fuzz_status.
 *
 * Exercises pop3_parse_status and pop3_parse_resp_code: RFC 1939 section 3 (status
 * indicators "+OK" and "-ERR"), RFC 2449 sections 3, 8 and 9 (resp-code syntax,
 * hierarchical codes), RFC 3206 (SYS, AUTH), RFC 6856 section 5 (UTF8), RFC 5034
 * section 4 ("+ " continuations), quirks Q39, Q40, Q48.
 *
 * Why a twin: fuzz_status checks every line against a reference parser, re-encodes it
 * and runs the decoder over it, which costs most of its time. This target spends every
 * execution in the parser itself (no reference model, no round trip, no allocation), so
 * that a campaign's hours reach many more inputs; memory errors and broken view promises
 * are what it finds, fuzz_status the wrong answers.
 *
 * Input: byte 0 chooses the expectation (mod 6), byte 1 the tolerances (low six bits),
 * as in fuzz_status (its seeds serve unchanged); the rest is one line without its line
 * end, ending where the input does, so that AddressSanitizer sees a read past it.
 *
 * Invariants (nothing that costs more than the parse): the result is OK or EPROTO, an
 * error has a message; on success every view lies inside the line, the text ends where
 * the line does, the kind is one of the three, no tolerance that was not granted is
 * reported; a response code spans at most the text it was given.
 */
#include "fuzz_common.h"

#include "pop3/error.h"
#include "pop3/wire.h"

#define TOL_MASK  0x3Fu
#define SEEN_MASK (POP3_SEEN_DOT_NOT_STUFFED | POP3_SEEN_PLUS_ERR)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    pop3_expect expect = (pop3_expect)(fuzz_byte(&in) % 6);
    unsigned tol = fuzz_byte(&in) & TOL_MASK;
    const char *line = (const char *)in.p;
    size_t len = in.len;

    /* The payload alone, as the text after an indicator. */
    pop3_resp_code code;
    pop3_view code_text;
    size_t span = pop3_parse_resp_code(line, len, &code, &code_text);
    FUZZ_CHECK(span <= len);
    FUZZ_CHECK((span == 0) == (code == POP3_CODE_NONE));
    if (span > 0) FUZZ_CHECK(code_text.ptr == line + 1 && code_text.len == span - 2);

    pop3_status_line st;
    unsigned quirks = 0;
    const char *message = NULL;
    int rc = pop3_parse_status(line, len, expect, tol, &st, &quirks, &message);
    FUZZ_CHECK((quirks & ~(TOL_MASK | SEEN_MASK)) == 0);
    FUZZ_CHECK((quirks & TOL_MASK & ~tol) == 0);
    if (rc != POP3_OK) {
        FUZZ_CHECK(rc == POP3_EPROTO && message != NULL);
        return 0;
    }
    FUZZ_CHECK(st.line.ptr == line && st.line.len == len);
    FUZZ_CHECK(fuzz_inside(st.text.ptr, st.text.len, line, len));
    FUZZ_CHECK(st.text.ptr + st.text.len == line + len);
    FUZZ_CHECK(fuzz_inside(st.code_text.ptr, st.code_text.len, line, len));
    FUZZ_CHECK(st.kind == POP3_STATUS_OK || st.kind == POP3_STATUS_ERR ||
               (st.kind == POP3_STATUS_CONTINUE && expect == POP3_EXPECT_SASL));
    FUZZ_CHECK(st.code <= POP3_CODE_OTHER);
    return 0;
}
