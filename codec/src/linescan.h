/*
 * linescan.h - the codec's internal searches over message bodies (linescan.c).
 *
 * RFC 1939 section 3: a body is lines ended by CRLF; a line that starts with "." is
 * stuffed or is the terminator. These searches find the few places where that matters
 * without a call per line, which is what made bodies of short lines cost twice a
 * memchr. Not part of the public API: the decoder (decoder.c) calls it.
 */
#ifndef POP3_CODEC_LINESCAN_H
#define POP3_CODEC_LINESCAN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The index of the first LF at or after `from` in in[0..len) that the body decoder must
 * stop at: one not preceded by CR (a bare LF; for index 0, `cr_before` says whether the
 * octet before `in` was CR), or one followed by "." inside `in` (a stuffed line or the
 * terminator). Returns `len` when there is none. Any other LF ends an ordinary line,
 * which needs no decision.
 */
size_t linescan_body_stop(const char *in, size_t len, size_t from, bool cr_before);

#endif
