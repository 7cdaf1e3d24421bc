/*
 * fuzz_capa.c - CAPA lines and the pop3_capa_set collection.
 *
 * Exercises pop3_capa_init, _add, _find, _has_param, _clear and _free: RFC 2449
 * section 5 (one capability per line, a capa-tag and its parameters, tags compared
 * without case), the parameter lists of RFC 2449 section 6 and RFC 5034 section 3
 * ("SASL PLAIN ..."), RFC 2595 section 4 / RFC 5034 section 4 (forget the list after
 * STLS: pop3_capa_clear), quirk Q50 (a capability line starting with ".").
 *
 * Input: byte 0 bits 0-4: max_caps (31: the default 256, else 1 + value), bit 5: at
 * the end, add again lines that point into the collection's own storage, bit 6: free
 * the collection and add everything a second time; byte 1: clear the collection before
 * line number byte 1 (0: never); the rest: lines separated by LF, each given without
 * its LF in a block of exactly its size.
 *
 * The limit is small, as a careful client sets it, so that running into it is
 * POP3_ELIMIT and never a finding.
 *
 * Oracles: the collection equals a plain model kept here (every line, its tag and its
 * parameters, split at runs of SP and HTAB), checked whole whenever its storage moved
 * and at the end, and line by line otherwise; an error leaves it as it was; every view
 * lies in the collection's storage; find and has_param agree with a linear search of
 * the model.
 */
#include "fuzz_common.h"

#include "pop3/error.h"
#include "pop3/parse.h"

#define MAX_QUERIES 16

typedef struct span {
    size_t off, len;
} span;

typedef struct model_cap {
    char *line;
    size_t len;
    span words[]; /* tag, then parameters */
} model_cap;

typedef struct model {
    model_cap **caps;
    size_t *nwords;
    size_t count, cap;
} model;

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static size_t split_words(const char *s, size_t len, span *words)
{
    size_t n = 0, i = 0;
    while (i < len) {
        while (i < len && blank(s[i]))
            i++;
        if (i == len) break;
        size_t start = i;
        while (i < len && !blank(s[i]))
            i++;
        if (words) words[n] = (span){start, i - start};
        n++;
    }
    return n;
}

static void model_add(model *m, const char *line, size_t len)
{
    size_t n = split_words(line, len, NULL);
    model_cap *c = fuzz_xmalloc(sizeof *c + n * sizeof(span));
    c->line = fuzz_dup(line, len);
    c->len = len;
    split_words(line, len, c->words);
    if (m->count == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->caps = realloc(m->caps, m->cap * sizeof *m->caps);
        m->nwords = realloc(m->nwords, m->cap * sizeof *m->nwords);
        FUZZ_CHECK(m->caps != NULL && m->nwords != NULL);
    }
    m->caps[m->count] = c;
    m->nwords[m->count] = n;
    m->count++;
}

static void model_clear(model *m)
{
    for (size_t i = 0; i < m->count; i++) {
        free(m->caps[i]->line);
        free(m->caps[i]);
    }
    m->count = 0;
}

static void model_free(model *m)
{
    model_clear(m);
    free(m->caps);
    free(m->nwords);
}

static bool view_in_store(const pop3_capa_set *c, pop3_view v)
{
    return fuzz_inside(v.ptr, v.len, c->store, c->store_len);
}

static bool view_is(pop3_view v, const char *p, size_t n)
{
    return v.len == n && (n == 0 || memcmp(v.ptr, p, n) == 0);
}

/* Capability i holds what the model's line i holds. */
static void compare_one(const pop3_capa_set *c, const model *m, size_t i)
{
    const pop3_capability *cap = &c->caps[i];
    const model_cap *mc = m->caps[i];
    FUZZ_CHECK(view_in_store(c, cap->line) && view_is(cap->line, mc->line, mc->len));
    FUZZ_CHECK(view_in_store(c, cap->name));
    FUZZ_CHECK(view_is(cap->name, mc->line + mc->words[0].off, mc->words[0].len));
    FUZZ_CHECK(cap->nparams == m->nwords[i] - 1);
    if (cap->nparams > 0)
        FUZZ_CHECK(fuzz_inside(cap->params, cap->nparams * sizeof *cap->params, c->params,
                               c->params_len * sizeof *c->params));
    for (size_t k = 0; k < cap->nparams; k++) {
        FUZZ_CHECK(view_in_store(c, cap->params[k]));
        const span *w = &mc->words[k + 1];
        FUZZ_CHECK(view_is(cap->params[k], mc->line + w->off, w->len));
    }
}

/* The collection holds exactly what the model holds. */
static void compare(const pop3_capa_set *c, const model *m)
{
    FUZZ_CHECK(c->count == m->count);
    FUZZ_CHECK(c->count <= c->max_caps);
    size_t params = 0;
    for (size_t i = 0; i < m->count; i++) {
        compare_one(c, m, i);
        params += m->nwords[i] - 1;
    }
    FUZZ_CHECK(c->params_len == params);
}

/*
 * After one add: everything when the storage moved (every view had to follow it), else
 * the counts and the last capability; a whole comparison per line would make long
 * inputs quadratic.
 */
typedef struct where {
    const char *store;
    const pop3_view *params;
} where;

static where where_now(const pop3_capa_set *c)
{
    return (where){c->store, c->params};
}

