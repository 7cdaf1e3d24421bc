/*
 * decoder.c - the streaming response decoder of pop3/wire.h.
 *
 * RFC 1939 section 3: responses are a status line, and for multi-line responses a body
 * of lines ended by a line holding a single "." (the termination octet); body lines
 * that start with "." carry an extra "." (byte-stuffing) that the client removes.
 * RFC 2449 section 4 bounds the first line of a response (512 octets; we default to
 * poplib's 2048); body lines are unbounded and therefore streamed, never buffered.
 *
 * The state machine works on octets but scans bodies for the line ends that need a
 * decision (a bare LF, a next line starting with "."), linescan.c, so an ordinary line
 * costs no call of its own. Body chunks are views into the caller's input: a chunk
 * ends where input ends, where a stuffed "." must be skipped, or at the terminator.
 * Whatever the chunking, the concatenated chunks are the same.
 */
#include <stdlib.h>
#include <string.h>

#include "linescan.h"
#include "pop3/error.h"
#include "pop3/wire.h"

enum state {
    S_IDLE = 0,   /* no response in progress */
    S_STATUS,     /* reading a status line (or a banner line before the greeting) */
    S_BODY_BOL,   /* body: at the beginning of a line */
    S_BODY_DOT,   /* body: a line started with "." */
    S_BODY_DOTCR, /* body: a line started with ".\r" */
    S_BODY_LINE,  /* body: inside a line */
    S_LIST_LINE,  /* listing body: accumulating one line */
    S_ERROR,      /* sticky error */
};

void pop3_decoder_options_default(pop3_decoder_options *opt)
{
    opt->max_line = 2048;
    opt->max_banner_lines = 16;
    opt->max_listing_lines = 1000000;
    opt->max_body = 0;
    opt->tolerances = POP3_TOL_DEFAULT;
}

int pop3_decoder_init(pop3_decoder *d, const pop3_decoder_options *opt)
{
    memset(d, 0, sizeof *d);
    if (opt)
        d->opt = *opt;
    else
        pop3_decoder_options_default(&d->opt);
    /* "+OK\r\n" is 5 octets; leave room for a short text. */
    if (d->opt.max_line < 8) return POP3_EUSAGE;
    d->buf = malloc(d->opt.max_line);
    if (!d->buf) return POP3_ENOMEM;
    d->state = S_IDLE;
    return POP3_OK;
}

void pop3_decoder_free(pop3_decoder *d)
{
    free(d->buf);
    d->buf = NULL;
    d->state = S_IDLE;
}

bool pop3_decoder_idle(const pop3_decoder *d)
{
    return d->state == S_IDLE;
}

int pop3_decoder_expect(pop3_decoder *d, pop3_expect what)
{
    if (d->state == S_ERROR) return d->error;
    if (d->state != S_IDLE) return POP3_ESTATE;
    d->expect = what;
    d->buf_len = 0;
    d->saw_cr = false;
    d->banners = 0;
    d->lines = 0;
    d->body = 0;
    d->quirks = 0;
    d->tail = 0;
    d->state = what == POP3_EXPECT_NONE ? S_IDLE : S_STATUS;
    return POP3_OK;
}

static size_t fail(pop3_decoder *d, pop3_event *ev, int error, const char *message, size_t used)
{
    d->state = S_ERROR;
    d->error = error;
    d->message = message;
    ev->kind = POP3_EV_ERROR;
    ev->error = error;
    ev->message = message;
    return used;
}

static void finish_response(pop3_decoder *d)
{
    d->state = S_IDLE;
    d->expect = POP3_EXPECT_NONE;
}

/* Remember the last three octets delivered, so an early close can be explained. */
static void note_tail(pop3_decoder *d, const char *p, size_t n)
{
    for (size_t i = n > 3 ? n - 3 : 0; i < n; i++)
        d->tail = ((d->tail << 8) | (unsigned char)p[i]) & 0xFFFFFFu;
}

/* Deliver body octets. decode_body has already kept them within max_body. */
static void emit_data(pop3_decoder *d, pop3_event *ev, const char *p, size_t n)
{
    d->body += n;
    note_tail(d, p, n);
    ev->kind = POP3_EV_DATA;
    ev->data.ptr = p;
    ev->data.len = n;
}

