/*
 * diff_outcome.c - what a client made of a dialogue, normalised so that clients can be
 * compared: the result blocks of the adapter contract (conformance/README.md, "The
 * operation language") reduced to success or failure, the message count (RFC 1939
 * section 5: STAT, LIST, UIDL), the body octets (RETR, TOP: length and MD5, the form
 * pop3-conform itself uses past 2048 octets), and from the mock's transcript whether PASS,
 * APOP or AUTH went out in clear when the case required TLS (RFC 2595 section 4, RFC 8314
 * section 5).
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diff.h"

const char *pop3diff_field_name(pop3diff_field f)
{
    static const char *const names[POP3DIFF_NFIELDS] = {"status", "count", "body", "creds"};
    return f < POP3DIFF_NFIELDS ? names[f] : "?";
}

void pop3diff_summary_free(pop3diff_summary *s)
{
    free(s->ops);
    memset(s, 0, sizeof *s);
}

/* The operation's keyword (the first word of its text). */
static void op_name(const char *text, char *out, size_t len)
{
    size_t n = strcspn(text, " \t");
    snprintf(out, len, "%.*s", (int)n, text);
}

static bool has_argument(const char *text)
{
    const char *sp = strpbrk(text, " \t");
    if (sp == NULL) return false;
    while (*sp == ' ' || *sp == '\t')
        sp++;
    return *sp != '\0';
}

/* Operations whose results are reports of the client's own, not of the dialogue. */
static bool not_compared(const char *name)
{
    static const char *const names[] = {"quirks", "anomalies", "capabilities", "pipelining",
                                        "state",  "welcome",   "response",     "retrieve",
                                        "sasl",   "raw-multi", "raw",          "close"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i]) == 0) return true;
    return false;
}

static void digest(const void *p, size_t n, char *out, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_md5(), NULL);
    int w = snprintf(out, len, "body=%zu:", n);
    for (unsigned i = 0; i < mdlen && w > 0 && (size_t)w + 2 < len; i++)
        w += snprintf(out + w, len - (size_t)w, "%02x", md[i]);
}

/* A value as results write it (plain, or "quoted" with C escapes), decoded. */
static bool value_decode(const char *v, pop3_buf *out)
{
    size_t n = strlen(v);
    const char *err = NULL;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') return unescape(v + 1, n - 2, out, &err);
    cbuf_add(out, v, n);
    return true;
}

static void body_value(const strlist *lines, const char *name, char *out, size_t len)
{
    bool poplib_shape = strstr(name, "-lines") != NULL;
    pop3_buf body = {0};
    for (size_t k = 1; k < lines->n; k++) {
        const char *l = lines->v[k];
        if (!poplib_shape && strncmp(l, "body-md5 ", 9) == 0) {
            /* "body-md5 LENGTH HEX": already in the compared form. */
            char hex[40] = "";
            unsigned long long bl = 0;
            if (sscanf(l + 9, "%llu %39s", &bl, hex) == 2)
                snprintf(out, len, "body=%llu:%s", bl, hex);
            cbuf_free(&body);
            return;
        }
        if (!poplib_shape && strncmp(l, "body ", 5) == 0) {
            if (!value_decode(l + 5, &body)) snprintf(out, len, "body=undecodable");
            cbuf_add(&body, "", 0);
            digest(body.ptr, body.len, out, len);
            cbuf_free(&body);
            return;
        }
        if (poplib_shape && strncmp(l, "line ", 5) == 0) {
            value_decode(l + 5, &body);
            cbuf_add(&body, "\r\n", 2);
        }
    }
    if (poplib_shape) {
        cbuf_add(&body, "", 0);
        digest(body.ptr, body.len, out, len);
    }
    cbuf_free(&body);
}

static void op_value(const char *text, const strlist *lines, char *out, size_t len)
{
    char name[32];
    op_name(text, name, sizeof name);
    out[0] = '\0';
    if (strcmp(name, "stat") == 0) {
        for (size_t k = 1; k < lines->n; k++) {
            unsigned long long count = 0;
            if (sscanf(lines->v[k], "stat %llu", &count) == 1)
                snprintf(out, len, "count=%llu", count);
        }
    } else if ((strcmp(name, "list") == 0 || strcmp(name, "uidl") == 0) && !has_argument(text)) {
        const char *key = name[0] == 'l' ? "msg " : "uid ";
        size_t n = 0;
        for (size_t k = 1; k < lines->n; k++)
            n += strncmp(lines->v[k], key, 4) == 0;
        snprintf(out, len, "count=%zu", n);
    } else if (strcmp(name, "list-lines") == 0 || strcmp(name, "uidl-lines") == 0) {
        size_t n = 0;
        for (size_t k = 1; k < lines->n; k++)
            n += strncmp(lines->v[k], "line ", 5) == 0;
        snprintf(out, len, "count=%zu", n);
    } else if (strcmp(name, "retr") == 0 || strcmp(name, "top") == 0 ||
               strcmp(name, "retr-lines") == 0 || strcmp(name, "top-lines") == 0) {
        body_value(lines, name, out, len);
    }
}

