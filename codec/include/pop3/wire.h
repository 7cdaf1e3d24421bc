/*
 * pop3/wire.h - the sans-I/O POP3 response decoder: bytes in, events out.
 *
 * Implements the response side of RFC 1939 section 3 (status indicators, multi-line
 * responses, the termination octet and byte-stuffing), RFC 2449 section 3 and 8
 * (response codes, hierarchical ones included) and RFC 5034 section 4 (SASL
 * continuations "+ base64").
 *
 * The decoder owns no socket, no clock and no global state. The caller says what the
 * next response is (pop3_decoder_expect), then feeds whatever bytes arrived, in any
 * chunking, and pulls events until it is told to feed more. The same input split
 * anywhere gives the same sequence of events (body chunks may be cut differently, their
 * concatenation is the same).
 *
 * Typical loop:
 *
 *     pop3_decoder_expect(&d, POP3_EXPECT_MULTI);
 *     while (len > 0) {
 *         size_t used = pop3_decode(&d, in, len, &ev);
 *         in += used; len -= used;
 *         switch (ev.kind) { ... }
 *     }
 *
 * Memory: pop3_decoder_init allocates one line buffer of options.max_line octets; after
 * that the decoder allocates nothing. Status and listing lines are copied into that
 * buffer; body bytes are handed out as views into the caller's input (zero-copy).
 */
#ifndef POP3_WIRE_H
#define POP3_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A read-only run of bytes owned by someone else; not NUL-terminated. */
typedef struct pop3_view {
    const char *ptr;
    size_t len;
} pop3_view;

/* Limits and tolerances. Defaults in parentheses (pop3_decoder_options_default). */
typedef struct pop3_decoder_options {
    /* Longest status or listing line, line end included (2048, poplib's _MAXLINE).
     * Message body lines are not bounded by it: they stream at any length. */
    size_t max_line;
    /* Most non-status lines tolerated before the greeting (16), see POP3_TOL_BANNER. */
    unsigned max_banner_lines;
    /* Most lines in one listing response: LIST, UIDL, CAPA (1000000, as mpop). */
    uint64_t max_listing_lines;
    /* Most body octets in one multi-line response, 0 for no limit (0). */
    uint64_t max_body;
    /* Deviations from the RFCs that are accepted, POP3_TOL_* (POP3_TOL_DEFAULT). */
    unsigned tolerances;
} pop3_decoder_options;

/*
 * Named tolerances. Each one is a deviation seen in real servers (quirk numbers Qn refer
 * to the quirk catalogue, conformance/QUIRKS.md). When one is used, its bit is set in the
 * event's `quirks`, so a caller (or the conformance probe) can say which deviations a
 * server showed.
 */
enum {
    /* Q6: a bare LF ends a line (status, listing and body lines; the terminator ".\n"). */
    POP3_TOL_BARE_LF = 1u << 0,
    /* Q35: lines that are not a status line are skipped before the greeting. */
    POP3_TOL_BANNER = 1u << 1,
    /* Q39: a SASL continuation "+" without its space (and without a payload). */
    POP3_TOL_BARE_PLUS = 1u << 2,
    /* Q2: a body that ends with ".\r" and then the connection closes is complete. */
    POP3_TOL_DOT_CR_EOF = 1u << 3,
    /* RFC1939-3.1: status indicators in lower or mixed case ("+ok", "-Err"). */
    POP3_TOL_STATUS_CASE = 1u << 4,
    /* poplib compatibility: any line starting with "+" counts as +OK ("+ Hola mundo"). */
    POP3_TOL_ANY_PLUS = 1u << 5,
};

/* What a client tolerates unless told otherwise: what poplib and curl tolerate, minus
 * what would let an error pass for success (lower case, "+ERR", "+ text" as +OK). */
#define POP3_TOL_DEFAULT \
    (POP3_TOL_BARE_LF | POP3_TOL_BANNER | POP3_TOL_BARE_PLUS | POP3_TOL_DOT_CR_EOF)
/* Strict mode: the RFCs to the letter (CRLF only, nothing before the greeting). */
#define POP3_TOL_STRICT 0u

/* Bits of `quirks` that are not tolerances but facts worth reporting. */
enum {
    /* RFC1939-3.4: a body line starting with "." followed by other octets than a
     * second "." (".x"): the dot was removed as the RFC says (poplib keeps it). */
    POP3_SEEN_DOT_NOT_STUFFED = 1u << 16,
    /* Q40: "+ERR" (or another "+word") in a status line; reported with an EPROTO error. */
    POP3_SEEN_PLUS_ERR = 1u << 17,
};

