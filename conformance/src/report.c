/*
 * report.c - what a run prints: one line per case (its id, the RFC section it exercises,
 * the verdict and time of each client, side by side), the details of each failure (the
 * expected and received results, the mock's report of where the client departed from the
 * dialogue, the transcript), a summary by RFC and by quirk, and the closing line
 * "N passed, N failed" that CI reads.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"
#include "quirk_names.h"

static const char *vname(verdict v)
{
    return v == V_PASS ? "PASS" : v == V_FAIL ? "FAIL" : "n/a";
}

void report_case_line(const conform_report *r, size_t i)
{
    const conform_case *c = r->cases[i];
    const case_outcome *o = &r->outcomes[i * r->nclients];
    if (r->nclients == 1) {
        fprintf(r->out, "%-4s  %-44s  %-20s  %6lld ms\n", vname(o->v), c->id, c->section,
                (long long)o->ms);
    } else {
        fprintf(r->out, "%-44s  %-20s", c->id, c->section);
        for (size_t k = 0; k < r->nclients; k++)
            fprintf(r->out, "  %s %-4s %5lld ms", r->clients[k].name, vname(o[k].v),
                    (long long)o[k].ms);
        fputc('\n', r->out);
    }
    for (size_t k = 0; k < r->nclients; k++) {
        /* Details of the reference client's failures always; of other clients' failures
         * only when asked for (-v): peers fail many cases, that is what the table shows.
         * Why a case is n/a and the transcripts of passing cases only with -vv. */
        bool show = o[k].v == V_FAIL && (r->clients[k].command == NULL || r->verbose >= 1);
        if (r->verbose >= 2 && o[k].detail.len > 0) show = true;
        if (!show) continue;
        fprintf(r->out, "  --- %s: %s (%s)\n", r->clients[k].name, c->id, c->title);
        fputs(o[k].detail.ptr != NULL ? o[k].detail.ptr : "", r->out);
    }
    fflush(r->out);
}

const char *cover_group(const char *id, char *buf, size_t len)
{
    if (strncmp(id, "EX-", 3) == 0) id += 3;
    if (strncmp(id, "RFC", 3) == 0) {
        /* "RFC1939-5.2" -> "RFC 1939": the digits of the RFC number. */
        snprintf(buf, len, "RFC %.*s", (int)strspn(id + 3, "0123456789"), id + 3);
        return buf;
    }
    if (id[0] == 'Q' && id[1] >= '1' && id[1] <= '9') {
        snprintf(buf, len, "%s", id);
        return buf;
    }
    if (strncmp(id, "poplib:", 7) == 0) return "poplib test_poplib";
    if (strncmp(id, "curl:", 5) == 0) return "curl tests";
    return "other";
}

typedef struct row {
    char name[64];
    size_t cases;
    size_t *pass, *fail, *na; /* per client */
} row;

static row *find_row(row **rows, size_t *n, size_t *cap, const char *name, size_t nclients)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*rows)[i].name, name) == 0) return &(*rows)[i];
    *rows = xarray_grow(*rows, cap, *n + 1, sizeof **rows);
    row *r = &(*rows)[(*n)++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->pass = xcalloc(nclients, sizeof *r->pass);
    r->fail = xcalloc(nclients, sizeof *r->fail);
    r->na = xcalloc(nclients, sizeof *r->na);
    return r;
}

/* RFC rows by number, quirk rows by number, then the rest by name (a row without a
 * number, or with one past 2^64-1, sorts as 0 and then by name). */
static uint64_t row_key(const char *name, int *cls)
{
    uint64_t key = 0;
    if (strncmp(name, "RFC ", 4) == 0) {
        *cls = 0;
        conform_leading_number(name + 4, &key);
        return key;
    }
    if (name[0] == 'Q') {
        *cls = 1;
        conform_leading_number(name + 1, &key);
        return key;
    }
    *cls = 2;
    return 0;
}