/*
 * Accumulate one line into d->buf. Returns 1 when the line is complete (d->buf holds it
 * without its LF; a CR before the LF is removed and `*bare` says whether it was missing),
 * 0 when more input is needed, -1 when the line outgrew max_line. `*used` counts the
 * octets taken from `in`.
 */
static int take_line(pop3_decoder *d, const char *in, size_t len, size_t *used, bool *bare)
{
    const char *nl = memchr(in, '\n', len);
    size_t n = nl ? (size_t)(nl - in) : len;
    /* The line with its LF must fit in max_line: room for n octets and the LF. */
    if (d->buf_len + n + (nl ? 1 : 0) > d->opt.max_line ||
        (!nl && d->buf_len + n >= d->opt.max_line)) {
        *used = n;
        return -1;
    }
    memcpy(d->buf + d->buf_len, in, n);
    d->buf_len += n;
    if (!nl) {
        *used = n;
        return 0;
    }
    *used = n + 1;
    *bare = !(d->buf_len > 0 && d->buf[d->buf_len - 1] == '\r');
    if (!*bare) d->buf_len--;
    return 1;
}

static size_t on_status_line(pop3_decoder *d, pop3_event *ev, size_t used, bool bare)
{
    unsigned quirks = 0;
    const char *message = NULL;
    if (bare) {
        if (!(d->opt.tolerances & POP3_TOL_BARE_LF))
            return fail(d, ev, POP3_EPROTO, "status line ends in a bare LF, not CRLF (strict mode)",
                        used);
        quirks |= POP3_TOL_BARE_LF;
    }
    size_t len = d->buf_len;
    d->buf_len = 0;
    unsigned line_quirks = 0;
    int rc = pop3_parse_status(d->buf, len, d->expect, d->opt.tolerances, &ev->status, &line_quirks,
                               &message);
    if (rc != POP3_OK && d->expect == POP3_EXPECT_GREETING &&
        (d->opt.tolerances & POP3_TOL_BANNER) && len > 0 && d->buf[0] != '+' && d->buf[0] != '-') {
        /* Q35: servers that print a banner before "+OK"; bounded so a server cannot
         * keep a client reading banners forever. */
        if (d->banners >= d->opt.max_banner_lines)
            return fail(d, ev, POP3_ELIMIT, "too many lines before the greeting", used);
        if (memchr(d->buf, '\0', len))
            return fail(d, ev, POP3_EPROTO, "NUL octet in a line before the greeting", used);
        d->banners++;
        ev->kind = POP3_EV_BANNER;
        ev->line.ptr = d->buf;
        ev->line.len = len;
        ev->quirks = quirks | POP3_TOL_BANNER;
        return used;
    }
    if (rc != POP3_OK) {
        ev->quirks = quirks | line_quirks;
        return fail(d, ev, rc, message, used);
    }
    if (d->expect == POP3_EXPECT_GREETING && ev->status.kind == POP3_STATUS_CONTINUE)
        return fail(d, ev, POP3_EPROTO, "greeting is a SASL continuation", used);
    ev->kind = POP3_EV_STATUS;
    ev->quirks = quirks | line_quirks;
    if (d->banners) ev->quirks |= POP3_TOL_BANNER;
    if (ev->status.kind == POP3_STATUS_OK && d->expect == POP3_EXPECT_MULTI) {
        d->state = S_BODY_BOL;
        d->quirks = ev->quirks;
    } else if (ev->status.kind == POP3_STATUS_OK && d->expect == POP3_EXPECT_LISTING) {
        d->state = S_LIST_LINE;
        d->quirks = ev->quirks;
    } else {
        finish_response(d);
    }
    return used;
}