/* What the next response is, told by the caller before it arrives. */
typedef enum pop3_expect {
    POP3_EXPECT_NONE = 0, /* nothing is expected: bytes arriving now are unsolicited */
    POP3_EXPECT_GREETING, /* the first line of a session (RFC 1939 section 4) */
    POP3_EXPECT_SINGLE,   /* one status line */
    POP3_EXPECT_MULTI,    /* status line; after +OK a body streamed as POP3_EV_DATA */
    POP3_EXPECT_LISTING,  /* status line; after +OK a body delivered as POP3_EV_LINE */
    POP3_EXPECT_SASL,     /* status line, or a "+ base64" continuation (RFC 5034) */
} pop3_expect;

typedef enum pop3_event_kind {
    POP3_EV_NEED_MORE = 0, /* every byte given was consumed: feed more */
    POP3_EV_IDLE,          /* nothing is expected; the remaining input was not consumed */
    POP3_EV_BANNER,        /* `line`: a non-status line before the greeting, skipped */
    POP3_EV_STATUS,        /* `status`: a status line (ends the response unless a body follows) */
    POP3_EV_DATA,          /* `data`: body octets, un-stuffed, line ends as received */
    POP3_EV_LINE,          /* `line`: one listing line, un-stuffed, without its line end */
    POP3_EV_END,           /* the body's terminating "." line was read: response complete */
    POP3_EV_ERROR,         /* `error`, `message`: the stream is unusable from here on */
} pop3_event_kind;

typedef enum pop3_status_kind {
    POP3_STATUS_OK = 1,   /* "+OK" */
    POP3_STATUS_ERR,      /* "-ERR" */
    POP3_STATUS_CONTINUE, /* "+ " SASL continuation (only under POP3_EXPECT_SASL) */
} pop3_status_kind;

/* RFC 2449 section 8, RFC 3206, RFC 6856 section 5 response codes, by their first levels. */
typedef enum pop3_resp_code {
    POP3_CODE_NONE = 0,    /* no "[...]" at the start of the text */
    POP3_CODE_IN_USE,      /* [IN-USE] */
    POP3_CODE_LOGIN_DELAY, /* [LOGIN-DELAY] */
    POP3_CODE_SYS_TEMP,    /* [SYS/TEMP] */
    POP3_CODE_SYS_PERM,    /* [SYS/PERM] */
    POP3_CODE_SYS,         /* [SYS] or [SYS/unknown] */
    POP3_CODE_AUTH,        /* [AUTH] */
    POP3_CODE_UTF8,        /* [UTF8] */
    POP3_CODE_OTHER,       /* any other code: kept as text in `code_text` */
} pop3_resp_code;

typedef struct pop3_status_line {
    pop3_status_kind kind;
    pop3_resp_code code; /* levels beyond the known ones are ignored (RFC2449-8.2) */
    pop3_view code_text; /* between "[" and "]", e.g. "SYS/TEMP/QUOTA"; empty when none */
    pop3_view text;      /* after the indicator, one space and the code; the SASL payload */
    pop3_view line;      /* the whole line without its line end */
} pop3_status_line;

/*
 * One decoder event. Views point into the decoder's line buffer or into the input given
 * to the call that produced the event; they stay valid until the next call on the
 * decoder or until that input is freed, whichever comes first.
 */
typedef struct pop3_event {
    pop3_event_kind kind;
    pop3_status_line status; /* POP3_EV_STATUS */
    pop3_view data;          /* POP3_EV_DATA */
    pop3_view line;          /* POP3_EV_LINE, POP3_EV_BANNER */
    unsigned quirks;         /* POP3_TOL_* and POP3_SEEN_* met in this event's bytes;
                                POP3_EV_END carries those of the whole body */
    int error;               /* POP3_EV_ERROR: POP3_EPROTO or POP3_ELIMIT */
    const char *message;     /* POP3_EV_ERROR: static, readable, says which rule broke */
} pop3_event;

