/*
 * probe_wire.c - the probe's raw POP3 session over pop3/transport.h (TCP, implicit TLS,
 * STLS): lines are read as octets, never through the client's tolerant decoder, so that
 * a bare LF (Q6), a NUL in a status line (Q48), a body ending in ".\r" (Q2), a "."
 * glued to the last line (Q1) or octets nobody asked for are seen as such.
 *
 * RFC 1939 section 3 (status lines, multi-line replies and their "." terminator). What a
 * status line says (+OK, -ERR, a continuation, its response code) is the codec's reading
 * (pop3_parse_status), not the probe's own.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/error.h"
#include "probe.h"

int probe_conn_open(probe_conn *c, const probe_config *cfg, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    int rc = cfg->tls ? pop3_transport_tls_connect(&c->t, cfg->host, cfg->port, cfg->timeout_ms,
                                                   &cfg->tlsopt, err, errlen)
                      : pop3_transport_tcp_connect(&c->t, cfg->host, cfg->port, cfg->timeout_ms,
                                                   err, errlen);
    if (rc != POP3_OK) {
        c->t = NULL;
        c->status = rc;
        return rc;
    }
    c->tls = cfg->tls;
    return POP3_OK;
}

void probe_conn_close(probe_conn *c)
{
    if (c->t != NULL) c->t->ops->close(c->t);
    c->t = NULL;
    cbuf_free(&c->in);
    c->pos = 0;
}

int probe_send_raw(probe_conn *c, const char *data, size_t len)
{
    if (c->t == NULL) return c->status != POP3_OK ? c->status : POP3_ESTATE;
    int rc = c->t->ops->write(c->t, data, len, c->cfg->timeout_ms);
    if (rc != POP3_OK) {
        c->status = rc;
        snprintf(c->error, sizeof c->error, "%s", c->t->error);
    }
    return rc;
}

int probe_send(probe_conn *c, const char *line)
{
    pop3_buf b = {0};
    cbuf_puts(&b, line);
    cbuf_puts(&b, "\r\n");
    int rc = probe_send_raw(c, b.ptr, b.len);
    cbuf_free(&b);
    return rc;
}

/* More octets into c->in, waiting up to `timeout_ms`. */
static int fill(probe_conn *c, int timeout_ms)
{
    if (c->t == NULL) return c->status != POP3_OK ? c->status : POP3_ECLOSED;
    if (c->pos > 0 && c->pos == c->in.len) {
        c->in.len = 0;
        c->pos = 0;
    }
    char buf[16384];
    size_t got = 0;
    int rc = c->t->ops->read(c->t, buf, sizeof buf, &got, timeout_ms);
    if (rc != POP3_OK) {
        if (rc != POP3_ETIMEOUT) {
            c->status = rc;
            snprintf(c->error, sizeof c->error, "%s", c->t->error);
        }
        return rc;
    }
    c->reads++;
    cbuf_add(&c->in, buf, got);
    return POP3_OK;
}

int probe_read_line(probe_conn *c, probe_line *l, int timeout_ms)
{
    memset(l, 0, sizeof *l);
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        const char *start = c->in.ptr != NULL ? c->in.ptr + c->pos : NULL;
        size_t avail = c->in.len - c->pos;
        const char *nl = avail > 0 ? memchr(start, '\n', avail) : NULL;
        if (nl != NULL) {
            size_t n = (size_t)(nl - start);
            l->bare_lf = n == 0 || start[n - 1] != '\r';
            size_t keep = l->bare_lf ? n : n - 1;
            l->p = xstrndup(start, keep);
            l->n = keep;
            l->has_nul = memchr(start, '\0', keep) != NULL;
            c->pos += n + 1;
            return POP3_OK;
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0) return POP3_ETIMEOUT;
        int rc = fill(c, (int)left);
        if (rc != POP3_OK) {
            /* What came before the end, for the caller to diagnose (Q1, Q2). */
            l->p = xstrndup(start != NULL ? start : "", avail);
            l->n = avail;
            c->pos += avail;
            return rc;
        }
    }
}

void probe_line_free(probe_line *l)
{
    free(l->p);
    memset(l, 0, sizeof *l);
}

