/*
 * client_session.c - the client handle: options, connect (plain, implicit TLS, a given
 * transport), the greeting, close, errors kept on the handle, and its accessors.
 *
 * RFC 1939 section 4 (the greeting opens the AUTHORIZATION state; a -ERR greeting ends
 * the session), RFC 8314 section 3.1 (implicit TLS on 995). poplib's POP3() refuses a
 * timeout of 0 ("non-blocking socket is not supported") and so do we: a call that could
 * not wait at all would fail at random.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

void pop3_options_default(pop3_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->connect_timeout_ms = POP3_DEFAULT_CONNECT_TIMEOUT_MS;
    opt->timeout_ms = POP3_DEFAULT_TIMEOUT_MS;
    opt->max_line = 2048;
    opt->max_sasl_line = 1048576;
    opt->max_listing = 1000000;
    opt->max_capa = 256;
    opt->max_buffered = (size_t)64 << 20;
    opt->tolerances = POP3_TOL_DEFAULT;
    opt->pipelining = POP3_PIPELINING_AUTO;
    opt->pipeline_window = 32;
    opt->pipeline_max_bytes = 4096;
    opt->require_tls = false;
    opt->allow_apop = false;
    opt->sasl_ir = true;
}

static int check_options(const pop3_options *o)
{
    if (o->connect_timeout_ms == 0 || o->timeout_ms == 0 || o->connect_timeout_ms < -1 ||
        o->timeout_ms < -1)
        return POP3_EUSAGE;
    if (o->max_line < 8 || o->max_sasl_line < o->max_line || o->max_listing == 0 ||
        o->max_capa == 0 || o->pipeline_window == 0 || o->pipeline_max_bytes < POP3_COMMAND_MAX)
        return POP3_EUSAGE;
    if ((unsigned)o->pipelining > POP3_PIPELINING_ON) return POP3_EUSAGE;
    return POP3_OK;
}

static int init_decoder(pop3_decoder *d, const pop3_options *o, size_t max_line)
{
    pop3_decoder_options dopt;
    pop3_decoder_options_default(&dopt);
    dopt.max_line = max_line;
    dopt.max_listing_lines = o->max_listing;
    dopt.tolerances = o->tolerances;
    return pop3_decoder_init(d, &dopt);
}

int pop3_client_new(pop3_client **out, const pop3_options *opt)
{
    *out = NULL;
    pop3_options o;
    if (opt)
        o = *opt;
    else
        pop3_options_default(&o);
    if (check_options(&o) != POP3_OK) return POP3_EUSAGE;
    pop3_client *c = calloc(1, sizeof *c);
    if (c == NULL) return POP3_ENOMEM;
    c->opt = o;
    c->debug_fp = stderr;
    pop3_capa_init(&c->capa);
    c->capa.max_caps = o.max_capa;
    c->rbuf = malloc(POP3__READ_SIZE);
    c->resp_cap = o.max_line + 1;
    c->resp = calloc(1, c->resp_cap);
    if (c->rbuf == NULL || c->resp == NULL ||
        init_decoder(&c->status_dec, &o, o.max_line) != POP3_OK) {
        pop3_client_free(c);
        return POP3_ENOMEM;
    }
    c->dec = &c->status_dec;
    *out = c;
    return POP3_OK;
}

void pop3__disconnect(pop3_client *c)
{
    if (c->t) c->t->ops->close(c->t);
    c->t = NULL;
    c->rpos = c->rlen = 0;
    c->wlen = 0;
    c->authenticated = false;
}

void pop3_close(pop3_client *c)
{
    if (c == NULL) return;
    pop3__disconnect(c);
}

void pop3_client_free(pop3_client *c)
{
    if (c == NULL) return;
    pop3__disconnect(c);
    pop3_decoder_free(&c->status_dec);
    if (c->sasl_dec_ready) pop3_decoder_free(&c->sasl_dec);
    pop3_capa_free(&c->capa);
    free(c->rbuf);
    free(c->wbuf);
    free(c->welcome);
    free(c->resp);
    free(c->uid);
    free(c->host);
    free(c);
}

/* Errors
 * ------ */

