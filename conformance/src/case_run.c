/*
 * case_run.c - one case, one client, two deliveries.
 *
 * Every case runs twice: with the mock writing each reply whole, and with the mock
 * writing one octet per write ("!drip 1 0" at the start of every session), so that a
 * client that assumes a reply, a line or the "CRLF.CRLF" terminator arrives in one read
 * (quirk Q5, RFC1939-3.4) fails. The drip directive takes the place of a blank or comment
 * line, so the mock's reports keep the case file's line numbers.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

static bool free_line(const char *l)
{
    while (*l == ' ' || *l == '\t')
        l++;
    return *l == '\0' || *l == '#' || *l == '\r';
}

static bool is_directive(const char *l, const char *d)
{
    while (*l == ' ' || *l == '\t')
        l++;
    size_t n = strlen(d);
    if (strncmp(l, d, n) != 0) return false;
    l += n;
    while (*l == ' ' || *l == '\t' || *l == '\r')
        l++;
    return *l == '\0';
}

/*
 * The dripping variant of a dialogue. At the start of each session the prefix lines
 * ("!session", then "!implicit-tls" if the session begins with one) move up one line into
 * the free line above them, and "!drip 1 0" takes the place of the last of them. Returns
 * NULL when a "!session" has no blank or comment line above it.
 */
static char *dialogue_drip(const char *text, size_t len, size_t *outlen)
{
    strlist lines = {0};
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        strlist_take(&lines, xstrndup(p, n));
        p += n + 1;
    }
    bool ok = true;
    /* The first session starts after the header, whose lines are all comments: the last
     * of them is the free line above the first dialogue line. */
    size_t first = 0;
    while (first < lines.n && free_line(lines.v[first]))
        first++;
    for (size_t i = 0; i < lines.n && ok; i++) {
        bool is_session = is_directive(lines.v[i], "!session");
        if (i != first && !is_session) continue;
        if (i == 0 || !free_line(lines.v[i - 1])) {
            ok = false;
            break;
        }
        /* An "!implicit-tls" must stay the session's first step; TLS settings (they are
         * not steps) may come before it. The drip goes right after it. */
        size_t last = is_session ? i : i - 1; /* the last line that moves up */
        for (size_t j = is_session ? i + 1 : i; j < lines.n; j++) {
            if (is_directive(lines.v[j], "!implicit-tls")) {
                last = j;
                break;
            }
            if (!free_line(lines.v[j]) && strncmp(lines.v[j], "!tls-max", 8) != 0 &&
                strncmp(lines.v[j], "!tls-cert", 9) != 0 &&
                strncmp(lines.v[j], "!secret", 7) != 0 && strncmp(lines.v[j], "!set ", 5) != 0)
                break;
        }
        if (last == i - 1) {
            /* Nothing to move: the drip takes the free line above the session. */
            free(lines.v[i - 1]);
            lines.v[i - 1] = xstrdup("!drip 1 0");
            continue;
        }
        for (size_t k = i; k <= last; k++) {
            free(lines.v[k - 1]);
            lines.v[k - 1] = lines.v[k];
            lines.v[k] = NULL;
        }
        lines.v[last] = xstrdup("!drip 1 0");
        i = last;
    }
    char *out = NULL;
    if (ok) {
        pop3_buf b = {0};
        for (size_t i = 0; i < lines.n; i++) {
            cbuf_puts(&b, lines.v[i]);
            cbuf_putc(&b, '\n');
        }
        if (b.ptr == NULL) cbuf_add(&b, "", 0);
        *outlen = b.len;
        out = cbuf_take(&b);
    }
    strlist_free(&lines);
    return out;
}

/*
 * The mock's --log, made readable: "TIME #CONN S: data" records without their time,
 * consecutive records of one direction joined (a dripped reply is one record per octet)
 * and cut again after each escaped line end.
 */
static void transcript_compact(const char *log, size_t len, pop3_buf *out)
{
    pop3_buf acc = {0};
    char who[64] = "";
    for (const char *p = log, *end = log + len; p <= end;) {
        const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        size_t n = p < end ? (nl != NULL ? (size_t)(nl - p) : (size_t)(end - p)) : 0;
        const char *sp = n > 0 ? memchr(p, ' ', n) : NULL; /* after the time */
        const char *rest = sp != NULL ? sp + 1 : p;
        size_t rn = n - (size_t)(rest - p);
        const char *colon = rn > 0 ? memchr(rest, ':', rn) : NULL;
        bool data = colon != NULL && colon + 1 < rest + rn && colon[1] == ' ' &&
                    memchr(rest, ' ', (size_t)(colon - rest)) != NULL;
        char key[64] = "";
        if (data) snprintf(key, sizeof key, "%.*s", (int)(colon - rest), rest);
        if (p >= end || !data || strcmp(key, who) != 0) {
            /* Flush what was gathered, one line per escaped line end. */
            const char *a = acc.ptr;
            size_t al = acc.len;
            while (al > 0) {
                size_t k = 0;
                while (k + 1 < al && !(a[k] == '\\' && a[k + 1] == 'n'))
                    k++;
                size_t take = k + 1 < al ? k + 2 : al;
                cbuf_printf(out, "%s: %.*s\n", who, (int)take, a);
                a += take;
                al -= take;
            }
            acc.len = 0;
            snprintf(who, sizeof who, "%s", key);
        }
        if (p >= end) break;
        if (data)
            cbuf_add(&acc, colon + 2, (size_t)(rest + rn - (colon + 2)));
        else if (rn > 0)
            cbuf_printf(out, "%.*s\n", (int)rn, rest);
        p += n + 1;
    }
    cbuf_free(&acc);
}