/* Did a PASS, APOP or AUTH line go out on a connection without TLS? The mock's text log
 * has one record per chunk, "TIME #CONN C: DATA" in clear and "C*:" under TLS, with the
 * data escaped (a line end is the two characters "\n"). */
static bool creds_in_clear(const char *log, size_t len)
{
    static const char *const cmds[] = {"PASS", "APOP", "AUTH"};
    for (const char *p = log, *end = log + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        char *rec = xstrndup(p, n);
        p += n + 1;
        const char *d = strstr(rec, " C: ");
        bool hit = false;
        for (const char *q = d != NULL ? d + 4 : NULL; q != NULL && !hit;) {
            for (size_t k = 0; k < sizeof cmds / sizeof *cmds && !hit; k++)
                hit = strncasecmp(q, cmds[k], 4) == 0 &&
                      (q[4] == ' ' || q[4] == '\\' || q[4] == '\0');
            q = strstr(q, "\\n");
            if (q != NULL) q += 2;
        }
        free(rec);
        if (hit) return true;
    }
    return false;
}

void pop3diff_summarise(const conform_case *c, const client_output *o, const char *transcript,
                        size_t tlen, pop3diff_summary *s)
{
    memset(s, 0, sizeof *s);
    s->nops = c->nops;
    s->ops = xcalloc(c->nops ? c->nops : 1, sizeof *s->ops);
    for (size_t i = 0; i < c->nops; i++) {
        pop3diff_op *op = &s->ops[i];
        const strlist *lines = i < o->nops ? &o->ops[i].lines : NULL;
        char name[32];
        op_name(c->ops[i].text, name, sizeof name);
        if (not_compared(name)) {
            snprintf(op->status, sizeof op->status, "n/a");
        } else if (lines == NULL || lines->n == 0) {
            snprintf(op->status, sizeof op->status, "missing");
        } else if (strcmp(lines->v[0], "ok") == 0 || strncmp(lines->v[0], "ok ", 3) == 0) {
            snprintf(op->status, sizeof op->status, "ok");
            op_value(c->ops[i].text, lines, op->value, sizeof op->value);
        } else if (strncmp(lines->v[0], "err", 3) == 0) {
            snprintf(op->status, sizeof op->status, "fail");
            const char *k = lines->v[0] + 3;
            while (*k == ' ')
                k++;
            size_t kn = strcspn(k, " #");
            snprintf(op->kind, sizeof op->kind, "%.*s", (int)(kn < 23 ? kn : 23), k);
        } else {
            snprintf(op->status, sizeof op->status, "n/a");
        }
    }
    bool require_tls = false;
    for (size_t i = 0; i < c->options.n; i++)
        require_tls |= strcmp(c->options.v[i], "require-tls") == 0;
    snprintf(s->creds, sizeof s->creds, "%s",
             !require_tls ? "-"
             : creds_in_clear(transcript ? transcript : "", tlen) ? "clear"
                                                                  : "none");
}

void pop3diff_summary_format(const pop3diff_summary *s, pop3_buf *out)
{
    cbuf_printf(out, "creds=%s", s->creds);
    for (size_t i = 0; i < s->nops; i++) {
        const pop3diff_op *op = &s->ops[i];
        cbuf_printf(out, " %s", op->status);
        if (op->kind[0]) cbuf_printf(out, ":%s", op->kind);
        if (op->value[0]) cbuf_printf(out, ",%s", op->value);
    }
}

bool pop3diff_summary_parse(const char *line, pop3diff_summary *s)
{
    memset(s, 0, sizeof *s);
    strlist w = {0};
    for (const char *p = line; *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n > 0) strlist_take(&w, xstrndup(p, n));
        p += n;
    }
    bool ok = w.n >= 1 && strncmp(w.v[0], "creds=", 6) == 0 && strlen(w.v[0] + 6) < 8;
    if (ok) {
        snprintf(s->creds, sizeof s->creds, "%s", w.v[0] + 6);
        s->nops = w.n - 1;
        s->ops = xcalloc(s->nops ? s->nops : 1, sizeof *s->ops);
        for (size_t i = 0; i < s->nops; i++) {
            pop3diff_op *op = &s->ops[i];
            const char *t = w.v[i + 1];
            const char *comma = strchr(t, ',');
            size_t head = comma != NULL ? (size_t)(comma - t) : strlen(t);
            const char *colon = memchr(t, ':', head);
            size_t sl = colon != NULL ? (size_t)(colon - t) : head;
            snprintf(op->status, sizeof op->status, "%.*s", (int)(sl < 11 ? sl : 11), t);
            if (colon != NULL)
                snprintf(op->kind, sizeof op->kind, "%.*s", (int)(head - sl - 1), colon + 1);
            if (comma != NULL) snprintf(op->value, sizeof op->value, "%s", comma + 1);
        }
    }
    strlist_free(&w);
    return ok;
}