static int row_cmp(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int cx, cy;
    uint64_t kx = row_key(x->name, &cx), ky = row_key(y->name, &cy);
    if (cx != cy) return cx - cy;
    if (kx != ky) return kx < ky ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void print_rows(const conform_report *r, const char *title, row *rows, size_t n, int cls)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        int c;
        row_key(rows[i].name, &c);
        if (c != cls) continue;
        if (!any) {
            fprintf(r->out, "%-32s %5s", title, "cases");
            for (size_t k = 0; k < r->nclients; k++)
                fprintf(r->out, "  %16s", r->clients[k].name);
            fputc('\n', r->out);
            any = true;
        }
        char label[96]; /* a quirk row is "Q6 (bare-lf)": its catalogue name beside the id */
        fprintf(r->out, "%-32s %5zu", pop3conform_quirk_annotate(rows[i].name, label, sizeof label),
                rows[i].cases);
        for (size_t k = 0; k < r->nclients; k++) {
            char cell[64];
            if (rows[i].na[k] > 0)
                snprintf(cell, sizeof cell, "%zu/%zu (%zu n/a)", rows[i].pass[k],
                         rows[i].cases - rows[i].na[k], rows[i].na[k]);
            else
                snprintf(cell, sizeof cell, "%zu/%zu", rows[i].pass[k], rows[i].cases);
            fprintf(r->out, "  %16s", cell);
        }
        fputc('\n', r->out);
    }
    if (any) fputc('\n', r->out);
}

void report_summary(const conform_report *r, size_t *passed, size_t *failed)
{
    row *rows = NULL;
    size_t nrows = 0, rowcap = 0;
    *passed = *failed = 0;
    size_t *tp = xcalloc(r->nclients, sizeof *tp), *tf = xcalloc(r->nclients, sizeof *tf),
           *tn = xcalloc(r->nclients, sizeof *tn);
    for (size_t i = 0; i < r->ncases; i++) {
        const conform_case *c = r->cases[i];
        const case_outcome *o = &r->outcomes[i * r->nclients];
        /* A case counts once per group even when it covers several ids of that group. */
        strlist seen = {0};
        for (size_t j = 0; j < c->covers.n; j++) {
            char buf[64];
            const char *g = cover_group(c->covers.v[j], buf, sizeof buf);
            bool dup = false;
            for (size_t s = 0; s < seen.n && !dup; s++)
                dup = strcmp(seen.v[s], g) == 0;
            if (dup) continue;
            strlist_add(&seen, g);
            row *rw = find_row(&rows, &nrows, &rowcap, g, r->nclients);
            rw->cases++;
            for (size_t k = 0; k < r->nclients; k++) {
                if (o[k].v == V_PASS) rw->pass[k]++;
                if (o[k].v == V_FAIL) rw->fail[k]++;
                if (o[k].v == V_NA) rw->na[k]++;
            }
        }
        strlist_free(&seen);
        for (size_t k = 0; k < r->nclients; k++) {
            if (o[k].v == V_PASS) tp[k]++, (*passed)++;
            if (o[k].v == V_FAIL) tf[k]++, (*failed)++;
            if (o[k].v == V_NA) tn[k]++;
        }
    }
    if (nrows > 0) qsort(rows, nrows, sizeof *rows, row_cmp);
    fputs("\nsummary (cases passed / cases run, per client)\n\n", r->out);
    print_rows(r, "by RFC", rows, nrows, 0);
    print_rows(r, "by quirk", rows, nrows, 1);
    print_rows(r, "by peer test suite", rows, nrows, 2);
    fprintf(r->out, "%-32s %5zu", "all cases", r->ncases);
    for (size_t k = 0; k < r->nclients; k++) {
        char cell[64];
        if (tn[k] > 0)
            snprintf(cell, sizeof cell, "%zu/%zu (%zu n/a)", tp[k], tp[k] + tf[k], tn[k]);
        else
            snprintf(cell, sizeof cell, "%zu/%zu", tp[k], tp[k] + tf[k]);
        fprintf(r->out, "  %16s", cell);
    }
    fputs("\n\n", r->out);
    for (size_t i = 0; i < nrows; i++) {
        free(rows[i].pass);
        free(rows[i].fail);
        free(rows[i].na);
    }
    free(rows);
    free(tp);
    free(tf);
    free(tn);
}

