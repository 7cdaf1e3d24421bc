/*
 * pop3/client.h - the reference POP3 client: Python poplib's calls in C, plus streaming
 * bodies, SASL, a strict TLS policy and pipelined bulk retrieval.
 *
 * RFC 1939 (the protocol; sections 4-7 for the commands), RFC 2449 (CAPA, response
 * codes, PIPELINING section 6.6), RFC 2595 (STLS), RFC 5034 (SASL AUTH), RFC 6856 (UTF8),
 * RFC 8314 (implicit TLS; section 5.2 minimum confidentiality), RFC 7628 (OAUTHBEARER).
 *
 * One function per poplib call, with the same meaning:
 *
 *   poplib                      libpop3
 *   POP3(host, port, timeout)   pop3_client_new + pop3_connect
 *   POP3_SSL(host, port, ...)   pop3_client_new + pop3_connect_tls
 *   getwelcome()                pop3_getwelcome
 *   set_debuglevel(n)           pop3_set_debuglevel (+ pop3_set_debug_stream / _callback)
 *   audit event poplib.putline  pop3_set_putline
 *   capa()                      pop3_capa
 *   user(u) / pass_(p)          pop3_user / pop3_pass
 *   apop(u, s) / rpop(u)        pop3_apop / pop3_rpop
 *   stat()                      pop3_stat
 *   list() / list(n)            pop3_list (or pop3_list_lines) / pop3_list_one
 *   retr(n)                     pop3_retr (streaming) / pop3_retr_lines (poplib's shape)
 *   dele, rset, noop, quit      pop3_dele, pop3_rset, pop3_noop, pop3_quit
 *   top(n, k)                   pop3_top / pop3_top_lines
 *   uidl() / uidl(n)            pop3_uidl (or pop3_uidl_lines) / pop3_uidl_one
 *   utf8()                      pop3_utf8
 *   stls(context)               pop3_stls
 *   close()                     pop3_close
 *
 * Errors are values (pop3/error.h): every call returns POP3_OK or an error, and the
 * handle keeps the details until the next call: pop3_errmsg (a readable sentence),
 * pop3_response (the server's last status line) and its RFC 2449 response code.
 *   POP3_ESERVER   the server said -ERR (poplib's error_proto); the session goes on.
 *   POP3_EIO, POP3_ETLS (handshake or transport), POP3_ETIMEOUT,
 *   POP3_ECLOSED   fatal: the session is closed (no QUIT is sent, RFC 1939 section 6
 *                  then removes nothing).
 *   POP3_EPROTO    fatal when the stream cannot be followed (framing: a bad status line,
 *                  unsolicited octets); a reply framed correctly whose content is wrong
 *                  (STAT text, a listing line, a UIDL n answer) leaves the session open,
 *                  since the next reply can still be read in step.
 *   POP3_ELIMIT    a limit of pop3_options was exceeded; fatal when the stream could not
 *                  be followed any further (a status line too long), otherwise (the
 *                  buffered cap) the rest of the reply is skipped and the session goes on.
 *   POP3_EUSAGE    bad argument (a control octet in an argument, timeout 0, ...);
 *                  nothing was sent.
 *   POP3_ESTATE    not valid now (not connected, STLS after login or twice, APOP
 *                  without a timestamp); nothing was sent.
 *
 * A client handle is not thread-safe; use one per thread.
 */
#ifndef POP3_CLIENT_H
#define POP3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pop3/parse.h"
#include "pop3/transport.h"
#include "pop3/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define POP3_PORT     110 /* RFC 1939 section 3 */
#define POP3_TLS_PORT 995 /* RFC 8314 section 3.1 */

/*
 * The default timeouts of pop3_options (pop3_options_default). Every wait of a session
 * is bounded out of the box: a server that stops sending in the middle of a reply (a
 * body without its terminating line, a connection left open) ends the call with
 * POP3_ETIMEOUT after POP3_DEFAULT_TIMEOUT_MS instead of blocking the caller for ever.
 * Set timeout_ms to -1 to wait without a limit.
 */
