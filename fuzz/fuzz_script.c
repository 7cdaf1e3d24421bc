/*
 * fuzz_script.c - pop3-mock's dialogue script parser on fuzzed script files.
 *
 * Exercises pop3mock_script_parse and what a parsed script answers before any client
 * connects (sessions, !tls-cert files, a session per index): the script format of
 * mockserver/README.md, which writes RFC 1939 section 10 style dialogues ("S:" / "C:"
 * lines, patterns and captures in braces, escapes, "!" directives for faults, TLS and
 * sessions). fuzz_mock_session then plays parsed scripts against fuzzed clients; this
 * target spends its time on the parser alone.
 *
 * Input: byte 0 is the size of a small error buffer (0-255); the rest is the script.
 *
 * Oracles beyond memory safety:
 *  - an error names "fuzz.pop3:LINE: " with LINE between 1 and the script's line count
 *    (one more for a script ending in a newline), and has a message after it;
 *  - with the small error buffer the parse gives the same verdict and the message is the
 *    full one cut to fit, NUL-terminated, never written past the buffer;
 *  - line ends do not matter: the script with every LF made CRLF parses the same way,
 *    with the same message or the same number of sessions and certificates;
 *  - a parsed script has at least one session, each index below the count gives a
 *    session and the count itself none; every !tls-cert names a line of the script.
 */
#include "fuzz_common.h"

#include "pop3mock/script.h"
#include "pop3mock/session.h"

#define NAME     "fuzz.pop3"
#define ERR_SIZE 512

typedef struct verdict {
    pop3mock_script *sc;
    char err[ERR_SIZE];
} verdict;

/* Parse `n` octets from a block of exactly that size (a read past the text is caught). */
static void parse(const char *text, size_t n, char *err, size_t errlen, pop3mock_script **sc)
{
    char *copy = fuzz_dup(text, n);
    *sc = pop3mock_script_parse(NAME, copy, n, err, errlen);
    free(copy);
}

static size_t count_lines(const char *text, size_t n)
{
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    return lines;
}

static void check_error(const char *err, size_t lines)
{
    FUZZ_CHECK(strncmp(err, NAME ":", sizeof NAME) == 0);
    const char *p = err + sizeof NAME;
    char *end = NULL;
    unsigned long line = strtoul(p, &end, 10);
    FUZZ_CHECK(end != p && line >= 1 && line <= lines);
    FUZZ_CHECK(strncmp(end, ": ", 2) == 0 && end[2] != '\0');
}

static size_t count_certs(const pop3mock_script *sc, size_t lines)
{
    size_t i = 0;
    const char *cert = NULL, *key = NULL;
    unsigned line = 0;
    while (pop3mock_script_tls_cert(sc, i, &cert, &key, &line)) {
        FUZZ_CHECK(cert != NULL && cert[0] != '\0');
        FUZZ_CHECK(line >= 1 && line <= lines);
        i++;
    }
    return i;
}

/* Every LF not already preceded by CR becomes CRLF. */
static char *with_crlf(const char *text, size_t n, size_t *out_len)
{
    char *out = fuzz_xmalloc(2 * n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n' && !(i > 0 && text[i - 1] == '\r')) out[k++] = '\r';
        out[k++] = text[i];
    }
    *out_len = k;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t small = fuzz_byte(&in);
    const char *text = (const char *)in.p;
    size_t n = in.len;
    size_t lines = count_lines(text, n);

    verdict full;
    full.err[0] = '\0';
    parse(text, n, full.err, sizeof full.err, &full.sc);

    /* The same parse with a small error buffer, in a block of exactly its size. */
    char *tiny = fuzz_xmalloc(small);
    if (small) memset(tiny, 'x', small);
    pop3mock_script *sc_small = NULL;
    parse(text, n, small ? tiny : NULL, small, &sc_small);
    FUZZ_CHECK((sc_small == NULL) == (full.sc == NULL));
    if (full.sc == NULL && small > 0) {
        const char *nul = memchr(tiny, '\0', small);
        FUZZ_CHECK(nul != NULL);
        size_t len = (size_t)(nul - tiny);
        FUZZ_CHECK(len == strlen(full.err) || len == small - 1);
        FUZZ_CHECK(memcmp(tiny, full.err, len) == 0);
    }
    pop3mock_script_free(sc_small);
    free(tiny);

    size_t crlf_len = 0;
    char *crlf = with_crlf(text, n, &crlf_len);
    verdict again;
    again.err[0] = '\0';
    parse(crlf, crlf_len, again.err, sizeof again.err, &again.sc);
    free(crlf);
    FUZZ_CHECK((again.sc == NULL) == (full.sc == NULL));

    if (full.sc == NULL) {
        check_error(full.err, lines);
        FUZZ_CHECK(strcmp(full.err, again.err) == 0);
        return 0;
    }

    size_t sessions = pop3mock_script_sessions(full.sc);
    FUZZ_CHECK(sessions >= 1);
    FUZZ_CHECK(sessions == pop3mock_script_sessions(again.sc));
    FUZZ_CHECK(strcmp(pop3mock_script_name(full.sc), NAME) == 0);
    FUZZ_CHECK(count_certs(full.sc, lines) == count_certs(again.sc, lines));

    pop3mock_limits lim;
    pop3mock_limits_default(&lim);
    for (size_t k = 0; k < sessions && k < 8; k++) {
        pop3mock_session *s = pop3mock_script_session_new(full.sc, k, &lim, "<1.2@fuzz>", false);
        FUZZ_CHECK(s != NULL);
        pop3mock_session_free(s);
    }
    FUZZ_CHECK(pop3mock_script_session_new(full.sc, sessions, &lim, "<1.2@fuzz>", false) == NULL);

    pop3mock_script_free(full.sc);
    pop3mock_script_free(again.sc);
    return 0;
}
