/*
 * session.c - framing of client input and the action interface of a session.
 *
 * RFC 1939 section 3: commands are lines ending in CRLF (a bare LF is accepted too,
 * and the engine is told). RFC 2449 section 4: a command line is at most 255 octets;
 * a longer one is answered -ERR as soon as its length is known and the rest of it is
 * thrown away as it arrives, so a client sending a line of a gigabyte costs nothing
 * but time. RFC 2449 section 6.6: pipelined commands are answered strictly in order,
 * one line at a time; no new line is taken while the output is above the high-water
 * mark, and no client octets are taken while max_input octets wait (back-pressure).
 */
#include "session_internal.h"

#include <stdlib.h>
#include <string.h>

void pop3mock_limits_default(pop3mock_limits *l)
{
    l->max_command = 255;
    l->max_sasl_line = 16384;
    l->max_input = 65536;
    l->output_high = 65536;
    l->max_output = 16777216;
}

pop3mock_session *pop3mock__session_new(const pop3mock__engine *eng, void *state,
                                        const pop3mock_limits *lim, bool tls)
{
    pop3mock_session *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    if (lim != NULL)
        s->lim = *lim;
    else
        pop3mock_limits_default(&s->lim);
    /* The input buffer must hold the longest line either limit allows. */
    if (s->lim.max_input < s->lim.max_command) s->lim.max_input = s->lim.max_command;
    if (s->lim.max_input < s->lim.max_sasl_line) s->lim.max_input = s->lim.max_sasl_line;
    if (s->lim.output_high == 0) s->lim.output_high = 1;
    if (s->lim.max_output == 0) s->lim.max_output = 16777216;
    s->in = malloc(s->lim.max_input);
    if (s->in == NULL) {
        free(s);
        return NULL;
    }
    s->eng = eng;
    s->state = state;
    s->tls = tls;
    pop3mock__output_init(&s->out);
    s->out.max = s->lim.max_output;
    return s;
}

void pop3mock_session_free(pop3mock_session *s)
{
    if (s == NULL) return;
    if (s->eng->destroy != NULL) s->eng->destroy(s);
    pop3mock__output_free(&s->out);
    free(s->in);
    free(s);
}

void pop3mock__session_drop_input(pop3mock_session *s)
{
    s->in_len = 0;
    s->discarding = false;
}

bool pop3mock_session_tls(const pop3mock_session *s)
{
    return s->tls;
}

bool pop3mock_session_done(const pop3mock_session *s)
{
    return s->out.terminal;
}

size_t pop3mock_session_room(const pop3mock_session *s)
{
    if (s->out.terminal || s->eof) return 0;
    /* While discarding, everything up to the LF is taken and dropped. */
    if (s->discarding && s->in_len == 0) return s->lim.max_input;
    return s->lim.max_input - s->in_len;
}

static bool output_full(const pop3mock_session *s)
{
    return pop3mock__output_pending(&s->out) >= s->lim.output_high;
}

/* Hand complete lines to the engine while it and the output can take them. */
static void process(pop3mock_session *s)
{
    if (!s->started) {
        s->started = true;
        if (s->eng->start != NULL) s->eng->start(s);
    }
    while (!s->out.terminal && !s->out.failed) {
        if (s->eng->producing != NULL && s->eng->producing(s)) {
            if (output_full(s)) return;
            s->eng->produce(s);
            continue;
        }
        if (output_full(s)) return;
        if (s->eng->blocked != NULL && s->eng->blocked(s)) return;
        size_t max = s->eng->max_line(s);
        char *lf = memchr(s->in, '\n', s->in_len);
        size_t line_octets = lf != NULL ? (size_t)(lf - s->in) + 1 : s->in_len;
        if (line_octets > max || (lf == NULL && s->in_len >= max)) {
            /* Over the limit: answer now, drop what is here, discard the rest. */
            s->eng->too_long(s);
            if (lf != NULL) {
                memmove(s->in, lf + 1, s->in_len - line_octets);
                s->in_len -= line_octets;
            } else {
                s->in_len = 0;
                s->discarding = true;
            }
            continue;
        }
        if (lf == NULL) {
            if (s->eof && !s->eof_handled) {
                /* A last line without its line end is not a command (RFC 1939 section 3). */
                s->in_len = 0;
                s->eof_handled = true;
                if (s->eng->eof != NULL) s->eng->eof(s);
                continue;
            }
            return;
        }
        size_t len = line_octets - 1;
        bool crlf = len > 0 && s->in[len - 1] == '\r';
        if (crlf) len--;
        s->eng->line(s, s->in, len, crlf);
        memmove(s->in, s->in + line_octets, s->in_len - line_octets);
        s->in_len -= line_octets;
    }
}

