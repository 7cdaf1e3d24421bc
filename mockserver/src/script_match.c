/*
 * script_match.c - comparing a client line with a C: line; session variables.
 *
 * A C: line is a sequence of literals, references ({name}, compared as literals once
 * expanded) and wildcards ({*}, {word}, {digits}, optionally captured as {name:class}).
 * RFC 1939 section 3 makes command keywords case-insensitive, so the default C: match
 * folds the case of the leading keyword only; C= compares every octet, C~ folds all.
 * The matcher backtracks over wildcards with a step budget, so a hostile client line
 * (the mock is fuzzed) cannot make it run long whatever the script says.
 */
#include <stdlib.h>
#include <string.h>

#include "pop3/buf.h"
#include "pop3/error.h"
#include "script_internal.h"

/* Matcher steps before a line is declared not to match. */
#define MATCH_BUDGET 100000

void pop3mock__vars_free(pop3mock__vars *v)
{
    for (size_t i = 0; i < v->count; i++) {
        free(v->v[i].name);
        free(v->v[i].value);
    }
    free(v->v);
    memset(v, 0, sizeof *v);
}

int pop3mock__vars_set(pop3mock__vars *v, const char *name, const char *value, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL) return -1;
    memcpy(copy, value, len);
    copy[len] = '\0';
    for (size_t i = 0; i < v->count; i++) {
        if (strcmp(v->v[i].name, name) == 0) {
            free(v->v[i].value);
            v->v[i].value = copy;
            v->v[i].len = len;
            return 0;
        }
    }
    int rc;
    pop3mock__var *nv =
        pop3_array_grow(v->v, &v->cap, v->count + 1, sizeof *nv, 8, POP3MOCK__NAMES_MAX, &rc);
    size_t nlen = strlen(name);
    char *ncopy = nv != NULL ? malloc(nlen + 1) : NULL;
    if (nv != NULL) v->v = nv;
    if (ncopy == NULL) {
        free(copy);
        return -1;
    }
    memcpy(ncopy, name, nlen + 1);
    v->v[v->count++] = (pop3mock__var){.name = ncopy, .value = copy, .len = len};
    return 0;
}

const char *pop3mock__vars_get(const pop3mock__vars *v, const char *name, size_t *len)
{
    for (size_t i = 0; i < v->count; i++) {
        if (strcmp(v->v[i].name, name) == 0) {
            *len = v->v[i].len;
            return v->v[i].value;
        }
    }
    return NULL;
}

static char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

typedef struct matcher {
    const pop3mock__step *st;
    const char *line;
    size_t len;
    pop3mock__lookup lookup;
    void *ctx;
    long budget;
    size_t *cap_start; /* per segment: where its wildcard matched */
    size_t *cap_len;
} matcher;

/* Compare `n` octets of expected text at line offset `pos`. */
static bool same(const matcher *m, const char *want, size_t n, size_t pos)
{
    if (pos + n > m->len) return false;
    for (size_t i = 0; i < n; i++) {
        char a = m->line[pos + i], b = want[i];
        bool nocase = m->st->match == POP3MOCK__MATCH_NOCASE ||
                      (m->st->match == POP3MOCK__MATCH_KEYWORD && pos + i < m->st->keyword_len);
        if (nocase ? fold(a) != fold(b) : a != b) return false;
    }
    return true;
}

static bool in_class(pop3mock__class cls, char c)
{
    switch (cls) {
    case POP3MOCK__CLASS_ANY: return true;
    case POP3MOCK__CLASS_WORD: return c != ' ';
    case POP3MOCK__CLASS_DIGITS: return c >= '0' && c <= '9';
    }
    return false;
}

static bool match_from(matcher *m, size_t seg, size_t pos)
{
    if (--m->budget < 0) return false;
    if (seg == m->st->nsegs) return pos == m->len;
    const pop3mock__seg *s = &m->st->segs[seg];
    switch (s->kind) {
    case POP3MOCK__SEG_LITERAL:
        return same(m, s->text, s->len, pos) && match_from(m, seg + 1, pos + s->len);
    case POP3MOCK__SEG_REF: {
        size_t n = 0;
        const char *v = m->lookup(m->ctx, s->name, &n);
        if (v == NULL) return false;
        return same(m, v, n, pos) && match_from(m, seg + 1, pos + n);
    }
    case POP3MOCK__SEG_WILD: {
        /* The longest run of the class first (greedy), then shorter ones. */
        size_t max = 0;
        while (pos + max < m->len && in_class(s->cls, m->line[pos + max]))
            max++;
        size_t min = s->cls == POP3MOCK__CLASS_ANY ? 0 : 1;
        for (size_t n = max + 1; n-- > min;) {
            m->cap_start[seg] = pos;
            m->cap_len[seg] = n;
            if (match_from(m, seg + 1, pos + n)) return true;
            if (m->budget < 0) return false;
        }
        return false;
    }
    }
    return false;
}

bool pop3mock__match_line(const pop3mock__step *st, const char *line, size_t len,
                          pop3mock__lookup lookup, void *ctx, pop3mock__vars *vars)
{
    matcher m = {
        .st = st, .line = line, .len = len, .lookup = lookup, .ctx = ctx, .budget = MATCH_BUDGET};
    size_t n = st->nsegs > 0 ? st->nsegs : 1;
    m.cap_start = calloc(n, sizeof *m.cap_start);
    m.cap_len = calloc(n, sizeof *m.cap_len);
    bool ok = m.cap_start != NULL && m.cap_len != NULL && match_from(&m, 0, 0);
    for (size_t i = 0; ok && i < st->nsegs; i++) {
        const pop3mock__seg *s = &st->segs[i];
        if (s->kind == POP3MOCK__SEG_WILD && s->name != NULL)
            if (pop3mock__vars_set(vars, s->name, line + m.cap_start[i], m.cap_len[i]) != 0)
                ok = false;
    }
    free(m.cap_start);
    free(m.cap_len);
    return ok;
}
