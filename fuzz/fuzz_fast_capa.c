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
 * fuzz_capa; bit 5: start from an empty collection; the rest: lines separated by LF.
 *
 * Allocation under AddressSanitizer (a stack trace recorded per block) took a fifth of
 * the time, so most runs reuse one collection, emptied by pop3_capa_clear as the client
 * empties its own after STLS, whose blocks were grown once to hold anything an input of
 * max_len (600) octets can add: those runs allocate nothing. A run with bit 5 set starts
 * from an empty collection and grows it, re-pointing the views, as a first CAPA does.
 * Either way what a run does depends on its input alone. Each line is given in place: only the
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

/* Lines a max_len input can add at most (one octet and its LF each), and words. */
#define FAST_CAPA_LINES 301
#define FAST_CAPA_BYTES 600

/* The limit pop3_capa_init sets, for the runs that reuse the grown collection. */
static size_t default_max_caps;

static pop3_capa_set *grown(void)
{
    static pop3_capa_set c;
    static bool ready;
    if (!ready) {
        pop3_capa_init(&c);
        default_max_caps = c.max_caps;
        c.max_caps = FAST_CAPA_LINES;
        char line[FAST_CAPA_BYTES];
        memset(line, 'a', sizeof line);
        for (size_t i = 1; i < sizeof line; i += 2) /* "a a a ...": the most words */
            line[i] = ' ';
        FUZZ_CHECK(pop3_capa_add(&c, line, sizeof line - 1) == POP3_OK);
        for (size_t i = 1; i < FAST_CAPA_LINES; i++)
            FUZZ_CHECK(pop3_capa_add(&c, "a", 1) == POP3_OK);
        ready = true;
    }
    pop3_capa_clear(&c);
    return &c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    unsigned b0 = fuzz_byte(&in);
    unsigned max = b0 & 31u;
    bool fresh = (b0 & 32u) != 0;
    const char *text = (const char *)in.p;
    size_t len = in.len;

    pop3_capa_set empty, *c = &empty;
    if (fresh)
        pop3_capa_init(&empty);
    else
        c = grown();
    if (max != 31)
        c->max_caps = max + 1;
    else if (!fresh)
        c->max_caps = default_max_caps;
    size_t start = 0;
    for (;;) {
        const char *lf = memchr(text + start, '\n', len - start);
        size_t end = lf ? (size_t)(lf - text) : len;
        add(c, text + start, end - start);
        if (lf == NULL) break;
        start = end + 1;
    }
    if (fresh) pop3_capa_free(&empty);
    return 0;
}