size_t pop3mock_session_feed(pop3mock_session *s, const char *in, size_t len)
{
    size_t used = 0;
    while (used < len && !s->out.terminal && !s->eof) {
        if (s->discarding) {
            const char *lf = memchr(in + used, '\n', len - used);
            if (lf == NULL) return len;
            used = (size_t)(lf - in) + 1;
            s->discarding = false;
            continue;
        }
        size_t room = s->lim.max_input - s->in_len;
        if (room == 0) break;
        size_t n = len - used < room ? len - used : room;
        memcpy(s->in + s->in_len, in + used, n);
        s->in_len += n;
        used += n;
        process(s);
        if (s->lim.max_input - s->in_len == 0) break;
    }
    return used;
}

void pop3mock_session_eof(pop3mock_session *s)
{
    s->eof = true;
    s->discarding = false;
}

bool pop3mock_session_over_limit(const pop3mock_session *s)
{
    return s != NULL && s->out.over_limit;
}

void pop3mock_session_next(pop3mock_session *s, pop3mock_action *a)
{
    process(s);
    pop3mock__output_next(&s->out, a);
}

void pop3mock_session_ack(pop3mock_session *s, const pop3mock_action *a, size_t sent)
{
    pop3mock__output_ack(&s->out, a, sent);
    if (a->kind == POP3MOCK_ACT_START_TLS) {
        s->tls = true;
        /* RFC 2595 section 4: the handshake starts right after the +OK CRLF; whatever
         * the client sent after STLS in plaintext is not a command (injection). */
        pop3mock__session_drop_input(s);
        if (s->eng->tls_started != NULL) s->eng->tls_started(s);
    }
}

size_t pop3mock_session_run(pop3mock_session *s, const char *in, size_t len, char *out, size_t cap)
{
    size_t produced = 0;
    size_t used = 0;
    bool eof_sent = false;
    for (;;) {
        pop3mock_action a;
        pop3mock_session_next(s, &a);
        switch (a.kind) {
        case POP3MOCK_ACT_SEND:
            if (produced < cap) {
                size_t n = cap - produced < a.data.len ? cap - produced : a.data.len;
                memcpy(out + produced, a.data.ptr, n);
            }
            produced += a.data.len;
            pop3mock_session_ack(s, &a, a.data.len);
            break;
        case POP3MOCK_ACT_WAIT:
        case POP3MOCK_ACT_START_TLS:
        case POP3MOCK_ACT_HALF_CLOSE: pop3mock_session_ack(s, &a, 0); break;
        case POP3MOCK_ACT_CLOSE:
        case POP3MOCK_ACT_RESET:
        case POP3MOCK_ACT_STALL: pop3mock_session_ack(s, &a, 0); return produced;
        case POP3MOCK_ACT_IDLE:
            if (used < len && pop3mock_session_room(s) > 0) {
                used += pop3mock_session_feed(s, in + used, len - used);
            } else if (!eof_sent) {
                pop3mock_session_eof(s);
                eof_sent = true;
            } else {
                return produced;
            }
            break;
        }
    }
}