#define POP3_DEFAULT_TIMEOUT_MS         60000 /* each wait for data or for room to write */
#define POP3_DEFAULT_CONNECT_TIMEOUT_MS 30000 /* each connect attempt */

/* For the `timeout` argument of the connect calls: use the options' timeouts. */
#define POP3_TIMEOUT_DEFAULT (-1.0)

typedef enum pop3_pipelining {
    POP3_PIPELINING_AUTO = 0, /* pipeline when CAPA lists PIPELINING (RFC 2449 section 6.6) */
    POP3_PIPELINING_OFF,      /* one command at a time */
    POP3_PIPELINING_ON,       /* pipeline even when CAPA does not say so */
} pop3_pipelining;

/* Limits and policies. Defaults in parentheses (pop3_options_default). */
typedef struct pop3_options {
    /* Each connect attempt, in milliseconds; -1 waits as long as the system does
     * (POP3_DEFAULT_CONNECT_TIMEOUT_MS, 30 s). */
    int connect_timeout_ms;
    /* Each wait for data or for room to write, in milliseconds; -1 forever
     * (POP3_DEFAULT_TIMEOUT_MS, 60 s). It bounds every wait, not a whole call: a server
     * that sends one octet a minute keeps a long RETR going. */
    int timeout_ms;
    /* Longest status or listing line with its line end (2048, poplib's _MAXLINE).
     * Body lines of RETR and TOP stream at any length. */
    size_t max_line;
    /* Longest SASL challenge line (1048576, allocated on the first AUTH). RFC5034-4.10 wants
     * challenges of any length; this bound keeps a hostile server from growing our buffer without
     * end. */
    size_t max_sasl_line;
    /* Most entries in a LIST or UIDL listing (1000000, as mpop; Q47). */
    size_t max_listing;
    /* Most CAPA lines (256). */
    size_t max_capa;
    /* Most octets the buffered conveniences (pop3_*_lines) keep for one reply (64 MiB).
     * The streaming calls are not bounded by it. */
    size_t max_buffered;
    /* Deviations from the RFCs accepted, POP3_TOL_* of pop3/wire.h (POP3_TOL_DEFAULT).
     * Add POP3_TOL_ANY_PLUS for poplib's "any line starting with +" behaviour. */
    unsigned tolerances;
    /* Pipelined bulk retrieval (POP3_PIPELINING_AUTO). */
    pop3_pipelining pipelining;
    /* Most commands in flight when pipelining (32). */
    unsigned pipeline_window;
    /* Most command octets in flight when pipelining (4096): far below any socket buffer,
     * so a write can never block while the server is blocked writing its replies to
     * us (RFC2449-6.6b). */
    size_t pipeline_max_bytes;
    /* Never send USER, PASS, APOP, RPOP or AUTH in clear; before TLS only CAPA, STLS and
     * QUIT may be sent (RFC2595-2.2, RFC8314-5.2b). pop3_login then runs STLS first and
     * stops before any credential when STLS is missing or refused (false). */
    bool require_tls;
    /* pop3_login may use APOP (false: APOP is MD5-based, CVE-2007-1558). pop3_apop itself
     * is always allowed. */
    bool allow_apop;
    /* Send SASL initial responses when CAPA lists SASL and the AUTH line stays within
     * 255 octets (RFC 5034 section 4) (true). */
    bool sasl_ir;
    /* TLS settings used when a call is given none (pop3_connect_tls, pop3_stls,
     * pop3_login's STLS). Its strings and context are borrowed: they must outlive the
     * client (all zero: system store, verification on). */
    pop3_tls_options tls;
} pop3_options;

/* Fill `opt` with the defaults documented on pop3_options. */
void pop3_options_default(pop3_options *opt);

typedef struct pop3_client pop3_client;

/*
 * pop3_client_new - a client, not yet connected. `opt` may be NULL for the defaults; it
 * is copied. Returns POP3_OK with `*out` (free with pop3_client_free), POP3_EUSAGE for
 * inconsistent options (a timeout of 0, max_line under 8, a window of 0), or POP3_ENOMEM.
 */
int pop3_client_new(pop3_client **out, const pop3_options *opt);

/* Close the connection without QUIT (like pop3_close) and free everything. NULL is ok. */
void pop3_client_free(pop3_client *c);

