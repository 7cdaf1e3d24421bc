/*
 * fuzz_fast_capa.c - CAPA lines into a pop3_capa_set, parse only: the fast twin of
 * fuzz_capa.
 *
 * Exercises pop3_capa_add, the CAPA line parser and its collection: RFC 2449 section 5
 * (one capability per line, a capa-tag and its parameters, tags compared without
 * case), the parameter lists of RFC 2449 section 6 and RFC 5034 section 3 ("SASL
 * PLAIN ..."), quirk Q50 (a capability line starting with ".").
 *
 * Why a twin: fuzz_capa copies every line into a block of its own, compares the
 * collection with a model after every add and frees and re-adds on request. This
 * target hands the lines to pop3_capa_add where they lie in the input and checks the
 * new capability's views only, so that its time is the parser's and the collection's
 * own growth (the allocations are pop3_capa_add's); the model stays with fuzz_capa.
 *
 * Input: byte 0 bits 0-4: max_caps (31: the default 256, else 1 + value), as in
 * fuzz_capa; the rest: lines separated by LF. Each line is given in place: only the
 * last one ends where the input does, so only there does AddressSanitizer see a read
 * past the line (fuzz_capa sees it for every line).
 *
 * Invariants: a blank line is EPROTO, the limit is ELIMIT, nothing else fails; after an
 * add the count grew by one and the new capability's line, tag and parameters lie in the
 * collection's storage, the tag and parameters inside its line, none of them empty.
 * The lookups (pop3_capa_find, _has_param) walk the collection, not a line: they stay
 * with fuzz_capa (here they took a tenth of the time).
 */
#include "fuzz_common.h"

#include "pop3/error.h"
#include "pop3/parse.h"

static bool blank_line(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t') return false;
    return true;
}

static void add(pop3_capa_set *c, const char *line, size_t len)
{
    size_t before = c->count;
    int rc = pop3_capa_add(c, line, len);
    if (rc != POP3_OK) {
        FUZZ_CHECK(c->count == before);
        FUZZ_CHECK((rc == POP3_EPROTO && blank_line(line, len)) ||
                   (rc == POP3_ELIMIT && before == c->max_caps));
        return;
    }
    FUZZ_CHECK(c->count == before + 1 && c->count <= c->max_caps);
    const pop3_capability *cap = &c->caps[before];
    FUZZ_CHECK(cap->line.len == len);
    FUZZ_CHECK(fuzz_inside(cap->line.ptr, cap->line.len, c->store, c->store_len));
    FUZZ_CHECK(cap->name.len > 0 && fuzz_inside(cap->name.ptr, cap->name.len, cap->line.ptr, len));
    for (size_t i = 0; i < cap->nparams; i++) {
        FUZZ_CHECK(cap->params[i].len > 0);
        FUZZ_CHECK(fuzz_inside(cap->params[i].ptr, cap->params[i].len, cap->line.ptr, len));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    unsigned max = fuzz_byte(&in) & 31u;
    const char *text = (const char *)in.p;
    size_t len = in.len;

    pop3_capa_set c;
    pop3_capa_init(&c);
    if (max != 31) c.max_caps = max + 1;
    size_t start = 0;
    for (;;) {
        const char *lf = memchr(text + start, '\n', len - start);
        size_t end = lf ? (size_t)(lf - text) : len;
        add(&c, text + start, end - start);
        if (lf == NULL) break;
        start = end + 1;
    }
    pop3_capa_free(&c);
    return 0;
}