static void compare_after(const pop3_capa_set *c, const model *m, where before)
{
    if (before.store != c->store || before.params != c->params) {
        compare(c, m);
        return;
    }
    FUZZ_CHECK(c->count == m->count && c->count <= c->max_caps);
    if (m->count > 0) compare_one(c, m, m->count - 1);
}

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

/* A view equals a C string, ignoring ASCII case. */
static bool eq_ci(const char *p, size_t n, const char *s)
{
    if (strlen(s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)p[i]) != lower((unsigned char)s[i])) return false;
    return true;
}

static const pop3_capability *ref_find(const pop3_capa_set *c, const model *m, const char *name)
{
    for (size_t i = 0; i < m->count; i++) {
        const span *w = &m->caps[i]->words[0];
        if (eq_ci(m->caps[i]->line + w->off, w->len, name)) return &c->caps[i];
    }
    return NULL;
}

static bool ref_has_param(const model *m, const char *name, const char *param)
{
    for (size_t i = 0; i < m->count; i++) {
        const model_cap *mc = m->caps[i];
        if (!eq_ci(mc->line + mc->words[0].off, mc->words[0].len, name)) continue;
        for (size_t k = 1; k < m->nwords[i]; k++)
            if (eq_ci(mc->line + mc->words[k].off, mc->words[k].len, param)) return true;
    }
    return false;
}

/* A word as a C string, its case flipped so that the lookups must ignore case. */
static char *query_string(const model_cap *mc, size_t word)
{
    const span *w = &mc->words[word];
    char *s = fuzz_strdup(mc->line + w->off, w->len);
    for (char *p = s; *p; p++) {
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
        else if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    return s;
}

static void check_lookups(const pop3_capa_set *c, const model *m)
{
    size_t n = m->count < MAX_QUERIES ? m->count : MAX_QUERIES;
    for (size_t i = 0; i < n; i++) {
        const model_cap *mc = m->caps[i];
        char *name = query_string(mc, 0);
        FUZZ_CHECK(pop3_capa_find(c, name) == ref_find(c, m, name));
        /* Its own parameters, and the first parameter of the next line. */
        for (size_t k = 1; k < m->nwords[i] && k < 3; k++) {
            char *param = query_string(mc, k);
            FUZZ_CHECK(pop3_capa_has_param(c, name, param) == ref_has_param(m, name, param));
            free(param);
        }
        if (i + 1 < m->count && m->nwords[i + 1] > 1) {
            char *param = query_string(m->caps[i + 1], 1);
            FUZZ_CHECK(pop3_capa_has_param(c, name, param) == ref_has_param(m, name, param));
            free(param);
        }
        free(name);
    }
    FUZZ_CHECK(pop3_capa_find(c, "") == NULL);
}

/* Add one line to both; they must agree on the outcome and on the result. */
static void add(pop3_capa_set *c, model *m, const char *line, size_t len)
{
    size_t words = split_words(line, len, NULL);
    size_t before = c->count;
    int rc = pop3_capa_add(c, line, len);
    if (words == 0) {
        FUZZ_CHECK(rc == POP3_EPROTO);
    } else if (before >= c->max_caps) {
        FUZZ_CHECK(rc == POP3_ELIMIT);
    } else {
        FUZZ_CHECK(rc == POP3_OK);
        model_add(m, line, len);
    }
}

static void run(pop3_capa_set *c, model *m, const uint8_t *p, size_t len, unsigned clear_at,
                bool alias)
{
    size_t start = 0;
    unsigned index = 0;
    while (start <= len) {
        const uint8_t *lf = memchr(p + start, '\n', len - start);
        size_t end = lf ? (size_t)(lf - p) : len;
        if (++index == clear_at) {
            pop3_capa_clear(c);
            model_clear(m);
            FUZZ_CHECK(c->count == 0);
            compare(c, m);
        }
        char *line = fuzz_dup(p + start, end - start);
        where before = where_now(c);
        add(c, m, line, end - start);
        free(line);
        compare_after(c, m, before);
        start = end + 1;
        if (lf == NULL) break;
    }
    if (alias) {
        /* Lines that live in the collection's own store, which may move while adding. */
        size_t n = c->count < 8 ? c->count : 8;
        for (size_t i = 0; i < n; i++) {
            pop3_view v = c->caps[i].line;
            char *copy = fuzz_dup(v.ptr, v.len);
            size_t before = c->count;
            int rc = pop3_capa_add(c, v.ptr, v.len);
            FUZZ_CHECK(rc == (before >= c->max_caps ? POP3_ELIMIT : POP3_OK));
            if (rc == POP3_OK) model_add(m, copy, v.len);
            free(copy);
            compare(c, m);
        }
    }
    compare(c, m);
    check_lookups(c, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    unsigned clear_at = fuzz_byte(&in);

    pop3_capa_set c;
    pop3_capa_init(&c);
    FUZZ_CHECK(c.count == 0 && c.max_caps > 0);
    if ((flags & 31) != 31) c.max_caps = 1u + (flags & 31u);
    size_t max_caps = c.max_caps;

    model m = {0};
    run(&c, &m, in.p, in.len, clear_at, (flags & 0x20) != 0);
    if (flags & 0x40) {
        pop3_capa_free(&c);
        FUZZ_CHECK(c.count == 0 && c.max_caps == max_caps);
        model_clear(&m);
        run(&c, &m, in.p, in.len, 0, false);
    }
    pop3_capa_free(&c);
    model_free(&m);
    return 0;
}