/*
 * pop3_connect - poplib's POP3(host, port, timeout): connect over TCP (IPv4 or IPv6) and
 * read the greeting (RFC 1939 section 4). `port` 0 means 110. `timeout` in seconds
 * applies to the connect and to every read and write; POP3_TIMEOUT_DEFAULT (any
 * negative value) keeps the options' timeouts; 0 is refused with POP3_EUSAGE as poplib
 * refuses it (a non-blocking client is not what this is).
 * Returns POP3_OK; POP3_ESERVER for a -ERR greeting (the connection is then closed);
 * POP3_EIO, POP3_ETIMEOUT, POP3_EPROTO, POP3_ECLOSED; POP3_ESTATE when connected already.
 */
int pop3_connect(pop3_client *c, const char *host, unsigned port, double timeout);

/*
 * pop3_connect_tls - poplib's POP3_SSL: as pop3_connect, with TLS from the first octet
 * (RFC 8314 section 3.1). `port` 0 means 995. `tls` may be NULL for the options' TLS
 * settings (by default: verify against the system store and check the host name). A failed
 * verification returns POP3_ETLS with OpenSSL's reason and the verify result in pop3_errmsg.
 */
int pop3_connect_tls(pop3_client *c, const char *host, unsigned port, double timeout,
                     const pop3_tls_options *tls);

/*
 * pop3_connect_transport - use a transport the caller opened (the memory transport, a
 * proxy) and read the greeting. The client owns `t` from now on, even on failure, and
 * calls its close op when the session ends. `host` and `port` are what OAUTHBEARER
 * reports (RFC 7628 section 3.1); `host` may be NULL.
 */
int pop3_connect_transport(pop3_client *c, pop3_transport *t, const char *host, unsigned port);

/* poplib's getwelcome(): the greeting line without its line end, "" before connecting.
 * Owned by the client, valid until the next connect or pop3_client_free. */
const char *pop3_getwelcome(const pop3_client *c);

/*
 * Tracing, poplib's set_debuglevel: 0 nothing (default); 1 one line per command
 * ("*cmd* STAT") and one when TLS is up ("*tls* TLS established: TLSv1.3, <cipher>",
 * see pop3_tls_info); 2 also every line sent ("*put*") and received ("*get*", "*resp*"),
 * and a summary of each body. Passwords and SASL payloads are masked ("PASS ****").
 * Lines go to the callback when one is set, else to the stream (stderr by default).
 */
typedef void (*pop3_debug_fn)(void *ud, int level, const char *line);
void pop3_set_debuglevel(pop3_client *c, int level);
void pop3_set_debug_stream(pop3_client *c, FILE *fp);
void pop3_set_debug_callback(pop3_client *c, pop3_debug_fn fn, void *ud);

/*
 * poplib's "poplib.putline" audit event: `fn` sees every line, CRLF included, right
 * before it is sent, unmasked (the password too; an audit hook is trusted code).
 * Returning anything but POP3_OK vetoes the line: nothing is sent and the call returns
 * that value when it is a pop3_error, POP3_EUSAGE otherwise (as for every callback
 * here: no public call returns a value outside pop3/error.h). SASL response lines are
 * lines too.
 */
typedef int (*pop3_putline_fn)(void *ud, const char *line, size_t len);
void pop3_set_putline(pop3_client *c, pop3_putline_fn fn, void *ud);

/* Details of the last call
 * ------------------------ */

/* The status of the last call (POP3_OK or an error). */
int pop3_last_error(const pop3_client *c);
/* A readable sentence about the last error ("" after success): the command, the server's
 * text and response code, OpenSSL's reason. Control octets (the server's text may hold
 * any) appear as "\xNN", so the sentence is safe to print on a terminal. Owned by the
 * client, valid until the next call. */
const char *pop3_errmsg(const pop3_client *c);
/* The server's last status line without its line end ("" when none yet), what poplib's
 * calls return: as sent, control octets included. Owned by the client, valid until the
 * next call. */
