/*
 * fuzz_fast_script.c - pop3-mock's dialogue script parser, parse only: the fast twin of
 * fuzz_script.
 *
 * Exercises pop3mock_script_parse: the script format of mockserver/README.md, which
 * writes RFC 1939 section 10 style dialogues ("S:" / "C:" lines, patterns and captures
 * in braces, escapes, "!" directives for faults, TLS and sessions).
 *
 * Why a twin: fuzz_script parses every script three times (a small error buffer, CRLF
 * line ends) and builds a session per index. This target parses once and frees, so
 * that its time is the parser's (the allocations are the parser's own: a parsed script
 * owns copies of its lines); the comparisons stay with fuzz_script.
 *
 * Input: the script, no header (fuzz_script's seeds without their first byte); it ends
 * where the input does, so that AddressSanitizer sees a read past it.
 *
 * Invariants: a refused script has a NUL-terminated message within the error buffer,
 * naming "fuzz.pop3:"; a parsed one has at least one session.
 */
#include "fuzz_common.h"

#include "pop3mock/script.h"

#define NAME "fuzz.pop3"

static char err[256];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    err[0] = '\0';
    pop3mock_script *sc = pop3mock_script_parse(NAME, (const char *)data, size, err, sizeof err);
    if (sc == NULL) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
        FUZZ_CHECK(strncmp(err, NAME ":", sizeof NAME) == 0);
        return 0;
    }
    FUZZ_CHECK(pop3mock_script_sessions(sc) >= 1);
    pop3mock_script_free(sc);
    return 0;
}