/* Group the clients by `value(k)` and write the groups in a stable order. */
typedef const char *(*value_fn)(const pop3diff_summary *s, size_t op);

static const char *status_of(const pop3diff_summary *s, size_t op)
{
    return op < s->nops ? s->ops[op].status : "missing";
}

static const char *value_of(const pop3diff_summary *s, size_t op)
{
    return op < s->nops ? s->ops[op].value : "";
}

static const char *creds_of(const pop3diff_summary *s, size_t op)
{
    (void)op;
    return s->creds;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void group(const char *const *names, const pop3diff_summary *const *sums, size_t n,
                  size_t op, value_fn fn, pop3diff_disagreement *d)
{
    char **groups = xcalloc(n, sizeof *groups);
    char **vals = xcalloc(n, sizeof *vals);
    size_t ng = 0;
    bool *done = xcalloc(n, sizeof *done);
    for (size_t k = 0; k < n; k++) {
        if (done[k]) continue;
        const char *v = fn(sums[k], op);
        char **members = xcalloc(n, sizeof *members);
        size_t nm = 0;
        for (size_t j = k; j < n; j++)
            if (!done[j] && strcmp(fn(sums[j], op), v) == 0) {
                done[j] = true;
                members[nm++] = (char *)names[j];
            }
        qsort(members, nm, sizeof *members, cmp_str);
        pop3_buf g = {0};
        for (size_t j = 0; j < nm; j++)
            cbuf_printf(&g, "%s%s", j ? "," : "", members[j]);
        free(members);
        groups[ng] = cbuf_take(&g);
        pop3_buf vb = {0};
        cbuf_printf(&vb, "%s: %s", groups[ng], v[0] ? v : "(none)");
        vals[ng++] = cbuf_take(&vb);
    }
    qsort(groups, ng, sizeof *groups, cmp_str);
    qsort(vals, ng, sizeof *vals, cmp_str);
    size_t gw = 0, vw = 0;
    d->groups[0] = d->values[0] = '\0';
    for (size_t k = 0; k < ng; k++) {
        int a = snprintf(d->groups + gw, sizeof d->groups - gw, "%s%s", k ? " | " : "", groups[k]);
        if (a > 0) gw += (size_t)a < sizeof d->groups - gw ? (size_t)a : sizeof d->groups - gw - 1;
        int b = snprintf(d->values + vw, sizeof d->values - vw, "%s%s", k ? " | " : "", vals[k]);
        if (b > 0) vw += (size_t)b < sizeof d->values - vw ? (size_t)b : sizeof d->values - vw - 1;
        free(groups[k]);
        free(vals[k]);
    }
    free(groups);
    free(vals);
    free(done);
}

static bool all_equal(const pop3diff_summary *const *sums, size_t n, size_t op, value_fn fn)
{
    for (size_t k = 1; k < n; k++)
        if (strcmp(fn(sums[k], op), fn(sums[0], op)) != 0) return false;
    return true;
}

size_t pop3diff_compare(const char *const *names, const pop3diff_summary *const *sums, size_t n,
                        const conform_case *c, pop3diff_disagreement *out, size_t max)
{
    size_t nd = 0;
    if (n < 2 || max == 0) return 0;
    size_t nops = c->nops;
    /* The first operation whose success or failure parts the clients. */
    size_t limit = nops;
    for (size_t i = 0; i < nops; i++) {
        bool skip = false;
        for (size_t k = 0; k < n; k++)
            skip |= strcmp(status_of(sums[k], i), "n/a") == 0;
        if (skip || all_equal(sums, n, i, status_of)) continue;
        limit = i;
        break;
    }
    bool seen[POP3DIFF_NFIELDS] = {false};
    /* Values before it, where every client succeeded. */
    for (size_t i = 0; i < limit && nd < max; i++) {
        bool all_ok = true;
        for (size_t k = 0; k < n; k++)
            all_ok &= strcmp(status_of(sums[k], i), "ok") == 0;
        if (!all_ok || all_equal(sums, n, i, value_of)) continue;
        pop3diff_field f = POP3DIFF_COUNT;
        for (size_t k = 0; k < n; k++)
            if (strncmp(value_of(sums[k], i), "body=", 5) == 0) f = POP3DIFF_BODY;
        if (seen[f]) continue;
        seen[f] = true;
        out[nd] = (pop3diff_disagreement){.field = f, .op = i};
        group(names, sums, n, i, value_of, &out[nd++]);
    }
    if (limit < nops && nd < max) {
        out[nd] = (pop3diff_disagreement){.field = POP3DIFF_STATUS, .op = limit};
        group(names, sums, n, limit, status_of, &out[nd++]);
    }
    bool creds_known = true;
    for (size_t k = 0; k < n; k++)
        creds_known &= strcmp(sums[k]->creds, "-") != 0;
    if (creds_known && !all_equal(sums, n, 0, creds_of) && nd < max) {
        out[nd] = (pop3diff_disagreement){.field = POP3DIFF_CREDS, .op = 0};
        group(names, sums, n, 0, creds_of, &out[nd++]);
    }
    return nd;
}