/* The line of the case file where dialogue session `n` (from 1) starts: the n-1th
 * "!session" line; 0 when it cannot be told. */
static int session_line(const conform_case *c, unsigned n)
{
    size_t len = 0;
    char *text = read_file(c->path, &len);
    if (text == NULL) return 0;
    int line = 1, found = 0;
    unsigned seen = 1;
    bool in_dialogue = false;
    for (const char *p = text, *end = text + len; p < end && found == 0; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t k = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        while (k > 0 && (p[0] == ' ' || p[0] == '\t'))
            p++, k--;
        if (k >= 9 && strncmp(p, "dialogue:", 9) == 0) in_dialogue = true;
        if (in_dialogue && k >= 8 && strncmp(p, "!session", 8) == 0 && ++seen == n) found = line;
        p += k + 1;
    }
    free(text);
    return found;
}

/* The line number a "FILE:LINE" of a report starts at `s` with; 0 when there is none or
 * it does not fit an int (a case file is never that long). */
static int line_number(const char *s)
{
    uint64_t v = 0;
    return conform_leading_number(s, &v) > 0 && v <= INT_MAX ? (int)v : 0;
}

/* The text after the indentation of a detail line. */
static const char *trimmed(const char *p, size_t *n)
{
    while (*n > 0 && (*p == ' ' || *p == '\t'))
        p++, (*n)--;
    return p;
}

/*
 * The first difference of a failure, as one line. The detail (case_run.c, compare.c) is
 * "  run: OP   (FILE:LINE)" followed by "    - expected" and "    + received" lines, or
 * the mock's "FILE:LINE: session N: ..." report of a departure from the dialogue, or a
 * problem of the client run; the first of these that is there gives the message.
 */
void report_first_difference(const conform_case *c, const char *detail, pop3_buf *msg, int *line)
{
    *line = 0;
    const char *op = NULL, *want = NULL, *got = NULL, *other = NULL;
    size_t opn = 0, wantn = 0, gotn = 0, othern = 0;
    int op_line = 0, other_line = 0;
    size_t plen = strlen(c->path);
    for (const char *p = detail; *p != '\0' && (want == NULL || got == NULL);) {
        size_t n = strcspn(p, "\n");
        size_t tn = n;
        const char *t = trimmed(p, &tn);
        if (tn > 5 && strncmp(t, "run: ", 5) == 0 && op == NULL) {
            /* "run: OP   (FILE:LINE)": the operation and its line. */
            const char *paren = NULL;
            for (size_t i = tn; i > 0; i--)
                if (t[i - 1] == '(') {
                    paren = t + i - 1;
                    break;
                }
            op = t + 5;
            opn = paren != NULL ? (size_t)(paren - op) : tn - 5;
            while (opn > 0 && op[opn - 1] == ' ')
                opn--;
            const char *colon = paren != NULL ? memchr(paren, ':', (size_t)(t + tn - paren)) : NULL;
            while (colon != NULL) {
                const char *next = memchr(colon + 1, ':', (size_t)(t + tn - colon - 1));
                if (next == NULL) break;
                colon = next;
            }
            if (colon != NULL) op_line = line_number(colon + 1);
        } else if (op != NULL && tn > 1 && t[0] == '-' && t[1] == ' ' && want == NULL) {
            want = t + 2;
            wantn = tn - 2;
        } else if (op != NULL && tn > 1 && t[0] == '+' && t[1] == ' ' && got == NULL) {
            got = t + 2;
            gotn = tn - 2;
        } else if (other == NULL && tn > plen + 1 && strncmp(t, c->path, plen) == 0 &&
                   t[plen] == ':') {
            /* The mock: "FILE:LINE: session 1: the client departed from the script". */
            other_line = line_number(t + plen + 1);
            const char *rest = memchr(t + plen + 1, ':', tn - plen - 1);
            other = rest != NULL ? rest + 1 : t;
            othern = (size_t)(t + tn - other);
            other = trimmed(other, &othern);
        } else if (other == NULL && op == NULL && tn > 0 && t[0] != '[' && t[tn - 1] != ':') {
            /* Not a heading ("the mock (what the client sent):", "transcript:"). */
            other = t;
            othern = tn;
        }
        p += n + (p[n] == '\n');
    }
    if (op != NULL) {
        cbuf_printf(msg, "%.*s:", (int)opn, op);
        if (want != NULL)
            cbuf_printf(msg, " expected %.*s", (int)(wantn > 200 ? 200 : wantn), want);
        if (want != NULL && got != NULL) cbuf_putc(msg, ',');
        if (got != NULL) cbuf_printf(msg, " received %.*s", (int)(gotn > 200 ? 200 : gotn), got);
        if (want == NULL && got == NULL) cbuf_puts(msg, " results differ");
        *line = op_line;
    } else if (other != NULL) {
        cbuf_printf(msg, "%.*s", (int)(othern > 300 ? 300 : othern), other);
        *line = other_line;
        /* mock_thread.c: "session N never ran: ...". */
        uint64_t session = 0;
        size_t digits =
            strncmp(other, "session ", 8) == 0 ? conform_leading_number(other + 8, &session) : 0;
        if (*line == 0 && digits > 0 && strncmp(other + 8 + digits, " never ran", 10) == 0 &&
            session <= UINT_MAX)
            *line = session_line(c, (unsigned)session);
    } else {
        cbuf_puts(msg, "failed");
    }
}