static size_t on_listing_line(pop3_decoder *d, pop3_event *ev, size_t used, bool bare)
{
    if (bare) {
        if (!(d->opt.tolerances & POP3_TOL_BARE_LF))
            return fail(d, ev, POP3_EPROTO,
                        "listing line ends in a bare LF, not CRLF (strict mode)", used);
        d->quirks |= POP3_TOL_BARE_LF;
    }
    size_t len = d->buf_len;
    d->buf_len = 0;
    if (len == 1 && d->buf[0] == '.') {
        ev->kind = POP3_EV_END;
        ev->quirks = d->quirks;
        finish_response(d);
        return used;
    }
    if (memchr(d->buf, '\0', len))
        return fail(d, ev, POP3_EPROTO, "NUL octet in a listing line (Q48)", used);
    if (++d->lines > d->opt.max_listing_lines)
        return fail(d, ev, POP3_ELIMIT, "too many lines in a listing", used);
    const char *p = d->buf;
    if (len > 0 && p[0] == '.') {
        if (!(len > 1 && p[1] == '.')) d->quirks |= POP3_SEEN_DOT_NOT_STUFFED;
        p++, len--;
    }
    ev->kind = POP3_EV_LINE;
    ev->line.ptr = p;
    ev->line.len = len;
    ev->quirks = d->quirks;
    return used;
}

/*
 * Scan body octets in[0..len), inside a line. Delivers everything up to the next line
 * that starts with "." (whose dot is then consumed) or up to the end of input.
 * Returns the number of octets consumed.
 */
static size_t scan_body(pop3_decoder *d, const char *in, size_t len, pop3_event *ev)
{
    size_t i = 0;
    for (;;) {
        /* Ordinary line ends need no decision: jump to the next LF that does. */
        size_t p = linescan_body_stop(in, len, i, d->saw_cr, true);
        if (p == len) {
            bool at_bol = in[len - 1] == '\n';
            d->saw_cr = !at_bol && in[len - 1] == '\r';
            d->state = at_bol ? S_BODY_BOL : S_BODY_LINE;
            emit_data(d, ev, in, len);
            return len;
        }
        bool cr = p > 0 ? in[p - 1] == '\r' : d->saw_cr;
        if (!cr) {
            if (!(d->opt.tolerances & POP3_TOL_BARE_LF)) {
                /* Deliver what precedes the LF first, so that the octets handed out
                 * before the error do not depend on the chunking. */
                if (p > 0) {
                    d->saw_cr = false;
                    d->state = S_BODY_LINE;
                    emit_data(d, ev, in, p);
                    return p;
                }
                return fail(d, ev, POP3_EPROTO,
                            "body line ends in a bare LF, not CRLF (strict mode)", 0);
            }
            d->quirks |= POP3_TOL_BARE_LF;
        }
        d->saw_cr = false;
        i = p + 1;
        if (i == len) {
            d->state = S_BODY_BOL;
            emit_data(d, ev, in, len);
            return len;
        }
        if (in[i] == '.') {
            d->state = S_BODY_DOT;
            emit_data(d, ev, in, i);
            return i + 1;
        }
    }
}

/* Scan from in[i] within what max_body still allows: a body over the limit delivers
 * exactly max_body octets, then fails, whatever the chunking. */
static size_t scan_bounded(pop3_decoder *d, const char *in, size_t len, size_t i, pop3_event *ev)
{
    size_t window = len - i;
    if (d->opt.max_body) {
        uint64_t room = d->opt.max_body - d->body;
        if (room == 0) return fail(d, ev, POP3_ELIMIT, "message body larger than the limit", i);
        if (room < window) window = (size_t)room;
    }
    return i + scan_body(d, in + i, window, ev);
}

