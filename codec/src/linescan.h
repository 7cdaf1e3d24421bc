/*
 * linescan.h - the codec's internal searches over message bodies (linescan.c).
 *
 * RFC 1939 section 3: a body is lines ended by CRLF; a line that starts with "." is
 * stuffed or is the terminator. These searches find the few places where that matters
 * without a call per line, which is what made bodies of short lines cost twice a
 * memchr. Not part of the public API: the decoder (decoder.c) and the stuffer
 * and sizer (stuffing.c) call it.
 */
#ifndef POP3_CODEC_LINESCAN_H
#define POP3_CODEC_LINESCAN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The index of the first LF at or after `from` in in[0..len) that a body decoder or
 * encoder must stop at: one followed by "." inside `in` (a stuffed line, the terminator,
 * a line to stuff) and, when `bare_stops`, one not preceded by CR (a bare LF; for index
 * 0, `cr_before` says whether the octet before `in` was CR). Returns `len` when there is
 * none. Any other LF ends an ordinary line, which needs no decision.
 */
size_t linescan_body_stop(const char *in, size_t len, size_t from, bool cr_before, bool bare_stops);

/* The number of bare LFs (not preceded by CR; for index 0, `cr_before` says whether the
 * octet before `in` was CR) in in[0..len): what RFC 1939 section 11's CRLF counting adds
 * to a size. */
size_t linescan_bare_lfs(const char *in, size_t len, bool cr_before);

#endif
