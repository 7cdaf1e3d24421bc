/*
 * stuffing.c - byte-stuffing of multi-line bodies, server side (pop3/encode.h).
 *
 * RFC 1939 section 3: every line of a multi-line response that begins with "." gets one
 * more "." in front, and the response ends with ".\r\n". RFC 1939 section 11: the size a
 * server reports counts each line end as CRLF (two octets), stuffing not counted.
 *
 * A line starts at the beginning of the body and after every LF, bare or not, so that a
 * decoder that tolerates bare LF (quirk Q6) reads the same lines as a strict one. The
 * encoder is streaming: any chunking of the input and any output capacity, down to one
 * octet, give the same bytes. That is done without a pending-output field: an inserted
 * octet (the stuffing "." or the CR before a bare LF) is emitted as a step of its own
 * that changes the state as if it had been consumed, and the input octet that caused it
 * is consumed by the next step.
 */
#include "linescan.h"
#include "pop3/encode.h"

#include <string.h>

void pop3_stuffer_init(pop3_stuffer *s, bool crlf)
{
    memset(s, 0, sizeof *s);
    s->crlf = crlf;
    s->line_start = true;
}

void pop3_stuff(pop3_stuffer *s, const char *in, size_t len, char *out, size_t cap,
                size_t *consumed, size_t *produced)
{
    size_t i = 0;
    size_t o = 0;
    while (i < len && o < cap) {
        if (!s->line_start) {
            /* Fast path: inside a line, everything up to the first LF that needs work
             * goes out as is, in one copy: lines ending in CRLF (or in LF, without
             * `crlf`) whose next line does not start with "." are passed over
             * (linescan.c finds the first that does). A bare LF to complete is left to
             * the octet-by-octet path below; an LF before a "." goes out, and the path
             * below stuffs the line it starts. */
            size_t n = len - i < cap - o ? len - i : cap - o;
            const char *p = in + i;
            size_t run = linescan_body_stop(p, n, 0, s->saw_cr, s->crlf);
            if (run < n && !(s->crlf && (run > 0 ? p[run - 1] != '\r' : !s->saw_cr)))
                run++; /* an LF before a "." goes out with its line */
            if (run > 0) {
                memcpy(out + o, p, run);
                i += run;
                o += run;
                s->any = true;
                s->saw_cr = p[run - 1] == '\r';
                s->line_start = p[run - 1] == '\n';
                continue;
            }
        }
        char c = in[i];
        if (s->line_start && c == '.') {
            /* The stuffing dot; the body's own "." follows in the next step, which no
             * longer sees a line start. */
            out[o++] = '.';
            s->line_start = false;
            continue;
        }
        if (c == '\n' && s->crlf && !s->saw_cr) {
            /* The CR of a bare LF; the LF then looks like the end of a CRLF. */
            out[o++] = '\r';
            s->saw_cr = true;
            continue;
        }
        out[o++] = c;
        i++;
        s->any = true;
        s->saw_cr = c == '\r';
        s->line_start = c == '\n';
    }
    s->in_total += i;
    s->out_total += o;
    if (consumed != NULL) *consumed = i;
    if (produced != NULL) *produced = o;
}

size_t pop3_stuffer_finish(pop3_stuffer *s, char *out, size_t cap)
{
    /* line_start is true after an LF and before any input: then only the terminator. */
    bool close_line = s->any && !s->line_start;
    size_t need = close_line ? 5 : 3;
    if (out == NULL || cap < need) return 0;
    size_t o = 0;
    if (close_line) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o++] = '.';
    out[o++] = '\r';
    out[o++] = '\n';
    s->out_total += o;
    return o;
}

uint64_t pop3_wire_size(const char *in, size_t len, bool *saw_cr)
{
    /* A bare LF goes out as CRLF (RFC 1939 section 11 counts the line end as two). */
    bool cr = saw_cr != NULL && *saw_cr;
    uint64_t size = len + linescan_bare_lfs(in, len, cr);
    if (saw_cr != NULL && len > 0) *saw_cr = in[len - 1] == '\r';
    return size;
}
