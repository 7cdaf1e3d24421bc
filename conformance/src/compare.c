/*
 * compare.c - does what a client returned meet what a case expects?
 *
 * The first result line of an operation is its status: "ok", or "err KIND" where the case
 * may allow several kinds ("err proto|tls": a response injected after the STLS +OK is
 * caught either before the handshake or by it, RFC2595-4.8) or any ("err *"). Text after
 * "#" on a received status line is the client's own message, shown but not compared.
 * Every other line is compared exactly, in order. Operations that only report what a
 * client noticed (quirks, anomalies, cached capabilities, pipelining) may be answered
 * "n/a" by an adapter whose client has no such notion; they are then not compared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

static bool reporting_op(const char *text)
{
    static const char *const names[] = {"quirks", "anomalies", "capabilities", "pipelining"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(text, names[i], n) == 0 && (text[n] == '\0' || text[n] == ' ')) return true;
    }
    return false;
}

/* The kind of a received "err KIND # ..." line, into `buf`. */
static const char *err_kind(const char *line, char *buf, size_t len)
{
    const char *p = line + 3;
    while (*p == ' ')
        p++;
    size_t n = 0;
    while (p[n] != '\0' && p[n] != ' ' && n + 1 < len)
        n++;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static bool status_matches(const char *want, const char *got)
{
    if (strcmp(want, "ok") == 0) return strcmp(got, "ok") == 0;
    if (strncmp(want, "err ", 4) != 0 || strncmp(got, "err ", 4) != 0) return false;
    char kind[64];
    err_kind(got, kind, sizeof kind);
    const char *alts = want + 4;
    while (*alts == ' ')
        alts++;
    if (strcmp(alts, "*") == 0) return true;
    size_t kl = strlen(kind);
    for (const char *p = alts; *p != '\0';) {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == kl && strncmp(p, kind, n) == 0) return true;
        if (bar == NULL) break;
        p = bar + 1;
    }
    return false;
}

/*
 * A value written in quotes where the plain form would do ("welcome \"+OK ready\"") is
 * the same value: the expected line is brought to the one form results are printed in
 * before it is compared, so case authors need not know the rule.
 */
static char *canon(const char *line)
{
    const char *q = strchr(line, '"');
    size_t n = strlen(line);
    if (q == NULL || n < 2 || line[n - 1] != '"' || q == line + n - 1) return xstrdup(line);
    pop3_buf raw = {0};
    const char *err = NULL;
    if (!unescape(q + 1, (size_t)(line + n - 1 - (q + 1)), &raw, &err)) {
        cbuf_free(&raw);
        return xstrdup(line);
    }
    pop3_buf out = {0};
    cbuf_add(&out, line, (size_t)(q - line));
    text_format(&out, raw.ptr != NULL ? raw.ptr : "", raw.len);
    cbuf_free(&raw);
    return cbuf_take(&out);
}

static bool line_matches(size_t idx, const char *want, const char *got)
{
    if (idx == 0) return status_matches(want, got);
    if (strcmp(want, got) == 0) return true;
    char *c = canon(want);
    bool same = strcmp(c, got) == 0;
    free(c);
    return same;
}

/* Long values (a 100 KiB body) are cut in diffs: the start shows what went wrong. */
static void show(pop3_buf *d, const char *prefix, const char *s)
{
    size_t n = strlen(s);
    if (n > 400)
        cbuf_printf(d, "    %s %.400s... (%zu octets)\n", prefix, s, n);
    else
        cbuf_printf(d, "    %s %s\n", prefix, s);
}

bool results_match(const conform_case *c, const client_output *got, pop3_buf *diff)
{
    bool ok = true;
    if (got->problems.len > 0) {
        ok = false;
        cbuf_printf(diff, "  client run problems:\n%s", got->problems.ptr);
    }
    for (size_t i = 0; i < c->nops; i++) {
        const strlist *want = &c->ops[i].want;
        const strlist *have = i < got->nops ? &got->ops[i].lines : NULL;
        size_t hn = have != NULL ? have->n : 0;
        if (hn > 0 && strncmp(have->v[0], "n/a", 3) == 0 && reporting_op(c->ops[i].text)) continue;
        bool same = hn == want->n;
        for (size_t k = 0; same && k < hn; k++)
            same = line_matches(k, want->v[k], have->v[k]);
        if (same) continue;
        ok = false;
        const char *t = c->ops[i].text;
        if (strlen(t) > 160)
            cbuf_printf(diff, "  run: %.160s...   (%s:%d)\n", t, c->path, c->ops[i].line);
        else
            cbuf_printf(diff, "  run: %s   (%s:%d)\n", t, c->path, c->ops[i].line);
        size_t k = 0;
        while (k < hn && k < want->n && line_matches(k, want->v[k], have->v[k])) {
            show(diff, " ", have->v[k]);
            k++;
        }
        for (size_t j = k; j < want->n; j++)
            show(diff, "-", want->v[j]);
        for (size_t j = k; j < hn; j++)
            show(diff, "+", have->v[j]);
        if (hn == 0) cbuf_puts(diff, "    + (no result: the client did not run this operation)\n");
    }
    if (c->exit_status >= 0) {
        int e = results_exit_status(got);
        if (e != c->exit_status) {
            ok = false;
            cbuf_printf(diff, "  exit status of the pop3 command: expected %d, got %d\n",
                        c->exit_status, e);
        }
    }
    return ok;
}

int results_exit_status(const client_output *got)
{
    for (size_t i = 0; i < got->nops; i++) {
        const strlist *l = &got->ops[i].lines;
        if (l->n == 0 || strncmp(l->v[0], "err ", 4) != 0) continue;
        char kind[64];
        err_kind(l->v[0], kind, sizeof kind);
        /* pop3.1, EXIT STATUS: 1 -ERR, 2 usage, 3 connection/TLS/timeout, 4 protocol/limit; a
         * local refusal (no usable login, no APOP timestamp) is the server's answer. */
        if (strcmp(kind, "server") == 0 || strcmp(kind, "state") == 0) return 1;
        if (strcmp(kind, "usage") == 0) return 2;
        if (strcmp(kind, "io") == 0 || strcmp(kind, "tls") == 0 || strcmp(kind, "timeout") == 0 ||
            strcmp(kind, "closed") == 0)
            return 3;
        return 4;
    }
    return 0;
}

void client_output_free(client_output *o)
{
    for (size_t i = 0; i < o->nops; i++)
        strlist_free(&o->ops[i].lines);
    free(o->ops);
    free(o->na);
    cbuf_free(&o->problems);
    cbuf_free(&o->log);
    memset(o, 0, sizeof *o);
}
