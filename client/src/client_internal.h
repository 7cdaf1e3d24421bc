/*
 * client_internal.h - library-internal: the client handle and the request/response
 * engine shared by the client_*.c files.
 *
 * The engine (client_session.c) writes command lines (RFC 1939 section 3, checked and
 * built by pop3_encode_command) and reads replies through the sans-I/O decoder of
 * pop3/wire.h from one read buffer. Commands may be queued and flushed later, which is
 * what pipelining (RFC 2449 section 6.6) needs: the queue is flushed before any wait for
 * input, so the server always has every command whose reply we wait for.
 */
#ifndef POP3_CLIENT_INTERNAL_H
#define POP3_CLIENT_INTERNAL_H

#include <stdarg.h>

#include "pop3/client.h"
#include "pop3/encode.h"
#include "pop3/error.h"

#define POP3__ERRMSG_SIZE 768
#define POP3__READ_SIZE   65536 /* one read; large bodies move in big chunks */

struct pop3_client {
    pop3_options opt;
    pop3_transport *t; /* NULL when not connected */
    bool authenticated;
    bool capa_known;      /* `capa` holds the server's current list */
    bool capa_after_auth; /* ... asked in TRANSACTION state */
    bool capa_tried;      /* a CAPA was attempted after login (for pipelining AUTO) */
    bool utf8_mode;       /* UTF8 was accepted (RFC 6856): no STLS any more */
    char *host;
    unsigned port;

    /* Replies: the status decoder and, for SASL exchanges, one with a longer line
     * limit (RFC5034-4.10); `dec` points at the one in use. Both are idle between
     * replies, so switching is safe. */
    pop3_decoder status_dec;
    pop3_decoder sasl_dec;
    bool sasl_dec_ready;
    pop3_decoder *dec;
    char *rbuf;
    size_t rpos, rlen;

    /* Queued command lines not yet written. */
    char *wbuf;
    size_t wlen, wcap;

    char *welcome;
    /* The last status line, its response code. */
    char *resp;
    size_t resp_cap;
    pop3_resp_code code;
    char code_text[128];
    unsigned quirks;

    pop3_capa_set capa;
    char *uid; /* pop3_uidl_one's answer */

    /* The pop3_retrieve under way (client_pipeline.c), for pop3_retrieve_delete. */
    struct pop3__retrieve_run *run;

    int err;
    char errmsg[POP3__ERRMSG_SIZE];
    char cmdname[16]; /* the command being answered ("RETR"), for messages */

    int debuglevel;
    FILE *debug_fp;
    pop3_debug_fn debug_fn;
    void *debug_ud;
    pop3_putline_fn putline;
    void *putline_ud;
};

/* Errors
 * ------ */

/* Record POP3_OK as the result of a call; clears the message. */
int pop3__ok(pop3_client *c);
/* Record `err` with a message; the session goes on. Returns `err`. */
/*
 * pop3__callback_error - what a caller's callback returned, as an error of the documented
 * space: POP3_OK stays, a pop3_error code stays, anything else (a positive value, a
 * negative number that is no pop3_error, an errno) becomes POP3_EUSAGE, so that no
 * public function passes an undocumented value back to its caller.
 */
int pop3__callback_error(int r);

int pop3__fail(pop3_client *c, int err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Record `err` and close the connection without QUIT. Returns `err`. */
int pop3__fatal(pop3_client *c, int err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Close the transport, drop buffers' content; the handle stays usable for a new
 * connect. */
void pop3__disconnect(pop3_client *c);

/* POP3_OK when connected, else records POP3_ESTATE. */
int pop3__need_connection(pop3_client *c);

/* Tracing
 * ------- */
void pop3__trace(pop3_client *c, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Trace a line with non-printable octets escaped; `prefix` like "*get*". */
void pop3__trace_line(pop3_client *c, int level, const char *prefix, const char *line, size_t len);
/* "*tls* TLS established: TLSv1.3, TLS_AES_256_GCM_SHA384" (without the names when the
 * transport does not report them), once a TLS session protects the connection. */
void pop3__trace_tls(pop3_client *c);

/* Sending
 * ------- */

enum {
    POP3__SEND_MASK_LAST = 1u << 0, /* trace the last argument as "****" */
    POP3__SEND_QUEUE = 1u << 1,     /* queue only; flushed before the next read */
};

/* Build, check, hook, trace and send (or queue) one command line. POP3_OK,
 * POP3_EUSAGE/POP3_ELIMIT (nothing sent), POP3_ETLS (require_tls), putline's veto, or
 * a fatal error. `*line_len` (may be NULL) receives the octets queued. */
int pop3__send(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
               unsigned flags, size_t *line_len);
/* One SASL response line (base64, "*" or empty), masked in traces unless "*". */
int pop3__send_sasl_line(pop3_client *c, const char *line, size_t len);
/* Write the queued lines. */
int pop3__flush(pop3_client *c);

/* Receiving
 * --------- */

/* Say what the next reply is; `sasl` selects the decoder with the longer limit. */
int pop3__expect(pop3_client *c, pop3_expect what, bool sasl);
/* The next decoder event other than NEED_MORE, reading (after a flush) when needed.
 * Decoder errors and transport failures are recorded as fatal and returned. */
int pop3__next_event(pop3_client *c, pop3_event *ev);
/* Read the status line of the reply expected (pop3__expect first). Records it as the
 * last response. Returns POP3_OK for +OK, POP3_ESERVER for -ERR (message set),
 * POP3_SASL_WAIT for a SASL continuation, or a fatal error. */
int pop3__read_status(pop3_client *c, pop3_status_line *st);
/* After a +OK to a multi-line command: body DATA to `sink` until END. A sink error
 * makes the rest be dropped; the sink's error is returned after END. */
int pop3__read_body(pop3_client *c, pop3_sink_fn sink, void *ud);
/* Send a command and read a single-line reply; `st` (may be NULL) gets the status line,
 * its views pointing into the client's copy (valid until the next reply). */
int pop3__simple(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
                 unsigned flags, pop3_status_line *st);
/* Send a multi-line command and stream the body of its +OK reply to `sink`. */
int pop3__multi(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
                pop3_sink_fn sink, void *ud);
/* Unread octets already received: anything the server sent that no command asked for.
 * Records POP3_EPROTO (fatal) when there are some; `what` says where. */
int pop3__check_unsolicited(pop3_client *c, const char *what);

/* Record a status line as the last response. */
void pop3__set_response(pop3_client *c, const pop3_status_line *st);

/* "RETR 12" into `buf` for the numbers of commands. */
void pop3__u64(char *buf, size_t cap, uint64_t v);

/* The session entered TRANSACTION state (RFC 1939 section 4). */
void pop3__logged_in(pop3_client *c);

/* SASL exchange (client_sasl.c) with `step`. `*creds_sent` tells whether any response
 * left (so a failure may be about the credentials); `*cancelled` whether we sent "*". */
int pop3__sasl(pop3_client *c, const char *mechanism, pop3_sasl_fn step, void *ud, bool *creds_sent,
               bool *cancelled);
/* pop3_auth's work, with the same two reports. */
int pop3__auth_builtin(pop3_client *c, const char *mechanism, const pop3_credentials *cred,
                       bool *creds_sent, bool *cancelled);

/* require_tls: may this command go out in clear? */
bool pop3__allowed_in_clear(const char *keyword);

#endif