static size_t decode_body(pop3_decoder *d, const char *in, size_t len, pop3_event *ev)
{
    size_t i = 0;
    while (i < len) {
        char c = in[i];
        switch (d->state) {
        case S_BODY_BOL:
            if (c == '.') {
                d->state = S_BODY_DOT;
                i++;
                continue;
            }
            return scan_bounded(d, in, len, i, ev);
        case S_BODY_DOT:
            if (c == '\r') {
                d->state = S_BODY_DOTCR;
                i++;
                continue;
            }
            if (c == '\n') {
                if (!(d->opt.tolerances & POP3_TOL_BARE_LF))
                    return fail(d, ev, POP3_EPROTO,
                                "terminator \".\" ends in a bare LF, not CRLF (strict mode)", i);
                d->quirks |= POP3_TOL_BARE_LF;
                ev->kind = POP3_EV_END;
                ev->quirks = d->quirks;
                finish_response(d);
                return i + 1;
            }
            /* "..": the first dot was stuffing. ".x": RFC 1939 section 3 still removes
             * the first octet, a server that does not stuff is the likely cause (Q4). */
            if (c != '.') d->quirks |= POP3_SEEN_DOT_NOT_STUFFED;
            return scan_bounded(d, in, len, i, ev);
        case S_BODY_DOTCR:
            if (c == '\n') {
                ev->kind = POP3_EV_END;
                ev->quirks = d->quirks;
                finish_response(d);
                return i + 1;
            }
            /* ".\rX": a dotted line whose content starts with CR. The CR was consumed
             * already; hand it out from a constant and carry on with X. */
            d->quirks |= POP3_SEEN_DOT_NOT_STUFFED;
            d->state = S_BODY_LINE;
            d->saw_cr = true;
            if (d->opt.max_body && d->body >= d->opt.max_body)
                return fail(d, ev, POP3_ELIMIT, "message body larger than the limit", i);
            emit_data(d, ev, "\r", 1);
            return i;
        case S_BODY_LINE:
            /* A line begun in an earlier chunk: scan_body reads d->saw_cr for its CR. */
            return scan_bounded(d, in, len, i, ev);
        default: return i;
        }
    }
    ev->kind = POP3_EV_NEED_MORE;
    return len;
}

size_t pop3_decode(pop3_decoder *d, const char *in, size_t len, pop3_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (d->state == S_ERROR) {
        ev->kind = POP3_EV_ERROR;
        ev->error = d->error;
        ev->message = d->message;
        return 0;
    }
    if (len == 0) {
        ev->kind = POP3_EV_NEED_MORE;
        return 0;
    }
    switch (d->state) {
    case S_IDLE: ev->kind = POP3_EV_IDLE; return 0;
    case S_STATUS:
    case S_LIST_LINE: {
        size_t used = 0;
        bool bare = false;
        int r = take_line(d, in, len, &used, &bare);
        if (r < 0) {
            return fail(d, ev, POP3_ELIMIT,
                        d->state == S_STATUS ? "status line longer than the line limit"
                                             : "listing line longer than the line limit",
                        used);
        }
        if (r == 0) {
            ev->kind = POP3_EV_NEED_MORE;
            return used;
        }
        return d->state == S_STATUS ? on_status_line(d, ev, used, bare)
                                    : on_listing_line(d, ev, used, bare);
    }
    default: return decode_body(d, in, len, ev);
    }
}

void pop3_decode_eof(pop3_decoder *d, pop3_event *ev)
{
    memset(ev, 0, sizeof *ev);
    const char *why = NULL;
    switch (d->state) {
    case S_ERROR:
        ev->kind = POP3_EV_ERROR;
        ev->error = d->error;
        ev->message = d->message;
        return;
    case S_IDLE: ev->kind = POP3_EV_IDLE; return;
    case S_STATUS:
        if (d->buf_len)
            why = "connection closed inside a status line";
        else if (d->expect == POP3_EXPECT_GREETING)
            why = "connection closed before the greeting";
        else
            why = "connection closed before the response";
        break;
    case S_BODY_DOTCR:
        if (d->opt.tolerances & POP3_TOL_DOT_CR_EOF) {
            ev->kind = POP3_EV_END;
            ev->quirks = d->quirks | POP3_TOL_DOT_CR_EOF;
            finish_response(d);
            return;
        }
        why = "connection closed after \".\\r\" without LF (Q2)";
        break;
    case S_BODY_BOL:
        /* A line ending in "." then CRLF: Exchange appends "." without a CRLF first (Q1). */
        if ((d->tail & 0xFFFFFFu) == (('.' << 16) | ('\r' << 8) | '\n') ||
            (d->tail & 0xFFFFu) == (('.' << 8) | '\n'))
            why = "connection closed before the end of the multi-line response; its last line "
                  "ends in \".\", as from a server that appends \".\" without CRLF (Q1)";
        else
            why = "connection closed before the end of the multi-line response";
        break;
    default: why = "connection closed before the end of the multi-line response"; break;
    }
    fail(d, ev, POP3_ECLOSED, why, 0);
}