int pop3__ok(pop3_client *c)
{
    c->err = POP3_OK;
    c->errmsg[0] = '\0';
    return POP3_OK;
}

/*
 * Control octets of `s` as "\xNN", cut to fit `cap`. An error message quotes what the
 * server said, and it is printed on terminals: a hostile server must not be able to
 * drive one (escape sequences) or forge lines (CR, LF) through it.
 */
static void escape_controls(char *s, size_t cap)
{
    char out[POP3__ERRMSG_SIZE];
    size_t o = 0;
    if (cap > sizeof out) cap = sizeof out;
    for (const char *p = s; *p != '\0' && o + 1 < cap; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch != 0x7f) {
            out[o++] = (char)ch;
        } else if (o + 5 < cap) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        } else {
            break;
        }
    }
    out[o] = '\0';
    memcpy(s, out, o + 1);
}

static void record(pop3_client *c, int err, const char *fmt, va_list ap)
{
    c->err = err;
    vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
    escape_controls(c->errmsg, sizeof c->errmsg);
    pop3__trace(c, 1, "*error* %s: %s", pop3_errname(err), c->errmsg);
}

int pop3__fail(pop3_client *c, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(c, err, fmt, ap);
    va_end(ap);
    return err;
}

int pop3__fatal(pop3_client *c, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(c, err, fmt, ap);
    va_end(ap);
    pop3__disconnect(c);
    return err;
}

int pop3__need_connection(pop3_client *c)
{
    if (c->t) return POP3_OK;
    return pop3__fail(c, POP3_ESTATE, "not connected");
}

/* Connecting
 * ---------- */

/* poplib: POP3(host, port, timeout) with timeout 0 raises ValueError. */
static int apply_timeout(pop3_client *c, double timeout)
{
    if (timeout != timeout) return pop3__fail(c, POP3_EUSAGE, "timeout is not a number");
    if (timeout < 0) return POP3_OK;
    if (timeout == 0)
        return pop3__fail(c, POP3_EUSAGE, "Non-blocking socket (timeout=0) is not supported");
    /* Rounded up, so that a tiny timeout does not become 0 (no wait at all). */
    double ms = timeout * 1000.0;
    int v = ms >= 2147483647.0 ? 2147483647 : (int)ms;
    if ((double)v < ms && v < 2147483647) v++;
    c->opt.timeout_ms = v;
    c->opt.connect_timeout_ms = v;
    return POP3_OK;
}

/* Read the greeting (RFC 1939 section 4). Non-status lines before it are skipped
 * within the decoder's bound (Q35). */
static int greet(pop3_client *c)
{
    snprintf(c->cmdname, sizeof c->cmdname, "greeting");
    int rc = pop3__expect(c, POP3_EXPECT_GREETING, false);
    if (rc != POP3_OK) return rc;
    pop3_status_line st;
    rc = pop3__read_status(c, &st);
    if (rc == POP3_ESERVER) {
        /* The session cannot start; poplib raises and leaves the socket to the GC. */
        pop3__disconnect(c);
        return rc;
    }
    if (rc != POP3_OK) return rc;
    free(c->welcome);
    c->welcome = strdup(c->resp);
    if (c->welcome == NULL) return pop3__fatal(c, POP3_ENOMEM, "out of memory");
    return pop3__ok(c);
}