const char *pop3_response(const pop3_client *c);
/* The RFC 2449 response code of that line (RFC 3206, RFC 6856: IN-USE, SYS/TEMP, AUTH,
 * UTF8...; unknown levels ignored, RFC2449-8.2) and its text ("SYS/TEMP/QUOTA", "" when
 * none). Owned by the client, valid until the next call. */
pop3_resp_code pop3_response_code(const pop3_client *c);
const char *pop3_response_code_text(const pop3_client *c);
/* The POP3_TOL_* / POP3_SEEN_* bits of every reply so far: which deviations this
 * server showed. */
unsigned pop3_quirks(const pop3_client *c);

/* True while a connection is open: after a successful connect, until QUIT, pop3_close
 * or a fatal error. */
bool pop3_is_connected(const pop3_client *c);
/* True once TLS protects the session (implicit TLS or after STLS). */
bool pop3_is_tls(const pop3_client *c);
/*
 * pop3_tls_info - what the TLS session negotiated, for implicit TLS and after STLS:
 * `*version` the protocol version ("TLSv1.3") and `*cipher` the cipher suite
 * ("TLS_AES_256_GCM_SHA384"), as OpenSSL names them. Either pointer may be NULL when that
 * name is not wanted. The strings are owned by the transport and stay valid while the
 * connection is open. Returns POP3_OK; POP3_ESTATE, with both set to NULL, when not
 * connected, when the connection is not TLS, or when its transport does not report the
 * session (a transport of the caller's without the tls_info op, pop3/transport.h).
 * With tracing on, the same names appear in the "*tls* TLS established: ..." line.
 */
int pop3_tls_info(const pop3_client *c, const char **version, const char **cipher);
/* True after a successful PASS, APOP, RPOP or AUTH (TRANSACTION state). */
bool pop3_is_authenticated(const pop3_client *c);

/* Capabilities
 * ------------ */

/*
 * pop3_capa - send CAPA (RFC 2449 section 5) and keep the list. `*caps` (may be NULL)
 * points at the client's copy, valid until the next pop3_capa, STLS or pop3_client_free.
 * Returns POP3_OK, POP3_ESERVER when the server refuses CAPA (RFC2449-5.4: it does not
 * implement it), POP3_ELIMIT past max_capa lines, or a fatal error.
 */
int pop3_capa(pop3_client *c, const pop3_capa_set **caps);

/* The capabilities learnt last, or NULL when none are known (never asked, refused, or
 * forgotten after STLS, RFC2595-4.7). */
const pop3_capa_set *pop3_capabilities(const pop3_client *c);

/* Authentication (RFC 1939 section 7, RFC 5034)
 * --------------------------------------------- */

/* USER name: `user` must not contain SP or control octets, nor octets beyond ASCII
 * unless CAPA listed "UTF8 USER" (RFC6856-2.7; the same holds for PASS and APOP).
 * Returns POP3_OK (a +OK does not mean the mailbox exists, RFC1939-7.5), POP3_ESERVER,
 * POP3_ETLS (require_tls and no TLS: nothing sent), POP3_EUSAGE, POP3_ESTATE (already
 * logged in). */
int pop3_user(pop3_client *c, const char *user);
/* PASS string: the password may contain spaces (RFC1939-7.6), not control octets. On
 * +OK the session is in TRANSACTION state. Same errors as pop3_user. */
int pop3_pass(pop3_client *c, const char *password);
/* APOP name digest with MD5(timestamp || secret) (RFC 1939 section 7). Only when the
 * greeting holds a well-formed timestamp (msg-id with "@", CVE-2007-1558, Q33);
 * otherwise POP3_ESTATE and nothing is sent. */
int pop3_apop(pop3_client *c, const char *user, const char *secret);
/* RPOP user (RFC 1081; obsolete, for parity with poplib). */
int pop3_rpop(pop3_client *c, const char *user);

typedef struct pop3_credentials {
    const char *user;    /* authentication identity */
    const char *secret;  /* the password, or the OAuth 2.0 bearer token when `bearer` */
    const char *authzid; /* PLAIN authorization identity (RFC 4616), NULL for none */
    bool bearer;         /* `secret` is a bearer token: only XOAUTH2/OAUTHBEARER fit */
} pop3_credentials;

