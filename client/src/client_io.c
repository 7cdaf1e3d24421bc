/*
 * client_io.c - the client's request/response engine: command lines out, decoder
 * events in.
 *
 * RFC 1939 section 3: a command is one line (built and checked by pop3_encode_command,
 * so CR, LF, NUL and other control octets in an argument never reach the wire, Q42); a
 * reply is a status line, maybe followed by a body, framed by the sans-I/O decoder of
 * pop3/wire.h. RFC 2449 section 6.6: commands may be queued and written together; the
 * queue is flushed before every wait for input, so the server always holds every
 * command whose reply we wait for, and replies are read strictly in order.
 * RFC8314-5.2b / RFC2595-2.2: with require_tls only CAPA, STLS and QUIT leave in clear.
 * RFC2595-4.8 in general form: without pipelining a server speaks only when spoken to,
 * so octets waiting in our buffer when we are about to send are unsolicited, and the
 * session ends (a desynchronised session would pair replies with the wrong commands,
 * Q18).
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_internal.h"
#include "pop3/buf.h"

void pop3__u64(char *buf, size_t cap, uint64_t v)
{
    snprintf(buf, cap, "%" PRIu64, v);
}

bool pop3__allowed_in_clear(const char *keyword)
{
    return strcasecmp(keyword, "CAPA") == 0 || strcasecmp(keyword, "STLS") == 0 ||
           strcasecmp(keyword, "QUIT") == 0;
}

static int wbuf_reserve(pop3_client *c, size_t more)
{
    if (more > SIZE_MAX - c->wlen) return POP3_ELIMIT;
    int rc = POP3_OK;
    char *p = pop3_array_grow(c->wbuf, &c->wcap, c->wlen + more, 1, 512, 0, &rc);
    if (p == NULL) return rc;
    c->wbuf = p;
    return POP3_OK;
}

int pop3__flush(pop3_client *c)
{
    if (c->wlen == 0) return POP3_OK;
    if (c->t == NULL) return pop3__fail(c, POP3_ESTATE, "not connected");
    /* A transport of the caller's may answer anything: keep to the error space. */
    int rc = pop3__callback_error(c->t->ops->write(c->t, c->wbuf, c->wlen, c->opt.timeout_ms));
    c->wlen = 0;
    if (rc != POP3_OK) return pop3__fatal(c, rc, "%s: %s", c->cmdname, c->t->error);
    return POP3_OK;
}

int pop3__check_unsolicited(pop3_client *c, const char *what)
{
    if (c->rpos >= c->rlen) return POP3_OK;
    pop3_event ev;
    size_t left = c->rlen - c->rpos;
    (void)pop3_decode(c->dec, c->rbuf + c->rpos, left, &ev);
    /* An idle decoder consumes nothing and says IDLE: the octets belong to no reply. */
    pop3__trace_line(c, 2, "*unsolicited*", c->rbuf + c->rpos, left);
    return pop3__fatal(c, POP3_EPROTO, "%s: the server sent %zu octets nobody asked for (%s)",
                       c->cmdname, left, what);
}

void pop3_set_putline(pop3_client *c, pop3_putline_fn fn, void *ud)
{
    c->putline = fn;
    c->putline_ud = ud;
}

int pop3__callback_error(int r)
{
    switch (r) {
#define POP3__KNOWN(name, value, message) case (value):
        POP3_ERROR_LIST(POP3__KNOWN)
#undef POP3__KNOWN
        return r;
    }
    return POP3_EUSAGE;
}

/* Append a built line to the queue, with the putline hook and the traces. */
static int queue_line(pop3_client *c, const char *line, size_t len, const char *shown,
                      unsigned flags)
{
    if (c->putline) {
        int veto = c->putline(c->putline_ud, line, len);
        if (veto != POP3_OK)
            return pop3__fail(c, pop3__callback_error(veto),
                              "%s: line not sent, refused by the putline hook", c->cmdname);
    }
    pop3__trace(c, 1, "*cmd* %s", shown);
    pop3__trace(c, 2, "*put* %s\\r\\n", shown);
    int grown = wbuf_reserve(c, len);
    if (grown != POP3_OK)
        return pop3__fail(c, grown, "%s: no room to queue the command: %s", c->cmdname,
                          pop3_strerror(grown));
    memcpy(c->wbuf + c->wlen, line, len);
    c->wlen += len;
    if (flags & POP3__SEND_QUEUE) return POP3_OK;
    return pop3__flush(c);
}