int pop3_connect_transport(pop3_client *c, pop3_transport *t, const char *host, unsigned port)
{
    if (c->t) {
        t->ops->close(t);
        return pop3__fail(c, POP3_ESTATE, "already connected; close first");
    }
    /* A decoder left in error by the previous session starts afresh. */
    pop3_decoder_free(&c->status_dec);
    if (init_decoder(&c->status_dec, &c->opt, c->opt.max_line) != POP3_OK) {
        t->ops->close(t);
        return pop3__fail(c, POP3_ENOMEM, "out of memory");
    }
    if (c->sasl_dec_ready) {
        pop3_decoder_free(&c->sasl_dec);
        c->sasl_dec_ready = false;
    }
    c->dec = &c->status_dec;
    c->t = t;
    c->rpos = c->rlen = c->wlen = 0;
    c->authenticated = false;
    c->capa_known = c->capa_after_auth = c->capa_tried = c->utf8_mode = false;
    pop3_capa_clear(&c->capa);
    c->resp[0] = '\0';
    c->code = POP3_CODE_NONE;
    c->code_text[0] = '\0';
    c->quirks = 0;
    free(c->welcome);
    c->welcome = NULL;
    char *h = host ? strdup(host) : NULL;
    free(c->host);
    c->host = h;
    c->port = port;
    /* Implicit TLS (RFC 8314 section 3.1): the handshake is already done. */
    if (t->ops->is_tls(t)) pop3__trace_tls(c);
    return greet(c);
}

int pop3_connect(pop3_client *c, const char *host, unsigned port, double timeout)
{
    if (c->t) return pop3__fail(c, POP3_ESTATE, "already connected; close first");
    int rc = apply_timeout(c, timeout);
    if (rc != POP3_OK) return rc;
    if (port == 0) port = POP3_PORT;
    pop3_transport *t = NULL;
    char err[POP3_TRANSPORT_ERROR_SIZE];
    pop3__trace(c, 1, "*connect* %s port %u", host ? host : "(null)", port);
    rc = pop3_transport_tcp_connect(&t, host, port, c->opt.connect_timeout_ms, err, sizeof err);
    if (rc != POP3_OK) return pop3__fail(c, rc, "%s", err);
    return pop3_connect_transport(c, t, host, port);
}

int pop3_connect_tls(pop3_client *c, const char *host, unsigned port, double timeout,
                     const pop3_tls_options *tls)
{
    if (c->t) return pop3__fail(c, POP3_ESTATE, "already connected; close first");
    int rc = apply_timeout(c, timeout);
    if (rc != POP3_OK) return rc;
    if (port == 0) port = POP3_TLS_PORT;
    pop3_transport *t = NULL;
    char err[POP3_TRANSPORT_ERROR_SIZE];
    pop3__trace(c, 1, "*connect* %s port %u (TLS)", host ? host : "(null)", port);
    rc =
        pop3_transport_tls_connect(&t, host, port, c->opt.connect_timeout_ms, tls, err, sizeof err);
    if (rc != POP3_OK) return pop3__fail(c, rc, "%s", err);
    return pop3_connect_transport(c, t, host, port);
}

/* Accessors
 * --------- */

const char *pop3_getwelcome(const pop3_client *c)
{
    return c->welcome ? c->welcome : "";
}

int pop3_last_error(const pop3_client *c)
{
    return c->err;
}

const char *pop3_errmsg(const pop3_client *c)
{
    return c->errmsg;
}

const char *pop3_response(const pop3_client *c)
{
    return c->resp;
}

pop3_resp_code pop3_response_code(const pop3_client *c)
{
    return c->code;
}

const char *pop3_response_code_text(const pop3_client *c)
{
    return c->code_text;
}

unsigned pop3_quirks(const pop3_client *c)
{
    return c->quirks;
}

bool pop3_is_connected(const pop3_client *c)
{
    return c->t != NULL;
}

bool pop3_is_tls(const pop3_client *c)
{
    return c->t != NULL && c->t->ops->is_tls(c->t);
}

bool pop3_is_authenticated(const pop3_client *c)
{
    return c->t != NULL && c->authenticated;
}

const pop3_capa_set *pop3_capabilities(const pop3_client *c)
{
    return c->capa_known ? &c->capa : NULL;
}