void probe_reply_free(probe_reply *r)
{
    probe_line_free(&r->status_line);
    for (size_t i = 0; i < r->nlines; i++)
        probe_line_free(&r->lines[i]);
    free(r->lines);
    memset(r, 0, sizeof *r);
}

/*
 * The status line as the codec reads it, strictly (POP3_TOL_STRICT): "+ok", "+OKAY" and
 * "+ERR" are neither +OK nor -ERR, which is what the probe reports. A "+ " line is read as
 * a continuation wherever it comes, so that a SASL exchange nobody asked for is seen. The
 * codec refuses a line with a NUL octet outright (Q48); the probe reports the NUL on its
 * own (check_line_forms) and still wants to know the status before it, so only the octets
 * up to the NUL are classified; the text still runs to the end of the line, NUL included,
 * so that "+OK 2 320<NUL>" is no well-formed STAT reply. A "+ERR" (Q40) is no status line
 * to the codec, but carries its response code where -ERR would.
 */
static void classify(probe_reply *r)
{
    const probe_line *s = &r->status_line;
    const char *nul = memchr(s->p, '\0', s->n);
    size_t n = nul != NULL ? (size_t)(nul - s->p) : s->n;
    unsigned quirks = 0;
    const char *why = NULL;
    if (pop3_parse_status(s->p, n, POP3_EXPECT_SASL, POP3_TOL_STRICT, &r->st, &quirks, &why) ==
        POP3_OK) {
        r->ok = r->st.kind == POP3_STATUS_OK;
        r->err = r->st.kind == POP3_STATUS_ERR;
        r->cont = r->st.kind == POP3_STATUS_CONTINUE;
        r->st.text.len = (size_t)(s->p + s->n - r->st.text.ptr);
        r->st.line.len = s->n;
    } else {
        memset(&r->st, 0, sizeof r->st);
    }
    r->plus_err = (quirks & POP3_SEEN_PLUS_ERR) != 0;
    if (r->plus_err && s->n > 5 && (s->p[4] == ' ' || s->p[4] == '\t'))
        pop3_parse_resp_code(s->p + 5, s->n - 5, &r->st.code, &r->st.code_text);
}

void probe_read_reply(probe_conn *c, probe_reply *r, bool multi, int timeout_ms)
{
    memset(r, 0, sizeof *r);
    r->status = probe_read_line(c, &r->status_line, timeout_ms);
    if (r->status != POP3_OK) return;
    r->bare_lf = r->status_line.bare_lf;
    classify(r);
    if (!multi || !r->ok) return;
    size_t cap = 0;
    for (;;) {
        probe_line l;
        int rc = probe_read_line(c, &l, timeout_ms);
        if (rc != POP3_OK) {
            /* Q2: the body ended ".\r" and the stream closed. */
            if (l.n == 2 && l.p[0] == '.' && l.p[1] == '\r' && rc == POP3_ECLOSED)
                r->dot_cr_eof = true;
            else if (l.n > 0) {
                r->lines = xarray_grow(r->lines, &cap, r->nlines + 1, sizeof *r->lines);
                r->lines[r->nlines++] = l;
                l.p = NULL;
            }
            probe_line_free(&l);
            r->status = rc;
            return;
        }
        if (l.bare_lf) r->bare_lf = true;
        if (l.n == 1 && l.p[0] == '.') {
            probe_line_free(&l);
            r->terminated = true;
            return;
        }
        r->lines = xarray_grow(r->lines, &cap, r->nlines + 1, sizeof *r->lines);
        r->lines[r->nlines++] = l;
    }
}

size_t probe_unsolicited(probe_conn *c, int ms)
{
    size_t before = c->in.len - c->pos;
    if (before > 0) return before;
    if (fill(c, ms) != POP3_OK) return 0;
    return c->in.len - c->pos;
}

int probe_starttls(probe_conn *c)
{
    if (c->t == NULL) return POP3_ESTATE;
    int rc = c->t->ops->starttls(c->t, &c->cfg->tlsopt, c->cfg->timeout_ms);
    if (rc != POP3_OK) {
        c->status = rc;
        snprintf(c->error, sizeof c->error, "%s", c->t->error);
        return rc;
    }
    c->tls = true;
    return POP3_OK;
}