static void indent(pop3_buf *d, const char *text, size_t len, size_t max)
{
    size_t shown = 0;
    for (const char *p = text, *end = text + len; p < end && shown < max;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 300)
            cbuf_printf(d, "    %.300s... (%zu octets)\n", p, n);
        else
            cbuf_printf(d, "    %.*s\n", (int)n, p);
        p += n + 1;
        shown++;
    }
    if (shown >= max) cbuf_puts(d, "    ...\n");
}

void case_run(const conform_case *c, const conform_client *cl, const run_config *cfg,
              case_outcome *out)
{
    memset(out, 0, sizeof *out);
    int64_t t0 = mono_ms();
    out->v = V_PASS;
    for (int variant = 0; variant < 2; variant++) {
        if (variant == 1 && cfg->whole_only) break;
        const char *what = variant == 0 ? "replies written whole" : "one octet per write";
        size_t len = c->dialogue_len;
        char *text = variant == 0 ? xstrndup(c->dialogue, len)
                                  : dialogue_drip(c->dialogue, c->dialogue_len, &len);
        if (text == NULL) {
            out->v = V_FAIL;
            cbuf_printf(
                &out->detail,
                "  case error: every \"!session\" needs a blank or comment line above it\n");
            break;
        }
        char err[1024];
        unsigned idle = (unsigned)(cfg->watchdog_ms / 1000 + 1);
        const tls_cert *cert = tls_fixture_find(cfg->tls, c->tls_cert);
        if (cert == NULL) {
            free(text);
            out->v = V_FAIL;
            cbuf_printf(&out->detail, "  case error: no test certificate \"%s\" (README)\n",
                        c->tls_cert);
            break;
        }
        mock_run *m = mock_start(c->path, text, len, cert, cfg->tls->dir, idle, err, sizeof err);
        free(text);
        if (m == NULL) {
            out->v = V_FAIL;
            cbuf_printf(&out->detail, "  case error: %s\n", err);
            break;
        }
        client_env env = {.host = "127.0.0.1",
                          .port = mock_port(m),
                          .ca_file = cert->cert,
                          .other_ca_file = cfg->tls->other,
                          .timeout_ms = cfg->timeout_ms};
        client_output o;
        if (cl->command != NULL)
            client_adapter_run(c, cl, &env, cfg, &o);
        else
            client_ref_run(c, &env, &o);
        mock_report rep;
        mock_finish(m, 5000, &rep);
        if (o.na != NULL) {
            out->v = V_NA;
            cbuf_printf(&out->detail, "  n/a: %s\n", o.na);
            client_output_free(&o);
            mock_report_free(&rep);
            break;
        }
        pop3_buf diff = {0};
        bool ok = results_match(c, &o, &diff);
        if (!ok || !rep.passed || cfg->verbose) {
            if (!ok || !rep.passed) out->v = V_FAIL;
            cbuf_printf(&out->detail, "  [%s]\n", what);
            if (!ok) {
                cbuf_puts(&out->detail, "  client results (- expected, + received):\n");
                cbuf_add(&out->detail, diff.ptr, diff.len);
            }
            if (!rep.passed) {
                cbuf_puts(&out->detail, "  the mock (what the client sent):\n");
                indent(&out->detail, rep.text.ptr ? rep.text.ptr : "", rep.text.len, 200);
            }
            if (rep.passed && rep.transcript.len > 0) {
                pop3_buf t = {0};
                transcript_compact(rep.transcript.ptr, rep.transcript.len, &t);
                cbuf_puts(&out->detail, "  transcript:\n");
                indent(&out->detail, t.ptr != NULL ? t.ptr : "", t.len, 150);
                cbuf_free(&t);
            }
            if (o.log.len > 0) {
                cbuf_puts(&out->detail, "  client's own output:\n");
                indent(&out->detail, o.log.ptr, o.log.len, 60);
            }
        }
        cbuf_free(&diff);
        client_output_free(&o);
        mock_report_free(&rep);
    }
    out->ms = mono_ms() - t0;
}
