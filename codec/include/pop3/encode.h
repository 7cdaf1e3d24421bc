/*
 * pop3/encode.h - building what goes on the wire.
 *
 * Client side: command lines (RFC 1939 section 3: keyword, arguments separated by one
 * SP, CRLF; RFC 2449 section 4: at most 255 octets with the CRLF) with every argument
 * checked before anything is built: CR, LF, NUL and the other control octets are
 * refused (CVE-2025-15367, Q42). SASL response lines (RFC 5034 section 4), which have
 * no length limit.
 *
 * Server side: status lines with RFC 2449 response codes, and byte-stuffing of message
 * bodies (RFC 1939 section 3) as a streaming encoder that is the exact inverse of the
 * decoder in pop3/wire.h.
 *
 * Nothing here allocates: the caller gives the output buffer.
 */
#ifndef POP3_ENCODE_H
#define POP3_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 2449 section 4: a command line is at most 255 octets, CRLF included. */
#define POP3_COMMAND_MAX 255

/*
 * pop3_check_arg - is `arg` acceptable as a command argument? Refuses octets 0x00-0x1F
 * and 0x7F (CR, LF, NUL, TAB, ...). With `allow_space` false a SP is refused too (a
 * user name for USER must stay one argument; PASS takes the rest of the line, RFC
 * 1939 section 7, so a password may contain spaces). 8-bit octets pass (RFC 6856).
 * Returns POP3_OK or POP3_EUSAGE with `*message` (may be NULL) saying why.
 */
int pop3_check_arg(const char *arg, size_t len, bool allow_space, const char **message);

/*
 * pop3_encode_command - "KEYWORD arg1 arg2\r\n" into `out` (capacity `cap`).
 * `keyword` is 3 or 4 letters or digits (RFC 2449 keyword = 3*4VCHAR; RFC 6856 UTF8).
 * `args` holds `nargs` NUL-terminated strings; every argument but the last must be free
 * of spaces, the last may contain them (PASS). The whole line must fit in `max`
 * octets with its CRLF (POP3_COMMAND_MAX unless a larger capability limit applies; 0 means
 * POP3_COMMAND_MAX) and in `cap`. Returns POP3_OK and sets `*out_len`, or POP3_EUSAGE (bad
 * keyword or argument) or POP3_ELIMIT (too long) with `*message` (may be NULL) set; `out` is
 * then untouched.
 */
int pop3_encode_command(char *out, size_t cap, size_t *out_len, size_t max, const char *keyword,
                        const char *const *args, size_t nargs, const char **message);

/*
 * pop3_encode_line - a raw line plus CRLF, for SASL responses (base64, "*", or empty,
 * RFC 5034 section 4) that have no length limit but `cap`. The same octets as in
 * pop3_check_arg are refused (spaces allowed). Returns POP3_OK, POP3_EUSAGE or POP3_ELIMIT.
 */
int pop3_encode_line(char *out, size_t cap, size_t *out_len, const char *line, size_t len,
                     const char **message);

/*
 * pop3_encode_status - a server status line: "+OK", "-ERR" or "+" (SASL continuation),
 * then " [code]" when `code_text` is non-NULL and non-empty, then " text" when `text` is
 * non-empty, then CRLF. `text` and `code_text` must be free of CR, LF and NUL; a code must
 * be a valid resp-code (no "]" or SP inside). Returns POP3_OK, POP3_EUSAGE or POP3_ELIMIT.
 */
int pop3_encode_status(char *out, size_t cap, size_t *out_len, pop3_status_kind kind,
                       const char *code_text, const char *text, size_t text_len,
                       const char **message);

/*
 * Byte-stuffing encoder for a multi-line body (server side). Feed the message in any
 * chunking; the output is the same. A "." is added before every line that starts with
 * "." (a line starts at the beginning and after every LF, so that bare-LF-tolerant
 * decoders read the same lines). With `crlf` true, a bare LF becomes CRLF (a maildrop
 * on disk uses LF; RFC 1939 section 11 counts CRLF). pop3_stuffer_finish adds CRLF when
 * the body did not end with a line end, then ".\r\n".
 *
 * Round trip: decoding (POP3_TOL_BARE_LF) what this encoder produced gives back the input,
 * plus "\r\n" when the input was non-empty and did not end with LF; with `crlf` true,
 * bare LFs come back as CRLF.
 */
typedef struct pop3_stuffer {
    bool crlf;          /* turn bare LF into CRLF */
    bool line_start;    /* the next octet starts a line */
    bool saw_cr;        /* the last octet consumed was CR */
    bool any;           /* some octet was consumed */
    uint64_t in_total;  /* octets consumed */
    uint64_t out_total; /* octets produced */
} pop3_stuffer;

void pop3_stuffer_init(pop3_stuffer *s, bool crlf);

/*
 * pop3_stuff - encode as much of `in` as fits in `out`. Sets `*consumed` and `*produced`;
 * stops early only when `out` is full (an output buffer of 2 * len + 1 octets always
 * takes everything). Never fails.
 */
void pop3_stuff(pop3_stuffer *s, const char *in, size_t len, char *out, size_t cap,
                size_t *consumed, size_t *produced);

/*
 * pop3_stuffer_finish - write the end of the body: CRLF if needed, then ".\r\n".
 * Needs at most 5 octets. Returns the number written, or 0 when `cap` is too small
 * (nothing is written then).
 */
size_t pop3_stuffer_finish(pop3_stuffer *s, char *out, size_t cap);

/*
 * pop3_wire_size - RFC 1939 section 11 size of a message as a server must report it:
 * octets with every bare LF counted as CRLF, before stuffing. Feed chunks; `*saw_cr`
 * carries the last octet's CR-ness across calls (start with false).
 */
uint64_t pop3_wire_size(const char *in, size_t len, bool *saw_cr);

#ifdef __cplusplus
}
#endif
#endif