/* Workflow command escaping: the message may not hold a line end or a bare "%". */
static void gh_escape(FILE *f, const char *s, bool property)
{
    for (; *s != '\0'; s++) {
        if (*s == '%')
            fputs("%25", f);
        else if (*s == '\r')
            fputs("%0D", f);
        else if (*s == '\n')
            fputs("%0A", f);
        else if (property && *s == ':')
            fputs("%3A", f);
        else if (property && *s == ',')
            fputs("%2C", f);
        else
            fputc(*s, f);
    }
}

void report_github(const conform_report *r)
{
    /* GitHub resolves file= against the workspace: give paths under it relative. */
    char cwd[PATH_MAX];
    const char *ws = getenv("GITHUB_WORKSPACE");
    if (ws == NULL || realpath(ws, cwd) == NULL) {
        if (getcwd(cwd, sizeof cwd) == NULL) cwd[0] = '\0';
    }
    size_t cl = strlen(cwd);
    for (size_t i = 0; i < r->ncases; i++) {
        const conform_case *c = r->cases[i];
        char real[PATH_MAX];
        const char *file = c->path;
        if (cl > 0 && realpath(c->path, real) != NULL && strncmp(real, cwd, cl) == 0 &&
            real[cl] == '/')
            file = real + cl + 1;
        for (size_t k = 0; k < r->nclients; k++) {
            const case_outcome *o = &r->outcomes[i * r->nclients + k];
            if (o->v != V_FAIL) continue;
            pop3_buf msg = {0};
            int line = 0;
            report_first_difference(c, o->detail.ptr != NULL ? o->detail.ptr : "", &msg, &line);
            /* "::error file=F,line=N::CLIENT: CASE: MESSAGE" */
            fputs("::error file=", r->out);
            gh_escape(r->out, file, true);
            fprintf(r->out, ",line=%d::", line > 0 ? line : 1);
            pop3_buf t = {0};
            cbuf_printf(&t, "%s: %s: %s", r->clients[k].name, c->id,
                        msg.ptr != NULL ? msg.ptr : "");
            gh_escape(r->out, t.ptr, false);
            fputc('\n', r->out);
            cbuf_free(&t);
            cbuf_free(&msg);
        }
    }
    fflush(r->out);
}
