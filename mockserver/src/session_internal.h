/*
 * session_internal.h - what a session engine (maildrop, script) plugs into session.c.
 *
 * session.c owns the framing of client input (lines, limits, discarding over-long
 * lines, back-pressure) and the output queue; an engine owns the dialogue. The engine
 * is called with one complete line at a time, in order, and only while the output is
 * below the high-water mark, which is what makes PIPELINING (RFC 2449 section 6.6:
 * commands answered strictly in order) and bounded memory hold together.
 */
#ifndef POP3MOCK_SESSION_INTERNAL_H
#define POP3MOCK_SESSION_INTERNAL_H

#include "output.h"
#include "pop3mock/session.h"

typedef struct pop3mock__engine {
    /* Queue what comes before the first client line (greeting, TLS start). */
    void (*start)(pop3mock_session *s);
    /* One client line without its line end; `crlf` says it ended CRLF, not bare LF. */
    void (*line)(pop3mock_session *s, const char *line, size_t len, bool crlf);
    /* A line went over max_line: answer it; the rest of it is discarded. */
    void (*too_long)(pop3mock_session *s);
    /* The longest line accepted now, line end included. */
    size_t (*max_line)(const pop3mock_session *s);
    /* True while the engine takes no line (waiting for TLS, stalled). */
    bool (*blocked)(const pop3mock_session *s);
    /* True while a multi-line response is being produced; produce() adds a chunk. */
    bool (*producing)(const pop3mock_session *s);
    void (*produce)(pop3mock_session *s);
    /* The client sent everything it will send and every line was handled. */
    void (*eof)(pop3mock_session *s);
    /* TLS became active (the START_TLS action was acknowledged). */
    void (*tls_started)(pop3mock_session *s);
    void (*destroy)(pop3mock_session *s);
} pop3mock__engine;

struct pop3mock_session {
    const pop3mock__engine *eng;
    void *state; /* the engine's */
    pop3mock_limits lim;
    pop3mock__output out;
    char *in; /* client octets not yet handled, lim.max_input octets */
    size_t in_len;
    bool discarding;  /* inside an over-long line: drop up to its LF */
    bool eof;         /* the client will send nothing more */
    bool eof_handled; /* the engine was told */
    bool tls;         /* TLS active */
    bool started;
};

/* Create a session around an engine; `state` is freed by eng->destroy. NULL on OOM. */
pop3mock_session *pop3mock__session_new(const pop3mock__engine *eng, void *state,
                                        const pop3mock_limits *lim, bool tls);

/* Drop every client octet buffered (after STLS: RFC 2595 section 4, no plaintext
 * command may be carried into the TLS layer). */
void pop3mock__session_drop_input(pop3mock_session *s);

#endif