/* The decoder. Plain data: fields are private, read them through the functions below. */
typedef struct pop3_decoder {
    pop3_decoder_options opt;
    char *buf;           /* line buffer, opt.max_line octets */
    size_t buf_len;      /* octets in buf */
    pop3_expect expect;  /* what the current response is */
    int state;           /* private state machine position */
    bool saw_cr;         /* the previous byte of the line was CR */
    unsigned banners;    /* banner lines skipped so far */
    uint64_t lines;      /* listing lines so far */
    uint64_t body;       /* body octets so far */
    unsigned quirks;     /* accumulated over the current body */
    uint32_t tail;       /* the last three body octets delivered, for error messages */
    int error;           /* sticky error, 0 while healthy */
    const char *message; /* sticky error message */
} pop3_decoder;

/* Fill `opt` with the defaults documented on pop3_decoder_options. */
void pop3_decoder_options_default(pop3_decoder_options *opt);

/*
 * pop3_decoder_init - prepare a decoder; `opt` may be NULL for the defaults.
 * Returns POP3_OK, POP3_EUSAGE (max_line under 8 octets) or POP3_ENOMEM.
 * The decoder expects nothing until pop3_decoder_expect is called.
 */
int pop3_decoder_init(pop3_decoder *d, const pop3_decoder_options *opt);

/* Release the line buffer. The decoder may be initialised again afterwards. */
void pop3_decoder_free(pop3_decoder *d);

/*
 * pop3_decoder_expect - say what the next response is. Only valid when the previous
 * response is complete (pop3_decoder_idle); returns POP3_ESTATE otherwise and
 * POP3_OK on success. A decoder in error stays in error (POP3_EPROTO or POP3_ELIMIT).
 */
int pop3_decoder_expect(pop3_decoder *d, pop3_expect what);

/* True when no response is in progress: the last one is complete, or none was expected. */
bool pop3_decoder_idle(const pop3_decoder *d);

/*
 * pop3_decode - consume input and produce at most one event.
 * Returns the number of bytes of `in` consumed (possibly 0, e.g. for POP3_EV_IDLE).
 * When the event is POP3_EV_NEED_MORE, all `len` bytes were consumed.
 * After POP3_EV_ERROR every later call returns the same error and consumes nothing.
 */
size_t pop3_decode(pop3_decoder *d, const char *in, size_t len, pop3_event *ev);

/*
 * pop3_decode_eof - the peer closed the stream. Produces POP3_EV_END when a body
 * ending ".\r" is accepted (POP3_TOL_DOT_CR_EOF), POP3_EV_IDLE when no response was in
 * progress, and otherwise POP3_EV_ERROR (POP3_ECLOSED) whose message says where the
 * stream stopped (inside a status line, a body, after a line ending in "." as a server
 * that appends "." without CRLF would send, Q1).
 */
void pop3_decode_eof(pop3_decoder *d, pop3_event *ev);

/*
 * pop3_crlf_to_lf - copy body octets to `out` with each CRLF turned into LF, the line
 * ends of a message stored on a Unix system (a Maildir, an mbox). Give a body as it
 * comes, in chunks of any size: a CR that ends a chunk is held in `*held_cr` (false at
 * the start of a body) until the next chunk says whether an LF follows it; at the end
 * of the body a CR still held is an octet of the message, for the caller to write.
 * Other CRs and LFs are copied as they are. `out` must hold len + 1 octets and must not
 * overlap `in`. Returns the number of octets written.
 */
size_t pop3_crlf_to_lf(char *out, const char *in, size_t len, bool *held_cr);

/*
 * pop3_parse_status - classify one complete status line (without its line end) the way
 * the decoder does, for callers that have a line in hand (the mock server, the probe).
 * `expect` decides whether "+ " is a SASL continuation. Returns POP3_OK or POP3_EPROTO
 * with `*message` set; `*quirks` receives the tolerances used.
 */
int pop3_parse_status(const char *line, size_t len, pop3_expect expect, unsigned tolerances,
                      pop3_status_line *out, unsigned *quirks, const char **message);

/*
 * pop3_parse_resp_code - RFC 2449 section 3 resp-code at the start of `text`.
 * On a well-formed "[level *("/" level)]" sets `*code` and `*code_text` and returns the
 * number of octets it spans (the "]" included); otherwise returns 0 and sets POP3_CODE_NONE.
 */
size_t pop3_parse_resp_code(const char *text, size_t len, pop3_resp_code *code,
                            pop3_view *code_text);

/* The name of a response code as written in the RFCs ("IN-USE"), "" for POP3_CODE_NONE. */
const char *pop3_resp_code_name(pop3_resp_code code);

#ifdef __cplusplus
}
#endif
#endif
