/*
 * case_parse.c - reading a conformance case file.
 *
 * A case reads top to bottom like an RFC transcript: a header (id, the RFC section it
 * exercises, the requirement ids it covers, client options), the client operations with
 * the result each must give ("run:" lines, results indented below them), and after the
 * line "dialogue:" the server's side in pop3-mock's script format (S:, C:, !directives;
 * mockserver/README.md). The dialogue is taken by the mock library's
 * pop3mock_case_dialogue (the same code as pop3-mock --case): every line above it turned
 * into a comment, so the mock's error messages and departure reports carry the case
 * file's own line numbers.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "pop3mock/case_file.h"

/* %repeat[COUNT|TEXT]% is the mock library's (pop3mock/case_file.h): the dialogue and
 * the client's lines expand the same way, within the same limit. */
char *case_expand(const char *in, size_t len, size_t *outlen, const char **err)
{
    char *out = pop3mock_case_expand(in, len, outlen, err);
    if (out == NULL && strcmp(*err, "out of memory") == 0) abort(); /* as xmalloc does */
    return out;
}

/* The largest exit status of the `pop3` command (pop3(1): 0 ok, 1 -ERR, 2 usage, 3
 * connection/TLS/timeout, 4 protocol/limit): what an "exit:" line may expect. */
#define CASE_EXIT_MAX 4

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static void add_words(strlist *l, const char *v)
{
    const char *p = v;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *s = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        if (p > s) strlist_take(l, xstrndup(s, (size_t)(p - s)));
    }
}

void case_free(conform_case *c)
{
    if (c == NULL) return;
    free(c->path);
    free(c->id);
    free(c->title);
    free(c->section);
    free(c->tls_cert);
    strlist_free(&c->covers);
    strlist_free(&c->options);
    for (size_t i = 0; i < c->nops; i++) {
        free(c->ops[i].text);
        strlist_free(&c->ops[i].want);
    }
    free(c->ops);
    free(c->dialogue);
    free(c);
}

static conform_case *fail(conform_case *c, char *err, size_t errlen, const char *path, int line,
                          const char *msg)
{
    snprintf(err, errlen, "%s:%d: %s", path, line, msg);
    case_free(c);
    return NULL;
}

conform_case *case_load(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    if (text == NULL) {
        snprintf(err, errlen, "%s: cannot read it", path);
        return NULL;
    }
    conform_case *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    c->exit_status = -1;
    c->sessions = 1;
    bool in_dialogue = false;
    /* Every error path frees what the parse holds so far. */
#define CASE_FAIL(line, ...)                                  \
    do {                                                      \
        free(text);                                           \
        return fail(c, err, errlen, path, line, __VA_ARGS__); \
    } while (0)
    int lineno = 0;
    size_t opcap = 0;
    const char *msg = NULL;
    char *p = text;
    char *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (in_dialogue) {
            char *l = xstrndup(p, n);
            if (strcmp(trim(l), "!session") == 0) c->sessions++;
            free(l);
            p += n + 1;
            continue;
        }
        char *raw = xstrndup(p, n);
        p += n + 1;
        bool indented = raw[0] == ' ' || raw[0] == '\t';
        char *l = trim(raw);
        if (*l == '\0' || *l == '#') {
            free(raw);
            continue;
        }
        if (indented) {
            if (c->nops == 0) {
                free(raw);
                CASE_FAIL(lineno, "an indented result line before any \"run:\" line");
            }
            size_t ol = 0;
            char *x = case_expand(l, strlen(l), &ol, &msg);
            free(raw);
            if (x == NULL) CASE_FAIL(lineno, msg);
            strlist_take(&c->ops[c->nops - 1].want, x);
            continue;
        }
        if (strcmp(l, "dialogue:") == 0) {
            in_dialogue = true;
            free(raw);
            continue;
        }
        char *colon = strchr(l, ':');
        if (colon == NULL) {
            free(raw);
            CASE_FAIL(lineno, "expected \"key: value\", \"run: OPERATION\", an indented result or "
                              "\"dialogue:\"");
        }
        *colon = '\0';
        char *key = trim(l);
        char *val = trim(colon + 1);
        if (strcmp(key, "id") == 0) {
            free(c->id);
            c->id = xstrdup(val);
        } else if (strcmp(key, "title") == 0) {
            free(c->title);
            c->title = xstrdup(val);
        } else if (strcmp(key, "section") == 0) {
            free(c->section);
            c->section = xstrdup(val);
        } else if (strcmp(key, "covers") == 0) {
            add_words(&c->covers, val);
        } else if (strcmp(key, "tls-cert") == 0) {
            free(c->tls_cert);
            c->tls_cert = xstrdup(val);
        } else if (strcmp(key, "options") == 0) {
            add_words(&c->options, val);
        } else if (strcmp(key, "exit") == 0) {
            uint64_t v = 0;
            if (!conform_number(val, 0, CASE_EXIT_MAX, &v)) {
                char why[160];
                snprintf(why, sizeof why, "exit: expected a number from 0 to %d, not '%.80s'",
                         CASE_EXIT_MAX, val);
                free(raw);
                CASE_FAIL(lineno, why);
            }
            c->exit_status = (int)v;
        } else if (strcmp(key, "run") == 0) {
            if (*val == '\0') {
                free(raw);
                CASE_FAIL(lineno, "run: expected an operation");
            }
            c->ops = xarray_grow(c->ops, &opcap, c->nops + 1, sizeof *c->ops);
            size_t ol = 0;
            char *x = case_expand(val, strlen(val), &ol, &msg);
            if (x == NULL) {
                free(raw);
                CASE_FAIL(lineno, msg);
            }
            case_op *op = &c->ops[c->nops++];
            memset(op, 0, sizeof *op);
            op->text = x;
            op->line = lineno;
        } else {
            free(raw);
            CASE_FAIL(lineno,
                      "unknown key (known: id title section covers options tls-cert exit run)");
        }
        free(raw);
    }
    if (!in_dialogue) CASE_FAIL(lineno, "no \"dialogue:\" section");
    if (c->nops == 0) CASE_FAIL(lineno, "no \"run:\" operation");
    for (size_t i = 0; i < c->nops; i++)
        if (c->ops[i].want.n == 0)
            CASE_FAIL(c->ops[i].line,
                      "this operation has no result line below it (ok, err KIND, ...)");
    size_t dl = 0;
    c->dialogue = pop3mock_case_dialogue(path, text, len, &dl, err, errlen);
    free(text);
    text = NULL;
    if (c->dialogue == NULL) {
        case_free(c);
        return NULL;
    }
#undef CASE_FAIL
    c->dialogue_len = dl;
    if (c->id == NULL) {
        const char *base = strrchr(path, '/');
        base = base != NULL ? base + 1 : path;
        size_t bl = strlen(base);
        if (bl > 5 && strcmp(base + bl - 5, ".case") == 0) bl -= 5;
        c->id = xstrndup(base, bl);
    }
    if (c->section == NULL) c->section = xstrdup("-");
    if (c->title == NULL) c->title = xstrdup("");
    if (c->tls_cert == NULL) c->tls_cert = xstrdup("localhost");
    return c;
}