/*
 * pop3_auth - SASL authentication (RFC 5034) with a built-in mechanism: "PLAIN"
 * (RFC 4616), "LOGIN", "CRAM-MD5" (RFC 2195), "XOAUTH2", "OAUTHBEARER" (RFC 7628, gs2
 * header with the host and port given at connect). An initial response is sent when
 * sasl_ir is set, CAPA lists SASL, and the AUTH line fits 255 octets (RFC5034-4.7);
 * otherwise the response waits for the server's empty challenge. A challenge that is
 * not base64 is answered "*" (RFC5034-4.9), as is any step the mechanism cannot take;
 * an OAUTHBEARER error challenge is answered "AQ==" and XOAUTH2's with an empty line.
 * Returns POP3_OK (TRANSACTION state), POP3_ESERVER (the server's -ERR, also after a
 * cancellation, whose reason is in pop3_errmsg), POP3_EUSAGE (unknown mechanism, bad
 * credentials text), POP3_ETLS (require_tls), POP3_ESTATE, or a fatal error.
 */
int pop3_auth(pop3_client *c, const char *mechanism, const pop3_credentials *cred);

/*
 * A SASL mechanism of the caller's. Called with `challenge` NULL (length 0) for the
 * initial response, then with each decoded server challenge. Write the raw response
 * (the client base64-encodes it) into `out` (`cap` octets) and set `*out_len`.
 * Return POP3_OK to send it, POP3_SASL_WAIT (initial call only) to send no initial
 * response, or a negative pop3_error to cancel with "*".
 */
#define POP3_SASL_WAIT 1
typedef int (*pop3_sasl_fn)(void *ud, const char *challenge, size_t challenge_len, char *out,
                            size_t cap, size_t *out_len);
/* pop3_auth with the caller's mechanism; same returns. */
int pop3_auth_custom(pop3_client *c, const char *mechanism, pop3_sasl_fn step, void *ud);

/*
 * pop3_login - log in the best way the server offers. With require_tls and no TLS yet,
 * STLS first (and nothing else if that fails: POP3_ETLS). Then, from CAPA: SASL with the
 * strongest mechanism offered (CRAM-MD5, PLAIN, LOGIN; XOAUTH2 and OAUTHBEARER when
 * `cred->bearer`); a mechanism refused before any credential was sent, or cancelled,
 * makes way for the next. Then APOP when allow_apop and the greeting has a valid
 * timestamp (a refused APOP falls back, Q34). Then USER/PASS when CAPA lists USER or
 * CAPA failed. Returns POP3_OK, POP3_ESERVER (the last server refusal), POP3_ETLS,
 * POP3_ESTATE (no usable method), or a fatal error.
 */
int pop3_login(pop3_client *c, const pop3_credentials *cred);

/* Transaction commands (RFC 1939 section 5, 7)
 * -------------------------------------------- */

/* STAT: message count and maildrop size, 64-bit (Q13). POP3_EPROTO when the reply is
 * not "+OK nn mm" (the session goes on: the reply was framed right). */
int pop3_stat(pop3_client *c, uint64_t *count, uint64_t *size);

/*
 * LIST: the scan listing into `out`, which this call initialises (any earlier content
 * is freed) with max_listing as its limit. Entries with message number 0 or a number
 * listed twice are left out and counted (Q45); out->anomalies says what was seen.
 * Free with pop3_listing_free. Returns POP3_OK, POP3_ESERVER, POP3_ELIMIT (more than
 * max_listing lines; fatal), POP3_EPROTO (a line that is not "n size": the rest of the
 * listing is read and the session goes on).
 */
int pop3_list(pop3_client *c, pop3_listing *out);
/* LIST msg: the size of one message, from "+OK msg size". */
int pop3_list_one(pop3_client *c, uint64_t msg, uint64_t *size);
/* UIDL: the unique-id listing into `out`, as pop3_list. Duplicated unique-ids are kept
 * and flagged (RFC1939-7.4); long or odd ones kept and flagged (Q46). */
int pop3_uidl(pop3_client *c, pop3_listing *out);
/* UIDL msg: `*uid` (NUL-terminated, owned by the client, valid until the next call). */
int pop3_uidl_one(pop3_client *c, uint64_t msg, const char **uid);

