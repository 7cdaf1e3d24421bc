/*
 * pop3mock/script.h - dialogue scripts: parse a transcript, replay it as a session.
 *
 * The format (mockserver/README.md has the whole of it) reads like the dialogues of
 * RFC 1939 section 10: "S:" lines the server sends, "C:" lines it expects from the
 * client, "#" comments, and "!" directives for faults, TLS and sessions. A script is
 * parsed completely before any client connects; every error names FILE:LINE and what
 * was expected there.
 */
#ifndef POP3MOCK_SCRIPT_H
#define POP3MOCK_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "pop3mock/session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pop3mock_script pop3mock_script;

/* Limits of the script parser; defaults in parentheses (pop3mock_script_options_default). */
typedef struct pop3mock_script_options {
    /* Steps in one session of a script: S: and C: lines and the directives that act
     * (1048576). A longer session is refused at parse time with its FILE:LINE. The
     * sessions of a script are at most one per step, and the pieces of one line are
     * bounded by the line. 0: the default. */
    size_t max_steps;
} pop3mock_script_options;

void pop3mock_script_options_default(pop3mock_script_options *opt);

/*
 * pop3mock_script_parse - parse `len` octets of script text; `name` is used in messages
 * (the file name). Returns the script, or NULL with "NAME:LINE: message" in `err`.
 * The script owns copies of everything it needs; free it with pop3mock_script_free.
 */
pop3mock_script *pop3mock_script_parse(const char *name, const char *text, size_t len, char *err,
                                       size_t errlen);

/* Read and parse a file. NULL with "FILE:LINE: message" (or "FILE: reason") in `err`. */
pop3mock_script *pop3mock_script_load(const char *path, char *err, size_t errlen);

/* The same two with the parser's limits (`opt` NULL: the defaults). */
pop3mock_script *pop3mock_script_parse_with(const char *name, const char *text, size_t len,
                                            const pop3mock_script_options *opt, char *err,
                                            size_t errlen);
pop3mock_script *pop3mock_script_load_with(const char *path, const pop3mock_script_options *opt,
                                           char *err, size_t errlen);

void pop3mock_script_free(pop3mock_script *sc);

/* Number of sessions (connections) the script plays; at least 1. */
size_t pop3mock_script_sessions(const pop3mock_script *sc);

/* The name given at parse time. */
const char *pop3mock_script_name(const pop3mock_script *sc);

/*
 * pop3mock_script_tls_cert - certificate `i` (0-based) the script names with !tls-cert:
 * the PEM certificate file and key file (NULL when the key is in the certificate file),
 * resolved against the folder of the script's name, and the script line. Returns false
 * past the last one. For checking them before the server listens
 * (pop3mock_server_tls_check); the strings are owned by the script.
 */
bool pop3mock_script_tls_cert(const pop3mock_script *sc, size_t i, const char **cert,
                              const char **key, unsigned *line);

/*
 * pop3mock_script_session_new - a session that plays session `index` (0-based) of `sc`,
 * which must outlive it. `timestamp` is what {timestamp} expands to (an APOP timestamp
 * with its angle brackets, unique per greeting: the caller has the clock). With
 * `implicit_tls` the session starts with a TLS handshake, as if the script began with
 * !implicit-tls (unless the session begins with a handshake of its own: !implicit-tls or
 * a TLS fault). NULL when out of memory or `index` is out of range.
 */
pop3mock_session *pop3mock_script_session_new(const pop3mock_script *sc, size_t index,
                                              const pop3mock_limits *lim, const char *timestamp,
                                              bool implicit_tls);

typedef enum pop3mock_script_result {
    POP3MOCK_SCRIPT_RUNNING = 0, /* steps remain */
    POP3MOCK_SCRIPT_PASSED,      /* every step was played and the client followed */
    POP3MOCK_SCRIPT_DEPARTED,    /* the client did something the script did not expect */
} pop3mock_script_result;

/*
 * pop3mock_script_session_finish - the connection ended (`why` says how, for the
 * report). A session still waiting for a client line departed; one whose remaining
 * steps only send passed. Returns the final result.
 */
pop3mock_script_result pop3mock_script_session_finish(pop3mock_session *s, const char *why);

/* The result so far, and the report of a departure ("" otherwise): the script line,
 * what was expected, what arrived and the transcript up to there. Owned by the session. */
pop3mock_script_result pop3mock_script_session_result(const pop3mock_session *s,
                                                      const char **report);

#ifdef __cplusplus
}
#endif
#endif