int pop3__send(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
               unsigned flags, size_t *line_len)
{
    int rc = pop3__need_connection(c);
    if (rc != POP3_OK) return rc;
    snprintf(c->cmdname, sizeof c->cmdname, "%s", keyword ? keyword : "(null)");
    if (c->opt.require_tls && !c->t->ops->is_tls(c->t) && keyword &&
        !pop3__allowed_in_clear(keyword))
        return pop3__fail(c, POP3_ETLS,
                          "%s not sent: TLS is required (require_tls) and the session is not "
                          "encrypted (RFC 8314 section 5.2)",
                          c->cmdname);
    char line[POP3_COMMAND_MAX];
    size_t len = 0;
    const char *why = NULL;
    rc = pop3_encode_command(line, sizeof line, &len, POP3_COMMAND_MAX, keyword, args, nargs, &why);
    if (rc != POP3_OK) return pop3__fail(c, rc, "%s not sent: %s", c->cmdname, why);
    if (!(flags & POP3__SEND_QUEUE) && pop3_decoder_idle(c->dec)) {
        rc = pop3__check_unsolicited(c, "before sending the next command");
        if (rc != POP3_OK) return rc;
    }

    /* Secrets are masked by keyword too, so pop3_command("PASS", ...) is traced safely. */
    if (nargs > 0 && (strcasecmp(keyword, "PASS") == 0 || strcasecmp(keyword, "APOP") == 0 ||
                      (strcasecmp(keyword, "AUTH") == 0 && nargs > 1)))
        flags |= POP3__SEND_MASK_LAST;
    /* The trace shows the line without its CRLF, the last argument masked on demand. */
    char shown[POP3_COMMAND_MAX + 8];
    if ((flags & POP3__SEND_MASK_LAST) && nargs > 0) {
        size_t keep = len - 2 - strlen(args[nargs - 1]);
        snprintf(shown, sizeof shown, "%.*s****", (int)keep, line);
    } else {
        snprintf(shown, sizeof shown, "%.*s", (int)(len - 2), line);
    }
    /* A new command: the previous reply no longer describes the session. */
    c->resp[0] = '\0';
    c->code = POP3_CODE_NONE;
    c->code_text[0] = '\0';
    if (line_len) *line_len = len;
    return queue_line(c, line, len, shown, flags);
}

int pop3__send_sasl_line(pop3_client *c, const char *text, size_t len)
{
    int rc = pop3__need_connection(c);
    if (rc != POP3_OK) return rc;
    if (pop3_decoder_idle(c->dec)) {
        rc = pop3__check_unsolicited(c, "before a SASL response");
        if (rc != POP3_OK) return rc;
    }
    if (len > SIZE_MAX - 2) return pop3__fail(c, POP3_ELIMIT, "SASL response too long");
    char *line = malloc(len + 2);
    if (line == NULL) return pop3__fail(c, POP3_ENOMEM, "out of memory");
    size_t n = 0;
    const char *why = NULL;
    rc = pop3_encode_line(line, len + 2, &n, text, len, &why);
    if (rc == POP3_OK) {
        bool cancel = len == 1 && text[0] == '*';
        rc = queue_line(c, line, n, cancel ? "*" : len == 0 ? "" : "****", 0);
    } else {
        rc = pop3__fail(c, rc, "%s: SASL response not sent: %s", c->cmdname, why);
    }
    free(line);
    return rc;
}

int pop3__expect(pop3_client *c, pop3_expect what, bool sasl)
{
    if (sasl && !c->sasl_dec_ready) {
        pop3_decoder_options dopt;
        pop3_decoder_options_default(&dopt);
        dopt.max_line = c->opt.max_sasl_line;
        dopt.max_listing_lines = c->opt.max_listing;
        dopt.tolerances = c->opt.tolerances;
        if (pop3_decoder_init(&c->sasl_dec, &dopt) != POP3_OK) {
            pop3_decoder_free(&c->sasl_dec);
            return pop3__fail(c, POP3_ENOMEM, "out of memory");
        }
        c->sasl_dec_ready = true;
    }
    c->dec = sasl ? &c->sasl_dec : &c->status_dec;
    int rc = pop3_decoder_expect(c->dec, what);
    if (rc != POP3_OK)
        return pop3__fatal(c, rc == POP3_ESTATE ? POP3_EPROTO : rc,
                           "%s: the previous reply is incomplete", c->cmdname);
    return POP3_OK;
}

int pop3__next_event(pop3_client *c, pop3_event *ev)
{
    for (;;) {
        if (c->t == NULL) return pop3__fail(c, POP3_ESTATE, "not connected");
        if (c->rpos < c->rlen) {
            size_t used = pop3_decode(c->dec, c->rbuf + c->rpos, c->rlen - c->rpos, ev);
            c->rpos += used;
            if (ev->kind == POP3_EV_NEED_MORE) continue;
            if (ev->kind == POP3_EV_ERROR)
                return pop3__fatal(c, ev->error, "%s: %s", c->cmdname, ev->message);
            c->quirks |= ev->quirks;
            return POP3_OK;
        }
        if (pop3_decoder_idle(c->dec)) {
            memset(ev, 0, sizeof *ev);
            ev->kind = POP3_EV_IDLE;
            return POP3_OK;
        }
        int rc = pop3__flush(c);
        if (rc != POP3_OK) return rc;
        size_t got = 0;
        c->rpos = c->rlen = 0;
        rc = pop3__callback_error(
            c->t->ops->read(c->t, c->rbuf, POP3__READ_SIZE, &got, c->opt.timeout_ms));
        /* A transport of the caller's that reads nothing would make this loop spin. */
        if (rc == POP3_OK && got == 0) rc = POP3_ECLOSED;
        if (rc == POP3_ECLOSED) {
            /* The end of the stream may complete a reply (".\r" then close, Q2). */
            pop3_decode_eof(c->dec, ev);
            if (ev->kind == POP3_EV_END) {
                c->quirks |= ev->quirks;
                return POP3_OK;
            }
            return pop3__fatal(c, POP3_ECLOSED, "%s: %s", c->cmdname,
                               ev->kind == POP3_EV_ERROR ? ev->message : "connection closed");
        }
        if (rc != POP3_OK) return pop3__fatal(c, rc, "%s: %s", c->cmdname, c->t->error);
        c->rlen = got;
    }
}