/*
 * Where a body goes: called with each chunk of it, un-stuffed, line ends as received
 * (CRLF), the terminating "." line removed. Chunks are views valid during the call.
 * Return POP3_OK to go on, or a negative pop3_error to give up: the rest of the body is
 * then read and dropped (the session stays in step) and the call returns that value
 * (any other value counts as POP3_EUSAGE).
 */
typedef int (*pop3_sink_fn)(void *ud, const char *data, size_t len);

/* RETR msg, the body streamed to `sink` (RFC 1939 section 5). Returns POP3_OK,
 * POP3_ESERVER (e.g. [UTF8], RFC6856-5), the sink's error, or a fatal error. */
int pop3_retr(pop3_client *c, uint64_t msg, pop3_sink_fn sink, void *ud);
/* TOP msg n: the headers and `lines` body lines (RFC 1939 section 7), as pop3_retr. */
int pop3_top(pop3_client *c, uint64_t msg, uint64_t lines, pop3_sink_fn sink, void *ud);
/* DELE msg: marks it; it goes at QUIT (RFC 1939 section 6). */
int pop3_dele(pop3_client *c, uint64_t msg);
/* RSET: unmark every deleted message. */
int pop3_rset(pop3_client *c);
/* NOOP: keep alive. */
int pop3_noop(pop3_client *c);
/* UTF8 (RFC 6856 section 2): POP3_ESERVER when the server refuses, as poplib raises. */
int pop3_utf8(pop3_client *c);

/*
 * pop3_quit - QUIT (RFC 1939 sections 4 and 6: in TRANSACTION state the server now
 * removes the deleted messages), then close. The connection is closed whatever the
 * reply; -ERR ("some deleted messages not removed") returns POP3_ESERVER.
 */
int pop3_quit(pop3_client *c);

/* poplib's close(): drop the connection without QUIT (nothing deleted, RFC1939-6.1).
 * Idempotent. */
void pop3_close(pop3_client *c);

/*
 * pop3_stls - STLS (RFC 2595 section 4): only before login, only once, never when TLS is
 * active, never after UTF8 (RFC6856-2.5) (POP3_ESTATE, nothing sent, poplib's messages). Asks CAPA
 * first when the capabilities are unknown and needs STLS in them (POP3_ETLS otherwise, nothing
 * sent; curl test 985). -ERR returns POP3_ESERVER and the session stays in clear. Octets from the
 * server after its +OK and before the handshake are an injection (RFC2595-4.8, curl test 982):
 * POP3_EPROTO, session closed. A failed handshake: POP3_ETLS, closed. After the handshake the old
 * capabilities are forgotten and CAPA is asked again (RFC2595-4.7). pop3_response keeps the STLS
 * reply. `tls` may be NULL for the options' TLS settings.
 */
int pop3_stls(pop3_client *c, const pop3_tls_options *tls);

/*
 * pop3_command - any command, poplib's _shortcmd/_longcmd: `keyword` (3 or 4 letters)
 * and `nargs` arguments, checked like every other command (pop3_encode_command). With
 * `sink` NULL the reply is one status line; otherwise it is multi-line and its body
 * goes to `sink`. Returns as pop3_retr. The session state is not tracked (a PASS sent
 * this way does not make pop3_is_authenticated true) and SASL exchanges need
 * pop3_auth_custom; the last argument of PASS, APOP and AUTH is still masked in traces.
 */
int pop3_command(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
                 pop3_sink_fn sink, void *ud);

/* poplib's shape: (response, lines, octets)
 * ----------------------------------------- */

typedef struct pop3_lines {
    char *response;   /* the status line, NUL-terminated */
    pop3_view *lines; /* `count` lines without their line ends; each is also followed
                         by a NUL in memory (lines may hold NULs of their own) */
    size_t count;
    uint64_t octets; /* body octets as poplib counts them: each line with its line end,
                        stuffing dots not counted, terminator not counted */
    /* private */
    char *store;
    size_t store_len, store_cap, lines_cap;
} pop3_lines;

