/*
 * body.h - streaming one message out as a multi-line response body (RETR, TOP).
 */
#ifndef POP3MOCK_BODY_H
#define POP3MOCK_BODY_H

#include <stdbool.h>
#include <limits.h>
#include <stdint.h>

#include "output.h"
#include "pop3/encode.h"
#include "pop3mock/maildrop.h"

/* A message's mtime_ns once its file was found changed when sent: no file has it, so
 * the next rescan measures the file again. */
#define POP3MOCK__STALE LLONG_MIN

/* How the body goes out; every field false is RFC 1939 to the letter. */
typedef struct pop3mock__body_style {
    bool bare_lf;     /* Q6: LF line ends, CR before LF removed */
    bool no_stuffing; /* Q4: lines starting with "." are not stuffed */
    bool dot_no_crlf; /* Q1: "." glued to a last line without line end */
    bool dot_cr;      /* Q2: end with ".\r" and close */
    bool extra_blank; /* Q7: an empty line before the terminator */
} pop3mock__body_style;

typedef struct pop3mock__body {
    bool active;
    pop3mock_reader rd;
    pop3mock__body_style style;
    bool top;        /* stop after the headers and `lines_left` body lines */
    bool in_body;    /* TOP: the blank line after the headers was passed */
    bool line_blank; /* TOP: the current line holds nothing but CR so far */
    uint64_t lines_left;
    bool eof; /* the source is exhausted (or TOP has what it needs) */
    pop3_stuffer st;
    bool held_cr; /* bare_lf: a CR at the end of a chunk, not yet known to precede LF */
    bool saw_cr;  /* no_stuffing: the last octet sent was CR */
    bool any;     /* some octet was sent */
    char last;    /* the last octet sent */
    /* RETR: the RFC 1939 section 11 size of what was read, to be checked against the
     * size announced before the terminator is sent */
    uint64_t src_size;
    bool src_cr;
    char src_last;
    size_t index; /* the message's index in the maildrop */
    bool stale;   /* ended because the file is not the one measured: measure it again */
} pop3mock__body;

/* Start streaming message `i` of `md`; `top` with `lines` for TOP (RFC 1939 section 7).
 * Returns 0 or -1 when the message cannot be read. */
int pop3mock__body_start(pop3mock__body *b, const pop3mock_maildrop *md, size_t i,
                         const pop3mock__body_style *style, bool top, uint64_t lines);

/* Append the next chunk, read from the file in one go: about `want` octets (the
 * session's output limit), at least 16 KiB and at most 64 KiB; at the end, the
 * terminator (and a close for dot_cr), and `active` becomes false. */
void pop3mock__body_produce(pop3mock__body *b, pop3mock__output *o, size_t want);

/* Stop early (session ends). */
/* A `stale` body ended with the connection: the file changed since it was measured. */
void pop3mock__body_stop(pop3mock__body *b);

#endif