void pop3__set_response(pop3_client *c, const pop3_status_line *st)
{
    size_t n = st->line.len;
    int rc = POP3_OK;
    char *p = pop3_array_grow(c->resp, &c->resp_cap, n + 1, 1, 1, 0, &rc);
    if (p != NULL)
        c->resp = p;
    else
        n = c->resp_cap - 1; /* keep what fits: the reply is handled, only its copy is short */
    memcpy(c->resp, st->line.ptr, n);
    c->resp[n] = '\0';
    c->code = st->code;
    size_t cl =
        st->code_text.len < sizeof c->code_text - 1 ? st->code_text.len : sizeof c->code_text - 1;
    memcpy(c->code_text, st->code_text.ptr, cl);
    c->code_text[cl] = '\0';
}

/* Re-point a view from the decoder's line to the same place in our copy. */
static pop3_view rebase(pop3_view v, const pop3_status_line *st, const char *copy, size_t n)
{
    size_t off = (size_t)(v.ptr - st->line.ptr);
    if (off > n) off = n;
    if (v.len > n - off) v.len = n - off;
    v.ptr = copy + off;
    return v;
}

int pop3__read_status(pop3_client *c, pop3_status_line *st)
{
    for (;;) {
        pop3_event ev;
        int rc = pop3__next_event(c, &ev);
        if (rc != POP3_OK) return rc;
        if (ev.kind == POP3_EV_BANNER) {
            pop3__trace_line(c, 2, "*banner*", ev.line.ptr, ev.line.len);
            continue;
        }
        if (ev.kind != POP3_EV_STATUS)
            return pop3__fatal(c, POP3_EPROTO, "%s: no reply where one was expected", c->cmdname);
        pop3__set_response(c, &ev.status);
        pop3__trace_line(c, 2, "*resp*", ev.status.line.ptr, ev.status.line.len);
        *st = ev.status;
        size_t n = strlen(c->resp);
        st->text = rebase(st->text, &ev.status, c->resp, n);
        st->code_text = rebase(st->code_text, &ev.status, c->resp, n);
        st->line = (pop3_view){c->resp, n};
        switch (st->kind) {
        case POP3_STATUS_OK: return POP3_OK;
        case POP3_STATUS_CONTINUE: return POP3_SASL_WAIT;
        default: return pop3__fail(c, POP3_ESERVER, "%s: %s", c->cmdname, c->resp);
        }
    }
}

int pop3__read_body(pop3_client *c, pop3_sink_fn sink, void *ud)
{
    int sink_err = POP3_OK;
    uint64_t octets = 0;
    for (;;) {
        pop3_event ev;
        int rc = pop3__next_event(c, &ev);
        if (rc != POP3_OK) return rc;
        if (ev.kind == POP3_EV_DATA) {
            octets += ev.data.len;
            if (sink && sink_err == POP3_OK) {
                int r = sink(ud, ev.data.ptr, ev.data.len);
                if (r != POP3_OK) sink_err = pop3__callback_error(r);
            }
        } else if (ev.kind == POP3_EV_END) {
            pop3__trace(c, 2, "*body* %" PRIu64 " octets", octets);
            break;
        } else {
            return pop3__fatal(c, POP3_EPROTO, "%s: unexpected event in a body", c->cmdname);
        }
    }
    if (sink_err != POP3_OK)
        return pop3__fail(c, sink_err,
                          "%s: the sink stopped the transfer (%s); the rest of the body was "
                          "read and dropped",
                          c->cmdname, pop3_errname(sink_err));
    return POP3_OK;
}

int pop3__simple(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
                 unsigned flags, pop3_status_line *out)
{
    int rc = pop3__send(c, keyword, args, nargs, flags, NULL);
    if (rc != POP3_OK) return rc;
    rc = pop3__expect(c, POP3_EXPECT_SINGLE, false);
    if (rc != POP3_OK) return rc;
    pop3_status_line st;
    rc = pop3__read_status(c, &st);
    if (rc == POP3_SASL_WAIT) /* cannot happen: "+ " is not a continuation here */
        return pop3__fatal(c, POP3_EPROTO, "%s: unexpected SASL continuation", c->cmdname);
    if (out) *out = st;
    return rc == POP3_OK ? pop3__ok(c) : rc;
}