/* Free what a pop3_*_lines call put in `l`; it is then empty. */
void pop3_lines_free(pop3_lines *l);

/*
 * RETR, TOP, LIST and UIDL collected in memory the way poplib returns them. `out` is
 * initialised by the call; free it with pop3_lines_free whatever the result. A reply
 * larger than max_buffered octets (or with more than max_listing lines) returns
 * POP3_ELIMIT: the rest is read and dropped and the session goes on.
 * Note: a body line ".x" (a server that did not byte-stuff, Q4) loses its dot here as
 * RFC 1939 section 3 says; poplib keeps it.
 */
int pop3_retr_lines(pop3_client *c, uint64_t msg, pop3_lines *out);
int pop3_top_lines(pop3_client *c, uint64_t msg, uint64_t lines, pop3_lines *out);
int pop3_list_lines(pop3_client *c, pop3_lines *out);
int pop3_uidl_lines(pop3_client *c, pop3_lines *out);

/* Bulk retrieval, pipelined (RFC 2449 section 6.6)
 * ------------------------------------------------ */

/* Return values of pop3_retrieve_handler.done. */
#define POP3_KEEP   0 /* leave the message on the server */
#define POP3_DELETE 1 /* send DELE for it: only honoured when its body was complete */

typedef struct pop3_retrieve_handler {
    /* Optional: the server said +OK to RETR msg; the body follows. POP3_OK, or a
     * negative pop3_error to skip this message (its body is read and dropped). */
    int (*begin)(void *ud, uint64_t msg);
    /* Body octets, as a pop3_sink_fn. */
    int (*data)(void *ud, uint64_t msg, const char *data, size_t len);
    /* The reply to RETR msg is complete: `status` is POP3_OK (the whole body went to
     * `data`), POP3_ESERVER (-ERR; pop3_response has it), or the error `begin` or `data`
     * returned. Return POP3_KEEP, POP3_DELETE (the sink has the message safely; DELE is
     * only sent now, never before), or a negative pop3_error to stop the run (commands
     * in flight are still answered and dropped; nothing more is deleted). */
    int (*done)(void *ud, uint64_t msg, int status);
    /* Optional: the reply to DELE msg, POP3_OK or POP3_ESERVER. */
    void (*deleted)(void *ud, uint64_t msg, int status);
    void *ud;
} pop3_retrieve_handler;

/*
 * pop3_retrieve - RETR every message of `msgs` (in that order), each body to the
 * handler, DELE those it asks for. When pipelining (pop3_options.pipelining; AUTO asks
 * CAPA when the capabilities are unknown, or were learnt before login and lack
 * PIPELINING, Q31), up to pipeline_window commands are in flight, written in batches,
 * and replies are matched to commands in order; otherwise one command at a time. begin,
 * data and done see the same calls in the same order either way; DELE replies
 * (`deleted`) come later when pipelining.
 * Returns POP3_OK when every reply was read (per-message -ERR replies go to `done`, not
 * here), the error `done` returned, or a fatal error (messages without a `done` call
 * were not completely received, and none of them was deleted).
 */
int pop3_retrieve(pop3_client *c, const uint64_t *msgs, size_t count,
                  const pop3_retrieve_handler *h);

/*
 * pop3_retrieve_delete - from within a handler of the pop3_retrieve under way: send DELE
 * for `msg` now, a message of this run that was received whole (its `done` had
 * POP3_OK) and left with POP3_KEEP, because the caller has only now made it safe. This is
 * how a sink that makes messages durable in batches (one sync for many files) deletes
 * each one only once it is: DELE never goes out before the caller says so. The DELE goes
 * out with the next commands and its reply reaches `deleted`.
 * Returns POP3_OK, or POP3_EUSAGE (nothing is sent): outside a retrieval, for a message
 * not received whole in it or already deleted, or once a handler has stopped the run
 * (then nothing more is deleted).
 */
int pop3_retrieve_delete(pop3_client *c, uint64_t msg);

/* True when pop3_retrieve would pipeline now, from the options and the capabilities
 * known (no command is sent). */
bool pop3_pipelining_active(const pop3_client *c);

#ifdef __cplusplus
}
#endif
#endif
